"""Triage: a team's decisions about findings, recorded as evidence (issue 22).

Scanners report weaknesses; people decide what they mean. A triage decision says, about one finding (its
identity, which stays the same when the next scan reports it again) or about every finding of a rule, one of
:data:`KINDS`:

``false-positive``           the finding is not a weakness of this system
``risk-adjustment``          the weakness is real but its risk is other than the scanner's rating (``adjusted_rating``)
``operational-requirement``  the weakness cannot be fixed without breaking the system's mission
``risk-acceptance``          the organisation accepts the risk for a time (``expires`` required)
``vendor-dependency``        the fix waits on a vendor (``product``, ``last_checkin``)
``remediation-plan``         how and when it will be fixed (``plan``, ``milestones``, ``resources``)

Every decision carries who made it (``by``), when (``date``), why (``rationale``), optionally who approved it
(``approved_by``: the authorizing official or their delegate), a point of contact (``poc``), supporting documents
(copied into the locker and named by their SHA-256, like attestation attachments) and an expiry (``expires``)
after which it stops counting. What each kind changes in an assessment is decided by the assessment
(:mod:`compliance.assess.triage`); this module records and reads decisions, and says which are in effect.

The store keeps every record (:class:`~compliance.evidence.store.TriageRecord`): a newer record of the same target
and kind supersedes an older one, and a withdrawal is itself a record. Decisions come from the command line
(``sckb evidence triage ID --kind ...``) or from a YAML file (``sckb evidence triage --file F``)::

    sckb-triage: 1
    decisions:
      - finding: 3f2a9c01                # a finding identity or a unique prefix; or
        # rule: bandit:B105              # every finding of a rule (tool:rule_id)
        kind: false-positive
        rationale: The string is a test fixture's placeholder, never deployed.
        by: Sam Ortiz
        approved_by: Dana Reyes (AO)     # optional
        date: 2026-11-20                 # optional: the command's clock (--now)
        expires: 2027-05-20              # optional (required for risk-acceptance)
        poc: sam.ortiz@example.org       # optional
        documents: [evidence/fp-review.pdf]   # optional, relative to the triage file
      - rule: checkov:CKV_AWS_117
        kind: remediation-plan
        rationale: Move the functions into the VPC with the next release.
        by: Sam Ortiz
        plan: Attach the three functions to the private subnets.
        milestones:
          - {date: 2026-12-15, description: Subnets and endpoints in the template}
          - {date: 2027-01-10, description: Functions moved and verified}
      - finding: 9b01
        kind: vendor-dependency
        product: aws-lambda-powertools 2.x
        last_checkin: 2026-11-28
        rationale: Fixed upstream in 3.0; waiting on the vendor's LTS backport.
        by: Sam Ortiz
      - rule: bandit:B105
        kind: risk-adjustment
        withdraw: true                   # withdraws that target's decision of that kind
        rationale: Superseded by the false-positive review.
        by: Sam Ortiz
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from compliance.errors import InputError, NotFoundError
from compliance.evidence.parsing import iso_time
from compliance.evidence.store import Store, TriageRecord
from compliance.vocab import SEVERITIES, TRIAGE_KINDS, iso

#: The kinds of decision, in the order the POA&M template's columns name them.
KINDS = TRIAGE_KINDS
#: Kinds that ask for a deviation from the remediation schedule (FedRAMP: a deviation request to the AO).
DEVIATIONS = ("false-positive", "risk-adjustment", "operational-requirement", "risk-acceptance")
#: Kinds that must carry an expiry.
EXPIRY_REQUIRED = ("risk-acceptance",)
#: Ratings a risk adjustment may give (the severity vocabulary, plus FedRAMP's "moderate").
RATINGS = (*SEVERITIES, "moderate")
#: The fields of each kind beyond the common ones, and whether each is required.
KIND_FIELDS: dict[str, dict[str, bool]] = {
    "false-positive": {},
    "risk-adjustment": {"adjusted_rating": True},
    "operational-requirement": {},
    "risk-acceptance": {},
    "vendor-dependency": {"product": True, "last_checkin": False},
    "remediation-plan": {"plan": True, "milestones": False, "resources": False},
}
_COMMON = {"finding", "rule", "kind", "rationale", "by", "approved_by", "date", "expires", "poc", "documents", "withdraw"}
_ALL_FIELDS = _COMMON | {f for fs in KIND_FIELDS.values() for f in fs}
#: The first line of a triage file.
MARK = "sckb-triage"
MAX_BYTES = 4 * 1024 * 1024
RULE_PREFIX = "rule:"
_IDENTITY = re.compile(r"^[0-9a-f]{4,32}$")
_RULE = re.compile(r"^[^:\s]+:\S+$")


@dataclass(frozen=True, slots=True)
class Milestone:
    date: str  # YYYY-MM-DD
    description: str


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision in effect (or expired), with the kind's fields read back from the record."""

    target: str
    kind: str
    rationale: str
    by: str
    date: str
    expires: str | None
    approved_by: str | None
    source: str
    seq: int
    poc: str | None = None
    documents: tuple[tuple[str, str], ...] = ()
    adjusted_rating: str | None = None
    product: str | None = None
    last_checkin: str | None = None
    plan: str | None = None
    milestones: tuple[Milestone, ...] = ()
    resources: str | None = None

    @property
    def approved(self) -> bool:
        return bool(self.approved_by)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "target": self.target,
            "kind": self.kind,
            "rationale": self.rationale,
            "by": self.by,
            "date": self.date,
            "expires": self.expires,
            "approved_by": self.approved_by,
            "poc": self.poc,
            "documents": [{"name": n, "sha256": h} for n, h in self.documents],
            "source": self.source,
            "seq": self.seq,
        }
        for name in KIND_FIELDS[self.kind]:
            v = getattr(self, name)
            d[name] = [{"date": m.date, "description": m.description} for m in v] if name == "milestones" else v
        return d


