"""POA&M due dates: the remediation policy file (``sckb assess --remediation-policy``) and CISA KEV due dates
(``sckb assess --kev``), through the CLI on small hand-made workspaces.

The evidence is one SARIF log from checkov failing CKV_AWS_27 (SQS queue not encrypted; it maps to
data-store-encryption-at-rest, so its failure is a POA&M item in fedramp-moderate). Its message names a CVE id so
that a KEV catalogue can match it. First seen is the scan's ingest; the clock is fixed with ``--now``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance.assess.policy import DEFAULT_POLICY_FILE, load_kev, load_policy
from compliance.cli import main
from compliance.errors import InputError

HERE = Path(__file__).resolve().parent
REAL_KEV = HERE.parent.parent / "shared" / "reference" / "kev" / "known_exploited_vulnerabilities.json"
NOW = "2026-12-01"
SCAN = "2026-11-30T10:00:00Z"
CVE = "CVE-2021-44228"  # in the real KEV catalogue, due 2021-12-24


def sarif(path: Path, level: str = "error", message: str = f"queue not encrypted; see {CVE}") -> Path:
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "checkov", "rules": [{"id": "CKV_AWS_27"}]}},
        "invocations": [{"executionSuccessful": True, "startTimeUtc": SCAN, "endTimeUtc": SCAN}],
        "results": [
            {
                "ruleId": "CKV_AWS_27",
                "kind": "fail",
                "level": level,
                "message": {"text": message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "template.yaml"}, "region": {"startLine": 3}}}],
            }
        ],
    }
    path.write_bytes(orjson.dumps({"version": "2.1.0", "runs": [run]}))
    return path


def sckb(ws: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--workspace", str(ws), "--now", NOW, *args], catch_exceptions=False)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    r = sckb(ws, "evidence", "ingest", str(sarif(tmp_path / "checkov.sarif")))
    assert r.exit_code == 0, r.output
    return ws


def assess(ws: Path, *extra: str) -> dict[str, Any]:
    r = sckb(ws, "assess", "--scope", "fedramp-moderate", "--format", "json", *extra)
    assert r.exit_code == 0, r.output
    out: dict[str, Any] = orjson.loads(r.output)
    return out


def only_item(out: dict[str, Any]) -> dict[str, Any]:
    items = [p for p in out["poam"] if p["rule"] == "checkov:CKV_AWS_27"]
    assert len(items) == 1, out["poam"]
    item: dict[str, Any] = items[0]
    return item


def days_after_first_seen(item: dict[str, Any]) -> int:
    first = datetime.fromisoformat(item["first_seen"].replace("Z", "+00:00"))
    due = datetime.fromisoformat(item["due"].replace("Z", "+00:00"))
    return (due - first) // timedelta(days=1)


def write_policy(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(text, encoding="utf-8")
    return p


POLICY = """\
name: strict-internal
source: our own security standard, section 4 (tighter than FedRAMP)
windows:
  high: 7
  moderate: 14
  low: 30
aliases:
  critical: high
  medium: moderate
  error: high
