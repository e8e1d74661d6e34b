"""The ``sckb`` command line: a thin layer over the library.

This is the only module that imports click. It maps :class:`SckbError` to its exit
code and prints one line; ``-v`` adds the traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from compliance import __version__
from compliance.errors import EXIT_INTERNAL, CheckFailed, SckbError

F = TypeVar("F", bound=Callable[..., Any])


class Ctx:
    """Options shared by every command, passed explicitly (no globals)."""

    def __init__(self, kb_dirs: Sequence[Path], verbose: bool, workspace: Path, now: datetime | None) -> None:
        self.kb_dirs = list(kb_dirs)
        self.verbose = verbose
        #: the evidence workspace folder (``.sckb`` by default)
        self.workspace = workspace
        #: the injected clock; None means the real time, read once per command
        self._now = now
        self._kb: Any = None

    def now(self) -> datetime:
        """The command's clock: ``--now`` if given, else the current UTC time (frozen on first read)."""
        if self._now is None:
            self._now = datetime.now(UTC).replace(microsecond=0)
        return self._now

    def kb(self) -> Any:
        if self._kb is None:
            import os

            from compliance import kb as kbmod
            from compliance.kb.load import default_cache_dir

            self._kb = kbmod.load(self.kb_dirs, cache_dir=default_cache_dir(os.environ))
            if self._kb.errors:
                first = self._kb.errors[0]
                more = len(self._kb.errors) - 1
                raise CheckFailed(f"{first} (and {more} more problems; run 'sckb kb validate')" if more else str(first))
        return self._kb


class SckbGroup(click.Group):
    """Turns library errors into one line and a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SckbError as exc:
            if _verbose(ctx):
                traceback.print_exc()
            click.echo(f"sckb: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("sckb: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug: one line unless -v
            if _verbose(ctx):
                traceback.print_exc()
            click.echo(f"sckb: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)", err=True)
            sys.exit(EXIT_INTERNAL)


def _verbose(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj
    return bool(getattr(obj, "verbose", False))


def emit_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def _console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    from rich.table import Table

    t = Table(title=title, title_justify="left", show_lines=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*(_cell(x) for x in r))
    return t


def _cell(x: Any) -> str:
    from rich.markup import escape

    if x is None:
        return ""
    if isinstance(x, (list, tuple)):
        return escape(", ".join(str(i) for i in x))
    return escape(str(x))


@click.group(cls=SckbGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--kb",
    "kb_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    envvar="SCKB_KB",
    help="Overlay folder of your own KB YAML, layered over the shipped data (repeatable; env SCKB_KB).",
)
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".sckb"),
    show_default=True,
    envvar="SCKB_WORKSPACE",
    help="Evidence workspace folder (env SCKB_WORKSPACE).",
)
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]),
    default=None,
    help="Pretend the current time is this (UTC), for reproducible output.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="sckb")
@click.pass_context
def main(
    ctx: click.Context, kb_dirs: tuple[Path, ...], workspace: Path, now: datetime | None, verbose: bool
) -> None:
    """sckb: the Serverless Compliance Knowledge Base.

    \b
    Exit codes:
      0  success
      1  a check failed (validation problems, a CI gate, verify found changes)
      2  usage error
      3  bad input file (unreadable, unparsable or invalid data)
      4  not found (unknown id, assessment or file)
      5  workspace or store error
      70 internal error (a bug; rerun with -v and report it)
    """
    ctx.obj = Ctx(kb_dirs, verbose, workspace, now.replace(tzinfo=UTC) if now else None)


# --------------------------------------------------------------------------- kb


@main.group("kb")
def kb_group() -> None:
    """Validate, inspect and export the curated knowledge base."""


@kb_group.command("validate")
@click.option(
    "--against",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of official OSCAL content (catalog and baseline profiles) to compare with.",
)
@json_option
@click.pass_obj
def kb_validate(obj: Ctx, against: Path | None, as_json: bool) -> None:
    """Check every curated file: schema, ids, edges, mapping fields, coverage, orphans.

    Prints each problem as FILE:LINE: MESSAGE and exits 1 if any is an error.
    """
    from compliance import kb as kbmod

    base = kbmod.load(obj.kb_dirs)
    problems = kbmod.validate(base)
    diffs: list[str] = []
    if against is not None:
        from compliance.kb.official import compare_with_official

        diffs = compare_with_official(base, against)
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        emit_json(
            {
                "files": len(base.files),
                "nodes": len(base.nodes),
                "edges": len(base.edges),
                "problems": [
                    {"file": p.file, "line": p.line, "severity": p.severity, "message": p.message} for p in problems
                ],
                "official_differences": diffs,
            }
        )
    else:
        for p in problems:
            click.echo(str(p))
        for d in diffs:
            click.echo(f"official: {d}")
        status = "ok" if not errors and not diffs else "FAILED"
        click.echo(
            f"{status}: {len(base.files)} files, {len(base.nodes)} nodes, {len(base.edges)} edges, "
            f"{len(errors)} errors, {len(problems) - len(errors)} warnings"
            + (f", {len(diffs)} differences from official content" if against is not None else ""),
            err=bool(errors),
        )
    if errors or diffs:
        raise click.exceptions.Exit(1)


@kb_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "graphml", "csv"]), default="json", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Output file (json, graphml) or folder (csv). json/graphml go to stdout when omitted.",
)
@click.pass_obj
def kb_export(obj: Ctx, fmt: str, out: Path | None) -> None:
    """Export the whole graph for other tools (nodes: id, kind, title; edges: from, to, kind,
    and relationship, rationale, source on mapping edges)."""
    from compliance.kb.export import export

    if fmt == "csv" and out is None:
        raise click.UsageError("--format csv needs --out FOLDER")
    result = export(obj.kb(), fmt, out)
    if isinstance(result, bytes):
        sys.stdout.buffer.write(result)
    else:
        for p in result:
            click.echo(f"wrote {p}", err=True)


@kb_group.command("schema")
def kb_schema() -> None:
    """Print the JSON Schema of a curated KB file (generated from the model)."""
    from compliance.kb.model import KBFile

    emit_json(KBFile.model_json_schema(by_alias=True))


# ------------------------------------------------------------------------ query


@main.group("query")
def query_group() -> None:
    """Ask the graph: what a risk reaches, what reaches a control, baseline coverage, paths."""


@query_group.command("risk")
@click.argument("risk_id")
@json_option
@click.pass_obj
def query_risk(obj: Ctx, risk_id: str, as_json: bool) -> None:
    """A risk's mitigations and, through them, controls, baselines, HIPAA safeguards and rules."""
    from compliance.kb import query

    r = query.risk(obj.kb(), risk_id)
    if as_json:
        return emit_json(r)
    con = _console()
    con.print(f"[bold]{_cell(r['id'])}[/bold] {_cell(r['title'])}")
    if r["corresponds_to"]:
        con.print(f"corresponds to: {_cell(r['corresponds_to'])}")
    if r["cwes"]:
        con.print(f"CWEs: {_cell(r['cwes'])}")
    rows = [
        (m["id"], m["title"], [c["id"] for c in m["controls"]], [s["id"] for s in m["safeguards"]], m["rules"])
        for m in r["mitigations"]
    ]
    con.print(_table("Mitigations", ["mitigation", "title", "controls", "HIPAA", "scanner rules"], rows))
    con.print(_table("Baselines reached", ["baseline", "controls"], [(b, cs) for b, cs in r["baselines"].items()]))
    con.print(f"HIPAA safeguards (direct and by crosswalk): {_cell(r['safeguards'])}")


