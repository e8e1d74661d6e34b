"""Evaluate the KB's design predicates (section ``design_predicates``) on design elements.

Three-valued (Kleene) logic: every expression is ``present``, ``absent`` or ``unknown``.

- a property check on a value the design leaves open (:class:`~compliance.design.model.Unknown`) is unknown;
- ``all``: absent if any part is absent, else unknown if any is unknown, else present (empty: present);
- ``any``: present if any part is present, else unknown if any is unknown, else absent (empty: absent);
- ``not``: swaps present and absent, keeps unknown.

A path with ``[*]`` walks every list item; ``each: all`` (the default) or ``each: any`` combines the items
like ``all`` / ``any``. A missing property is ``None``: ``exists`` is absent, ``not_in`` present, every other
op absent.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from compliance.design.model import Element, Props, Unknown
from compliance.kb.model import AllOf, AnyOf, DesignExpr, DesignPredicate, NotOf, PropertyCheck

PRESENT = "present"
ABSENT = "absent"
UNKNOWN = "unknown"


def k_all(values: list[str]) -> str:
    if ABSENT in values:
        return ABSENT
    return UNKNOWN if UNKNOWN in values else PRESENT


def k_any(values: list[str]) -> str:
    if PRESENT in values:
        return PRESENT
    return UNKNOWN if UNKNOWN in values else ABSENT


def _walk(value: Any, parts: list[str]) -> Any:
    """Follow a dotted path; a ``name[*]`` part fans out into a list."""
    if not parts:
        return value
    if isinstance(value, Unknown):
        return value
    head, rest = parts[0], parts[1:]
    star = head.endswith("[*]")
    key = head[:-3] if star else head
    nxt = value.get(key) if isinstance(value, dict) else (None if value is None else Unknown(f"{key} of a non-mapping"))
    if star:
        if isinstance(nxt, Unknown):
            return nxt
        items = nxt if isinstance(nxt, list) else ([] if nxt is None else [nxt])
        return _Fan([_walk(x, rest) for x in items])
    return _walk(nxt, rest)


class _Fan(list):  # type: ignore[type-arg]
    """The items a ``[*]`` path produced (kept apart from list-valued properties)."""


@cache
def _regex(p: str) -> re.Pattern[str]:
    return re.compile(p)


def _flatten(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in v:
        if isinstance(x, _Fan):
            out.extend(_flatten(x))
        else:
            out.append(x)
    return out


def _test(op: str, v: Any, want: Any) -> str:
    if isinstance(v, Unknown):
        return UNKNOWN
    if op == "exists":
        return ABSENT if v is None or v == "" or v == [] or v == {} or v is False else PRESENT
    if op == "not_in":
        return PRESENT if v not in (want or []) else ABSENT
    if v is None:
        return ABSENT
    if op == "equals":
        return PRESENT if v == want else ABSENT
    if op == "in":
        return PRESENT if v in (want or []) else ABSENT
    if op in ("lte", "gte"):
        try:
            a, b = float(v), float(want)
        except (TypeError, ValueError):
            return UNKNOWN
        return PRESENT if (a <= b if op == "lte" else a >= b) else ABSENT
    if op == "matches":
        return PRESENT if _regex(str(want)).search(str(v)) else ABSENT
    raise ValueError(f"unknown op {op}")


def evaluate(expr: DesignExpr, props: Props) -> str:
    if isinstance(expr, AllOf):
        return k_all([evaluate(e, props) for e in expr.all])
    if isinstance(expr, AnyOf):
        return k_any([evaluate(e, props) for e in expr.any])
    if isinstance(expr, NotOf):
        r = evaluate(expr.not_, props)
        return {PRESENT: ABSENT, ABSENT: PRESENT}.get(r, UNKNOWN)
    assert isinstance(expr, PropertyCheck)
    value = _walk(props, expr.property.split("."))
    if isinstance(value, _Fan):
        results = [_test(expr.op, x, expr.value) for x in _flatten(value)]
        return k_all(results) if expr.each == "all" else k_any(results)
    return _test(expr.op, value, expr.value)


def applies(pred: DesignPredicate, el: Element) -> bool:
    """Whether a predicate judges this element (its subject kind and its ``applies_if``)."""
    if pred.subject != el.kind:
        return False
    if pred.applies_if is None:
        return True
    return evaluate(pred.applies_if, el.props) == PRESENT


def judge(pred: DesignPredicate, el: Element) -> str:
    """present / absent / unknown for one element (call :func:`applies` first)."""
    override = pred.providers.get(el.provider)  # type: ignore[call-overload]
    if override == "unknown":
        return UNKNOWN
    expr = override if override is not None else pred.check
    return evaluate(expr, el.props)


def explain_unknown(pred: DesignPredicate, el: Element) -> str | None:
    """A short reason for an unknown verdict (the first unresolved property it met)."""
    if pred.providers.get(el.provider) == "unknown":  # type: ignore[call-overload]
        return f"not visible in {el.provider} infrastructure as code"
    reasons: list[str] = []

    def scan(e: DesignExpr) -> None:
        if isinstance(e, (AllOf, AnyOf)):
            for x in e.all if isinstance(e, AllOf) else e.any:
                scan(x)
        elif isinstance(e, NotOf):
            scan(e.not_)
        elif isinstance(e, PropertyCheck):
            v = _walk(el.props, e.property.split("."))
            items = _flatten(v) if isinstance(v, _Fan) else [v]
            for x in items:
                if isinstance(x, Unknown):
                    reasons.append(f"{e.property}: {x.reason}")

    scan(pred.check)
    return reasons[0] if reasons else None
