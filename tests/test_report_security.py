"""The report renders hostile evidence as text and loads nothing but its own template assets."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from _system import needs
from click.testing import CliRunner
from pypdf import PdfReader

from compliance.cli import main
from compliance.errors import InputError
from compliance.paths import templates_dir
from compliance.report.assets import MAX_LOGO_BYTES, FetchRefused, SafeFetcher, logo_data_uri

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- a local server that counts hits


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[int, list[str]]]:
    handler = type("Handler", (_Counter,), {"hits": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield httpd.server_address[1], handler.hits
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join()


class SpyFetcher(SafeFetcher):
    """The real fetcher, watched: every URL WeasyPrint asks for is recorded before it is decided."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.asked: list[str] = []

    def fetch(self, url: str, headers: object = None) -> Any:
        self.asked.append(url)
        return super().fetch(url, headers)


def _png(path: Path, size: tuple[int, int] = (120, 40)) -> Path:
    from PIL import Image

    Image.new("RGB", size, (13, 42, 74)).save(path)
    return path


# --------------------------------------------------------------------------- the fetcher on its own


def test_fetcher_serves_template_assets(tmp_path: Path) -> None:
    f = SafeFetcher(templates_dir())
    css = templates_dir() / "report.css"
    resp = f.fetch(css.resolve().as_uri())
    assert resp.read() == css.read_bytes()
    assert resp.content_type == "text/css"
    png = logo_data_uri(_png(tmp_path / "l.png"))
    assert f.fetch(png).read() == (tmp_path / "l.png").read_bytes()


def test_fetcher_refuses_everything_else(tmp_path: Path, server: tuple[int, list[str]]) -> None:
    port, hits = server
    root = tmp_path / "templates"
    shutil.copytree(templates_dir(), root)
    secret = tmp_path / "secret.css"
    secret.write_text("body{}")
    (root / "escape.css").symlink_to(secret)
    f = SafeFetcher(root)
    refused = [
        f"http://127.0.0.1:{port}/x.png",
        f"https://127.0.0.1:{port}/x.png",
        f"ftp://127.0.0.1:{port}/x.png",
        "gopher://127.0.0.1/x",
        "file:///etc/passwd",
        "file:///etc/hostname",
        secret.as_uri(),  # a stylesheet, but outside the templates folder
        root.as_uri() + "/../secret.css",  # traversal
        (root / "escape.css").as_uri(),  # symlink out of the folder
        "file://otherhost" + (root / "report.css").as_posix(),  # remote file host
        (root / "README.md").as_uri() if (root / "README.md").exists() else (root / "report.html.j2").as_uri(),  # not an asset
        (root / "missing.css").as_uri(),
        "data:text/html;base64,PGltZyBzcmM9eD4=",
        "data:image/png,notbase64",
        "data:image/png;base64,!!!!",
        "data:image/png;base64," + "A" * (MAX_LOGO_BYTES * 2),  # larger than any logo
        "relative.css",
    ]
    for url in refused:
        with pytest.raises(FetchRefused):
            f.fetch(url)
    assert f.refused == refused
    assert f.served == []
    assert hits == []


def test_logo_reader(tmp_path: Path) -> None:
    assert logo_data_uri(_png(tmp_path / "a.png")).startswith("data:image/png;base64,")
    svg = tmp_path / "a.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')
    assert logo_data_uri(svg).startswith("data:image/svg+xml;base64,")
    text = tmp_path / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(InputError, match="PNG or SVG"):
        logo_data_uri(text)
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_LOGO_BYTES)
    with pytest.raises(InputError, match="limit"):
        logo_data_uri(big)
    bomb = tmp_path / "bomb.svg"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><svg>&b;</svg>')
    with pytest.raises(InputError):
        logo_data_uri(bomb)


def test_cli_bad_logo_is_a_one_line_input_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main,
        [
            "--workspace",
            str(tmp_path / "ws"),
            "report",
            "pdf",
            "--out",
            str(tmp_path / "r.pdf"),
            "--logo",
            str(tmp_path / "nope.png"),
        ],
    )
    assert r.exit_code == 3
    assert r.output.count("\n") == 1 and "nope.png" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "r.pdf").exists()


def test_cli_no_store_is_not_found(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "report", "pdf", "--out", str(tmp_path / "r.pdf")])
    assert r.exit_code == 4, r.output
    assert not (tmp_path / "r.pdf").exists()


# --------------------------------------------------------------------------- hostile evidence, rendered


