"""The streaming read of big JSON files: array items cut into runs parsed by orjson must be exactly the items
ijson yields, whatever the records contain, and anything odd must end in ijson's own behaviour."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import ijson  # type: ignore[import-untyped]
import orjson
import pytest

from compliance.evidence import parsing
from compliance.evidence.parsing import FastItems, ParseContext, sniff


def _ijson(data: bytes, prefix: str) -> list[Any]:
    return list(ijson.items(io.BytesIO(data), prefix, use_float=True))


def _fast(data: bytes, prefix: str) -> list[Any]:
    return list(FastItems(io.BytesIO(data), prefix).items())


def _records(n: int) -> list[dict[str, Any]]:
    tricky = ['}, {"check_id": "x"', "]}, {", "é ü 漢字 🙂", '\\"}, {"', "line\nbreak"]
    return [
        {
            "check_id": f"CKV_AWS_{i}",
            "resource": f"res{i}",
            "nested": {"list": [{"a": i}, {"b": [1, 2.5, None, True]}], "s": tricky[i % len(tricky)]},
            "code_block": [[i, "x = {}"], [i + 1, "}"]],
        }
        for i in range(n)
    ]


def _checkov(failed: list[Any], passed: list[Any], *, indent: bool = False) -> bytes:
    doc = {"check_type": "terraform", "results": {"failed_checks": failed, "passed_checks": passed, "parsing_errors": ["a.tf"]}}
    doc["summary"] = {"checkov_version": "3.2.1", "passed": len(passed)}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)


@pytest.mark.parametrize("indent", [False, True])
@pytest.mark.parametrize("window", [1 << 20, 512])  # 512 bytes: runs of one record, and records longer than the window
def test_items_equal_ijson(indent: bool, window: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "_WINDOW", window)
    monkeypatch.setattr(parsing, "_TAIL", min(window, 1 << 16))
    data = _checkov(_records(300), _records(7), indent=indent)
    for prefix in (
        "results.failed_checks.item",
        "results.passed_checks.item",
        "results.parsing_errors.item",
        "results.skipped.item",
    ):
        assert _fast(data, prefix) == _ijson(data, prefix), prefix


def test_top_level_arrays_and_lists_of_reports() -> None:
    reports = [
        {"check_type": "a", "results": {"failed_checks": _records(3)}},
        {"check_type": "b", "results": {"failed_checks": []}},
    ]
    data = orjson.dumps(reports)
    assert _fast(data, "item.results.failed_checks.item") == _ijson(data, "item.results.failed_checks.item")
    assert len(_fast(data, "item.results.failed_checks.item")) == 3
    scalars = b'[1, 2.5, "three", null, true, {"x": [1]}, [2, [3]]]'
    assert _fast(scalars, "item") == _ijson(scalars, "item")
    assert _fast(b"[]", "item") == [] and _fast(b'{"item": 1}', "results.item") == []


@pytest.mark.parametrize(
    "data",
    [
        b'{"results": [{"a": 1}, {"a": 2}',  # cut short
        b'{"results": [{"a": 1}, {"a": 2},]}',  # trailing comma
        b'{"results": [{"a": 1}]} trailing',
        b'{"results": [{"a": 1}], "x": [1, 2,, 3]}',  # broken after the wanted array
        b'{"results": {"item": {"a": 1}}}',  # a map where the array was expected
        b'{"results": [{"a": "\xff"}]}',  # invalid UTF-8
        b'{"results": [' + b"[" * 2000 + b"]" * 2000 + b"]}",  # deeper than orjson takes
    ],
)
def test_odd_input_leaves_the_fast_path(data: bytes) -> None:
    with pytest.raises((parsing._Fallback, orjson.JSONDecodeError)):
        _fast(data, "results.item")


def test_context_stream_falls_back_to_ijson_without_repeating_items(tmp_path: Path) -> None:
    """Items handed out before the fast path gave up are not handed out again; the error is ijson's."""
    path = tmp_path / "big.json"
    path.write_bytes(b'{"results": [{"a": 1}, {"a": 2}], "tail": [1, 2,, 3]}')
    ctx = ParseContext(path, "big.json", size=path.stat().st_size, sniff=sniff(path.read_bytes(), path), stream_threshold=0)
    seen: list[Any] = []
    with pytest.raises(Exception, match="invalid JSON"):
        for item in ctx.stream("results.item"):
            seen.append(item)
    assert seen == [{"a": 1}, {"a": 2}]


def test_later_passes_jump_over_arrays_already_read(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    data = _checkov(_records(50), _records(40))
    path.write_bytes(data)
    ctx = ParseContext(path, "big.json", size=len(data), sniff=sniff(data, path), stream_threshold=0)
    assert list(ctx.stream("results.failed_checks.item")) == _ijson(data, "results.failed_checks.item")
    assert len(ctx._spans) == 3  # failed_checks, passed_checks, parsing_errors
    assert list(ctx.stream("results.passed_checks.item")) == _ijson(data, "results.passed_checks.item")
    assert list(ctx.stream("results.parsing_errors.item")) == ["a.tf"]


CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not found")
@pytest.mark.parametrize("threshold", [1 << 30, 0])
def test_stored_rows_match_the_reference_identity_and_digest(threshold: int, tmp_path: Path) -> None:
    """The ingester's inlined per-finding work gives what identity_of and row_digest define."""
    from datetime import UTC, datetime

    from compliance.evidence.formats import detect, registry
    from compliance.evidence.ingest import Ingester, identity_of
    from compliance.evidence.mapping import Mapper
    from compliance.evidence.parsing import HEAD_BYTES
    from compliance.evidence.store import OBS_COLUMNS, Store, row_digest

    folders = ("semgrep-sarif", "checkov-json", "prowler-ocsf-json", "trivy-json")
    paths = [max(sorted((CORPUS / d).iterdir()), key=lambda p: p.stat().st_size) for d in folders]
    with Store.open(tmp_path / "ws") as store:
        ing = Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC), stream_threshold=threshold)
        for path in paths:
            res = ing.ingest_file(path)
            assert res.error is None and res.findings > 0, path
            head = path.read_bytes()[:HEAD_BYTES]
            sn = sniff(head, path)
            fmt = detect(head, sn, registry())
            assert fmt is not None
            ctx = ParseContext(path, str(path), size=path.stat().st_size, sniff=sn, stream_threshold=threshold)
            expected = [identity_of(f) for f in fmt.parse(path, ctx)]
            rows = store.conn.execute(
                "SELECT o.id, o.file_id, " + ", ".join("o." + c for c in OBS_COLUMNS) + ", o.digest, i.loc"
                " FROM observations o JOIN files f ON f.id = o.file_id JOIN identities i USING (identity)"
                " WHERE f.sha256 = ? ORDER BY o.id",
                (res.sha256,),
            ).fetchall()
            assert [(r[2], r[-1]) for r in rows] == expected
            assert all(row_digest(r[0], r[1], tuple(r[2:-2])) == r[-2] for r in rows)
        assert store.verify() == []
