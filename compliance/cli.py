"""The ``sckb`` command line: a thin layer over the library.

This is the only module that imports click. It maps :class:`SckbError` to its exit
code and prints one line; ``-v`` adds the traceback.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from compliance import __version__
from compliance.errors import EXIT_INTERNAL, CheckFailed, InputError, SckbError
from compliance.vocab import TRIAGE_KINDS

if TYPE_CHECKING:
    from compliance.assess.model import Assessment as SiteAssessment
    from compliance.evidence.store import Store
    from compliance.kb.core import KB
    from compliance.kb.profile import ProfileInfo, ResolvedProfile
    from compliance.site.guides import Edition
    from compliance.site.stamp import BuildKey

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

    def injected_now(self) -> datetime | None:
        """``--now`` when given (outputs that must not depend on the wall clock use a fixed time otherwise)."""
        return self._now

    def kb(self) -> Any:
        if self._kb is None:
            import os

            from compliance import kb as kbmod
            from compliance.kb.load import default_cache_dir

            self._kb = kbmod.load(self.kb_dirs, cache_dir=default_cache_dir(os.environ))
            for p in self._kb.problems:  # the overlays' warnings (an empty overlay loads nothing), one line each
                if p.severity == "warning" and any(p.file == str(d) or p.file.startswith(f"{d}{os.sep}") for d in self.kb_dirs):
                    click.echo(f"sckb: {p}", err=True)
            if self._kb.errors:
                first = self._kb.errors[0]
                more = len(self._kb.errors) - 1
                raise CheckFailed(f"{first} (and {more} more problems; run 'sckb kb validate')" if more else str(first))
        return self._kb


#: ``click.Context.meta`` key (shared by a context and its children) holding the framework ids help texts name.
_FRAMEWORKS_META = "sckb.frameworks"


def _help_frameworks(ctx: click.Context) -> list[str]:
    """The framework ids of the KB in use (frameworks are data, so help cannot name them in code)."""
    ids: list[str] | None = ctx.meta.get(_FRAMEWORKS_META)
    if ids is None:
        obj = ctx.find_object(Ctx)
        try:
            if obj is not None:
                kb = obj.kb()
            else:  # help rendered outside a command run (command_help_texts without a KB): the shipped KB
                import os

                from compliance import kb as kbmod
                from compliance.kb.load import default_cache_dir

                kb = kbmod.load(cache_dir=default_cache_dir(os.environ))
            ids = list(kb.frameworks)
        except SckbError:
            ids = []  # a broken KB must not break --help
        ctx.meta[_FRAMEWORKS_META] = ids
    return ids


class _FrameworkHelp(click.Option):
    """An option whose help text has a ``{frameworks}`` slot: each framework id of the KB, followed by ", "."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        template = self.help or ""
        self.help = template.replace("{frameworks}", "".join(f"{f}, " for f in _help_frameworks(ctx)))
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = template


#: The root's options, which people also type after the subcommand (``sckb evidence list --workspace W``): the
#: option and whether it takes a value. No subcommand has an option of these names (tests/test_cli_global.py).
GLOBAL_OPTIONS = {"--kb": True, "--workspace": True, "--now": True, "-v": False, "--verbose": False}


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move the root's options found after the subcommand to the front, so they work wherever they are typed.
    Everything after ``--`` is left alone."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    seen_command = False
    args = list(args)
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        name = a.split("=", 1)[0]
        if seen_command and name in GLOBAL_OPTIONS:
            takes = GLOBAL_OPTIONS[name] and "=" not in a
            front.extend(args[i : i + 1 + int(takes)])
            i += 1 + int(takes)
            continue
        if not a.startswith("-"):
            seen_command = True
        elif not seen_command and name in GLOBAL_OPTIONS and GLOBAL_OPTIONS[name] and "=" not in a:
            rest.extend(args[i : i + 2])  # a root option before the command, with its value
            i += 2
            continue
        rest.append(a)
        i += 1
    return front + rest


class SckbGroup(click.Group):
    """Turns library errors into one line and a documented exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:  # the root: accept its options after the subcommand too
            args = hoist_global_options(args)
        return super().parse_args(ctx, args)

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
        except BrokenPipeError:  # the reader went away (`sckb ... | head`): stop quietly, as cat does
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
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
    import os

    from rich.console import Console

    # not a terminal (a pipe, a CI log): wide enough that ids never wrap; COLUMNS overrides
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "220"))
    # no automatic highlighting (it coloured stray digits); statuses get their own colours (_cell)
    return Console(soft_wrap=False, width=width, highlight=False)


def _width() -> int:
    """The width output is laid out for: the terminal's, or COLUMNS (default 220) when piped."""
    import shutil

    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return int(os.environ.get("COLUMNS", "220"))


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    """A table, or, when its columns cannot fit the width without crushing (an 80-column terminal), one block per
    row: the first cell as a heading, then each other non-empty cell as ``column: value`` (as checkov and prowler
    print findings)."""
    from rich.table import Table

    cells = [[_cell(x) for x in r] for r in rows]
    need = 1 + sum(
        3 + max([len(c)] + [min(len(_MARKUP.sub("", r[i])), 24) for r in cells if i < len(r)]) for i, c in enumerate(columns)
    )
    if len(columns) > 2 and need > _width():
        return _blocks(title, columns, cells)
    t = Table(title=title, title_justify="left", show_lines=False)
    for i, c in enumerate(columns):
        # the first column holds ids: never break one across lines
        t.add_column(c, overflow="fold", no_wrap=i == 0)
    for r in cells:
        t.add_row(*r)
    return t


def _blocks(title: str, columns: Sequence[str], cells: Sequence[Sequence[str]]) -> Any:
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    parts: list[Any] = [Text.from_markup(f"[bold]{title}[/bold]")]
    for r in cells:
        parts.append(Text.from_markup(f"[bold]{r[0]}[/bold]" if r and r[0] else "-"))
        for name, value in zip(columns[1:], r[1:], strict=False):
            if value:
                parts.append(Padding(Text.from_markup(f"[dim]{name}:[/dim] {value}"), (0, 0, 0, 2)))
    return Group(*parts)


_MARKUP = re.compile(r"(?<!\\)\[/?[a-z ]*\]")
#: One colour per status word, wherever a table shows one (rich drops colour when the output is not a terminal).
STATUS_STYLE = {
    "satisfied": "green",
    "met": "green",
    "passing": "green",
    "present": "green",
    "inherited": "cyan",
    "partially-satisfied": "yellow",
    "unknown": "yellow",
    "not-satisfied": "bold red",
    "unmet": "bold red",
    "absent": "red",
    "open": "red",
    "not-assessed": "dim",
    "closed": "dim",
}


def _cell(x: Any) -> str:
    from rich.markup import escape

    if x is None:
        return ""
    if isinstance(x, (list, tuple)):
        return escape(", ".join(str(i) for i in x))
    text = str(x)
    style = STATUS_STYLE.get(text)
    return f"[{style}]{escape(text)}[/]" if style else escape(text)


_DAY = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"])


