"""``sckb site serve`` serves a current build at once and builds only when the folder's build is not current.

The command runs through click's CliRunner in the main thread and serves for real; a helper thread fetches
the home page over HTTP and then interrupts the command as Ctrl-C does (SIGINT to this process), which the
command takes as the way to stop.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner, Result

from compliance import __version__
from compliance import kb as kbmod
from compliance.cli import main
from compliance.site.stamp import STAMP, BuildKey, build_key, read_stamp, stale_reason, write_stamp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_once(runner: CliRunner, args: list[str], timeout: float = 240.0) -> tuple[Result, bytes]:
    """Run ``sckb site serve ARGS --port P`` until its home page answers, then stop it as Ctrl-C does."""
    port = _free_port()
    got: dict[str, bytes] = {}

    def fetch_then_interrupt() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as r:
                    got["home"] = r.read()
                break
            except OSError:
                time.sleep(0.2)
        signal.raise_signal(signal.SIGINT)  # the server runs in the main thread: this is Ctrl-C

    helper = threading.Thread(target=fetch_then_interrupt, daemon=True)
    helper.start()
    result = runner.invoke(main, [*args, "--port", str(port)])
    helper.join()
    return result, got.get("home", b"")


def test_serve_builds_an_empty_folder_then_serves_the_current_build_at_once(tmp_path: Path, runner: CliRunner) -> None:
    out, ws = tmp_path / "site", tmp_path / "ws"
    base = ["--workspace", str(ws), "site", "serve", "--out", str(out)]

    first, home = serve_once(runner, base)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0] == f"{out}: building the site first (no site is built there)"
    assert lines[-1].startswith("serving the guidance site at http://127.0.0.1:") and "(Ctrl-C stops)" in lines[-1]
    assert b"<html" in home
    key = read_stamp(out)
    assert key is not None and key.version == __version__ and key.assessment == ""
    built_at = (out / "index.html").stat().st_mtime_ns

    second, home2 = serve_once(runner, base, timeout=60)
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[0] == f"{out} holds a current build (KB {key.kb}, no assessment): serving it as built"
    assert home2 == home
    assert (out / "index.html").stat().st_mtime_ns == built_at  # served as it was: nothing rebuilt


def test_stale_reason_names_what_changed(tmp_path: Path) -> None:
    kb = kbmod.load()
    key = build_key(kb, version=__version__)
    assert stale_reason(tmp_path, key) == "no site is built there"
    (tmp_path / "index.html").write_text("<html></html>", encoding="utf-8")
    assert stale_reason(tmp_path, key) == "the build there records no inputs"
    write_stamp(tmp_path, key)
    assert stale_reason(tmp_path, key) is None
    assert build_key(kb, version=__version__) == key  # the key is a function of the inputs alone

    other_kb = BuildKey(**{**key.__dict__, "kb": "000000000000"})
    assert stale_reason(tmp_path, other_kb) == "the KB changed"
    with_assessment = build_key(kb, version=__version__, assessment_id="A-0123456789abcdef")
    assert stale_reason(tmp_path, with_assessment) == "it shows another assessment"
    assert with_assessment.describe() == f"KB {key.kb}, assessment A-0123456789abcdef"
    with_statements = build_key(kb, version=__version__, statements={"AC-6": "a. Employ least privilege."})
    assert stale_reason(tmp_path, with_statements) == "the imported control statements changed"
    newer = BuildKey(**{**key.__dict__, "version": "99.0"})
    assert stale_reason(tmp_path, newer) == "another sckb version built it"

    (tmp_path / STAMP).write_text("{not json", encoding="utf-8")  # a damaged record is no current build
    assert stale_reason(tmp_path, key) == "the build there records no inputs"


def test_an_overlay_makes_a_build_of_the_shipped_kb_stale(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("<html></html>", encoding="utf-8")
    kb = kbmod.load()
    write_stamp(out, build_key(kb, version=__version__))
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "extra.yaml").write_text(
        "mitigations:\n  - id: test-only-mitigation\n    title: A mitigation only this test knows\n    phase: code\n"
        "    description: Only here.\n    guidance: {aws: a, gcp: b, azure: c}\n    risks: [SAS-4]\n",
        encoding="utf-8",
    )
    other = kbmod.load([overlay])
    assert "test-only-mitigation" in other.graph
    changed = build_key(other, version=__version__)
    assert stale_reason(out, changed) == "the KB changed"


def test_serve_refuses_a_folder_that_is_no_site_before_building(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "todo.txt").write_text("mine", encoding="utf-8")
    r = runner.invoke(main, ["--workspace", str(tmp_path / "ws"), "site", "serve", "--out", str(out), "--port", "0"])
    assert r.exit_code == 3, r.output
    assert r.output.count("\n") == 1 and r.output.startswith("sckb: error: ") and "refusing to overwrite it" in r.output
    assert (out / "todo.txt").read_text(encoding="utf-8") == "mine"


def test_dir_and_out_together_are_a_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    r = runner.invoke(main, ["site", "serve", "--dir", str(tmp_path), "--out", str(tmp_path), "--port", "0"])
    assert r.exit_code == 2 and "--out" in r.output
