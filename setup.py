"""What pyproject.toml cannot say in stable form: the optional C accelerator, and the tables' copy.

``lib/macwasm/wasm/_speedups.c`` decodes the export section of very large modules (75,000 exports)
in C. ``optional=True``: a machine without a C compiler still installs, and macwasm runs the
pure-Python reader, which stays the reference (``tests/test_wasm_speedups.py`` compares the two).

The fact tables live in ``data/*.csv`` at the top of the checkout (one source, edited there).
:class:`BuildPyWithTables` copies every one of them into the built package as ``macwasm/data/``,
so a wheel, an sdist install or pipx has them too; ``MANIFEST.in`` puts them in the sdist. An
editable install copies nothing: ``macwasm.datafiles`` reads the checkout's ``data/`` directly.
Everything else about the package is in pyproject.toml.
"""

from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: what the CLI reads at run time (``macwasm.datafiles.data_path``): every table of data/
TABLES = "data/*.csv"


class BuildPyWithTables(build_py):
    """``build_py`` plus the tables, copied into ``<build_lib>/macwasm/data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib, "macwasm", "data")
        self.mkpath(str(target))
        tables = sorted(HERE.glob(TABLES))
        if not tables:
            raise SystemExit(f"setup.py: no {TABLES} next to setup.py: the package would have no fact tables")
        for table in tables:
            self.copy_file(str(table), str(target / table.name))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        target = Path(self.build_lib, "macwasm", "data")
        return [*outputs, *(str(target / t.name) for t in sorted(HERE.glob(TABLES)))]


setup(
    cmdclass={"build_py": BuildPyWithTables},
    ext_modules=[
        Extension(
            "macwasm.wasm._speedups",
            sources=["lib/macwasm/wasm/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
        )
    ],
)
