"""Assessments in the workspace's evidence store (:meth:`~compliance.evidence.store.Store.save_assessment` and
its siblings; the SQLite engine keeps them in tables prefixed ``assess_``).

An assessment is stored whole (orjson, with an empty ``id``: exactly the bytes its content id is the hash
of), with its summary and each control's status. Saving the same assessment again (same content, so same id)
replaces it and makes it the latest.
"""

from __future__ import annotations

import orjson

from compliance.assess.model import Assessment, AssessmentInfo, dump
from compliance.errors import NotFoundError, StoreError
from compliance.evidence.store import AssessmentBlob, Store
from compliance.kb.profile import ProfileInfo


def _blob(a: Assessment) -> bytes:
    """The stored form: the assessment with an empty id (the bytes its content id hashes; the id is stored
    beside it, and :func:`load` puts it back)."""
    saved, a.id = a.id, ""
    try:
        return dump(a)
    finally:
        a.id = saved


def save(store: Store, a: Assessment, data: bytes | None = None) -> None:
    """Store ``a``; ``data`` is its stored form when already made (``tally.identify`` returns it)."""
    store.save_assessment(
        AssessmentBlob(
            id=a.id,
            now=a.now,
            scopes=tuple(a.scopes),
            max_age_days=a.max_age_days,
            summary=orjson.dumps(a.summary(), option=orjson.OPT_SORT_KEYS),
            data=_blob(a) if data is None else data,
            controls=tuple((c.id, c.status) for c in a.controls.values()),
        )
    )


def resolve_id(store: Store, ident: str | None) -> str:
    """The full id of an assessment: ``None`` or ``latest`` -> the latest; else an id or unique prefix."""
    return store.resolve_assessment(ident)


def load(store: Store, ident: str | None = None) -> Assessment:
    full = store.resolve_assessment(ident)
    try:
        d = orjson.loads(store.assessment_data(full))
        if not d["id"]:  # stored without its id (the bytes the id hashes); older rows carry it
            d["id"] = full
        return Assessment.from_dict(d)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise StoreError(f"assessment {full} is unreadable (written by another sckb version?): {exc}") from exc


def listing(store: Store) -> list[AssessmentInfo]:
    """Every stored assessment, latest first."""
    out: list[AssessmentInfo] = []
    for row in store.assessments():
        s = orjson.loads(row.summary)
        out.append(
            AssessmentInfo(id=row.id, seq=row.seq, now=row.now, scopes=row.scopes, counts=s["counts"], system=s.get("system"))
        )
    return out


def resolve_for_system(store: Store, ident: str | None, system: str | None) -> str:
    """The full id of the assessment a renderer should use. Without ``system``: as :func:`resolve_id`. With it:
    ``None`` or ``latest`` is the latest assessment of that system; an id (or prefix) must be one of it."""
    if system is None:
        return store.resolve_assessment(ident)
    store.system(system)  # an unknown system: NotFoundError listing the known ones
    rows = store.assessments()
    if ident is None or ident == "latest":
        for row in rows:
            if orjson.loads(row.summary).get("system") == system:
                return row.id
        raise NotFoundError(f"no assessment of system {system!r} yet: run 'sckb assess --system {system} --scope ...'")
    full = store.resolve_assessment(ident)
    of = next((orjson.loads(r.summary).get("system") for r in rows if r.id == full), None)
    if of != system:
        what = f"of system {of!r}" if of else "of the whole workspace (no --system)"
        raise NotFoundError(f"assessment {full} is {what}, not of system {system!r}")
    return full


def resolve_for_profile(store: Store, ident: str | None, system: str | None, profile: ProfileInfo) -> str:
    """As :func:`resolve_for_system`, and the assessment must have been made with ``profile`` (the same file
    content, by SHA-256): ``None`` or ``latest`` is the latest such assessment."""

    def made_with(summary: bytes | str) -> bool:
        p = orjson.loads(summary).get("profile")
        return isinstance(p, dict) and p.get("sha256") == profile.sha256

    rows = store.assessments()
    if ident is not None and ident != "latest":
        full = resolve_for_system(store, ident, system)
        if not any(made_with(r.summary) for r in rows if r.id == full):
            raise NotFoundError(f"assessment {full} was not made with profile {profile.file} (this content)")
        return full
    if system is not None:
        store.system(system)
    for row in rows:
        if (system is None or orjson.loads(row.summary).get("system") == system) and made_with(row.summary):
            return row.id
    raise NotFoundError(f"no assessment made with profile {profile.file} (this content) yet: run 'sckb assess --profile FILE'")
