"""Write the OSCAL documents of an assessment into a folder (and optionally schema-check them)."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from compliance.assess.model import Assessment
from compliance.errors import CheckFailed, InputError
from compliance.kb.load import KB
from compliance.kb.model import Baseline
from compliance.oscal.build import Context, all_documents, evidence_href, triage_documents
from compliance.oscal.check import REFERENCE, Problem, check_documents, load_constraints
from compliance.oscal.refs import broken_references
from compliance.oscal.validate import Validators, validate


def dumps(doc: dict[str, Any]) -> bytes:
    """The one serialisation of every OSCAL file: sorted keys, two-space indent, trailing newline."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def export(
    kb: KB,
    a: Assessment,
    out: Path,
    *,
    schema_dir: Path | None = None,
    locker: Callable[[str], Path | None] | None = None,
    strict: bool = False,
    report: Callable[[Problem], None] | None = None,
    ctx: Context | None = None,
) -> list[Path]:
    """Write the assessment plan, assessment results, POA&M and component definition into ``out``.

    ``locker(sha256)`` gives the path of a raw evidence file; each is copied to ``out/evidence/<sha256>``
    so the back-matter ``rlinks`` resolve. Cross-document references are always checked
    (:func:`compliance.oscal.refs.broken_references`); with ``schema_dir``, every document is validated first and
    nothing is written when one is invalid. ``ctx``: the system file, its SSP's href, the assessor and a marking.

    Then :func:`compliance.oscal.check.check_documents` runs on the documents (each problem goes to ``report``):
    a reference-integrity error blocks the write; FedRAMP constraint problems are warnings, unless ``strict`` and
    a scope belongs to the constraints' framework (a FedRAMP baseline), when their errors block too.
    """
    docs = all_documents(kb, a, ctx)
    broken = broken_references(docs)
    if broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise CheckFailed(f"unresolved reference: {broken[0]}{more}")
    constraints = load_constraints()
    enforce = strict and constraints.framework is not None and in_framework(kb, a.scopes, constraints.framework)
    problems = [
        p if p.check == REFERENCE or enforce else dataclasses.replace(p, severity="warning")
        for p in check_documents(docs, constraints=constraints)
    ]
    blocking = [p for p in problems if p.severity == "error"]
    if blocking:
        if report is not None:
            for p in blocking:
                report(p)
        more = f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else ""
        raise CheckFailed(f"{blocking[0].line()}{more}; nothing written")
    if schema_dir is not None:
        validators = Validators(schema_dir)
        for name, doc in docs.items():
            validate(doc, validators, name=name)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", path=out) from exc
    written = []
    try:
        for name, doc in docs.items():
            path = out / name
            path.write_bytes(dumps(doc))
            written.append(path)
        if locker is not None:
            # the evidence files, then the triage decisions' supporting documents (the POA&M's back-matter names both)
            for sha, name in [(f.sha256, f.name) for f in a.files] + triage_documents(a):
                src = locker(sha)
                if src is None or not src.is_file():
                    continue
                dst = out / evidence_href(sha, name)
                dst.parent.mkdir(parents=True, exist_ok=True)
                if not dst.exists():
                    shutil.copyfile(src, dst)
                written.append(dst)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=exc.filename or out) from exc
    if report is not None:  # the warnings, once the documents they are about exist
        for p in problems:
            report(p)
    return written


def in_framework(kb: KB, scopes: Sequence[str], framework: str) -> bool:
    """Whether a scope is ``framework`` itself or one of its baselines (``fedramp-moderate`` is in ``fedramp``)."""
    for scope in scopes:
        entry = kb.nodes.get(scope)
        if scope == framework or (
            entry is not None and isinstance(entry.record, Baseline) and entry.record.framework == framework
        ):
            return True
    return False
