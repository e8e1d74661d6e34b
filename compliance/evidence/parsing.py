"""What every format parser shares: the content sniff, the parse context and value normalisers.

Parsers never open files themselves: :class:`ParseContext` hands them the document either whole
(``orjson`` for files up to :data:`STREAM_THRESHOLD`) or, for bigger files, as a stream of array
items, so memory does not grow with the input. Streamed arrays are cut into runs of whole items that
orjson parses (:class:`FastItems`); anything that path does not take goes through ``ijson`` (C backend).
Every JSON read is guarded against hostile nesting (orjson refuses > 1024 levels; the ijson path is
fronted by :class:`DepthGuard`, which refuses > :data:`MAX_DEPTH` levels before ijson sees the bytes).
"""

from __future__ import annotations

import codecs
import functools
import io
import itertools
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from compliance.errors import InputError
from compliance.evidence.model import Finding

#: Bytes read from the start of a file to detect its format.
HEAD_BYTES = 64 * 1024
#: Files up to this size are parsed whole with orjson; larger ones are streamed with ijson.
STREAM_THRESHOLD = 32 * 1024 * 1024
#: Deepest JSON nesting accepted on the streaming path.
MAX_DEPTH = 512
#: Formats that need the whole document refuse files larger than this.
MAX_WHOLE_BYTES = 512 * 1024 * 1024


# --------------------------------------------------------------------------- sniff


@dataclass
class Sniff:
    """Cheap facts about a file's first bytes, shared by every format's ``detect``."""

    kind: str  # json | xml | yaml | csv | text
    top: str | None = None  # json: "map" | "array"
    keys: set[str] = field(default_factory=set)  # dotted key paths seen in the head (ijson prefixes)
    values: dict[str, Any] = field(default_factory=dict)  # first scalar per dotted path
    root_tag: str | None = None  # xml: the root element's local name
    first_line: str = ""  # first non-blank line of text
    ndjson: bool = False  # json: one document per line

    def has(self, *paths: str) -> bool:
        return all(p in self.keys for p in paths)

    def any(self, *paths: str) -> bool:
        return any(p in self.keys for p in paths)

    def value(self, path: str) -> Any:
        return self.values.get(path)


_BOM = codecs.BOM_UTF8
_NUL = bytes(1)


def sniff(head: bytes, path: Path | str) -> Sniff:
    """Classify the head of a file. Raises :class:`InputError` for empty, binary or non-UTF-8 content."""
    if not head.strip():
        raise InputError("empty file", path=path)
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    if b"\x00" in head:
        raise InputError(f"binary content (NUL byte at offset {head.index(_NUL)})", path=path)
    text = _decode_head(head, path)
    stripped = text.lstrip()
    first_line = next((ln.strip() for ln in stripped.splitlines() if ln.strip()), "")
    c = stripped[:1]
    if c in "{[":
        return _sniff_json(head, first_line, path)
    if c == "<":
        m = re.search(r"<(?!\?|!)([A-Za-z_][\w.:-]*)", stripped)
        tag = m.group(1).split(":")[-1] if m else None
        return Sniff(kind="xml", root_tag=tag, first_line=first_line)
    if ";" in first_line or ("," in first_line and ":" not in first_line.split(",")[0]):
        return Sniff(kind="csv", first_line=first_line)
    return Sniff(kind="yaml" if re.match(r"^[\w$@-]+\s*:", first_line) or first_line == "---" else "text", first_line=first_line)


def _decode_head(head: bytes, path: Path | str) -> str:
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        return dec.decode(head, final=False)  # a multibyte char cut at the end of the head is fine
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise InputError(f"invalid UTF-8 at byte {exc.start} (binary file?)", path=path, line=line) from None


def _sniff_json(head: bytes, first_line: str, path: Path | str) -> Sniff:
    import ijson  # type: ignore[import-untyped]

    s = Sniff(kind="json", first_line=first_line)
    lines = head.lstrip().split(b"\n", 2)
    if len(lines) > 1 and lines[0].rstrip().endswith(b"}") and lines[1].lstrip().startswith(b"{"):
        try:
            orjson.loads(lines[0])
            s.ndjson = True
            head = lines[0]
        except orjson.JSONDecodeError:
            pass
    try:
        guard_depth(head[: _SAFE_PREFIX.match(head).end()], MAX_DEPTH)  # type: ignore[union-attr]
    except ValueError:
        raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels (within the first {len(head)} bytes)", path=path) from None
    stream = io.BytesIO(head)
    n = 0
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True):
            n += 1
            if n == 1:
                s.top = "map" if event == "start_map" else "array" if event == "start_array" else None
            depth = prefix.count(".") + 1 if prefix else 0
            if depth > 5:
                continue
            if event == "map_key":
                s.keys.add(f"{prefix}.{value}" if prefix else str(value))
            elif event in ("string", "number", "boolean", "null") and prefix not in s.values:
                s.values[prefix] = value
            if n > 50_000:
                break
    except Exception:  # the head is cut mid-document (or broken): keep what was seen
        pass
    return s


