"""Issue 3: comparing the KB with the official OSCAL catalog and baseline profiles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.errors import EXIT_CHECK_FAILED, EXIT_INPUT, InputError
from compliance.kb.load import KB
from compliance.kb.official import compare, compare_with_official, ours, version_tuple

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalogue_kb() -> KB:
    """Only this stage's catalogues: what the official comparison looks at."""
    return kbmod.load(data_dirs=[ROOT / "controls"])


@pytest.fixture
def oscal(shared: Path) -> Path:
    d = shared / "oscal"
    if not (d / "nist" / "NIST_SP-800-53_rev5_catalog.json").is_file():
        pytest.skip("official OSCAL content not in ../shared/oscal")
    return d


def test_id_mapping() -> None:
    assert ours("ac-2") == "AC-2"
    assert ours("ac-2.1") == "AC-2(1)"
    assert ours("#si-7.12") == "SI-7(12)"
    assert ours("#ac-2_smt.k") == "AC-2"
    assert ours("#sr") == "SR"
    assert version_tuple("5.1.1+u4") == (5, 1, 1) and version_tuple("5.2.0") > version_tuple("5.1.1+u4")


def test_shipped_kb_agrees_with_official_content(runner: CliRunner, oscal: Path) -> None:
    res = runner.invoke(main, ["kb", "validate", "--against", str(oscal), "--json"])
    data = json.loads(res.output)
    assert data["official_differences"] == []
    errors = [p for p in data["problems"] if p["severity"] == "error"]
    assert res.exit_code == (EXIT_CHECK_FAILED if errors else 0)


def test_every_baseline_and_the_catalog_recognised(catalogue_kb: KB, oscal: Path) -> None:
    result = compare(catalogue_kb, oscal)
    assert result.differences == []
    assert result.notes == []
    by_baseline: dict[str | None, set[str]] = {}
    for a in result.artifacts:
        by_baseline.setdefault(a.baseline, set()).add(a.kind)
    assert set(by_baseline) == {
        None,
        *(f"nist-{x}" for x in ("low", "moderate", "high", "privacy")),
        *(f"fedramp-{x}" for x in ("low", "moderate", "high", "li-saas")),
    }
    assert by_baseline[None] == {"catalog"}  # the 10 MB catalog, no unmatched profiles
    assert by_baseline["nist-high"] == {"profile", "resolved-baseline"}
    catalog = next(a for a in result.artifacts if a.kind == "catalog")
    assert catalog.version == "5.2.0" and catalog.controls == 1196
    assert not any("schemas" in a.path for a in result.artifacts)


def _copy(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(src, dst_dir / f"renamed-{src.stem[-7:]}.json"))  # names must not matter


def test_planted_membership_difference_reported(runner: CliRunner, tmp_path: Path, oscal: Path) -> None:
    path = _copy(oscal / "fedramp" / "FedRAMP_rev5_LI-SaaS-baseline_profile.json", tmp_path / "p")
    doc = orjson.loads(path.read_bytes())
    ids = doc["profile"]["imports"][0]["include-controls"][0]["with-ids"]
    ids.remove("sc-13")
    ids.append("ac-2.1")
    path.write_bytes(orjson.dumps(doc))
    res = runner.invoke(main, ["kb", "validate", "--against", str(tmp_path / "p")])
    assert res.exit_code == EXIT_CHECK_FAILED
    lines = [ln for ln in res.output.splitlines() if ln.startswith("official: ")]
    assert any("fedramp-li-saas: SC-13 is in the KB baseline but not in the official one" in ln for ln in lines), lines
    assert any("fedramp-li-saas: AC-2(1) is in the official baseline but not in the KB" in ln for ln in lines), lines
    assert len(lines) == 2, lines
    assert "2 differences from official content" in res.output


def test_planted_tailoring_difference_reported(catalogue_kb: KB, tmp_path: Path, oscal: Path) -> None:
    path = _copy(oscal / "fedramp" / "FedRAMP_rev5_LI-SaaS-baseline_profile.json", tmp_path)
    doc = orjson.loads(path.read_bytes())
    alter = next(a for a in doc["profile"]["modify"]["alters"] if a["control-id"] == "ac-1")
    alter["adds"][0]["props"][0]["value"] = "ASSESS"
    path.write_bytes(orjson.dumps(doc))
    diffs = compare_with_official(catalogue_kb, tmp_path)
    assert diffs == [f"{path.name}: fedramp-li-saas: AC-1 tailoring method official ['ASSESS'] vs KB ['ATTEST']"]


def test_planted_catalog_differences_reported(catalogue_kb: KB, tmp_path: Path, oscal: Path) -> None:
    path = _copy(oscal / "nist" / "NIST_SP-800-53_rev5_catalog.json", tmp_path)
    doc = orjson.loads(path.read_bytes())
    groups = {g["id"]: g for g in doc["catalog"]["groups"]}
    ac = {c["id"]: c for c in groups["ac"]["controls"]}
    ac["ac-6"]["title"] = "Most Privilege"  # title of a base control (and so of its enhancements)
    groups["ac"]["controls"].remove(ac["ac-25"])  # a control the KB has
    ac2 = {c["id"]: c for c in ac["ac-2"]["controls"]}
    ac2["ac-2.1"]["props"].append({"name": "status", "value": "withdrawn"})
    path.write_bytes(orjson.dumps(doc))
    result = compare(catalogue_kb, tmp_path)
    d = "\n".join(result.differences)
    assert "AC-25 is in the KB but not in the official catalog (version 5.2.0)" in d
    assert "AC-2(1) withdrawn: official true vs KB false" in d
    assert "AC-6 title: official 'Most Privilege' vs KB 'Least Privilege'" in d
    assert "AC-6(1) title: official 'Most Privilege | Authorize Access to Security Functions'" in d
    assert len(result.differences) == 3 + len([c for c in ac["ac-6"]["controls"]])
    # eight baselines are not in this folder: said as notes, not differences
    assert sum("no official profile titled" in n for n in result.notes) == 8


