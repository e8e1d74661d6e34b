"""Validate OSCAL documents against the official NIST OSCAL 1.1.3 JSON schemas with jsonschema-rs.

The schemas are not shipped with sckb (they are the user's, e.g. the NIST release assets
``oscal_assessment-results_schema.json`` ...). ``schema_dir`` is a folder holding them under their
release names; :data:`SCHEMA_FILES` says which file validates which document (found by its root key).
``jsonschema-rs`` (module ``jsonschema_rs``) is needed only when validating.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from compliance.errors import CheckFailed, InputError

#: document root key -> schema file name (NIST OSCAL release assets)
SCHEMA_FILES: dict[str, str] = {
    "assessment-plan": "oscal_assessment-plan_schema.json",
    "assessment-results": "oscal_assessment-results_schema.json",
    "plan-of-action-and-milestones": "oscal_poam_schema.json",
    "component-definition": "oscal_component_schema.json",
    "catalog": "oscal_catalog_schema.json",
    "profile": "oscal_profile_schema.json",
    "system-security-plan": "oscal_ssp_schema.json",
}


class Validators:
    """Compiled validators per schema file, compiled once on first use."""

    def __init__(self, schema_dir: Path) -> None:
        if not schema_dir.is_dir():
            raise InputError("schema folder does not exist", path=schema_dir)
        self.schema_dir = schema_dir
        self._cache: dict[str, Any] = {}

    def for_root(self, root: str) -> Any:
        name = SCHEMA_FILES.get(root)
        if name is None:
            raise InputError(f"not an OSCAL document kind sckb knows: {root!r}")
        if name not in self._cache:
            try:
                import jsonschema_rs
            except ImportError as exc:  # pragma: no cover - dev dependency present in tests
                raise CheckFailed("validation needs the jsonschema-rs package (pip install jsonschema-rs)") from exc
            path = self.schema_dir / name
            try:
                schema = orjson.loads(path.read_bytes())
            except FileNotFoundError as exc:
                raise InputError("schema file missing", path=path) from exc
            except orjson.JSONDecodeError as exc:
                raise InputError(f"not JSON: {exc}", path=path) from exc
            self._cache[name] = jsonschema_rs.validator_for(schema)
        return self._cache[name]


def _root(doc: dict[str, Any]) -> str:
    roots = [k for k in doc if k != "$schema"]
    if len(roots) != 1:
        raise InputError("an OSCAL document has exactly one root key")
    return roots[0]


def errors(doc: dict[str, Any], validators: Validators, *, limit: int = 20) -> list[str]:
    """Schema errors of ``doc`` as ``/json/pointer: message`` lines (empty when valid)."""
    v = validators.for_root(_root(doc))
    out: list[str] = []
    for err in v.iter_errors(doc):
        pointer = "/" + "/".join(str(p) for p in err.instance_path)
        out.append(f"{pointer}: {err.message[:300]}")
        if len(out) >= limit:
            break
    return out


def validate(doc: dict[str, Any], schema_dir: Path | Validators, *, name: str = "<document>") -> None:
    """Raise :class:`CheckFailed` naming the first bad JSON pointer when ``doc`` is not schema-valid."""
    validators = schema_dir if isinstance(schema_dir, Validators) else Validators(schema_dir)
    found = errors(doc, validators)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise CheckFailed(f"{name}#{found[0]}{more}")


def read_json(path: Path) -> Any:
    """One JSON file; InputError (exit 3) when it cannot be read or is not JSON."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc}", path=path) from exc


def validate_file(path: Path, schema_dir: Path | Validators) -> None:
    validate(read_json(path), schema_dir, name=str(path))
