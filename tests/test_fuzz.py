"""Property-based fuzzing (Hypothesis) of everything sckb reads from users: every evidence format, the design
readers (CloudFormation/SAM, Serverless, ARM, Terraform) and KB overlays. Inputs are valid seeds mutated by
truncation at a random offset, byte flips, deep nesting, huge strings, invalid UTF-8 and values of the wrong
type. Each must end in a clean result or in one of sckb's own errors, within a time bound; a rejected evidence
file leaves the store as it was.

``make test`` runs a few examples per target (Hypothesis profile ``sckb``, derandomised); ``make fuzz`` runs
many more (profile ``fuzz``, random) and prints how many inputs each target tried. Profiles: conftest.py."""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest
from _evidence import dump
from hypothesis import given, note
from hypothesis import strategies as st
from test_evidence_formats import GUARDDUTY, SCC

from compliance import kb as kbmod
from compliance.design.cfnyaml import load_template_text
from compliance.design.read import read_design
from compliance.errors import SckbError
from compliance.evidence.formats import registry
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

# a failing example of 5 MB is reported all the same (Hypothesis warns that its repr is large)
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
#: Seconds one input may take (generous: the machine is shared; a hang is what this catches).
BOUND = 20.0


# ---------------------------------------------------------------------- seeds
def _smallest(files: list[Path], limit: int = 200_000) -> Path | None:
    """The smallest file that reports something (over 300 bytes: not an empty report), within ``limit``."""
    small = sorted(
        (p for p in files if p.is_file() and 300 < p.stat().st_size <= limit), key=lambda p: (p.stat().st_size, p.name)
    )
    return small[0] if small else None


GITLEAKS_7 = [
    {"line": "key = AKIA", "lineNumber": 3, "offender": "AKIAXXXXXXXXXXXXXXXX", "commit": "0123abcd", "rule": "AWS Access Key",
     "file": "app/config.py", "date": "2021-05-01T10:00:00Z", "tags": "key, AWS"},
]  # fmt: skip


#: What `opa eval --format json 'data.sckb'` prints over the policies `sckb policy export --engine rego` writes, cut
#: to two rules; and conftest's JSON for one of them.
OPA_EVAL = {
    "result": [
        {
            "expressions": [
                {
                    "value": {
                        "function_timeouts": {
                            "design_timeout_failing": ["F"],
                            "design_timeout_passing": [],
                            "violation": [
                                {"controls": ["SC-5"], "mitigation": "function-timeouts", "msg": "[design-timeout] too long",
                                 "predicate": "design-timeout", "resource": "F", "severity": "low"}
                            ],
                        },
                        "distributed_tracing": {"design_tracing_failing": [], "design_tracing_passing": ["F"], "violation": []},
                    },
                    "text": "data.sckb",
                    "location": {"row": 1, "col": 1},
                }
            ]
        }
    ]
}  # fmt: skip
CONFTEST = [
    {
        "filename": "template.json",
        "namespace": "sckb.function_timeouts",
        "successes": 1,
        "failures": [
            {"msg": "[design-timeout] too long", "metadata": {"query": "data.sckb.function_timeouts.violation", "resource": "F"}}
        ],
        "warnings": [],
    }
]  # fmt: skip


def _evidence_seeds() -> dict[str, tuple[str, bytes]]:
    """name -> (file name, content): the example's files, generated ones for formats the corpus lacks, and the
    corpus's smallest non-empty report per folder (when ../shared is beside the checkout)."""
    seeds = {
        p.name: (p.name, p.read_bytes()) for p in sorted((ROOT / "examples" / "phi-app" / "evidence").glob("*")) if p.is_file()
    }
    seeds["guardduty"] = ("guardduty.json", orjson.dumps(GUARDDUTY))
    seeds["gcp-scc"] = ("scc.json", orjson.dumps(SCC))
    seeds["gitleaks-7"] = ("gitleaks.json", orjson.dumps(GITLEAKS_7))
    seeds["opa-eval"] = ("opa.json", orjson.dumps(OPA_EVAL))
    seeds["conftest"] = ("conftest.json", orjson.dumps(CONFTEST))
    seeds["empty"] = ("empty.json", b"[]\n")
    corpus = SHARED / "corpus"
    for d in sorted(corpus.iterdir()) if corpus.is_dir() else []:
        if d.is_dir() and (p := _smallest(list(d.iterdir()))) is not None:
            seeds[d.name] = (p.name, p.read_bytes())
    return seeds


EVIDENCE = _evidence_seeds()


def _design_seeds() -> dict[str, Path]:
    seeds = {"sam": ROOT / "examples" / "phi-app" / "template.yaml"}
    iac = SHARED / "iac"
    for name, rel in (
        ("serverless", "slsex-aws-python-flask-dynamodb-api/aws-python-flask-dynamodb-api/serverless.yml"),
        ("cfn", "sp-apigw-rest-api-lambda-python/apigw-rest-api-lambda-python/template.yaml"),
        ("arm", "azarm-function-app-premium-plan/function-app-premium-plan/azuredeploy.json"),
        ("terraform", "gcp-event-function/modules/event-project-log-entry/main.tf"),
    ):
        if (iac / rel).is_file():
            seeds[name] = iac / rel
    return seeds


DESIGN = _design_seeds()
KB_SEEDS = {p.name: p for p in sorted((ROOT / "controls").glob("*.yaml")) if p.stat().st_size < 100_000}


