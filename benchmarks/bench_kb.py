"""KB benchmarks (issue 2).

- cold ``sckb query control AC-6`` wall time, against ``python -c pass``;
- KB load plus graph build, against the bare YAML parse (``yaml.load`` with the C loader) of the same files;
- resolving the FedRAMP rev5 High profile (``--profile``, issue 17) against the bare JSON parse of the file.
"""

from __future__ import annotations

import sys

import orjson
import yaml
from _util import SHARED, best_of, report, sckb, wall

from compliance import kb as kbmod
from compliance.kb.load import discover
from compliance.kb.profile import load_profile
from compliance.paths import shipped_data_dirs


def main() -> None:
    cold = wall([sckb(), "query", "control", "AC-6", "--json"], runs=7)
    bare = wall([sys.executable, "-c", "pass"], runs=7)
    report("cold query control AC-6", cold, "s", baseline=bare, baseline_name="python -c pass", goal="<= 0.4 s")

    files = discover(shipped_data_dirs())

    def parse() -> None:
        for f in files:
            yaml.load(f.read_bytes(), Loader=yaml.CSafeLoader)

    def load_and_build() -> None:
        base = kbmod.load()
        _ = base.graph

    t_parse = best_of(parse)
    t_load = best_of(load_and_build)
    report("KB load + graph build", t_load, "s", baseline=t_parse, baseline_name="bare YAML parse", goal="<= 3x baseline")

    high = SHARED / "oscal" / "fedramp" / "FedRAMP_rev5_HIGH-baseline_profile.json"
    if not high.is_file():
        print("   (skipped: ../shared/oscal/fedramp missing)")
        return
    base = kbmod.load()
    t_resolve = best_of(lambda: load_profile(base, high))
    t_json = best_of(lambda: orjson.loads(high.read_bytes()))
    report("resolve FedRAMP High profile", t_resolve, "s", baseline=t_json, baseline_name="bare JSON parse", goal="< 1 s")


if __name__ == "__main__":
    main()
