"""Xcode projects and workspaces, read before anything is built: what each target will be signed with.

``read_xcode_project(X.xcodeproj)`` gives one :class:`~macwasm.xcode.model.TargetConfig` per native
target and build configuration; ``read_workspace(X.xcworkspace)`` the projects a workspace lists.
The policy layer (:mod:`macwasm.policy.xcode`) turns them into targets the rules judge. The readers
are imported on first use: the policy rules import this package's note kinds, and the policy
tables are imported by the readers.
"""

from __future__ import annotations

import os
from typing import Any

XCODE_SUFFIXES = (".xcodeproj", ".xcworkspace")


def is_xcode_input(path: str) -> bool:
    """An ``.xcodeproj`` or ``.xcworkspace`` folder (one input: never searched as a plain folder)."""
    return path.rstrip("/").lower().endswith(XCODE_SUFFIXES) and os.path.isdir(path)


def read_xcode_project(path: str | os.PathLike[str]) -> Any:
    from macwasm.xcode.project import read_xcode_project as read

    return read(path)


def read_workspace(path: str | os.PathLike[str]) -> Any:
    from macwasm.xcode.workspace import read_workspace as read

    return read(path)


__all__ = ["XCODE_SUFFIXES", "is_xcode_input", "read_workspace", "read_xcode_project"]
