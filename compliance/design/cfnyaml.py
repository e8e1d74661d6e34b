"""A safe YAML loader for CloudFormation / SAM / Serverless Framework templates.

Short-form intrinsic tags become their long JSON forms: ``!Ref X`` -> ``{"Ref": "X"}``,
``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub s`` -> ``{"Fn::Sub": s}`` and so on. A tag that is
not a CloudFormation intrinsic is kept as ``{"Fn::<Tag>": value}`` so the resolver can report it as unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from compliance.errors import InputError
from compliance.kb.yamlio import MAX_EXPANDED_NODES as MAX_KB_NODES
from compliance.kb.yamlio import yaml_error

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: short tag -> long form key (``!Condition`` is special: a plain condition name reference)
_LONG = {
    "Ref": "Ref",
    "Condition": "Condition",
}


class TemplateLoader(_Base):  # type: ignore[misc]
    """SafeLoader (C-accelerated when available) that understands CloudFormation short-form tags."""


def _construct(loader: Any, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = tag_suffix
    if name in _LONG:
        return {_LONG[name]: value}
    if name == "GetAtt" and isinstance(value, str):
        head, _, tail = value.partition(".")
        value = [head, tail]
    return {f"Fn::{name}": value}


TemplateLoader.add_multi_constructor("!", _construct)

#: Upper bound on the nodes a template holds once its aliases are expanded: PyYAML shares an aliased value,
#: but the readers walk it once per reference, so an alias bomb of a few hundred bytes would run without end.
#: (The same bound as the KB loader's, compliance/kb/yamlio.py.)
MAX_EXPANDED_NODES = MAX_KB_NODES
#: Deepest nesting of mappings and sequences a template may have.
MAX_DEPTH = 200


def _expanded_size(root: yaml.Node, path: Path | str) -> int:
    """The nodes of the document with every alias expanded, counted in time linear in the file (each node's
    size once, memoised); an :class:`InputError` past :data:`MAX_EXPANDED_NODES` or :data:`MAX_DEPTH`."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def fail(message: str, node: yaml.Node) -> InputError:
        return InputError(message, path=path, line=node.start_mark.line + 1)

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise fail("recursive alias", node)
        if depth > MAX_DEPTH:
            raise fail(f"nesting deeper than {MAX_DEPTH} levels", node)
        n = 1
        if isinstance(node, yaml.SequenceNode):
            active.add(key)
            n += sum(size(v, depth + 1) for v in node.value)
            active.discard(key)
        elif isinstance(node, yaml.MappingNode):
            active.add(key)
            n += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
            active.discard(key)
        if n > MAX_EXPANDED_NODES:
            raise fail(f"alias expansion exceeds {MAX_EXPANDED_NODES:,} nodes (YAML bomb?)", node)
        sizes[key] = n
        return n

    return size(root, 0)


def load_template_text(text: str, path: Path | str) -> Any:
    """Parse YAML (or JSON, a YAML subset) with intrinsic tags. Raises :class:`InputError` with the line.

    The document is composed first and its expanded size checked (alias bombs are refused) before any value
    is built."""
    try:
        loader = TemplateLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _expanded_size(root, path)
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise yaml_error(exc, text, path) from None
    except RecursionError:
        raise InputError("YAML nested too deeply", path=path) from None