def _hostile(port: int) -> tuple[str, str]:
    title = (
        '<img src="file:///etc/passwd"> <img src="http://127.0.0.1:PORT/x"> '
        "<style>@import url(http://127.0.0.1:PORT/imp.css); body { background: url(file:///etc/passwd) }</style>"
    ).replace("PORT", str(port))
    message = (
        '</span></div><img src="http://127.0.0.1:PORT/x"><img src="file:///etc/passwd">'
        '<div style="background-image: url(http://127.0.0.1:PORT/css.png)">&lt;b&gt; {{ 7*7 }}</div>'
    ).replace("PORT", str(port))
    return title, message


@pytest.fixture
def hostile_ws(tmp_path: Path, server: tuple[int, list[str]]) -> dict[str, Any]:
    port, hits = server
    title, message = _hostile(port)
    ev = tmp_path / "bandit-hostile.json"
    ev.write_text(
        json.dumps(
            {
                "generated_at": "2026-11-30T08:00:00Z",
                "errors": [],
                "metrics": {},
                "results": [
                    {
                        "test_id": "B105",
                        "test_name": title,
                        "issue_text": message,
                        "issue_severity": "HIGH",
                        "issue_cwe": {"id": 259},
                        "filename": "app/handler.py",
                        "line_number": 3,
                    }
                ],
            }
        )
    )
    ws = tmp_path / "ws"
    run = CliRunner()
    base = ["--workspace", str(ws), "--now", "2026-11-30T10:00:00Z"]
    r = run.invoke(main, [*base, "evidence", "ingest", str(ev)])
    assert r.exit_code == 0, r.output
    r = run.invoke(main, [*base, "assess", "--scope", "fedramp-low"])
    assert r.exit_code == 0, r.output
    return {"ws": ws, "title": title, "message": message, "hits": hits, "tmp": tmp_path}


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


@needs("poppler-utils")
def test_hostile_finding_renders_as_plain_text_and_output_is_deterministic(hostile_ws: dict[str, Any]) -> None:
    from compliance import kb as kbmod
    from compliance.evidence.store import Store
    from compliance.report import Options, report_pdf

    tmp: Path = hostile_ws["tmp"]
    spy = SpyFetcher(templates_dir())
    out = tmp / "hostile.pdf"
    logo_file = _png(tmp / "logo.png")
    opts = Options(system_name="<b>Shop</b>", organization='Org "&" <i>co</i>', logo=logo_data_uri(logo_file))
    with Store.open(hostile_ws["ws"], create=False) as store:
        res = report_pdf(kbmod.load([]), store, out=out, now=NOW, options=opts, variant="pdf/ua-1", fetcher=spy)
    # nothing reached the network, no file outside the templates was asked for, nothing was refused
    assert hostile_ws["hits"] == []
    assert not any("passwd" in u or u.startswith(("http:", "https:")) for u in spy.asked), spy.asked
    root = templates_dir().resolve().as_uri()
    assert all(u.startswith((root + "/", "data:image/png;base64,")) for u in spy.asked), spy.asked
    assert res.refused == []
    # the hostile strings are printed, character for character
    text = _squash(subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], check=True, capture_output=True).stdout.decode())
    assert _squash(hostile_ws["title"]) in text
    assert _squash(hostile_ws["message"]) in text
    assert _squash("<b>Shop</b>") in text and _squash('Org "&" <i>co</i>') in text
    reader = PdfReader(out)
    assert reader.metadata is not None and reader.metadata.author == 'Org "&" <i>co</i>'
    # the logo is the one image on the cover
    xobjects = reader.pages[0]["/Resources"].get("/XObject") or {}
    assert any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
    # PDF/UA-1: tagged, with a language
    root_obj = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root_obj and root_obj["/MarkInfo"]["/Marked"]
    assert str(root_obj.get("/Lang")) == "en"
    # the CLI with the same options and clock writes the same bytes (deterministic output)
    again = tmp / "again.pdf"
    r = CliRunner().invoke(
        main,
        [
            "--workspace",
            str(hostile_ws["ws"]),
            "--now",
            "2026-11-30T10:00:00Z",
            "report",
            "pdf",
            "--out",
            str(again),
            "--system-name",
            "<b>Shop</b>",
            "--organization",
            'Org "&" <i>co</i>',
            "--logo",
            str(logo_file),
            "--pdf-variant",
            "pdf/ua-1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert again.read_bytes() == out.read_bytes()
    assert hostile_ws["hits"] == []
