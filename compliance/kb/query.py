"""Graph queries. Each returns JSON-ready data typed as a TypedDict; the CLI renders it as a table or JSON."""

from __future__ import annotations

import itertools
from typing import Literal, NotRequired, TypedDict

import networkx as nx

from compliance.errors import NotFoundError
from compliance.kb.graph import explain_graph
from compliance.kb.load import KB
from compliance.kb.model import Baseline, Control, EdgeKind, Mitigation, NodeKind


class MappingFields(TypedDict, total=False):
    """The typed fields of a mapping edge (present when the edge is a mapping)."""

    relationship: str
    rationale: str
    source: str
    #: high / medium / low, on judgement links that state one
    confidence: str
    #: the statement parts a mitigation -> control link covers (official part ids), when it names any
    parts: list[str]


class LinkedNode(MappingFields):
    id: str
    title: str


class NodeRef(TypedDict):
    id: str
    title: str


class RiskMitigation(TypedDict):
    id: str
    title: str
    controls: list[LinkedNode]
    safeguards: list[LinkedNode]
    rules: list[str]


class RiskResult(TypedDict):
    id: str
    kind: Literal["risk"]
    title: str
    corresponds_to: list[str]
    cwes: list[str]
    mitigations: list[RiskMitigation]
    controls: list[str]
    #: baseline id -> the risk's controls in it
    baselines: dict[str, list[str]]
    #: every framework's safeguards reached, directly or by crosswalk (see :func:`of_framework`)
    safeguards: list[str]
    rules: list[str]


class ControlMitigation(MappingFields):
    id: str
    title: str
    risks: list[str]
    rules: list[str]


class ResponsibilityRef(TypedDict):
    party: str
    rationale: str
    #: the provider statement a ``provider`` entry rests on (document and section)
    basis: NotRequired[str]
    #: where the party comes from: the control's own entry, its parent control's, or its family default
    via: str


class BaselineRef(TypedDict):
    id: str
    title: str
    tailoring: NotRequired[list[str]]


class ControlResult(TypedDict):
    id: str
    kind: Literal["control"]
    title: str
    family: str
    parent: str | None
    withdrawn: bool
    enhancements: list[str]
    responsibility: ResponsibilityRef | None
    mitigations: list[ControlMitigation]
    risks: list[str]
    rules: list[str]
    safeguards: list[str]
    baselines: list[BaselineRef]
    #: the top-level parts of the control's statement (official part ids; ``<id>_smt`` when it has no items)
    statement_parts: list[str]
    #: the statement parts that some subset-of/equal mitigation link names (covered once its evidence holds)
    parts_named: list[str]


class MitigationResult(TypedDict):
    id: str
    kind: Literal["mitigation"]
    title: str
    phase: str
    risks: list[LinkedNode]
    #: control links, each with its relationship, confidence and the statement parts it covers
    controls: list[LinkedNode]
    safeguards: list[LinkedNode]
    rules: list[str]


class BaselineControl(TypedDict):
    id: str
    title: str
    mitigations: list[str]


class BaselineResult(TypedDict):
    id: str
    kind: Literal["baseline"]
    title: str
    framework: str
    members: int
    reached: list[BaselineControl]
    unreached: list[NodeRef]
    coverage: float


class PathNode(TypedDict):
    id: str
    kind: str
    title: str


# "from" is a keyword: these two use the functional syntax
PathEdge = TypedDict(
    "PathEdge",
    {
        "from": str,
        "to": str,
        "kind": str,
        "relationship": NotRequired[str],
        "rationale": NotRequired[str],
        "source": NotRequired[str],
        "confidence": NotRequired[str],
        "parts": NotRequired[list[str]],
    },
)


class PathRow(TypedDict):
    nodes: list[PathNode]
    edges: list[PathEdge]


PathResult = TypedDict("PathResult", {"from": str, "to": str, "total": int, "shown": int, "paths": list[PathRow]})