def test_controls_newer_than_the_catalog_are_notes(catalogue_kb: KB, tmp_path: Path, oscal: Path) -> None:
    path = _copy(oscal / "nist" / "NIST_SP-800-53_rev5_catalog.json", tmp_path)
    doc = orjson.loads(path.read_bytes())
    doc["catalog"]["metadata"]["version"] = "5.1.1"
    sa = next(g for g in doc["catalog"]["groups"] if g["id"] == "sa")
    sa["controls"] = [c for c in sa["controls"] if c["id"] not in ("sa-24", "sa-22")]
    path.write_bytes(orjson.dumps(doc))
    result = compare(catalogue_kb, tmp_path)
    # SA-24 came with 5.2.0: a note; SA-22 (and its enhancement) is old: a real difference
    assert result.differences == [
        f"{path.name}: {cid} is in the KB but not in the official catalog (version 5.1.1)" for cid in ("SA-22", "SA-22(1)")
    ]
    notes = "\n".join(result.notes)
    assert "SA-24 is not in this catalog (version 5.1.1); known newer than the catalog (added in release 5.2.0)" in notes
    assert "SA-15(13) is marked added in 5.2.0 but is already in catalog version 5.1.1" in notes


def test_unknown_profile_is_a_note(catalogue_kb: KB, tmp_path: Path, oscal: Path) -> None:
    path = _copy(oscal / "nist" / "NIST_SP-800-53_rev5_LOW-baseline_profile-min.json", tmp_path)
    doc = orjson.loads(path.read_bytes())
    doc["profile"]["metadata"]["title"] = "Our Own Tailored Baseline"
    path.write_bytes(orjson.dumps(doc))
    result = compare(catalogue_kb, tmp_path)
    assert result.differences == []
    assert any("matches no KB baseline" in n for n in result.notes)


def test_other_catalog_is_not_compared(catalogue_kb: KB, tmp_path: Path) -> None:
    other = {
        "catalog": {
            "uuid": "x",
            "metadata": {"title": "Our Controls", "version": "1"},
            "groups": [
                {
                    "id": "zz",
                    "title": "Zed",
                    "controls": [
                        {"id": "zz-1", "title": "One"},
                        {"id": "ac-1", "title": "Policy"},
                        {"id": "zz-2", "title": "Two"},
                    ],
                }
            ],
        }
    }
    (tmp_path / "ours.json").write_bytes(orjson.dumps(other))
    result = compare(catalogue_kb, tmp_path)
    assert result.differences == []
    assert [a.kind for a in result.artifacts] == ["other-catalog"]
    assert any("is not SP 800-53 rev5" in n for n in result.notes)


def test_profile_of_a_newer_release_still_matches(catalogue_kb: KB, tmp_path: Path, oscal: Path) -> None:
    path = _copy(oscal / "nist" / "NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json", tmp_path)
    doc = orjson.loads(path.read_bytes())
    doc["profile"]["metadata"]["title"] = doc["profile"]["metadata"]["title"].replace("5.1.1", "5.2.0")
    path.write_bytes(orjson.dumps(doc))
    result = compare(catalogue_kb, tmp_path)
    assert [a.baseline for a in result.artifacts] == ["nist-privacy"] and result.differences == []


def test_folder_without_oscal_content(runner: CliRunner, tmp_path: Path, catalogue_kb: KB) -> None:
    (tmp_path / "other.json").write_text('{"$schema": "x"}')
    with pytest.raises(InputError, match="no OSCAL catalog or profile found"):
        compare(catalogue_kb, tmp_path)
    res = runner.invoke(main, ["kb", "validate", "--against", str(tmp_path)])
    assert res.exit_code == EXIT_INPUT
    assert "no OSCAL catalog or profile found" in res.output and "Traceback" not in res.output


def test_broken_oscal_file_named(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "cat.json").write_text('{"catalog": {"metadata": ')
    res = runner.invoke(main, ["kb", "compare", str(tmp_path)])
    assert res.exit_code == EXIT_INPUT
    assert "cat.json" in res.output and "not valid JSON" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_compare_command(runner: CliRunner, oscal: Path, tmp_path: Path) -> None:
    res = runner.invoke(main, ["kb", "compare", str(oscal), "--json"])
    data = json.loads(res.output)
    assert res.exit_code == 0 and data["differences"] == []
    assert len(data["artifacts"]) == 14
    res = runner.invoke(main, ["kb", "compare", str(oscal)])
    assert res.exit_code == 0
    assert res.output.strip().splitlines()[-1] == "0 differences, 0 notes"
    assert "fedramp-li-saas" in res.output