@query_group.command("control")
@click.argument("control_id")
@json_option
@click.pass_obj
def query_control(obj: Ctx, control_id: str, as_json: bool) -> None:
    """Everything that reaches a control, and its baseline membership."""
    from compliance.kb import query

    r = query.control(obj.kb(), control_id)
    if as_json:
        return emit_json(r)
    con = _console()
    con.print(f"[bold]{_cell(r['id'])}[/bold] {_cell(r['title'])}  (family {_cell(r['family'])})")
    if r["responsibility"]:
        con.print(f"responsibility: {_cell(r['responsibility']['party'])}: {_cell(r['responsibility']['rationale'])}")
    rows = [(m["id"], m["title"], m.get("relationship"), m["risks"], m["rules"]) for m in r["mitigations"]]
    con.print(_table("Reached by mitigations", ["mitigation", "title", "relationship", "risks", "scanner rules"], rows))
    baselines = [(b["id"], b["title"], b.get("tailoring")) for b in r["baselines"]]
    con.print(_table("Baselines", ["baseline", "title", "tailoring"], baselines))
    con.print(f"HIPAA safeguards (crosswalk): {_cell(r['safeguards'])}")


@query_group.command("baseline")
@click.argument("baseline_id")
@json_option
@click.pass_obj
def query_baseline(obj: Ctx, baseline_id: str, as_json: bool) -> None:
    """Which controls of a baseline serverless mitigations reach, and which nothing reaches."""
    from compliance.kb import query

    r = query.baseline(obj.kb(), baseline_id)
    if as_json:
        return emit_json(r)
    con = _console()
    con.print(
        f"[bold]{_cell(r['id'])}[/bold] {_cell(r['title'])}: {len(r['reached'])} of {r['members']} controls reached "
        f"({r['coverage']:.1%})"
    )
    reached = [(c["id"], c["title"], c["mitigations"]) for c in r["reached"]]
    con.print(_table("Reached", ["control", "title", "mitigations"], reached))
    con.print(_table("Not reached", ["control", "title"], [(c["id"], c["title"]) for c in r["unreached"]]))


