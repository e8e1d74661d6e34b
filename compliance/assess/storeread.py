"""The fast way to assess a whole evidence store: let the store aggregate the findings.

:func:`assess_store` gives exactly what :func:`compliance.assess.engine.assess` gives on
``store.findings()`` (the tests compare both on the whole corpus), but no finding record reaches Python:
the store groups its findings (:meth:`~compliance.evidence.store.Store.tally_groups`) into a row per
distinct tally key (evidence file, tool, rule, status-rule-1 slot, method, mitigations, targets, mapping),
with its count, its newest ``last_seen`` and the distinct subjects of its fresh findings; the accumulator
expands those few thousand groups into its tallies. Only the fresh open failures (which the assessment keeps
in full) are then read row by row (:meth:`~compliance.evidence.store.Store.open_failures`). When the store
cannot group (another store version), or a stored time is not canonical ISO 8601 (``YYYY-MM-DDTHH:MM:SSZ``,
which the string comparisons need), it falls back to the record path.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import orjson

from compliance.assess.engine import assess
from compliance.assess.model import Assessment, Determination, FindingRecord
from compliance.assess.policy import KevCatalog, RemediationPolicy
from compliance.assess.tally import (
    DEFAULT_MAX_AGE_DAYS,
    STALE,
    Accumulator,
    TallyContext,
    check_args,
    finish,
    slot_codes,
)
from compliance.assess.triage import TriageContext
from compliance.errors import InputError
from compliance.evidence.store import Store
from compliance.evidence.system import System
from compliance.kb.load import KB
from compliance.kb.profile import ResolvedProfile
from compliance.kb.scope import resolve
from compliance.vocab import iso


def _decoder(shas: dict[int, str]) -> Callable[[Any, Any, Any], tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """file id -> sha256, and the store's space-separated id lists -> tuples (once per distinct key)."""

    def decode(fid: Any, mits: Any, targets: Any) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        return shas[fid], tuple(mits.split()) if mits else (), tuple(targets.split()) if targets else ()

    return decode


def assess_store(
    kb: KB,
    store: Store,
    *,
    scopes: list[str],
    now: datetime,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    unmapped: str = "warn",
    progress: Callable[[int], None] | None = None,
    workers: int = 2,
    blob_out: list[bytes] | None = None,
    determinations: Iterable[Determination] = (),
    accept_ingest_time: bool = False,
    system: System | None = None,
    policy: RemediationPolicy | None = None,
    kev: KevCatalog | None = None,
    triage: TriageContext | None = None,
    profile: ResolvedProfile | None = None,
) -> Assessment:
    """Assess the evidence store ``store``. ``workers`` threads may group the findings (the SQLite engine runs
    them in parallel); the result does not depend on it. With ``system``, only the findings inside its boundary
    count: the store filters them through the boundary's matcher (see :mod:`compliance.evidence.system`)."""
    with _gc_paused():
        return _assess_store(
            kb,
            store,
            scopes=scopes,
            now=now,
            max_age_days=max_age_days,
            unmapped=unmapped,
            progress=progress,
            workers=workers,
            blob_out=blob_out,
            determinations=list(determinations),
            accept_ingest_time=accept_ingest_time,
            system=system,
            policy=policy,
            kev=kev,
            triage=triage,
            profile=profile,
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the assessment allocates its ~10^5 acyclic records (its
    passes over them cost about as much as building them); the previous state is restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _assess_store(
    kb: KB,
    store: Store,
    *,
    scopes: list[str],
    now: datetime,
    max_age_days: int,
    unmapped: str,
    progress: Callable[[int], None] | None,
    workers: int,
    blob_out: list[bytes] | None,
    determinations: list[Determination],
    accept_ingest_time: bool,
    system: System | None = None,
    policy: RemediationPolicy | None = None,
    kev: KevCatalog | None = None,
    triage: TriageContext | None = None,
    profile: ResolvedProfile | None = None,
) -> Assessment:
    def record_path() -> Assessment:
        """The same assessment from the store's records, one by one (see the module docstring)."""
        return assess(
            kb,
            store.findings(),
            store.files(),
            scopes=scopes,
            now=now,
            max_age_days=max_age_days,
            unmapped=unmapped,
            progress=progress,
            determinations=determinations,
            accept_ingest_time=accept_ingest_time,
            system=system,
            policy=policy,
            kev=kev,
            triage=triage,
            profile=profile,
        )

    if not store.can_tally():
        return record_path()
    check_args(unmapped, max_age_days)
    now_s = iso(now)
    start_s = iso(now - timedelta(days=max_age_days))
    resolve(kb, scopes, profile=profile)
    acc = Accumulator(TallyContext(kb, start_s, now_s, accept_ingest_time))
    # a system's boundary filters in the store, through the matcher (issue 21)
    inside = system.boundary.matcher().inside_fields if system is not None else None
    groups = store.tally_groups(start_s, now_s, slot_codes(accept_ingest_time), workers, inside)
    kept: dict[str, FindingRecord] = {}
    unmapped_ids: list[str] = []
    failing_keys: dict[tuple[str, str], list[str]] = {}
    try:
        # the fresh open failures, read in full while the worker threads group the findings
        shas = store.file_shas()
        failing_error: InputError | None = None
        try:
            # a canonical window is a string range (non-canonical times send everything to the record path below)
            kept, unmapped_ids, failing_keys = acc.add_failing_rows(
                store.open_failures(start_s, now_s, inside, dated_only=not accept_ingest_time), shas
            )
        except InputError as exc:  # a bad first_seen: an error unless the record path is taken anyway
            failing_error = exc
        agg: dict[tuple[Any, ...], list[Any]] = {}
        subjects: set[tuple[Any, str, str, str]] = set()
        n = 0
        for batch in groups.batches():
            for row in batch:
                key = row[:8]
                e = agg.get(key)
                if e is None:
                    agg[key] = [row[8], row[9]]
                else:  # the same key from another range of identities
                    e[0] += row[8]
                    if row[9] > e[1]:
                        e[1] = row[9]
                n += row[8]
                if row[3] < STALE:
                    tool, rule_id, fid = row[0], row[1], row[2]
                    for subject in orjson.loads(row[10]):
                        if subject:
                            subjects.add((fid, tool, rule_id, subject))
            if progress is not None:
                progress(n)
    finally:
        groups.wait()
    acc.n = n
    # in key order: a tally takes its ``mapped_by`` from the first key that reaches it, so the result must not
    # depend on the order in which the ranges of identities came back
    acc.expand(dict(sorted(agg.items())), subjects, _decoder(shas))
    if acc.irregular:  # some time is not canonical ISO: string comparison would be wrong, take the record path
        return record_path()
    if failing_error is not None:
        raise failing_error
    acc.attach_failing(failing_keys)
    return finish(
        kb,
        acc,
        kept,
        unmapped_ids,
        store.files(),
        scopes=scopes,
        now=now,
        max_age_days=max_age_days,
        unmapped=unmapped,
        blob_out=blob_out,
        determinations=determinations,
        policy=policy,
        kev=kev,
        triage=triage,
        profile=profile,
        system=system.name if system is not None else None,
        outside_findings=store.identity_count() - n if system is not None else 0,
    )
