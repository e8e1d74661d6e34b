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
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the platform's PyYAML build
    _Loader = yaml.SafeLoader

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
    if node.style is not None and node.style != "":
        return value  # quoted or block scalar: always a string
    if tag == "tag:yaml.org,2002:str":
        return value
    if tag in ("tag:yaml.org,2002:null",) or value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.match(value):
        return int(value.replace("_", ""))
    if _FLOAT.match(value) and any(c.isdigit() for c in value):
        return float(value.replace("_", ""))
    if tag.startswith("tag:yaml.org,2002:") or tag == "!":
        return value
    raise ValueError(f"unsupported tag {tag}")


class _Builder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[Path_, int] = {}
        self.expanded = 0
        self._sizes: dict[int, int] = {}

    def _size(self, node: yaml.Node) -> int:
        """Expanded size of a node, memoised by identity (aliases share nodes)."""
        key = id(node)
        cached = self._sizes.get(key)
        if cached is not None:
            return cached
        self._sizes[key] = 1  # cycle guard: a recursive alias counts once
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size(v) for v in node.value)
        else:
            size = 1
        if size > MAX_EXPANDED_NODES:
            raise InputError(
                f"alias expansion exceeds {MAX_EXPANDED_NODES:,} nodes (YAML bomb?)",
                path=self.path,
                line=node.start_mark.line + 1,
            )
        self._sizes[key] = size
        return size

    def build(self, node: yaml.Node, loc: Path_, depth: int = 0) -> Any:
        if depth > 200:
            raise InputError("nesting deeper than 200 levels", path=self.path, line=node.start_mark.line + 1)
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for knode, vnode in node.value:
                if knode.tag == "tag:yaml.org,2002:merge":
                    raise InputError("merge keys (<<) are not supported", path=self.path, line=knode.start_mark.line + 1)
                key = self.build(knode, (*loc, "<key>"), depth + 1)
                if not isinstance(key, (str, int)):
                    raise InputError("mapping keys must be strings or integers", path=self.path, line=knode.start_mark.line + 1)
                if key in out:
                    raise InputError(f"duplicate key {key!r}", path=self.path, line=knode.start_mark.line + 1)
                out[key] = self.build(vnode, (*loc, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, (*loc, i), depth + 1) for i, v in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        try:
            return _scalar(node)
        except ValueError as exc:
            raise InputError(str(exc), path=self.path, line=node.start_mark.line + 1) from None


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


def parse_yaml(text: str, path: Path) -> Document:
    """Parse YAML text (already decoded) into a :class:`Document`."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem or exc.context}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", path=path) from None
    if root is None:
        return Document(path=path, data=None)
    builder = _Builder(path)
    builder._size(root)
    data = builder.build(root, ())
    return Document(path=path, data=data, lines=builder.lines)
