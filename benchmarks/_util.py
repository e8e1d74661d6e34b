"""Small helpers shared by the benchmarks: timing, peak RSS, the report line."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def best_of(fn: Callable[[], object], runs: int = 5) -> float:
    """Median wall time of ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def wall(cmd: Sequence[str], runs: int = 5) -> float:
    """Median wall time of a command, in seconds."""
    return best_of(lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT), runs)


def peak_rss_mb() -> float:
    """Peak RSS of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, value: float, unit: str, *, baseline: float | None = None, baseline_name: str = "", goal: str = "") -> None:
    line = f"{name}: {value:.3f} {unit}"
    if baseline is not None and baseline > 0:
        line += f" | baseline {baseline_name}: {baseline:.3f} {unit} | ratio {value / baseline:.2f}x"
    if goal:
        line += f" | goal {goal}"
    print(line, flush=True)


def sckb() -> str:
    return str(Path(sys.executable).with_name("sckb"))
