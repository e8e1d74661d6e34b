"""Skip markers for tests that need a Debian package, read from the one list the set-up uses
(``tools/system-packages.tsv``), so a skip names the exact command that makes it run."""

from __future__ import annotations

import ctypes.util
import shutil
from pathlib import Path

import pytest

LIST = Path(__file__).resolve().parents[1] / "tools" / "system-packages.tsv"


def packages() -> dict[str, tuple[str, str]]:
    """package -> (need, probe), in file order."""
    out: dict[str, tuple[str, str]] = {}
    for line in LIST.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pkg, need, probe, _why = line.split("\t")
        out[pkg] = (need, probe)
    return out


def present(probe: str) -> bool:
    kind, _, what = probe.partition(":")
    if kind == "cmd":
        return shutil.which(what) is not None
    if kind == "file":
        return Path(what).exists()
    if kind == "lib":
        return ctypes.util.find_library(what.removeprefix("lib").split(".so")[0]) is not None
    raise ValueError(f"{LIST}: unknown probe {probe!r}")


def missing_reason(pkg: str) -> str | None:
    _need, probe = packages()[pkg]  # KeyError: a test names a package the list does not carry
    if present(probe):
        return None
    return f"{pkg} is not installed: sudo apt-get install --no-install-recommends {pkg} (make test does it as root)"


def needs(pkg: str) -> pytest.MarkDecorator:
    reason = missing_reason(pkg)
    return pytest.mark.skipif(reason is not None, reason=reason or "")
