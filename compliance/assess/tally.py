"""The assessment's tally and finish steps, shared by both ways of reading the evidence.

:class:`Accumulator` makes one pass over evidence rows (status rules 1 and 2), tallying per (mitigation, rule)
and per (evidence file, rule); :func:`finish` applies status rules 3 to 5 of :mod:`compliance.kb.status` to the
tallies and builds the :class:`~compliance.assess.model.Assessment`. The record path
(:func:`compliance.assess.engine.assess`) feeds it store records; the store path
(:mod:`compliance.assess.storeread`) feeds it the store's group rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from compliance.assess.model import (
    Assessment,
    ControlResult,
    Determination,
    EvidenceFileRef,
    FindingRecord,
    MitigationLink,
    MitigationResult,
    Observation,
    PoamItem,
    Related,
    RuleEvidence,
    SafeguardResult,
    dump,
)
from compliance.assess.policy import KevCatalog, RemediationPolicy, default_policy
from compliance.assess.triage import (
    TriageContext,
    close_and_compare,
    closed_item,
    decorate,
    drop_false_positives,
    expired_notes,
    rating,
)
from compliance.errors import InputError, StoreError
from compliance.evidence.formats import completeness
from compliance.evidence.mapping import Mapper
from compliance.evidence.model import StoredFinding
from compliance.evidence.parsing import severity as normalise_severity
from compliance.evidence.store import FailingRow, SlotCodes
from compliance.kb import status as rules
from compliance.kb.load import KB
from compliance.kb.profile import ResolvedProfile
from compliance.kb.query import control_sort_key
from compliance.kb.rigor import DESIGN_TOOL
from compliance.kb.scope import KBIndex, resolve, title_of
from compliance.vocab import iso, worst_severity

#: The shipped remediation policy (``data/remediation-policy.yaml``: FedRAMP continuous-monitoring windows).
DEFAULT_POLICY: RemediationPolicy = default_policy()
#: Its windows in days by severity, every spelling it knows (ratings and aliases).
REMEDIATION_DAYS: dict[str, int] = {
    **DEFAULT_POLICY.windows,
    **{a: DEFAULT_POLICY.windows[r] for a, r in DEFAULT_POLICY.aliases.items()},
}
DEFAULT_WINDOW = DEFAULT_POLICY.default

DEFAULT_MAX_AGE_DAYS = 30

# tally slots (status rule 1's outcomes; the first five index a tally's counts)
PASS, FAIL, ERROR, CLOSED, INFO, STALE, FUTURE, IRREGULAR, UNDATED = range(9)
OUTCOME_SLOT = {"pass": PASS, "fail": FAIL, "error": ERROR, "closed": CLOSED, "info": INFO}


def slot_codes(accept_ingest_time: bool) -> SlotCodes:
    """The slots as the store computes them while grouping (undated evidence has its own slot unless the
    user accepts the ingest time as the scan time)."""
    return SlotCodes(PASS, FAIL, ERROR, CLOSED, INFO, STALE, FUTURE, IRREGULAR, None if accept_ingest_time else UNDATED)


#: The slots when undated evidence is not accepted (the default).
SLOTS = slot_codes(False)

#: A finding record the record path reads: the store's :class:`StoredFinding`.
FindingLike = StoredFinding


class FileLike(Protocol):
    """An evidence file as the assessment reads it (the store's :class:`~compliance.evidence.model.EvidenceFile`)."""

    @property
    def sha256(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def tool(self) -> str: ...
    @property
    def scan_time(self) -> str: ...


def norm_time(value: str) -> str:
    if len(value) == 20 and value.endswith("Z"):
        return value
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"bad timestamp {value!r} in the evidence store") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return iso(dt)


class RuleTally:
    __slots__ = ("counts", "failing", "files", "mapped_by", "methods", "tool")

    def __init__(self, tool: str, mapped_by: str) -> None:
        self.counts = [0, 0, 0, 0, 0, 0, 0, 0, 0]
        self.files: set[str] = set()
        self.methods: set[str] = set()
        self.failing: list[str] = []
        self.tool = tool
        self.mapped_by = mapped_by

    def evidence(self, rule: str, relationship: str | None) -> RuleEvidence:
        c = self.counts
        return RuleEvidence(
            rule=rule,
            tool=self.tool,
            mapped_by=self.mapped_by,
            outcome=rules.rule_outcome(c[FAIL], c[PASS], c[ERROR]),
            passed=c[PASS],
            failed=c[FAIL],
            errors=c[ERROR],
            closed=c[CLOSED],
            info=c[INFO],
            stale=c[STALE],
            future=c[FUTURE],
            methods=sorted(self.methods),
            files=sorted(self.files),
            failing=sorted(self.failing),
            relationship=relationship,
            determinative=rules.evidence_decides(self.mapped_by, relationship),
            undated=c[UNDATED],
        )


class FileRuleGroup:
    __slots__ = ("collected", "controls", "counts", "methods", "mitigations", "subjects", "tool")

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.collected = ""
        self.counts = [0, 0, 0, 0]  # passed, failed, errors, other
        self.methods: set[str] = set()
        self.subjects: set[str] = set()
        self.mitigations: set[str] = set()
        self.controls: set[str] = set()


#: One evidence row as the accumulation loop reads it (status rule 1 already applied: ``slot``):
#: (tool, rule_id, file, slot, method, mitigations, targets, mapped_by, last_seen, subject).
#: The first eight items are the tally key. ``file``, ``mitigations`` and ``targets`` are decoded values
#: (sha256 and id tuples) or the store's raw columns, decoded per key by ``feed(decode=...)``.
Row = tuple[Any, ...]
BATCH = 65536


def slot_of(result: str, status: str, last: str, start_s: str, now_s: str, undated: bool = False) -> int:
    """Status rule 1 as a tally slot (stale, future and undated first)."""
    if last < start_s:
        return STALE
    if last > now_s:
        return FUTURE
    if undated:
        return UNDATED
    return OUTCOME_SLOT[rules.finding_outcome(result, status)]


class TallyContext:
    """What the accumulation needs to know about the run."""

    def __init__(self, kb: KB, start_s: str, now_s: str, accept_ingest_time: bool = False) -> None:
        self.start_s = start_s
        self.now_s = now_s
        self.accept_ingest_time = accept_ingest_time
        self.control_ids = {k for k, e in kb.nodes.items() if e.kind.value == "control"}


class Accumulator:
    """The one-pass tallies (status rules 1 and 2 are applied here)."""

    def __init__(self, ctx: TallyContext) -> None:
        self.ctx = ctx
        self.tallies: dict[tuple[str, str], RuleTally] = {}
        self.groups: dict[tuple[str, str], FileRuleGroup] = {}
        self.file_fresh: dict[str, bool] = {}
        self.stale = 0
        self.future = 0
        self.undated = 0
        self.n = 0
        #: a row's time was not canonical ISO (only the SQL reader yields such rows; it then falls back)
        self.irregular = False

    def feed(
        self,
        batches: Iterable[list[Row]],
        progress: Callable[[int], None] | None = None,
        decode: Callable[[Any, Any, Any], tuple[str, tuple[str, ...], tuple[str, ...]]] | None = None,
    ) -> None:
        """One pass over the rows (in batches). Rows are counted per distinct tally key (the first eight
        items of a row), then the few distinct keys are expanded into the tallies.

        ``decode(file, mitigations, targets)`` turns raw file, mitigations and targets columns into
        (sha256, mitigation ids, target ids) once per distinct key (used by the SQL reader)."""
        agg: dict[tuple[Any, ...], list[Any]] = {}
        subjects: set[tuple[Any, str, str, str]] = set()
        n = self.n
        fresh_limit = STALE  # slots below this are fresh outcomes
        for batch in batches:
            for row in batch:
                key = row[:8]
                e = agg.get(key)
                if e is None:
                    agg[key] = [1, row[8]]
                else:
                    e[0] += 1
                    if row[8] > e[1]:
                        e[1] = row[8]
                subject = row[9]
                if subject and row[3] < fresh_limit:
                    subjects.add((row[2], row[0], row[1], subject))
            n += len(batch)
            if progress is not None:
                progress(n)
        self.n = n
        self.expand(agg, subjects, decode)

    def expand(
        self,
        agg: dict[tuple[Any, ...], list[Any]],
        subjects: set[tuple[Any, str, str, str]],
        decode: Callable[[Any, Any, Any], tuple[str, tuple[str, ...], tuple[str, ...]]] | None,
    ) -> None:
        control_ids = self.ctx.control_ids
        tallies, groups, file_fresh = self.tallies, self.groups, self.file_fresh
        for (tool, rule_id, sha, slot, method, mits, targets, mapped_by), (count, last) in agg.items():
            if slot == FUTURE:
                self.future += count
                continue
            if slot == IRREGULAR:
                self.irregular = True
                continue
            if decode is not None:
                sha, mits, targets = decode(sha, mits, targets)
            rule = tool + ":" + rule_id
            # controls named directly by an attestation (the store's derived ``controls`` are not used: the
            # engine derives controls from mitigations through the current KB)
            ctrls = tuple(t for t in targets if t in control_ids) if targets else ()
            keys = [(m, rule) for m in mits] + [("control:" + c, rule) for c in ctrls]
            if slot in (STALE, UNDATED):
                if slot == STALE:
                    self.stale += count
                else:
                    self.undated += count
                file_fresh.setdefault(sha, False)
                for key in keys:
                    t = tallies.get(key)
                    if t is None:
                        t = tallies[key] = RuleTally(tool, mapped_by)
                    t.counts[slot] += count
                    t.files.add(sha)
                continue
            file_fresh[sha] = True
            for key in keys:
                t = tallies.get(key)
                if t is None:
                    t = tallies[key] = RuleTally(tool, mapped_by)
                t.counts[slot] += count
                t.files.add(sha)
                t.methods.add(method)
            g = groups.get((sha, rule))
            if g is None:
                g = groups[(sha, rule)] = FileRuleGroup(tool)
            g.counts[slot if slot < 3 else 3] += count
            if last > g.collected:
                g.collected = last
            g.methods.add(method)
            if mits:
                g.mitigations.update(mits)
            if ctrls:
                g.controls.update(ctrls)
        for sha, tool, rule_id, subject in subjects:
            if decode is not None:
                sha = decode(sha, "", "")[0]
            groups[(sha, tool + ":" + rule_id)].subjects.add(subject)

    def add_failing_rows(
        self, rows: Iterable[FailingRow], shas: dict[int, str]
    ) -> tuple[dict[str, FindingRecord], list[str], dict[tuple[str, str], list[str]]]:
        """:meth:`add_failing` for the store's open failures (:meth:`Store.open_failures`), unpacked positionally
        (there may be many). Every
        ``last_seen`` is canonical here; ``shas`` maps file ids to sha256. It does not need the tallies (it may run
        while they are read): the failing identities per tally key are returned for :meth:`attach_failing`."""
        kept: dict[str, FindingRecord] = {}
        unmapped: list[str] = []
        by_key: dict[tuple[str, str], list[str]] = {}
        control_ids = self.ctx.control_ids
        for row in rows:
            (ident, tool, rule_id, title, severity, result, resource, function, file, line, pointer, message, method,
             targets, first, last, status, fid, mits_s, mapped_by) = row  # fmt: skip
            rule = tool + ":" + rule_id
            mits = mits_s.split() if mits_s else []
            ctrls = [t for t in targets.split() if t in control_ids] if targets else []
            for m in mits:
                key = (m, rule)
                ids = by_key.get(key)
                if ids is None:
                    by_key[key] = [ident]
                else:
                    ids.append(ident)
            for c in ctrls:
                key = ("control:" + c, rule)
                ids = by_key.get(key)
                if ids is None:
                    by_key[key] = [ident]
                else:
                    ids.append(ident)
            if len(first) != 20 or first[-1] != "Z":
                first = norm_time(first)
            if len(mits) > 1:
                mits.sort()
            if len(ctrls) > 1:
                ctrls.sort()
            kept[ident] = FindingRecord(
                ident,
                tool,
                rule_id,
                rule,
                title,
                severity,
                result,
                status,
                function or resource or file,
                resource,
                function,
                file,
                line,
                pointer,
                shas[fid],
                first,
                last,
                method,
                mits,
                ctrls,
                mapped_by,
                message,
            )
            if not mits and not ctrls:
                unmapped.append(ident)
        return kept, unmapped, by_key

    def attach_failing(self, by_key: dict[tuple[str, str], list[str]]) -> None:
        """Give the tallies the failing identities that :meth:`add_failing_rows` found."""
        tallies = self.tallies
        for key, ids in by_key.items():
            t = tallies.get(key)
            if t is None:  # the failing rows and the tallies were read from different states of the store
                raise StoreError("the evidence store changed while it was being assessed: run the assessment again")
            t.failing.extend(ids)

    def add_failing(self, records: Iterable[FindingLike]) -> tuple[dict[str, FindingRecord], list[str]]:
        """The fresh open failures in full (for paths, POA&M and diff), and the unmapped ones."""
        kept: dict[str, FindingRecord] = {}
        unmapped: list[str] = []
        control_ids = self.ctx.control_ids
        for r in records:
            rule = r.tool + ":" + r.rule_id
            ctrls = tuple(t for t in r.targets if t in control_ids) if r.targets else ()
            ident = r.identity
            for key in [(m, rule) for m in r.mitigations] + [("control:" + c, rule) for c in ctrls]:
                self.tallies[key].failing.append(ident)
            last = r.last_seen if len(r.last_seen) == 20 else norm_time(r.last_seen)
            kept[ident] = FindingRecord(
                identity=ident,
                tool=r.tool,
                rule_id=r.rule_id,
                rule=rule,
                title=r.rule_title,
                severity=r.severity,
                result=r.result,
                status=r.status,
                subject=r.function or r.resource or r.file,
                resource=r.resource,
                function=r.function,
                file=r.file,
                line=r.line,
                pointer=r.pointer,
                file_sha256=r.file_sha256,
                first_seen=norm_time(r.first_seen),
                last_seen=last,
                method=r.method,
                mitigations=sorted(r.mitigations),
                controls=sorted(ctrls),
                mapped_by=r.mapped_by,
                message=r.message,
            )
            if not r.mitigations and not ctrls:
                unmapped.append(ident)
        return kept, unmapped


def check_args(unmapped: str, max_age_days: int) -> None:
    if unmapped not in rules.UNMAPPED_MODES:
        raise ValueError(f"unmapped must be one of {rules.UNMAPPED_MODES}")
    if max_age_days < 0:
        raise ValueError("max_age_days must not be negative")


def finish(
    kb: KB,
    acc: Accumulator,
    kept: dict[str, FindingRecord],
    unmapped_ids: list[str],
    files: Iterable[FileLike],
    *,
    scopes: list[str],
    now: datetime,
    max_age_days: int,
    unmapped: str,
    blob_out: list[bytes] | None = None,
    determinations: Iterable[Determination] = (),
    policy: RemediationPolicy | None = None,
    kev: KevCatalog | None = None,
    system: str | None = None,
    outside_findings: int = 0,
    triage: TriageContext | None = None,
    profile: ResolvedProfile | None = None,
) -> Assessment:
    """Status rules 3 to 5 over the tallies, then observations, POA&M and the content id. ``system`` and
    ``outside_findings`` record an assessment of one system (part of the content id). When ``blob_out`` is
    given, the assessment's serialisation as :mod:`compliance.assess.db` stores it (see :func:`identify`) is
    appended to it. ``policy`` (default: :data:`DEFAULT_POLICY`) dates the POA&M items; ``kev`` brings forward
    the due date of an item whose findings name a known exploited CVE. With either, the policy's name and each
    item's due basis are recorded. ``triage`` brings triage decisions, the previous assessment and attack paths
    (:mod:`compliance.assess.triage`)."""
    tctx = triage or TriageContext()
    dismissed = drop_false_positives(kept, tctx.effect)
    if dismissed:
        _dismiss(acc, dismissed, unmapped_ids)
    idx = KBIndex.build(kb)
    scope = resolve(kb, scopes, idx, profile)
    now_s, start_s = acc.ctx.now_s, acc.ctx.start_s
    tallies, groups, file_fresh = acc.tallies, acc.groups, acc.file_fresh
    stale_n, future_n, undated_n = acc.stale, acc.future, acc.undated

    # ---- rules 2 to 4: rule evidence and mitigations
    mapper = Mapper(kb)
    by_mit: dict[str, list[RuleEvidence]] = {}
    direct: dict[str, list[RuleEvidence]] = {}
    for (target, rule), t in sorted(tallies.items()):
        if target.startswith("control:"):
            direct.setdefault(target[8:], []).append(t.evidence(rule, None))
            continue
        node = (
            mapper.rule_node(t.tool, rule[len(t.tool) + 1 :])
            if t.mapped_by == "rule"
            else t.tool + ":*"
            if t.mapped_by == "tool"
            else None
        )
        rel = idx.rule_links.get((node, target)) if node is not None else None
        by_mit.setdefault(target, []).append(t.evidence(rule, rel))
    mit_ids = sorted(
        {m for links in idx.control_mitigations.values() for m, _ in links}
        | set(by_mit)
        | {m for links in idx.safeguard_mitigations.values() for m, _ in links}
    )
    # mitigations the design check can see: their inventory is every element of that kind in the design
    inventory = {p.mitigation: p.subject for p, _o in kb.design_predicates.values()}
    mitigations: dict[str, MitigationResult] = {}
    for m in mit_ids:
        evs = by_mit.get(m, [])
        status = rules.mitigation_status(
            (rules.counted_outcome(e.outcome, e.mapped_by), _incomplete(e)) for e in evs if e.determinative
        )
        reason = _mit_reason(status, evs)
        if status == rules.SATISFIED and m in inventory:
            whole = any(e.tool == DESIGN_TOOL and e.determinative and e.outcome == "pass" for e in evs)
            status = rules.covered_by_inventory(status, whole)
            if not whole:
                reason += (
                    f"; but no design inventory shows every {inventory[m]} of the system covered "
                    "(run 'sckb design check --evidence')"
                )
        mitigations[m] = MitigationResult(m, title_of(kb, m), status, reason, evs)

    # ---- rule 5: controls
    controls: dict[str, ControlResult] = {}
    for cid, in_scopes in scope.controls.items():
        controls[cid] = _control(kb, idx, cid, in_scopes, mitigations, direct.get(cid, []))

    # ---- rule 6: framework items
    safeguards: dict[str, SafeguardResult] = {}

    def safeguard(sid: str, trail: frozenset[str] = frozenset()) -> SafeguardResult:
        hit = safeguards.get(sid)
        if hit is not None:
            return hit
        specs = [s for s in idx.safeguard_specs.get(sid, []) if s not in trail]
        members = [safeguard(s, trail | {sid}) for s in specs]
        res = _safeguard(kb, idx, sid, mitigations, direct.get(sid, []), controls, members)
        safeguards[sid] = res
        return res

    for sid in scope.safeguards:
        safeguard(sid)
    safeguards = {k: safeguards[k] for k in sorted(safeguards)}
    apply_determinations(controls, safeguards, determinations, now_s)

    # ---- observations, POA&M, files: only what reaches the scope
    scope_mits = {ln.id for c in controls.values() for ln in c.mitigations}
    scope_mits |= {ln.id for s in safeguards.values() for ln in s.mitigations}
    scope_ctrls = set(controls)
    observations: list[Observation] = []
    for (sha, rule), g in sorted(groups.items()):
        mits_in = sorted(g.mitigations & scope_mits)
        ctrls_in = sorted(g.controls & scope_ctrls, key=control_sort_key)
        if not mits_in and not ctrls_in:
            continue
        gc = g.counts
        observations.append(
            Observation(
                file_sha256=sha,
                rule=rule,
                tool=g.tool,
                collected=g.collected,
                passed=gc[0],
                failed=gc[1],
                errors=gc[2],
                other=gc[3],
                methods=sorted(g.methods),
                subjects=sorted(g.subjects),
                mitigations=mits_in,
                controls=ctrls_in,
            )
        )
    used = {o.file_sha256 for o in observations}
    for t in tallies.values():
        used.update(t.files)
    file_refs = [
        EvidenceFileRef(
            f.sha256,
            f.name,
            f.tool,
            f.format,
            norm_time(f.scan_time),
            file_fresh.get(f.sha256, False),
            completeness(f.format, getattr(f, "completeness", None)),  # optional: the format's when not recorded
        )
        for f in files
        if f.sha256 in used
    ]
    file_refs.sort(key=lambda f: f.sha256)

    recorded = policy is not None or kev is not None
    pol = policy or DEFAULT_POLICY
    notes = expired_notes(tctx.effect)

    def kb_severity(rule: str) -> str | None:
        tool, rule_id = rule.split(":", 1)
        node = mapper.rule_node(tool, rule_id)
        entry = kb.nodes.get(node) if node is not None else None
        sev = getattr(entry.record, "severity", None) if entry is not None else None
        if not isinstance(sev, str) or not sev.strip():
            return None
        # the KB keeps the tool's own word ("WARNING", "failure (F)", "MEDIUM (older doc) / LOW (later)"): its
        # first word, read as the parsers read a finding's severity
        return normalise_severity(sev.split()[0].strip("(),"))

    poam, by_rule = _poam(kept, controls, scope_mits, now, observations, pol, kev, recorded, kb_severity)
    fp_by_rule: dict[str, list[str]] = {}
    for ident, f in dismissed.items():
        fp_by_rule.setdefault(f.rule, []).append(ident)
    for item in poam:
        decorate(item, by_rule[item.rule], tctx, pol, now, kb_severity(item.rule), fp_by_rule.get(item.rule, []), notes)
    open_rules = {p.rule for p in poam}
    fp_items: list[PoamItem] = []
    if dismissed:
        gone, gone_by_rule = _poam(dismissed, controls, scope_mits, now, observations, pol, kev, recorded, kb_severity)
        for item in gone:
            if item.rule not in open_rules:
                decorate(item, gone_by_rule[item.rule], tctx, pol, now, kb_severity(item.rule), [], notes)
                fp_items.append(closed_item(item, now_s, "false positive (approved)", fp_by_rule[item.rule]))
    closed_poam, conmon = close_and_compare(poam, fp_items, tctx, now_s, notes)
    findings_sorted = {k: kept[k] for k in sorted(kept)}
    a = Assessment(
        id="",
        now=now_s,
        window_start=start_s,
        max_age_days=max_age_days,
        scopes=scope.names,
        unmapped_mode=unmapped,
        controls=controls,
        mitigations=mitigations,
        safeguards=safeguards,
        findings=findings_sorted,
        observations=observations,
        files=file_refs,
        poam=poam,
        unmapped=sorted(unmapped_ids) if unmapped != "ignore" else [],
        stale_findings=stale_n,
        future_findings=future_n,
        undated_findings=undated_n,
        accept_ingest_time=acc.ctx.accept_ingest_time,
        remediation_policy=(policy or DEFAULT_POLICY).name if recorded else None,
        system=system,
        outside_findings=outside_findings if system is not None else 0,
        closed_poam=closed_poam,
        conmon=conmon,
        triage_notes=notes,
        profile=profile.info if profile is not None else None,
    )
    blob = identify(a)
    if blob_out is not None:
        blob_out.append(blob)
    return a


def apply_determinations(
    controls: dict[str, ControlResult],
    safeguards: dict[str, SafeguardResult],
    determinations: Iterable[Determination],
    now_s: str,
) -> None:
    """Assessors' determinations stand above the derived status: the latest one per item made no later than
    ``now`` sets the item's status; the derived status stays beside it."""
    for c in controls.values():
        c.derived_status = c.derived_status or c.status
    for sg in safeguards.values():
        sg.derived_status = sg.derived_status or sg.status
    latest: dict[str, Determination] = {}
    for d in determinations:
        if d.date and d.date > now_s:
            continue
        prev = latest.get(d.target)
        if prev is None or (d.date, d.source) >= (prev.date, prev.source):
            latest[d.target] = d
    for target, d in latest.items():
        item: ControlResult | SafeguardResult | None = controls.get(target) or safeguards.get(target)
        if item is not None:
            item.determination = d
            item.status = d.status


def identify(a: Assessment) -> bytes:
    """Set ``a.id`` to :func:`content_id` and return the serialisation it hashed (the assessment with an empty
    id), which is what :func:`compliance.assess.db.save` stores: one serialisation instead of two."""
    a.id = ""
    blob = dump(a)
    a.id = "A-" + hashlib.sha256(blob).hexdigest()[:16]
    return blob


def content_id(a: Assessment) -> str:
    """The assessment id: a hash of everything it decided (so the same inputs give the same id)."""
    saved, a.id = a.id, ""
    try:
        blob = dump(a)
    finally:
        a.id = saved
    return "A-" + hashlib.sha256(blob).hexdigest()[:16]


def _incomplete(e: RuleEvidence) -> bool:
    """Status rule 3: evidence without a fresh pass or fail (only stale, undated or errored results)."""
    return e.outcome in ("error", "none") and bool(e.stale or e.undated or e.errors)


def _mit_reason(status: str, evs: list[RuleEvidence]) -> str:
    det = [e for e in evs if e.determinative]
    failing = [f"{e.rule} ({e.failed} failing)" for e in det if e.outcome == "fail"]
    passing = [e.rule for e in det if rules.counted_outcome(e.outcome, e.mapped_by) == "pass"]
    incomplete = [e.rule for e in det if _incomplete(e)]
    related = [e for e in evs if not e.determinative and e.outcome in ("fail", "pass")]
    related += [e for e in det if e.outcome == "pass" and not rules.pass_counts(e.mapped_by)]
    tail = ""
    if related:
        tail = f"; {len(related)} related rule(s) shown, not counted ({_via(related[0])})"
    if status == rules.NOT_SATISFIED:
        return "failing: " + ", ".join(failing) + tail
    if status == rules.SATISFIED:
        return "passing: " + ", ".join(passing) + tail
    if status == rules.PARTIAL:
        return "passing: " + ", ".join(passing) + "; without a fresh outcome: " + ", ".join(incomplete) + tail
    stale = sum(e.stale for e in det)
    undated = sum(e.undated for e in det)
    errors = sum(e.errors for e in det)
    if stale:
        return f"only stale evidence ({stale} finding(s) older than the window)" + tail
    if undated:
        return f"only undated evidence ({undated} finding(s) whose scan time is unknown)" + tail
    if errors:
        return f"only errors ({errors} check(s) could not run)" + tail
    if related:
        return "no determinative evidence" + tail
    return "no evidence"


def _via(e: RuleEvidence) -> str:
    """How a rule's evidence reaches its mitigation, when it is related only."""
    if e.mapped_by == "tool":
        return f"{e.rule} through the tool-wide fallback"
    if e.mapped_by == "cwe":
        return f"{e.rule} through its CWE"
    return f"{e.rule} {e.relationship or 'untyped'}"


def _related_of(mitigations: dict[str, MitigationResult], links: list[MitigationLink]) -> tuple[list[Related], list[str]]:
    """Status rules 5 and 7: related evidence of an item and why it needs review."""
    related: list[Related] = []
    review: list[str] = []
    for ln in links:
        m = mitigations[ln.id]
        if not ln.determinative:
            if ln.status in (rules.SATISFIED, rules.PARTIAL, rules.NOT_SATISFIED):
                related.append(Related("link", ln.id, ln.status, ln.relationship))
                if ln.status == rules.NOT_SATISFIED:
                    review.append(f"related mitigation {ln.id} ({ln.relationship or 'untyped'}) is not-satisfied")
            continue
        for e in m.rules:
            if not e.determinative and e.outcome in ("fail", "pass"):
                via = "tool" if e.mapped_by == "tool" else "cwe" if e.mapped_by == "cwe" else "rule"
                related.append(Related(via, e.rule, e.outcome, e.relationship))
                if e.outcome == "fail":
                    review.append(f"{_via(e)} fails for {ln.id}")
    return related, review


@dataclass(slots=True)
class _Decision:
    """What status rules 2 and 5 give one control or framework item, before its own additions."""

    links: list[MitigationLink]
    allowed: list[RuleEvidence]
    decided: rules.Decided
    related: list[Related]
    review: list[str]
    examine_only: bool


def _decide(
    kb: KB,
    item: str,
    pairs: list[tuple[str, str | None]],
    idx: KBIndex,
    mitigations: dict[str, MitigationResult],
    att: list[RuleEvidence],
    parts: tuple[str, ...],
) -> _Decision:
    """Rules 2 and 5 for a control or framework item: its links (determinative unless only EXAMINE/INTERVIEW
    can decide it), the attestations whose method may decide it, the covering status, related evidence and
    review reasons."""
    methods = kb.methods_required(item)
    examine_only = methods is not None and "TEST" not in methods
    links = [
        MitigationLink(
            m,
            rel,
            mitigations[m].status,
            rules.is_determinative(rel) and not examine_only,
            list(idx.link_parts.get((m, item), ())),
        )
        for m, rel in pairs
    ]
    allowed = [e for e in att if methods is None or set(e.methods) & methods]
    decided = rules.covering_status(
        parts, [(ln.status, ln.relationship, ln.parts) for ln in links if ln.determinative], [e.outcome for e in allowed]
    )
    related, review = _related_of(mitigations, links)
    if examine_only:
        review = [r for r in review if not r.startswith("related mitigation")]
        only = "/".join(sorted(methods or ()))
        review += [
            f"{ln.id} is not-satisfied (scanner evidence; only {only} can decide)"
            for ln in links
            if ln.status == rules.NOT_SATISFIED
        ]
    return _Decision(links, allowed, decided, related, review, examine_only)


def _control(
    kb: KB,
    idx: KBIndex,
    cid: str,
    in_scopes: list[str],
    mitigations: dict[str, MitigationResult],
    att: list[RuleEvidence],
) -> ControlResult:
    """Status rule 5 for one control."""
    resp = kb.party(cid)
    party = resp.party if resp is not None else None
    basis = resp.basis if resp is not None else None
    parts = kb.statement_parts(cid)
    d = _decide(kb, cid, idx.control_mitigations.get(cid, []), idx, mitigations, att, parts)
    links, allowed, decided, related, review = d.links, d.allowed, d.decided, d.related, d.review
    status = rules.INHERITED if party == "provider" else decided.status
    return ControlResult(
        id=cid,
        title=title_of(kb, cid),
        status=status,
        reason=_reason(status, decided, links, allowed, party, basis, parts, d.examine_only),
        party=party,
        scopes=in_scopes,
        mitigations=links,
        direct=att,
        derived_status=status,
        parts=list(parts),
        covered=list(decided.covered),
        related=related,
        review=review,
        basis=basis,
    )


def _safeguard(
    kb: KB,
    idx: KBIndex,
    sid: str,
    mitigations: dict[str, MitigationResult],
    att: list[RuleEvidence],
    controls: dict[str, ControlResult],
    members: list[SafeguardResult],
) -> SafeguardResult:
    """Status rule 6 for one framework item."""
    d = _decide(kb, sid, idx.safeguard_mitigations.get(sid, []), idx, mitigations, att, (sid,))
    links, allowed, related, review = d.links, d.allowed, d.related, d.review
    status = rules.group_status(d.decided.status, [s.status for s in members])
    ctrls = idx.safeguard_controls.get(sid, [])
    for c in ctrls:
        cr = controls.get(c)
        if cr is None:
            continue
        related.append(Related("crosswalk", c, cr.status, None))
        if cr.status == rules.NOT_SATISFIED:
            review.append(f"crosswalked control {c} is not-satisfied")
    det = [ln for ln in links if ln.determinative]
    what = f"{len(det)} determinative mitigation(s)"
    if allowed:
        what += f", {len(allowed)} attestation(s)"
    if members:
        what += f", {len(members)} member item(s) ({', '.join(f'{s.id}={s.status}' for s in members)})"
    reason = (
        f"{status}: from {what}; {len(ctrls)} crosswalked control(s) and {len(links) - len(det)} other link(s) are related only"
    )
    return SafeguardResult(
        sid,
        title_of(kb, sid),
        status,
        reason,
        links,
        list(ctrls),
        [s.id for s in members],
        derived_status=status,
        direct=att,
        related=related,
        review=review,
    )


def _reason(
    status: str,
    decided: rules.Decided,
    links: list[MitigationLink],
    att: list[RuleEvidence],
    party: str | None,
    basis: str | None,
    parts: tuple[str, ...],
    examine_only: bool,
) -> str:
    """A control's status in words (status rule 5)."""
    if status == rules.INHERITED:
        return "inherited: the provider implements it" + (f" ({basis})" if basis else "")
    det = [ln for ln in links if ln.determinative]
    failing = [f"{ln.id} ({ln.relationship}) is not-satisfied" for ln in det if ln.status == rules.NOT_SATISFIED]
    failing += [f"attestation {e.rule} fails" for e in att if e.outcome == "fail"]
    if status == rules.NOT_SATISFIED:
        return "not-satisfied: " + "; ".join(failing)
    passing = [f"attestation {e.rule} passes ({'/'.join(e.methods)})" for e in att if e.outcome == "pass"]
    passing += [f"{ln.id} ({ln.relationship}) is {ln.status}" for ln in det if ln.status in (rules.SATISFIED, rules.PARTIAL)]
    if status == rules.SATISFIED:
        return "satisfied: every statement part is covered: " + "; ".join(passing)
    if status == rules.PARTIAL:
        n = len(decided.covered)
        named = f" ({', '.join(decided.covered)})" if n else ""
        return f"partially-satisfied: {'; '.join(passing)}; covers {n} of {len(parts)} statement part(s){named}"
    if examine_only:
        return "not-assessed: only EXAMINE or INTERVIEW evidence (an attestation or a determination) can decide this control"
    if not links and not att:
        return "not-assessed: no mitigation in the KB reaches this control"
    if not det and not att:
        return f"not-assessed: {len(links)} mitigation(s) reach it by related links only; none can decide it"
    return "not-assessed: no determinative evidence with a fresh outcome"


def _dismiss(acc: Accumulator, dismissed: dict[str, FindingRecord], unmapped_ids: list[str]) -> None:
    """Take approved false positives out of the tallies (triage rule 1): each stops being a failure of its rule
    for every mitigation and control it reached, and of its evidence file's group; it is counted as closed."""
    for ident, f in dismissed.items():
        for key in [(m, f.rule) for m in f.mitigations] + [("control:" + c, f.rule) for c in f.controls]:
            t = acc.tallies.get(key)
            if t is None:
                continue
            if t.counts[FAIL] > 0:
                t.counts[FAIL] -= 1
                t.counts[CLOSED] += 1
            if ident in t.failing:
                t.failing.remove(ident)
        g = acc.groups.get((f.file_sha256, f.rule))
        if g is not None and g.counts[1] > 0:
            g.counts[1] -= 1
            g.counts[3] += 1
    if unmapped_ids:
        unmapped_ids[:] = [i for i in unmapped_ids if i not in dismissed]


def remediation_days(severity: str | None, policy: RemediationPolicy | None = None) -> int:
    return (policy or DEFAULT_POLICY).days(severity)


_TIME = "%Y-%m-%dT%H:%M:%SZ"


def _poam(
    kept: dict[str, FindingRecord],
    controls: dict[str, ControlResult],
    scope_mits: set[str],
    now: datetime,
    observations: list[Observation],
    policy: RemediationPolicy,
    kev: KevCatalog | None = None,
    recorded: bool = False,
    kb_severity: Callable[[str], str | None] | None = None,
) -> tuple[list[PoamItem], dict[str, list[FindingRecord]]]:
    """One item per rule with fresh open failures in scope, due ``policy``'s window of its rating (triage rule 2)
    after first seen, or by the KEV catalogue's date when that is earlier. ``recorded``: keep the due basis on the
    item. Also returns each item's findings by rule."""
    groups: dict[str, list[FindingRecord]] = {}
    for f in kept.values():
        if not scope_mits.isdisjoint(f.mitigations) or not controls.keys().isdisjoint(f.controls):
            fs = groups.get(f.rule)
            if fs is None:
                groups[f.rule] = [f]
            else:
                fs.append(f)
    obs_by_rule: dict[str, list[str]] = {}
    for o in observations:
        if o.failed:
            obs_by_rule.setdefault(o.rule, []).append(o.key)
    mit_controls: dict[str, set[str]] = {}
    for c in controls.values():
        for ln in c.mitigations:
            if ln.determinative:  # a POA&M item names the controls its weakness decides (status rule 2)
                mit_controls.setdefault(ln.id, set()).add(c.id)
    items: list[PoamItem] = []
    for rule, fs in sorted(groups.items()):
        # one pass over the rule's findings; severities in order of first appearance, so that max() keeps the
        # first of equal ranks as it would over all of them
        sevs: dict[str, None] = {}
        first = fs[0].first_seen
        mit_set: set[str] = set()
        ctrls: set[str] = set()
        title_set: set[str] = set()
        subject_set: set[str] = set()
        idents: list[str] = []
        texts: list[str | None] = []
        for f in fs:
            if kev is not None:
                texts += (f.rule_id, f.title, f.message)
            sevs[f.severity or ""] = None
            if f.first_seen < first:
                first = f.first_seen
            mit_set.update(f.mitigations)
            if f.controls:
                ctrls.update(c for c in f.controls if c in controls)
            if f.title:
                title_set.add(f.title)
            if f.subject:
                subject_set.add(f.subject)
            idents.append(f.identity)
        worst = worst_severity(list(sevs))
        rated, rated_by = rating(policy, list(sevs), kb_severity(rule) if kb_severity is not None else None)
        days = policy.windows[rated]
        due_dt = datetime.strptime(first, _TIME).replace(tzinfo=UTC) + timedelta(days=days)
        basis = f"window {rated} {days} days" + ("" if rated_by == "tool" else f" ({rated_by})") if recorded else ""
        cves = kev.match(texts) if kev is not None else []
        kev_due: str | None = None
        if kev is not None and cves:
            kev_due = min(kev.due[c] for c in cves)
            kev_dt = datetime.strptime(kev_due + "T00:00:00Z", _TIME).replace(tzinfo=UTC)
            if kev_dt < due_dt:
                due_dt, basis = kev_dt, "CISA KEV due date"
        mits = sorted(mit_set & scope_mits)
        ctrls.update(c for m in mits for c in mit_controls.get(m, ()))
        titles = sorted(title_set)
        items.append(
            PoamItem(
                rule=rule,
                title=f"{rule}: {titles[0]}" if titles else rule,
                severity=worst or "unspecified",
                window_days=days,
                first_seen=first,
                due=iso(due_dt),
                overdue=due_dt < now,
                findings=sorted(idents),
                subjects=sorted(subject_set),
                controls=sorted(ctrls, key=control_sort_key),
                mitigations=mits,
                observations=sorted(obs_by_rule.get(rule, [])),
                due_basis=basis,
                kev=bool(cves),
                kev_cves=cves,
                kev_due=kev_due,
            )
        )
    return items, groups