@dataclass(frozen=True, slots=True)
class InEffect:
    """The decisions an assessment at a clock applies, and those that expired (they no longer count)."""

    #: target -> kind -> decision
    by_target: dict[str, dict[str, Decision]] = field(default_factory=dict)
    expired: tuple[Decision, ...] = ()
    #: every record of the history up to the clock, per (target, kind), oldest first (for milestone changes)
    superseded: dict[tuple[str, str], tuple[Decision, ...]] = field(default_factory=dict)

    def for_finding(self, identity: str, rule: str) -> dict[str, Decision]:
        """Kind -> the decision that applies to one finding: its own, else its rule's."""
        out = dict(self.by_target.get(RULE_PREFIX + rule, {}))
        out.update(self.by_target.get(identity, {}))
        return out

    def __bool__(self) -> bool:
        return bool(self.by_target or self.expired)


@dataclass(frozen=True, slots=True)
class Entry:
    """One record of the history, as ``sckb evidence triaged`` lists it."""

    record: TriageRecord
    #: ``in-effect``, ``superseded``, ``withdrawal``, ``expired`` or ``future``
    state: str

    def as_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "seq": r.seq,
            "target": r.target,
            "kind": r.kind,
            "withdrawn": r.withdrawn,
            "rationale": r.rationale,
            "by": r.by,
            "date": r.date,
            "expires": r.expires,
            "approved_by": r.approved_by,
            "details": orjson.loads(r.details),
            "documents": [{"name": n, "sha256": h} for n, h in r.documents],
            "source": r.source,
            "state": self.state,
        }


# ---------------------------------------------------------------------- making records


@dataclass(slots=True)
class Draft:
    """A decision as given, before it is checked and its documents stored."""

    kind: str
    rationale: str
    by: str
    finding: str | None = None
    rule: str | None = None
    approved_by: str | None = None
    date: str | None = None
    expires: str | None = None
    poc: str | None = None
    documents: list[Path] = field(default_factory=list)
    withdraw: bool = False
    details: dict[str, Any] = field(default_factory=dict)


Bad = Callable[..., InputError]

