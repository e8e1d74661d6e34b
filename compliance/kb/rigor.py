"""Rigor rules for curated mapping links (every link between two frameworks' items must be defensible) and for
the shared-responsibility entries that decide which controls are inherited.

Each rule is a small function ``check_*(kb) -> list[Problem]`` over the loaded KB, reported by
``sckb kb validate`` as ``file:line: message`` at the line of the offending link. Frameworks are read from
the data (``kb.frameworks``, their crosswalks), never named here.

A link's *focal* end is the record that declares it (a mitigation for its risk, control, safeguard and
strategy links; a rule for its mitigation links; a CWE for its risk links; the ``from`` of an explicit
edge); the *other* end is the item it names. Rules about the focal record read a link as the YAML states it
(:attr:`EdgeEntry.declared_relationship`); rules about exported edges read it *source REL target*
(:attr:`EdgeEntry.relationship`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from compliance.kb.core import KB, oscal_id
from compliance.kb.entries import EdgeEntry, Origin, Problem
from compliance.kb.model import (
    MAPPING_EDGES,
    PARTIAL_EDGES,
    Baseline,
    Control,
    EdgeKind,
    Mitigation,
    NodeKind,
    Responsibility,
    Risk,
    Rule,
    Safeguard,
    Strategy,
)

#: The tool whose "rules" are sckb's own design predicates (``sckb design check``).
DESIGN_TOOL = "sckb-design"
#: Words a source may carry besides a document's name without naming a basis for the claim.
_FILLER = {"sckb", "judgement", "judgment", "basis", "id", "as", "quoted", "by", "secondary", "sources", "the", "of"}
#: Document-name words of the control catalogue and the strategy publications (not frameworks: those are data).
_CATALOGUE_WORDS = {"nist", "sp", "800-53", "rev", "5", "r5", "rev5", "800-204", "800-204a", "800-204b", "800-204c", "800-204d"}
_WORD = re.compile(r"[a-z0-9][a-z0-9_.()\-]*[a-z0-9)]|[a-z0-9]")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _ends(edge: EdgeEntry) -> tuple[str, str]:
    """(focal, other): the record that declares the link and the item it names."""
    if edge.declared_by is not None and edge.declared_by == edge.target:
        return edge.target, edge.source
    return edge.source, edge.target


def _mapping_links(kb: KB) -> list[EdgeEntry]:
    return [e for e in kb.edges.values() if e.kind in MAPPING_EDGES]


def _at(edge: EdgeEntry, message: str, severity: str = "error") -> Problem:
    return Problem(edge.origin.file, edge.origin.line, message, severity)


def _label(edge: EdgeEntry) -> str:
    focal, other = _ends(edge)
    return f"{edge.kind.value} link {focal} -> {other}"


def framework_key(kb: KB, node_id: str) -> str:
    """Which framework (catalogue, taxonomy) an item belongs to, for "per framework" rules."""
    entry = kb.nodes.get(node_id)
    if entry is None:
        return "?"
    rec = entry.record
    if isinstance(rec, Safeguard):
        return f"safeguard:{rec.framework}"
    if isinstance(rec, Risk):
        return f"risk:{rec.taxonomy}"
    if isinstance(rec, Strategy):
        return f"strategy:{rec.publication}"
    return entry.kind.value


def nests(kb: KB, a: str, b: str) -> bool:
    """True when one item contains the other: the same id, a control and its own enhancement (at any depth),
    or a framework item and its own parent item (a standard and its implementation specification)."""
    return a == b or b in _ancestors(kb, a) or a in _ancestors(kb, b)


def _ancestors(kb: KB, node_id: str) -> set[str]:
    """The parents of a control or framework item, up to the top (its family or standard excluded)."""
    out: set[str] = set()
    cur = node_id
    while True:
        entry = kb.nodes.get(cur)
        rec = entry.record if entry is not None else None
        nxt = rec.parent if isinstance(rec, Control) else rec.standard if isinstance(rec, Safeguard) else None
        if nxt is None or nxt == cur or nxt in out:
            return out
        out.add(nxt)
        cur = nxt


# ----------------------------------------------------------------------------- rules


def check_link_fields(kb: KB) -> list[Problem]:
    """A risk -> mitigation or CSA <-> OWASP link without relationship, rationale or source (the bare id form
    still loads, so an older overlay keeps working, but the link is not defensible). The other mapping kinds
    are checked as they load."""
    out: list[Problem] = []
    for e in _mapping_links(kb):
        if e.kind not in PARTIAL_EDGES:
            continue
        missing = [n for n, v in (("relationship", e.relationship), ("rationale", e.rationale), ("source", e.ref)) if not v]
        if missing:
            out.append(_at(e, f"{_label(e)} lacks {', '.join(missing)}"))
    return out


def check_confidence(kb: KB) -> list[Problem]:
    """A mitigation -> control or safeguard link without a confidence (high, medium or low)."""
    return [
        _at(e, f"{_label(e)} lacks confidence (high, medium or low)")
        for e in _mapping_links(kb)
        if e.kind is EdgeKind.MAPS_TO and not e.confidence
    ]


def _document_words(kb: KB, node_id: str) -> set[str]:
    """Words that only name the document an item comes from: the catalogue names, every framework's titles,
    and the item's own record source."""
    words = set(_CATALOGUE_WORDS) | _FILLER
    for fw in kb.frameworks.values():
        for text in (fw.title, fw.label, fw.name, fw.source):
            words.update(_words(text))
    entry = kb.nodes.get(node_id)
    own = getattr(entry.record, "source", None) if entry is not None else None
    if isinstance(own, str):
        words.update(_words(own))
    return words