unrated: low
"""


def test_the_shipped_policy_holds_the_fedramp_windows() -> None:
    p = load_policy(DEFAULT_POLICY_FILE)
    assert p.windows == {"high": 30, "moderate": 90, "low": 180}
    assert [p.days(s) for s in ("critical", "HIGH", "medium", "moderate", "low", "info", None, "bogus")] == [
        30,
        30,
        90,
        90,
        180,
        180,
        30,  # unrated (missing or an unknown word): the policy's unrated rating, high
        30,
    ]
    assert p.unrated == "high" and p.vendor_checkin_days == 30
    assert "FedRAMP" in p.source


def test_default_windows_unchanged_and_nothing_recorded(ws: Path) -> None:
    out = assess(ws)
    item = only_item(out)
    sev = item["severity"]
    assert days_after_first_seen(item) == {"critical": 30, "high": 30, "medium": 90, "low": 180}.get(sev, 30)
    assert "remediation_policy" not in out["assessment"] and "due_basis" not in item
    # the same assessment again: same id (content unchanged by the new, unset fields)
    assert assess(ws)["assessment"]["id"] == out["assessment"]["id"]


def test_an_override_policy_changes_due_dates_and_is_recorded(ws: Path, tmp_path: Path) -> None:
    before = only_item(assess(ws))
    out = assess(ws, "--remediation-policy", str(write_policy(tmp_path, POLICY)))
    item = only_item(out)
    policy = load_policy(tmp_path / "policy.yaml")
    assert days_after_first_seen(item) == policy.days(item["severity"]) < days_after_first_seen(before)
    assert item["due_basis"] == f"window {policy.rating(item['severity']) or 'default'} {policy.days(item['severity'])} days"
    assert out["assessment"]["remediation_policy"] == "strict-internal"
    assert out["assessment"]["poam_kev"] == 0 and item["kev"] is False
    table = sckb(ws, "assess", "show")  # the latest: this one
    assert table.exit_code == 0 and "remediation policy strict-internal" in table.output
    assert out["assessment"]["id"] != assess(ws)["assessment"]["id"]


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (POLICY.replace("moderate: 14", "moderate: soon"), 5, "whole number of days"),
        (POLICY.replace("error: high", "error: urgent"), 10, "not a rating in windows"),
        (POLICY + "extra: 1\n", 12, "unknown key 'extra'"),
        ("name: x\nsource: y\nwindows: [\n", 4, ""),
        (POLICY.replace("name: strict-internal\n", ""), None, "name: a non-empty string"),
        (POLICY.replace("unrated: low", "unrated: soon"), 11, "unrated: 'soon' is not a rating"),
        (POLICY.replace("unrated: low", "default: 30"), 11, "replaced by 'unrated: <rating>'"),
    ],
)
def test_a_bad_policy_file_is_one_line_naming_file_and_line(
    ws: Path, tmp_path: Path, text: str, line: int | None, needle: str
) -> None:
    path = write_policy(tmp_path, text)
    r = sckb(ws, "assess", "--scope", "fedramp-moderate", "--remediation-policy", str(path))
    assert r.exit_code == 3, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output
    assert str(path) + (f":{line}:" if line else "") in lines[0] and needle in lines[0]


def kev_file(tmp_path: Path, cve: str, due: str) -> Path:
    p = tmp_path / "kev.json"
    doc = {
        "title": "test catalogue",
        "catalogVersion": "2026.11.01",
        "vulnerabilities": [
            {"cveID": "CVE-2000-0001", "dueDate": "2000-02-01"},
            {"cveID": cve, "dueDate": due},
        ],
    }
    p.write_bytes(orjson.dumps(doc))
    return p


def test_a_kev_entry_marks_and_dates_the_item(ws: Path, tmp_path: Path) -> None:
    window = only_item(assess(ws))
    out = assess(ws, "--kev", str(kev_file(tmp_path, CVE.lower(), "2026-12-05")))
    item = only_item(out)
    assert item["kev"] is True and item["kev_due"] == "2026-12-05"
    assert item["due"] == "2026-12-05T00:00:00Z" < window["due"]
    assert item["due_basis"] == "CISA KEV due date"
    assert out["assessment"]["poam_kev"] == 1
    assert out["assessment"]["remediation_policy"] == "fedramp-conmon"


def test_a_later_kev_date_keeps_the_window(ws: Path, tmp_path: Path) -> None:
    window = only_item(assess(ws))
    item = only_item(assess(ws, "--kev", str(kev_file(tmp_path, CVE, "2030-01-01"))))
    assert item["kev"] is True and item["kev_due"] == "2030-01-01"
    assert item["due"] == window["due"] and item["due_basis"].startswith("window ")


def test_a_kev_catalogue_without_the_cve_marks_nothing(ws: Path, tmp_path: Path) -> None:
    window = only_item(assess(ws))
    item = only_item(assess(ws, "--kev", str(kev_file(tmp_path, "CVE-1999-0002", "2000-01-01"))))
    assert item["kev"] is False and item["kev_due"] is None and item["due"] == window["due"]


def test_a_bad_kev_file_is_one_line(ws: Path, tmp_path: Path) -> None:
    bad = tmp_path / "kev.json"
    bad.write_bytes(orjson.dumps({"vulnerabilities": [{"cveID": "CVE-2020-1234", "dueDate": "soon"}]}))
    r = sckb(ws, "assess", "--scope", "fedramp-moderate", "--kev", str(bad))
    assert r.exit_code == 3, r.output
    assert r.output.strip() == f"sckb: error: {bad}#/vulnerabilities/0/dueDate: dueDate 'soon' is not YYYY-MM-DD"
    bad.write_text('{"vulnerabilities": [\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_kev(bad)
    assert e.value.line == 2


def test_kev_shows_in_oscal_poam_and_it_stays_valid(ws: Path, tmp_path: Path) -> None:
    assess(ws, "--kev", str(kev_file(tmp_path, CVE, "2026-12-05")))
    out = tmp_path / "oscal"
    schemas = HERE.parent.parent / "shared" / "oscal" / "schemas"
    check = ("--schema-dir", str(schemas)) if schemas.is_dir() else ()  # validated before writing when present
    r = sckb(ws, "export", "oscal", "--out", str(out), "--no-copy-evidence", *check)
    assert r.exit_code == 0, r.output
    doc = orjson.loads((out / "poam.json").read_bytes())["plan-of-action-and-milestones"]
    (item,) = [i for i in doc["poam-items"] if "CKV_AWS_27" in i["title"]]
    props = {p["name"]: p["value"] for p in item["props"]}
    assert props["kev"] == "true" and props["kev-due-date"] == "2026-12-05" and props["kev-cve"] == CVE
    assert props["due-basis"] == "CISA KEV due date" and props["remediation-policy"] == "fedramp-conmon"
    assert props["due-date"] == "2026-12-05T00:00:00Z"
    assert "by CISA KEV due date" in item["description"]
    if schemas.is_dir():
        from compliance.oscal import Validators, errors

        assert errors({"plan-of-action-and-milestones": doc}, Validators(schemas)) == []


@pytest.mark.skipif(not REAL_KEV.is_file(), reason="../shared/reference/kev is not beside the checkout")
def test_the_real_kev_catalogue(ws: Path) -> None:
    kev = load_kev(REAL_KEV)
    assert len(kev.due) > 1000 and kev.due[CVE] == "2021-12-24" and kev.name == "CISA KEV 2025.08.25"
    item = only_item(assess(ws, "--kev", str(REAL_KEV)))
    assert item["kev"] is True and item["kev_due"] == "2021-12-24"
    assert item["due"] == "2021-12-24T00:00:00Z" and item["overdue"] is True


def test_the_report_marks_kev_items_in_the_poam_table(ws: Path, tmp_path: Path) -> None:
    from compliance import kb as kbmod
    from compliance.evidence.store import Store
    from compliance.paths import templates_dir
    from compliance.report import build, family_titles
    from compliance.report.render import render_html

    kb = kbmod.load()
    now = datetime(2026, 12, 1, tzinfo=UTC)

    def poam_section() -> str:
        with Store.open(ws) as store:
            _, model = build(kb, store, now=now)
        page = render_html(model, templates=templates_dir(), family_titles=family_titles(kb))
        return page[page.index('id="poam"') :].split("</section>")[0]

    assess(ws)
    plain = poam_section()
    assert "KEV" not in plain and "CKV_AWS_27" in plain
    assess(ws, "--kev", str(kev_file(tmp_path, CVE, "2026-12-05")))
    marked = poam_section()
    assert '<span class="flag">KEV</span>' in marked and "remediation policy fedramp-conmon" in marked
