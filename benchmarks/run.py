"""Run every ``benchmarks/bench_*.py`` in its own process and print its figures.

Each benchmark prints lines of the form ``name: value unit (ratio Nx baseline-name; goal ...)``.
Run one with ``python benchmarks/run.py NAME`` (a substring of the file name; ``-`` stands for ``_``, as in
``team-store``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    pick = [s.replace("-", "_") for s in argv[1:]] or [""]
    files = sorted(p for p in HERE.glob("bench_*.py") if any(s in p.stem for s in pick))
    failed = 0
    for f in files:
        print(f"== {f.stem}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(f)], cwd=HERE.parent)
        print(f"   ({time.perf_counter() - t0:.1f} s, exit {rc})", flush=True)
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