#: Link kinds whose target has citable parts (a control's statement and discussion, a rule's paragraphs).
_CITABLE = frozenset({EdgeKind.MAPS_TO, EdgeKind.CROSSWALK})


def check_circular_source(kb: KB) -> list[Problem]:
    """A source that, once document names and filler are removed, is only the linked item's id: it restates
    the target instead of naming the basis of the claim (a statement part, a publication's section). Checked
    on links into controls and framework items, whose text has parts to cite."""
    out: list[Problem] = []
    for e in _mapping_links(kb):
        if not e.ref or e.kind not in _CITABLE:
            continue
        _, other = _ends(e)
        text = re.sub(r"\(id as quoted by secondary sources\)", " ", e.ref, flags=re.IGNORECASE)
        words = _words(text)
        target = other.casefold()
        if target not in words:
            continue
        rest = [w for w in words if w != target and w not in _document_words(kb, other)]
        if not rest:
            out.append(_at(e, f"{_label(e)}: source {e.ref!r} only restates the target; name the basis (section, part)"))
    return out


def _by_focal_and_framework(kb: KB, relationship: str) -> dict[tuple[str, str, str], list[EdgeEntry]]:
    groups: dict[tuple[str, str, str], list[EdgeEntry]] = defaultdict(list)
    for e in _mapping_links(kb):
        if e.declared_relationship == relationship:  # read from the focal record, as the YAML states it
            focal, other = _ends(e)
            groups[(focal, e.kind.value, framework_key(kb, other))].append(e)
    return groups


#: Item kinds whose catalogue divides its subject into distinct items (the mitigation catalogue does not:
#: two mitigations may overlap, so a scanner rule may sit inside both).
_PARTITIONED = {NodeKind.CONTROL.value, "safeguard", "risk"}


