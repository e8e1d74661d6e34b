"""The fresh-machine set-up: one list of Debian packages, and Python packages installed from the lock."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from _system import LIST, packages, present
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "setup-system.sh"


def _lock() -> dict[str, list[tuple[Version, str]]]:
    """name -> [(version, environment marker)] from requirements.lock."""
    pins: dict[str, list[tuple[Version, str]]] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if not line or line[0] in "# ":
            continue
        spec = line.rstrip(" \\")
        req = Requirement(spec)
        (op_ver,) = req.specifier  # exactly one pin per line
        assert op_ver.operator == "==", line
        pins.setdefault(canonicalize_name(req.name), []).append((Version(op_ver.version), str(req.marker or "")))
    return pins


def test_every_declared_dependency_is_pinned_in_the_lock_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    declared = [Requirement(r) for r in project["dependencies"] + extras["dev"]]
    # the dev extra names others of ours (sckb[policy]): their requirements are locked, not sckb itself
    for own in [r for r in declared if canonicalize_name(r.name) == canonicalize_name(project["name"])]:
        declared.remove(own)
        declared += [Requirement(r) for extra in sorted(own.extras) for r in extras[extra]]
    pins = _lock()
    for req in declared:
        got = pins.get(canonicalize_name(req.name))
        assert got, f"{req.name} is in pyproject.toml but not in requirements.lock: run make lock"
        for version, _marker in got:
            assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} outside {req.specifier}"


def test_every_lock_line_carries_a_hash() -> None:
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    pins = [i for i, line in enumerate(lines) if line and not line.startswith(("#", " "))]
    assert len(pins) > 50
    for i in pins:
        assert lines[i + 1].lstrip().startswith("--hash=sha256:"), lines[i]


def test_the_package_list_is_well_formed() -> None:
    pkgs = packages()
    assert {"libharfbuzz-subset0", "poppler-utils", "chromium"} <= set(pkgs)
    for pkg, (need, probe) in pkgs.items():
        assert need in {"run", "test"}, pkg
        present(probe)  # raises on an unknown probe kind


def _run(tmp_path: Path, rows: list[str], need: str) -> subprocess.CompletedProcess[str]:
    lst = tmp_path / "packages.tsv"
    lst.write_text("# package\tneed\tprobe\twhy\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "SCKB_SYSTEM_PACKAGES": str(lst), "SCKB_SETUP_DRY_RUN": "1"}
    return subprocess.run(["sh", str(SCRIPT), need], env=env, capture_output=True, text=True, check=False)


def test_setup_script_installs_only_what_is_missing(tmp_path: Path) -> None:
    rows = [
        "sckb-there\trun\tfile:/bin/sh\tpresent",
        "sckb-absent-a\trun\tfile:/nonexistent/a\tneeded to run",
        "sckb-absent-b\ttest\tcmd:sckb-no-such-command\tneeded by tests",
        "sckb-absent-c\ttest\tlib:libsckb-none.so.0\tneeded by tests",
    ]
    test = _run(tmp_path, rows, "test")
    assert (test.returncode, test.stdout) == (0, "sckb setup: would install sckb-absent-a sckb-absent-b sckb-absent-c\n")
    run = _run(tmp_path, rows, "run")
    assert run.stdout == "sckb setup: would install sckb-absent-a\n"
    quiet = _run(tmp_path, rows[:1], "test")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    bad = _run(tmp_path, rows, "everything")
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_demo_test_and_ci_use_the_one_script() -> None:
    make = subprocess.run(["make", "-n", "-B", "demo", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "tools/setup-system.sh run" in make and "tools/setup-system.sh test" in make
    assert "--require-hashes" in make and "requirements.lock" in make
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "tools/setup-system.sh test" in ci and "apt-get" not in ci
    assert LIST.parent == SCRIPT.parent