_OPTIONS = {
    "finding": "ID",
    "rule": "--rule",
    "kind": "--kind",
    "rationale": "--rationale",
    "by": "--by",
    "approved_by": "--approved-by",
    "date": "--date",
    "expires": "--expires",
    "poc": "--poc",
    "documents": "--document",
    "adjusted_rating": "--adjusted-rating",
    "product": "--product",
    "last_checkin": "--last-checkin",
    "plan": "--plan",
    "milestones": "--milestone",
    "resources": "--resources",
}


def option_error(message: str, *key: str | int) -> InputError:
    """An error about a command-line value, naming the option."""
    return InputError(message, path=_OPTIONS.get(str(key[0]), "--" + str(key[0])) if key else "command line")


def _date(value: Any, bad: Bad, key: str) -> str:
    """A date (``YYYY-MM-DD``) or time as the canonical UTC time."""
    when = iso_time(str(value)) if value is not None else None
    if when is None:
        raise bad(f"{key} {value!r} is not an ISO date or time", key)
    return when


def _text(value: Any, bad: Bad, key: str, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise bad(f"'{key}' is required", key)
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise bad(f"'{key}' must be text", key)
    return " ".join(str(value).split()) if key != "plan" else str(value).strip()


def _details(kind: str, raw: dict[str, Any], bad: Bad, withdraw: bool) -> dict[str, Any]:
    allowed = KIND_FIELDS[kind]
    for key in sorted(raw):
        if raw[key] is not None and key not in allowed:
            raise bad(f"'{key}' does not belong to a {kind} decision (its fields: {', '.join(allowed) or 'none'})", key)
    out: dict[str, Any] = {}
    for key, required in allowed.items():
        value = raw.get(key)
        if key == "adjusted_rating" and value is not None:
            r = str(value).strip().lower()
            if r not in RATINGS:
                raise bad(f"adjusted_rating {value!r} is not one of {', '.join(RATINGS)}", key)
            out[key] = r
        elif key == "last_checkin" and value is not None:
            out[key] = _date(value, bad, key)[:10]
        elif key == "milestones":
            out[key] = _milestones(value, bad)
        else:
            text = _text(value, bad, key, required and not withdraw)
            if text is not None:
                out[key] = text
    return out


def _milestones(value: Any, bad: Bad) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad("'milestones' must be a list of {date, description}", "milestones")
    out: list[dict[str, str]] = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or set(map(str, m)) - {"date", "description"}:
            raise bad(f"milestone {i + 1}: a mapping with date and description", "milestones", i)

        def at(msg: str, *_key: str | int, _n: int = i) -> InputError:
            return bad(f"milestone {_n + 1}: {msg}", "milestones", _n)

        when = _date(m.get("date"), at, "date")
        text = _text(m.get("description"), at, "description", True)
        out.append({"date": when[:10], "description": str(text)})
    return sorted(out, key=lambda m: (m["date"], m["description"]))


def _target(store: Store, finding: str | None, rule: str | None, bad: Bad) -> str:
    if (finding is None) == (rule is None):
        raise bad("name exactly one target: a finding identity (or unique prefix) or a rule (tool:rule_id)", "finding")
    if rule is not None:
        rule = rule.strip()
        if not _RULE.match(rule):
            raise bad(f"rule {rule!r} is not tool:rule_id", "rule")
        tool, rule_id = rule.split(":", 1)
        if next(iter(store.findings(tool=tool, rule=rule_id)), None) is None:
            raise bad(f"no finding of rule {rule!r} in this workspace", "rule")
        return RULE_PREFIX + rule
    ident = str(finding).strip().lower()
    if not _IDENTITY.match(ident):
        raise bad(f"finding {finding!r} is not a finding identity (hex digits, at least 4)", "finding")
    try:
        return store.finding(ident).identity
    except NotFoundError as exc:
        raise bad(str(exc), "finding") from None


def check(store: Store, d: Draft, *, now: datetime, source: str, bad: Bad) -> tuple[TriageRecord, list[Path]]:
    """A checked record (documents not yet stored: their paths are returned beside it)."""
    if d.kind not in KINDS:
        raise bad(f"kind {d.kind!r} is not one of {', '.join(KINDS)}", "kind")
    target = _target(store, d.finding, d.rule, bad)
    rationale = _text(d.rationale, bad, "rationale", True)
    by = _text(d.by, bad, "by", True)
    details = _details(d.kind, d.details, bad, d.withdraw)
    if d.poc and d.poc.strip():
        details["poc"] = " ".join(d.poc.split())
    when = iso(now) if d.date is None else _date(d.date, bad, "date")
    expires = None if d.expires is None else _date(d.expires, bad, "expires")
    if expires is not None and expires <= when:
        raise bad(f"expires {d.expires} is not after the decision's date {when[:10]}", "expires")
    if d.kind in EXPIRY_REQUIRED and expires is None and not d.withdraw:
        raise bad(f"a {d.kind} decision needs an expiry (expires: YYYY-MM-DD)", "expires")
    for p in d.documents:
        if not p.is_file():
            raise bad(f"supporting document {str(p)!r} not found", "documents")
    return (
        TriageRecord(
            target=target,
            kind=d.kind,
            withdrawn=d.withdraw,
            rationale=str(rationale),
            by=str(by),
            date=when,
            expires=expires,
            approved_by=_text(d.approved_by, bad, "approved_by"),
            details=orjson.dumps(details, option=orjson.OPT_SORT_KEYS).decode(),
            documents=(),
            source=source,
        ),
        list(d.documents),
    )


def read_file(path: Path) -> list[tuple[Draft, Bad]]:
    """The decisions of a triage YAML file (format in the module docstring), each with its error maker (which
    names the file and the line of the field)."""
    from compliance.kb.yamlio import load_marked

    doc, items = load_marked(path, MARK, "decisions", max_bytes=MAX_BYTES, what="triage")
    out: list[tuple[Draft, Bad]] = []
    for i, item in enumerate(items):
        loc: tuple[str | int, ...] = ("decisions", i)

        def bad(msg: str, *key: str | int, _loc: tuple[str | int, ...] = loc) -> InputError:
            line = doc.line_of(_loc + key) if key else None
            return InputError(msg, path=path, line=line or doc.line_of(_loc) or 1)

        if not isinstance(item, dict):
            raise bad("each decision must be a mapping")
        unknown = sorted(set(map(str, item)) - _ALL_FIELDS)
        if unknown:
            fields_ = ", ".join(sorted(_ALL_FIELDS))
            raise bad(f"unknown field(s): {', '.join(unknown)} (a decision's fields: {fields_})", unknown[0])
        withdraw = item.get("withdraw", False)
        if not isinstance(withdraw, bool):
            raise bad("'withdraw' must be true or false", "withdraw")
        docs = item.get("documents") or []
        if not isinstance(docs, list) or not all(isinstance(x, str) and x.strip() for x in docs):
            raise bad("'documents' must be a list of file paths", "documents")
        paths: list[Path] = []
        for j, rel in enumerate(docs):
            if Path(rel).is_absolute():
                raise bad(f"document {rel!r} must be relative to the triage file", "documents", j)
            paths.append(path.parent / rel)
        kind = item.get("kind")
        if not isinstance(kind, str):
            raise bad(f"'kind' is required: one of {', '.join(KINDS)}", "kind")
        draft = Draft(
            kind=kind.strip(),
            rationale=item.get("rationale") or "",
            by=item.get("by") or "",
            finding=None if item.get("finding") is None else str(item["finding"]),
            rule=None if item.get("rule") is None else str(item["rule"]),
            approved_by=item.get("approved_by"),
            date=None if item.get("date") is None else str(item["date"]),
            expires=None if item.get("expires") is None else str(item["expires"]),
            poc=None if item.get("poc") is None else str(item["poc"]),
            documents=paths,
            withdraw=withdraw,
            details={k: item[k] for k in item if k not in _COMMON},
        )
        out.append((draft, bad))
    return out


# ---------------------------------------------------------------------- storing


def _store_document(store: Store, src: Path) -> str:
    """Copy ``src`` into the locker (content-addressed, atomic); its SHA-256."""
    tmp = store.tmp_dir() / f"triage-{os.getpid()}-{src.name}"
    h = hashlib.sha256()
    with src.open("rb") as fin, tmp.open("wb") as fout:
        while chunk := fin.read(1 << 20):
            h.update(chunk)
            fout.write(chunk)
    sha = h.hexdigest()
    store.put_locker(tmp, sha)
    return sha


def record(store: Store, checked: Sequence[tuple[TriageRecord, list[Path]]]) -> int:
    """Store the documents in the locker, then append the records (one transaction); how many were new. A
    document is stored before its record, so a crash between the two leaves an orphan copy, never a record whose
    document is missing."""
    out: list[TriageRecord] = []
    for rec, paths in checked:
        docs = tuple((p.name, _store_document(store, p)) for p in paths)
        out.append(
            TriageRecord(
                target=rec.target,
                kind=rec.kind,
                withdrawn=rec.withdrawn,
                rationale=rec.rationale,
                by=rec.by,
                date=rec.date,
                expires=rec.expires,
                approved_by=rec.approved_by,
                details=rec.details,
                documents=docs,
                source=rec.source,
            )
        )
    return store.add_triage(out)


# ---------------------------------------------------------------------- reading back


def to_decision(r: TriageRecord) -> Decision:
    d = orjson.loads(r.details)
    return Decision(
        target=r.target,
        kind=r.kind,
        rationale=r.rationale,
        by=r.by,
        date=r.date,
        expires=r.expires,
        approved_by=r.approved_by,
        source=r.source,
        seq=r.seq,
        poc=d.get("poc"),
        documents=r.documents,
        adjusted_rating=d.get("adjusted_rating"),
        product=d.get("product"),
        last_checkin=d.get("last_checkin"),
        plan=d.get("plan"),
        milestones=tuple(Milestone(m["date"], m["description"]) for m in d.get("milestones", [])),
        resources=d.get("resources"),
    )


def _latest(records: Iterable[TriageRecord], now_s: str) -> dict[tuple[str, str], TriageRecord]:
    latest: dict[tuple[str, str], TriageRecord] = {}
    for r in records:
        if r.date > now_s:
            continue
        key = (r.target, r.kind)
        prev = latest.get(key)
        if prev is None or (r.date, r.seq) >= (prev.date, prev.seq):
            latest[key] = r
    return latest


def in_effect(records: Sequence[TriageRecord], now: datetime) -> InEffect:
    """Per target and kind, the latest record dated no later than ``now``, unless it withdraws or has expired
    (an expired one is listed in ``expired``: it stops counting, and the assessment says so)."""
    now_s = iso(now)
    by_target: dict[str, dict[str, Decision]] = {}
    expired: list[Decision] = []
    for (target, kind), r in sorted(_latest(records, now_s).items()):
        if r.withdrawn:
            continue
        d = to_decision(r)
        if r.expires is not None and r.expires <= now_s:
            expired.append(d)
            continue
        by_target.setdefault(target, {})[kind] = d
    history: dict[tuple[str, str], list[Decision]] = {}
    for r in records:
        if r.date <= now_s and not r.withdrawn:
            history.setdefault((r.target, r.kind), []).append(to_decision(r))
    superseded = {k: tuple(v[:-1]) for k, v in sorted(history.items()) if len(v) > 1}
    return InEffect(by_target, tuple(expired), superseded)


def history(records: Sequence[TriageRecord], now: datetime) -> list[Entry]:
    """Every record with its state at ``now`` (see :class:`Entry`), in the order recorded."""
    now_s = iso(now)
    latest = {id(r) for r in _latest(records, now_s).values()}
    out: list[Entry] = []
    for r in records:
        if r.date > now_s:
            state = "future"
        elif r.withdrawn:
            state = "withdrawal"
        elif id(r) not in latest:
            state = "superseded"
        elif r.expires is not None and r.expires <= now_s:
            state = "expired"
        else:
            state = "in-effect"
        out.append(Entry(r, state))
    return out


def for_findings(effect: InEffect, findings: Iterable[tuple[str, str]]) -> dict[str, dict[str, Decision]]:
    """identity -> kind -> decision, for (identity, ``tool:rule_id``) pairs that have any decision."""
    out: dict[str, dict[str, Decision]] = {}
    for ident, rule in findings:
        d = effect.for_finding(ident, rule)
        if d:
            out[ident] = d
    return out