def _day(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


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
    "--store",
    "store_url",
    metavar="URL",
    envvar="SCKB_STORE",
    help="A team store: postgresql://USER:PASSWORD@HOST:PORT/DB (env SCKB_STORE). Without it: the workspace's SQLite.",
)
@click.option(
    "--locker",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SCKB_LOCKER",
    help="The team store's locker folder, shared by every ingester (env SCKB_LOCKER; default WORKSPACE/locker).",
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
    ctx: click.Context,
    kb_dirs: tuple[Path, ...],
    workspace: Path,
    store_url: str | None,
    locker: Path | None,
    now: datetime | None,
    verbose: bool,
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
      6  network: a download could not be made (catalog fetch offline)
      70 internal error (a bug; rerun with -v and report it)
    """
    ctx.obj = Ctx(kb_dirs, verbose, workspace, now.replace(tzinfo=UTC) if now else None)
    _configure_store(ctx, store_url, locker)


def _configure_store(ctx: click.Context, store_url: str | None, locker: Path | None) -> None:
    """The store the library opens is configured by the environment (``SCKB_STORE``, ``SCKB_LOCKER``), which helper
    processes inherit: set it for this command from the options, and put it back when the command ends."""
    wanted = {"SCKB_STORE": store_url or None, "SCKB_LOCKER": str(locker) if locker else None}
    saved = {k: os.environ.get(k) for k in wanted}
    for key, value in wanted.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    ctx.call_on_close(restore)


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
                "problems": [{"file": p.file, "line": p.line, "severity": p.severity, "message": p.message} for p in problems],
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
@click.option(
    "--format", "fmt", type=click.Choice(["json", "graphml", "csv", "oscal-mapping"]), default="json", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Output file (json, graphml, oscal-mapping) or folder (csv). Files go to stdout when omitted.",
)
@click.pass_obj
def kb_export(obj: Ctx, fmt: str, out: Path | None) -> None:
    """Export the whole graph for other tools (nodes: id, kind, title; edges: from, to, kind,
    and relationship, rationale, source on mapping edges).

    oscal-mapping: the mapping links as an OSCAL 1.2 mapping collection, one mapping per pair of
    catalogues; last-modified is --now (1970-01-01 without it), so the same KB gives the same file."""
    from compliance.kb.export import export

    if fmt == "csv" and out is None:
        raise click.UsageError("--format csv needs --out FOLDER")
    result: bytes | list[Path]
    if fmt == "oscal-mapping":
        from compliance.oscal.mapping import write_mapping_collection

        result, skipped = write_mapping_collection(obj.kb(), out, now=obj.injected_now())
        if skipped:
            click.echo(f"left out {len(skipped)} link(s) stating no relationship, e.g. {skipped[0]}", err=True)
    else:
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
    """Ask the graph: what a risk reaches, what reaches a control, a mitigation's links, baseline coverage, paths."""


@query_group.command("risk")
@click.argument("risk_id")
@json_option
@click.pass_obj
def query_risk(obj: Ctx, risk_id: str, as_json: bool) -> None:
    """A risk's mitigations and, through them, controls, baselines, HIPAA safeguards and rules."""
    from compliance.kb import query

    kb = obj.kb()
    r = query.risk(kb, risk_id)
    if as_json:
        return emit_json(r)
    con = _console()
    con.print(f"[bold]{_cell(r['id'])}[/bold] {_cell(r['title'])}")
    if r["corresponds_to"]:
        con.print(f"corresponds to: {_cell(r['corresponds_to'])}")
    if r["cwes"]:
        con.print(f"CWEs: {_cell(r['cwes'])}")
    fws = list(kb.frameworks.values())
    rows = [
        (
            m["id"],
            m["title"],
            [c["id"] for c in m["controls"]],
            *(query.of_framework(kb, [s["id"] for s in m["safeguards"]], fw.id) for fw in fws),
            m["rules"],
        )
        for m in r["mitigations"]
    ]
    con.print(_table("Mitigations", ["mitigation", "title", "controls", *(fw.label for fw in fws), "scanner rules"], rows))
    con.print(_table("Baselines reached", ["baseline", "controls"], [(b, cs) for b, cs in r["baselines"].items()]))
    for fw in fws:
        reached = query.of_framework(kb, r["safeguards"], fw.id)
        con.print(f"{fw.label} {fw.items} (direct and by crosswalk): {_cell(reached)}")


@query_group.command("control")
@click.argument("control_id")
@json_option
@click.pass_obj
def query_control(obj: Ctx, control_id: str, as_json: bool) -> None:
    """Everything that reaches a control, and its baseline membership."""
    from compliance.kb import query

    kb = obj.kb()
    r = query.control(kb, control_id)
    if as_json:
        return emit_json(r)
    con = _console()
    con.print(f"[bold]{_cell(r['id'])}[/bold] {_cell(r['title'])}  (family {_cell(r['family'])})")
    if r["responsibility"]:
        resp = r["responsibility"]
        con.print(f"responsibility ({_cell(resp['via'])}): {_cell(resp['party'])}: {_cell(resp['rationale'])}")
        if "basis" in resp:
            con.print(f"basis: {_cell(resp['basis'])}")
    named = set(r["parts_named"])
    parts = [f"{p} (covered by a link)" if p in named else p for p in r["statement_parts"]]
    con.print(f"statement parts: {_cell(parts)}")
    rows = [
        (m["id"], m["title"], m.get("relationship"), m.get("confidence"), m.get("parts", []), m["risks"], m["rules"])
        for m in r["mitigations"]
    ]
    cols = ["mitigation", "title", "relationship", "confidence", "parts covered", "risks", "scanner rules"]
    con.print(_table("Reached by mitigations", cols, rows))
    baselines = [(b["id"], b["title"], b.get("tailoring")) for b in r["baselines"]]
    con.print(_table("Baselines", ["baseline", "title", "tailoring"], baselines))
    for fw in kb.frameworks.values():
        con.print(f"{fw.label} {fw.items} (crosswalk): {_cell(query.of_framework(kb, r['safeguards'], fw.id))}")


@query_group.command("mitigation")
@click.argument("mitigation_id")
@json_option
@click.pass_obj
def query_mitigation(obj: Ctx, mitigation_id: str, as_json: bool) -> None:
    """A mitigation's risks, controls (with the statement parts each link covers), framework items and rules."""
    from compliance.kb import query

    kb = obj.kb()
    r = query.mitigation(kb, mitigation_id)
    if as_json:
        return emit_json(r)
    con = _console()
    con.print(f"[bold]{_cell(r['id'])}[/bold] {_cell(r['title'])}  (phase {_cell(r['phase'])})")
    if r["risks"]:
        con.print(f"risks: {_cell([x['id'] for x in r['risks']])}")
    rows = [(c["id"], c["title"], c.get("relationship"), c.get("confidence"), c.get("parts", [])) for c in r["controls"]]
    con.print(_table("Controls", ["control", "title", "relationship", "confidence", "parts covered"], rows))
    items = [(s["id"], s["title"], s.get("relationship"), s.get("confidence")) for s in r["safeguards"]]
    if items:
        labels = ", ".join(f"{fw.label} {fw.items}" for fw in kb.frameworks.values())
        con.print(_table(f"Framework items ({labels})", ["item", "title", "relationship", "confidence"], items))
    con.print(f"scanner rules: {_cell(r['rules'])}")


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


@query_group.command("profile")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def query_profile(obj: Ctx, file: Path, as_json: bool) -> None:
    """A tailored baseline (an OSCAL profile, JSON or YAML) resolved: its controls, imports, parameter settings,
    alterations, and how it differs from the nearest KB baseline. Exit codes: 0 shown; 3 a bad profile."""
    from dataclasses import asdict

    from compliance.kb.profile import load_profile, nearest_baseline

    kb = obj.kb()
    resolved = load_profile(kb, file)
    _profile_notes(file, resolved)
    info = resolved.info
    near = nearest_baseline(kb, resolved.controls)
    if as_json:
        return emit_json(
            {**asdict(info), "controls": resolved.controls, "nearest_baseline": asdict(near) if near is not None else None}
        )
    con = _console()
    con.print(f"[bold]{_cell(info.title)}[/bold] ({_cell(info.file)}, sha256 {info.sha256[:12]}): {info.controls} controls")
    if near is not None:
        con.print(
            f"against {near.baseline}: +{len(near.added)} ({_cell(', '.join(near.added)) or '-'}), "
            f"-{len(near.removed)} ({_cell(', '.join(near.removed)) or '-'})"
        )
    con.print(_table("Imports", ["href", "resolved to", "controls"], [(i.href, i.source, i.controls) for i in info.imports]))
    if info.parameters:
        rows = [(p.param_id, p.control or "", "; ".join(p.values or p.constraints), p.source) for p in info.parameters]
        con.print(_table("Parameter settings", ["parameter", "control", "value or constraint", "set in"], rows))
    if info.alterations:
        alt_rows = [(a.control, a.adds, a.removes, a.source) for a in info.alterations]
        con.print(_table("Alterations (recorded; no status changes)", ["control", "adds", "removes", "in"], alt_rows))


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
        rels = ", ".join(
            (e.get("relationship") or e["kind"]) + (f" ({e['confidence']})" if e.get("confidence") else "") for e in p["edges"]
        )
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
    from compliance.kb.stats import framework_figures, stats

    kb = obj.kb()
    s = stats(kb)
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
    for label, fig in (
        ("mitigations with aws, gcp and azure guidance", cov["mitigations_with_all_providers"]),
        ("mitigation->control links with relationship, rationale, source", cov["control_links_complete"]),
        ("controls reached by a mitigation", cov["controls_reached"]),
    ):
        rows.append((label, fig["count"], fig["total"], _pct(fig["share"]), None))
    for fw in kb.frameworks.values():
        ff = framework_figures(s, fw.id)
        for label, fig in (("reached directly", ff["direct"]), ("reached directly or by crosswalk", ff["direct_or_crosswalk"])):
            rows.append((f"{fw.label} {fw.items} {label}", fig["count"], fig["total"], _pct(fig["share"]), None))
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


@main.group("evidence")
def evidence_group() -> None:
    """Ingest scanner output and attestations into the workspace's evidence store; list, verify."""


def _finding_filters(f: F) -> F:
    for opt in (
        click.option("--tool", help="Only this tool (canonical name, e.g. checkov)."),
        click.option("--rule", help="Only this rule id (as the tool reports it)."),
        click.option("--mitigation", help="Only findings that evidence this KB mitigation."),
        click.option("--control", help="Only findings that reach this control (e.g. AC-6)."),
        click.option("--status", type=click.Choice(["open", "closed", "passing", "info"]), help="Only this status."),
    ):
        f = opt(f)
    return f


@evidence_group.command("formats")
@json_option
def evidence_formats(as_json: bool) -> None:
    """List the evidence formats sckb reads (detected from content; force one with --format)."""
    from compliance.evidence.formats import registry

    rows = [{"name": f.name, "tool": getattr(f, "tool", None), "title": f.title} for f in registry()]
    if as_json:
        return emit_json(rows)
    _console().print(_table("Evidence formats", ["format", "tool", "what"], [(r["name"], r["tool"], r["title"]) for r in rows]))


@evidence_group.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", help="Force this format for every file (see 'sckb evidence formats').")
@click.option("--strict", is_flag=True, help="Stop at the first bad file (files already ingested stay).")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1),
    default=None,
    help="Processes that share a large batch of files (default: one per CPU, at most 4). The store is the same.",
)
@click.option(
    "--scan-time",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]),
    default=None,
    help="When the scans ran (UTC), for files that do not say; recorded as scan time source 'given'.",
)
@click.option(
    "--wait",
    "wait",
    type=click.FloatRange(0),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another ingest on the same workspace to finish (then exit 5).",
)
@json_option
@click.pass_obj
def evidence_ingest(
    obj: Ctx,
    paths: tuple[Path, ...],
    fmt: str | None,
    strict: bool,
    jobs: int | None,
    scan_time: datetime | None,
    wait: float,
    as_json: bool,
) -> None:
    """Ingest evidence files or folders into the store (one transaction per file, committed in path order).

    Bad files are reported one line each and skipped; the exit code is 3 if any file failed. A file that states
    no scan time is dated with --scan-time (source 'given') or else the time of ingest (source 'ingest').
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from compliance.evidence.formats import by_name
    from compliance.evidence.ingest import check_paths, expand, ingest
    from compliance.evidence.mapping import Mapper
    from compliance.evidence.store import Store

    if fmt is not None and by_name(fmt) is None:
        raise click.BadParameter(f"unknown format {fmt!r} (see 'sckb evidence formats')", param_hint="--format")
    check_paths(paths)
    total = sum(1 for _ in expand(paths))
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[findings]} findings"),
        TimeElapsedColumn(), disable=as_json or not sys.stderr.isatty(), transient=True,
        console=__import__("rich.console", fromlist=["Console"]).Console(stderr=True),
    )  # fmt: skip
    with Store.open(obj.workspace) as store, progress:
        mapper = Mapper(obj.kb())
        task = progress.add_task("ingesting", total=total, findings=0)
        seen = {"n": 0}

        def on_progress(n: int) -> None:
            seen["n"] += n
            progress.update(task, findings=seen["n"])

        def on_file(res: Any) -> None:
            progress.advance(task)
            if res.error and not as_json:
                progress.console.print(f"sckb: error: {res.error}", markup=False, highlight=False, soft_wrap=True)

        def on_wait(message: str) -> None:
            progress.console.print(f"sckb: {message}", markup=False, highlight=False, soft_wrap=True)

        summary = ingest(
            store, paths, mapper=mapper, now=obj.now(), fmt_name=fmt, strict=strict, jobs=jobs, scan_time=scan_time,
            wait=wait, on_wait=on_wait, on_file=on_file, on_progress=on_progress,
            on_start=lambda p: progress.update(task, description=Path(p).name[:40]),
        )  # fmt: skip
    if as_json:
        emit_json([r.as_dict() for r in summary.results])
    else:
        con = _console()
        rows = [
            (r.path, r.format, r.tool, r.failed, r.passed, r.other, r.mapped, r.skipped or ("ERROR" if r.error else ""))
            for r in summary.results
        ]
        con.print(_table("Ingested", ["file", "format", "tool", "failed", "passed", "other", "mapped", "note"], rows))
        share = f"{summary.mapped / summary.findings:.0%}" if summary.findings else "n/a"
        click.echo(
            f"{summary.files} files, {summary.findings} findings, {share} mapped to mitigations, "
            f"{summary.skipped} skipped, {summary.errors} errors"
        )
    if summary.errors:
        raise click.exceptions.Exit(3)


def _stored_findings(obj: Ctx, **filters: Any) -> list[Any]:
    from compliance.evidence.store import Store

    with Store.open(obj.workspace, create=False) as store:
        return list(store.findings(**filters))


def _finding_row(f: Any) -> tuple[Any, ...]:
    where = f.resource or f.function or (f"{f.file}:{f.line}" if f.file and f.line else f.file) or f.account or f.targets
    reaches = f.mitigations or f.controls or f"({f.mapped_by})"
    return (f.identity[:12], f.tool, f.rule_id, f.status, f.severity, where, reaches, f.last_seen)


@evidence_group.command("list")
@_finding_filters
@click.option("--system", "system_name", metavar="NAME", help="Only findings inside this system's boundary (see 'sckb system').")
@click.option("--outside", is_flag=True, help="With --system: only the findings outside its boundary instead.")
@click.option(
    "--severity",
    "min_severity",
    type=click.Choice(["critical", "high", "medium", "low", "info"], case_sensitive=False),
    help="Only findings of this severity or worse.",
)
@click.option("--since", type=_DAY, help="Only findings last seen on or after this date (UTC).")
@click.option("--limit", type=click.IntRange(1), help="At most this many findings (the first in list order).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True, help="Output format."
)
@json_option
@click.pass_obj
def evidence_list(
    obj: Ctx,
    tool: str | None,
    rule: str | None,
    mitigation: str | None,
    control: str | None,
    status: str | None,
    system_name: str | None,
    outside: bool,
    min_severity: str | None,
    since: datetime | None,
    limit: int | None,
    fmt: str,
    as_json: bool,
) -> None:
    """List finding identities (latest observation, first/last seen, status, severity, mitigations, triage)."""
    from compliance.vocab import severity_order

    if outside and system_name is None:
        raise click.UsageError("--outside needs --system NAME")
    fmt = "json" if as_json else fmt
    found = _stored_findings(obj, status=status, tool=tool, rule=rule, mitigation=mitigation, control=control)
    if system_name is not None:
        inside = _load_system(obj, system_name).boundary.matcher().inside
        found = [f for f in found if inside(f) != outside]
    if min_severity is not None:
        worst = severity_order(min_severity)
        found = [f for f in found if severity_order(f.severity) <= worst]
    if since is not None:
        since_s = _day(since) or ""
        found = [f for f in found if f.last_seen >= since_s]
    total = len(found)
    if limit is not None:
        found = found[:limit]
    triaged = _triage_of(obj, found)
    if fmt == "json":
        return emit_json([{**f.as_dict(), "triage": [d.as_dict() for d in triaged.get(f.identity, {}).values()]} for f in found])
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        head = ["identity", "tool", "rule", "status", "severity", "subject", "mitigations", "first_seen", "last_seen"]
        w.writerow([*head, "triage"])
        for f in found:
            subject = f.function or f.resource or (f"{f.file}:{f.line}" if f.file and f.line else f.file) or ""
            kinds = " ".join(sorted(triaged.get(f.identity, {})))
            row = [f.identity, f.tool, f.rule_id, f.status, f.severity or "", subject, " ".join(f.mitigations)]
            w.writerow([*row, f.first_seen, f.last_seen, kinds])
        return None
    cols = ["id", "tool", "rule", "status", "severity", "subject", "mitigations", "last seen"]
    rows = [_finding_row(f) for f in found]
    if triaged:
        cols.append("triage")
        rows = [(*r, ", ".join(sorted(triaged.get(f.identity, {})))) for r, f in zip(rows, found, strict=True)]
    shown = f"{len(found)} of {total} findings" if len(found) < total else f"{total} findings"
    _console().print(_table(shown, cols, rows))
    return None


def _triage_of(obj: Ctx, found: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """identity -> kind -> triage decision in effect at the command's clock, for the findings that have any."""
    from compliance.evidence import triage
    from compliance.evidence.store import Store

    with Store.open(obj.workspace, create=False) as store:
        effect = triage.in_effect(store.triage(), obj.now())
    if not effect.by_target:
        return {}
    return triage.for_findings(effect, ((f.identity, f"{f.tool}:{f.rule_id}") for f in found))


