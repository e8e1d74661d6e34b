"""Official-content comparison benchmark (issue 3).

``compare`` of the KB with ``../shared/oscal`` (the 10 MB SP 800-53 rev5 catalog and 13 baseline
profiles) against the floor: a bare ``orjson.loads`` of the same OSCAL files. The KB is loaded
once beforehand; only the comparison is timed.
"""

from __future__ import annotations

import sys

import orjson
from _util import SHARED, best_of, report

from compliance import kb as kbmod
from compliance.kb.official import compare


def main() -> int:
    folder = SHARED / "oscal"
    if not folder.is_dir():
        print(f"skipped: {folder} not found")
        return 0
    base = kbmod.load()
    result = compare(base, folder)
    files = [folder / a.path for a in result.artifacts]
    size_mb = sum(f.stat().st_size for f in files) / 1e6

    def bare() -> None:
        for f in files:
            orjson.loads(f.read_bytes())

    t_bare = best_of(bare, runs=7)
    t_cmp = best_of(lambda: compare(base, folder), runs=7)
    print(f"{len(files)} OSCAL files, {size_mb:.1f} MB; {len(result.differences)} differences, {len(result.notes)} notes")
    report("official comparison (compare)", t_cmp, "s", baseline=t_bare, baseline_name="bare orjson.loads", goal="<= 2x baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
