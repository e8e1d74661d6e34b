"""``--profile FILE`` through the CLI: a hand-made tailoring of FedRAMP Moderate (two exclusions, one added
enhancement) changes the scope of ``assess`` (JSON control list and statuses), ``export oscal`` (the
assessment plan's reviewed controls) and ``design check`` exactly that way; the assessment records the
profile; bad profiles exit 3 with one line."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from _evidence import checkov_report
from click.testing import CliRunner, Result

from compliance.cli import main
from compliance.kb.core import oscal_id

HERE = Path(__file__).resolve().parent
DESIGN = HERE / "data" / "design" / "multicloud"
SCHEMAS = HERE.parent.parent / "shared" / "oscal" / "schemas"
NOW = "2026-12-01"
MODERATE = "https://raw.githubusercontent.com/GSA/fedramp-automation/master/dist/content/rev5/baselines/json/FedRAMP_rev5_MODERATE-baseline_profile.json"
CATALOG = (
    "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json"
)
EXCLUDED = {"AC-6", "PE-3"}
ADDED = "AC-6(3)"


def tailored(path: Path, excluded: set[str] = EXCLUDED, added: str = ADDED) -> Path:
    doc = {
        "profile": {
            "uuid": "0f0c9a47-5b4e-4d0e-9a43-2f4f6f1e8d01",
            "metadata": {
                "title": "Moderate for our functions",
                "last-modified": "2026-12-01T00:00:00Z",
                "version": "1",
                "oscal-version": "1.1.3",
            },
            "imports": [
                {"href": MODERATE, "include-all": {}, "exclude-controls": [{"with-ids": sorted(oscal_id(c) for c in excluded)}]},
                {"href": CATALOG, "include-controls": [{"with-ids": [oscal_id(added)]}]},
            ],
            "merge": {"as-is": True},
            "modify": {
                "set-parameters": [{"param-id": "ac-06.03_odp.01", "values": ["deploy pipelines"]}],
                "alters": [
                    {
                        "control-id": oscal_id(added),
                        "adds": [{"position": "ending", "props": [{"name": "method", "value": "TEST"}]}],
                    }
                ],
            },
        }
    }
    path.write_bytes(orjson.dumps(doc))
    return path


def run(runner: CliRunner, ws: Path, *args: str) -> Result:
    return runner.invoke(main, ["--workspace", str(ws), "--now", NOW, *args])


@pytest.fixture
def ws(tmp_path: Path, runner: CliRunner) -> Path:
    report = tmp_path / "checkov.json"
    checkov_report(report, 300)
    ws = tmp_path / "ws"
    r = run(runner, ws, "evidence", "ingest", str(report), "--scan-time", "2026-11-30T00:00:00Z")
    assert r.exit_code == 0, r.output
    return ws


def statuses(result: Result) -> tuple[dict[str, Any], dict[str, str]]:
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    return doc, {c["control"]: c["status"] for c in doc["controls"]}


def test_assess_export_and_design_see_exactly_the_tailored_set(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    profile = tailored(tmp_path / "tailored.json")
    _, moderate = statuses(run(runner, ws, "assess", "--scope", "fedramp-moderate", "--format", "json"))
    _, high = statuses(run(runner, ws, "assess", "--scope", "fedramp-high", "--format", "json"))
    assert set(moderate) >= EXCLUDED and ADDED not in moderate and ADDED in high
    doc, mine = statuses(run(runner, ws, "assess", "--profile", str(profile), "--format", "json"))
    # the control list: Moderate minus the two exclusions plus the enhancement, in catalogue order
    assert set(mine) == (set(moderate) - EXCLUDED) | {ADDED}
    # a control's status does not depend on the scope it is assessed in
    assert {c: s for c, s in mine.items() if c != ADDED} == {c: s for c, s in moderate.items() if c not in EXCLUDED}
    assert mine[ADDED] == high[ADDED]
    summary = doc["assessment"]
    assert summary["scopes"] == ["profile:tailored.json"]
    assert summary["profile"]["title"] == "Moderate for our functions"
    assert summary["profile"]["sha256"] == hashlib.sha256(profile.read_bytes()).hexdigest()
    assert summary["profile"]["controls"] == len(mine)
    assert doc["profile"]["parameters"][0]["param_id"] == "ac-06.03_odp.01"
    assert doc["profile"]["parameters"][0]["values"] == ["deploy pipelines"]
    assert doc["profile"]["alterations"] == [{"control": ADDED, "adds": 1, "removes": 0, "source": "tailored.json"}]
    # assess show reads back the same record
    shown = orjson.loads(run(runner, ws, "assess", "show", "--format", "json").stdout)
    assert shown["assessment"]["profile"] == summary["profile"]
    table = run(runner, ws, "assess", "show")
    assert "tailored baseline Moderate for our functions (tailored.json" in table.stdout
    markdown = run(runner, ws, "assess", "show", "--format", "markdown")
    assert "Tailored baseline: Moderate for our functions (`tailored.json`" in markdown.stdout

    # export oscal --profile: the latest assessment made with this profile, although a later one exists
    run(runner, ws, "assess", "--scope", "fedramp-moderate", "--format", "json")
    out = tmp_path / "oscal"
    args = ["export", "oscal", "--profile", str(profile), "--out", str(out), "--no-copy-evidence"]
    if SCHEMAS.is_dir():
        args += ["--schema-dir", str(SCHEMAS)]
    r = run(runner, ws, *args)
    assert r.exit_code == 0, r.output
    ap = orjson.loads((out / "assessment-plan.json").read_bytes())["assessment-plan"]
    reviewed = ap["reviewed-controls"]["control-selections"][0]["include-controls"]
    assert sorted(c["control-id"] for c in reviewed) == sorted(oscal_id(c) for c in mine)
    props = {p["name"]: p["value"] for p in ap["metadata"]["props"]}
    assert props["profile-sha256"] == summary["profile"]["sha256"]
    assert props["profile-title"] == "Moderate for our functions"
    # export poam --profile picks the same assessment
    r = run(runner, ws, "export", "poam", "--profile", str(profile), "--out", str(tmp_path / "poam.xlsx"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "poam.xlsx").is_file()

    # design check: the same control set, the rest of its output unchanged in kind
    d_mod = orjson.loads(run(runner, ws, "design", "check", str(DESIGN), "--scope", "fedramp-moderate", "--json").stdout)
    d_mine = orjson.loads(run(runner, ws, "design", "check", str(DESIGN), "--profile", str(profile), "--json").stdout)
    assert {c["id"] for c in d_mine["controls"]} == (set(moderate) - EXCLUDED) | {ADDED}
    assert {c["id"] for c in d_mod["controls"]} == set(moderate)
    assert d_mine["scope"] == "profile:tailored.json"


def test_export_refuses_an_assessment_of_another_profile(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    first = tailored(tmp_path / "tailored.json")
    r = run(runner, ws, "assess", "--profile", str(first), "--format", "json")
    assert r.exit_code == 0, r.output
    aid = orjson.loads(r.stdout)["assessment"]["id"]
    other = tailored(tmp_path / "other.json", excluded={"AT-2", "PE-3"})
    r = run(runner, ws, "export", "oscal", "--profile", str(other), "--out", str(tmp_path / "o"))
    assert r.exit_code == 4
    assert "no assessment made with profile other.json" in r.output
    r = run(runner, ws, "export", "oscal", "--profile", str(other), "--assessment", aid, "--out", str(tmp_path / "o"))
    assert r.exit_code == 4
    assert f"assessment {aid} was not made with profile other.json" in r.output
    assert not (tmp_path / "o").exists()


def test_same_profile_same_assessment_id(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    profile = tailored(tmp_path / "tailored.json")
    ids = [
        orjson.loads(run(runner, ws, "assess", "--profile", str(profile), "--format", "json").stdout)["assessment"]["id"]
        for _ in range(2)
    ]
    assert ids[0] == ids[1]
    # another profile with the same controls but another parameter value is another assessment
    doc = orjson.loads(profile.read_bytes())
    doc["profile"]["modify"]["set-parameters"][0]["values"] = ["every pipeline"]
    profile.write_bytes(orjson.dumps(doc))
    r = run(runner, ws, "assess", "--profile", str(profile), "--format", "json")
    assert orjson.loads(r.stdout)["assessment"]["id"] != ids[0]


@pytest.mark.parametrize("command", [["assess"], ["design", "check", str(DESIGN)], ["export", "poam", "--out", "x.xlsx"]])
def test_bad_profile_exits_3_with_one_line(runner: CliRunner, ws: Path, tmp_path: Path, command: list[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(
        orjson.dumps(
            {
                "profile": {
                    "uuid": "u",
                    "metadata": {"title": "t"},
                    "imports": [{"href": CATALOG, "include-controls": [{"with-ids": ["zz-1"]}]}],
                }
            }
        )
    )
    r = run(runner, ws, *command, "--profile", str(bad))
    assert r.exit_code == 3, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1
    assert f"{bad}#/profile/imports/0/include-controls/0/with-ids/0" in lines[0]
    assert "'zz-1'" in lines[0]
    assert "Traceback" not in r.output


def test_assess_needs_a_scope_or_a_profile(runner: CliRunner, ws: Path) -> None:
    r = run(runner, ws, "assess")
    assert r.exit_code == 2
    assert "--profile" in r.output


def test_query_profile_shows_the_tailoring_against_the_nearest_baseline(runner: CliRunner, tmp_path: Path) -> None:
    profile = tailored(tmp_path / "tailored.json")
    r = runner.invoke(main, ["query", "profile", str(profile), "--json"])
    assert r.exit_code == 0, r.output
    doc = orjson.loads(r.stdout)
    assert doc["nearest_baseline"] == {"baseline": "fedramp-moderate", "added": [ADDED], "removed": sorted(EXCLUDED)}
    assert ADDED in doc["controls"] and not EXCLUDED & set(doc["controls"])
    assert doc["sha256"] == hashlib.sha256(profile.read_bytes()).hexdigest()
    assert [i["source"] for i in doc["imports"]] == ["kb:fedramp-moderate", "kb:catalog"]
    assert "taken as the KB baseline" in r.stderr
    table = runner.invoke(main, ["query", "profile", str(profile)])
    assert table.exit_code == 0
    assert "against fedramp-moderate: +1 (AC-6(3)), -2 (AC-6, PE-3)" in table.stdout
