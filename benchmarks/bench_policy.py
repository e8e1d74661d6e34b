"""Policy as code on the 500-function SAM template of bench_design (goal: export and evaluate <= 2 s per engine).

Export: the KB's design predicates to Guard rules / Rego files (in memory). Evaluate: the engine in-process on
the template (Guard: each function in a template of its own, for per-resource verdicts; Rego: one query).
Baseline: the design check of the same template, which `sckb policy test` compares against.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of, report
from bench_design import FUNCTIONS, template


def main() -> None:
    from compliance import kb as kbmod
    from compliance.design.check import run_check
    from compliance.policy.export import export
    from compliance.policy.run import sources

    kb = kbmod.load([])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.yaml"
        path.write_text(template(FUNCTIONS))
        (src,) = sources(path)[0]
        doc = src.doc
        check = best_of(lambda: run_check(kb, path, "fedramp-moderate", today=date(2026, 11, 30)), runs=3)
        for engine in ("cfn-guard", "rego"):
            t_export = best_of(lambda e=engine: export(kb, e, scope="fedramp-moderate"), runs=3)  # type: ignore[misc]
            t_eval = best_of(lambda e=engine: evaluate(kb, e, doc), runs=1)  # type: ignore[misc]
            report(f"policy export, {engine}", t_export, "s", goal="<= 2 s")
            report(f"policy evaluate, {engine}, {FUNCTIONS} functions", t_eval, "s", baseline=check,
                   baseline_name="design check", goal="<= 2 s")  # fmt: skip


def evaluate(kb: object, engine: str, doc: dict[str, Any]) -> None:
    from compliance.policy.export import export
    from compliance.policy.run import rego_interpreter, rego_queries, run_guard, run_rego

    policy = export(kb, engine, scope="fedramp-moderate")  # type: ignore[arg-type]
    if engine == "rego":
        run_rego(rego_interpreter(policy), doc, "bench", rego_queries(policy))
        return
    rules = "\n\n".join(text for _n, text in sorted(policy.files.items()))
    for name, res in doc["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            run_guard(rules, {"Resources": {name: res}, "Globals": doc.get("Globals")}, "bench")


if __name__ == "__main__":
    main()
