"""Read a template file or a whole folder of infrastructure as code into one :class:`Design`.

Files are recognised by content, not only by name: a CloudFormation/SAM template has ``Resources`` (or an
``AWSTemplateFormatVersion`` / SAM ``Transform``); a Serverless Framework file has ``service`` and
``provider``; an ARM template has a ``deploymentTemplate`` schema; Terraform is every ``*.tf`` file (one module
per folder). Bicep is not read (compile it to ARM first).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from compliance.design.arm import is_arm, read_arm
from compliance.design.build import finish
from compliance.design.cfn import read_template
from compliance.design.cfnyaml import load_template_text
from compliance.design.iam import Permissions
from compliance.design.model import Classification, Design
from compliance.design.sls import read_serverless
from compliance.errors import InputError
from compliance.kb.yamlio import yaml_error

#: (document, text, shown path, design, roles, file) -> files the document included (read no more on their own)
Reader = Callable[[Any, str, str, Design, dict[str, Permissions], Path], set[Path]]


def _read_cfn(doc: Any, text: str, shown: str, design: Design, roles: dict[str, Permissions], _p: Path) -> set[Path]:
    read_template(doc, text, shown, design, roles)
    return set()


def _read_arm(doc: Any, text: str, shown: str, design: Design, _roles: dict[str, Permissions], _p: Path) -> set[Path]:
    read_arm(doc, text, shown, design)
    return set()


def _read_sls(doc: Any, text: str, shown: str, design: Design, roles: dict[str, Permissions], p: Path) -> set[Path]:
    return read_serverless(doc, text, shown, design, roles, base=p.parent)


#: document kind (:func:`kind_of`) -> its reader; Terraform is read per folder (``design/tf.py``)
READERS: dict[str, Reader] = {"cfn": _read_cfn, "arm": _read_arm, "sls": _read_sls}

SKIP_DIRS = {".git", "node_modules", ".terraform", ".serverless", ".aws-sam", "__pycache__", ".venv", "cdk.out"}
MAX_BYTES = 20_000_000
#: What a reader raises on a shape it did not expect: bad input, reported as such (not an internal error).
_SHAPE = (KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError)
_KIND = {"cfn": "a CloudFormation/SAM template", "sls": "a Serverless Framework file", "arm": "an ARM template"}


def kind_of(doc: Any) -> str | None:
    """'cfn', 'sls', 'arm' or None, by content."""
    if not isinstance(doc, dict):
        return None
    if is_arm(doc):
        return "arm"
    if "service" in doc and "provider" in doc:
        return "sls"
    if (
        "AWSTemplateFormatVersion" in doc
        or isinstance(doc.get("Resources"), dict)
        or "AWS::Serverless" in str(doc.get("Transform", ""))
    ):
        return "cfn"
    return None


def _yaml_candidates(root: Path) -> list[Path]:
    if root.is_file():
        return [root] if root.suffix.lower() in (".yaml", ".yml", ".json", ".template") else []
    out = []
    for p in sorted(root.rglob("*")):
        if (
            p.is_file()
            and p.suffix.lower() in (".yaml", ".yml", ".json", ".template")
            and not (set(p.relative_to(root).parts) & SKIP_DIRS)
        ):
            if p.name == "sckb.yaml":
                continue
            out.append(p)
    return out


def _tf_dirs(root: Path) -> list[Path]:
    if root.is_file():
        return [root] if root.suffix == ".tf" else []
    dirs = sorted({p.parent for p in root.rglob("*.tf") if not (set(p.relative_to(root).parts) & SKIP_DIRS)})
    return dirs


def load_classification(root: Path, explicit: Path | None) -> Classification:
    """``sckb.yaml`` beside the template (or the folder), or an explicit file: ``{classification: {...}}`` or
    a bare mapping; ``phi: true`` at top level applies to every data store."""
    candidates = [explicit] if explicit else [(root if root.is_dir() else root.parent) / "sckb.yaml"]
    for c in candidates:
        if c is None or not c.is_file():
            if explicit is not None:
                raise InputError("classification file not found", path=explicit)
            continue
        text = c.read_text(encoding="utf-8")
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise yaml_error(exc, text, c) from None
        if not isinstance(raw, dict):
            raise InputError("sckb.yaml must be a mapping", path=c, line=1)
        cls = raw.get("classification", raw)
        if not isinstance(cls, dict):
            raise InputError("classification must be a mapping", path=c)
        top = {k: v for k, v in cls.items() if k not in ("default", "resources")}
        default = dict(cls.get("default") or {})
        default.update(top)
        return {"default": default, "resources": dict(cls.get("resources") or {})}
    return {}


def read_design(path: Path, *, today: date, classification: Path | None = None) -> Design:
    """Every template under ``path``. A single unreadable file is an :class:`InputError`; in a folder, an
    unreadable file is skipped with a warning and the result is marked partial."""
    if not path.exists():
        raise InputError("no such file or folder", path=path)
    single = path.is_file()
    design = Design()
    roles: dict[str, Permissions] = {}
    base = path if path.is_dir() else path.parent
    found = 0
    # Serverless Framework files first: the files they include with ${file(...)} are read as part of them,
    # not again as templates of their own.
    parsed: list[tuple[Path, str, str, Any, str]] = []
    for p in _yaml_candidates(path):
        shown = p.name if single else str(p.relative_to(base))
        try:
            if p.stat().st_size > MAX_BYTES:
                raise InputError(f"file larger than {MAX_BYTES // 1_000_000} MB", path=shown)
            text = p.read_text(encoding="utf-8")
            doc = load_template_text(text, shown)
            kind = kind_of(doc)
            if kind is None:
                if single:
                    raise InputError("not a CloudFormation, SAM, Serverless Framework or ARM template", path=shown)
                continue
            parsed.append((p, shown, text, doc, kind))
        except UnicodeDecodeError:
            if single:
                raise InputError("not UTF-8 text", path=shown) from None
            design.warnings.append(f"{shown}: not UTF-8 text; skipped")
        except InputError as exc:
            if single:
                raise
            design.warnings.append(f"{exc}; skipped")
    included: set[Path] = set()
    for p, shown, text, doc, kind in sorted(parsed, key=lambda x: (x[4] != "sls", x[1])):
        if p.resolve() in included:
            continue
        try:
            try:
                included |= READERS[kind](doc, text, shown, design, roles, p)
            except _SHAPE as exc:  # a shape the reader did not expect (a list where a mapping belongs, ...)
                raise InputError(
                    f"unexpected content for {_KIND[kind]}: {type(exc).__name__}: {' '.join(str(exc).split())}", path=shown
                ) from None
            design.files.append(shown)
            found += 1
        except InputError as exc:
            if single:
                raise
            design.warnings.append(f"{exc}; skipped")
    tf_dirs = _tf_dirs(path)
    if tf_dirs:
        # not a cycle: python-hcl2 (lark) takes ~60 ms to import, and only Terraform folders need it
        from compliance.design.tf import read_terraform_dir

        for d in tf_dirs:
            shown = d.name if single else (str(d.relative_to(base)) if d != base else ".")
            try:
                try:
                    n = read_terraform_dir(d, [path] if single else None, shown, design, roles)
                except _SHAPE as exc:
                    raise InputError(
                        f"unexpected content for Terraform: {type(exc).__name__}: {' '.join(str(exc).split())}", path=shown
                    ) from None
                if n:
                    found += 1
            except InputError as exc:
                if single:
                    raise
                design.warnings.append(f"{exc}; skipped")
    if found == 0 and not design.warnings:
        bicep = path.suffix == ".bicep" if path.is_file() else any(path.rglob("*.bicep"))
        hint = " (Bicep files are not read: compile them to ARM with 'az bicep build')" if bicep else ""
        raise InputError(f"no CloudFormation, SAM, Serverless Framework, ARM or Terraform files found{hint}", path=path)
    finish(design, roles, load_classification(path, classification), today)
    return design
