"""Assessors' determinations (issue 21): stored with their history, read from the command line and from a YAML
file, applied by ``sckb assess`` above the derived status, and shown by explain, the table, the OSCAL assessment
results, the PDF report and the site.

The evidence is the bundled example (examples/phi-app/evidence), assessed at 2026-12-01: AC-6 is not-satisfied
there (checkov reports a wildcard IAM policy that maps to least-privilege-execution-role -> AC-6).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.assess import determine
from compliance.cli import main
from compliance.errors import InputError, NotFoundError, StoreError
from compliance.evidence.store import WITHDRAWN, DeterminationRecord, Store

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = ROOT / "examples" / "phi-app" / "evidence"
NOW = "2026-12-01"
RATIONALE = "Walked through every execution role policy with the platform lead; see interview notes 2026-11-20."


def sckb(runner: CliRunner, ws: Path, *args: str, now: str = NOW) -> Any:
    return runner.invoke(main, ["--workspace", str(ws), "--now", now, *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("determine") / "ws"
    r = CliRunner().invoke(main, ["--workspace", str(ws), "--now", NOW, "evidence", "ingest", str(EVIDENCE)])
    assert r.exit_code == 0, r.output
    return ws


@pytest.fixture
def ws(ingested: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(ingested, dest)
    return dest


@pytest.fixture(scope="module")
def kb() -> kbmod.KB:
    return kbmod.load()


def determine_ac6(runner: CliRunner, ws: Path, *extra: str, status: str = "satisfied", now: str = NOW) -> Any:
    return sckb(
        runner,
        ws,
        "assess",
        "determine",
        "AC-6",
        "--status",
        status,
        "--rationale",
        RATIONALE,
        "--by",
        "Dana Reyes",
        "--method",
        "examine",
        "--method",
        "INTERVIEW",
        *extra,
        now=now,
    )


def assess_json(runner: CliRunner, ws: Path, *, now: str = NOW) -> dict[str, Any]:
    r = sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--scope", "hipaa", "--format", "json", now=now)
    assert r.exit_code == 0, r.output
    data: dict[str, Any] = orjson.loads(r.output)
    return data


def control(data: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in data["controls"] if c["control"] == cid)


def record(target: str, status: str, date: str, **kw: Any) -> DeterminationRecord:
    base: dict[str, Any] = {
        "rationale": "why",
        "by": "Dana Reyes",
        "role": "assessor",
        "methods": ("EXAMINE",),
        "source": "cli",
    }
    return DeterminationRecord(target=target, status=status, date=date, **{**base, **kw})


# ---------------------------------------------------------------------- store


def test_store_round_trip_keeps_history_in_order(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws") as store:
        assert store.determinations() == []
        first = record("AC-6", "not-satisfied", "2026-11-01T00:00:00Z", methods=("EXAMINE", "INTERVIEW"))
        second = record("AC-6", "satisfied", "2026-11-20T00:00:00Z", rationale="fixed after review")
        assert store.add_determinations([first, second]) == 2
        assert store.add_determinations([first]) == 0  # the same record again is not stored twice
        got = store.determinations()
    assert [(r.seq, r.status, r.methods, r.rationale) for r in got] == [
        (1, "not-satisfied", ("EXAMINE", "INTERVIEW"), "why"),
        (2, "satisfied", ("EXAMINE",), "fixed after review"),
    ]
    assert got[0].by == "Dana Reyes" and got[0].role == "assessor" and got[0].source == "cli"


def test_read_only_store_without_the_table_reads_empty_and_refuses_writes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with Store.open(ws):
        pass
    with sqlite3.connect(ws / "evidence.db") as conn:  # a workspace from before determinations existed
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'assess_determinations'").fetchall()
    with Store.open(ws, read_only=True) as store:
        assert store.determinations() == []
        with pytest.raises(StoreError, match="cannot record the determinations"):
            store.add_determinations([record("AC-6", "satisfied", "2026-11-01T00:00:00Z")])


def test_in_effect_takes_the_latest_up_to_now_and_honours_withdrawals() -> None:
    recs = [
        record("AC-6", "not-satisfied", "2026-11-01T00:00:00Z", seq=1),
        record("AC-6", "satisfied", "2026-11-20T00:00:00Z", seq=2),
        record("AC-6", WITHDRAWN, "2026-11-25T00:00:00Z", seq=3),
        record("SC-28", "satisfied", "2026-11-02T00:00:00Z", seq=4),
        record("SC-28", "not-satisfied", "2026-12-05T00:00:00Z", seq=5),  # after the clock: not yet made
    ]

    def at(day: str) -> dict[str, str]:
        return {d.target: d.status for d in determine.in_effect(recs, datetime.fromisoformat(day).replace(tzinfo=UTC))}

    assert at("2026-11-10") == {"AC-6": "not-satisfied", "SC-28": "satisfied"}
    assert at("2026-11-21") == {"AC-6": "satisfied", "SC-28": "satisfied"}
    assert at("2026-12-01") == {"SC-28": "satisfied"}  # AC-6 withdrawn
    assert at("2026-12-06") == {"SC-28": "not-satisfied"}
    states = [e.state for e in determine.history(recs, datetime(2026, 12, 1, tzinfo=UTC))]
    assert states == ["superseded", "superseded", "withdrawal", "in-effect", "future"]


# ---------------------------------------------------------------------- YAML file

GOOD_FILE = """\
sckb-determinations: 1
determinations:
  - target: ac-6
    status: satisfied
    rationale: Reviewed the role policies with the platform team.
    by: Dana Reyes
    date: 2026-11-20
    methods: [INTERVIEW, examine]
  - target: SC-28
    status: partially-satisfied
    rationale: Tables encrypted; the queue is not.
    by: Lee Park
    role: lead-assessor