def check_contradictory_subset(kb: KB) -> list[Problem]:
    """A node ``subset-of`` two items of one framework that do not nest: it cannot lie wholly inside both
    (a control and its own enhancement nest; two enhancements of one control do not). Checked for links into
    controls, framework items and risks."""
    out: list[Problem] = []
    for (_, _, framework), group in _by_focal_and_framework(kb, "subset-of").items():
        if framework.split(":")[0] not in _PARTITIONED:
            continue
        for i, later in enumerate(group):
            for earlier in group[:i]:
                a, b = _ends(earlier)[1], _ends(later)[1]
                if not nests(kb, a, b):
                    focal = _ends(later)[0]
                    out.append(_at(later, f"{focal} is subset-of both {a} and {b}, which do not nest; use intersects-with"))
                    break
    return out


def check_multiple_equal(kb: KB) -> list[Problem]:
    """More than one ``equal`` link from one node into one framework (it can equal at most one item)."""
    out: list[Problem] = []
    for group in _by_focal_and_framework(kb, "equal").values():
        for e in group[1:]:
            focal = _ends(e)[0]
            out.append(_at(e, f"{focal} has {len(group)} equal links of kind {e.kind.value} into one framework"))
    return out


def check_repeated_rationale(kb: KB) -> list[Problem]:
    """Two mapping links of one record with the same rationale (case and spacing ignored): each link needs its own
    reason, and a copied sentence usually means one of the two links was not thought through."""
    seen: dict[tuple[str, str], EdgeEntry] = {}
    out: list[Problem] = []
    for e in _mapping_links(kb):
        if not e.rationale:
            continue
        focal = _ends(e)[0]
        key = (focal, " ".join(e.rationale.casefold().split()))
        first = seen.setdefault(key, e)
        if first is not e:
            other, where = _ends(first)[1], first.origin
            out.append(_at(e, f"{_label(e)} repeats the rationale of its link to {other} ({where}); give each its own reason"))
    return out


def check_design_rule_equal(kb: KB) -> list[Problem]:
    """An sckb-design rule typed ``equal``: a design predicate sees only part of a mitigation in the design."""
    out: list[Problem] = []
    for e in _mapping_links(kb):
        rec = kb.nodes[e.source].record if e.source in kb.nodes else None
        if e.kind is EdgeKind.EVIDENCES and e.relationship == "equal" and isinstance(rec, Rule) and rec.tool == DESIGN_TOOL:
            out.append(_at(e, f"{_label(e)} is equal, but a design predicate checks only part of a mitigation"))
    return out


def check_strategy_direction(kb: KB) -> list[Problem]:
    """A strategy link exported ``subset-of`` or ``equal``: the edge is strategy -> mitigation, so the type would
    claim the whole recommendation lies inside (or is) one mitigation. In the YAML (declared on the mitigation,
    read *mitigation REL strategy*) that is ``superset-of`` or ``equal``."""
    return [
        _at(
            e,
            f"exported as {e.source} {e.relationship} {e.target} (declared {e.target} {e.declared_relationship} "
            f"{e.source}): declare intersects-with, or subset-of when the mitigation lies within the strategy",
        )
        for e in _mapping_links(kb)
        if e.kind is EdgeKind.IMPLEMENTED_BY and e.relationship in ("subset-of", "equal")
    ]


def _party_entry(kb: KB, control_id: str) -> tuple[str, Responsibility, Origin] | None:
    """The responsibility entry a control resolves to (its own, its parent's, its family's), with its key."""
    entry = kb.nodes.get(control_id)
    rec = entry.record if entry is not None else None
    keys = [control_id]
    if isinstance(rec, Control):
        keys += [*([rec.parent] if rec.parent else []), "family:" + rec.family]
    for key in keys:
        if key in kb.responsibility:
            resp, origin = kb.responsibility[key]
            return key, resp, origin
    return None


def check_provider_basis(kb: KB) -> list[Problem]:
    """A ``provider`` responsibility entry without a ``basis`` naming the provider statement it rests on."""
    return [
        Problem(o.file, o.line, f"responsibility for {key} is provider without a basis (cite the provider's statement)")
        for key, (r, o) in kb.responsibility.items()
        if r.party == "provider" and not r.basis
    ]


