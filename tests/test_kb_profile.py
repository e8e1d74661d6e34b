"""Tailored baselines (issue 17): resolving OSCAL profiles to KB controls (compliance.kb.profile).

The official NIST SP 800-53B and FedRAMP rev5 profiles in ../shared/oscal must resolve to exactly the KB's
baselines; hand-made profiles exercise each selection rule of the OSCAL profile resolution specification
(include-all, with-ids, matching, with-child-controls, exclude wins, imports of local profiles and catalogs);
bad profiles give one line naming the file and the JSON pointer.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from compliance import kb as kbmod
from compliance.errors import InputError
from compliance.kb.model import Baseline, Control, NodeKind
from compliance.kb.profile import load_profile, official_imports
from compliance.kb.query import control_sort_key
from compliance.kb.scope import resolve

FEDRAMP = "https://raw.githubusercontent.com/GSA/fedramp-automation/master/dist/content/rev5/baselines/json/"
NIST = "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/"
CATALOG_HREF = NIST + "NIST_SP-800-53_rev5_catalog.json"

#: official file -> the KB baseline it is
OFFICIAL = {
    "fedramp/FedRAMP_rev5_LOW-baseline_profile.json": "fedramp-low",
    "fedramp/FedRAMP_rev5_MODERATE-baseline_profile.json": "fedramp-moderate",
    "fedramp/FedRAMP_rev5_HIGH-baseline_profile.json": "fedramp-high",
    "fedramp/FedRAMP_rev5_LI-SaaS-baseline_profile.json": "fedramp-li-saas",
    "nist/NIST_SP-800-53_rev5_LOW-baseline_profile.json": "nist-low",
    "nist/NIST_SP-800-53_rev5_LOW-baseline_profile-min.json": "nist-low",
    "nist/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json": "nist-moderate",
    "nist/NIST_SP-800-53_rev5_MODERATE-baseline_profile-min.json": "nist-moderate",
    "nist/NIST_SP-800-53_rev5_HIGH-baseline_profile.json": "nist-high",
    "nist/NIST_SP-800-53_rev5_HIGH-baseline_profile-min.json": "nist-high",
    "nist/NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json": "nist-privacy",
    "nist/NIST_SP-800-53_rev5_PRIVACY-baseline_profile-min.json": "nist-privacy",
}


@pytest.fixture(scope="module")
def kb() -> kbmod.KB:
    return kbmod.load()


def members(kb: kbmod.KB, baseline: str) -> list[str]:
    rec = kb.nodes[baseline].record
    assert isinstance(rec, Baseline)
    return sorted(rec.members, key=control_sort_key)


def controls(kb: kbmod.KB, *, withdrawn: bool = False) -> dict[str, Control]:
    out = {}
    for e in kb.of_kind(NodeKind.CONTROL):
        assert isinstance(e.record, Control)
        if e.record.withdrawn == withdrawn:
            out[e.id] = e.record
    return out


def write_profile(path: Path, imports: list[dict[str, Any]], **extra: Any) -> Path:
    body = {
        "uuid": "6f6c0c2e-2c3d-4a5b-9e8f-0a1b2c3d4e5f",
        "metadata": {
            "title": "A tailored baseline",
            "last-modified": "2026-12-01T00:00:00Z",
            "version": "1",
            "oscal-version": "1.1.3",
        },
        "imports": imports,
        **extra,
    }
    path.write_bytes(orjson.dumps({"profile": body}))
    return path


# --------------------------------------------------------------------------- official profiles


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_profile_resolves_to_the_kb_baseline(kb: kbmod.KB, shared: Path, name: str) -> None:
    path = shared / "oscal" / name
    if not path.is_file():
        pytest.skip(f"{name} not in ../shared/oscal")
    r = load_profile(kb, path)
    assert r.controls == members(kb, OFFICIAL[name])
    doc = orjson.loads(path.read_bytes())["profile"]
    assert r.info.title == " ".join(doc["metadata"]["title"].split())
    assert [i.source for i in r.info.imports] == ["kb:catalog"]
    # every set-parameter of the file is recorded, and one alteration per alters entry
    modify = doc.get("modify", {})
    assert sorted(p.param_id for p in r.info.parameters) == sorted(p["param-id"] for p in modify.get("set-parameters", []))
    assert len(r.info.alterations) == len(modify.get("alters", []))
    assert r.info.notes == []


def test_fedramp_high_resolves_fast_and_records_parameter_values(kb: kbmod.KB, shared: Path) -> None:
    path = shared / "oscal" / "fedramp" / "FedRAMP_rev5_HIGH-baseline_profile.json"
    if not path.is_file():
        pytest.skip("FedRAMP High profile not in ../shared/oscal")
    start = time.perf_counter()
    r = load_profile(kb, path)
    assert time.perf_counter() - start < 1.0
    doc = orjson.loads(path.read_bytes())["profile"]
    first = doc["modify"]["set-parameters"][0]
    got = next(p for p in r.info.parameters if p.param_id == first["param-id"])
    assert got.constraints == [c["description"] for c in first.get("constraints", [])]
    assert got.control is not None and got.control in r.controls


def test_official_hrefs_are_a_data_table_of_kb_baselines(kb: kbmod.KB) -> None:
    table = official_imports()
    assert set(table.values()) - {"catalog"} <= {e.id for e in kb.of_kind(NodeKind.BASELINE)}


@pytest.mark.parametrize(
    "href",
    [
        FEDRAMP + "FedRAMP_rev5_HIGH-baseline_profile.json",
        "https://github.com/GSA/fedramp-automation/raw/v2.1.0/dist/content/rev5/baselines/yaml/FedRAMP_rev5_HIGH-baseline_profile.yaml",
        "FedRAMP_rev5_HIGH-baseline_profile-min.json",
    ],
)
def test_every_published_copy_of_an_official_profile_is_the_kb_baseline(kb: kbmod.KB, tmp_path: Path, href: str) -> None:
    r = load_profile(kb, write_profile(tmp_path / "p.json", [{"href": href, "include-all": {}}]))
    assert r.controls == members(kb, "fedramp-high")
    assert r.info.imports[0].source == "kb:fedramp-high"


# --------------------------------------------------------------------------- selection rules


def test_two_exclusions_and_one_added_enhancement(kb: kbmod.KB, tmp_path: Path) -> None:
    moderate = members(kb, "fedramp-moderate")
    assert "AC-6(3)" not in moderate and {"PE-3", "AT-2"} <= set(moderate)
    path = write_profile(
        tmp_path / "tailored.json",
        [
            {
                "href": FEDRAMP + "FedRAMP_rev5_MODERATE-baseline_profile.json",
                "include-all": {},
                "exclude-controls": [{"with-ids": ["pe-3", "at-2"]}],
            },
            {"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-6.3"]}]},
        ],
    )
    r = load_profile(kb, path)
    assert set(r.controls) == (set(moderate) - {"PE-3", "AT-2"}) | {"AC-6(3)"}
    assert r.controls == sorted(r.controls, key=control_sort_key)
    scope = resolve(kb, [], profile=r)
    assert list(scope.controls) == r.controls
    assert scope.names == ["profile:tailored.json"]
    assert set(scope.controls["AC-6(3)"]) == {"profile:tailored.json"}
    # with a named scope too: the union, each control naming the scopes that brought it in
    both = resolve(kb, ["fedramp-moderate"], profile=r)
    assert set(both.controls) == set(moderate) | {"AC-6(3)"}
    assert both.controls["PE-3"] == ["fedramp-moderate"]
    assert both.controls["AC-6(3)"] == ["profile:tailored.json"]


def test_with_child_controls_matching_and_exclusion_precedence(kb: kbmod.KB, tmp_path: Path) -> None:
    live = controls(kb)
    ac2_children = {c for c, rec in live.items() if rec.parent == "AC-2"}
    assert ac2_children
    cases: list[tuple[list[dict[str, Any]], set[str]]] = [
        ([{"with-ids": ["ac-2"], "with-child-controls": "yes"}], {"AC-2"} | ac2_children),
        ([{"with-ids": ["ac-2"], "with-child-controls": "no"}], {"AC-2"}),
        ([{"with-ids": ["ac-2"]}], {"AC-2"}),
        ([{"matching": [{"pattern": "ac-2.*"}]}], ac2_children),
        ([{"matching": [{"pattern": "ac-?"}]}], {c for c in live if c.startswith("AC-") and len(c) == 4}),
    ]
    for include, want in cases:
        r = load_profile(kb, write_profile(tmp_path / "p.json", [{"href": CATALOG_HREF, "include-controls": include}]))
        assert set(r.controls) == want, include
    # exclusion wins over inclusion, however specific the inclusion
    r = load_profile(
        kb,
        write_profile(
            tmp_path / "p.json",
            [
                {
                    "href": CATALOG_HREF,
                    "include-controls": [{"with-ids": ["ac-2", "ac-2.1"], "with-child-controls": "yes"}],
                    "exclude-controls": [{"matching": [{"pattern": "ac-2.1*"}]}],
                }
            ],
        ),
    )
    assert set(r.controls) == {"AC-2"} | {c for c in ac2_children if not c.startswith("AC-2(1")}


def test_include_all_or_no_include_takes_every_live_control(kb: kbmod.KB, tmp_path: Path) -> None:
    live = controls(kb)
    r = load_profile(kb, write_profile(tmp_path / "p.json", [{"href": CATALOG_HREF, "include-all": {}}]))
    assert set(r.controls) == set(live)
    assert any("withdrawn control(s) left out" in n for n in r.info.notes)
    # only an exclusion: everything else is included (the specification's implicit include-all)
    r = load_profile(
        kb,
        write_profile(tmp_path / "p.json", [{"href": CATALOG_HREF, "exclude-controls": [{"matching": [{"pattern": "pe-*"}]}]}]),
    )
    assert set(r.controls) == {c for c in live if not c.startswith("PE-")}


def test_profile_imports_a_local_profile_and_outer_parameters_win(kb: kbmod.KB, tmp_path: Path) -> None:
    write_profile(
        tmp_path / "org-base.json",
        [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1", "ac-2", "au-2"]}]}],
        modify={
            "set-parameters": [
                {"param-id": "ac-01_odp.05", "values": ["yearly"]},
                {"param-id": "au-02_odp.01", "values": ["logins"]},
            ],
            "alters": [{"control-id": "au-2", "adds": [{"position": "ending", "props": [{"name": "x", "value": "y"}]}]}],
        },
    )
    top = write_profile(
        tmp_path / "system.yaml.json",
        [{"href": "org-base.json", "exclude-controls": [{"with-ids": ["au-2"]}]}],
        modify={"set-parameters": [{"param-id": "ac-01_odp.05", "values": ["every six months"]}]},
        merge={"custom": {"groups": []}},
    )
    r = load_profile(kb, top)
    assert r.controls == ["AC-1", "AC-2"]
    assert r.info.imports[0].source == "file:org-base.json"
    params = {p.param_id: (p.values, p.source, p.control) for p in r.info.parameters}
    # the outer profile's setting wins; the excluded AU-2's parameter and alteration do not come along
    assert params == {"ac-01_odp.05": (["every six months"], "system.yaml.json", "AC-1")}
    assert r.info.alterations == []
    assert any("merge custom ignored" in n for n in r.info.notes)
    # the record's hash covers the imported file too: changing it makes another profile
    before = r.info.sha256
    assert before != hashlib.sha256(top.read_bytes()).hexdigest()
    doc = orjson.loads((tmp_path / "org-base.json").read_bytes())
    doc["profile"]["imports"][0]["include-controls"][0]["with-ids"].append("ac-3")
    (tmp_path / "org-base.json").write_bytes(orjson.dumps(doc))
    again = load_profile(kb, top)
    assert again.controls == ["AC-1", "AC-2", "AC-3"]
    assert again.info.sha256 != before


def test_yaml_profile_and_local_catalog_copy(kb: kbmod.KB, shared: Path, tmp_path: Path) -> None:
    resolved = shared / "oscal" / "nist" / "NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json"
    if not resolved.is_file():
        pytest.skip("resolved HIGH catalog not in ../shared/oscal")
    shutil.copy(resolved, tmp_path / "my-catalog.json")  # a local name: read as a file, not mapped to the KB
    (tmp_path / "p.yaml").write_text(
        "profile:\n"
        "  uuid: 6f6c0c2e-2c3d-4a5b-9e8f-0a1b2c3d4e5f\n"
        "  metadata: {title: From a local catalog, last-modified: '2026-12-01T00:00:00Z', version: '1', oscal-version: 1.1.3}\n"
        "  imports:\n"
        "    - href: my-catalog.json\n"
        "      include-controls:\n"
        "        - matching: [{pattern: 'sc-*'}]\n",
        encoding="utf-8",
    )
    r = load_profile(kb, tmp_path / "p.yaml")
    assert r.controls == [c for c in members(kb, "nist-high") if c.startswith("SC-")]
    assert r.info.imports[0].source == "file:my-catalog.json"


def test_same_profile_same_record(kb: kbmod.KB, tmp_path: Path) -> None:
    a = load_profile(
        kb, write_profile(tmp_path / "p.json", [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1"]}]}])
    )
    b = load_profile(kb, tmp_path / "p.json")
    assert a.info == b.info
    assert a.info.sha256 == hashlib.sha256((tmp_path / "p.json").read_bytes()).hexdigest()


# --------------------------------------------------------------------------- bad profiles


def _bad(tmp_path: Path, case: str) -> tuple[Path, str, str]:
    """(profile path, expected pointer, a fragment of the message)."""
    p = tmp_path / "bad.json"
    if case == "unknown-import":
        write_profile(p, [{"href": "https://example.org/our-catalog.json", "include-all": {}}])
        return p, "/profile/imports/0/href", "cannot resolve import 'https://example.org/our-catalog.json'"
    if case == "missing-back-matter":
        write_profile(p, [{"href": "#7d0e5f1c-0000-4000-8000-000000000000", "include-all": {}}])
        return p, "/profile/imports/0/href", "no back-matter resource"
    if case == "not-json":
        p.write_text('{"profile": {"uuid": ', encoding="utf-8")
        return p, "", "not valid JSON"
    if case == "not-yaml":
        p = tmp_path / "bad.yaml"
        p.write_text("profile: [unclosed\n", encoding="utf-8")
        return p, "", "not valid JSON or YAML"
    if case == "schema-invalid":
        write_profile(p, [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1"], "with-child-controls": "maybe"}]}])
        return p, "/profile/imports/0/include-controls/0/with-child-controls", "not a valid OSCAL profile"
    if case == "schema-unknown-key":
        write_profile(p, [{"href": CATALOG_HREF, "include-controls": [{"with-id": ["ac-1"]}]}])
        return p, "/profile/imports/0/include-controls/0/with-id", "not a valid OSCAL profile"
    if case == "no-imports":
        write_profile(p, [])
        return p, "/profile/imports", "not a valid OSCAL profile"
    if case == "unknown-control":
        write_profile(p, [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1", "ac-99"]}]}])
        return p, "/profile/imports/0/include-controls/0/with-ids/1", "'ac-99': no such control"
    if case == "not-in-import":
        write_profile(
            p, [{"href": FEDRAMP + "FedRAMP_rev5_LOW-baseline_profile.json", "include-controls": [{"with-ids": ["ac-6.3"]}]}]
        )
        return p, "/profile/imports/0/include-controls/0/with-ids/0", "'ac-6.3': not a control of the fedramp-low baseline"
    if case == "kb-style-id":
        write_profile(p, [{"href": CATALOG_HREF, "exclude-controls": [{"with-ids": ["AC-2(1)"]}]}])
        return p, "/profile/imports/0/exclude-controls/0/with-ids/0", "not an OSCAL control id"
    if case == "catalog-not-profile":
        p.write_bytes(orjson.dumps({"catalog": {"uuid": "x"}}))
        return p, "", "not an OSCAL profile"
    if case == "circular":
        write_profile(p, [{"href": "bad.json", "include-all": {}}])
        return p, "/profile/imports/0/href", "circular import"
    if case == "xml":
        p = tmp_path / "bad.xml"
        p.write_text("<profile/>", encoding="utf-8")
        return p, "", "XML is not supported"
    raise AssertionError(case)


BAD = [
    "unknown-import",
    "missing-back-matter",
    "not-json",
    "not-yaml",
    "schema-invalid",
    "schema-unknown-key",
    "no-imports",
    "unknown-control",
    "not-in-import",
    "kb-style-id",
    "catalog-not-profile",
    "circular",
    "xml",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_profile_one_line_with_file_and_pointer(kb: kbmod.KB, tmp_path: Path, case: str) -> None:
    path, pointer, fragment = _bad(tmp_path, case)
    with pytest.raises(InputError) as info:
        load_profile(kb, path)
    text = str(info.value)
    assert "\n" not in text
    assert info.value.path == str(path)
    assert fragment in text
    if pointer:
        assert info.value.pointer == pointer
        assert text.startswith(f"{path}#{pointer}: ")


def test_excluding_a_control_the_import_lacks_is_a_note(kb: kbmod.KB, tmp_path: Path) -> None:
    moderate = members(kb, "fedramp-moderate")
    assert "AC-6(3)" not in moderate
    path = write_profile(
        tmp_path / "p.json",
        [{"href": FEDRAMP + "FedRAMP_rev5_MODERATE-baseline_profile.json", "exclude-controls": [{"with-ids": ["ac-6.3"]}]}],
    )
    r = load_profile(kb, path)
    assert r.controls == moderate
    assert any("exclude ac-6.3: not a control of the fedramp-moderate baseline" in n for n in r.info.notes)
    # the official profile stands for the KB baseline: said once, even when imported twice
    twice = write_profile(tmp_path / "q.json", [{"href": FEDRAMP + "FedRAMP_rev5_MODERATE-baseline_profile.json"}] * 2)
    notes = load_profile(kb, twice).info.notes
    assert len([n for n in notes if "taken as the KB baseline" in n]) == 1


def test_shipped_example_is_a_valid_profile_and_resolves(kb: kbmod.KB, shared: Path) -> None:
    from compliance.kb.yamlio import load_yaml
    from compliance.oscal import Validators
    from compliance.oscal.validate import errors

    example = Path(__file__).resolve().parents[1] / "examples" / "tailored-moderate.yaml"
    assert errors(load_yaml(example).data, Validators(shared / "oscal" / "schemas")) == []
    r = load_profile(kb, example)
    assert set(r.controls) == (set(members(kb, "fedramp-moderate")) - {"PE-3", "PE-6"}) | {"AC-6(3)"}
    assert [p.control for p in r.info.parameters] == ["AC-6(3)"]


def test_local_catalog_with_nested_groups_and_a_pattern_that_matches_nothing(kb: kbmod.KB, tmp_path: Path) -> None:
    catalog = {
        "catalog": {
            "uuid": "1b7e3c2a-0000-4000-8000-000000000001",
            "metadata": {"title": "Our catalog copy"},
            "groups": [
                {
                    "id": "ac",
                    "title": "Access Control",
                    "controls": [{"id": "ac-1", "title": "Policy"}],
                    "groups": [
                        {"id": "ac-sub", "title": "Accounts", "controls": [{"id": "ac-2", "controls": [{"id": "ac-2.1"}]}]}
                    ],
                }
            ],
        }
    }
    (tmp_path / "cat.json").write_bytes(orjson.dumps(catalog))
    include = [{"with-ids": ["ac-2"], "with-child-controls": "yes"}, {"matching": [{"pattern": "zz-*"}]}]
    r = load_profile(kb, write_profile(tmp_path / "p.json", [{"href": "cat.json", "include-controls": include}]))
    assert r.controls == ["AC-2", "AC-2(1)"]
    assert any("matching 'zz-*' selects nothing from catalog 'Our catalog copy'" in n for n in r.info.notes)
    # a catalog control the KB does not know cannot be assessed: one line naming it
    catalog["catalog"]["groups"][0]["controls"].append({"id": "xx-9"})
    (tmp_path / "cat.json").write_bytes(orjson.dumps(catalog))
    with pytest.raises(InputError, match=r"cat\.json: catalog controls not in the KB's SP 800-53 rev5 catalog: xx-9"):
        load_profile(kb, tmp_path / "p.json")


def test_a_local_file_wins_over_an_official_name(kb: kbmod.KB, tmp_path: Path) -> None:
    write_profile(
        tmp_path / "FedRAMP_rev5_HIGH-baseline_profile.json",
        [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1"]}]}],
    )
    r = load_profile(kb, write_profile(tmp_path / "p.json", [{"href": "FedRAMP_rev5_HIGH-baseline_profile.json"}]))
    assert r.controls == ["AC-1"]
    assert r.info.imports[0].source == "file:FedRAMP_rev5_HIGH-baseline_profile.json"
