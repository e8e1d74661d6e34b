"""The curated links stay reviewed: tools/review_links.py finds nothing in the shipped data, and each of
its checks reports a planted mistake with its file and line."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import review_links  # noqa: E402


def test_shipped_links_pass_the_review(shared: Path) -> None:
    assert [str(f) for f in review_links.run(ROOT, shared)] == []


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    for d in ("controls", "mappings"):
        shutil.copytree(ROOT / d, root / d)
    return root


def test_planted_contradictory_subset_and_circular_source_are_reported(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    f = root / "mappings" / "mitigations" / "identity.yaml"
    text = f.read_text(encoding="utf-8")
    head, sep, rest = text.partition("    controls:\n")
    planted = (
        "      - to: SC-28\n        relationship: subset-of\n        rationale: planted\n"
        "        source: NIST SP 800-53 Rev. 5, SC-28\n"
        "      - to: SC-8\n        relationship: subset-of\n        rationale: planted\n"
        "        source: NIST SP 800-53 Rev. 5, SC-8 statement (sc-8_smt)\n"
    )
    f.write_text(head + sep + planted + rest, encoding="utf-8")
    line = (head + sep).count("\n") + 1
    found = {(x.check, Path(x.file).name, x.line) for x in review_links.run(root, None)}
    assert ("circular-source", "identity.yaml", line) in found
    assert any(c == "contradictory-subset" and name == "identity.yaml" for c, name, _ in found)