def check_family_default_party(kb: KB) -> list[Problem]:
    """A family default of ``provider``: a family always holds controls the customer must act on (its -1 at least),
    so inheritance is only ever claimed control by control."""
    return [
        Problem(
            o.file,
            o.line,
            f"family default for {r.family} is provider; use customer or shared, and name inherited controls one by one",
        )
        for r, o in kb.responsibility.values()
        if r.family is not None and r.party == "provider"
    ]


_POLICY_CONTROL = re.compile(r"^[A-Z]{2}-1$")


def check_policy_controls_customer(kb: KB) -> list[Problem]:
    """A -1 control (the family's policy and procedures) that does not resolve to ``customer``."""
    out: list[Problem] = []
    for entry in kb.of_kind(NodeKind.CONTROL):
        rec = entry.record
        if not _POLICY_CONTROL.match(entry.id) or (isinstance(rec, Control) and rec.withdrawn):
            continue
        hit = _party_entry(kb, entry.id)
        if hit is not None and hit[1].party != "customer":
            key, resp, o = hit
            via = "" if key == entry.id else f" (through {key})"
            out.append(
                Problem(o.file, o.line, f"{entry.id} (policy and procedures) resolves to {resp.party}{via}; it is the customer's")
            )
    return out


#: Words in a rule's id or title that say it checks a monitoring setting (a metric filter, an alarm).
_MONITORING_RULE = re.compile(r"metric[ _-]?filters?|(?<![a-z])alarms?(?![a-z])", re.IGNORECASE)


def check_detective_evidence(kb: KB) -> list[Problem]:
    """A rule declaring ``evidence: detective`` linked ``subset-of`` or ``equal`` to a mitigation whose nature does not
    include detective: a check that an alarm, log or monitoring setting exists shows detection, not prevention, so it
    can only overlap (intersects-with) a preventive or corrective mitigation."""
    out: list[Problem] = []
    for e in _mapping_links(kb):
        if e.kind is not EdgeKind.EVIDENCES or e.relationship not in ("subset-of", "equal"):
            continue
        rule = kb.nodes[e.source].record if e.source in kb.nodes else None
        mit = kb.nodes[e.target].record if e.target in kb.nodes else None
        if not isinstance(rule, Rule) or rule.evidence != "detective" or not isinstance(mit, Mitigation):
            continue
        if "detective" not in mit.nature:
            nature = ", ".join(mit.nature) or "none declared"
            msg = (
                f"{_label(e)} is {e.relationship}, but the rule's evidence is detective and the mitigation's nature is "
                f"{nature}; use intersects-with or link a detective mitigation"
            )
            out.append(_at(e, msg))
    return out


def check_monitoring_rule_evidence(kb: KB) -> list[Problem]:
    """A rule whose id or title names a metric filter or an alarm without ``evidence: detective`` (keeps an alarm check
    from being read as proof of a preventive mitigation again)."""
    out: list[Problem] = []
    for entry in kb.of_kind(NodeKind.RULE):
        rec = entry.record
        if isinstance(rec, Rule) and rec.evidence != "detective" and _MONITORING_RULE.search(f"{rec.id} {rec.title}"):
            o = entry.origin
            out.append(Problem(o.file, o.line, f"rule {rec.id} checks a metric filter or alarm: declare evidence: detective"))
    return out


def _base(control_id: str) -> str:
    return control_id.split("(")[0].strip().upper()


def crosswalk_sets(kb: KB) -> dict[str, set[str]]:
    """Framework item -> the base SP 800-53 controls of its crosswalk set: the union over its standard and all
    of the standard's items (the crosswalk lists controls per standard, key activity and element)."""
    crosswalked = {fw.id for fw in kb.frameworks.values() if fw.crosswalk is not None}
    standard: dict[str, str] = {}
    for entry in kb.of_kind(NodeKind.SAFEGUARD):
        rec = entry.record
        if isinstance(rec, Safeguard) and rec.framework in crosswalked:
            standard[entry.id] = rec.standard or entry.id
    by_std: dict[str, set[str]] = defaultdict(set)
    for e in kb.edges.values():
        if e.kind is EdgeKind.CROSSWALK and e.source in standard:
            by_std[standard[e.source]].add(_base(e.target))
    return {sg: by_std.get(std, set()) for sg, std in standard.items()}


