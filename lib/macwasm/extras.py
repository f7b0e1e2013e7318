"""Which extra of macwasm provides a module that is not installed, for a one-line message.

``macwasm`` installs its core alone; pandas (``audit``), wasmtime (``inspect --validate``) and the
notebook tools come with extras. The extras are declared once, in ``pyproject.toml``; this module
reads them back from the installed package's metadata rather than keeping a second list, so a new
extra needs no edit here.
"""

from __future__ import annotations

import re
from importlib import metadata

from macwasm.errors import InstallationError

DISTRIBUTION = "macwasm"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_requirements() -> list[tuple[str, str | None]]:
    """``(distribution, extra or None)`` for every requirement of the installed macwasm."""
    try:
        lines = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
        return []
    out = []
    for line in lines:
        name = _NAME.match(line)
        if name:
            extra = _EXTRA.search(line)
            out.append((_normal(name.group(1)), extra.group(1) if extra else None))
    return out


def extra_providing(module: str) -> tuple[bool, str | None]:
    """``(declared, extra)`` for a top-level import name: is it a requirement, and of which extra.

    Import names and distribution names agree for every dependency macwasm has (``IPython`` is
    ``ipython`` once normalised). The first extra that names the module wins.
    """
    wanted = _normal(module.split(".")[0])
    found = [extra for name, extra in declared_requirements() if name == wanted]
    if not found:
        return False, None
    if None in found:
        return True, None
    return True, found[0]


def missing_dependency(exc: ModuleNotFoundError, command: str | None) -> InstallationError | None:
    """The :class:`InstallationError` for a missing third-party module; None for macwasm's own.

    A module of macwasm itself that cannot be imported is a bug or a broken tree, not a missing
    extra: that one is left to surface as it is.
    """
    module = (exc.name or "").split(".")[0]
    if not module or module == "macwasm":
        return None
    who = f"macwasm {command}" if command else "macwasm"
    declared, extra = extra_providing(module)
    if extra:
        return InstallationError(f"{who} needs {module}: pip install 'macwasm[{extra}]'")
    if declared:
        return InstallationError(f"{who} needs {module}, a core dependency that is missing: "
                                 "reinstall macwasm (pip install --force-reinstall macwasm)")
    return InstallationError(f"{who} needs {module}, which is not installed (pip install {module})")
