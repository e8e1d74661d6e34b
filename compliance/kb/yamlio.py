"""Safe, line-aware YAML reading for curated data.

PyYAML's C composer (libyaml) parses the text; we construct plain Python values
ourselves so that we can (a) remember the line of every mapping and sequence item,
(b) refuse alias bombs before they are expanded, and (c) stay faster than the
stock SafeConstructor. Only the YAML core schema is supported (no custom tags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import InputError

try:  # the C composer is ~10x faster; fall back to pure Python where libyaml is absent
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)


class _Loader(_Parser, yaml.resolver.BaseResolver):
    """Composer only, with no implicit tag resolution: :func:`_scalar` types plain scalars
    itself (YAML 1.2 core rules: no yes/no/on/off booleans, no sexagesimal numbers)."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.resolver.BaseResolver.__init__(self)


#: A curated file larger than this is refused unread (a KB file is a few hundred KB).
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Upper bound on values produced after alias expansion (billion-laughs guard).
MAX_EXPANDED_NODES = 2_000_000

Path_ = tuple[str | int, ...]

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"", "~", "null", "Null", "NULL"}


@dataclass
class Document:
    """A parsed YAML file: its data and the 1-based line of every node path."""

    path: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, loc: Path_) -> int | None:
        """Line of the deepest known prefix of ``loc``."""
        loc = tuple(loc)
        while True:
            if loc in self.lines:
                return self.lines[loc]
            if not loc:
                return None
            loc = loc[:-1]


def _scalar(node: yaml.ScalarNode) -> Any:
    value = node.value
    tag = node.tag
    if not tag.startswith("tag:yaml.org,2002:") and tag != "!":
        raise ValueError(f"unsupported tag {tag}")
    if node.style is not None and node.style != "":
        return value  # quoted or block scalar: always a string
    if value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.match(value):
        return int(value.replace("_", ""))
    if _FLOAT.match(value) and any(c.isdigit() for c in value):
        return float(value.replace("_", ""))
    return value


class _Builder:
    """One pass over the composed node tree. A node reached again through an alias is not
    rebuilt: its value is shared and its *expanded* size is added, so an alias bomb is refused
    after work linear in the file's size, before anything is expanded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[Path_, int] = {}
        self._memo: dict[int, tuple[Any, int]] = {}
        self._active: set[int] = set()

    def _fail(self, message: str, node: yaml.Node) -> InputError:
        return InputError(message, path=self.path, line=node.start_mark.line + 1)

    def build(self, node: yaml.Node, loc: Path_, depth: int = 0) -> tuple[Any, int]:
        """Return (value, expanded size)."""
        key = id(node)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        if key in self._active:
            raise self._fail("recursive alias", node)
        if depth > 200:
            raise self._fail("nesting deeper than 200 levels", node)
        self.lines.setdefault(loc, node.start_mark.line + 1)
        size = 1
        value: Any
        if isinstance(node, yaml.ScalarNode):
            try:
                value = _scalar(node)
            except ValueError as exc:
                raise self._fail(str(exc), node) from None
        else:
            self._active.add(key)
            if isinstance(node, yaml.MappingNode):
                out: dict[Any, Any] = {}
                for knode, vnode in node.value:
                    if knode.tag == "tag:yaml.org,2002:merge":
                        raise self._fail("merge keys (<<) are not supported", knode)
                    if not isinstance(knode, yaml.ScalarNode):
                        raise self._fail("mapping keys must be strings or integers", knode)
                    k = _scalar(knode)
                    if not isinstance(k, (str, int)):
                        raise self._fail("mapping keys must be strings or integers", knode)
                    if k in out:
                        raise self._fail(f"duplicate key {k!r}", knode)
                    out[k], n = self.build(vnode, (*loc, k), depth + 1)
                    size += n + 1
                value = out
            else:
                items = []
                for i, v in enumerate(node.value):
                    item, n = self.build(v, (*loc, i), depth + 1)
                    items.append(item)
                    size += n
                value = items
            self._active.discard(key)
            if size > MAX_EXPANDED_NODES:
                raise self._fail(f"alias expansion exceeds {MAX_EXPANDED_NODES:,} nodes (YAML bomb?)", node)
            self._memo[key] = (value, size)
        return value, size


def yaml_error(exc: yaml.YAMLError, text: str, path: Path | str) -> InputError:
    """PyYAML's error as sckb's one-line :class:`InputError` with the line where known. (PyYAML's own text
    spans several lines: a reader error, a control character for instance, adds the stream's name.)"""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        return InputError(f"invalid YAML: {' '.join(str(exc.problem or exc.context).split())}", path=path, line=line)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1 if isinstance(exc.position, int) else None
        char = exc.character[0] if isinstance(exc.character, bytes) and exc.character else exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        return InputError(f"invalid YAML: {exc.reason} (character {shown})", path=path, line=line)
    return InputError(f"invalid YAML: {' '.join(str(exc).split())}", path=path)


def load_yaml(path: Path) -> Document:
    """Read one YAML file safely; raise :class:`InputError` with file and line on any problem."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"file is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit for curated YAML",
            path=path,
        )
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    return parse_yaml(text, path)


def load_marked(path: Path, mark: str, key: str, *, max_bytes: int, what: str) -> tuple[Document, list[Any]]:
    """A user's YAML file of records (determinations, triage decisions): it starts with ``<mark>: 1`` and holds one
    non-empty list under ``key``. Returns the document (for line numbers) and the list; every problem with the file
    as a whole is an :class:`InputError` naming the file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    if len(raw) > max_bytes:
        raise InputError(f"{what} file larger than {max_bytes} bytes", path=path)
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"invalid UTF-8 at byte {exc.start}", path=path, line=raw[: exc.start].count(b"\n") + 1) from None
    doc = parse_yaml(body, path)
    data = doc.data
    if not isinstance(data, dict) or data.get(mark) != 1:
        raise InputError(f"a {what} file starts with '{mark}: 1'", path=path, line=1)
    unknown_top = sorted(set(map(str, data)) - {mark, key})
    if unknown_top:
        raise InputError(f"unknown field(s): {', '.join(unknown_top)}", path=path, line=doc.line_of((unknown_top[0],)) or 1)
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise InputError(f"'{key}' must be a non-empty list", path=path, line=doc.line_of((key,)) or 1)
    return doc, items


def parse_yaml(text: str, path: Path) -> Document:
    """Parse YAML text (already decoded) into a :class:`Document`."""
    try:
        root = yaml.compose(text, Loader=_Loader)  # type: ignore[arg-type]
    except yaml.YAMLError as exc:
        raise yaml_error(exc, text, path) from None
    if root is None:
        return Document(path=path, data=None)
    builder = _Builder(path)
    data, _ = builder.build(root, ())
    return Document(path=path, data=data, lines=builder.lines)