def check_crosswalk_support(kb: KB) -> list[Problem]:
    """Warning: a mitigation -> framework item link whose mitigation shares no SP 800-53 control with the item's
    crosswalk set (the framework's ``crosswalk`` in ``controls/frameworks.yaml``), unless the rationale says
    why it stays (mentions the crosswalk)."""
    sets = crosswalk_sets(kb)
    controls: dict[str, set[str]] = defaultdict(set)
    for e in kb.edges.values():
        if e.kind is EdgeKind.MAPS_TO and e.target in kb.nodes and kb.nodes[e.target].kind is NodeKind.CONTROL:
            controls[e.source].add(_base(e.target))
    out: list[Problem] = []
    for e in kb.edges.values():
        if e.kind is not EdgeKind.MAPS_TO or e.target not in sets:
            continue
        if controls[e.source] & sets[e.target] or "crosswalk" in (e.rationale or "").casefold():
            continue
        fw = kb.framework_of(e.target)
        via = f"the {fw.crosswalk.to} crosswalk" if fw is not None and fw.crosswalk is not None else "the crosswalk"
        msg = f"{_label(e)}: the mitigation shares no control with {via} set of {e.target}, and the rationale does not say why"
        out.append(_at(e, msg, "warning"))
    return out


# ----------------------------------------------------------------------------- statement parts and assurance

#: Relationships that let a mitigation -> control link decide a status (the others are related evidence only).
_DETERMINATIVE = frozenset({"subset-of", "equal"})
#: The baseline whose determinative links have been read for the statement parts they cover (issue 21):
#: ``check_parts_gap`` lists its controls that such links reach without naming any part.
PARTS_BASELINE = "fedramp-moderate"


def _part_owner(part: str) -> str | None:
    """The OSCAL control id a statement part id belongs to (``ac-2_smt.d`` -> ``ac-2``), None if it is no part id."""
    head, sep, _ = part.partition("_smt")
    return head if sep and head else None


def _is_control(kb: KB, node_id: str) -> bool:
    entry = kb.nodes.get(node_id)
    return entry is not None and entry.kind is NodeKind.CONTROL


def check_link_parts(kb: KB) -> list[Problem]:
    """``parts:`` on a link: only on mitigation -> control links, never on a related (intersects-with, superset-of)
    link, each part once, and each one a top-level part of the linked control's statement (``kb.statement_parts``)."""
    out: list[Problem] = []
    for e in kb.edges.values():
        if not e.parts:
            continue
        named = ", ".join(e.parts)
        if e.kind is not EdgeKind.MAPS_TO or not _is_control(kb, e.target):
            out.append(
                _at(e, f"{_label(e)} names statement parts ({named}), but parts belong only on mitigation -> control links")
            )
            continue
        if e.relationship not in _DETERMINATIVE:
            out.append(
                _at(e, f"{_label(e)} is {e.relationship} and names parts ({named}): a related link covers no part; drop them")
            )
        for part in sorted(p for p, n in Counter(e.parts).items() if n > 1):
            out.append(_at(e, f"{_label(e)} names part {part} more than once"))
        own = kb.statement_parts(e.target)
        for part in dict.fromkeys(e.parts):
            owner = _part_owner(part)
            if owner is None:
                out.append(_at(e, f"{_label(e)}: {part!r} is not a statement part id (like {own[0]})"))
            elif owner != oscal_id(e.target):
                out.append(_at(e, f"{_label(e)}: part {part} belongs to control {owner}, not {e.target}"))
            elif part not in own:
                out.append(_at(e, f"{_label(e)}: {part} is not a top-level part of the {e.target} statement ({', '.join(own)})"))
    return out


