"""Where the project's data tables live.

The fact and rule tables are ``data/*.csv`` at the top of the checkout (the package is installed
editable, so that folder sits two levels above this file). ``MACWASM_DATA`` points elsewhere,
e.g. at a reviewer's corrected copy of the tables.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    override = os.environ.get("MACWASM_DATA")
    return Path(override) if override else REPO_ROOT / "data"


def data_path(name: str) -> Path:
    return data_dir() / name