"""


def test_file_is_read_with_defaults(kb: kbmod.KB, tmp_path: Path) -> None:
    f = tmp_path / "determinations.yaml"
    f.write_text(GOOD_FILE, encoding="utf-8")
    recs = determine.read_file(kb, f, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert [(r.target, r.status, r.date, r.methods, r.role, r.source) for r in recs] == [
        ("AC-6", "satisfied", "2026-11-20T00:00:00Z", ("EXAMINE", "INTERVIEW"), "assessor", "determinations.yaml"),
        ("SC-28", "partially-satisfied", "2026-12-01T00:00:00Z", ("EXAMINE",), "lead-assessor", "determinations.yaml"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("determinations: []\n", 1, "starts with 'sckb-determinations: 1'"),
        ("sckb-determinations: 1\ndeterminations: []\n", 2, "non-empty list"),
        (
            "sckb-determinations: 1\ndeterminations:\n  - target: AC-6\n    status: done\n    rationale: r\n    by: x\n",
            4,
            "status 'done'",
        ),
        (
            "sckb-determinations: 1\ndeterminations:\n  - target: ZZ-99\n    status: satisfied\n    rationale: r\n    by: x\n",
            3,
            "ZZ-99",
        ),
        ("sckb-determinations: 1\ndeterminations:\n  - target: AC-6\n    status: satisfied\n    by: x\n", 3, "rationale"),
        (
            "sckb-determinations: 1\ndeterminations:\n  - target: AC-6\n    status: satisfied\n    rationale: r\n    by: x\n"
            "    method: PEEK\n",
            7,
            "method 'PEEK'",
        ),
        (
            "sckb-determinations: 1\ndeterminations:\n  - target: AC-6\n    status: satisfied\n    rationale: r\n    by: x\n"
            "    date: last week\n",
            7,
            "not an ISO date",
        ),
        (
            "sckb-determinations: 1\ndeterminations:\n  - target: AC-6\n    status: satisfied\n    rationale: r\n    by: x\n"
            "    colour: red\n",
            7,
            "unknown field(s): colour",
        ),
        (
            "sckb-determinations: 1\ndeterminations:\n  - target: AC-6\n    withdraw: true\n    status: satisfied\n"
            "    rationale: r\n    by: x\n",
            5,
            "a withdrawal takes no status",
        ),
    ],
)
def test_file_errors_name_file_and_line(kb: kbmod.KB, tmp_path: Path, text: str, line: int, message: str) -> None:
    f = tmp_path / "det.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        determine.read_file(kb, f, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert info.value.line == line
    assert info.value.path == str(f)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{f}:{line}: ")


def test_cli_file_error_is_one_line_exit_3(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    f = tmp_path / "det.yaml"
    f.write_text("sckb-determinations: 1\ndeterminations:\n  - target: AC-6\n    status: done\n", encoding="utf-8")
    r = sckb(runner, ws, "assess", "determine", "--file", str(f))
    assert r.exit_code == 3
    assert r.output.strip().splitlines() == [
        f"sckb: error: {f}:4: status 'done': a determination's status is one of "
        "satisfied, not-satisfied, partially-satisfied, inherited"
    ]


# ---------------------------------------------------------------------- CLI


def test_cli_determine_and_list(runner: CliRunner, ws: Path) -> None:
    r = determine_ac6(runner, ws)
    assert r.exit_code == 0, r.output
    assert "AC-6: satisfied by Dana Reyes (assessor) on 2026-12-01T00:00:00Z, methods EXAMINE, INTERVIEW" in r.output
    again = determine_ac6(runner, ws)
    assert "0 new determination record(s); 1 already recorded" in again.output
    r = sckb(runner, ws, "assess", "determinations", "--json")
    assert r.exit_code == 0, r.output
    rows = orjson.loads(r.output)
    assert rows == [
        {
            "seq": 1,
            "target": "AC-6",
            "status": "satisfied",
            "rationale": RATIONALE,
            "by": "Dana Reyes",
            "role": "assessor",
            "date": "2026-12-01T00:00:00Z",
            "methods": ["EXAMINE", "INTERVIEW"],
            "source": "cli",
            "state": "in-effect",
        }
    ]
    table = sckb(runner, ws, "assess", "determinations")
    assert "AC-6" in table.output and "in-effect" in table.output and "Dana Reyes" in table.output


def test_cli_withdraw_is_recorded_and_lifts_the_determination(runner: CliRunner, ws: Path) -> None:
    assert determine_ac6(runner, ws, now="2026-11-20").exit_code == 0
    r = sckb(
        runner, ws, "assess", "determine", "AC-6", "--withdraw", "--rationale", "Policy changed since.", "--by", "Dana Reyes"
    )
    assert r.exit_code == 0, r.output
    rows = orjson.loads(sckb(runner, ws, "assess", "determinations", "--json").output)
    assert [(x["status"], x["state"]) for x in rows] == [("satisfied", "superseded"), ("withdrawn", "withdrawal")]
    assert control(assess_json(runner, ws), "AC-6")["determination"] is None
    # an assessment at an earlier clock still sees the determination that was in effect then
    earlier = control(assess_json(runner, ws, now="2026-11-25"), "AC-6")
    assert earlier["status"] == "satisfied" and earlier["derived_status"] == "not-satisfied"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ZZ-99", "--status", "satisfied", "--rationale", "r", "--by", "x"], 4, "'ZZ-99' is not a control or framework item id"),
        (["AC-6", "--status", "satisfied", "--by", "x"], 3, "--rationale: a rationale is required"),
        (["AC-6", "--status", "satisfied", "--rationale", "r"], 3, "--by: 'by' is required"),
        (["AC-6", "--rationale", "r", "--by", "x"], 3, "--status: no status"),
        (["AC-6", "--status", "satisfied", "--rationale", "r", "--by", "x", "--role", "Lead Assessor"], 3, "--role: role"),
        (["AC-6", "--status", "done", "--rationale", "r", "--by", "x"], 2, "'done' is not one of"),
        (["--status", "satisfied"], 2, "give a TARGET"),
    ],
)
def test_cli_determine_errors(runner: CliRunner, ws: Path, args: list[str], code: int, message: str) -> None:
    r = sckb(runner, ws, "assess", "determine", *args)
    assert r.exit_code == code
    assert message in r.output
    assert "Traceback" not in r.output
    rows = orjson.loads(sckb(runner, ws, "assess", "determinations", "--json").output)
    assert rows == []


def test_cli_file_records_every_entry(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    f = tmp_path / "determinations.yaml"
    f.write_text(GOOD_FILE, encoding="utf-8")
    r = sckb(runner, ws, "assess", "determine", "--file", str(f), "--json")
    assert r.exit_code == 0, r.output
    out = orjson.loads(r.output)
    assert out["recorded"] == 2
    assert [d["target"] for d in out["determinations"]] == ["AC-6", "SC-28"]
    assert orjson.loads(sckb(runner, ws, "assess", "determine", "--file", str(f), "--json").output)["recorded"] == 0


# ---------------------------------------------------------------------- assessment


def test_assess_applies_stored_determinations(runner: CliRunner, ws: Path) -> None:
    plain = assess_json(runner, ws)
    before = control(plain, "AC-6")
    assert before["status"] == "not-satisfied"
    assert before["determination"] is None
    assert determine_ac6(runner, ws).exit_code == 0
    data = assess_json(runner, ws)
    after = control(data, "AC-6")
    assert after["status"] == "satisfied"
    assert after["derived_status"] == "not-satisfied"
    assert after["determination"]["by"] == "Dana Reyes"
    assert after["determination"]["rationale"] == RATIONALE
    assert data["assessment"]["counts"]["satisfied"] == plain["assessment"]["counts"]["satisfied"] + 1
    assert data["assessment"]["counts"]["not-satisfied"] == plain["assessment"]["counts"]["not-satisfied"] - 1
    assert data["assessment"]["id"] != plain["assessment"]["id"]


def test_determination_dated_after_now_is_not_applied(runner: CliRunner, ws: Path) -> None:
    assert determine_ac6(runner, ws, "--date", "2026-12-10").exit_code == 0
    assert control(assess_json(runner, ws), "AC-6")["status"] == "not-satisfied"
    assert control(assess_json(runner, ws, now="2026-12-11"), "AC-6")["status"] == "satisfied"


def test_explain_shows_final_and_derived_status_and_who(runner: CliRunner, ws: Path) -> None:
    assert determine_ac6(runner, ws).exit_code == 0
    assess_json(runner, ws)
    r = sckb(runner, ws, "assess", "explain", "AC-6")
    assert r.exit_code == 0, r.output
    first, second = r.output.splitlines()[:2]
    assert first.startswith("AC-6 Least Privilege: satisfied (determined; derived: not-satisfied)")
    who = "determined satisfied by Dana Reyes (assessor) on 2026-12-01T00:00:00Z [EXAMINE, INTERVIEW]"
    assert second == f"  {who}, recorded via cli: {RATIONALE}"
    j = orjson.loads(sckb(runner, ws, "assess", "explain", "AC-6", "--json").output)
    assert j["status"] == "satisfied" and j["derived_status"] == "not-satisfied"
    assert j["determination"] == {
        "status": "satisfied",
        "rationale": RATIONALE,
        "by": "Dana Reyes",
        "role": "assessor",
        "date": "2026-12-01T00:00:00Z",
        "methods": ["EXAMINE", "INTERVIEW"],
        "source": "cli",
    }


def test_explain_without_determination_says_nothing_of_one(runner: CliRunner, ws: Path) -> None:
    assess_json(runner, ws)
    r = sckb(runner, ws, "assess", "explain", "AC-6")
    assert "determined" not in r.output
    j = orjson.loads(sckb(runner, ws, "assess", "explain", "AC-6", "--json").output)
    assert j["determination"] is None and j["derived_status"] == j["status"] == "not-satisfied"


def test_safeguard_determination_in_explain(runner: CliRunner, ws: Path) -> None:
    r = sckb(
        runner,
        ws,
        "assess",
        "determine",
        "164.312(b)",
        "--status",
        "not-satisfied",
        "--rationale",
        "No audit review.",
        "--by",
        "Lee",
    )
    assert r.exit_code == 0, r.output
    assess_json(runner, ws)
    j = orjson.loads(sckb(runner, ws, "assess", "explain", "164.312(b)", "--json").output)
    assert j["status"] == "not-satisfied"
    assert j["determination"]["by"] == "Lee"
    text = sckb(runner, ws, "assess", "explain", "164.312(b)").output
    assert "determined not-satisfied by Lee (assessor)" in text


def test_assess_table_marks_determined_rows(runner: CliRunner, ws: Path) -> None:
    assert determine_ac6(runner, ws, status="partially-satisfied").exit_code == 0
    r = sckb(runner, ws, "assess", "--scope", "fedramp-moderate")
    assert r.exit_code == 0, r.output
    assert "partially-satisfied (determined; derived: not-satisfied)" in r.output
    assert "Assessor determinations" in r.output
    md = sckb(runner, ws, "assess", "show", "--format", "markdown").output
    assert "| AC-6 | partially-satisfied (determined; derived: not-satisfied) | Dana Reyes (assessor) | 2026-12-01 |" in md


def test_make_rejects_unknown_target(kb: kbmod.KB) -> None:
    with pytest.raises(NotFoundError):
        determine.make(kb, "nope", status="satisfied", rationale="r", by="x", now=datetime(2026, 12, 1, tzinfo=UTC))
    r = determine.make(kb, "ac-2(1)", status="satisfied", rationale="r", by="x", now=datetime(2026, 12, 1, tzinfo=UTC))
    assert r.target == "AC-2(1)"


# ---------------------------------------------------------------------- report


def test_report_model_and_html_show_the_determination(runner: CliRunner, ws: Path, kb: kbmod.KB) -> None:
    from compliance.paths import templates_dir
    from compliance.report import build, family_titles
    from compliance.report.render import render_html

    assert determine_ac6(runner, ws).exit_code == 0
    assess_json(runner, ws)
    with Store.open(ws) as store:
        _, model = build(kb, store, now=datetime(2026, 12, 1, tzinfo=UTC))
    section = next(c for c in model.controls if c.id == "AC-6")
    assert section.status == "satisfied" and section.derived_status == "not-satisfied"
    assert section.determination is not None and section.determination.by == "Dana Reyes"
    assert [(d.target, d.status, d.derived_status, d.role, d.methods) for d in model.determinations] == [
        ("AC-6", "satisfied", "not-satisfied", "assessor", ("EXAMINE", "INTERVIEW"))
    ]
    page = render_html(model, templates=templates_dir(), family_titles=family_titles(kb))
    assert 'id="determinations"' in page and 'href="#determinations"' in page
    assert "Assessor's determination:</b> satisfied, by Dana Reyes (assessor) on 2026-12-01" in page
    assert "interview notes 2026-11-20." in page


def test_report_pdf_lists_every_determination(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext missing: sudo apt-get install poppler-utils")
    assert determine_ac6(runner, ws).exit_code == 0
    r = sckb(
        runner, ws, "assess", "determine", "164.312(b)", "--status", "partially-satisfied", "--rationale",
        "Logs kept, no alerting yet.", "--by", "Lee Park", "--role", "lead-assessor", "--method", "INTERVIEW",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assess_json(runner, ws)
    pdf = tmp_path / "report.pdf"
    r = sckb(runner, ws, "report", "pdf", "--out", str(pdf))
    assert r.exit_code == 0, r.output
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    section = text[text.rindex("Assessor determinations") :]
    for expected in ("AC-6", "Dana Reyes", "assessor", "164.312(b)", "Lee Park", "lead-assessor", "Logs kept, no alerting yet."):
        assert expected in section, expected
    assert "determined; derived" in text


# ---------------------------------------------------------------------- site


def test_site_control_page_and_dashboard_show_the_determination(runner: CliRunner, ws: Path, kb: kbmod.KB) -> None:
    from compliance.assess import load_assessment
    from compliance.site.generate import generate

    assert determine_ac6(runner, ws).exit_code == 0
    assess_json(runner, ws)
    with Store.open(ws) as store:
        a = load_assessment(store)
    content = generate(kb, assessment=a)
    (ac6,) = [p for path, p in content.pages.items() if path.endswith("/ac-6/index.md") or path.endswith("/ac-6.md")]
    text = ac6.text()
    assert f"## Status in assessment {a.id}" in text
    assert "**satisfied**, determined by an assessor; the evidence alone gives **not-satisfied**" in text
    assert "Dana Reyes (assessor)" in text and "EXAMINE, INTERVIEW" in text
    # a control nobody determined shows its status without a determination
    (ac2,) = [p for path, p in content.pages.items() if path.endswith("/ac-2/index.md") or path.endswith("/ac-2.md")]
    assert "determined by an assessor" not in ac2.text() and f"## Status in assessment {a.id}" in ac2.text()
    listing = content.pages["assessment/determinations.md"].text()
    assert "Dana Reyes (assessor)" in listing and "not-satisfied" in listing
    family = content.pages["assessment/controls/ac.md"].text()
    assert "<strong>satisfied</strong> (determined; derived: not-satisfied)" in family


def test_cli_list_fits_a_narrow_terminal(ws: Path) -> None:
    """At 80 columns the history is one block per record, every line within the width, the rationale whole."""
    narrow = CliRunner(env={"COLUMNS": "80"})
    assert determine_ac6(narrow, ws).exit_code == 0
    r = sckb(narrow, ws, "assess", "determinations")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "Determinations (oldest first)"
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].split() == ["1", "AC-6", "satisfied", "(in-effect)"]
    shown = " ".join(line.strip() for line in lines[2:])
    assert " ".join(RATIONALE.split()) in shown
