"""The assessment engine: stored findings + the KB -> an :class:`Assessment`.

The engine reads any iterable of the evidence store's records (:class:`~compliance.evidence.model.StoredFinding`).
It makes one pass over them, tallying per (mitigation, rule) and per (evidence file, rule), then applies the
status rules of :mod:`compliance.kb.status` (the tally and finish steps are :mod:`compliance.assess.tally`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from compliance.assess.model import Assessment, Determination
from compliance.assess.policy import KevCatalog, RemediationPolicy
from compliance.assess.tally import (
    BATCH,
    DEFAULT_MAX_AGE_DAYS,
    DEFAULT_WINDOW,
    FAIL,
    REMEDIATION_DAYS,
    Accumulator,
    FileLike,
    FindingLike,
    Row,
    TallyContext,
    check_args,
    content_id,
    finish,
    identify,
    norm_time,
    remediation_days,
    slot_of,
)
from compliance.assess.triage import TriageContext
from compliance.evidence.system import System
from compliance.kb.load import KB
from compliance.kb.profile import ResolvedProfile
from compliance.kb.scope import resolve
from compliance.vocab import iso

__all__ = [
    "DEFAULT_MAX_AGE_DAYS",
    "DEFAULT_WINDOW",
    "REMEDIATION_DAYS",
    "FileLike",
    "FindingLike",
    "assess",
    "content_id",
    "explain_any",
    "identify",
    "iso",
    "remediation_days",
]


def _record_rows(
    findings: Iterable[FindingLike],
    failing: list[FindingLike],
    start_s: str,
    now_s: str,
    inside: Callable[[FindingLike], bool] | None = None,
    outside: list[int] | None = None,
    accept_ingest_time: bool = False,
) -> Iterator[list[Row]]:
    """Batches of rows from store records; the fresh open failures are also collected into ``failing``. With
    ``inside`` (a system's boundary), only the records it accepts count; the others are counted in ``outside[0]``."""
    batch: list[Row] = []
    for r in findings:
        if inside is not None and not inside(r):
            if outside is not None:
                outside[0] += 1
            continue
        last = r.last_seen
        if len(last) != 20 or last[-1] != "Z":
            last = norm_time(last)
        undated = not accept_ingest_time and r.scan_time_source == "ingest"
        slot = slot_of(r.result, r.status, last, start_s, now_s, undated)
        if slot == FAIL:
            failing.append(r)
        batch.append(
            (
                r.tool,
                r.rule_id,
                r.file_sha256,
                slot,
                r.method,
                r.mitigations,
                r.targets,
                r.mapped_by,
                last,
                r.function or r.resource or r.file,
            )
        )
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def assess(
    kb: KB,
    findings: Iterable[FindingLike],
    files: Iterable[FileLike],
    *,
    scopes: list[str],
    now: datetime,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    unmapped: str = "warn",
    progress: Callable[[int], None] | None = None,
    determinations: Iterable[Determination] = (),
    accept_ingest_time: bool = False,
    system: System | None = None,
    policy: RemediationPolicy | None = None,
    kev: KevCatalog | None = None,
    triage: TriageContext | None = None,
    profile: ResolvedProfile | None = None,
) -> Assessment:
    """Assess ``scopes`` against ``findings`` (store records). ``now`` is the clock (the CLI's ``--now``). With
    ``system``, only the findings inside its boundary count (the others are counted in ``outside_findings``);
    ``accept_ingest_time`` counts evidence dated only at ingest as dated (status rule 1)."""
    check_args(unmapped, max_age_days)
    now_s = iso(now)
    start_s = iso(now - timedelta(days=max_age_days))
    ctx = TallyContext(kb, start_s, now_s, accept_ingest_time)
    resolve(kb, scopes, profile=profile)  # fail early on an unknown scope
    acc = Accumulator(ctx)
    failing: list[FindingLike] = []
    inside = system.boundary.matcher().inside if system is not None else None
    outside = [0]
    acc.feed(_record_rows(findings, failing, start_s, now_s, inside, outside, accept_ingest_time), progress)
    kept, unmapped_ids = acc.add_failing(failing)
    return finish(
        kb,
        acc,
        kept,
        unmapped_ids,
        files,
        scopes=scopes,
        now=now,
        max_age_days=max_age_days,
        unmapped=unmapped,
        determinations=determinations,
        policy=policy,
        kev=kev,
        triage=triage,
        profile=profile,
        system=system.name if system is not None else None,
        outside_findings=outside[0],
    )


def explain_any(a: Assessment) -> dict[str, Any]:
    """Every control's path (used by ``--format json`` with ``--paths``)."""
    return {cid: a.path(cid) for cid in a.controls}
