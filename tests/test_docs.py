"""The README is the user's manual and docs/ holds the internals: links between them lead somewhere, and the
README's first screen is for a newcomer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def _prose(text: str) -> list[str]:
    """The lines outside fenced code blocks (a link or heading inside one is an example)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return out


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped but hyphens, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in _prose(path.read_text(encoding="utf-8")):
        m = re.match(r"#{1,6} (.+)", line)
        if m:
            found.add(anchor(m.group(1)))
    return found


def test_anchor_follows_github() -> None:
    assert anchor("Set-up: what `make demo` installs") == "set-up-what-make-demo-installs"
    assert anchor("Triage and the POA&M") == "triage-and-the-poam"
    assert anchor("Team store (PostgreSQL)") == "team-store-postgresql"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_lead_somewhere(doc: Path) -> None:
    broken = []
    for line in _prose(doc.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            file, _, frag = target.partition("#")
            dest = (doc.parent / file).resolve() if file else doc
            if not dest.exists():
                broken.append(f"{target}: no such file")
            elif frag and dest.suffix == ".md" and frag not in anchors(dest):
                broken.append(f"{target}: no such heading")
    assert not broken, f"{doc.relative_to(ROOT)}: {broken}"


def test_docs_hold_the_internals() -> None:
    names = {p.name for p in DOCS}
    assert {"architecture.md", "contributing.md", "benchmarks.md"} <= names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # test files, benchmark scripts and golden files are contributors' matters
    assert not re.search(r"tests/test_\w+\.py|benchmarks/bench_\w+\.py|SCKB_REGENERATE_GOLDEN", readme)
    assert "## For contributors" in readme
    for page in ("docs/architecture.md", "docs/contributing.md", "docs/benchmarks.md"):
        assert f"]({page})" in readme


def test_readme_first_screen_is_a_newcomers() -> None:
    first = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:45])
    for must in ("make demo", "## Start here", "out/report.pdf", "out/site/index.html", "five steps"):
        assert must in first, must
    for internal in ("pytest", "benchmark", "golden", "tests/", "mypy"):
        assert internal not in first, internal