def _require(kb: KB, node_id: str, kind: NodeKind | None = None) -> str:
    if node_id not in kb.nodes:
        # ids are case-sensitive in data; accept a case-insensitive match from the command line
        folded = {k.casefold(): k for k in kb.nodes}
        node_id = folded.get(node_id.casefold(), node_id)
    entry = kb.nodes.get(node_id)
    if entry is None or (kind is not None and entry.kind is not kind):
        what = kind.value if kind else "node"
        raise NotFoundError(f"no {what} with id {node_id!r} in the KB")
    return node_id


def _by_kind(g: nx.DiGraph, nodes: list[str], kind: EdgeKind, *, incoming: bool) -> list[str]:
    out: set[str] = set()
    for n in nodes:
        edges = g.in_edges(n, data="kind") if incoming else g.out_edges(n, data="kind")
        for u, v, k in edges:
            if k == kind.value:
                out.add(u if incoming else v)
    return sorted(out)


def _edge(g: nx.DiGraph, u: str, v: str) -> MappingFields:
    data = g.edges[u, v]
    out = MappingFields()
    if "relationship" in data:
        out["relationship"] = str(data["relationship"])
    if "rationale" in data:
        out["rationale"] = str(data["rationale"])
    if "source" in data:
        out["source"] = str(data["source"])
    if "confidence" in data:
        out["confidence"] = str(data["confidence"])
    if data.get("parts"):
        out["parts"] = [str(p) for p in data["parts"]]
    return out


def _linked(g: nx.DiGraph, u: str, v: str) -> LinkedNode:
    """``v`` as reached from ``u``: id, title and the mapping's fields."""
    return LinkedNode(id=v, title=_title(g, v), **_edge(g, u, v))


def _title(g: nx.DiGraph, n: str) -> str:
    return str(g.nodes[n]["title"])


def _controls_of(g: nx.DiGraph, mitigation: str) -> list[str]:
    return sorted(v for _, v, k in g.out_edges(mitigation, data="kind") if k == "maps-to" and g.nodes[v]["kind"] == "control")


def _safeguards_of(g: nx.DiGraph, mitigation: str) -> list[str]:
    return sorted(v for _, v, k in g.out_edges(mitigation, data="kind") if k == "maps-to" and g.nodes[v]["kind"] == "safeguard")


def risk(kb: KB, risk_id: str) -> RiskResult:
    """A risk, its mitigations and what they reach: controls, baselines, framework safeguards, rules."""
    rid = _require(kb, risk_id, NodeKind.RISK)
    g = kb.graph
    mitigations = _by_kind(g, [rid], EdgeKind.MITIGATED_BY, incoming=False)
    via = _by_kind(g, [rid], EdgeKind.CORRESPONDS_TO, incoming=False) + _by_kind(g, [rid], EdgeKind.CORRESPONDS_TO, incoming=True)
    if not mitigations:  # an OWASP item reaches mitigations through its CSA counterpart
        mitigations = _by_kind(g, via, EdgeKind.MITIGATED_BY, incoming=False)
    mit_rows: list[RiskMitigation] = []
    all_controls: set[str] = set()
    all_safeguards: set[str] = set()
    all_rules: set[str] = set()
    for m in mitigations:
        controls = _controls_of(g, m)
        safeguards = _safeguards_of(g, m)
        rules = _by_kind(g, [m], EdgeKind.EVIDENCES, incoming=True)
        all_controls.update(controls)
        all_safeguards.update(safeguards)
        all_rules.update(rules)
        mit_rows.append(
            RiskMitigation(
                id=m,
                title=_title(g, m),
                controls=[_linked(g, m, c) for c in controls],
                safeguards=[_linked(g, m, s) for s in safeguards],
                rules=rules,
            )
        )
    crosswalked = set(_by_kind(g, sorted(all_controls), EdgeKind.CROSSWALK, incoming=True))
    baselines: dict[str, list[str]] = {}
    for c in sorted(all_controls):
        for b in _by_kind(g, [c], EdgeKind.MEMBER_OF, incoming=False):
            baselines.setdefault(b, []).append(c)
    return RiskResult(
        id=rid,
        kind="risk",
        title=_title(g, rid),
        corresponds_to=sorted(set(via)),
        cwes=_by_kind(g, [rid], EdgeKind.INDICATES, incoming=True),
        mitigations=mit_rows,
        controls=sorted(all_controls),
        baselines={b: baselines[b] for b in sorted(baselines)},
        safeguards=sorted(all_safeguards | crosswalked),
        rules=sorted(all_rules),
    )


