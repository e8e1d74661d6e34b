"""The root's options work wherever they are typed (issue 23): before or after the subcommand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import orjson
import pytest
from click.testing import CliRunner

from compliance.cli import GLOBAL_OPTIONS, hoist_global_options, main

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in group.commands.items():
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, prefix + name + " ")
    return out


def test_no_subcommand_has_an_option_named_like_a_global_one() -> None:
    clashes = [
        (path, opt)
        for path, cmd in _commands(main)
        for p in cmd.params
        if isinstance(p, click.Option)
        for opt in p.opts + p.secondary_opts
        if opt in GLOBAL_OPTIONS
    ]
    assert clashes == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["evidence", "list", "--workspace", "W"], ["--workspace", "W", "evidence", "list"]),
        (["evidence", "list", "--workspace=W", "--json"], ["--workspace=W", "evidence", "list", "--json"]),
        (["--now", "2026-12-01", "assess", "list", "-v"], ["-v", "--now", "2026-12-01", "assess", "list"]),
        (["kb", "validate"], ["kb", "validate"]),
        # a value that looks like a command word stays with its root option
        (["--workspace", "evidence", "evidence", "files"], ["--workspace", "evidence", "evidence", "files"]),
        # after --, nothing moves
        (["evidence", "ingest", "--", "--now"], ["evidence", "ingest", "--", "--now"]),
    ],
)
def test_hoisting(args: list[str], expected: list[str]) -> None:
    assert hoist_global_options(args) == expected


def test_workspace_and_now_after_the_subcommand(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ingest = ["evidence", "ingest", str(ROOT / "examples" / "phi-app" / "evidence" / "bandit.json")]
    r = CliRunner().invoke(main, [*ingest, "--workspace", str(ws), "--now", "2026-12-01"])
    assert r.exit_code == 0, r.output
    files = CliRunner().invoke(main, ["evidence", "files", "--json", "--workspace", str(ws)])
    assert files.exit_code == 0, files.output
    assert [Path(f["name"]).name for f in orjson.loads(files.stdout)] == ["bandit.json"]


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`sckb ... | head -1`: the reader goes away; sckb stops without an error line."""
    cmd = [sys.executable, "-m", "compliance.cli", "kb", "export", "--format", "json"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert proc.returncode == 0, err
    assert "internal error" not in err and "Traceback" not in err


def test_shell_completion_as_the_readme_says(tmp_path: Path) -> None:
    env = {"_SCKB_COMPLETE": "bash_source", "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run(["sckb"], env=env, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert out.returncode == 0 and "_sckb_completion" in out.stdout
    env = {"_SCKB_COMPLETE": "bash_complete", "COMP_WORDS": "sckb evid", "COMP_CWORD": "1", "PATH": env["PATH"]}
    words = subprocess.run(["sckb"], env=env, capture_output=True, text=True, cwd=tmp_path, check=False).stdout
    assert "plain,evidence" in words


def test_top_level_help_lists_every_exit_code(runner: CliRunner) -> None:
    """`sckb --help` states every exit code the error hierarchy can give (the README's table says the same)."""
    import re

    from compliance import errors

    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_") and isinstance(v, int)}
    res = runner.invoke(main, ["--help"])
    listed = {int(m) for m in re.findall(r"^\s+(\d+)\s{1,2}\S", res.output.split("Exit codes:")[1].split("Options:")[0], re.M)}
    assert codes | {0, 2} == listed
