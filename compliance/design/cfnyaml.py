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


def load_template_text(text: str, path: Path | str) -> Any:
    """Parse YAML (or JSON, a YAML subset) with intrinsic tags. Raises :class:`InputError` with the line."""
    try:
        return yaml.load(text, Loader=TemplateLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem or exc.context}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", path=path) from None
    except RecursionError:
        raise InputError("YAML nested too deeply", path=path) from None