def sniff_whole(path: Path, s: Sniff) -> Sniff:
    """``s`` with the keys and first values of the whole JSON file at ``path``, not only of its head: for a
    document whose telling key comes after :data:`HEAD_BYTES` (a CycloneDX BOM whose ``bomFormat`` or
    ``vulnerabilities`` follows a long ``components`` array). One streaming pass; paths deeper than the
    head's sniff looks are skipped, and a document broken further on keeps what was seen before the break."""
    import ijson

    out = Sniff(kind=s.kind, top=s.top, keys=set(s.keys), values=dict(s.values), first_line=s.first_line, ndjson=s.ndjson)
    try:
        with path.open("rb") as f:
            for prefix, event, value in ijson.parse(f, use_float=True):
                if prefix.count(".") + 1 > 5 if prefix else False:
                    continue
                if event == "map_key":
                    out.keys.add(f"{prefix}.{value}" if prefix else str(value))
                elif event in ("string", "number", "boolean", "null") and prefix not in out.values:
                    out.values[prefix] = value
    except Exception:  # broken or too deep further on: the parse reports it with its position
        pass
    return out


# --------------------------------------------------------------------------- depth guard

_STRINGS = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
#: The longest prefix made of non-string bytes and complete strings (ends before an unterminated string).
_SAFE_PREFIX = re.compile(rb'(?:[^"]++|"(?:[^"\\]++|\\.)*+")*+', re.S)
_PAIRS = re.compile(rb"\[\]|\{\}")
_KEEP_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


def guard_depth(chunk: bytes, limit: int, carried: bytes = b"") -> bytes:
    """Bracket nesting check at C speed. Returns the unmatched brackets to carry into the next chunk;
    raises ValueError when the nesting exceeds ``limit``. ``chunk`` must not cut a string in two
    (see :class:`DepthGuard`)."""
    return _depth(_STRINGS.sub(b"", chunk).translate(None, _KEEP_BRACKETS), limit, carried)


def _depth(brackets: bytes, limit: int, carried: bytes) -> bytes:
    brackets = carried + brackets
    for _ in range(limit + 1):
        reduced = _PAIRS.sub(b"", brackets)
        if len(reduced) == len(brackets):
            break
        brackets = reduced
    else:
        raise ValueError("nesting")
    opened = len(brackets) - len(brackets.lstrip(b"]}"))
    open_tail = brackets[opened:]
    if len(open_tail) > limit:
        raise ValueError("nesting")
    return open_tail


class DepthGuard:
    """A read-only file wrapper that refuses JSON nested deeper than ``limit`` (ijson has no limit of its
    own and its prefix strings grow with the square of the depth). Each chunk handed on ends outside a
    string, so the bracket check never mistakes string contents for structure."""

    def __init__(self, raw: IO[bytes], limit: int = MAX_DEPTH) -> None:
        self.raw = raw
        self.limit = limit
        self.carried = b""
        self.pending = b""  # an unterminated string held back for the next chunk
        self.ready = b""  # checked bytes, handed out from self.pos on
        self.pos = 0
        self.eof = False
        self.offset = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        want = size if size > 0 else 1 << 16
        while self.pos >= len(self.ready):
            if self.eof:
                return b""
            self.ready, self.pos = b"", 0
            self._fill()
        out = self.ready[self.pos : self.pos + want]
        self.pos += len(out)
        return out

    def _fill(self) -> None:
        data = self.raw.read(1 << 20)
        buf = self.pending + data
        if not data:
            self.eof = True
            self.pending = b""
            self._check(buf)
            self.ready += buf
            return
        if b'\\"' not in buf:  # no escaped quote: every quote delimits a string, so split instead of regex
            parts = buf.split(b'"')
            stripped = b"".join(parts[0::2])  # the segments outside strings
            if len(parts) % 2 == 0:  # an odd number of quotes: buf ends inside the string the last one opens
                end = buf.rfind(b'"')
                safe, self.pending = buf[:end], buf[end:]
            else:
                safe, self.pending = buf, b""
            if len(self.pending) > 1 << 24:
                safe, self.pending = buf, b""
            self._check_stripped(stripped, len(safe))
            self.ready += safe
            return
        stripped = _STRINGS.sub(b"", buf)
        if b'"' in stripped:  # buf ends inside a string: hold that string back for the next chunk
            end = _open_quote(buf)
            safe, self.pending = buf[:end], buf[end:]
            stripped = stripped[: stripped.index(b'"')]
            if len(self.pending) > 1 << 24:  # a string over 16 MB: hand it on unchecked
                safe, self.pending = buf, b""
        else:
            safe, self.pending = buf, b""
        self._check_stripped(stripped, len(safe))
        self.ready += safe

    def _check(self, chunk: bytes) -> None:
        self._check_stripped(_STRINGS.sub(b"", chunk), len(chunk))

    def _check_stripped(self, stripped: bytes, size: int) -> None:
        try:
            self.carried = _depth(stripped.translate(None, _KEEP_BRACKETS), self.limit, self.carried)
        except ValueError:
            raise DepthError(self.offset) from None
        self.offset += size


