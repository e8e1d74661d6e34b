"""Systems (issue 21): the system file (model, loader errors with file and line), boundary membership, the
store's systems table, the ``sckb system`` commands, ``--system`` on assess and the renderers, and an AWS
system over the real corpus (no Azure or GCP finding counts)."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.errors import InputError, NotFoundError
from compliance.evidence.store import Store, SystemRow
from compliance.evidence.system import Boundary, System, load_system, subject_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "phi-app"
CORPUS = ROOT.parent / "shared" / "corpus"
NOW = "2026-12-01"


def sckb(runner: CliRunner, ws: Path, *args: str) -> Any:
    return runner.invoke(main, ["--workspace", str(ws), "--now", NOW, *args])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


AWS_SYSTEM = """\
name: orders
description: Orders API
boundary:
  providers: [aws]
  accounts: ["111122223333"]
  regions: [us-east-1]
  paths: [infra/template.yaml, "orders/**"]
  resources: ["arn:aws:lambda:*:function:orders-*", "AWS::*.Orders*"]
"""


# ---------------------------------------------------------------------- the file


def test_load_a_full_system_file(tmp_path: Path) -> None:
    s = load_system(write(tmp_path / "s.yaml", AWS_SYSTEM + "  repositories: [github.com/x/orders]\n  tags: [app=orders]\n"))
    assert s.name == "orders"
    assert s.boundary.providers == ("aws",)
    assert s.boundary.accounts == ("111122223333",)
    assert s.boundary.tags == ("app=orders",)
    assert System.from_json(s.to_json()) == s


def test_numeric_accounts_are_read_as_their_digits(tmp_path: Path) -> None:
    s = load_system(write(tmp_path / "s.yaml", "name: a\nboundary:\n  accounts: [111122223333, '012345678910']\n"))
    assert s.boundary.accounts == ("111122223333", "012345678910")
    # unquoted, a leading zero makes YAML read a number that has lost it: refused, with a hint
    with pytest.raises(InputError, match="quote"):
        load_system(write(tmp_path / "z.yaml", "name: a\nboundary:\n  accounts: [012345678910]\n"))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: a\nboundary:\n  providers: [aws]\n  acounts: [1]\n", 4, "unknown key 'acounts'"),
        ("name: a\nowner: me\nboundary:\n  providers: [aws]\n", 2, "unknown key 'owner'"),
        ("name: a\nboundary:\n  providers:\n    - aws\n    - oracle\n", 5, "providers.1"),
        ("name: a b\nboundary:\n  providers: [aws]\n", 1, "name"),
        ("description: x\nboundary:\n  providers: [aws]\n", 1, "name: missing"),
        ("name: a\ndescription: x\n", 1, "boundary: missing"),
        ("name: a\nboundary: {}\n", 2, "at least one of"),
        ("name: a\nboundary:\n  providers: [aws]\n  tags: [env]\n", 4, "not key=value"),
        ("name: a\nboundary:\n  paths: [src, '']\n", 3, "must not be empty"),
        ("name: a\nboundary:\n  providers: [aws\n", 4, "invalid YAML"),
        ("- a\n- b\n", 1, "a system file is a mapping"),
    ],
)
def test_bad_system_file_names_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(InputError) as info:
        load_system(path)
    assert info.value.path == str(path)
    assert info.value.line == line
    assert words in str(info.value)


def test_cli_bad_file_is_one_line_exit_3(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "name: a\nboundary:\n  providers: [aws]\n  acounts: [1]\n")
    r = sckb(runner, tmp_path / "ws", "system", "add", str(path))
    assert r.exit_code == 3
    assert r.output.strip().splitlines() == [f"sckb: error: {path}:4: boundary.acounts: unknown key 'acounts'"]
    assert "Traceback" not in r.output


# ---------------------------------------------------------------------- membership


@dataclass(frozen=True)
class F:
    provider: str | None = None
    account: str | None = None
    region: str | None = None
    resource: str | None = None
    function: str | None = None
    file: str | None = None
    method: str = "TEST"


def boundary(**kw: Any) -> Boundary:
    return Boundary(**{k: tuple(v) for k, v in kw.items()})


ORDERS = boundary(
    providers=["aws"],
    accounts=["111122223333"],
    regions=["us-east-1"],
    paths=["infra/template.yaml", "orders/**"],
    resources=["arn:aws:lambda:*:function:orders-*", "AWS::*.Orders*"],
)


@pytest.mark.parametrize(
    ("finding", "inside", "why"),
    [
        # positive matches
        (F("aws", "111122223333", "us-east-1"), True, "account 111122223333"),
        (F(resource="arn:aws:lambda:us-east-1:111122223333:function:billing"), True, "account"),  # account out of the ARN
        (F("aws", file="infra/template.yaml", resource="AWS::Lambda::Function.Billing"), True, "file"),
        (F(file="orders/api/handler.py"), True, "file"),
        (F(file="./orders/a.py"), True, "file"),
        (F(file="/infra/template.yaml"), True, "file"),  # checkov's leading slash for the scan root
        (F(file="infra\\template.yaml"), True, "file"),
        (F("aws", resource="AWS::Lambda::Function.OrdersApi", file="other/template.yaml"), True, "resource"),
        (F(function="arn:aws:lambda:us-east-1:111122223333:function:orders-api"), True, "account"),
        (F("aws", "111122223333", "global"), True, "account"),  # a global resource is in every region
        (F(method="EXAMINE"), True, "attestation"),
        (F(method="INTERVIEW"), True, "attestation"),
        # contradictions win over a positive match
        (F("azure", file="orders/x.py"), False, "provider azure"),
        (F("gcp", resource="AWS::X.OrdersTable"), False, "provider gcp"),
        (F("aws", "999999999999", "us-east-1", file="orders/x.py"), False, "account 999999999999"),
        (F(resource="arn:aws:lambda:us-east-1:999999999999:function:orders-api"), False, "account 999999999999"),
        (F(resource="arn:aws:lambda:eu-west-1:111122223333:function:orders-api"), False, "region eu-west-1"),
        (F("aws", "111122223333", "eu-west-3"), False, "region eu-west-3"),
        (F(resource="/subscriptions/0000-aaaa/resourceGroups/rg/providers/Microsoft.Web/sites/orders"), False, "provider azure"),
        (F(resource="//cloudfunctions.googleapis.com/projects/shop/locations/x/functions/orders-api"), False, "provider gcp"),
        # nothing positive
        (F("aws", file="other/template.yaml", resource="AWS::Lambda::Function.Billing"), False, "nothing it names"),
        (F(file="ordersx/a.py"), False, "nothing it names"),
        (F(resource="pypi:django@3.2.9"), False, "nothing it names"),
        (F(), False, "names no subject"),
        (F(provider="dockerfile", file="Dockerfile"), False, "nothing it names"),
    ],
)
def test_membership(finding: F, inside: bool, why: str) -> None:
    got, reason = ORDERS.matcher().verdict(finding)
    assert (got, why in reason) == (inside, True), reason


def test_path_globs_keep_single_stars_inside_a_segment() -> None:
    m = boundary(paths=["infra/*.yaml", "**/lambda/*.py", "plain"]).matcher()
    assert m.inside(F(file="infra/a.yaml"))
    assert not m.inside(F(file="infra/sub/a.yaml"))
    assert m.inside(F(file="lambda/x.py")) and m.inside(F(file="a/b/lambda/x.py"))
    assert m.inside(F(file="plain")) and m.inside(F(file="plain/deep/file.tf"))
    assert not m.inside(F(file="plainly.tf"))


def test_azure_and_gcp_accounts_are_read_from_their_ids() -> None:
    az = subject_of(F(resource="/subscriptions/AbCd-1234/resourceGroups/rg/providers/Microsoft.Web/sites/fn"))
    assert (az.providers, az.accounts) == ({"azure"}, {"abcd-1234"})
    gcp = subject_of(F(resource="projects/shop-prod/locations/us-central1/functions/orders"))
    assert (gcp.providers, gcp.accounts) == ({"gcp"}, {"shop-prod"})
    s3 = subject_of(F(resource="arn:aws:s3:::bucket-name"))  # S3 ARNs name no account or region
    assert (s3.providers, s3.accounts, s3.regions) == ({"aws"}, frozenset(), frozenset())
    managed = subject_of(F(resource="arn:aws:iam::aws:policy/AdministratorAccess"))
    assert managed.accounts == frozenset()
    m = boundary(providers=["azure"], accounts=["abcd-1234"]).matcher()
    assert m.inside(F(resource="/subscriptions/abcd-1234/resourceGroups/rg/providers/Microsoft.Web/sites/fn"))
    assert not m.inside(F(resource="/subscriptions/other/resourceGroups/rg/providers/Microsoft.Web/sites/fn"))
    g = boundary(accounts=["shop-prod"]).matcher()
    assert g.inside(F("gcp", resource="//cloudfunctions.googleapis.com/projects/shop-prod/locations/x/functions/f"))
    assert not g.inside(F("gcp", "shop-dev"))


def test_a_provider_only_boundary_takes_the_provider_as_the_match() -> None:
    m = boundary(providers=["aws"]).matcher()
    assert m.inside(F("aws", file="anything.tf"))
    assert not m.inside(F("azure", file="anything.tf"))
    assert not m.inside(F(file="anything.tf"))  # names no provider: nothing positive
    r = boundary(regions=["eu-west-1"]).matcher()
    assert r.inside(F("aws", "1", "eu-west-1")) and not r.inside(F("aws", "1", "us-east-1"))


# ---------------------------------------------------------------------- the store


def row(name: str = "orders", data: bytes = b"{}") -> SystemRow:
    return SystemRow(name, data, "system.yaml", "2026-12-01T00:00:00Z")


def test_store_add_replace_list_get_remove(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws") as store:
        assert store.systems() == []
        assert store.put_system(row()) is False
        with pytest.raises(InputError, match="--replace"):
            store.put_system(row(data=b'{"x": 1}'))
        assert store.system("orders").data == b"{}"
        assert store.put_system(row(data=b'{"x": 1}'), replace=True) is True
        store.put_system(row("billing"))
        assert [r.name for r in store.systems()] == ["billing", "orders"]
        assert store.system("orders").data == b'{"x": 1}'
        store.remove_system("orders")
        with pytest.raises(NotFoundError, match=r"no system 'orders' in this workspace \(known: billing\)"):
            store.system("orders")
        with pytest.raises(NotFoundError):
            store.remove_system("orders")


def test_a_store_without_the_table_opens_read_only(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    Store.open(ws).close()
    conn = sqlite3.connect(ws / "evidence.db")
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'systems'").fetchone()[0] == 0
    conn.close()
    with Store.open(ws, read_only=True) as store:
        assert store.systems() == []
        with pytest.raises(NotFoundError, match="sckb system add"):
            store.system("orders")


# ---------------------------------------------------------------------- CLI over the bundled example


@pytest.fixture(scope="module")
def example_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("example") / "ws"
    r = CliRunner().invoke(main, ["--workspace", str(ws), "--now", NOW, "evidence", "ingest", str(EXAMPLE / "evidence")])
    assert r.exit_code == 0, r.output
    return ws


@pytest.fixture
def ws(example_ws: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(example_ws, dest)
    return dest


def test_cli_add_list_show_remove(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    r = sckb(runner, ws, "system", "add", str(EXAMPLE / "system.yaml"))
    assert r.exit_code == 0, r.output
    assert "added system phi-app" in r.output
    again = sckb(runner, ws, "system", "add", str(EXAMPLE / "system.yaml"))
    assert again.exit_code == 3
    assert again.output.count("\n") == 1 and "--replace" in again.output
    assert "replaced system phi-app" in sckb(runner, ws, "system", "add", "--replace", str(EXAMPLE / "system.yaml")).output
    sckb(runner, ws, "system", "add", str(write(tmp_path / "o.yaml", AWS_SYSTEM)))

    listed = orjson.loads(sckb(runner, ws, "system", "list", "--json").output)
    assert [s["name"] for s in listed] == ["orders", "phi-app"]
    assert listed[0]["boundary"]["accounts"] == ["111122223333"]
    assert listed[1]["source"].endswith("system.yaml") and listed[1]["added_at"] == "2026-12-01T00:00:00Z"
    assert "phi-app" in sckb(runner, ws, "system", "list").output

    shown = orjson.loads(sckb(runner, ws, "system", "show", "phi-app", "--json").output)
    total = sum(1 for _ in orjson.loads(sckb(runner, ws, "evidence", "list", "--json").output))
    assert shown["findings"] == {"inside": total, "outside": 0}  # the example's evidence all lies inside
    orders = orjson.loads(sckb(runner, ws, "system", "show", "orders", "--json").output)
    # only the attestations (which name no subject) are inside a system the example's scans do not touch
    assert orders["findings"]["inside"] == 2 and orders["findings"]["outside"] == total - 2
    table = sckb(runner, ws, "system", "show", "orders").output
    assert f"2 findings inside, {total - 2} outside" in table

    assert sckb(runner, ws, "system", "remove", "orders").exit_code == 0
    gone = sckb(runner, ws, "system", "show", "orders")
    assert gone.exit_code == 4
    assert gone.output == "sckb: error: no system 'orders' in this workspace (known: phi-app)\n"


def test_evidence_list_inside_and_outside(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    sckb(runner, ws, "system", "add", str(write(tmp_path / "o.yaml", AWS_SYSTEM)))
    inside = orjson.loads(sckb(runner, ws, "evidence", "list", "--system", "orders", "--json").output)
    outside = orjson.loads(sckb(runner, ws, "evidence", "list", "--system", "orders", "--outside", "--json").output)
    assert {f["tool"] for f in inside} == {"sckb-attestation"}
    assert "sckb-attestation" not in {f["tool"] for f in outside} and outside
    assert sckb(runner, ws, "evidence", "list", "--outside").exit_code == 2


def test_unknown_system_is_one_line_listing_the_known(runner: CliRunner, ws: Path) -> None:
    sckb(runner, ws, "system", "add", str(EXAMPLE / "system.yaml"))
    for args in (
        ("assess", "--scope", "fedramp-moderate", "--system", "nope"),
        ("export", "oscal", "--system", "nope", "--out", str(ws.parent / "oscal")),
        ("evidence", "list", "--system", "nope"),
    ):
        r = sckb(runner, ws, *args)
        assert r.exit_code == 4, args
        assert r.output == "sckb: error: no system 'nope' in this workspace (known: phi-app)\n"


def assess_json(runner: CliRunner, ws: Path, *args: str) -> dict[str, Any]:
    r = sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--format", "json", *args)
    assert r.exit_code == 0, r.output
    data: dict[str, Any] = orjson.loads(r.output)
    return data


def test_assess_with_and_without_a_system(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    before = sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--format", "json").output
    sckb(runner, ws, "system", "add", str(EXAMPLE / "system.yaml"))
    sckb(runner, ws, "system", "add", str(write(tmp_path / "o.yaml", AWS_SYSTEM)))
    # without --system nothing changes, byte for byte, and the summary names no system
    assert sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--format", "json").output == before
    whole = orjson.loads(before)
    assert "system" not in whole["assessment"] and "outside_findings" not in whole["assessment"]

    phi = assess_json(runner, ws, "--system", "phi-app")
    assert phi["assessment"]["system"] == "phi-app" and phi["assessment"]["outside_findings"] == 0
    assert phi["assessment"]["id"] != whole["assessment"]["id"]  # the system is part of the content
    assert [c["status"] for c in phi["controls"]] == [c["status"] for c in whole["controls"]]

    orders = assess_json(runner, ws, "--system", "orders")
    assert orders["assessment"]["outside_findings"] > 0
    # only the example's attestations (which name no subject) are inside "orders": none of its scanner findings
    failing = {c["control"] for c in whole["controls"] if c["status"] == "not-satisfied"}
    orders_failing = {c["control"] for c in orders["controls"] if c["status"] == "not-satisfied"}
    assert orders_failing < failing
    assert orders["assessment"]["evidence_files"] == 1 < whole["assessment"]["evidence_files"]
    assert orders["assessment"]["findings_failing"] < whole["assessment"]["findings_failing"]

    md = sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--system", "orders", "--format", "markdown").output
    assert f"System: orders · {orders['assessment']['outside_findings']} finding(s) outside its boundary" in md
    assert "System:" not in sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--format", "markdown").output
    table = sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--system", "orders").output
    assert f"system orders: {orders['assessment']['outside_findings']} finding(s) outside its boundary" in table

    listed = orjson.loads(sckb(runner, ws, "assess", "list", "--json").output)
    assert [r["system"] for r in listed] == ["orders", None, "phi-app"]  # re-saving an assessment makes it the latest
    assert "(workspace)" in sckb(runner, ws, "assess", "list").output


def test_renderers_pick_the_latest_assessment_of_the_system(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    sckb(runner, ws, "system", "add", str(EXAMPLE / "system.yaml"))
    sckb(runner, ws, "system", "add", str(write(tmp_path / "o.yaml", AWS_SYSTEM)))
    phi = assess_json(runner, ws, "--system", "phi-app")["assessment"]["id"]
    orders = assess_json(runner, ws, "--system", "orders")["assessment"]["id"]
    whole = assess_json(runner, ws)["assessment"]["id"]  # the latest overall

    out = tmp_path / "oscal"
    r = sckb(runner, ws, "export", "oscal", "--system", "phi-app", "--out", str(out), "--no-copy-evidence")
    assert r.exit_code == 0, r.output
    ar = orjson.loads((out / "assessment-results.json").read_bytes())
    assert phi in orjson.dumps(ar).decode()
    assert orders not in orjson.dumps(ar).decode() and whole not in orjson.dumps(ar).decode()

    # an assessment of another system (or of the whole workspace), chosen explicitly, is refused
    for other, what in ((orders, "of system 'orders'"), (whole, "of the whole workspace (no --system)")):
        r = sckb(runner, ws, "export", "oscal", "--system", "phi-app", "--assessment", other, "--out", str(tmp_path / "x"))
        assert r.exit_code == 4
        assert r.output == f"sckb: error: assessment {other} is {what}, not of system 'phi-app'\n"
        assert not (tmp_path / "x").exists()
    ok = sckb(runner, ws, "export", "oscal", "--system", "phi-app", "--assessment", phi[:8], "--out", str(tmp_path / "y"))
    assert ok.exit_code == 0, ok.output

    sckb(runner, ws, "system", "add", str(write(tmp_path / "n.yaml", "name: none-yet\nboundary:\n  providers: [gcp]\n")))
    r = sckb(runner, ws, "export", "oscal", "--system", "none-yet", "--out", str(tmp_path / "z"))
    assert r.exit_code == 4 and "no assessment of system 'none-yet' yet" in r.output


def test_site_refuses_another_systems_assessment(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    sckb(runner, ws, "system", "add", str(EXAMPLE / "system.yaml"))
    whole = assess_json(runner, ws)["assessment"]["id"]
    r = sckb(runner, ws, "site", "build", "--system", "phi-app", "--assessment", whole, "--out", str(tmp_path / "site"))
    assert r.exit_code == 4
    assert r.output == f"sckb: error: assessment {whole} is of the whole workspace (no --system), not of system 'phi-app'\n"
    r = sckb(runner, ws, "report", "pdf", "--system", "phi-app", "--out", str(tmp_path / "r.pdf"))
    assert r.exit_code == 4 and "no assessment of system 'phi-app' yet" in r.output


def test_the_record_path_and_the_store_path_agree_with_a_system(ws: Path) -> None:
    from compliance import kb as kbmod
    from compliance.assess import assess
    from compliance.assess.storeread import assess_store

    kb = kbmod.load()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    system = System(name="orders", boundary=ORDERS)
    with Store.open(ws, read_only=True) as store:
        a = assess_store(kb, store, scopes=["fedramp-moderate"], now=now, system=system)
        inside = [f for f in store.findings() if system.boundary.matcher().inside(f)]
        b = assess(kb, inside, store.files(), scopes=["fedramp-moderate"], now=now)
        total = store.identity_count()
    assert a.system == "orders" and a.outside_findings == total - len(inside) > 0
    assert (b.system, b.outside_findings) == (None, 0)
    assert replace_id(a) == replace_id(b)
    # the record path with the system gives the very same assessment, id included
    with Store.open(ws, read_only=True) as store:
        c = assess(kb, store.findings(), store.files(), scopes=["fedramp-moderate"], now=now, system=system)
    assert c.to_dict() == a.to_dict()


def replace_id(a: Any) -> dict[str, Any]:
    d: dict[str, Any] = a.to_dict()
    for k in ("id", "system", "outside_findings"):
        d.pop(k)
    return d


# ---------------------------------------------------------------------- the real corpus


@pytest.fixture(scope="module")
def corpus_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    from compliance import kb as kbmod
    from compliance.evidence.ingest import ingest
    from compliance.evidence.mapping import Mapper

    ws = tmp_path_factory.mktemp("corpus") / "ws"
    with Store.open(ws) as store:
        ingest(store, [CORPUS], mapper=Mapper(kbmod.load()), now=datetime(2026, 11, 30, tzinfo=UTC))
    return ws


def test_an_aws_systems_assessment_counts_no_azure_or_gcp_finding(runner: CliRunner, corpus_ws: Path, tmp_path: Path) -> None:
    system = write(tmp_path / "aws.yaml", "name: aws-app\nboundary:\n  providers: [aws]\n  accounts: ['123456789012']\n")
    assert sckb(runner, corpus_ws, "system", "add", "--replace", str(system)).exit_code == 0
    everything = orjson.loads(sckb(runner, corpus_ws, "evidence", "list", "--json").output)
    inside = orjson.loads(sckb(runner, corpus_ws, "evidence", "list", "--system", "aws-app", "--json").output)
    outside = orjson.loads(sckb(runner, corpus_ws, "evidence", "list", "--system", "aws-app", "--outside", "--json").output)
    assert len(inside) + len(outside) == len(everything)
    foreign = [f for f in everything if f["provider"] in ("azure", "gcp")]
    assert len(foreign) > 100  # the corpus has Azure (ARM, Bicep) and GCP (Terraform, prowler) findings
    assert {f["identity"] for f in foreign} <= {f["identity"] for f in outside}
    assert {f["provider"] for f in inside} == {"aws"}
    assert {f["account"] for f in inside} == {"123456789012"}

    r = runner.invoke(
        main,
        ["--workspace", str(corpus_ws), "--now", NOW, "assess", "--scope", "fedramp-moderate", "--max-age", "3650",
         "--system", "aws-app", "--format", "json"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = orjson.loads(r.output)
    assert data["assessment"]["system"] == "aws-app"
    assert data["assessment"]["outside_findings"] == len(outside)
    # every evidence file the assessment cites holds a finding inside the system
    inside_files = {f["file_sha256"] for f in inside}
    with Store.open(corpus_ws, read_only=True) as store:
        from compliance.assess import load_assessment

        a = load_assessment(store, data["assessment"]["id"])
    assert a.files and {f.sha256 for f in a.files} <= inside_files
    foreign_files = {f["file_sha256"] for f in foreign} - inside_files
    assert foreign_files and not foreign_files & {o.file_sha256 for o in a.observations}
    assert all(f.identity in {x["identity"] for x in inside} for f in a.findings.values())
    shown = orjson.loads(sckb(runner, corpus_ws, "system", "show", "aws-app", "--json").output)
    assert shown["findings"] == {"inside": len(inside), "outside": len(outside)}


def test_example_system_file_is_valid_and_covers_its_evidence() -> None:
    s = load_system(EXAMPLE / "system.yaml")
    assert s.name == "phi-app" and s.boundary.providers == ("aws",)
    assert s.boundary.matcher().inside(F(file="src/api/handler.py"))
    assert not s.boundary.matcher().inside(F("azure", file="src/api/handler.py"))


def test_system_schema_is_generated_from_the_model(runner: CliRunner) -> None:
    r = runner.invoke(main, ["system", "schema"])
    assert r.exit_code == 0
    schema = orjson.loads(r.output)
    assert schema["additionalProperties"] is False and schema["required"] == ["name", "boundary"]
    b = schema["$defs"]["Boundary"]
    assert b["additionalProperties"] is False
    assert set(b["properties"]) == {"providers", "accounts", "regions", "paths", "repositories", "resources", "tags"}
