"""Screenshots of a built site for a person to look at.

    python -m compliance.site.screenshot out/site out/screenshots      # or: make screenshots

Serves the site on 127.0.0.1 and drives Debian's chromium (``/usr/bin/chromium``, or
``$SCKB_CHROMIUM``) through Playwright (a development dependency); no browser is downloaded.
Writes ``home.png``, ``control-AC-6.png``, ``risk-SAS-4.png``, ``search-AC-6-1.png`` (the search box
opened by a ``?q=`` link) and, for a site built with an assessment, ``dashboard.png``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from compliance.site.serve import serve_in_thread

#: (file name, page path inside the site, CSS selector to wait for)
SHOTS = (
    ("home.png", "", "div.mermaid"),
    ("control-AC-6.png", "controls/ac/ac-6/index.html", "article h1"),
    ("risk-SAS-4.png", "risks/sas-4.html", "div.mermaid"),
    ("search-AC-6-1.png", "index.html?q=AC-6(1)", ".md-search-result__item"),
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def take(site: Path, out: Path, chromium: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    server, url = serve_in_thread(site)
    written = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            shots = list(SHOTS)
            if (site / "assessment" / "index.html").is_file():
                shots.append(("dashboard.png", "assessment/index.html", "form.sckb-filters"))
            for name, path, selector in shots:
                page.goto(url + path, wait_until="networkidle")
                page.wait_for_selector(selector, timeout=20_000)
                page.screenshot(path=str(out / name))
                written.append(out / name)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m compliance.site.screenshot SITE_DIR OUT_DIR", file=sys.stderr)
        return 2
    site, out = Path(argv[1]), Path(argv[2])
    if not (site / "index.html").is_file():
        print(f"sckb: error: {site}: no built site here (run: sckb site build --out {site})", file=sys.stderr)
        return 3
    chromium = Path(os.environ.get("SCKB_CHROMIUM", "/usr/bin/chromium"))
    if not chromium.is_file():
        print(f"sckb: error: {chromium}: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 4
    for f in take(site, out, chromium):
        print(f"wrote {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