@evidence_group.command("unmapped")
@_finding_filters
@json_option
@click.pass_obj
def evidence_unmapped(
    obj: Ctx, tool: str | None, rule: str | None, mitigation: str | None, control: str | None, status: str | None, as_json: bool
) -> None:
    """Findings that reach no mitigation or control (kept, never dropped): candidates for new KB rules."""
    found = _stored_findings(obj, status=status, tool=tool, rule=rule, mapped=False)
    if as_json:
        return emit_json([f.as_dict() for f in found])
    rules: dict[tuple[str, str], int] = {}
    for f in found:
        rules[(f.tool, f.rule_id)] = rules.get((f.tool, f.rule_id), 0) + 1
    rows = [(t, r, n) for (t, r), n in sorted(rules.items())]
    _console().print(_table(f"{len(found)} unmapped findings, {len(rows)} rules", ["tool", "rule", "findings"], rows))


@evidence_group.command("show")
@click.argument("identity")
@json_option
@click.pass_obj
def evidence_show(obj: Ctx, identity: str, as_json: bool) -> None:
    """One finding (identity or a unique prefix of it) with every observation of it."""
    from compliance.evidence.store import Store

    with Store.open(obj.workspace, create=False) as store:
        f = store.finding(identity)
        history = store.history(f.identity)
    decisions = _triage_of(obj, [f]).get(f.identity, {})
    data = {**f.as_dict(), "history": history, "triage": [d.as_dict() for d in decisions.values()]}
    if as_json:
        return emit_json(data)
    con = _console()
    for key, value in data.items():
        if key not in ("history", "triage"):
            con.print(f"[bold]{key}[/bold]: {_cell(value)}")
    obs = [(h["scan_time"], h["result"], h["file"], h["pointer"]) for h in history]
    con.print(_table("Observations", ["scan time", "result", "file", "pointer"], obs))
    for d in decisions.values():
        approved = f"approved by {d.approved_by}" if d.approved_by else "not approved"
        expiry = f", expires {d.expires[:10]}" if d.expires else ""
        con.print(f"[bold]triage[/bold]: {d.kind} by {d.by} on {d.date[:10]} ({approved}{expiry}): {d.rationale}")


@evidence_group.command("files")
@json_option
@click.pass_obj
def evidence_files(obj: Ctx, as_json: bool) -> None:
    """The ingested evidence files, in ingest order, with how each is known to be complete (verified totals, a
    whole document, or unverified-complete)."""
    from compliance.evidence.formats import completeness
    from compliance.evidence.store import Store

    with Store.open(obj.workspace, create=False) as store:
        files = store.files()
    if as_json:
        return emit_json([{**f.as_dict(), "completeness": completeness(f.format, f.completeness)} for f in files])
    rows = [
        (
            f.sha256[:12],
            f.name,
            f.format,
            f.tool,
            f.tool_version,
            f.scan_time,
            f.scan_time_source,
            f.findings,
            completeness(f.format, f.completeness),
        )
        for f in files
    ]
    cols = ["sha256", "file", "format", "tool", "version", "scan time", "from", "findings", "complete"]
    _console().print(_table(f"{len(files)} evidence files", cols, rows))


@evidence_group.command("verify")
@json_option
@click.pass_obj
def evidence_verify(obj: Ctx, as_json: bool) -> None:
    """Re-hash the locker and recompute every row digest and the file hash chain; exit 1 on any change."""
    from compliance.evidence.store import Store

    with Store.open(obj.workspace, create=False) as store:
        problems = store.verify()
        counts = store.counts()
        orphans = store.locker_orphans()
    if as_json:
        emit_json(
            {
                "ok": not problems,
                "files": counts["files"],
                "observations": counts["observations"],
                "problems": [{"kind": p.kind, "where": p.where, "message": p.message} for p in problems],
                "unreferenced_locker_files": [p.name for p in orphans],
            }
        )
    else:
        for p in problems:
            click.echo(f"changed: {p}")
        for o in orphans:
            click.echo(f"note: locker file {o.name} is not referenced (left by an interrupted ingest)")
        state = "ok" if not problems else "FAILED"
        line = f"{state}: {counts['files']} files, {counts['observations']} observations, {len(problems)} problems"
        click.echo(line, err=bool(problems))
    if problems:
        raise click.exceptions.Exit(1)


@evidence_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet", show_default=True, help="Output format.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@json_option
@click.pass_obj
def evidence_export(obj: Ctx, fmt: str, out: Path, as_json: bool) -> None:
    """Write the store's files, observations and findings as Parquet (schema in the README), for DuckDB, Spark or Trino."""
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    from compliance.evidence.parquet import export_parquet
    from compliance.evidence.store import Store

    progress = Progress(
        TextColumn("exporting {task.completed:,.0f} rows"), TimeElapsedColumn(), transient=True,
        disable=as_json or not sys.stderr.isatty(), console=__import__("rich.console", fromlist=["Console"]).Console(stderr=True),
    )  # fmt: skip
    with Store.open(obj.workspace, read_only=True) as store, progress:
        task = progress.add_task("export", total=None)
        counts = export_parquet(store, out, progress=lambda n: progress.advance(task, n))
    if as_json:
        emit_json({"format": fmt, "out": str(out), "rows": counts})
    else:
        click.echo(", ".join(f"{n} {name}" for name, n in counts.items()) + f" written to {out} ({fmt})")


# ---------------------------------------------------------------- team store (issue 16)


@main.group("store")
def store_group() -> None:
    """Create, upgrade and copy evidence stores (the workspace's SQLite or a PostgreSQL team store)."""


@store_group.command("migrate")
@json_option
@click.pass_obj
def store_migrate(obj: Ctx, as_json: bool) -> None:
    """Create the store's tables, or bring an older layout up to date, and record the schema version."""
    from compliance.evidence.store import store_url
    from compliance.evidence.store.transfer import migrate, open_location

    where = store_url() or str(obj.workspace)
    with open_location(where, workspace=obj.workspace, locker=_locker(), create=True, check=False) as store:
        before, after = migrate(store)
    shown = where.split("@")[-1]  # never the password
    if as_json:
        emit_json({"store": shown, "schema_before": before, "schema": after})
    else:
        click.echo(
            f"{shown}: schema {after}"
            + (" (created)" if before is None else f" (was {before})" if before != after else " (up to date)")
        )


def _locker() -> Path | None:
    value = os.environ.get("SCKB_LOCKER")
    return Path(value) if value else None


@store_group.command("copy")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@json_option
@click.pass_obj
def store_copy(obj: Ctx, source: str, target: str, as_json: bool) -> None:
    """Copy every row and locker file of the store FROM into the new, empty store TO, losslessly.

    FROM and TO are each a workspace folder (SQLite) or a postgresql:// URL (its locker: --locker).
    """
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    from compliance.evidence.store.transfer import copy_store, open_location

    progress = Progress(
        TextColumn("copying {task.description} {task.completed:,.0f} rows"), TimeElapsedColumn(), transient=True,
        disable=as_json or not sys.stderr.isatty(), console=__import__("rich.console", fromlist=["Console"]).Console(stderr=True),
    )  # fmt: skip
    with (
        open_location(source, workspace=obj.workspace, locker=_locker(), read_only=True) as src,
        open_location(
            target, workspace=Path(target) if "://" not in target else obj.workspace, locker=_locker(), create=True
        ) as dst,
        progress,
    ):
        task = progress.add_task("", total=None)
        counts = copy_store(src, dst, on_rows=lambda table, n: progress.update(task, description=table, advance=n))
        problems = dst.verify()
    if as_json:
        emit_json({"rows": counts, "verify_problems": [str(p) for p in problems]})
    else:
        state = "ok" if not problems else f"{len(problems)} problems"
        click.echo(
            f"copied {counts.get('files', 0)} files, {counts.get('observations', 0)} observations, "
            f"{counts.get('locker', 0)} locker files; verify: {state}"
        )
    if problems:
        raise CheckFailed(f"the copy does not verify: {problems[0]}")


# ---------------------------------------------------------------- assess and export oscal, catalog import (issue 5)
# (section anchor: add this stage's commands below this line)

_ASSESS_STATUSES = ["satisfied", "not-satisfied", "partially-satisfied", "not-assessed", "inherited"]


# ---------------------------------------------------------------- systems (issue 21)


@evidence_group.command("triage")
@click.argument("finding", required=False, metavar="ID")
@click.option("--rule", help="Decide about every finding of a rule (tool:rule_id) instead of one finding ID.")
@click.option("--kind", type=click.Choice(TRIAGE_KINDS), help="What is decided.")
@click.option("--rationale", help="Why.")
@click.option("--by", "by", help="Who decided.")
@click.option("--approved-by", help="Who approved it (the authorizing official or delegate); needed for it to count.")
@click.option("--date", type=_DAY, help="When it was decided (UTC; default: the command's clock, --now).")
@click.option("--expires", type=_DAY, help="When it stops counting (required for risk-acceptance).")
@click.option("--poc", help="Point of contact for the POA&M item.")
@click.option(
    "--document",
    "documents",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Supporting document, copied into the locker (repeatable).",
)
@click.option("--adjusted-rating", help="risk-adjustment: the adjusted rating (high, moderate, low ...).")
@click.option("--product", help="vendor-dependency: the vendor's product the fix waits on.")
@click.option("--last-checkin", type=_DAY, help="vendor-dependency: the last check-in with the vendor.")
@click.option("--plan", help="remediation-plan: the overall remediation plan.")
@click.option("--milestone", "milestones", multiple=True, metavar="DATE:TEXT", help="remediation-plan: a milestone (repeatable).")
@click.option("--resources", help="remediation-plan: resources required.")
@click.option("--withdraw", is_flag=True, help="Withdraw the target's --kind decision (recorded too; needs --rationale, --by).")
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record every decision of a YAML file (sckb-triage: 1).",
)
@json_option
@click.pass_obj
def evidence_triage(
    obj: Ctx,
    finding: str | None,
    rule: str | None,
    kind: str | None,
    rationale: str | None,
    by: str | None,
    approved_by: str | None,
    date: datetime | None,
    expires: datetime | None,
    poc: str | None,
    documents: tuple[Path, ...],
    adjusted_rating: str | None,
    product: str | None,
    last_checkin: datetime | None,
    plan: str | None,
    milestones: tuple[str, ...],
    resources: str | None,
    withdraw: bool,
    file: Path | None,
    as_json: bool,
) -> None:
    """Record a triage decision about finding ID (an identity or unique prefix) or every finding of --rule:
    false positive, risk adjustment, operational requirement, risk acceptance, vendor dependency or remediation
    plan. It follows the finding through later scans, changes the POA&M (and, for an approved false positive,
    the status) of later assessments, and is kept for good: a newer decision supersedes, --withdraw withdraws.

    \b
    Exit codes: 0 recorded; 2 usage; 3 bad value or bad file (the message names the option, or the file and
    line); 4 no evidence store; 5 store error."""
    from compliance.evidence import triage

    now = obj.now()
    with _open_store(obj) as store:
        if file is not None:
            if finding or rule or kind or rationale or by or documents or milestones or withdraw:
                raise click.UsageError("--file takes no ID and no other decision option")
            checked = [triage.check(store, d, now=now, source=file.name, bad=bad) for d, bad in triage.read_file(file)]
        else:
            if kind is None:
                raise click.UsageError("give --kind (or --file)")
            ms: list[dict[str, str]] = []
            for m in milestones:
                when, sep, text = m.partition(":")
                if not sep:
                    raise triage.option_error(f"milestone {m!r} is not DATE:TEXT", "milestones")
                ms.append({"date": when.strip(), "description": text.strip()})
            details = {
                "adjusted_rating": adjusted_rating,
                "product": product,
                "last_checkin": _day(last_checkin),
                "plan": plan,
                "milestones": ms or None,
                "resources": resources,
            }
            draft = triage.Draft(
                kind=kind,
                rationale=rationale or "",
                by=by or "",
                finding=finding,
                rule=rule,
                approved_by=approved_by,
                date=_day(date),
                expires=_day(expires),
                poc=poc,
                documents=list(documents),
                withdraw=withdraw,
                details={k: v for k, v in details.items() if v is not None},
            )
            checked = [triage.check(store, draft, now=now, source="cli", bad=triage.option_error)]
        new = triage.record(store, checked)
    if as_json:
        return emit_json({"recorded": new, "decisions": [triage.Entry(r, "").as_dict() | {"state": None} for r, _ in checked]})
    for r, docs in checked:
        what = f"withdrawal of the {r.kind} decision" if r.withdrawn else r.kind
        approved = f", approved by {r.approved_by}" if r.approved_by else ""
        click.echo(f"{r.target}: {what} by {r.by} on {r.date[:10]}{approved}" + (f" ({len(docs)} document(s))" if docs else ""))
    click.echo(f"{new} new triage record(s); {len(checked) - new} already recorded")
    return None


