"""Assessors' determinations: recorded in the workspace store, read back for an assessment (issue 21).

A determination is an assessor's finding about one control or framework item ("AC-6 satisfied: reviewed the
role policies, see the interview notes"). It stands above the status the evidence gives: the assessment keeps
both (:attr:`~compliance.assess.model.ControlResult.status` is the determination's,
:attr:`~compliance.assess.model.ControlResult.derived_status` the evidence's).

The store keeps every determination ever recorded (:class:`~compliance.evidence.store.DeterminationRecord`):
a newer one for the same target supersedes an older one, and a withdrawal is itself a record (status
``withdrawn``). :func:`in_effect` picks, per target, the latest record dated no later than the assessment's
clock; a withdrawal there means no determination applies.

Determinations come from the command line (:func:`make`) or from a YAML file (:func:`read_file`)::

    sckb-determinations: 1
    determinations:
      - target: AC-6                      # a control id or framework item id of the KB
        status: satisfied                 # satisfied | not-satisfied | partially-satisfied | inherited
        rationale: Reviewed every execution role policy with the platform team; see interview notes.
        by: Dana Reyes
        role: assessor                    # optional (default assessor): the OSCAL role the person acts in
        date: 2026-11-20                  # optional: defaults to the command's clock (--now)
        methods: [EXAMINE, INTERVIEW]     # optional (default EXAMINE); also ``method: EXAMINE``
      - target: SC-28
        withdraw: true                    # withdraws SC-28's determination (rationale and by still required)
        rationale: Superseded by the new key-management review.
        by: Dana Reyes
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from compliance.assess.model import Determination
from compliance.errors import InputError, NotFoundError
from compliance.evidence.parsing import iso_time
from compliance.evidence.store import WITHDRAWN, DeterminationRecord, Store
from compliance.kb import status as rules
from compliance.kb.core import KB
from compliance.kb.model import Method, NodeKind
from compliance.vocab import iso

#: The statuses an assessor may determine (not-assessed is what no determination means).
STATUSES = rules.DETERMINABLE
#: SP 800-53A assessment methods a determination may rest on.
METHODS = tuple(m.value for m in Method)
#: The method recorded when none is given (an assessor's determination rests on documents at least).
DEFAULT_METHODS = ("EXAMINE",)
DEFAULT_ROLE = "assessor"
#: An OSCAL role id (a token): lower-case words joined by hyphens.
_ROLE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
#: The first line of a determinations file.
MARK = "sckb-determinations"
MAX_BYTES = 4 * 1024 * 1024
_FIELDS = {"target", "status", "rationale", "by", "role", "date", "method", "methods", "withdraw"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One record of the history, as ``sckb assess determinations`` lists it."""

    record: DeterminationRecord
    #: ``in-effect`` (the one an assessment at the clock applies), ``superseded`` (a later record of the same
    #: target replaced it), ``withdrawal`` (a record that withdraws) or ``future`` (dated after the clock)
    state: str

    def as_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "seq": r.seq,
            "target": r.target,
            "status": r.status,
            "rationale": r.rationale,
            "by": r.by,
            "role": r.role,
            "date": r.date,
            "methods": list(r.methods),
            "source": r.source,
            "state": self.state,
        }


def target_id(kb: KB, target: str) -> str:
    """The KB's spelling of a control or framework item id (case-insensitive); :class:`NotFoundError` otherwise."""
    wanted = target.strip()
    entry = kb.nodes.get(wanted)
    if entry is None:
        folded = wanted.casefold()
        entry = next((n for n in kb.nodes.values() if n.id.casefold() == folded), None)
    if entry is None or entry.kind not in (NodeKind.CONTROL, NodeKind.SAFEGUARD):
        raise NotFoundError(f"{target!r} is not a control or framework item id of the knowledge base")
    return entry.id


def make(
    kb: KB,
    target: str,
    *,
    status: str | None,
    rationale: str,
    by: str,
    now: datetime,
    role: str = DEFAULT_ROLE,
    methods: Sequence[str] = (),
    date: str | None = None,
    source: str = "cli",
    withdraw: bool = False,
) -> DeterminationRecord:
    """One checked record (``status`` None with ``withdraw``). ``date`` defaults to ``now``. Raises
    :class:`InputError` naming the option (``--rationale: ...``) for a bad value and :class:`NotFoundError` for an
    unknown target."""
    tid = target_id(kb, target)
    return _record(kb, tid, status, rationale, by, role, methods, date, now, source, withdraw, _option_error)


#: The command-line option of each field (for one-line errors about a value given on the command line).
_OPTIONS = {"status": "--status", "rationale": "--rationale", "by": "--by", "role": "--role", "methods": "--method"}


def _option_error(message: str, *key: str | int) -> InputError:
    return InputError(message, path=_OPTIONS.get(str(key[0]), "--" + str(key[0])) if key else "command line")


