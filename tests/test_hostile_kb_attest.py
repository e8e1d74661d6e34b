"""An overlay that adds nothing says so; an attestation naming an id the KB lacks, or dated after the ingest's
clock, is an error (both used to pass silently)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from compliance.cli import main

NOW = ["--now", "2026-11-30T09:00:00Z"]


def _attestation(tmp_path: Path, target: str, when: str) -> Path:
    path = tmp_path / "att.yaml"
    path.write_text(
        f"sckb-attestation: 1\nattestations:\n  - {target}\n    statement: Training done.\n    who: Dana\n    when: {when}\n"
    )
    return path


def _ingest(runner: CliRunner, tmp_path: Path, path: Path) -> tuple[int, str]:
    r = runner.invoke(main, ["--workspace", str(tmp_path / "ws"), *NOW, "evidence", "ingest", str(path)])
    return r.exit_code, r.stderr


def test_attestation_naming_an_unknown_control_is_an_error(tmp_path: Path, runner: CliRunner) -> None:
    path = _attestation(tmp_path, "control: ZZ-99", "2026-11-02")
    code, err = _ingest(runner, tmp_path, path)
    assert code == 3, err
    assert f"{path}:3#/attestations/0/control: control 'ZZ-99' is not in the knowledge base" in err, err


def test_attestation_naming_an_unknown_mitigation_is_an_error(tmp_path: Path, runner: CliRunner) -> None:
    path = _attestation(tmp_path, "mitigations: [least-privilege-execution-role, no-such-mitigation]", "2026-11-02")
    code, err = _ingest(runner, tmp_path, path)
    assert code == 3 and "mitigations 'no-such-mitigation' is not in the knowledge base" in err, err


def test_attestation_dated_after_now_is_an_error(tmp_path: Path, runner: CliRunner) -> None:
    path = _attestation(tmp_path, "control: AT-2", "2026-12-15")
    code, err = _ingest(runner, tmp_path, path)
    assert code == 3, err
    assert "#/attestations/0/when: 'when' (2026-12-15T00:00:00Z) is later than the ingest's clock (2026-11-30T09:00:00Z" in err


def test_valid_attestation_still_ingests(tmp_path: Path, runner: CliRunner) -> None:
    path = _attestation(tmp_path, "control: AT-2", "2026-11-30")
    code, err = _ingest(runner, tmp_path, path)
    assert code == 0, err


def test_empty_overlay_folder_and_empty_file_say_nothing_loaded(tmp_path: Path, runner: CliRunner) -> None:
    empty_dir = tmp_path / "overlay"
    empty_dir.mkdir()
    r = runner.invoke(main, ["--kb", str(empty_dir), "query", "risk", "SAS-4"])
    assert r.exit_code == 0, r.output
    assert f"sckb: {empty_dir}: warning: overlay holds no .yaml/.yml file: nothing loaded from it" in r.stderr.splitlines()
    empty_file = empty_dir / "mine.yaml"
    empty_file.write_text("# nothing yet\n")
    r = runner.invoke(main, ["--kb", str(empty_dir), "query", "risk", "SAS-4"])
    assert r.exit_code == 0, r.output
    assert f"sckb: {empty_file}: warning: empty file: nothing loaded from it" in r.stderr.splitlines()
    r = runner.invoke(main, ["--kb", str(empty_dir), "kb", "validate"])
    assert "empty file: nothing loaded" in r.output