def _open_quote(buf: bytes) -> int:
    """Index of the quote that opens the string ``buf`` ends inside: the last quote not escaped."""
    pos = len(buf)
    while True:
        pos = buf.rfind(b'"', 0, pos)
        if pos <= 0:
            return max(pos, 0)
        slashes = len(buf[:pos]) - len(buf[:pos].rstrip(b"\\"))
        if slashes % 2 == 0:
            return pos


class DepthError(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels (near byte {offset})")
        self.offset = offset


# --------------------------------------------------------------------------- fast streaming

_WS = re.compile(rb"[ \t\r\n]*")
_STR_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
_SCALAR_TOKEN = re.compile(rb"-?[0-9][0-9eE+.\-]*|true|false|null")
#: Where an item of an array of objects may end: a closing brace, then the comma or bracket after it.
_OBJ_END = re.compile(rb"\}[ \t\r\n]*([,\]])")
_ANY_END = re.compile(rb"[,\]]")
_FIRST_KEY = re.compile(rb'\{[ \t\r\n]*("(?:[^"\\]|\\.){1,200}")[ \t\r\n]*:')
_WINDOW = 1 << 20
_TAIL = 1 << 16
_MAX_WINDOW = 1 << 26
_MAX_WALK_DEPTH = 64


@functools.lru_cache(maxsize=64)
def _item_start(key: bytes) -> re.Pattern[bytes]:
    """Where the next record of an array of records that start with ``key`` may begin (group 1: the comma)."""
    return re.compile(rb"\}[ \t\r\n]*(,)[ \t\r\n]*\{[ \t\r\n]*" + re.escape(key) + rb"[ \t\r\n]*:")


class _Fallback(Exception):
    """The fast path met something it leaves to ijson (bad or unusual JSON)."""


class FastItems:
    """Items of the arrays at an ijson prefix ending in ``item``, read in chunks with orjson.

    The document outside the wanted arrays is walked token by token (it is small in scanner output);
    arrays are cut into runs of whole items: a cut is tried just after a closing brace followed by a
    comma or a closing bracket, and ``orjson.loads(b"[" + run + b"]")`` accepts the run only when the cut
    is exactly between two items of that array (any other cut leaves a string or a bracket open), so a
    run is never split wrongly. Arrays that are not wanted are parsed the same way and dropped, so the
    whole document is still checked. Anything unusual raises :class:`_Fallback`; the caller then falls
    back to ijson, which reports the error exactly as before."""

    def __init__(self, raw: IO[bytes], prefix: str, known: dict[int, int] | None = None) -> None:
        self.raw = raw
        self.target = prefix
        self.parent = prefix[: -len("item")].rstrip(".")
        self.buf = b""
        self.pos = 0
        self.base = 0  # file offset of buf[0]
        self.eof = False
        #: file offset of an array's "[" -> offset after its "]", for arrays an earlier complete pass over
        #: the same file already parsed (and so checked): later passes jump over them
        self.known = known if known is not None else {}
        self.spans: dict[int, int] = {}

    # buffer ---------------------------------------------------------------
    def _more(self) -> bool:
        if self.eof:
            return False
        data = self.raw.read(_WINDOW)
        if not data:
            self.eof = True
            return False
        if self.pos > (1 << 20):
            self.buf = self.buf[self.pos :]
            self.base += self.pos
            self.pos = 0
        self.buf += data
        return True

    def _peek(self) -> int:
        """The next non-blank byte (not consumed); -1 at the end."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return -1

    def _token(self, pattern: re.Pattern[bytes]) -> bytes:
        while True:
            m = pattern.match(self.buf, self.pos)
            if m is not None and (m.end() < len(self.buf) or self.eof):
                self.pos = m.end()
                return m.group()
            if not self._more():
                if m is None:
                    raise _Fallback
                self.pos = m.end()
                return m.group()

    def _expect(self, byte: int) -> None:
        if self._peek() != byte:
            raise _Fallback
        self.pos += 1

    # walk -----------------------------------------------------------------
    def items(self) -> Iterator[Any]:
        for run in self.runs():
            yield from run

    def runs(self) -> Iterator[list[Any]]:
        """The wanted items in runs (lists), in document order."""
        yield from self._value("", 0)
        if self._peek() != -1:
            raise _Fallback  # trailing content

    def _on_path(self, path: str) -> bool:
        return not path or self.parent == path or self.parent.startswith(path + ".")

    def _value(self, path: str, depth: int) -> Iterator[list[Any]]:
        if depth > _MAX_WALK_DEPTH:
            raise _Fallback
        c = self._peek()
        if c == 0x5B:  # [
            self.pos += 1
            if path == self.parent:
                at = self.base + self.pos - 1
                yield from self._chunks(True)
                self.spans[at] = self.base + self.pos
            elif self._on_path(path):
                sub = f"{path}.item" if path else "item"
                if self._peek() == 0x5D:
                    self.pos += 1
                    return
                while True:
                    yield from self._value(sub, depth + 1)
                    c = self._peek()
                    self.pos += 1
                    if c == 0x5D:
                        return
                    if c != 0x2C:
                        raise _Fallback
            else:
                at = self.base + self.pos - 1
                after = self.known.get(at)
                if after is not None:
                    self.raw.seek(after)
                    self.buf, self.pos, self.base, self.eof = b"", 0, after, False
                    return
                yield from self._chunks(False)
                self.spans[at] = self.base + self.pos
        elif c == 0x7B:  # {
            if path == self.parent:
                raise _Fallback  # a map where the items' array was expected: leave the odd case to ijson
            self.pos += 1
            on = self._on_path(path)
            if self._peek() == 0x7D:
                self.pos += 1
                return
            while True:
                if self._peek() != 0x22:
                    raise _Fallback
                key = orjson.loads(self._token(_STR_TOKEN))
                self._expect(0x3A)
                sub = (f"{path}.{key}" if path else str(key)) if on else "\0"
                yield from self._value(sub, depth + 1)
                c = self._peek()
                self.pos += 1
                if c == 0x7D:
                    return
                if c != 0x2C:
                    raise _Fallback
        elif c == 0x22:
            orjson.loads(self._token(_STR_TOKEN))  # checks escapes and UTF-8
        elif c == -1:
            raise _Fallback
        else:
            tok = self._token(_SCALAR_TOKEN)
            orjson.loads(tok)

    def _chunks(self, emit: bool) -> Iterator[list[Any]]:
        """The items of the array whose ``[`` was just consumed, in runs parsed by orjson."""
        c = self._peek()
        if c == 0x5D:
            self.pos += 1
            return
        ends = _ANY_END
        if c == 0x7B:
            # items of an array of records usually start with the same key: cut only before such a start
            first = _FIRST_KEY.match(self.buf, self.pos)
            ends = _item_start(first.group(1)) if first is not None else _OBJ_END
        window, tail = _WINDOW, _TAIL
        while True:
            while len(self.buf) - self.pos < window and self._more():
                pass
            buf, start = self.buf, self.pos
            end = min(len(buf), start + window)
            cuts = [m.start(m.lastindex or 0) for m in ends.finditer(buf, max(start, end - tail), end)]
            if not cuts and ends is not _ANY_END:
                cuts = [m.start(1) for m in _OBJ_END.finditer(buf, max(start, end - tail), end)]
            for cut in reversed(cuts[-8:]):
                wrapped = b"[" + buf[start:cut] + b"]"
                try:
                    run = orjson.loads(wrapped)
                except orjson.JSONDecodeError as exc:
                    # the array may end before the cut: then orjson stops at content after a whole document
                    at = exc.pos if wrapped.isascii() else len(str(exc.doc)[: exc.pos].encode())  # pos counts characters
                    doc = wrapped[:at].rstrip()
                    if not (0 < at < len(wrapped) and doc.endswith(b"]")):
                        continue
                    try:
                        run = orjson.loads(doc)
                    except orjson.JSONDecodeError:
                        continue
                    cut = start + len(doc) - 2
                if not run:  # nothing between two commas: not JSON (ijson reports it)
                    continue
                self.pos = cut + 1
                if emit:
                    yield run
                if buf[cut] == 0x5D:
                    return
                if self._peek() == 0x5D:  # a trailing comma
                    raise _Fallback
                window, tail = _WINDOW, _TAIL
                break
            else:
                if tail < window:
                    tail = window
                elif window >= _MAX_WINDOW or (self.eof and end == len(buf)):
                    raise _Fallback
                else:
                    window = tail = window * 2


# --------------------------------------------------------------------------- parse context


class ParseContext:
    """What a parser gets: the file, its display name, streaming helpers and coverage reporting."""

    def __init__(
        self,
        path: Path,
        display: str,
        *,
        size: int,
        sniff: Sniff,
        stream_threshold: int = STREAM_THRESHOLD,
        attach: Callable[[str, str], str] | None = None,
        now: str | None = None,
        known: Callable[[str], bool] | None = None,
    ) -> None:
        self.path = path
        #: the ingest's clock (``YYYY-MM-DDTHH:MM:SSZ``, from ``--now``): statements dated later are refused
        self.now = now
        #: whether a mitigation or control id exists in the KB (None: no KB to ask)
        self.known = known
        self.display = display
        self.size = size
        self.sniff = sniff
        self.stream_threshold = stream_threshold
        #: tool version and scan time a parser found at file level (read by the ingester)
        self.tool_version: str | None = None
        self.scan_time: str | None = None
        #: location keys the scan covered beyond its findings (e.g. files a SAST tool scanned cleanly)
        self.covered: set[str] = set()
        #: how this file is known to be complete, when its parser decided it (``verified`` when totals the file
        #: states were checked; see :func:`compliance.evidence.formats.completeness` for the default)
        self.completeness: str | None = None
        self._attach = attach
        self._doc: Any = None
        self._loaded = False
        self._spans: dict[int, int] = {}

    # errors ---------------------------------------------------------------
    def error(self, message: str, *, pointer: str | None = None, line: int | None = None) -> InputError:
        return InputError(message, path=self.display, pointer=pointer, line=line)

    # whole document ---------------------------------------------------------
    @property
    def streaming(self) -> bool:
        return self.size > self.stream_threshold

    def load(self) -> Any:
        """The whole JSON document (orjson). For formats whose documents are small by nature."""
        if not self._loaded:
            if self.size > MAX_WHOLE_BYTES:
                raise self.error(f"file too large for this format ({self.size:,} bytes)")
            self._doc = loads_json(self.path.read_bytes(), self.display)
            self._loaded = True
        return self._doc

    def release(self) -> None:
        """Drop the parsed document (after the parse)."""
        self._doc = None

    def items(self, prefix: str) -> Iterator[tuple[int, Any]]:
        """(index, item) of the array at ``prefix`` (ijson prefix syntax: "results.failed_checks.item",
        "item" for a top-level array). Streams big files; small ones are parsed whole."""
        if not self.streaming:
            node = self.load()
            parts = prefix.split(".")
            assert parts[-1] == "item"
            for p in parts[:-1]:
                if not isinstance(node, dict):
                    return
                node = node.get(p)
            if not isinstance(node, list):
                if node is not None and prefix != "item":
                    raise self.error(f"expected a list at /{'/'.join(parts[:-1])}", pointer="/" + "/".join(parts[:-1]))
                return
            yield from enumerate(node)
            return
        yield from enumerate(self.stream(prefix))

    def stream(self, prefix: str) -> Iterator[Any]:
        """Items at ``prefix`` over the whole file (ijson prefix syntax), errors mapped to InputError.

        Array items are read in chunks with orjson (:class:`FastItems`); whatever that path does not
        take (bad JSON, odd shapes, other prefixes) goes through ijson, depth-guarded, which skips the
        items already handed out and reports errors with their byte offset."""
        done = 0
        if prefix == "item" or prefix.endswith(".item"):
            with self.path.open("rb") as raw:
                fast = FastItems(raw, prefix, self._spans)
                try:
                    for run in fast.runs():
                        yield from run
                        done += len(run)
                    self._spans.update(fast.spans)
                    return
                except (_Fallback, orjson.JSONDecodeError):
                    pass
        yield from itertools.islice(self._ijson_stream(prefix), done, None)

    def _ijson_stream(self, prefix: str) -> Iterator[Any]:
        import ijson

        with self.path.open("rb") as raw:
            guard = DepthGuard(raw)
            try:
                yield from ijson.items(guard, prefix, use_float=True, buf_size=1 << 16)
            except DepthError as exc:
                raise self.error(str(exc)) from None
            except ijson.JSONError as exc:
                raise self.error(f"invalid JSON: {_ijson_message(exc)} (near byte {guard.offset})") from None
            except UnicodeDecodeError as exc:
                raise self.error(f"invalid UTF-8: {exc.reason}") from None

    def first(self, prefix: str) -> Any:
        """The first value at ``prefix`` (a small object such as a summary), streaming or not."""
        if not self.streaming:
            node = self.load()
            for p in prefix.split("."):
                if isinstance(node, dict):
                    node = node.get(p)
                elif isinstance(node, list) and p == "item":
                    node = node[0] if node else None
                else:
                    return None
            return node
        for value in self.stream(prefix):
            return value
        return None

    def tail(self, n: int = HEAD_BYTES) -> bytes:
        """The last ``n`` bytes of the file (where summaries usually sit)."""
        with self.path.open("rb") as f:
            f.seek(max(0, self.size - n))
            return f.read()

    def only_empty(self, key: str) -> bool:
        """True when every occurrence of the JSON key ``key`` in the file is ``"key": []``: a cheap C-speed
        scan, in 4 MiB chunks, that lets a streaming parser skip a pass over a big file for an empty list.
        (Once a fast pass has mapped the file's arrays, another pass jumps over them and is cheaper than
        this scan: then the answer is just False.)"""
        if self._spans:
            return False
        needle = orjson.dumps(key)
        keep = len(needle) + 64  # overlap, so a match cut by a chunk boundary is seen whole in the next chunk
        occurrence = re.compile(re.escape(needle) + rb"(\s*:\s*\[\s*\])?")
        total = empty = 0
        with self.path.open("rb") as f:
            carry = b""
            offset = 0  # file offset of carry[0]
            seen_upto = 0  # occurrences starting before this file offset were counted
            while True:
                chunk = f.read(1 << 22)
                buf = carry + chunk
                limit = len(buf) if not chunk else len(buf) - keep
                for m in occurrence.finditer(buf):
                    start = offset + m.start()
                    if start < seen_upto or m.start() >= limit:
                        continue
                    if m.group(1) is None:
                        return False  # one list that is not empty settles it
                    total += 1
                    empty += 1
                    seen_upto = start + 1
                if not chunk:
                    break
                carry = buf[-keep:]
                offset += len(buf) - len(carry)
        return total == empty

    def lines(self) -> Iterator[tuple[int, str]]:
        """(1-based line number, text) of a text file, streamed, UTF-8 checked."""
        with self.path.open("rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    yield n, raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise self.error(f"invalid UTF-8 at column {exc.start + 1}", line=n) from None

    def attach(self, relpath: str, pointer: str) -> str:
        """Copy an attachment named by the evidence file into the locker; returns its SHA-256."""
        if self._attach is None:
            raise self.error("attachments are not accepted here", pointer=pointer)
        return self._attach(relpath, pointer)


def loads_json(data: bytes, display: str) -> Any:
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        msg = str(exc.msg) if hasattr(exc, "msg") else str(exc)
        if "depth" in msg or "recursion" in msg:
            msg = "JSON nested too deeply"
        raise InputError(f"invalid JSON: {msg} (column {exc.colno})", path=display, line=exc.lineno) from None


def _ijson_message(exc: Exception) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0]


# --------------------------------------------------------------------------- normalisers

_SEV = {
    "critical": "critical",
    "very_high": "critical",
    "high": "high",
    "error": "high",
    "medium": "medium",
    "moderate": "medium",
    "warning": "medium",
    "warn": "medium",
    "low": "low",
    "note": "low",
    "minor": "low",
    "info": "info",
    "informational": "info",
    "information": "info",
    "none": None,
    "unknown": None,
    "trace": "info",
    "negligible": "low",
    "unspecified": None,
}


def severity(value: Any) -> str | None:
    """Map a tool's severity word (or a CVSS-like number) to critical/high/medium/low/info."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        return "critical" if v >= 9 else "high" if v >= 7 else "medium" if v >= 4 else "low" if v > 0 else "info"
    return _SEV.get(str(value).strip().lower())


_CWE_RE = re.compile(r"(?i)cwe[-_/ ]?(\d+)")


def cwes(*values: Any) -> tuple[str, ...]:
    """Every CWE named in the given values (ints, "798", "CWE-798: ...", "external/cwe/cwe-377", dicts with id)."""
    out: list[str] = []

    def add(v: Any) -> None:
        if v is None or isinstance(v, bool):
            return
        if isinstance(v, int):
            out.append(f"CWE-{v}")
        elif isinstance(v, str):
            m = _CWE_RE.search(v)
            if m:
                out.append(f"CWE-{int(m.group(1))}")
            elif v.strip().isdigit():
                out.append(f"CWE-{int(v.strip())}")
        elif isinstance(v, (list, tuple)):
            for x in v:
                add(x)
        elif isinstance(v, dict):
            add(v.get("id") if "id" in v else v.get("cweId"))

    for v in values:
        add(v)
    return tuple(dict.fromkeys(out))


def iso_time(value: Any) -> str | None:
    """Normalise a timestamp (ISO with or without zone, epoch seconds, "YYYY-MM-DD HH:MM:SS.f") to UTC
    ``YYYY-MM-DDTHH:MM:SSZ``. A time without a zone is read as UTC. None when unreadable."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            v = float(value)
            if v > 1e11:  # milliseconds
                v /= 1000
            dt = datetime.fromtimestamp(v, UTC)
        else:
            text = str(value).strip()
            if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
                return iso_time(float(text))
            text = text.replace("Z", "+00:00").replace("z", "+00:00")
            m = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(.*)$", text)
            if m:
                text = f"{m.group(1)}T{m.group(2)}{(m.group(3) or '')[:7]}{m.group(4).strip()}"
            dt = datetime.fromisoformat(text)
            dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def text(value: Any) -> str | None:
    """A display string or None (strips, drops empties)."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


_URI_SCHEME = re.compile(r"^file:(?://[^/]*)?(?=/)|^file:", re.I)
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


@functools.lru_cache(maxsize=65536)
@functools.lru_cache(maxsize=65536)
def _canonical_path(s: str) -> str:
    # cached: a scan names the same few files on every one of its findings
    if ":" in s and s[:5].lower() == "file:":
        s = _URI_SCHEME.sub("", s, count=1)
    if "%" in s and _PERCENT.search(s):
        s = urllib.parse.unquote(s)
    s = s.replace("\\", "/")
    while "//" in s:
        s = s.replace("//", "/")
    while s.startswith(("./", "../", "/")):
        s = s[1:] if s[0] == "/" else s[s.index("/") + 1 :]
    return s


def relpath(value: Any) -> str | None:
    """A scanner-reported path in the one spelling every format of a scan agrees on: no URI scheme
    (``file://``), percent-escapes decoded, forward slashes, no repeated slashes, and no leading ``/``,
    ``./`` or ``../`` (checkov JSON says ``/template.yaml`` or ``/../../main.tf`` where its SARIF says
    ``template.yaml`` and ``main.tf``; bandit JSON says ``./app.py`` where its SARIF says ``app.py``)."""
    s = text(value)
    if s is None:
        return None
    if s[0] in "./\\" or "%" in s or "\\" in s or "//" in s or s[:5].lower() == "file:":
        return _canonical_path(s) or None
    return s


def pointer(*parts: object) -> str:
    """A JSON pointer from path parts (RFC 6901 escaping)."""
    out = "/" + "/".join(map(str, parts))
    if out.count("/") == len(parts) and "~" not in out:
        return out  # nothing to escape (the common case)
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


_PROVIDERS = {"aws": "aws", "amazon": "aws", "gcp": "gcp", "google": "gcp", "azure": "azure", "microsoft": "azure"}


def provider(value: Any) -> str | None:
    s = text(value)
    if s is None:
        return None
    low = s.lower()
    for k, v in _PROVIDERS.items():
        if low.startswith(k):
            return v
    return low


@functools.lru_cache(maxsize=65536)
@functools.lru_cache(maxsize=4096)  # a pure function of the rule id; big reports repeat a few hundred ids
def provider_from_rule(rule_id: str) -> str | None:
    """A cloud inferred from a rule id (CKV_AWS_1, AVD-AWS-0066, CKV_AZURE_…)."""
    up = rule_id.upper()
    for key, name in (("AWS", "aws"), ("AZURE", "azure"), ("GCP", "gcp"), ("GOOGLE", "gcp")):
        if f"_{key}_" in up or f"-{key}-" in up or up.startswith(key + "-") or up.startswith(key + "_"):
            return name
    return None


def make(
    tool: str,
    rule_id: str,
    result: str,
    pointer: str,
    *,
    version: str | None = None,
    time: str | None = None,
    title: str | None = None,
    severity: str | None = None,
    resource: str | None = None,
    function: str | None = None,
    file: str | None = None,
    line: int | None = None,
    provider: str | None = None,
    account: str | None = None,
    region: str | None = None,
    cwes: tuple[str, ...] = (),
    message: str | None = None,
    method: str = "TEST",
    targets: tuple[str, ...] = (),
) -> Finding:
    """Build a :class:`Finding` (scan_time_source follows from whether ``time`` is known)."""
    return Finding(
        tool, version, time, "file" if time else "ingest", rule_id, title, severity, result, resource, function, file, line,
        provider, account, region, cwes, pointer, message, method, targets,
    )  # fmt: skip


#: How tools name themselves in their output -> the canonical name (TOOLS.md). Matched on the lower-cased
#: name with spaces, underscores and "aws " prefixes normalised.
_TOOL_NAMES = {
    "checkov": "checkov",
    "prowler": "prowler",
    "bandit": "bandit",
    "cfn_nag": "cfn_nag",
    "cfn-nag": "cfn_nag",
    "cfnnag": "cfn_nag",
    "trivy": "trivy",
    "aquasecurity": "trivy",
    "kics": "kics",
    "semgrep": "semgrep",
    "semgrep oss": "semgrep",
    "semgrep pro": "semgrep",
    "cfn-lint": "cfn-lint",
    "cfnlint": "cfn-lint",
    "cfn-python-lint": "cfn-lint",
    "cloudformation lint": "cfn-lint",
    "gitleaks": "gitleaks",
    "cfn-guard": "cfn-guard",
    "cfn guard": "cfn-guard",
    "cloudformation guard": "cfn-guard",
    "tfsec": "tfsec",
    "codeql": "codeql",
    "guardduty": "guardduty",
    "inspector": "inspector",
    "inspector2": "inspector",
    "config": "aws-config",
    "aws-config": "aws-config",
    "securityhub": "securityhub",
    "security hub": "securityhub",
    "osv-scanner": "osv-scanner",
    "pip-audit": "pip-audit",
    "grype": "grype",
}


def canonical_tool(name: Any, default: str | None = None) -> str:
    """The canonical tool name for what a file calls its tool ("Checkov", "AWS Inspector", "Semgrep OSS")."""
    s = (text(name) or "").lower().replace("_", "-")
    for prefix in ("aws ", "amazon "):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    if s in _TOOL_NAMES:
        return _TOOL_NAMES[s]
    s2 = s.replace("-", "_")
    if s2 in _TOOL_NAMES:
        return _TOOL_NAMES[s2]
    for key, value in _TOOL_NAMES.items():
        if s.startswith(key):
            return value
    return re.sub(r"[^a-z0-9_.-]+", "-", s).strip("-") or default or "unknown"


def known_tool(name: Any) -> str | None:
    """The canonical name when ``name`` is a tool sckb knows, else None."""
    s = (text(name) or "").lower().replace("_", "-")
    return _TOOL_NAMES.get(s) or _TOOL_NAMES.get(s.replace("-", "_"))


def function_of(resource: str | None) -> str | None:
    """The function name when a resource reference names a function (SAM/CFN logical id, TF address, ARN)."""
    if not resource or "unction" not in resource:  # every form below names a (F|f)unction: the common miss is cheap
        return None
    for marker in ("AWS::Serverless::Function.", "AWS::Lambda::Function."):
        if resource.startswith(marker):
            return resource[len(marker) :]
    m = re.search(r"(?:aws_lambda_function|google_cloudfunctions2?_function|azurerm_\w*function_app)\.([\w-]+)", resource)
    if m:
        return m.group(1)
    m = re.match(r"arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)", resource)
    if m:
        return m.group(1)
    return None