def check_statements(kb: KB) -> list[Problem]:
    """A ``statements`` entry for an id that is not a control, or whose parts are not that control's or repeat."""
    out: list[Problem] = []
    for cid, (parts, o) in kb.statements.items():
        if not _is_control(kb, cid):
            out.append(Problem(o.file, o.line, f"statement parts for unknown control {cid!r}"))
            continue
        for part in sorted(p for p, n in Counter(parts).items() if n > 1):
            out.append(Problem(o.file, o.line, f"statement parts of {cid} list {part} more than once"))
        strays = [p for p in dict.fromkeys(parts) if _part_owner(p) != oscal_id(cid)]
        if strays:
            out.append(Problem(o.file, o.line, f"statement parts of {cid} name parts of another control: {', '.join(strays)}"))
    return out


def check_assurance(kb: KB) -> list[Problem]:
    """An ``assurance`` entry whose target is not a control or framework item, or that names no method."""
    out: list[Problem] = []
    for target, (rec, o) in kb.assurance.items():
        entry = kb.nodes.get(target)
        if entry is None or entry.kind not in (NodeKind.CONTROL, NodeKind.SAFEGUARD):
            what = "unknown id" if entry is None else f"a {entry.kind.value}"
            out.append(Problem(o.file, o.line, f"assurance target {target!r} is {what}, not a control or framework item"))
        if not rec.methods:
            out.append(Problem(o.file, o.line, f"assurance entry for {target} names no method"))
    return out


def check_parts_gap(kb: KB, baseline: str = PARTS_BASELINE) -> list[Problem]:
    """Warning: the baseline's controls that a determinative mitigation link reaches while no link into them names
    a statement part, so scanner evidence cannot show them satisfied yet (controls listed under ``assurance`` are
    left out: only documents and people can). One warning, at the baseline's record."""
    entry = kb.nodes.get(baseline)
    if entry is None or entry.kind is not NodeKind.BASELINE:
        return []
    members = {e.source for e in kb.edges.values() if e.kind is EdgeKind.MEMBER_OF and e.target == baseline}
    reached: set[str] = set()
    named: set[str] = set()
    for e in kb.edges.values():
        if e.kind is EdgeKind.MAPS_TO and e.target in members and e.relationship in _DETERMINATIVE:
            reached.add(e.target)
            if e.parts:
                named.add(e.target)
    rec = entry.record
    order = rec.members if isinstance(rec, Baseline) else sorted(members)
    # controls only documents and people can show satisfied (section ``assurance``) need no parts
    gap = [c for c in order if c in reached and c not in named and c not in kb.assurance]
    if not gap:
        return []
    msg = (
        f"{len(gap)} {entry.record.title} controls are reached by subset-of/equal mitigation links of which none "
        f"names a statement part (parts:): {', '.join(gap)}"
    )
    return [Problem(entry.origin.file, entry.origin.line, msg, "warning")]


RULES: tuple[Callable[[KB], list[Problem]], ...] = (
    check_link_fields,
    check_confidence,
    check_circular_source,
    check_contradictory_subset,
    check_multiple_equal,
    check_repeated_rationale,
    check_design_rule_equal,
    check_strategy_direction,
    check_crosswalk_support,
    check_provider_basis,
    check_family_default_party,
    check_policy_controls_customer,
    check_detective_evidence,
    check_monitoring_rule_evidence,
    check_link_parts,
    check_statements,
    check_assurance,
    check_parts_gap,
)


def check_rigor(kb: KB, rules: Iterable[Callable[[KB], list[Problem]]] = RULES) -> list[Problem]:
    """Every rigor problem of the KB's mapping links."""
    return [p for rule in rules for p in rule(kb)]
