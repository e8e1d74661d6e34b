"""Bad input: a one-line error naming the file (and the position where known), exit 3, the store unchanged
for that file, and the other files of the batch still ingested (unless --strict)."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

NOW = ["--now", "2026-11-30T09:00:00Z"]


@pytest.fixture(autouse=True)
def _shared_kb_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("SCKB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "evidence-kb-cache"))


GOOD = b"""{"errors": [], "generated_at": "2026-11-01T10:00:00Z", "metrics": {"./app.py": {"loc": 3}},
"results": [{"filename": "./app.py", "issue_confidence": "HIGH", "issue_cwe": {"id": 78}, "issue_severity": "HIGH",
"issue_text": "subprocess call with shell=True", "line_number": 3, "test_id": "B602",
"test_name": "subprocess_popen_with_shell_equals_true"}]}
"""

XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuites><testsuite name="x"><testcase name="t"><failure message="&lol4;"/></testcase></testsuite></testsuites>
"""

YAML_BOMB = b"""sckb-attestation: 1
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
attestations: *h
"""

ESCAPE = b"""sckb-attestation: 1
attestations:
  - mitigation: least-privilege-execution-role
    statement: Our policy is signed.
    who: Dana Reyes
    when: 2026-11-02
    attachments:
      - ../../etc/passwd
"""

#: name -> (content, text the one-line error must contain)
BAD: dict[str, tuple[bytes, str]] = {
    "truncated.json": (b'{"runs": [{"tool": {"driver": {"name": "Checkov"}}, "results": [{"ruleId": "CKV_AWS_1"', "invalid JSON"),
    "unknown.json": (b'{"hello": "world", "answer": 42}', "unknown JSON shape"),
    "empty.json": (b"", "empty file"),
    "junk.bin": (bytes(range(256)) * 4, "binary content"),
    "latin1.sarif": (b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "caf\xe9"}}}]}', "invalid UTF-8"),
    "bomb.junit.xml": (XML_BOMB, "refused unsafe XML"),
    "bomb.attestation.yaml": (YAML_BOMB, "YAML bomb"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "nested"),
    "deep-object.json": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested"),
    "escape.attestation.yaml": (ESCAPE, "escapes the evidence folder"),
}


def _files(ws: Path) -> list[str]:
    with Store.open(ws, create=False) as store:
        return [f.name for f in store.files()]