@evidence_group.command("triaged")
@json_option
@click.pass_obj
def evidence_triaged(obj: Ctx, as_json: bool) -> None:
    """Every recorded triage decision, oldest first, with its state at the command's clock (in-effect,
    superseded, withdrawal, expired, future)."""
    from compliance.evidence import triage
    from compliance.evidence.store import Store

    with Store.open(obj.workspace, read_only=True) as store:
        entries = triage.history(store.triage(), obj.now())
    if as_json:
        return emit_json([e.as_dict() for e in entries])
    con = _console()
    click.echo(f"Triage decisions (oldest first): {len(entries)}")
    width = max(40, con.width - 5)
    for e in entries:
        r = e.record
        click.echo(f"{r.seq:>3}  {r.kind}  {r.target}  ({e.state})")
        approved = f"; approved by {r.approved_by}" if r.approved_by else "; not approved"
        expiry = f"; expires {r.expires[:10]}" if r.expires else ""
        who = f"by {r.by} on {r.date[:10]}{approved}{expiry}; from {r.source}"
        for line in [*textwrap.wrap(who, width=width), *textwrap.wrap(r.rationale, width=width)]:
            click.echo(f"     {line}")
    return None


def _load_system(obj: Ctx, name: str) -> Any:
    """The stored system ``name`` (NotFoundError listing the known ones)."""
    from compliance.evidence.store import Store
    from compliance.evidence.system import System

    with Store.open(obj.workspace, read_only=True) as store:
        return System.from_json(store.system(name).data)


@main.group("system")
def system_group() -> None:
    """Systems (authorization boundaries): which findings an assessment of a system counts."""


@system_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace a system of the same name already in the workspace.")
@click.pass_obj
def system_add(obj: Ctx, file: Path, replace: bool) -> None:
    """Add the system described by FILE (YAML: name, description, boundary) to the workspace.

    Exit codes: 0 added; 3 the file is invalid (file:line named) or the system exists (use --replace); 5 store error."""
    from compliance.evidence.store import Store, SystemRow
    from compliance.evidence.system import load_system
    from compliance.vocab import iso

    system = load_system(file)
    with Store.open(obj.workspace) as store:
        replaced = store.put_system(SystemRow(system.name, system.to_json(), str(file), iso(obj.now())), replace=replace)
    click.echo(f"{'replaced' if replaced else 'added'} system {system.name} from {file}", err=True)


def _system_dict(row: Any) -> dict[str, Any]:
    from compliance.evidence.system import System

    return {**System.from_json(row.data).model_dump(mode="json"), "source": row.source, "added_at": row.added_at}


@system_group.command("list")
@json_option
@click.pass_obj
def system_list(obj: Ctx, as_json: bool) -> None:
    """The workspace's systems, by name."""
    from compliance.evidence.store import Store

    with Store.open(obj.workspace, read_only=True) as store:
        rows = [_system_dict(r) for r in store.systems()]
    if as_json:
        return emit_json(rows)
    b = "boundary"
    _console().print(
        _table(
            f"{len(rows)} systems",
            ["name", "description", "providers", "accounts", "regions", "paths", "resources", "added"],
            [
                (
                    r["name"],
                    r["description"],
                    r[b]["providers"],
                    r[b]["accounts"],
                    r[b]["regions"],
                    r[b]["paths"],
                    r[b]["resources"],
                    r["added_at"],
                )
                for r in rows
            ],
        )
    )


@system_group.command("show")
@click.argument("name")
@json_option
@click.pass_obj
def system_show(obj: Ctx, name: str, as_json: bool) -> None:
    """One system: its boundary and how many of the workspace's findings lie inside and outside it."""
    from compliance.evidence.store import Store
    from compliance.evidence.system import System

    with Store.open(obj.workspace, read_only=True) as store:
        row = store.system(name)
        inside = System.from_json(row.data).boundary.matcher().inside
        counts = Counter(inside(f) for f in store.findings())
    data = {**_system_dict(row), "findings": {"inside": counts[True], "outside": counts[False]}}
    if as_json:
        return emit_json(data)
    con = _console()
    con.print(f"[bold]system {_cell(name)}[/bold]  {_cell(data['description'])}")
    con.print(_table("Boundary", ["field", "values"], [(k, v) for k, v in data["boundary"].items()]))
    con.print(f"from {_cell(row.source)}, added {row.added_at}")
    con.print(
        f"{counts[True]} findings inside, {counts[False]} outside "
        f"(list them: sckb evidence list --system {_cell(name)} [--outside])"
    )


@system_group.command("schema")
def system_schema() -> None:
    """Print the JSON Schema of a system file (generated from the model)."""
    from compliance.evidence.system import System

    emit_json(System.model_json_schema())


@system_group.command("remove")
@click.argument("name")
@click.pass_obj
def system_remove(obj: Ctx, name: str) -> None:
    """Forget a system (its stored assessments stay). Exit codes: 0 removed; 4 no such system."""
    with _open_store(obj) as store:
        store.remove_system(name)
    click.echo(f"removed system {name}", err=True)


def _system_option(help_text: str) -> Callable[[F], F]:
    return click.option("--system", "boundary", metavar="NAME", help=help_text)


def profile_option(help_text: str) -> Callable[[F], F]:
    """``--profile FILE`` (a tailored baseline: a user's OSCAL profile), passed as ``profile_file``; give the
    command's kwarg to :func:`_load_profile`."""
    return click.option(
        "--profile", "profile_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE", help=help_text
    )


def _load_profile(obj: Ctx, path: Path | None) -> ResolvedProfile | None:
    """The resolved profile (None without ``--profile``); its notes (what resolution ignored) go to stderr."""
    if path is None:
        return None
    from compliance.kb.profile import load_profile

    resolved = load_profile(obj.kb(), path)
    _profile_notes(path, resolved)
    return resolved


def _profile_notes(path: Path, resolved: ResolvedProfile) -> None:
    for note in resolved.info.notes:
        click.echo(f"sckb: note: {path}: {note}", err=True)


def _resolve_for_system(
    obj: Ctx, assessment: str | None, system_name: str | None, profile: ResolvedProfile | None = None
) -> str | None:
    """The assessment id a renderer uses: unchanged without --system and --profile; with them, the latest of
    that system (made with that profile), or the one named after checking it is."""
    if system_name is None and profile is None:
        return assessment
    from compliance.assess import resolve_assessment

    with _open_store(obj) as store:
        return resolve_assessment(store, assessment, system=system_name, profile=profile)


def _open_store(obj: Ctx, *, create: bool = False) -> Store:
    from compliance.evidence.store import Store

    return Store.open(obj.workspace, create=create)