def _record(
    kb: KB,
    target: str,
    status: str | None,
    rationale: str,
    by: str,
    role: str,
    methods: Sequence[str],
    date: str | None,
    now: datetime,
    source: str,
    withdraw: bool,
    bad: Any,
) -> DeterminationRecord:
    if withdraw:
        if status is not None:
            raise bad("a withdrawal takes no status", "status")
        status = WITHDRAWN
    elif status not in STATUSES:
        shown = "no status" if status is None else f"status {status!r}"
        raise bad(f"{shown}: a determination's status is one of {', '.join(STATUSES)}", "status")
    rationale = (rationale or "").strip()
    by = (by or "").strip()
    if not rationale:
        raise bad("a rationale is required (why the assessor decided so)", "rationale")
    if not by:
        raise bad("'by' is required (who made the determination)", "by")
    role = (role or DEFAULT_ROLE).strip()
    if not _ROLE.match(role):
        raise bad(f"role {role!r} is not a role id (lower-case words joined by hyphens, e.g. assessor)", "role")
    wanted = [m.strip().upper() for m in methods] or list(DEFAULT_METHODS)
    for m in wanted:
        if m not in METHODS:
            raise bad(f"method {m!r} is not one of {', '.join(METHODS)}", "methods")
    when = iso(now) if date is None else iso_time(date)
    if when is None:
        raise bad(f"date {date!r} is not an ISO date or time", "date")
    try:
        tid = target_id(kb, target)
    except NotFoundError as exc:
        raise bad(str(exc), "target") from None
    return DeterminationRecord(
        target=tid,
        status=status,
        rationale=rationale,
        by=by,
        role=role,
        date=when,
        methods=tuple(sorted(set(wanted), key=METHODS.index)),
        source=source,
    )


def read_file(kb: KB, path: Path, *, now: datetime) -> list[DeterminationRecord]:
    """The determinations of a YAML file (format in the module docstring); errors name the file and line."""
    from compliance.kb.yamlio import load_marked

    doc, items = load_marked(path, MARK, "determinations", max_bytes=MAX_BYTES, what="determinations")
    out: list[DeterminationRecord] = []
    for i, item in enumerate(items):
        loc: tuple[str | int, ...] = ("determinations", i)

        def bad(msg: str, *key: str | int, _loc: tuple[str | int, ...] = loc, _item: Any = item) -> InputError:
            if key == ("methods",) and isinstance(_item, dict) and "methods" not in _item:
                key = ("method",)  # the field as the file spells it
            line = doc.line_of(_loc + key) if key else None
            return InputError(msg, path=path, line=line or doc.line_of(_loc) or 1)

        if not isinstance(item, dict):
            raise bad("each determination must be a mapping")
        unknown = sorted(set(map(str, item)) - _FIELDS)
        if unknown:
            raise bad(f"unknown field(s): {', '.join(unknown)}", unknown[0])
        for key in ("target", "rationale", "by", "role", "status"):
            if key in item and item[key] is not None and not isinstance(item[key], str):
                raise bad(f"'{key}' must be text", key)
        if not isinstance(item.get("target"), str) or not item["target"].strip():
            raise bad("'target' is required (a control id or framework item id)", "target")
        withdraw = item.get("withdraw", False)
        if not isinstance(withdraw, bool):
            raise bad("'withdraw' must be true or false", "withdraw")
        methods = _methods(item, bad)
        date = item.get("date")
        out.append(
            _record(
                kb,
                item["target"],
                item.get("status"),
                item.get("rationale") or "",
                item.get("by") or "",
                item.get("role") or DEFAULT_ROLE,
                methods,
                None if date is None else str(date),
                now,
                path.name,
                withdraw,
                bad,
            )
        )
    return out


def _methods(item: dict[str, Any], bad: Any) -> list[str]:
    out: list[str] = []
    for key in ("method", "methods"):
        v = item.get(key)
        if v is None:
            continue
        values = v if isinstance(v, list) else [v]
        if not all(isinstance(x, str) and x.strip() for x in values):
            raise bad(f"'{key}' must be a method or a list of methods", key)
        out.extend(values)
    return out


# ---------------------------------------------------------------------- store


def record(store: Store, records: Sequence[DeterminationRecord]) -> int:
    """Append ``records`` to the workspace's history (one transaction); how many were new."""
    return store.add_determinations(records)


def _latest(records: Iterable[DeterminationRecord], now_s: str) -> dict[str, DeterminationRecord]:
    latest: dict[str, DeterminationRecord] = {}
    for r in records:
        if r.date > now_s:
            continue
        prev = latest.get(r.target)
        if prev is None or (r.date, r.seq) >= (prev.date, prev.seq):
            latest[r.target] = r
    return latest


def in_effect(records: Iterable[DeterminationRecord], now: datetime) -> list[Determination]:
    """The determinations an assessment at ``now`` applies: per target, the latest record dated no later than
    ``now`` (the later recorded on a tie), unless that record is a withdrawal. In target order."""
    latest = _latest(records, iso(now))
    return [to_model(r) for t, r in sorted(latest.items()) if r.status != WITHDRAWN]


def history(records: Sequence[DeterminationRecord], now: datetime) -> list[Entry]:
    """Every record with its state at ``now`` (see :class:`Entry`), in the order recorded."""
    now_s = iso(now)
    latest = {id(r) for r in _latest(records, now_s).values()}
    out: list[Entry] = []
    for r in records:
        if r.status == WITHDRAWN:
            state = "withdrawal"
        elif r.date > now_s:
            state = "future"
        elif id(r) in latest:
            state = "in-effect"
        else:
            state = "superseded"
        out.append(Entry(r, state))
    return out


def stored(store: Store, now: datetime) -> list[Determination]:
    """The workspace's determinations in effect at ``now`` (what ``sckb assess`` passes to the assessment)."""
    return in_effect(store.determinations(), now)


def to_model(r: DeterminationRecord) -> Determination:
    return Determination(
        target=r.target,
        status=r.status,
        rationale=r.rationale,
        by=r.by,
        role=r.role,
        date=r.date,
        methods=list(r.methods),
        source=r.source,
    )
