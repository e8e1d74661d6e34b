"""Serve a built site over HTTP (``sckb site serve``, and the browser tests)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(root: Path, host: str = "127.0.0.1", port: int = 0) -> http.server.ThreadingHTTPServer:
    """An HTTP server for the static files under ``root`` (port 0 picks a free port)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    return http.server.ThreadingHTTPServer((host, port), handler)


def serve_in_thread(root: Path, host: str = "127.0.0.1", port: int = 0) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Start serving in a daemon thread; returns the server (call ``shutdown()``) and its base URL."""
    server = make_server(root, host, port)
    threading.Thread(target=server.serve_forever, name="sckb-site-server", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/"


def serve_forever(root: Path, host: str, port: int, *, announce: Callable[[str], None]) -> None:
    with make_server(root, host, port) as server:
        announce(f"http://{host}:{server.server_address[1]}/")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
