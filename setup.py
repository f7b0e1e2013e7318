"""The one thing pyproject.toml cannot say in stable form: the optional C accelerator.

``lib/macwasm/wasm/_speedups.c`` decodes the export section of very large modules (75,000 exports)
in C. ``optional=True``: a machine without a C compiler still installs, and macwasm runs the
pure-Python reader, which stays the reference (``tests/test_wasm_speedups.py`` compares the two).
Everything else about the package is in pyproject.toml.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "macwasm.wasm._speedups",
            sources=["lib/macwasm/wasm/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
        )
    ]
)
