"""Guidance site benchmarks (issue 7).

- full ``sckb site build`` of the shipped KB (generation plus ``mkdocs build --strict``), against the
  same MkDocs project with every page's body replaced by one trivial line (same pages, same nav, same
  theme): the ratio is the cost of our content over MkDocs' own per-page cost;
- the same two builds' CPU time (this process and the MkDocs child, user + system), which a machine shared
  with other work inflates far less than the wall time;
- the page count (goal >= 1,500), the site size, the largest page and the search index size.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from _util import report

from compliance import kb as kbmod
from compliance.cli import command_help_texts
from compliance.site.build import build_site, run_mkdocs, write_project
from compliance.site.generate import generate


def cpu_seconds() -> float:
    """User + system time of this process and its finished children so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def folder_size(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def main() -> int:
    base = kbmod.load()
    if base.errors:
        print(f"the shipped KB does not validate: {base.errors[0]}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        content = generate(base, cli_help=command_help_texts())
        t_gen = time.perf_counter() - t0

        out = work / "site"
        t0, c0 = time.perf_counter(), cpu_seconds()
        result = build_site(base, out, cli_help=command_help_texts())
        t_full, c_full = time.perf_counter() - t0, cpu_seconds() - c0

        # baseline: the same project (pages, nav, theme, plugins), every body one trivial line
        for page in content.pages.values():
            page.lines = [f"# {page.path}", "", "A trivial page."]
        project = work / "trivial-project"
        config, _ = write_project(content, project)
        trivial_out = work / "trivial-site"
        t0, c0 = time.perf_counter(), cpu_seconds()
        run_mkdocs(config, trivial_out)
        t_trivial, c_trivial = time.perf_counter() - t0, cpu_seconds() - c0

        html = sorted(out.rglob("*.html"), key=lambda f: f.stat().st_size)
        largest = html[-1]
        index = out / "search" / "search_index.json"
        report("site pages (html)", len(html), "pages", goal=">= 1500")
        report("generated Markdown pages", result.pages, "pages")
        report("page generation", t_gen, "s")
        report(
            "full site build",
            t_full,
            "s",
            baseline=t_trivial,
            baseline_name="mkdocs build, same pages with trivial bodies",
            goal="<= 15 s",
        )
        report("full site build, CPU", c_full, "s", baseline=c_trivial, baseline_name="the trivial-body build's CPU")
        report(
            "site size",
            folder_size(out) / 1e6,
            "MB",
            baseline=folder_size(trivial_out) / 1e6,
            baseline_name="trivial-body site",
            goal="<= 100 MB",
        )
        report(f"largest page ({largest.relative_to(out)})", largest.stat().st_size / 1024, "KB", goal="<= 60 KB")
        report(
            "search index",
            index.stat().st_size / 1e6,
            "MB",
            baseline=(trivial_out / "search" / "search_index.json").stat().st_size / 1e6,
            baseline_name="trivial-body site",
            goal="<= 5 MB",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
