"""Big files are parsed by a helper process (compliance/evidence/worker.py): the store it leads to is the
same, row for row, as an in-process parse gives, errors included, and a helper that dies costs nothing stored."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from _evidence import dump

from compliance.errors import StoreError
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.parent != CORPUS and not p.name.startswith("."))


def _ingest(ws: Path, files: list[Path], worker_bytes: int, threshold: int = 1 << 30) -> list[tuple[str | None, str | None]]:
    with Store.open(ws) as store:
        ing = Ingester(store, Mapper(None), NOW, worker_bytes=worker_bytes, stream_threshold=threshold)
        try:
            out = []
            for f in files:
                res = ing.ingest_file(f, display=f.name)
                out.append((res.error, res.skipped))
            assert store.verify() == []
            return out
        finally:
            ing.close()


@pytest.mark.parametrize("threshold", [1 << 30, 0], ids=["whole", "stream"])
def test_helper_parse_stores_the_same_rows(tmp_path: Path, threshold: int) -> None:
    files = _corpus_files()
    if not files:
        pytest.skip("../shared/corpus is not beside the checkout")
    here = _ingest(tmp_path / "here", files, 1 << 40, threshold)
    helper = _ingest(tmp_path / "helper", files, 0, threshold)
    assert helper == here
    assert sum(1 for e, _ in here if e is None) > 20
    a, b = dump(tmp_path / "here"), dump(tmp_path / "helper")
    assert len(a["observations"]) > 1000
    assert a == b


def _sarif(results: list[object]) -> bytes:
    run = {"tool": {"driver": {"name": "semgrep", "rules": [{"id": "r1"}]}}, "results": results}
    return orjson.dumps({"version": "2.1.0", "runs": [run]})


def test_helper_errors_are_the_in_process_errors(tmp_path: Path) -> None:
    good = {"ruleId": "r1", "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}]}
    bad = tmp_path / "bad.sarif"
    bad.write_bytes(_sarif([good] * 3000 + [7]))  # a result that is not an object, after some batches
    odd = tmp_path / "odd.sarif"
    odd.write_bytes(_sarif([{**good, "locations": [{"physicalLocation": 5}]}]))  # a shape the parser trips over
    here = _ingest(tmp_path / "here", [bad, odd], 1 << 40)
    helper = _ingest(tmp_path / "helper", [bad, odd], 0)
    assert helper == here
    assert here[0][0] is not None and "/runs/0/results/3000" in here[0][0]
    assert here[1][0] is not None and "unexpected content" in here[1][0]
    assert dump(tmp_path / "helper")["observations"] == []


def test_a_dead_helper_stores_nothing(tmp_path: Path) -> None:
    good = {"ruleId": "r1", "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}]}
    first, second = tmp_path / "one.sarif", tmp_path / "two.sarif"
    first.write_bytes(_sarif([good]))
    second.write_bytes(_sarif([{**good, "ruleId": "r2"}] * 5))
    with Store.open(tmp_path / "ws") as store:
        ing = Ingester(store, Mapper(None), NOW, worker_bytes=0)
        try:
            assert ing.ingest_file(first).error is None
            assert ing._worker is not None
            os.kill(ing._worker.pid, signal.SIGKILL)
            with pytest.raises(StoreError, match="helper process ended"):
                ing.ingest_file(second)
            assert store.counts()["observations"] == 1 and store.verify() == []
            assert ing.ingest_file(second).error is None  # a new helper takes over
            assert store.counts()["observations"] == 6
        finally:
            ing.close()