def test_bad_inputs_in_one_batch(tmp_path: Path, runner: CliRunner) -> None:
    """Every bad file gets its own one-line error naming it; the good file of the batch still goes in."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    for name, (content, _) in BAD.items():
        (folder / name).write_bytes(content)
    (folder / "zz-good-bandit.json").write_bytes(GOOD)
    ws = tmp_path / "ws"
    result = runner.invoke(main, ["--workspace", str(ws), *NOW, "evidence", "ingest", str(folder)])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("sckb: error:")]
    assert len(errors) == len(BAD), result.stderr
    for name, (_, expected) in BAD.items():
        line = next(ln for ln in errors if f"{folder / name}:" in ln or f"{folder / name}#" in ln)
        assert expected in line, line
    assert _files(ws) == [str(folder / "zz-good-bandit.json")]
    assert "1 files, 1 findings" in result.stdout and f"{len(BAD)} errors" in result.stdout


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_leaves_store_unchanged(name: str, tmp_path: Path) -> None:
    content, expected = BAD[name]
    folder = tmp_path / "evidence"
    folder.mkdir()
    bad = folder / name
    bad.write_bytes(content)
    good = tmp_path / "good-bandit.json"
    good.write_bytes(GOOD)
    ws = tmp_path / "ws"
    with Store.open(ws) as store:
        ing = Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC))
        assert ing.ingest_file(good).error is None
        before = list(store.conn.iterdump())
        res = ing.ingest_file(bad, base=folder)
        assert res.error is not None and expected in res.error and str(bad) in res.error
        assert "\n" not in res.error
        assert list(store.conn.iterdump()) == before
        assert store.verify() == []
        assert store.locker_orphans() == []
        assert not any((ws / "locker" / "tmp").iterdir())


def test_position_is_named_where_known(tmp_path: Path, runner: CliRunner) -> None:
    bad = tmp_path / "truncated.json"
    bad.write_bytes(b'{"SchemaVersion": 2,\n "Results": [\n  {"Target": "x", ')
    result = runner.invoke(main, ["--workspace", str(tmp_path / "ws"), *NOW, "evidence", "ingest", str(bad)])
    assert result.exit_code == 3
    assert f"{bad}:3: invalid JSON" in result.stderr
    yaml_bad = tmp_path / "att.yaml"
    yaml_bad.write_bytes(
        b"sckb-attestation: 1\nattestations:\n  - control: AC-6\n    statement: ok\n    who: me\n    when: soon\n"
    )
    result = runner.invoke(main, ["--workspace", str(tmp_path / "ws"), *NOW, "evidence", "ingest", str(yaml_bad)])
    assert result.exit_code == 3
    assert f"{yaml_bad}:6#/attestations/0/when: 'when' must be an ISO date or time" in result.stderr


def test_strict_stops_at_first_bad_file(tmp_path: Path, runner: CliRunner) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a-bad.json").write_bytes(b"{")
    (folder / "b-good.json").write_bytes(GOOD)
    ws = tmp_path / "ws"
    result = runner.invoke(main, ["--workspace", str(ws), *NOW, "evidence", "ingest", "--strict", str(folder)])
    assert result.exit_code == 3
    assert _files(ws) == []
    result = runner.invoke(main, ["--workspace", str(ws), *NOW, "evidence", "ingest", str(folder)])
    assert result.exit_code == 3
    assert _files(ws) == [str(folder / "b-good.json")]


def test_json_summary_reports_error_per_file(tmp_path: Path, runner: CliRunner) -> None:
    import orjson

    (tmp_path / "bad.json").write_bytes(b"[1, 2")
    (tmp_path / "good.json").write_bytes(GOOD)
    result = runner.invoke(
        main,
        [
            "--workspace",
            str(tmp_path / "ws"),
            *NOW,
            "evidence",
            "ingest",
            "--json",
            str(tmp_path / "bad.json"),
            str(tmp_path / "good.json"),
        ],
    )
    assert result.exit_code == 3
    rows = orjson.loads(result.stdout)
    assert [r["path"] for r in rows] == [str(tmp_path / "bad.json"), str(tmp_path / "good.json")]
    assert rows[0]["error"].startswith(f"{tmp_path / 'bad.json'}:1: invalid JSON")
    assert rows[1] == {
        "path": str(tmp_path / "good.json"), "format": "bandit-json", "tool": "bandit", "sha256": rows[1]["sha256"],
        "findings": {"failed": 1, "passed": 0, "other": 0}, "mapped": rows[1]["mapped"], "skipped": None, "error": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"results": {"failed_checks": [' + b'{"check_id": "CKV_AWS_1"},' * 50 + b'{"check_id": "CKV', "invalid JSON"),
        (b'{"check_type": "terraform", "results": {"failed_checks": [' + b"[" * 5000 + b"]" * 5000 + b"]}}", "nested deeper"),
        (b'{"check_type": "terraform", "results": {"failed_checks": ["\xff\xfe"]}}', "invalid"),
    ],
)
def test_streaming_path_reports_bad_json(content: bytes, expected: str, tmp_path: Path) -> None:
    """Big files go through ijson behind the depth guard: the same bad inputs fail the same clean way."""
    path = tmp_path / "big.json"
    path.write_bytes(b'{"check_type": "terraform", ' + content[1:] if not content.startswith(b'{"check_type"') else content)
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC), stream_threshold=0).ingest_file(path)
        assert res.error is not None and expected in res.error and str(path) in res.error
        assert store.files() == []
        assert store.conn.execute("SELECT count(*) FROM observations").fetchone()[0] == 0


def test_unknown_format_option_is_a_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "good.json").write_bytes(GOOD)
    result = runner.invoke(
        main, ["--workspace", str(tmp_path / "ws"), "evidence", "ingest", "--format", "nope", str(tmp_path / "good.json")]
    )
    assert result.exit_code == 2
    assert "unknown format 'nope'" in result.output


def test_forced_format_mismatch_is_clean(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "good.json").write_bytes(GOOD)
    result = runner.invoke(
        main,
        ["--workspace", str(tmp_path / "ws"), *NOW, "evidence", "ingest", "--format", "junit-xml", str(tmp_path / "good.json")],
    )
    assert result.exit_code == 3
    assert "Traceback" not in result.output and "invalid XML" in result.stderr


def test_corrupt_database_is_a_store_error(tmp_path: Path, runner: CliRunner) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "evidence.db").write_bytes(b"this is not a database" * 100)
    (tmp_path / "good.json").write_bytes(GOOD)
    result = runner.invoke(main, ["--workspace", str(ws), "evidence", "ingest", str(tmp_path / "good.json")])
    assert result.exit_code == 5
    assert result.stderr.count("\n") == 1 and "evidence.db" in result.stderr
    assert isinstance(sqlite3.sqlite_version, str)


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/urandom"])
def test_only_regular_files_are_read(special: str, tmp_path: Path, runner: CliRunner) -> None:
    """A FIFO or a device named directly is refused at once (it used to block or read without end)."""
    if special == "fifo":
        path = tmp_path / "scan.json"
        os.mkfifo(path)
    else:
        path = Path(special)
        if not path.exists():
            pytest.skip(f"{special} is not on this system")
    ws = tmp_path / "ws"
    result = runner.invoke(main, ["--workspace", str(ws), *NOW, "evidence", "ingest", str(path)])
    assert result.exit_code == 3, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("sckb: error:")]
    assert len(errors) == 1 and f"{path}: not a regular file" in errors[0], result.stderr
    assert "Traceback" not in result.output
    assert _files(ws) == []


def test_a_fifo_inside_a_folder_is_not_read(tmp_path: Path, runner: CliRunner) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    os.mkfifo(folder / "a-pipe.json")
    (folder / "good-bandit.json").write_bytes(GOOD)
    ws = tmp_path / "ws"
    result = runner.invoke(main, ["--workspace", str(ws), *NOW, "evidence", "ingest", str(folder)])
    assert result.exit_code == 0, result.output
    assert _files(ws) == [str(folder / "good-bandit.json")]


def test_nonexistent_path_is_an_input_error(tmp_path: Path, runner: CliRunner) -> None:
    """Exit 3 with sckb's one line (it was click's usage error, exit 2), and nothing ingested."""
    good = tmp_path / "good-bandit.json"
    good.write_bytes(GOOD)
    missing = tmp_path / "nope.json"
    ws = tmp_path / "ws"
    result = runner.invoke(main, ["--workspace", str(ws), *NOW, "evidence", "ingest", str(good), str(missing)])
    assert result.exit_code == 3, result.output
    assert result.stderr.strip() == f"sckb: error: {missing}: no such file or folder"
    assert not (ws / "evidence.db").exists() or _files(ws) == []


def test_control_character_in_an_attestation_is_one_line(tmp_path: Path, runner: CliRunner) -> None:
    bad = tmp_path / "att.yaml"
    bad.write_bytes(b"sckb-attestation: 1\nattestations:\n  - control: AT-2\x01\n")
    result = runner.invoke(main, ["--workspace", str(tmp_path / "ws"), *NOW, "evidence", "ingest", str(bad)])
    assert result.exit_code == 3
    err = result.stderr.strip()
    assert err.startswith(f"sckb: error: {bad}:3: invalid YAML: ") and err.endswith("(character #x0001)"), err
    assert len(err.splitlines()) == 1


def test_an_error_quoting_the_input_stays_one_short_line(tmp_path: Path) -> None:
    """An error that quotes the input (here an unknown field whose name holds a line break and 900 bytes) is one
    line of bounded length (found by tests/test_fuzz.py)."""
    key = "a\\nb" + "x" * 900
    bad = tmp_path / "att.yaml"
    bad.write_text(f'sckb-attestation: 1\nattestations:\n  - control: AT-2\n    "{key}": 1\n')
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC)).ingest_file(bad)
    assert res.error is not None and "unknown field(s): a b" in res.error, res.error[:300]
    assert "\n" not in res.error and len(res.error) <= len(str(bad)) + 10 + 200 + 2 + 500  # file:line#pointer: message


def test_attachment_name_too_long_is_bad_input(tmp_path: Path) -> None:
    """An attachment path the system cannot even look up (a name over its limit) is the file's error, not an
    internal error (found by tests/test_fuzz.py)."""
    bad = tmp_path / "att.yaml"
    long_name = "a" * 5000
    bad.write_text(
        "sckb-attestation: 1\nattestations:\n  - control: AT-2\n    statement: ok\n    who: me\n    when: 2026-11-02\n"
        f"    attachments: [{long_name}]\n"
    )
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC)).ingest_file(bad)
        assert res.error is not None and "cannot be used: File name too long" in res.error, res.error
        assert store.files() == []
