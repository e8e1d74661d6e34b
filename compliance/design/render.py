"""Table and Markdown views of a design check (the JSON view is :func:`compliance.design.check.as_json`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compliance.design.check import summary
from compliance.design.predicates import ABSENT
from compliance.design.result import DesignResult
from compliance.vocab import severity_order


def _function_rows(res: DesignResult) -> list[tuple[str, str, str, str]]:
    rows: dict[str, dict[str, list[str]]] = {}
    for v in res.verdicts:
        key = v.function or v.name
        rows.setdefault(key, {"absent": [], "unknown": [], "present": []})[v.status].append(v.mitigation)
    return [
        (k, ", ".join(sorted(set(d["absent"]))), ", ".join(sorted(set(d["unknown"]))), str(len(set(d["present"]))))
        for k, d in sorted(rows.items())
    ]


def table(res: DesignResult, console: Any, make_table: Callable[..., Any]) -> None:
    s = summary(res)
    console.print(
        f"{res.path}: {s['functions']} functions, {s['routes']} routes, {s['datastores']} data stores; "
        f"scope {res.scope}: {s['controls']['met']} controls met, {s['controls']['unmet']} unmet, "
        f"{s['controls']['unknown']} unknown ({s['controls_not_checkable']} not visible in a design)"
        + (" (partial result)" if res.partial else ""),
        markup=False,
    )
    for w in res.design.warnings:
        console.print(f"warning: {w}", markup=False)
    console.print(
        make_table("Per function and element", ["element", "absent", "unknown", "present (count)"], _function_rows(res))
    )
    console.print(make_table("Mitigations", ["mitigation", "design status"], sorted(res.mitigations.items())))
    ctl = [
        (c["id"], c["title"], c["status"], ", ".join(f"{m}={st}" for m, st in c["mitigations"].items()))
        for c in res.controls.values()
        if c["mitigations"]
    ]
    console.print(
        make_table(
            f"Controls in {res.scope} reached by checkable mitigations", ["control", "title", "status", "mitigations"], ctl
        )
    )
    console.print(
        make_table(
            "Attack paths",
            ["severity", "kind", "chain", "breaks with", "controls at risk", res.safeguards_label],
            [
                (
                    p["severity"],
                    p["kind"],
                    " -> ".join(st["name"] + (f" [{st['note']}]" if st.get("note") else "") for st in p["chain"]),
                    ", ".join(p["breaks_with"]),
                    ", ".join(p["controls_at_risk"][:8]),
                    ", ".join(p["safeguards_at_risk"][:5]),
                )
                for p in res.paths
            ],
        )
    )


def _md(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def markdown(res: DesignResult) -> str:
    s = summary(res)
    out = [
        f"# Design check: {res.path}",
        "",
        f"Scope **{res.scope}**: {s['controls']['met']} controls met, {s['controls']['unmet']} unmet, "
        f"{s['controls']['unknown']} unknown ({s['controls_not_checkable']} not visible in a design). "
        f"{s['functions']} functions, {s['routes']} routes, {s['datastores']} data stores, {s['attack_paths']} attack paths."
        + (" Partial result (see warnings)." if res.partial else ""),
        "",
    ]
    if res.design.warnings:
        out += ["## Warnings", ""] + [f"- {_md(w)}" for w in res.design.warnings] + [""]
    absent = sorted(
        (v for v in res.verdicts if v.status == ABSENT),
        key=lambda v: (severity_order(v.severity), v.file, v.line or 0, v.name, v.predicate),
    )
    if absent:
        out += ["## What to fix", "", "| where | element | severity | needs | mitigation |", "|---|---|---|---|---|"]
        out += [
            f"| `{_md(v.file)}{f':{v.line}' if v.line else ''}` | {_md(v.name)} | {v.severity} | {_md(v.title)} | "
            f"{v.mitigation} |"
            for v in absent
        ]
        out.append("")
    out += ["## Functions and elements", "", "| element | absent | unknown | present |", "|---|---|---|---|"]
    out += [f"| {_md(a)} | {_md(b)} | {_md(c)} | {d} |" for a, b, c, d in _function_rows(res)]
    out += ["", "## Mitigations", "", "| mitigation | status |", "|---|---|"]
    out += [f"| {m} | {st} |" for m, st in sorted(res.mitigations.items())]
    out += ["", f"## Controls ({res.scope})", "", "| control | title | status | mitigations |", "|---|---|---|---|"]
    out += [
        f"| {c['id']} | {_md(c['title'])} | {c['status']} | {_md(', '.join(f'{m}={st}' for m, st in c['mitigations'].items()))} |"
        for c in res.controls.values()
        if c["mitigations"]
    ]
    out += [
        "",
        "## Attack paths",
        "",
        f"| severity | kind | chain | breaks with | controls at risk | {res.safeguards_label} |",
        "|---|---|---|---|---|---|",
    ]
    for p in res.paths:
        chain = " → ".join(st["name"] for st in p["chain"])
        out.append(
            f"| {p['severity']} | {p['kind']} | {_md(chain)} | {', '.join(p['breaks_with'])} | "
            f"{', '.join(p['controls_at_risk'])} | {', '.join(p['safeguards_at_risk'])} |"
        )
    return "\n".join(out) + "\n"
