"""`sckb oscal check`: reference integrity, the FedRAMP constraints as data (each check kind on small
hand-made documents), the golden files, the demo export and the check `export oscal` runs before it writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.errors import InputError
from compliance.oscal.check import (
    CONSTRAINTS_FILE,
    REFERENCE,
    Constraint,
    ConstraintSet,
    Problem,
    check_documents,
    check_files,
    constraint_problems,
    load_constraints,
    select,
)
from compliance.oscal.export import in_framework

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOLDEN = HERE / "data" / "oscal" / "golden"
EXAMPLE = ROOT / "examples" / "phi-app"
NOW = "2026-12-01"
FR = "https://fedramp.gov/ns/oscal"
U = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(10)]


def _meta(**extra: Any) -> dict[str, Any]:
    return {"title": "t", "last-modified": "2026-12-01T00:00:00Z", "version": "1", "oscal-version": "1.1.3", **extra}


def _poam(**body: Any) -> dict[str, Any]:
    return {"plan-of-action-and-milestones": {"uuid": U[0], "metadata": _meta(), **body}}


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_bytes(orjson.dumps(doc))
    return path


def _refs(problems: list[Problem], severity: str = "error") -> list[Problem]:
    return [p for p in problems if p.check == REFERENCE and p.severity == severity]


# ---------------------------------------------------------------- reference integrity


def test_dangling_uuid_reference_is_an_error_with_its_pointer() -> None:
    doc = _poam(
        observations=[{"uuid": U[1], "methods": ["TEST"], "collected": "2026-12-01T00:00:00Z", "description": "d"}],
        risks=[{"uuid": U[2], "related-observations": [{"observation-uuid": U[1]}]}],
        **{"poam-items": [{"uuid": U[3], "related-risks": [{"risk-uuid": U[2]}, {"risk-uuid": U[9]}]}]},
    )
    errs = _refs(check_documents({"poam.json": doc}))
    assert [(p.file, p.pointer) for p in errs] == [
        ("poam.json", "/plan-of-action-and-milestones/poam-items/0/related-risks/1/risk-uuid")
    ]
    assert U[9] in errs[0].line() and errs[0].line().startswith("poam.json#/plan-of-action-and-milestones/")
    # the same document with the reference fixed is clean
    doc["plan-of-action-and-milestones"]["poam-items"][0]["related-risks"].pop()
    assert check_documents({"poam.json": doc}) == []


def test_duplicate_uuid_role_id_and_party_uuids() -> None:
    doc = _poam(
        metadata=_meta(
            roles=[{"id": "assessor", "title": "Assessor"}],
            parties=[{"uuid": U[1], "type": "organization", "name": "A"}],
            **{"responsible-parties": [{"role-id": "assessor", "party-uuids": [U[1]]}]},
        ),
    )
    assert check_documents({"p.json": doc}) == []
    meta = doc["plan-of-action-and-milestones"]["metadata"]
    meta["responsible-parties"].append({"role-id": "owner", "party-uuids": [U[1], U[5]]})
    meta["parties"].append({"uuid": U[1], "type": "person", "name": "B"})
    found = {"/".join(p.pointer.split("/")[-2:]) for p in _refs(check_documents({"p.json": doc}))}
    assert found == {"1/role-id", "party-uuids/1", "1/uuid"}


def test_fragment_hrefs_resolve_to_back_matter_and_to_files_beside(tmp_path: Path) -> None:
    ar = {
        "assessment-results": {
            "uuid": U[0],
            "metadata": _meta(),
            "import-ap": {"href": "plan.json"},
            "results": [{"uuid": U[1], "risks": [{"uuid": U[2]}], "findings": [{"uuid": U[3], "links": [{"href": "#" + U[4]}]}]}],
            "back-matter": {"resources": [{"uuid": U[4]}]},
        }
    }
    plan = {"assessment-plan": {"uuid": U[5], "metadata": _meta()}}
    poam = _poam(**{"poam-items": [{"uuid": U[6], "links": [{"href": f"results.json#{U[2]}"}]}]})
    files = [_write(tmp_path / "results.json", ar), _write(tmp_path / "plan.json", plan), _write(tmp_path / "poam.json", poam)]
    assert check_files(files) == []
    # a fragment naming nothing, here and in the file beside
    ar["assessment-results"]["results"][0]["findings"][0]["links"][0]["href"] = "#" + U[7]
    poam["plan-of-action-and-milestones"]["poam-items"][0]["links"][0]["href"] = f"results.json#{U[8]}"
    _write(tmp_path / "results.json", ar)
    _write(tmp_path / "poam.json", poam)
    errs = _refs(check_files(files))
    assert sorted(Path(p.file).name for p in errs) == ["poam.json", "results.json"]
    assert all(p.pointer.endswith("/links/0/href") for p in errs)


def test_references_into_an_import_resolve_and_a_missing_import_only_warns(tmp_path: Path) -> None:
    plan = {
        "assessment-plan": {
            "uuid": U[0],
            "metadata": _meta(),
            "local-definitions": {"inventory-items": [{"uuid": U[1], "description": "an asset"}]},
        }
    }
    obs = {"uuid": U[3], "subjects": [{"subject-uuid": U[1], "type": "inventory-item"}]}
    ar = {
        "assessment-results": {
            "uuid": U[2],
            "metadata": _meta(),
            "import-ap": {"href": "plan.json"},
            "results": [{"uuid": U[4], "observations": [obs]}],
        }
    }
    results = _write(tmp_path / "ar.json", ar)
    _write(tmp_path / "plan.json", plan)
    assert check_files([results]) == []
    (tmp_path / "plan.json").unlink()
    found = check_files([results])
    assert found and all(p.severity == "warning" for p in found)
    assert any(p.pointer == "/assessment-results/import-ap/href" for p in found)


def test_an_import_of_an_empty_resource_warns_and_references_stay_errors() -> None:
    res = {"uuid": U[5], "description": "no link"}
    plan = {
        "assessment-plan": {
            "uuid": U[0],
            "metadata": _meta(),
            "import-ssp": {"href": "#" + U[5]},
            "assessment-subjects": [{"type": "component", "include-subjects": [{"subject-uuid": U[1], "type": "component"}]}],
            "back-matter": {"resources": [res]},
        }
    }
    found = {(p.pointer.split("/", 2)[-1], p.severity) for p in check_documents({"ap.json": plan})}
    assert found == {
        ("import-ssp/href", "warning"),
        ("assessment-subjects/0/include-subjects/0/subject-uuid", "error"),
    }
    # an SSP at an address sckb does not fetch: what it defines is unknown, so the reference is only a warning
    res["rlinks"] = [{"href": "https://example.org/ssp.json"}]
    assert [p.severity for p in check_documents({"ap.json": plan})] == ["warning"]


def test_a_reference_found_only_in_another_document_of_the_package_is_a_warning() -> None:
    plan = {"assessment-plan": {"uuid": U[0], "metadata": _meta(), "local-definitions": {"inventory-items": [{"uuid": U[1]}]}}}
    poam = _poam(observations=[{"uuid": U[2], "subjects": [{"subject-uuid": U[1], "type": "inventory-item"}]}])
    both = check_documents({"ap.json": plan, "poam.json": poam})
    assert [p.severity for p in both] == ["warning"] and "does not import" in both[0].message
    alone = check_documents({"poam.json": poam})
    assert [p.severity for p in alone] == ["error"]


def test_every_golden_file_passes_reference_integrity() -> None:
    files = sorted(GOLDEN.glob("*.json"))
    assert len(files) == 4
    assert _refs(check_files(files)) == []


# ---------------------------------------------------------------- the path language and each check kind


def test_select_follows_keys_arrays_filters_and_descendants() -> None:
    node = {
        "a": [{"props": [{"name": "x", "ns": "https://n/s", "value": "1"}, {"name": "y", "value": "2"}]}, {"b": {"props": []}}]
    }
    assert select(node, "a/props[name=x][ns=https://n/s]/value") == [("/a/0/props/0/value", "1")]
    assert [p for p, _ in select(node, "**/props")] == ["/a/0/props/0", "/a/0/props/1"]
    assert select(node, "a/props[name=z]") == []


def _constraint(kind: str, **f: Any) -> ConstraintSet:
    base: dict[str, Any] = {
        "id": f"test-{kind}",
        "kind": kind,
        "documents": ("plan-of-action-and-milestones",),
        "level": "error",
        "contexts": (".",),
        "target": ".",
        "message": "m",
        "source": "test",
    }
    return ConstraintSet((Constraint(**{**base, **f}),), {})


def _poam_with_props(*props: dict[str, str]) -> dict[str, Any]:
    return _poam(metadata=_meta(props=[dict(p) for p in props]))


VERSION = {"name": "fedramp-version", "ns": FR, "value": "fedramp-3.0.0rc1-oscal-1.1.2"}

KINDS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "allowed-values",
        {"contexts": ("metadata/props[name=marking]",), "target": "value", "values": ("cui",)},
        _poam_with_props({"name": "marking", "value": "cui"}),
        _poam_with_props({"name": "marking", "value": "secret"}),
    ),
    (
        "expect",
        {"contexts": ("metadata",), "test": "props[name=marking]/value", "equals": "cui"},
        _poam_with_props({"name": "marking", "value": "cui"}),
        _poam_with_props({"name": "marking", "value": "other"}),
    ),
    (
        "has-cardinality",
        {"contexts": ("metadata",), "target": "props[name=marking]", "min": 1, "max": 1},
        _poam_with_props({"name": "marking", "value": "cui"}),
        _poam_with_props({"name": "marking", "value": "a"}, {"name": "marking", "value": "b"}),
    ),
    (
        "matches",
        {"contexts": ("metadata/props[name=fedramp-version]",), "target": "value", "pattern": r"fedramp-\d+\.\d+\.\d+.*"},
        _poam_with_props(VERSION),
        _poam_with_props({**VERSION, "value": "3.0"}),
    ),
    (
        "index-has-key",
        {
            "contexts": ("metadata/responsible-parties",),
            "index": "metadata/parties[type=person]",
            "index_key": "uuid",
            "key": "party-uuids",
        },
        _poam(
            metadata=_meta(
                parties=[{"uuid": U[1], "type": "person", "name": "P"}],
                **{"responsible-parties": [{"role-id": "x", "party-uuids": [U[1]]}]},
            )
        ),
        _poam(
            metadata=_meta(
                parties=[{"uuid": U[1], "type": "organization", "name": "O"}],
                **{"responsible-parties": [{"role-id": "x", "party-uuids": [U[1]]}]},
            )
        ),
    ),
]


@pytest.mark.parametrize(("kind", "fields", "good", "bad"), KINDS, ids=[k[0] for k in KINDS])
def test_each_check_kind_fails_and_passes(kind: str, fields: dict[str, Any], good: dict[str, Any], bad: dict[str, Any]) -> None:
    cs = _constraint(kind, **fields)
    assert constraint_problems("p.json", good, cs) == []
    found = constraint_problems("p.json", bad, cs)
    assert len(found) == 1 and found[0].check == f"test-{kind}" and found[0].severity == "error"
    assert found[0].message.startswith(f"[test-{kind}]") and found[0].pointer.startswith(
        "/plan-of-action-and-milestones/metadata"
    )
    # a constraint for other document kinds is not applied
    other = ConstraintSet(tuple(dataclasses.replace(c, documents=("assessment-plan",)) for c in cs.constraints), {})
    assert constraint_problems("p.json", bad, other) == []


def test_shipped_fedramp_constraints_load_and_fire_on_an_empty_poam() -> None:
    cs = load_constraints()
    assert cs.framework == "fedramp" and cs.source["repository"] == "GSA/fedramp-automation" and len(cs.source["commit"]) == 40
    assert {c.kind for c in cs.constraints} >= {"allowed-values", "expect", "has-cardinality"}
    found = constraint_problems("p.json", _poam(), cs)
    assert {p.check for p in found} == {"fedramp-version", "has-marking"}
    fixed = _poam_with_props(VERSION, {"name": "marking", "value": "cui"})
    assert constraint_problems("p.json", fixed, cs) == []
    fixed["plan-of-action-and-milestones"]["metadata"]["props"][0]["value"] = "fedramp-0"
    assert [p.check for p in constraint_problems("p.json", fixed, cs)] == ["fedramp-version"]


def test_user_constraints_reach_users_anywhere_in_a_plan() -> None:
    cs = load_constraints()
    user = {"uuid": U[1], "props": [{"name": "type", "value": "internal"}]}
    plan = {"assessment-plan": {"uuid": U[0], "metadata": _meta(), "local-definitions": {"users": [user]}}}
    checks = {p.check for p in constraint_problems("ap.json", plan, cs)}
    assert {"user-has-privilege-level", "user-has-sensitivity-level", "user-has-role-id"} <= checks
    assert "user-has-user-type" not in checks


def test_bad_constraint_data_is_one_line_naming_the_file(tmp_path: Path) -> None:
    raw = yaml.safe_load(CONSTRAINTS_FILE.read_text(encoding="utf-8"))
    raw["constraints"][0]["kind"] = "sometimes"
    bad = tmp_path / "c.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputError, match=r"c\.yaml: constraints\[0\].*kind 'sometimes'"):
        load_constraints(bad)
    raw["constraints"][0] = {**raw["constraints"][1], "kind": "allowed-values", "values": []}
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputError, match="needs 'values'"):
        load_constraints(bad)


def test_in_framework_knows_fedramp_baselines() -> None:
    kb = kbmod.load([])
    assert in_framework(kb, ["hipaa", "fedramp-moderate"], "fedramp")
    assert not in_framework(kb, ["hipaa", "nist-moderate"], "fedramp")


# ---------------------------------------------------------------- the command


def test_cli_exit_codes_and_json(runner: CliRunner, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.json", _poam_with_props(VERSION, {"name": "marking", "value": "cui"}))
    r = runner.invoke(main, ["oscal", "check", str(good)])
    assert r.exit_code == 0, r.output
    bad = _write(tmp_path / "bad.json", _poam())
    r = runner.invoke(main, ["oscal", "check", str(good), str(bad), "--json"])
    assert r.exit_code == 1
    out = orjson.loads(r.stdout)
    assert out["errors"] == 2 and {p["check"] for p in out["problems"]} == {"fedramp-version", "has-marking"}
    assert runner.invoke(main, ["oscal", "check", "--no-constraints", str(bad)]).exit_code == 0
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    r = runner.invoke(main, ["oscal", "check", str(good), str(tmp_path / "x.json")])
    assert r.exit_code == 3 and "x.json" in r.stderr and "Traceback" not in r.output
    notoscal = _write(tmp_path / "n.json", {"hello": {}})
    r = runner.invoke(main, ["oscal", "check", str(notoscal)])
    assert r.exit_code == 3 and "not an OSCAL document" in r.stderr


# ---------------------------------------------------------------- the demo export


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, assessed against fedramp-moderate (as tests/test_oscal_ssp.py builds it)."""
    base = tmp_path_factory.mktemp("demo")
    ws = base / "ws"
    steps = [
        ["evidence", "ingest", str(EXAMPLE / "evidence"), "--scan-time", "2026-11-30T09:30:00Z"],
        ["design", "check", str(EXAMPLE / "template.yaml"), "--evidence"],
        ["assess", "determine", "--file", str(EXAMPLE / "determinations.yaml")],
        ["system", "add", str(EXAMPLE / "system.yaml")],
        ["assess", "--system", "phi-app", "--scope", "fedramp-moderate", "--format", "json"],
    ]
    for step in steps:
        res = CliRunner().invoke(main, ["--workspace", str(ws), "--now", NOW, *step])
        assert res.exit_code == 0, (step, res.output)
    return base