# ---------------------------------------------------------------------- mutations
def _wrong_types(data: bytes, draw: st.DrawFn) -> bytes:
    """A JSON or YAML seed with one value (found by walking down at random) replaced by one of another type."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:  # a YAML seed: mutated as its JSON form (JSON is YAML, so the readers take it as it is)
            doc = orjson.loads(orjson.dumps(load_template_text(data.decode("utf-8"), "seed"), default=str))
        except (SckbError, UnicodeDecodeError, TypeError, orjson.JSONEncodeError):
            return data
    cur, parent, key = doc, None, None
    for _ in range(draw(st.integers(0, 6))):
        if isinstance(cur, dict) and cur:
            parent, key = cur, draw(st.sampled_from(sorted(cur)))
        elif isinstance(cur, list) and cur:
            parent, key = cur, draw(st.integers(0, len(cur) - 1))
        else:
            break
        cur = parent[key]
    other = draw(
        st.sampled_from(
            [None, True, -1, 1e308, "x", [], {}, [None], {"": None}, "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")]
        )
    )
    if parent is None:
        doc = other
    else:
        parent[key] = other
    return orjson.dumps(doc)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    op = draw(st.sampled_from(["truncate", "flip", "nest", "huge", "utf8", "types", "splice"]))
    note(f"mutation: {op}")
    n = len(seed)
    if op == "truncate":
        return seed[: draw(st.integers(0, max(0, n - 1)))]
    if op == "flip":
        out = bytearray(seed)
        for _ in range(draw(st.integers(1, 8))):
            if out:
                i = draw(st.integers(0, len(out) - 1))
                out[i] = draw(st.integers(0, 255))
        return bytes(out)
    at = draw(st.integers(0, n))
    if op == "nest":
        depth = draw(st.sampled_from([50, 300, 5000, 100_000]))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b"- ", b""), (b"<a>", b"</a>")]))
        return seed[:at] + opener * depth + closer * depth + seed[at:]
    if op == "huge":
        size = draw(st.sampled_from([1 << 16, 1 << 20, 5 << 20]))
        return seed[:at] + b'"' + b"A" * size + b'"' + seed[at:]
    if op == "utf8":
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe9t\xe9", b"\x00"]))
        return seed[:at] + junk + seed[at:]
    if op == "types":
        return _wrong_types(seed, draw)
    other = draw(st.binary(max_size=64))  # splice random bytes in
    return seed[:at] + other + seed[at:]


# ---------------------------------------------------------------------- properties
@pytest.mark.parametrize("name", sorted(EVIDENCE))
def test_fuzz_evidence(name: str, tmp_path: Path) -> None:
    fname, seed = EVIDENCE[name]
    ws = tmp_path / "ws"
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copytree(ROOT / "examples" / "phi-app" / "evidence" / "attachments", folder / "attachments")
    tried = [0]

    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        tried[0] += 1
        path = folder / f"{tried[0]}-{fname}"
        path.write_bytes(data)
        with Store.open(ws) as store:
            before = dump(ws)
            ing = Ingester(store, Mapper(None), NOW, worker_bytes=1 << 62)
            start = time.monotonic()
            try:
                res = ing.ingest_file(path, base=folder)
            except SckbError:
                res = None
            finally:
                ing.close()
            assert time.monotonic() - start < BOUND
            if res is None or res.error is not None:
                assert "\n" not in (res.error if res is not None else "")
                assert dump(ws) == before
                assert store.verify() == []
            assert not any((ws / "locker" / "tmp").iterdir())
        path.unlink()

    run()
    print(f"fuzz evidence {name}: {tried[0]} inputs tried")


@pytest.mark.parametrize("name", sorted(DESIGN))
def test_fuzz_design(name: str, tmp_path: Path) -> None:
    seed_path = DESIGN[name]
    seed = seed_path.read_bytes()
    tried = [0]

    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        tried[0] += 1
        with tempfile.TemporaryDirectory(dir=tmp_path) as d:
            path = Path(d) / seed_path.name
            path.write_bytes(data)
            start = time.monotonic()
            try:
                read_design(path, today=date(2026, 11, 30))
            except SckbError as exc:
                assert "\n" not in str(exc)
            assert time.monotonic() - start < BOUND

    run()
    print(f"fuzz design {name}: {tried[0]} inputs tried")


@pytest.mark.parametrize("name", sorted(KB_SEEDS))
def test_fuzz_kb_overlay(name: str, tmp_path: Path) -> None:
    seed = KB_SEEDS[name].read_bytes()
    tried = [0]

    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        tried[0] += 1
        with tempfile.TemporaryDirectory(dir=tmp_path) as d:
            (Path(d) / name).write_bytes(data)
            start = time.monotonic()
            try:
                kb = kbmod.load([Path(d)], data_dirs=[])
            except SckbError as exc:
                assert "\n" not in str(exc)
            else:
                assert all("\n" not in str(p) for p in kb.problems)
            assert time.monotonic() - start < BOUND

    run()
    print(f"fuzz kb {name}: {tried[0]} inputs tried")


def test_seeds_cover_every_format(tmp_path: Path) -> None:
    """The seeds reach every evidence format sckb reads (with the corpus beside the checkout)."""
    if not (SHARED / "corpus").is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    found: set[str] = set()
    folder = tmp_path / "in"
    shutil.copytree(ROOT / "examples" / "phi-app" / "evidence", folder)
    with Store.open(tmp_path / "ws") as store:
        ing = Ingester(store, Mapper(None), NOW)
        for name, (fname, content) in EVIDENCE.items():
            path = folder / f"seed-{name}-{fname}"
            path.write_bytes(content)
            res = ing.ingest_file(path, base=folder)
            assert res.error is None, res.error
            if res.format:
                found.add(res.format)
    missing = sorted({f.name for f in registry()} - found)
    assert missing == [], missing
