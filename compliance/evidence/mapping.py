"""Link findings to KB mitigations (and through them to controls).

Order (TOOLS.md): the exact rule (KB id ``tool:rule_id`` or one of the rule's aliases) → the tool-wide
fallback rule ``tool:*`` → the CWE fallback (cwe ``indicates`` risk ``mitigated-by`` mitigation) →
unmapped. A rule that the KB knows but maps to nothing (``not_applicable``) stops the search: the
curators decided it evidences no mitigation.

Rule ids are tried as reported and then with leading dotted components removed, because some tools
prefix ids with the folder the rules were loaded from (semgrep: ``semgrep-rules.python.lang...``).
Characters outside the KB id alphabet are replaced with ``-`` (GuardDuty types such as
``Backdoor:EC2/C&CActivity.B``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compliance.kb.load import KB

_BAD = re.compile(r"[^A-Za-z0-9_.:()\-/*]")


@dataclass(frozen=True, slots=True)
class Mapping:
    mitigations: tuple[str, ...]
    controls: tuple[str, ...]
    mapped_by: str  # rule | tool | cwe | attestation | none
    rule: str | None = None  # the KB rule node that matched
    #: the store's text forms (" id1 id2 ", or "" when empty) and whether anything is reached, computed once
    mitigations_text: str = field(init=False)
    controls_text: str = field(init=False)
    reaches: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mitigations_text", f" {' '.join(self.mitigations)} " if self.mitigations else "")
        object.__setattr__(self, "controls_text", f" {' '.join(self.controls)} " if self.controls else "")
        object.__setattr__(self, "reaches", int(bool(self.mitigations or self.controls)))


UNMAPPED = Mapping((), (), "none")


def normalise_rule_id(rule_id: str) -> str:
    return _BAD.sub("-", rule_id.strip())


class Mapper:
    """KB lookups for evidence, built once per ingest; results are cached per (tool, rule, cwes)."""

    def __init__(self, kb: KB | None) -> None:
        self.rules: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
        self.rules_folded: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
        self.cwe_mitigations: dict[str, tuple[str, ...]] = {}
        self.mitigation_controls: dict[str, tuple[str, ...]] = {}
        self.control_ids: set[str] = set()
        self.mitigation_ids: set[str] = set()
        self._cache: dict[tuple[str, str, tuple[str, ...]], Mapping] = {}
        if kb is not None:
            self._build(kb)

    def _build(self, kb: KB) -> None:
        from compliance.kb.model import EdgeKind, NodeKind, Rule

        rule_mits: dict[str, list[str]] = {}
        risk_mits: dict[str, list[str]] = {}
        cwe_risks: dict[str, list[str]] = {}
        for e in sorted(kb.edges.values(), key=lambda e: e.key):
            if e.source not in kb.nodes or e.target not in kb.nodes:
                continue
            if e.kind is EdgeKind.EVIDENCES:
                rule_mits.setdefault(e.source, []).append(e.target)
            elif e.kind is EdgeKind.MITIGATED_BY:
                risk_mits.setdefault(e.source, []).append(e.target)
            elif e.kind is EdgeKind.INDICATES:
                cwe_risks.setdefault(e.source, []).append(e.target)
            elif e.kind is EdgeKind.MAPS_TO and kb.nodes[e.target].kind is NodeKind.CONTROL:
                self.mitigation_controls[e.source] = (*self.mitigation_controls.get(e.source, ()), e.target)
        for node_id, entry in kb.nodes.items():
            if entry.kind is NodeKind.MITIGATION:
                self.mitigation_ids.add(node_id)
            elif entry.kind is NodeKind.CONTROL:
                self.control_ids.add(node_id)
            elif entry.kind is NodeKind.RULE and isinstance(entry.record, Rule):
                rec = entry.record
                mits = tuple(sorted(set(rule_mits.get(node_id, []))))
                for rid in (rec.rule_id, *rec.aliases):
                    key = (rec.tool, normalise_rule_id(rid))
                    self.rules.setdefault(key, (node_id, mits))
                    self.rules_folded.setdefault((rec.tool, key[1].casefold()), (node_id, mits))
        for cwe, risks in cwe_risks.items():
            self.cwe_mitigations[cwe] = tuple(sorted({m for r in risks for m in risk_mits.get(r, [])}))

    def controls_of(self, mitigations: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({c for m in mitigations for c in self.mitigation_controls.get(m, ())}))

    def _rule(self, tool: str, rule_id: str) -> tuple[str, tuple[str, ...]] | None:
        rid = normalise_rule_id(rule_id)
        candidates = [rid]
        parts = rid.split(".")
        candidates.extend(".".join(parts[i:]) for i in range(1, len(parts) - 1))
        for c in candidates:
            hit = self.rules.get((tool, c)) or self.rules_folded.get((tool, c.casefold()))
            if hit is not None:
                return hit
        return None

    def rule_node(self, tool: str, rule_id: str) -> str | None:
        """The KB rule node a tool's rule id resolves to (aliases and folder prefixes included), if any."""
        hit = self._rule(tool, rule_id)
        return hit[0] if hit is not None else None

    def map(self, tool: str, rule_id: str, cwes: tuple[str, ...]) -> Mapping:
        key = (tool, rule_id, cwes)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        result = self._map(tool, rule_id, cwes)
        if len(self._cache) < 200_000:
            self._cache[key] = result
        return result

    def _map(self, tool: str, rule_id: str, cwes: tuple[str, ...]) -> Mapping:
        exact = self._rule(tool, rule_id)
        if exact is not None:
            node, mits = exact
            return Mapping(mits, self.controls_of(mits), "rule", node)
        fallback = self.rules.get((tool, "*"))
        if fallback is not None and fallback[1]:
            node, mits = fallback
            return Mapping(mits, self.controls_of(mits), "tool", node)
        mits_set = {m for c in cwes for m in self.cwe_mitigations.get(c, ())}
        if mits_set:
            mits = tuple(sorted(mits_set))
            return Mapping(mits, self.controls_of(mits), "cwe")
        return UNMAPPED

    def attestation(self, targets: tuple[str, ...]) -> Mapping:
        """An attestation speaks for the mitigations and controls it names (controls of named mitigations too)."""
        mits = tuple(sorted(t for t in targets if t in self.mitigation_ids))
        controls = sorted({t for t in targets if t in self.control_ids} | set(self.controls_of(mits)))
        return Mapping(mits, tuple(controls), "attestation")