def control(kb: KB, control_id: str) -> ControlResult:
    """Everything that reaches a control, and the baselines it belongs to."""
    cid = _require(kb, control_id, NodeKind.CONTROL)
    g = kb.graph
    rec = kb.record(cid)
    assert isinstance(rec, Control)
    mitigations = sorted(u for u, _, k in g.in_edges(cid, data="kind") if k == "maps-to")
    mit_rows = [
        ControlMitigation(
            id=m,
            title=_title(g, m),
            **_edge(g, m, cid),
            risks=_by_kind(g, [m], EdgeKind.MITIGATED_BY, incoming=True),
            rules=_by_kind(g, [m], EdgeKind.EVIDENCES, incoming=True),
        )
        for m in mitigations
    ]
    baselines: list[BaselineRef] = []
    for b in _by_kind(g, [cid], EdgeKind.MEMBER_OF, incoming=False):
        brec = kb.record(b)
        assert isinstance(brec, Baseline)
        row = BaselineRef(id=b, title=brec.title)
        if cid in brec.tailoring:
            row["tailoring"] = brec.tailoring[cid]
        baselines.append(row)
    resp = kb.party(cid)
    responsibility: ResponsibilityRef | None = None
    if resp is not None:
        via = "control" if resp.control == cid else "family" if resp.family is not None else f"parent {resp.control}"
        responsibility = ResponsibilityRef(party=resp.party, rationale=resp.rationale, via=via)
        if resp.basis:
            responsibility["basis"] = resp.basis
    statement = list(kb.statement_parts(cid))
    named = {p for m in mit_rows if m.get("relationship") in ("subset-of", "equal") for p in m.get("parts", [])}
    return ControlResult(
        id=cid,
        kind="control",
        title=rec.title,
        family=rec.family,
        parent=rec.parent,
        withdrawn=rec.withdrawn,
        enhancements=_by_kind(g, [cid], EdgeKind.ENHANCEMENT_OF, incoming=True),
        responsibility=responsibility,
        mitigations=mit_rows,
        risks=sorted({r for mrow in mit_rows for r in mrow["risks"]}),
        rules=sorted({r for mrow in mit_rows for r in mrow["rules"]}),
        safeguards=_by_kind(g, [cid], EdgeKind.CROSSWALK, incoming=True),
        baselines=baselines,
        statement_parts=statement,
        parts_named=[p for p in statement if p in named],
    )


def mitigation(kb: KB, mitigation_id: str) -> MitigationResult:
    """A mitigation's links: the risks it treats, the controls (with the statement parts each link covers) and
    framework items it maps to, and the scanner rules that evidence it."""
    mid = _require(kb, mitigation_id, NodeKind.MITIGATION)
    g = kb.graph
    rec = kb.record(mid)
    assert isinstance(rec, Mitigation)
    return MitigationResult(
        id=mid,
        kind="mitigation",
        title=rec.title,
        phase=rec.phase,
        risks=[_linked_in(g, r, mid) for r in _by_kind(g, [mid], EdgeKind.MITIGATED_BY, incoming=True)],
        controls=[_linked(g, mid, c) for c in sorted(_controls_of(g, mid), key=control_sort_key)],
        safeguards=[_linked(g, mid, s) for s in _safeguards_of(g, mid)],
        rules=_by_kind(g, [mid], EdgeKind.EVIDENCES, incoming=True),
    )


def _linked_in(g: nx.DiGraph, u: str, v: str) -> LinkedNode:
    """``u`` as it reaches ``v`` (an incoming link): id, title and the mapping's fields."""
    return LinkedNode(id=u, title=_title(g, u), **_edge(g, u, v))