def _assess_output(a: Any, fmt: str, gate: list[str] | None, paths: bool, out: Path | None, obj: Ctx) -> None:
    from compliance.assess import render

    if fmt == "json":
        text = (
            orjson.dumps(render.as_json(a, gate, paths=paths), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
        )
    elif fmt == "csv":
        text = render.as_csv(a, obj.kb())
    elif fmt == "markdown":
        text = render.as_markdown(a, gate)
    else:
        text = ""
    if out is not None:
        from compliance.errors import InputError

        try:
            out.write_text(text if fmt != "table" else render.as_markdown(a, gate), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the summary: {exc.strerror}", path=out) from exc
    if fmt != "table":
        click.echo(text, nl=False)
        return
    con = _console()
    s = a.summary()
    con.print(f"[bold]assessment {_cell(a.id)}[/bold]  scopes: {_cell(a.scopes)}  window: {a.window_start} .. {a.now}")
    if a.profile is not None:
        p = a.profile
        con.print(
            f"tailored baseline {_cell(p.title)} ({_cell(p.file)}, sha256 {p.sha256[:12]}): {p.controls} controls, "
            f"{len(p.parameters)} parameter setting(s), {len(p.alterations)} alteration(s)"
        )
    if a.system is not None:
        con.print(
            f"system {_cell(a.system)}: {a.outside_findings} finding(s) outside its boundary not counted "
            f"(sckb evidence list --system {_cell(a.system)} --outside)"
        )
    con.print(_table("Controls by status", ["status", "controls"], [(k, v) for k, v in s["counts"].items()]))
    bad = [c for c in a.controls.values() if c.status in ("not-satisfied", "partially-satisfied")]
    if bad:
        con.print(
            _table(
                "Controls needing work",
                ["control", "title", "status", "why"],
                [(c.id, c.title, render.status_label(c), c.reason) for c in bad],
            )
        )
    determined = render.determined_items(a)
    if determined:
        con.print(
            _table(
                "Assessor determinations",
                ["item", "title", "status", "by", "date", "rationale"],
                [
                    (x.id, x.title, render.status_label(x), f"{d.by} ({d.role})", d.date[:10], d.rationale)
                    for x in determined
                    for d in [x.determination]
                    if d is not None
                ],
            )
        )
    for fw, results in render.framework_views(a, obj.kb()) if a.safeguards else []:
        weak = [(x.id, x.title, render.status_label(x)) for x in results if x.status in ("not-satisfied", "partially-satisfied")]
        con.print(_table(f"{fw.label} {fw.items} needing work", [fw.item, "title", "status"], weak))
        counts = sorted(Counter(x.status for x in results).items())
        con.print(f"{fw.label} view: " + ", ".join(f"{k} {v}" for k, v in counts))
    con.print(
        f"satisfied share {s['satisfied_percent']:.2f}% · {s['findings_failing']} failing findings · "
        f"{s['poam_items']} POA&M items ({s['poam_overdue']} overdue) · {s['stale_findings']} stale findings · "
        f"{s['unmapped_failures']['count']} unmapped failures ({a.unmapped_mode})"
    )
    if "remediation_policy" in s:
        con.print(
            f"POA&M due dates: remediation policy {s['remediation_policy']} · "
            f"{s.get('poam_kev', 0)} item(s) name a CISA KEV vulnerability"
        )
    if a.closed_poam:
        con.print(f"{len(a.closed_poam)} closed POA&M item(s) (sckb export poam)")
    for line in render.conmon_lines(a):
        con.print(line, highlight=False)
    for note in a.triage_notes:
        click.echo(f"sckb: warning: triage: {note}", err=True)
    if s["needs_review"]:
        con.print(f"{s['needs_review']} control(s) need review: related evidence fails (see 'sckb assess explain')")
    if s["undated_findings"]:
        con.print(
            f"{s['undated_findings']} undated finding(s) left out: their files state no scan time "
            "(give --scan-time at ingest, or assess with --accept-ingest-time)"
        )
    if gate is not None:
        con.print("gate: passed" if not gate else "gate: FAILED: " + "; ".join(gate))


def _attack_notes(kb: KB, path: Path, scope: str, now: datetime) -> list[Any]:
    """The design's attack paths as POA&M context (the element names each runs through)."""
    from compliance.assess.triage import AttackNote
    from compliance.design.check import run_check

    res = run_check(kb, path, scope, today=now.date())
    return [
        AttackNote(
            frozenset({p["function"], *(step["name"] for step in p["chain"])}),
            f"{p['severity']} {p['kind']}: {p['title']} ({' -> '.join(step['name'] for step in p['chain'])})",
        )
        for p in res.paths
    ]


def _gate_options(f: F) -> F:
    f = click.option(
        "--fail-on",
        multiple=True,
        type=click.Choice(_ASSESS_STATUSES),
        help="CI gate: exit 1 if any control has this status (repeatable).",
    )(f)
    f = click.option(
        "--min-satisfied", type=click.FloatRange(0, 100), help="CI gate: exit 1 if the satisfied share is below PCT."
    )(f)
    f = click.option(
        "--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table", show_default=True
    )(f)
    f = click.option("--paths", is_flag=True, help="With --format json: include every control's explanation path.")(f)
    f = click.option("--summary-out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the summary to FILE.")(f)
    return f


def _finish_gate(
    a: Any, fail_on: tuple[str, ...], min_satisfied: float | None, fmt: str, paths: bool, out: Path | None, obj: Ctx
) -> None:
    gating = bool(fail_on) or min_satisfied is not None or a.unmapped_mode == "fail"
    gate = a.gate(list(fail_on), min_satisfied) if gating else None
    _assess_output(a, fmt, gate, paths, out, obj)
    if gate:
        raise click.exceptions.Exit(1)


@main.group("assess", invoke_without_command=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    cls=_FrameworkHelp,
    help="fedramp-low|moderate|high|li-saas, nist-low|moderate|high, {frameworks}serverless (repeatable).",
)
@click.option(
    "--max-age", type=click.IntRange(0), default=30, show_default=True, help="Evidence freshness window in days (clock: --now)."
)
@click.option(
    "--unmapped-failures",
    type=click.Choice(["ignore", "warn", "fail"]),
    default="warn",
    show_default=True,
    help="How failing findings that map to nothing count (fail: the gate fails).",
)
@click.option(
    "--accept-ingest-time",
    is_flag=True,
    help="Count evidence whose file states no scan time as scanned when it was ingested (default: undated, not counted).",
)
@click.option(
    "--remediation-policy",
    "remediation_policy",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Remediation windows YAML (days per rating) dating POA&M items; default: the shipped FedRAMP windows.",
)
@click.option(
    "--kev",
    "kev_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CISA Known Exploited Vulnerabilities catalogue JSON: an item naming a listed CVE is due by its KEV date if earlier.",
)
@click.option(
    "--previous",
    default="auto",
    show_default=True,
    metavar="ID|auto|none",
    help="The assessment whose POA&M this one continues (closed items, month-to-month changes); auto: the latest "
    "earlier one of the same system and scopes.",
)
@click.option(
    "--design",
    "design_path",
    type=click.Path(exists=True, path_type=Path),
    help="A design (template or folder) whose attack paths are noted on the POA&M items they run through.",
)
@click.option("--no-triage", is_flag=True, help="Ignore the recorded triage decisions (see 'sckb evidence triage').")
@_system_option("Assess only the findings inside this system's boundary (see 'sckb system add'); recorded in the assessment.")
@profile_option("Tailored baseline: an OSCAL profile (JSON/YAML) whose controls are the scope (with any --scope: the union).")
@_gate_options
@click.pass_context
def assess_group(
    ctx: click.Context,
    scopes: tuple[str, ...],
    max_age: int,
    unmapped_failures: str,
    accept_ingest_time: bool,
    remediation_policy: Path | None,
    kev_file: Path | None,
    previous: str,
    design_path: Path | None,
    no_triage: bool,
    boundary: str | None,
    profile_file: Path | None,
    fail_on: tuple[str, ...],
    min_satisfied: float | None,
    fmt: str,
    paths: bool,
    summary_out: Path | None,
) -> None:
    """Assess controls against the evidence store and store the assessment.

    \b
    Each control in scope gets satisfied, not-satisfied, partially-satisfied, not-assessed or inherited,
    with its explanation path (control <- mitigation <- rule <- findings). See README "Assessment and OSCAL".
    \b
    Exit codes: 0 assessed (gate passed); 1 a --fail-on / --min-satisfied / --unmapped-failures fail gate
    failed; 2 usage; 3 --summary-out not writable, or a bad --remediation-policy / --kev / --profile file; 4
    unknown scope or no evidence store; 5 store error.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not scopes and profile_file is None:
        raise click.UsageError("give at least one --scope or a --profile (or a subcommand: diff, show, list, explain)")
    obj: Ctx = ctx.obj
    from rich.progress import BarColumn, Progress, TextColumn

    from compliance.assess import run
    from compliance.assess.determine import stored as stored_determinations
    from compliance.assess.policy import load_kev, load_policy

    policy = load_policy(remediation_policy) if remediation_policy is not None else None
    kev = load_kev(kev_file) if kev_file is not None else None
    kb = obj.kb()
    attack = _attack_notes(kb, design_path, scopes[0] if scopes else "fedramp-moderate", obj.now()) if design_path else []
    profile = _load_profile(obj, profile_file)
    with _open_store(obj) as store:
        system = None
        if boundary is not None:
            from compliance.evidence.system import System

            system = System.from_json(store.system(boundary).data)
        show = sys.stderr.isatty()
        n_total = store.identity_count() if show else None
        from rich.console import Console

        with Progress(
            TextColumn("assessing"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,} findings"),
            console=Console(stderr=True),
            transient=True,
            disable=not show,
        ) as bar:
            task = bar.add_task("assess", total=n_total)
            a = run(
                kb,
                store,
                scopes=list(scopes),
                now=obj.now(),
                max_age_days=max_age,
                unmapped=unmapped_failures,
                progress=lambda n: bar.update(task, completed=n),
                determinations=stored_determinations(store, obj.now()),
                accept_ingest_time=accept_ingest_time,
                system=system,
                policy=policy,
                kev=kev,
                previous=None if previous == "none" else previous,
                attack_paths=attack,
                use_triage=not no_triage,
                profile=profile,
            )
    if fmt == "table" and unmapped_failures == "warn" and a.unmapped:
        click.echo(
            f"sckb: warning: {len(a.unmapped)} failing finding(s) map to no mitigation (see 'sckb evidence unmapped')", err=True
        )
    _finish_gate(a, fail_on, min_satisfied, fmt, paths, summary_out, obj)


@assess_group.command("show")
@click.argument("assessment", required=False)
@_gate_options
@click.pass_obj
def assess_show(
    obj: Ctx,
    assessment: str | None,
    fail_on: tuple[str, ...],
    min_satisfied: float | None,
    fmt: str,
    paths: bool,
    summary_out: Path | None,
) -> None:
    """Show a stored assessment (the latest when none is named), optionally as a CI gate (exit 1 when it fails)."""
    from compliance.assess import load_assessment

    with _open_store(obj) as store:
        a = load_assessment(store, assessment)
    _finish_gate(a, fail_on, min_satisfied, fmt, paths, summary_out, obj)


@assess_group.command("list")
@json_option
@click.pass_obj
def assess_list(obj: Ctx, as_json: bool) -> None:
    """Stored assessments, latest first."""
    from compliance.assess import list_assessments

    with _open_store(obj) as store:
        rows = list_assessments(store)
    if as_json:
        return emit_json([r.as_dict() for r in rows])
    _console().print(
        _table(
            "Assessments (latest first)",
            ["id", "now", "system", "scopes", "satisfied", "not-satisfied", "partial", "not-assessed", "inherited"],
            [
                (
                    r.id,
                    r.now,
                    r.system or "(workspace)",
                    list(r.scopes),
                    r.counts["satisfied"],
                    r.counts["not-satisfied"],
                    r.counts["partially-satisfied"],
                    r.counts["not-assessed"],
                    r.counts["inherited"],
                )
                for r in rows
            ],
        )
    )


@assess_group.command("explain")
@click.argument("control_id")
@click.option("--assessment", help="Assessment id or prefix (default: the latest).")
@json_option
@click.pass_obj
def assess_explain(obj: Ctx, control_id: str, assessment: str | None, as_json: bool) -> None:
    """The explanation path of one control: control <- mitigations <- rules <- findings, with evidence hashes.
    A framework item id (e.g. a HIPAA safeguard, with the hipaa scope) shows the item's mitigations, crosswalked
    controls and children instead."""
    from compliance.assess import load_assessment, render
    from compliance.errors import NotFoundError

    with _open_store(obj) as store:
        a = load_assessment(store, assessment)
    folded = {k.casefold(): k for k in a.controls}
    cid = folded.get(control_id.casefold())
    if cid is None and control_id in a.safeguards:  # the HIPAA view: a safeguard and its children
        sg = a.safeguards[control_id]
        view: dict[str, Any] = {
            "safeguard": sg.id,
            "title": sg.title,
            "status": sg.status,
            **render.determination_fields(sg),
            "reason": sg.reason,
            "mitigations": [
                {"id": m.id, "relationship": m.relationship, "determinative": m.determinative, "status": m.status}
                for m in sg.mitigations
            ],
            "controls": [{"id": c, "status": a.controls[c].status, "related": True} for c in sg.controls if c in a.controls],
            "specifications": [{"id": x, "status": a.safeguards[x].status} for x in sg.specifications if x in a.safeguards],
            "review": sg.review,
        }
        if as_json:
            return emit_json(view)
        click.echo(f"{sg.id} {sg.title}: {render.status_label(sg)} ({sg.reason})")
        if (line := render.determination_line(sg)) is not None:
            click.echo(f"  {line}")
        for row in view["mitigations"]:
            role = "decides" if row["determinative"] else "related"
            click.echo(f"  <- mitigation {row['id']} [{row['relationship']}, {role}]: {row['status']}")
        for row in view["controls"]:
            click.echo(f"  <- control {row['id']} [crosswalk, related]: {row['status']}")
        for row in view["specifications"]:
            click.echo(f"  <- specification {row['id']}: {row['status']}")
        for why in sg.review:
            click.echo(f"  needs review: {why}")
        return None
    if cid is None:
        raise NotFoundError(f"control {control_id!r} is not in assessment {a.id} (scopes: {', '.join(a.scopes)})")
    p = a.path(cid)
    p.update(render.determination_fields(a.controls[cid]))
    if as_json:
        return emit_json(p)
    click.echo(f"{p['control']} {p['title']}: {render.status_label(a.controls[cid])} ({p['reason']})")
    if (line := render.determination_line(a.controls[cid])) is not None:
        click.echo(f"  {line}")
    if p["party"] != "provider":
        covered = ", ".join(p["covered"]) or "none"
        click.echo(f"  statement parts covered: {len(p['covered'])} of {len(p['parts'])} ({covered})")
    for why in p["review"]:
        click.echo(f"  needs review: {why}")
    for m in p["mitigations"]:
        role = "decides" if m["determinative"] else "related"
        parts = f", parts {' '.join(m['parts'])}" if m["parts"] else ""
        click.echo(f"  <- {m['id']} [{m['relationship']}, {role}{parts}]: {m['status']} ({m['reason']})")
        for r in m["rules"]:
            counts = f"{r['failed']} failing, {r['passed']} passing, {r['stale']} stale"
            if r["undated"]:
                counts += f", {r['undated']} undated"
            how = f"{r['mapped_by']}, {r['relationship']}" if r["relationship"] else r["mapped_by"]
            related = "" if r["determinative"] else " [related]"
            click.echo(f"       <- {r['rule']} ({how}){related}: {r['outcome']}, {counts}")
            for f in r["failing_findings"][:20]:
                where = f" {f['file']}:{f['line'] or ''}" if f["file"] else ""
                ev = f"evidence {f['evidence_sha256'][:16]} {f['pointer']}"
                click.echo(f"            <- {f['subject'] or 'finding'}{where} {ev}")
            if len(r["failing_findings"]) > 20:
                click.echo(f"            ... {len(r['failing_findings']) - 20} more")
    for r in p["attestations"]:
        click.echo(f"  <- attestation {r['rule']}: {r['outcome']} (methods {', '.join(r['methods'])})")


@assess_group.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 if any control's status got worse.")
@json_option
@click.pass_obj
def assess_diff(obj: Ctx, old: str, new: str | None, fail_on_regression: bool, as_json: bool) -> None:
    """Compare two assessments (NEW defaults to the latest): status changes, findings opened and closed.

    Exit codes: 0 compared; 1 --fail-on-regression and a control got worse; 4 unknown assessment."""
    from compliance.assess import diff, load_assessment

    with _open_store(obj) as store:
        a, b = load_assessment(store, old), load_assessment(store, new)
    d = diff(a, b)
    if as_json:
        emit_json(d)
    else:
        con = _console()
        con.print(f"[bold]{_cell(d['old'])} -> {_cell(d['new'])}[/bold]")
        con.print(
            _table(
                "Status changes",
                ["control", "title", "old", "new", "regression"],
                [(c["control"], c["title"], c["old"], c["new"], "yes" if c["regression"] else "") for c in d["changed"]],
            )
        )
        con.print(
            _table(
                "Findings opened",
                ["rule", "subject", "severity"],
                [(f["rule"], f["subject"], f["severity"]) for f in d["opened"]],
            )
        )
        con.print(
            _table(
                "Findings closed",
                ["rule", "subject", "severity"],
                [(f["rule"], f["subject"], f["severity"]) for f in d["closed"]],
            )
        )
        if d["added"] or d["removed"]:
            con.print(f"controls added: {_cell(d['added'])}; removed: {_cell(d['removed'])}")
        pd = d["poam"]
        con.print(
            f"POA&M (continuous monitoring): {len(pd['new'])} new, {len(pd['closed'])} closed, {len(pd['changed'])} changed, "
            f"{len(pd['overdue'])} overdue, {len(pd['deviated'])} deviated"
        )
        for label in ("new", "closed", "unverified", "overdue", "deviated"):
            if pd[label]:
                con.print(f"  {label}: {', '.join(pd[label])}")
        for rule, what in pd["changed"].items():
            con.print(f"  changed {rule}: {'; '.join(what)}")
    if fail_on_regression and d["regressions"]:
        raise click.exceptions.Exit(1)


# ---------------------------------------------------------------- assessors' determinations (issue 21)

_DETERMINED = [s for s in _ASSESS_STATUSES if s != "not-assessed"]


@assess_group.command("determine")
@click.argument("target", required=False)
@click.option("--status", type=click.Choice(_DETERMINED), help="The status the assessor determines.")
@click.option("--rationale", help="Why (what was examined, who was interviewed).")
@click.option("--by", "by", help="Who made the determination.")
@click.option("--role", default="assessor", show_default=True, help="The role the person acts in (an OSCAL role id).")
@click.option(
    "--method",
    "methods",
    multiple=True,
    type=click.Choice(["EXAMINE", "INTERVIEW", "TEST"], case_sensitive=False),
    help="SP 800-53A method it rests on (repeatable; default EXAMINE).",
)
@click.option(
    "--date",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]),
    help="When it was made (UTC; default: the command's clock, --now).",
)
@click.option("--withdraw", is_flag=True, help="Withdraw TARGET's determination (recorded too; needs --rationale, --by).")
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record every determination of a YAML file (sckb-determinations: 1) instead.",
)
@json_option
@click.pass_obj
def assess_determine(
    obj: Ctx,
    target: str | None,
    status: str | None,
    rationale: str | None,
    by: str | None,
    role: str,
    methods: tuple[str, ...],
    date: datetime | None,
    withdraw: bool,
    file: Path | None,
    as_json: bool,
) -> None:
    """Record an assessor's determination of TARGET (a control or framework item id): it sets the status of
    later assessments, beside the status the evidence gives. The history is kept: a newer determination
    supersedes an older one, and --withdraw records a withdrawal.

    \b
    Exit codes: 0 recorded; 2 usage; 3 bad value or bad file (the message names the option, or the file and
    line); 4 unknown TARGET; 5 store error."""
    from compliance.assess import determine

    kb = obj.kb()
    if file is not None:
        if target is not None or status or rationale or by or methods or date or withdraw:
            raise click.UsageError("--file takes no TARGET and no other determination option")
        records = determine.read_file(kb, file, now=obj.now())
    else:
        if target is None:
            raise click.UsageError("give a TARGET (a control or framework item id) or --file")
        when = date.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if date else None
        records = [
            determine.make(
                kb,
                target,
                status=status,
                rationale=rationale or "",
                by=by or "",
                now=obj.now(),
                role=role,
                methods=methods,
                date=when,
                withdraw=withdraw,
            )
        ]
    with _open_store(obj, create=True) as store:
        new = determine.record(store, records)
    if as_json:
        given = [{k: v for k, v in determine.Entry(r, "").as_dict().items() if k not in ("seq", "state")} for r in records]
        return emit_json({"recorded": new, "determinations": given})
    for r in records:
        what = "withdrawal of the determination" if r.status == "withdrawn" else r.status
        click.echo(f"{r.target}: {what} by {r.by} ({r.role}) on {r.date}, methods {', '.join(r.methods)}")
    click.echo(f"{new} new determination record(s); {len(records) - new} already recorded")


@assess_group.command("determinations")
@json_option
@click.pass_obj
def assess_determinations(obj: Ctx, as_json: bool) -> None:
    """Every recorded determination, oldest first, with its state at the command's clock (in-effect, superseded,
    withdrawal, future)."""
    from compliance.assess import determine
    from compliance.evidence.store import Store

    with Store.open(obj.workspace, read_only=True) as store:
        entries = determine.history(store.determinations(), obj.now())
    if as_json:
        return emit_json([e.as_dict() for e in entries])
    con = _console()
    if con.width >= 140:
        con.print(
            _table(
                "Determinations (oldest first)",
                ["#", "target", "status", "state", "by", "role", "date", "methods", "source", "rationale"],
                [
                    (r.seq, r.target, r.status, e.state, r.by, r.role, r.date, list(r.methods), r.source, r.rationale)
                    for e in entries
                    for r in (e.record,)
                ],
            )
        )
        return None
    # a narrow terminal: one block per record, so the rationale stays readable
    click.echo("Determinations (oldest first)")
    for e in entries:
        r = e.record
        click.echo(f"{r.seq:>3}  {r.target}  {r.status}  ({e.state})")
        who = f"by {r.by} ({r.role}) on {r.date[:10]}, {', '.join(r.methods)}; from {r.source}"
        width = max(40, con.width - 5)
        for line in [*textwrap.wrap(who, width=width), *textwrap.wrap(r.rationale, width=width)]:
            click.echo(f"     {line}")
    return None


@main.group("export")
def export_group() -> None:
    """Export assessments to other formats (OSCAL)."""


@export_group.command("oscal")
@click.option("--assessment", help="Assessment id or prefix (default: the latest).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option(
    "--schema-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of the NIST OSCAL 1.1.3 JSON schemas: validate every document before writing (needs jsonschema-rs).",
)
@click.option(
    "--copy-evidence/--no-copy-evidence", default=True, show_default=True, help="Copy raw evidence files into OUT/evidence/."
)
@click.option(
    "--strict",
    is_flag=True,
    help="With a FedRAMP scope: FedRAMP constraint errors block the write (otherwise they are warnings).",
)
@click.option(
    "--ssp",
    "ssp_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The system's OSCAL SSP (e.g. from 'export ssp'): the plan's import-ssp names it, relative to --out.",
)
@click.option("--assessor", help="The assessor organisation (a metadata party; default: 'Automated assessment (sckb)').")
@click.option("--marking", help="A marking for every document (a metadata 'marking' prop), e.g. CUI.")
@_system_option("Export the latest assessment of this system (an --assessment of another system is refused).")
@profile_option("Export the latest assessment made with this tailored baseline (same profile content); see 'assess --profile'.")
@click.pass_obj
def export_oscal(
    obj: Ctx,
    assessment: str | None,
    out: Path,
    schema_dir: Path | None,
    copy_evidence: bool,
    strict: bool,
    ssp_file: Path | None,
    assessor: str | None,
    marking: str | None,
    boundary: str | None,
    profile_file: Path | None,
) -> None:
    """Write OSCAL 1.1.3 JSON: assessment plan, assessment results, POA&M and component definition.

    The documents are checked as 'sckb oscal check' does before they are written; each problem is printed on
    stderr. Same assessment and --now -> byte-identical files. Exit codes: 0 written; 1 a document failed the
    schema check or the reference check (or, with --strict and a FedRAMP scope, a FedRAMP constraint), nothing
    written; 3 a bad --profile file; 4 no such assessment; 5 store error."""
    from compliance.assess import load_assessment
    from compliance.evidence.system import System
    from compliance.oscal import export
    from compliance.oscal.build import DEFAULT_ASSESSOR, Context
    from compliance.oscal.check import Problem

    shown: list[Problem] = []
    hidden: list[Problem] = []

    def report(p: Problem) -> None:
        # errors always; warnings only the first few (the full list: 'sckb oscal check')
        if p.severity == "error" or len(shown) < 10:
            shown.append(p)
            click.echo(p.line(), err=True)
        else:
            hidden.append(p)

    kb = obj.kb()
    assessment = _resolve_for_system(obj, assessment, boundary, _load_profile(obj, profile_file))
    ssp_href = os.path.relpath(ssp_file.resolve(), out.resolve()).replace(os.sep, "/") if ssp_file is not None else None
    try:
        with _open_store(obj) as store:
            a = load_assessment(store, assessment)
            # the system file names the system, its contacts and the platform authorizations it leverages
            system = System.from_json(store.system(a.system).data) if a.system is not None else None
            ctx = Context(kb=kb, system=system, ssp_href=ssp_href, assessor=assessor or DEFAULT_ASSESSOR, marking=marking)
            written = export(
                kb,
                a,
                out,
                schema_dir=schema_dir,
                locker=store.locker_path if copy_evidence else None,
                strict=strict,
                report=report,
                ctx=ctx,
            )
    finally:
        if hidden:
            click.echo(f"... and {len(hidden)} more warning(s): run 'sckb oscal check' on the files for all", err=True)
    for p in written:
        if p.parent == out:
            click.echo(f"wrote {p}", err=True)
    if schema_dir is not None:
        click.echo("schema check: all documents valid", err=True)


@export_group.command("poam")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["fedramp-xlsx"]),
    default="fedramp-xlsx",
    show_default=True,
    help="fedramp-xlsx: the FedRAMP POA&M template's sheets and columns.",
)
@click.option("--assessment", help="Assessment id or prefix (default: the latest).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .xlsx file to write.")
@_system_option("Export the latest assessment of this system (an --assessment of another system is refused).")
@profile_option("Export the latest assessment made with this tailored baseline (same profile content); see 'assess --profile'.")
@click.pass_obj
def export_poam(obj: Ctx, fmt: str, assessment: str | None, out: Path, boundary: str | None, profile_file: Path | None) -> None:
    """Write the assessment's POA&M items as a spreadsheet in the FedRAMP POA&M template layout.

    Same assessment -> byte-identical file. Exit codes: 0 written; 3 the file cannot be written, or a bad
    --profile file; 4 no such assessment; 5 store error."""
    from compliance.assess import load_assessment
    from compliance.report.poam_xlsx import export_fedramp_xlsx

    assessment = _resolve_for_system(obj, assessment, boundary, _load_profile(obj, profile_file))
    with _open_store(obj) as store:
        a = load_assessment(store, assessment)
    export_fedramp_xlsx(a, out)
    click.echo(f"wrote {out} ({len(a.poam)} open POA&M item(s), format {fmt})", err=True)


@export_group.command("ssp")
@click.option(
    "--design",
    "design_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Template or IaC folder (as for 'design check').",
)
@click.option(
    "--scope",
    help="The baseline whose official OSCAL profile the plan imports (a KB baseline id, e.g. fedramp-moderate, nist-high).",
)
@profile_option("A tailored baseline (your OSCAL profile) instead of --scope: the plan imports that file.")
@click.option(
    "--system", "system_name", metavar="NAME", help="A system stored with 'sckb system add' (its file needs an ssp: block)."
)
@click.option(
    "--system-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A system file, read directly (instead of --system).",
)
@click.option(
    "--assessment", help="Link statements to this assessment's observations and take its statuses (id, prefix or 'latest')."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The SSP JSON file to write.")
@click.option(
    "--results-href",
    default="assessment-results.json",
    show_default=True,
    help="Where 'export oscal' wrote the assessment results, relative to --out (the evidence links point there).",
)
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the statements a person must write, as a checklist.",
)
@click.option(
    "--classification",
    type=click.Path(path_type=Path),
    default=None,
    help="Data classification file (default: sckb.yaml beside the template).",
)
@click.option(
    "--schema-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of the NIST OSCAL 1.1.3 JSON schemas: validate the plan before writing (needs jsonschema-rs).",
)
@json_option
@click.pass_obj
def export_ssp(
    obj: Ctx,
    design_path: Path,
    scope: str | None,
    profile_file: Path | None,
    system_name: str | None,
    system_file: Path | None,
    assessment: str | None,
    out: Path,
    results_href: str,
    markdown: Path | None,
    classification: Path | None,
    schema_dir: Path | None,
    as_json: bool,
) -> None:
    """Write an OSCAL 1.1.3 system security plan for the design at --design under one baseline (--scope).

    Placeholders mark what only a person can write (policies, procedures, training); --markdown lists them.
    Same inputs and --now -> byte-identical file. Exit codes: 0 written; 1 the plan failed the schema check (nothing
    written); 2 neither or both of --system and --system-file; 3 a bad design or system file (the field to write is
    named); 4 unknown scope, system or assessment; 5 store error."""
    from rich.console import Console

    from compliance.design.check import run_check
    from compliance.evidence.system import load_system
    from compliance.kb.scope import resolve
    from compliance.oscal.ssp import ImportedProfile, build_ssp, write_ssp
    from compliance.vocab import iso

    if (system_name is None) == (system_file is None):
        raise click.UsageError("give one of --system NAME or --system-file FILE")
    if (scope is None) == (profile_file is None):
        raise click.UsageError("give one of --scope BASELINE or --profile FILE")
    kb = obj.kb()
    profile = _load_profile(obj, profile_file)
    sc = resolve(kb, [scope] if scope else [], profile=profile)
    imported = None
    if profile is not None and profile_file is not None:
        # the plan imports the user's own profile, named relative to the plan
        href = os.path.relpath(profile_file.resolve(), out.resolve().parent).replace(os.sep, "/")
        imported = ImportedProfile(href, profile.info.title)
    a = None
    if system_file is not None:
        system, source = load_system(system_file), str(system_file)
    else:
        from compliance.evidence.store import Store
        from compliance.evidence.system import System

        with Store.open(obj.workspace, read_only=True) as store:
            row = store.system(str(system_name))
        system, source = System.from_json(row.data), row.source
    if assessment is not None:
        from compliance.assess import load_assessment

        with _open_store(obj) as store:
            a = load_assessment(store, _resolve_for_system(obj, assessment, system_name))
    with Console(stderr=True).status("reading the design and writing the plan…"):
        res = run_check(kb, design_path, scope, today=obj.now().date(), classification=classification, profile=profile)
        result = build_ssp(
            kb, res, sc, system, source=source, now=iso(obj.now()), assessment=a, ar_href=results_href, profile=imported
        )
        write_ssp(result, out, markdown=markdown, schema_dir=schema_dir)
    counts = result.counts()
    if as_json:
        return emit_json(
            {
                "out": str(out),
                "markdown": str(markdown) if markdown else None,
                "controls": len(result.controls),
                **counts,
                "placeholders": len(result.placeholders),
            }
        )
    done = ", ".join(f"{n} {s}" for s, n in counts["status"].items() if n)
    click.echo(
        f"wrote {out}: {len(result.controls)} controls ({done}); {len(result.placeholders)} placeholder(s) to write", err=True
    )
    if markdown is not None:
        click.echo(f"wrote {markdown} (the placeholders as a checklist)", err=True)


@main.group("oscal")
def oscal_group() -> None:
    """Check OSCAL documents (reference integrity, FedRAMP constraints)."""


@oscal_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--constraints",
    "constraints_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A constraint data file instead of the FedRAMP constraints shipped with sckb.",
)
@click.option("--no-constraints", is_flag=True, help="Check reference integrity only.")
@json_option
def oscal_check(files: tuple[Path, ...], constraints_file: Path | None, no_constraints: bool, as_json: bool) -> None:
    """Check OSCAL JSON FILES: every UUID reference, role id and '#' link resolves (in the file, the documents
    it imports, or a file.json#uuid link's file beside it), no UUID is defined twice, and FedRAMP's constraints
    for assessment plans, results and POA&Ms hold. One line per problem: FILE#/json/pointer: severity: message.

    Exit codes: 0 no errors (warnings allowed); 1 an error; 3 a file is not JSON or not OSCAL."""
    from compliance.oscal.check import CONSTRAINTS_FILE, check_files, load_constraints, summary

    constraints = None if no_constraints else load_constraints(constraints_file or CONSTRAINTS_FILE)
    problems = check_files(list(files), constraints=constraints)
    counts = summary(problems)
    if as_json:
        emit_json({"files": [str(f) for f in files], "problems": [p.as_json() for p in problems], **counts})
    else:
        for p in problems:
            click.echo(p.line())
    tally = f"{len(files)} file(s): {counts['errors']} error(s), {counts['warnings']} warning(s)"
    if counts["errors"]:
        raise CheckFailed(tally)
    if not as_json:
        click.echo(tally, err=True)


@main.group("catalog")
def catalog_group() -> None:
    """Control statements from the official SP 800-53 OSCAL catalog."""


@catalog_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--profile",
    "profile_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An OSCAL profile (e.g. a FedRAMP baseline) whose set-parameters fill the statements' assignments.",
)
@json_option
@click.pass_obj
def catalog_import(obj: Ctx, file: Path, profile_file: Path | None, as_json: bool) -> None:
    """Import control statements from the SP 800-53 rev5 OSCAL catalog JSON into the workspace.

    With --profile, each parameter the profile sets reads "[<profile title>: <value>]" instead of its
    "[Assignment: ...]". Exit codes: 0 imported; 3 a file that cannot be read or is not a catalog/profile."""
    from compliance.oscal.catalog import import_catalog, profile_values

    fill = profile_values(obj.kb(), profile_file) if profile_file is not None else None
    with _open_store(obj, create=True) as store:
        n = import_catalog(store, file, fill=fill)
    if as_json:
        return emit_json({"file": str(file), "controls": n, "parameters": len(fill.values) if fill else 0})
    extra = f", {len(fill.values)} parameter values from {fill.title}" if fill else ""
    click.echo(f"imported {n} control statements from {file}{extra}")


@catalog_group.command("fetch")
@click.option(
    "--baseline",
    type=click.Choice(["low", "moderate", "high", "li-saas", "none"]),
    default="moderate",
    show_default=True,
    help="The FedRAMP Rev 5 baseline profile whose parameter values fill the statements ('none': NIST's text only).",
)
@click.option("--mirror", metavar="URL", help="Download from URL/<official file name> instead (the pinned hashes still apply).")
@click.option("--save", type=click.Path(file_okay=False, path_type=Path), help="Keep the downloaded files in this folder.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for the server.")
@json_option
@click.pass_obj
def catalog_fetch(obj: Ctx, baseline: str, mirror: str | None, save: Path | None, timeout: float, as_json: bool) -> None:
    """Download the official SP 800-53 rev5 OSCAL catalog and a FedRAMP baseline profile, check their pinned
    SHA-256, and import the statements with the profile's parameter values.

    The URLs name a fixed commit of usnistgov/oscal-content and GSA/fedramp-automation. Exit codes: 0 imported;
    3 a download whose SHA-256 is not the pinned one (refused, nothing imported); 6 no network (the message
    names the URL; download the file elsewhere and run 'sckb catalog import FILE')."""
    from compliance.oscal.catalog import fetch

    kb = obj.kb()
    with _open_store(obj, create=True) as store, _download_progress() as bars:
        res = fetch(
            kb,
            store,
            baseline=None if baseline == "none" else baseline,
            mirror=mirror,
            save=save,
            timeout=timeout,
            progress=bars,
        )
    if as_json:
        return emit_json(
            {
                "catalog": res.catalog_url,
                "profile": res.profile_url,
                "controls": res.controls,
                "parameters": res.parameters,
            }
        )
    extra = f", {res.parameters} parameter values from {res.profile_title}" if res.profile_title else ""
    click.echo(f"imported {res.controls} control statements from {res.catalog_url}{extra}")


def _download_progress() -> Any:
    """Per-download progress bars on a terminal (a callback factory); nothing when piped."""
    import contextlib

    @contextlib.contextmanager
    def bars() -> Any:
        if not sys.stderr.isatty():
            yield None
            return
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), transient=True) as prog:
            tasks: dict[str, Any] = {}

            def factory(name: str) -> Any:
                tasks[name] = prog.add_task(name, total=None)
                return lambda done, total: prog.update(tasks[name], completed=done, total=total)

            yield factory

    return bars()


# ---------------------------------------------------------------- report pdf (issue 6)
# (section anchor: add this stage's commands below this line)


@main.group("report")
def report_group() -> None:
    """Reports for auditors (PDF)."""


@report_group.command("pdf")
@click.option("--assessment", help="Assessment id or prefix (default: the latest).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF file to write.")
@click.option(
    "--title", default="Serverless compliance assessment report", show_default=True, help="Report title (cover, PDF metadata)."
)
@click.option("--system-name", help="Name of the assessed system (cover, headers).")
@click.option("--organization", help="Organization (cover; PDF author).")
@click.option("--assessor", help="Who assessed: a person or team (cover, assessor section, sign-off block).")
@click.option(
    "--logo",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PNG or SVG logo for the cover (at most 512 KiB; embedded, never fetched).",
)
@click.option(
    "--pdf-variant",
    type=click.Choice(["pdf/a-3b", "pdf/ua-1"]),
    help="Archival PDF/A-3b (allows the attachments) or accessible, tagged PDF/UA-1.",
)
@click.option("--attach", is_flag=True, help="Embed the OSCAL assessment results JSON and a CSV of every failing finding.")
@click.option(
    "--ssp",
    "ssp_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A system security plan from 'export ssp': summarise its controls by implementation status and responsibility.",
)
@_system_option("Report the latest assessment of this system (an --assessment of another system is refused).")
@json_option
@click.pass_obj
def report_pdf(
    obj: Ctx,
    assessment: str | None,
    boundary: str | None,
    out: Path,
    title: str,
    system_name: str | None,
    organization: str | None,
    assessor: str | None,
    logo: Path | None,
    pdf_variant: str | None,
    attach: bool,
    ssp_file: Path | None,
    as_json: bool,
) -> None:
    """Write the auditor's PDF report of a stored assessment: cover, contents, executive summary with
    charts, the system and its boundary (an assessment of a --system), scope, assessor and dates, method,
    limitations and sign-off, one section per control with its explanation path and evidence citations,
    risk register, POA&M, one view per framework in scope (e.g. HIPAA), evidence appendix.

    Same assessment, options and --now -> the same PDF. Exit codes: 0 written; 3 bad logo or output path;
    4 no such assessment or no evidence store; 5 store error."""
    from compliance.report import Options
    from compliance.report import report_pdf as make
    from compliance.report.assets import logo_data_uri

    assessment = _resolve_for_system(obj, assessment, boundary)
    opts = Options(
        title=title,
        system_name=system_name if system_name is not None else boundary,
        organization=organization,
        assessor=assessor,
        logo=logo_data_uri(logo) if logo is not None else None,
    )
    kb = obj.kb()
    with _open_store(obj) as store:
        con = _console()
        with con.status("rendering the PDF report", spinner="dots") if sys.stderr.isatty() else _null():
            atts = _report_attachments if attach else None
            res = make(
                kb,
                store,
                out=out,
                now=obj.now(),
                assessment=assessment,
                options=opts,
                variant=pdf_variant,
                attachments=atts,
                ssp=ssp_file,
            )
    info = {
        "out": str(res.out),
        "pages": res.pages,
        "assessment": res.assessment_id,
        "variant": pdf_variant,
        "attachments": res.attachments,
        "refused_urls": res.refused,
    }
    if as_json:
        return emit_json(info)
    extra = f", attached {', '.join(res.attachments)}" if res.attachments else ""
    click.echo(f"wrote {res.out}: {res.pages} pages, assessment {res.assessment_id}{extra}", err=True)


def _report_attachments(a: Any) -> list[Any]:
    """The files ``report pdf --attach`` embeds: built here, so that the report imports no OSCAL code."""
    from compliance.oscal import assessment_results, dumps
    from compliance.report import AR_NAME, CSV_NAME, Attachment, findings_csv

    return [
        Attachment(AR_NAME, dumps(assessment_results(a)), f"OSCAL 1.1.3 assessment results of {a.id}"),
        Attachment(CSV_NAME, findings_csv(a), f"every open failing finding of {a.id} (CSV)"),
    ]


def _null() -> Any:
    import contextlib

    return contextlib.nullcontext()


# ---------------------------------------------------------------- site (issue 7)
# (section anchor: add this stage's commands below this line)


def command_help_texts(kb: KB | None = None) -> list[tuple[str, str]]:
    """(command path, ``--help`` text) for every command, for the site's generated CLI reference.

    Rendered at a fixed width so the reference is the same on every terminal. ``kb`` gives the frameworks
    the ``--scope`` help lists (default: those of the shipped KB)."""
    out: list[tuple[str, str]] = []

    def walk(cmd: click.Command, parent: click.Context | None, path: list[str]) -> None:
        settings: dict[str, Any] = {
            **(cmd.context_settings if parent is None else {}),
            "terminal_width": 100,
            "max_content_width": 100,
        }
        ctx = click.Context(cmd, info_name=path[-1], parent=parent, **settings)
        if parent is None and kb is not None:
            ctx.meta[_FRAMEWORKS_META] = list(kb.frameworks)
        out.append((" ".join(path), cmd.get_help(ctx)))
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, ctx, [*path, name])

    walk(main, None, ["sckb"])
    return out


@main.group("site")
def site_group() -> None:
    """Build and serve the browsable guidance site (MkDocs, Material theme)."""


def _site_progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)


@dataclass
class _SiteInputs:
    """What a site build reads, resolved before any build: a bad option fails at once, and ``site serve`` can
    tell from the key whether the folder already holds this build."""

    kb: KB
    dashboard: SiteAssessment | None
    statements: dict[str, str]
    edition: Edition
    key: BuildKey


def _site_inputs(obj: Ctx, assessment: str | None, boundary: str | None = None, previous: Path | None = None) -> _SiteInputs:
    from compliance.errors import InputError
    from compliance.site.guides import Edition
    from compliance.site.stamp import build_key

    edition = Edition(version=__version__, built=obj.now().date().isoformat())
    if previous is not None:  # read before any build, so that a missing file fails in one line and at once
        try:
            edition.previous, edition.previous_name = previous.read_bytes(), previous.name
        except OSError as exc:
            raise InputError(f"cannot read the previous export: {exc.strerror}", path=previous) from exc

    kb = obj.kb()
    if boundary is not None:  # dashboards of the latest assessment of that system (or the one named, if of it)
        assessment = _resolve_for_system(obj, None if assessment == "latest" else assessment, boundary)
    dashboard = None
    if assessment is not None:
        from compliance.site.dashboard import load_assessment

        dashboard = load_assessment(obj.workspace, assessment, kb)
    statements = _site_statements(obj, dashboard.profile if dashboard is not None else None)
    key = build_key(
        kb,
        version=__version__,
        assessment_id=dashboard.id if dashboard is not None else None,
        statements=statements,
        previous=edition.previous,
    )
    return _SiteInputs(kb, dashboard, statements, edition, key)


def _build_site(obj: Ctx, out: Path, inputs: _SiteInputs) -> Any:
    from compliance.site import build_site
    from compliance.site.build import check_out_dir
    from compliance.site.stamp import clear_stamp, write_stamp

    check_out_dir(out)
    clear_stamp(out)  # a build cut short must not pass for a current one
    with _site_progress() as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            label = "generating pages" if stage == "pages" else "mkdocs build --strict"
            if stage not in tasks:
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = build_site(
            inputs.kb,
            out,
            cli_help=command_help_texts(inputs.kb),
            assessment=inputs.dashboard,
            progress=progress,
            now=obj.now(),
            statements=inputs.statements,
            edition=inputs.edition,
        )
    write_stamp(out, inputs.key)
    return result


def _site_statements(obj: Ctx, profile: ProfileInfo | None = None) -> dict[str, str]:
    """The control statements of a catalog imported into the workspace (none when there is no workspace); with
    the dashboards' assessment made with ``--profile``, the parameters that profile sets show its values."""
    from compliance.assess.catalog import profile_values, statements

    return statements(obj.workspace, profile_values(profile) if profile is not None and profile.parameters else None)


@site_group.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/site"),
    show_default=True,
    help="Folder for the built site (replaced if it holds an earlier sckb site; never a non-empty other folder).",
)
@click.option(
    "--assessment", "assessment", metavar="ID", help="Add dashboard pages for this assessment (status, findings, POA&M)."
)
@_system_option("Dashboards of the latest assessment of this system (an --assessment of another system is refused).")
@click.option(
    "--previous",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An earlier `sckb kb export --format json`: the edition page lists the mappings changed since.",
)
@json_option
@click.pass_obj
def site_build(obj: Ctx, out: Path, assessment: str | None, boundary: str | None, previous: Path | None, as_json: bool) -> None:
    """Generate a page for every KB node, with its relations both ways, and build the static site."""
    result = _build_site(obj, out, _site_inputs(obj, assessment, boundary, previous))
    summary = {"out": str(result.out), "pages": result.pages, "mermaid_local": result.mermaid_local}
    if as_json:
        return emit_json(summary)
    click.echo(
        f"built {result.pages} generated pages into {result.out}"
        + ("" if result.mermaid_local else " (diagrams as text: mermaidx not installed)")
    )


@site_group.command("serve")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/site"),
    show_default=True,
    help="Site folder: served at once when it holds a build of the same KB and options, else built there first.",
)
@click.option(
    "--dir",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Serve this built site as it is, with no check and no build.",
)
@click.option("--assessment", "assessment", metavar="ID", help="Add dashboard pages for this assessment.")
@_system_option("Dashboards of the latest assessment of this system (an --assessment of another system is refused).")
@click.pass_obj
def site_serve(
    obj: Ctx, port: int, host: str, out: Path, site_dir: Path | None, assessment: str | None, boundary: str | None
) -> None:
    """Serve the guidance site over HTTP until interrupted (Ctrl-C). The --out folder is served as it is when
    it holds a build of the same KB, sckb version, assessment and statements; otherwise it is built first.
    One line says which. --dir serves any built folder as it is."""
    from compliance.site.build import check_built, check_out_dir
    from compliance.site.serve import serve_forever
    from compliance.site.stamp import stale_reason

    def announce(url: str) -> None:
        click.echo(f"serving the guidance site at {url} (Ctrl-C stops)")

    if site_dir is not None:
        if assessment is not None or boundary is not None:
            raise click.UsageError("--dir serves a built site as it is: build it with --assessment/--system instead")
        if click.get_current_context().get_parameter_source("out") is not click.core.ParameterSource.DEFAULT:
            raise click.UsageError("--dir serves a built site as it is; --out is the folder to check and build: give one")
        check_built(site_dir)
        serve_forever(site_dir, host, port, announce=announce)
        return
    inputs = _site_inputs(obj, assessment, boundary)
    why = stale_reason(out, inputs.key)
    if why is None:
        click.echo(f"{out} holds a current build ({inputs.key.describe()}): serving it as built")
    else:
        check_out_dir(out)  # refuse a folder that is not an sckb site before saying it will be built
        click.echo(f"{out}: building the site first ({why})")
        _build_site(obj, out, inputs)
    serve_forever(out, host, port, announce=announce)


