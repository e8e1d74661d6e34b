"""What WeasyPrint may load while it renders: our template assets and one bounded logo, nothing else.

:class:`SafeFetcher` is the ``url_fetcher`` of every render. It serves

- ``file:`` URLs that resolve (symlinks followed) to a regular file inside the templates folder,
  with an asset suffix (stylesheet, image, font) and at most :data:`MAX_ASSET_BYTES`;
- ``data:`` URIs of an image type (PNG, SVG) whose encoded length is at most :data:`MAX_DATA_URI`
  (the logo, which :func:`logo_data_uri` reads and checks);

and refuses everything else (http, https, ftp, other files, other data). A refusal raises, WeasyPrint
logs it and leaves the resource out; ``refused`` keeps every refused URL so callers can report them.
The network is never touched: this fetcher does not delegate to urllib.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from compliance.errors import InputError

MAX_LOGO_BYTES = 512 * 1024
#: base64 of the largest logo plus a short header
MAX_DATA_URI = (MAX_LOGO_BYTES + 2) // 3 * 4 + 64
MAX_ASSET_BYTES = 4 * 1024 * 1024
ASSET_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}
DATA_TYPES = ("image/png", "image/svg+xml")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class FetchRefused(ValueError):
    """A URL the report fetcher does not serve (WeasyPrint catches it and skips the resource)."""


class SafeFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint URL fetcher restricted to ``root`` (the templates folder) and bounded data URIs."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, fail_on_errors=False, timeout=1)
        self.root = root.resolve()
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        try:
            resp = self._serve(url)
        except FetchRefused:
            self.refused.append(url)
            raise
        self.served.append(url if not url.startswith("data:") else url[:40])
        return resp

    def _serve(self, url: str) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return self._data(url)
        if scheme != "file":
            raise FetchRefused(f"the report fetcher serves only its own template assets, not {scheme or 'relative'} URLs")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise FetchRefused("remote file URL refused")
        try:
            path = Path(unquote(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise FetchRefused("no such template asset") from exc
        if not path.is_relative_to(self.root) or not path.is_file():
            raise FetchRefused("file outside the templates folder refused")
        ctype = ASSET_TYPES.get(path.suffix.lower())
        if ctype is None:
            raise FetchRefused(f"not a template asset type: {path.suffix}")
        size = path.stat().st_size
        if size > MAX_ASSET_BYTES:
            raise FetchRefused("template asset too large")
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": ctype})

    def _data(self, url: str) -> URLFetcherResponse:
        if len(url) > MAX_DATA_URI:
            raise FetchRefused("data URI larger than the logo limit")
        head, sep, payload = url[5:].partition(",")
        if not sep:
            raise FetchRefused("malformed data URI")
        fields = [f.strip().lower() for f in head.split(";")]
        ctype = fields[0]
        if ctype not in DATA_TYPES or fields[-1] != "base64":
            raise FetchRefused(f"data URI of type {ctype or '?'} refused")
        try:
            body = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FetchRefused("data URI is not valid base64") from exc
        return URLFetcherResponse("data:", body, {"Content-Type": ctype})


def logo_data_uri(path: Path) -> str:
    """Read the logo file the user named (PNG or SVG, at most :data:`MAX_LOGO_BYTES`) as a data URI."""
    try:
        size = path.stat().st_size
        if size > MAX_LOGO_BYTES:
            raise InputError(f"logo is {size:,} bytes; the limit is {MAX_LOGO_BYTES:,}", path=path)
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the logo: {exc.strerror}", path=path) from exc
    if data.startswith(PNG_MAGIC):
        ctype = "image/png"
    elif _is_svg(data):
        ctype = "image/svg+xml"
    else:
        raise InputError("logo must be a PNG or SVG file", path=path)
    return f"data:{ctype};base64,{base64.b64encode(data).decode('ascii')}"


def _is_svg(data: bytes) -> bool:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return False
    return bool(root.tag == "{http://www.w3.org/2000/svg}svg" or root.tag == "svg")