def _export(base: Path, out: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        main, ["--workspace", str(base / "ws"), "--now", NOW, "export", "oscal", "--system", "phi-app", "--out", str(out), *extra]
    )


def test_demo_export_has_no_reference_error_and_strict_enforces_fedramp(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "oscal"
    r = _export(demo, out)
    assert r.exit_code == 0, r.output
    files = sorted(out.glob("*.json"))
    problems = check_files(files, constraints=load_constraints())
    assert _refs(problems) == []
    fedramp_errors = [p for p in problems if p.check != REFERENCE and p.severity == "error"]
    print(f"demo: {len(fedramp_errors)} FedRAMP constraint error(s): {sorted({p.check for p in fedramp_errors})}")
    # without --strict every FedRAMP problem was reported as a warning and the files were written
    assert all(f": warning: [{p.check}]" in r.stderr for p in fedramp_errors[:3])
    strict = _export(demo, tmp_path / "strict", "--strict")
    if fedramp_errors:
        assert strict.exit_code == 1 and "nothing written" in strict.stderr
        assert not (tmp_path / "strict").exists()
    else:
        assert strict.exit_code == 0, strict.output
    # the command agrees with the library
    cli = CliRunner().invoke(main, ["oscal", "check", "--json", *map(str, files)])
    assert orjson.loads(cli.stdout)["errors"] == len([p for p in problems if p.severity == "error"])