def baseline(kb: KB, baseline_id: str) -> BaselineResult:
    """Which controls of a baseline serverless mitigations reach, and which nothing reaches."""
    bid = _require(kb, baseline_id, NodeKind.BASELINE)
    g = kb.graph
    rec = kb.record(bid)
    assert isinstance(rec, Baseline)
    reached: list[BaselineControl] = []
    unreached: list[NodeRef] = []
    for c in sorted(rec.members, key=control_sort_key):
        mits = sorted(u for u, _, k in g.in_edges(c, data="kind") if k == "maps-to") if c in g else []
        title = _title(g, c) if c in g else c
        if mits:
            reached.append(BaselineControl(id=c, title=title, mitigations=mits))
        else:
            unreached.append(NodeRef(id=c, title=title))
    total = len(rec.members)
    return BaselineResult(
        id=bid,
        kind="baseline",
        title=rec.title,
        framework=rec.framework,
        members=total,
        reached=reached,
        unreached=unreached,
        coverage=round(len(reached) / total, 4) if total else 0.0,
    )


def resolve_target(kb: KB, target: str) -> set[str]:
    """A path target: a node id, a framework id (of ``frameworks`` records, or a baseline's ``framework``) or a
    node kind."""
    if target in kb.nodes:
        return {target}
    g = kb.graph
    hits = {n for n, d in g.nodes(data=True) if d.get("framework") == target or d.get("kind") == target}
    if not hits:
        folded = {k.casefold(): k for k in kb.nodes}
        if target.casefold() in folded:
            return {folded[target.casefold()]}
        named = [*kb.frameworks, *sorted({str(d["framework"]) for _, d in g.nodes(data=True) if d.get("kind") == "baseline"})]
        raise NotFoundError(
            f"unknown path target {target!r}: give a node id, a framework ({', '.join(dict.fromkeys(named))}) or a node kind"
        )
    return hits


def path(kb: KB, source: str, target: str, *, limit: int = 200, cutoff: int = 5) -> PathResult:
    """Explanation paths from a node toward a framework or node, shortest first."""
    src = _require(kb, source)
    targets = resolve_target(kb, target)
    eg = explain_graph(kb.graph)
    paths: list[list[str]] = []
    reachable = nx.descendants(eg, src) & targets
    for t in sorted(reachable):
        for p in nx.all_simple_paths(eg, src, t, cutoff=cutoff):
            paths.append(p)
    paths.sort(key=lambda p: (len(p), p))
    total = len(paths)
    rows: list[PathRow] = []
    for p in paths[:limit]:
        steps = [PathNode(id=n, kind=str(eg.nodes[n]["kind"]), title=str(eg.nodes[n]["title"])) for n in p]
        edges = [_path_edge(eg, u, v) for u, v in itertools.pairwise(p)]
        rows.append(PathRow(nodes=steps, edges=edges))
    return {"from": src, "to": target, "total": total, "shown": len(rows), "paths": rows}


def _path_edge(eg: nx.DiGraph, u: str, v: str) -> PathEdge:
    edge: PathEdge = {"from": u, "to": v, "kind": str(eg.edges[u, v]["kind"]), **_edge(eg, u, v)}
    return edge


def of_framework(kb: KB, safeguard_ids: list[str], framework_id: str) -> list[str]:
    """The ids among ``safeguard_ids`` that belong to one framework (order kept): a result's ``safeguards``
    hold every framework's, and text shows them per framework."""
    out = []
    for sid in safeguard_ids:
        fw = kb.framework_of(sid)
        if fw is not None and fw.id == framework_id:
            out.append(sid)
    return out


def control_sort_key(cid: str) -> tuple[str, int, int]:
    """AC-2 < AC-2(1) < AC-10: family, number, enhancement."""
    fam, _, rest = cid.partition("-")
    num, _, enh = rest.partition("(")
    try:
        return (fam, int(num), int(enh.rstrip(")")) if enh else 0)
    except ValueError:
        return (cid, 0, 0)
