"""Where the shipped curated data lives.

In a wheel, ``controls/``, ``mappings/`` and ``templates/`` are packaged under
``compliance/data/``. In a source checkout (editable install, tests) they sit at the
repository root, beside the package.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR_NAMES = ("controls", "mappings")


def data_root() -> Path:
    """The folder that holds ``controls/``, ``mappings/`` and ``templates/``."""
    pkg = Path(__file__).resolve().parent
    packaged = pkg / "data"
    if (packaged / "controls").is_dir():
        return packaged
    return pkg.parent


def shipped_data_dirs() -> list[Path]:
    root = data_root()
    return [root / name for name in DATA_DIR_NAMES if (root / name).is_dir()]


def templates_dir() -> Path:
    return data_root() / "templates"