# ---------------------------------------------------------------- design check (issue 8)
# (section anchor: add this stage's commands below this line)


@main.group("design")
def design_group() -> None:
    """Check a serverless design (SAM, CloudFormation, Serverless Framework, Terraform) before deploying."""


@design_group.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    cls=_FrameworkHelp,
    help="Baseline or framework (repeatable): fedramp-low|moderate|high|li-saas, nist-low|moderate|high, "
    "{frameworks}serverless [default: fedramp-moderate, or none with --profile].",
)
@profile_option("Tailored baseline: an OSCAL profile (JSON/YAML) whose controls are the scope (with --scope: the union).")
@click.option(
    "--classification",
    type=click.Path(path_type=Path),
    default=None,
    help="Data classification file (default: sckb.yaml beside the template).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown", "sarif"]),
    default="table",
    show_default=True,
    help="Output format (sarif: SARIF 2.1.0, as --evidence records it).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the output to this file instead of stdout.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Same as --format markdown.")
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    type=click.Choice(["critical", "high", "medium", "low", "unmet"]),
    help="CI gate (repeatable): exit 1 when an attack path of this severity or worse is found, or (unmet) when a "
    "control in scope is unmet.",
)
@click.option(
    "--evidence",
    "as_evidence",
    is_flag=True,
    help="Record the result as design evidence (SARIF, method EXAMINE) in the workspace store.",
)
@click.option(
    "--graphml",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the architecture graph (sources, functions, roles, stores) as GraphML.",
)
@json_option
@click.pass_obj
def design_check(
    obj: Ctx,
    path: Path,
    scopes: tuple[str, ...],
    profile_file: Path | None,
    classification: Path | None,
    fmt: str,
    out: Path | None,
    as_markdown: bool,
    fail_on: tuple[str, ...],
    as_evidence: bool,
    graphml: Path | None,
    as_json: bool,
) -> None:
    """Which mitigations a design shows, which controls in SCOPE that meets, and its attack paths.

    \b
    Exit codes: 0 checked (gate passed); 1 a --fail-on gate failed; 2 usage; 3 a bad design, or no function
    could be read from PATH; 4 unknown scope."""
    from rich.console import Console

    from compliance.design.check import as_json as design_json
    from compliance.design.check import run_check, write_graphml
    from compliance.design.render import markdown, table
    from compliance.errors import InputError
    from compliance.vocab import severity_order

    fmt = "json" if as_json else "markdown" if as_markdown else fmt
    profile = _load_profile(obj, profile_file)
    names = list(scopes) or ([] if profile is not None else ["fedramp-moderate"])
    with Console(stderr=True).status("reading the design and evaluating predicates…"):
        res = run_check(obj.kb(), path, names, today=obj.now().date(), classification=classification, profile=profile)
    if not res.design.of_kind("function"):
        raise InputError("no function could be read from the design: nothing was checked (is it a SAM/CloudFormation "
                         "template, serverless.yml, Terraform or ARM folder?)", path=path)  # fmt: skip
    if graphml is not None:
        write_graphml(res.design, graphml)
    if as_evidence:
        from compliance.design.evidence import record

        note = record(res, obj.workspace, obj.kb(), obj.now())
        click.echo(note, err=True)
    text: str | None = None
    if fmt == "json":
        text = orjson.dumps(design_json(res), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    elif fmt == "markdown":
        text = markdown(res) + "\n"
    elif fmt == "sarif":
        from compliance.design.sarif import to_sarif

        titles = {m: str(obj.kb().nodes[m].record.title) for m in res.mitigations if m in obj.kb().nodes}
        sarif = to_sarif(res, when=obj.now().strftime("%Y-%m-%dT%H:%M:%SZ"), titles=titles)
        text = orjson.dumps(sarif, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    if text is not None and out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", path=out) from exc
        click.echo(f"wrote {out}", err=True)
    elif text is not None:
        click.echo(text, nl=False)
    else:
        table(res, _console(), _table)
    reasons: list[str] = []
    sevs = [f for f in fail_on if f != "unmet"]
    if sevs:
        limit = min(severity_order(f) for f in sevs)
        hit = [p for p in res.paths if severity_order(p["severity"]) <= limit]
        if hit:
            reasons.append(f"{len(hit)} attack path(s) of severity {', '.join(sorted({p['severity'] for p in hit}))}")
    if "unmet" in fail_on:
        unmet = [c for c in res.controls.values() if c["status"] == "unmet"]
        if unmet:
            reasons.append(f"{len(unmet)} control(s) unmet")
    if reasons:
        click.echo("sckb: gate failed: " + "; ".join(reasons), err=True)
        raise click.exceptions.Exit(1)


@main.group("policy")
def policy_group() -> None:
    """Policy as code: the KB's design predicates as CloudFormation Guard rules and Rego, run by the engines."""


@policy_group.command("export")
@click.option("--engine", type=click.Choice(["cfn-guard", "rego"]), required=True, help="Policy language.")
@click.option(
    "--scope",
    default=None,
    cls=_FrameworkHelp,
    help="Controls named in each rule: fedramp-low|moderate|high|li-saas, nist-low|moderate|high, {frameworks}serverless "
    "[default: fedramp-moderate, or none with --profile].",
)
@profile_option("Tailored baseline: an OSCAL profile (JSON/YAML) whose controls the rules name (with --scope: the union).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write.")
@json_option
@click.pass_obj
def policy_export(obj: Ctx, engine: str, scope: str | None, profile_file: Path | None, out_dir: Path, as_json: bool) -> None:
    """Write one policy file per mitigation and manifest.json (the predicates the engine cannot express, and why)."""
    from compliance.policy.export import export, write

    profile = _load_profile(obj, profile_file)
    if scope is None and profile is None:
        scope = "fedramp-moderate"
    policy = export(obj.kb(), "rego" if engine == "rego" else "cfn-guard", scope=scope, profile=profile, today=obj.now().date())
    try:
        written = write(policy, out_dir)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=out_dir) from None
    assert policy.manifest is not None
    if as_json:
        emit_json(policy.manifest)
        return
    m = policy.manifest
    click.echo(
        f"{len(written)} files in {out_dir}: {len(m['rules'])} rules, "
        f"{len(m['not_expressed'])} predicates not expressible (see manifest.json)"
    )


@policy_group.command("test")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--engine", type=click.Choice(["cfn-guard", "rego", "both"]), default="both", show_default=True, help="Engines to run."
)
@json_option
@click.pass_obj
def policy_test(obj: Ctx, path: Path, engine: str, as_json: bool) -> None:
    """Run the generated policies with the real engines on the templates under PATH and compare every
    (resource, predicate) verdict with `sckb design check`. Exit codes: 0 all agree; 1 a disagreement; 3 bad input."""
    from rich.console import Console

    from compliance.policy.run import compare_policies

    engines: tuple[Any, ...] = ("cfn-guard", "rego") if engine == "both" else (engine,)
    with Console(stderr=True).status("running the policy engines…") as status:
        res = compare_policies(obj.kb(), path, today=obj.now().date(), engines=engines, progress=lambda s: status.update(s))
    counts = {e: res.counts(e) for e in engines}
    bad = res.disagreements()
    if as_json:
        emit_json(
            {
                "path": str(path),
                "files": res.files,
                "not_covered": res.not_covered,
                "counts": counts,
                "disagreements": [
                    {"engine": p.engine, "file": p.file, "resource": p.resource, "predicate": p.predicate,
                     "design": p.design, "engine_result": p.engine_result}
                    for p in bad
                ],
            }
        )  # fmt: skip
    else:
        rows = [
            [
                e,
                c["pairs"],
                c["agree"],
                c["disagree"],
                c["design_unknown"],
                f"{100 * c['agree'] / (c['agree'] + c['disagree']):.1f}%" if c["agree"] + c["disagree"] else "-",
            ]
            for e, c in counts.items()
        ]
        cols = ["engine", "pairs", "agree", "disagree", "design unknown", "agreement"]
        _console().print(_table(f"policy test {path}", cols, rows))
        if bad:
            cols = ["engine", "file", "resource", "predicate", "design check", "engine"]
            rows = [[p.engine, p.file, p.resource, p.predicate, p.design, p.engine_result] for p in bad]
            _console().print(_table("disagreements", cols, rows))
        if res.not_covered:
            click.echo(f"not read by the engines: {', '.join(res.not_covered)}", err=True)
    if bad:
        raise CheckFailed(f"{len(bad)} (resource, predicate) verdicts differ from the design check")


if __name__ == "__main__":  # pragma: no cover
    main()
