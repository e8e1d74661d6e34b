"""Assessment scopes, resolved from KB data (no scope is hard-coded except the two generic views).

A scope name is one of:

- a baseline id in the KB (``fedramp-low``, ``fedramp-moderate``, ``fedramp-high``, ``fedramp-li-saas``,
  ``nist-low``, ``nist-moderate``, ``nist-high``, ...): the baseline's member controls;
- a framework id of the KB's ``frameworks`` records (e.g. ``hipaa``): every control the crosswalk of its
  safeguards reaches, plus the safeguards themselves as a separate view;
- ``serverless``: every control a mitigation maps to.

A tailored baseline (``--profile FILE``, a user's OSCAL profile resolved by :mod:`compliance.kb.profile`)
is one more scope, named ``profile:<file name>``. Scopes combine by union; each control remembers which
scopes brought it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compliance.errors import NotFoundError
from compliance.kb.load import KB
from compliance.kb.model import Baseline, Control, EdgeKind, NodeKind, Safeguard
from compliance.kb.profile import ResolvedProfile
from compliance.kb.query import control_sort_key

SERVERLESS = "serverless"


@dataclass
class KBIndex:
    """The slices of the KB graph the assessment walks, built once from ``kb.edges``."""

    control_mitigations: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    safeguard_mitigations: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    safeguard_controls: dict[str, list[str]] = field(default_factory=dict)
    safeguard_specs: dict[str, list[str]] = field(default_factory=dict)
    #: (mitigation, control or safeguard) -> the statement parts the maps-to link names
    link_parts: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    #: (rule node, mitigation) -> the relationship of the rule's ``evidences`` link
    rule_links: dict[tuple[str, str], str | None] = field(default_factory=dict)

    @classmethod
    def build(cls, kb: KB) -> KBIndex:
        idx = cls()
        kinds = {k: e.kind for k, e in kb.nodes.items()}
        for e in kb.edges.values():
            if e.source not in kinds or e.target not in kinds:
                continue
            if e.kind is EdgeKind.MAPS_TO:
                target = kinds[e.target]
                if e.parts:
                    idx.link_parts[(e.source, e.target)] = e.parts
                if target is NodeKind.CONTROL:
                    idx.control_mitigations.setdefault(e.target, []).append((e.source, e.relationship))
                elif target is NodeKind.SAFEGUARD:
                    idx.safeguard_mitigations.setdefault(e.target, []).append((e.source, e.relationship))
            elif e.kind is EdgeKind.EVIDENCES:
                idx.rule_links[(e.source, e.target)] = e.relationship
            elif e.kind is EdgeKind.CROSSWALK:
                idx.safeguard_controls.setdefault(e.source, []).append(e.target)
            elif e.kind is EdgeKind.PART_OF and kinds[e.source] is NodeKind.SAFEGUARD:
                idx.safeguard_specs.setdefault(e.target, []).append(e.source)
        for d in (idx.control_mitigations, idx.safeguard_mitigations):
            for k in d:
                d[k].sort()
        for d2 in (idx.safeguard_controls, idx.safeguard_specs):
            for k in d2:
                d2[k] = sorted(set(d2[k]), key=control_sort_key)
        return idx


@dataclass
class Scope:
    names: list[str]
    #: control id -> the scope names that include it (controls sorted AC-1, AC-2, AC-2(1), ...)
    controls: dict[str, list[str]]
    #: safeguard ids of the framework views (sorted)
    safeguards: list[str]
    #: the tailored baseline in scope, when one was given
    profile: ResolvedProfile | None = None


def available_scopes(kb: KB) -> list[str]:
    baselines = sorted(n.id for n in kb.of_kind(NodeKind.BASELINE))
    named = {n.record.framework for n in kb.of_kind(NodeKind.SAFEGUARD) if isinstance(n.record, Safeguard)}
    frameworks = sorted(f for f in kb.frameworks if f in named)  # a framework with no safeguards is no scope
    return [*baselines, *frameworks, SERVERLESS]


def resolve(kb: KB, names: list[str], index: KBIndex | None = None, profile: ResolvedProfile | None = None) -> Scope:
    """Resolve scope names to controls (and safeguards), plus the controls of a resolved ``profile`` (see
    :func:`compliance.kb.profile.load_profile`). Unknown names raise :class:`NotFoundError`."""
    idx = index or KBIndex.build(kb)
    if not names and profile is None:
        raise NotFoundError("no scope given: pass --scope (one of " + ", ".join(available_scopes(kb)) + ") or --profile")
    controls: dict[str, set[str]] = {}
    safeguards: set[str] = set()
    for name in dict.fromkeys(names):
        members: list[str]
        entry = kb.nodes.get(name)
        if entry is not None and entry.kind is NodeKind.BASELINE and isinstance(entry.record, Baseline):
            members = list(entry.record.members)
        elif name == SERVERLESS:
            members = list(idx.control_mitigations)
        else:
            view = [n.id for n in kb.framework_items(name)] if name in kb.frameworks else []
            if not view:
                raise NotFoundError(f"unknown scope {name!r}: use one of " + ", ".join(available_scopes(kb)))
            safeguards.update(view)
            members = sorted({c for s in view for c in idx.safeguard_controls.get(s, [])})
        for c in members:
            controls.setdefault(c, set()).add(name)
    all_names = list(dict.fromkeys(names))
    if profile is not None:
        all_names.append(profile.info.scope)
        for c in profile.controls:
            controls.setdefault(c, set()).add(profile.info.scope)
    ordered = sorted(controls, key=control_sort_key)
    return Scope(
        names=all_names,
        controls={c: sorted(controls[c]) for c in ordered},
        safeguards=sorted(safeguards),
        profile=profile,
    )


def title_of(kb: KB, node_id: str) -> str:
    entry = kb.nodes.get(node_id)
    return entry.record.title if entry is not None else node_id


def is_control(kb: KB, node_id: str) -> bool:
    entry = kb.nodes.get(node_id)
    return entry is not None and isinstance(entry.record, Control)
