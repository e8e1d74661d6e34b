"""The design data (compliance/design/data/*.yaml) is typed and validated with the KB: schema problems and ids
the KB does not know are reported by ``sckb kb validate`` as FILE:LINE: MESSAGE."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.errors import InputError
from compliance.kb import designdata
from compliance.kb.designdata import DESIGN_DATA_DIR, check_design_data, design_data


@pytest.fixture(scope="module")
def kb() -> kbmod.KB:
    return kbmod.load()


def _copy_with(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "design-data"
    shutil.copytree(DESIGN_DATA_DIR, d)
    (d / name).write_text(text, encoding="utf-8")
    return d


def test_shipped_design_data_is_typed_and_clean(kb: kbmod.KB) -> None:
    data = design_data()
    assert data.attack_paths["plain-secret"].breaks_with == ("secrets-in-secrets-manager", "encrypt-environment-variables")
    assert data.iam.managed_policies["AdministratorAccess"].admin is True
    assert str(data.runtimes["aws"]["python3.7"]) == "2023-12-04"
    assert check_design_data(kb) == []


def test_dangling_mitigation_reported_by_kb_validate_with_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "# header\n"
        "plain-secret:\n"
        "  title: Secret in a plain environment variable\n"
        "  breaks_with: [secrets-in-secrets-manager,\n"
        "                no-such-mitigation]\n"
    )
    d = _copy_with(tmp_path, "attack-paths.yaml", text)
    monkeypatch.setattr(designdata, "DESIGN_DATA_DIR", d)
    res = CliRunner().invoke(main, ["kb", "validate"])
    assert res.exit_code == 1, res.output
    line = next(x for x in res.output.splitlines() if "no-such-mitigation" in x)
    assert line.endswith("attack-paths.yaml:5: attack path plain-secret names unknown mitigation 'no-such-mitigation'")


def test_schema_problem_reported_with_line(tmp_path: Path, kb: kbmod.KB) -> None:
    text = "deprecated-runtime:\n  title: Deprecated runtime\n  breaks_with: [supported-runtimes]\n  severity: high\n"
    d = _copy_with(tmp_path, "attack-paths.yaml", text)
    problems = check_design_data(kb, d)
    assert [(Path(p.file).name, p.line) for p in problems] == [("attack-paths.yaml", 4)]
    assert "deprecated-runtime.severity" in problems[0].message
    with pytest.raises(InputError, match="design data"):
        design_data(d)


def test_runtime_dates_are_checked(tmp_path: Path, kb: kbmod.KB) -> None:
    d = _copy_with(tmp_path, "runtimes.yaml", "aws:\n  nodejs: 2016-10-31\n  python2.7: someday\n")
    problems = check_design_data(kb, d)
    assert [(Path(p.file).name, p.line) for p in problems] == [("runtimes.yaml", 3)]
