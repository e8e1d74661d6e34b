"""System security plan benchmark (issue 17): ``sckb export ssp`` for the generated 500-function SAM design of
``bench_design.py`` under FedRAMP High, with a system file naming the platform's authorization.

- the whole command in a fresh process (imports, KB from its cache, reading and checking the design, building the
  plan, schema validation with ``--schema-dir`` when ../shared is present, writing it) and its peak RSS;
- the baseline: writing the same JSON with orjson alone (the plan as written, loaded once, then dumped with the
  same options), i.e. the cost of the serialisation every way of producing this document pays.

Goals: <= 3 s and <= 300 MB peak RSS.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, SHARED, best_of, report, sckb
from bench_design import template

FUNCTIONS = 500
RUNS = 3
SYSTEM = """\
name: bench
description: Generated serverless system with 500 functions behind one API
boundary:
  providers: [aws]
ssp:
  sensitivity: high
  information_types:
    - {title: Example information, id: C.3.5.1, confidentiality: high, integrity: high, availability: moderate}
  leveraged_authorizations:
    - {provider: aws, title: Example platform authorization, party: Example provider, date_authorized: 2020-01-01}
"""


def main() -> None:
    import orjson

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "template.yaml").write_text(template(FUNCTIONS))
        (t / "system.yaml").write_text(SYSTEM)
        out = t / "ssp.json"
        cmd = [sckb(), "--now", "2026-12-01", "export", "ssp", "--design", str(t / "template.yaml"), "--scope", "fedramp-high"]
        cmd += ["--system-file", str(t / "system.yaml"), "--out", str(out)]
        schemas = SHARED / "oscal" / "schemas"
        if schemas.is_dir():
            cmd += ["--schema-dir", str(schemas)]
        env = {**os.environ, "SCKB_CACHE_DIR": str(t / "cache")}
        subprocess.run(cmd, check=True, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)  # warms the KB cache
        times = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        doc = orjson.loads(out.read_bytes())
        size = out.stat().st_size / 1e6
        opts = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
        plain = best_of(lambda: (t / "plain.json").write_bytes(orjson.dumps(doc, option=opts)))
        reqs = len(doc["system-security-plan"]["control-implementation"]["implemented-requirements"])
        print(f"plan: {size:.1f} MB, {reqs} implemented requirements, schema check {'on' if schemas.is_dir() else 'off'}")
        report(f"export ssp, {FUNCTIONS} functions, fedramp-high", min(times), "s", baseline=plain,
               baseline_name="orjson writing the same JSON", goal="<= 3 s")  # fmt: skip
        report("export ssp peak RSS", rss, "MB", goal="<= 300 MB")


if __name__ == "__main__":
    main()