@query_group.command("path")
@click.argument("source")
@click.argument("target")
@click.option("--limit", default=50, show_default=True, help="Show at most this many paths.")
@json_option
@click.pass_obj
def query_path(obj: Ctx, source: str, target: str, limit: int, as_json: bool) -> None:
    """Explanation paths from SOURCE (any node id) to TARGET (a node id, or a framework such as hipaa, fedramp)."""
    from compliance.kb import query

    r = query.path(obj.kb(), source, target, limit=limit)
    if as_json:
        return emit_json(r)
    con = _console()
    rows = []
    for p in r["paths"]:
        chain = " → ".join(n["id"] for n in p["nodes"])
        rels = ", ".join(e.get("relationship") or e["kind"] for e in p["edges"])
        rows.append((chain, rels))
    con.print(_table(f"{r['shown']} of {r['total']} paths from {r['from']} to {r['to']}", ["path", "edges"], rows))


# ---------------------------------------------------------------- kb stats and official comparison (issue 3)
# (section anchor: add this stage's commands below this line)


def _pct(share: float) -> str:
    return f"{share:.1%}"


@kb_group.command("stats")
@json_option
@click.pass_obj
def kb_stats(obj: Ctx, as_json: bool) -> None:
    """Counts per node and edge kind, and coverage: risks mitigated, provider guidance, baseline
    controls reached by mitigations, scanner rules mapped per tool, complete control links, HIPAA."""
    from compliance.kb.stats import stats

    s = stats(obj.kb())
    if as_json:
        return emit_json(s)
    cov = s["coverage"]
    con = _console()
    con.print(_table("Nodes", ["kind", "count"], list(s["nodes"].items())))
    con.print(_table("Edges", ["kind", "count"], list(s["edges"].items())))
    rows: list[tuple[Any, ...]] = [
        (f"risks linked to mitigations ({tax})", f["count"], f["total"], _pct(f["share"]), f["unlinked"])
        for tax, f in cov["risks"].items()
    ]
    for label, key in (
        ("mitigations with aws, gcp and azure guidance", "mitigations_with_all_providers"),
        ("mitigation->control links with relationship, rationale, source", "control_links_complete"),
        ("controls reached by a mitigation", "controls_reached"),
    ):
        f = cov[key]
        rows.append((label, f["count"], f["total"], _pct(f["share"]), None))
    for label, key in (
        ("HIPAA safeguards reached directly", "direct"),
        ("HIPAA safeguards reached directly or by crosswalk", "direct_or_crosswalk"),
    ):
        f = cov["hipaa"][key]
        rows.append((label, f["count"], f["total"], _pct(f["share"]), None))
    con.print(_table("Coverage", ["figure", "count", "total", "share", "not linked"], rows))
    con.print(
        _table(
            "Baseline controls reached by a mitigation (maps-to, directly)",
            ["baseline", "reached", "members", "share"],
            [(b["id"], b["count"], b["total"], _pct(b["share"])) for b in cov["baselines"]],
        )
    )
    con.print(
        _table(
            "Scanner rules per tool",
            ["tool", "mapped", "not applicable", "total", "mapped share"],
            [(r["tool"], r["mapped"], r["not_applicable"], r["total"], _pct(r["share"])) for r in cov["rules"]],
        )
    )


@kb_group.command("compare")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@json_option
@click.pass_obj
def kb_compare(obj: Ctx, folder: Path, as_json: bool) -> None:
    """Compare the KB with official OSCAL content in FOLDER (the SP 800-53 catalog and NIST/FedRAMP
    baseline profiles, found by content): what was recognised, every difference, and notes.

    Exits 1 if there is any difference (notes, such as controls newer than the catalog, are not)."""
    from compliance import kb as kbmod
    from compliance.kb.official import compare

    result = compare(kbmod.load(obj.kb_dirs), folder)
    if as_json:
        emit_json(result.as_dict())
    else:
        con = _console()
        con.print(
            _table(
                "Official content recognised",
                ["file", "kind", "baseline", "controls", "version", "title"],
                [(a.path, a.kind, a.baseline, a.controls, a.version, a.title) for a in result.artifacts],
            )
        )
        for d in result.differences:
            click.echo(f"difference: {d}")
        for n in result.notes:
            click.echo(f"note: {n}")
        click.echo(f"{len(result.differences)} differences, {len(result.notes)} notes")
    if result.differences:
        raise click.exceptions.Exit(1)


# ---------------------------------------------------------------- evidence (issue 4)
# (section anchor: add this stage's commands below this line)


# ---------------------------------------------------------------- assess and export oscal, catalog import (issue 5)
# (section anchor: add this stage's commands below this line)


# ---------------------------------------------------------------- report pdf (issue 6)
# (section anchor: add this stage's commands below this line)


# ---------------------------------------------------------------- site (issue 7)
# (section anchor: add this stage's commands below this line)


# ---------------------------------------------------------------- design check (issue 8)
# (section anchor: add this stage's commands below this line)


if __name__ == "__main__":  # pragma: no cover
    main()
