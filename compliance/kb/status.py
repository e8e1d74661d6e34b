"""The status rules: how evidence decides a rule outcome, a mitigation status and a control status.

The rules are generic (no framework, control or tool is named here) and small enough to state in full.
They are the single place where a status is decided; the README section "How a status is decided" and the
site's methodology page repeat them for readers, and ``tests/test_assess_rules.py`` and
``tests/test_assess_cases.py`` check each one. They follow how an assessor reads evidence: SP 800-53A's
methods (EXAMINE, INTERVIEW, TEST), OSCAL assessment results (an objective is ``satisfied`` or
``not-satisfied``, each finding naming the observations it rests on) and FedRAMP's "other than satisfied";
and how peer tools decide (a requirement fails when a check mapped to *that* requirement fails).

1. **Finding outcome.** A finding counts only when its latest observation is *fresh*: its scan time lies
   within the window ``[now - max_age, now]``. Older evidence is *stale* and counts for nothing; evidence
   dated after ``now`` is ignored as *future*. Evidence whose file states no scan time (dated only when it was
   ingested, ``scan_time_source`` ``ingest``) is *undated*: it counts for nothing unless the user accepts the
   ingest time (``--accept-ingest-time``), and the report lists it under its limitations. A fresh finding is
   ``fail`` (failed, still open), ``pass``, ``error`` (the check could not run), ``closed`` (failed before, no
   longer reported) or ``info`` (counts for nothing). A failing finding the team triaged as a false positive
   counts as ``closed`` once the false positive is approved (``approved_by``) and until it expires; before
   approval it still fails (``sckb evidence triage``). No other triage decision changes an outcome: an
   accepted or adjusted risk is still a weakness, tracked on the POA&M.

2. **Which evidence decides.** Evidence reaches an item along a path of links. Only a *determinative* path
   decides a status: every NIST IR 8477 relationship along it is ``subset-of`` or ``equal`` (the evidence
   covers a part, or all, of what it points at). A rule linked to a mitigation by ``intersects-with`` or
   ``superset-of``, a CWE fallback (weakness -> risk -> mitigation), a mitigation linked to a control by
   ``intersects-with`` or ``superset-of``, and a framework item's crosswalked controls are *related
   evidence*: shown with the item, able to mark it "needs review", never able to make it satisfied or
   not-satisfied. A tool-wide fallback rule (``tool:*``, e.g. every CVE a dependency scanner reports) counts
   its failures but never a pass: a scanner having run is not a mitigation in place. Attestations and
   assessors' determinations (EXAMINE/INTERVIEW) decide what they name.

3. **Rule outcome** (one tool rule for one mitigation): ``fail`` if any fresh finding fails; else ``pass``
   if any passes; else ``error`` if any errored; else ``none``. A rule is *incomplete* when it has evidence
   but no fresh pass or fail (only stale, undated or errored results).

4. **Mitigation status** from its determinative rules: ``not-satisfied`` if any fails (one open failure is
   enough: a mitigation is only as good as its weakest checked subject); else, when some pass,
   ``satisfied`` if every determinative rule that has evidence passes, ``partially-satisfied`` if some are
   incomplete; else ``not-assessed``. Passes show only the subjects they name, so for a mitigation the design
   check can see (it has design predicates), ``satisfied`` also needs the design check's evidence to pass: it
   walks every element of that kind in the design, the system's inventory. Without it the mitigation is
   ``partially-satisfied``.

5. **Control status** from the evidence that decides it (rule 2): the mitigations linked ``subset-of`` or
   ``equal`` and the attestations naming the control.

   - ``not-satisfied`` when a determinative mitigation is not-satisfied or an attestation fails;
   - ``satisfied`` when every part of the control's statement is covered: a part is covered by a
     satisfied determinative link that names it (an ``equal`` link covers every part) or by a passing
     attestation naming the control (which speaks for the whole control);
   - ``partially-satisfied`` when determinative evidence passes but does not cover every part;
   - ``not-assessed`` when no determinative evidence has a fresh outcome.

   A control that only EXAMINE or INTERVIEW evidence can show (the KB's ``assurance`` section: policies,
   procedures, agreements, oversight) takes its status from attestations and determinations only; its
   scanner evidence is related. A control the KB gives to the ``provider`` (per control, citing the
   provider's statement) is ``inherited``, its evidence still listed.

6. **Framework item status** (e.g. a HIPAA safeguard or a FedRAMP 20x KSI): rule 5 over the mitigations
   mapped to the item directly and the attestations naming it; the item itself is its one statement part.
   A group item (a HIPAA standard) with member items (implementation specifications) also combines its
   members: not-satisfied if one is, satisfied only if all are and its own evidence does not fail, partially
   satisfied when some evidence passes. Its crosswalked SP 800-53 controls are related evidence, and an
   inherited control never counts as satisfied for the item.

7. **Needs review.** Related evidence that fails (or a related link to a not-satisfied item) marks the
   item "needs review" with the reason, whatever its status: the assessor should look, the evidence does not
   decide.

8. **Assessors' determinations** stand above all of this: the latest determination of an item, made no
   later than ``now``, is its status; the derived status stays beside it.

9. **Unmapped failures** (open, fresh, failing findings that reach no mitigation and no control) change no
   status. ``--unmapped-failures`` says how they count: ``ignore``, ``warn`` (the default: listed in the
   summary) or ``fail`` (listed, and the CI gate fails when there is any).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SATISFIED = "satisfied"
NOT_SATISFIED = "not-satisfied"
PARTIAL = "partially-satisfied"
NOT_ASSESSED = "not-assessed"
INHERITED = "inherited"

#: Every status, from best to worst for display.
STATUSES = (SATISFIED, INHERITED, PARTIAL, NOT_SATISFIED, NOT_ASSESSED)

#: What an assessor may determine (rule 8).
DETERMINABLE = (SATISFIED, NOT_SATISFIED, PARTIAL, INHERITED)

#: How an unmapped failure counts (rule 9).
UNMAPPED_MODES = ("ignore", "warn", "fail")

#: Finding outcomes (rule 1) and rule outcomes (rule 3).
OUTCOMES = ("fail", "pass", "error", "closed", "info")

#: NIST IR 8477 relationships that let evidence decide (rule 2).
DETERMINATIVE = frozenset({"subset-of", "equal"})

#: How a finding was mapped at ingest (``mapped_by``) when only a related path can follow from it.
RELATED_MAPPINGS = frozenset({"cwe"})


def rules_markdown() -> str:
    """The rules above as Markdown, for the guidance site's methodology page (generated, so the page cannot
    drift from the code)."""
    doc = __doc__ or ""
    body = doc.split("\n\n", 1)[1] if "\n\n" in doc else doc
    return body.replace("``", "`").strip() + "\n"


def finding_outcome(result: str, status: str) -> str:
    """Rule 1 for a fresh finding."""
    if result == "fail":
        return "fail" if status == "open" else "closed"
    if result == "pass":
        return "pass"
    if result == "error":
        return "error"
    return "info"


def rule_outcome(fail: int, passed: int, error: int) -> str:
    """Rule 3: the outcome of one rule from its fresh finding counts."""
    if fail:
        return "fail"
    if passed:
        return "pass"
    if error:
        return "error"
    return "none"


def is_determinative(relationship: str | None) -> bool:
    """Rule 2 for one link: ``subset-of`` and ``equal`` decide; anything else (or no type) is related."""
    return relationship in DETERMINATIVE


def evidence_decides(mapped_by: str, relationship: str | None) -> bool:
    """Rule 2 for a rule's evidence of a mitigation: attestations decide; rule links and tool-wide fallbacks
    only when determinative (a fallback's passes are then still not counted, see :func:`pass_counts`); CWE
    fallbacks never."""
    if mapped_by == "attestation":
        return True
    if mapped_by in RELATED_MAPPINGS:
        return False
    return is_determinative(relationship)


def pass_counts(mapped_by: str) -> bool:
    """Rule 2: whether a pass of evidence mapped this way can count (never through a tool-wide fallback)."""
    return mapped_by != "tool"


def counted_outcome(outcome: str, mapped_by: str) -> str:
    """The rule outcome as status rule 4 counts it (a tool-wide fallback's pass counts as no outcome)."""
    return "none" if outcome == "pass" and not pass_counts(mapped_by) else outcome


def mitigation_status(outcomes: Iterable[tuple[str, bool]]) -> str:
    """Rule 4: a mitigation's status from its determinative rules' (outcome, incomplete) pairs."""
    seen: set[str] = set()
    incomplete = False
    for outcome, inc in outcomes:
        seen.add(outcome)
        incomplete = incomplete or inc
    if "fail" in seen:
        return NOT_SATISFIED
    if "pass" in seen:
        return PARTIAL if incomplete else SATISFIED
    return NOT_ASSESSED


def covered_by_inventory(status: str, inventory_passes: bool) -> str:
    """Rule 4: a satisfied mitigation the design check can see stays satisfied only when the design evidence over
    the whole inventory passes too."""
    return PARTIAL if status == SATISFIED and not inventory_passes else status


@dataclass(frozen=True, slots=True)
class Decided:
    """A status with the statement parts its evidence covers."""

    status: str
    covered: tuple[str, ...]


def covering_status(
    parts: Sequence[str],
    links: Iterable[tuple[str, str | None, Sequence[str]]],
    direct: Iterable[str],
) -> Decided:
    """Rule 5: from the determinative links' (mitigation status, relationship, parts named) and the direct
    attestations' outcomes, the status and the covered parts."""
    covered: set[str] = set()
    passing = failing = False
    for status, relationship, named in links:
        if status == NOT_SATISFIED:
            failing = True
        elif status == SATISFIED:
            passing = True
            covered.update(parts if relationship == "equal" else named)
        elif status == PARTIAL:
            passing = True
    for outcome in direct:
        if outcome == "fail":
            failing = True
        elif outcome == "pass":
            passing = True
            covered.update(parts)
    kept = tuple(p for p in parts if p in covered)
    if failing:
        return Decided(NOT_SATISFIED, kept)
    if passing:
        return Decided(SATISFIED if parts and len(kept) == len(parts) else PARTIAL, kept)
    return Decided(NOT_ASSESSED, ())


def group_status(own: str, members: Iterable[str]) -> str:
    """Rule 6: a group item's status from its own (rule 5) and its members' statuses."""
    kids = list(members)
    if not kids:
        return own
    if own == NOT_SATISFIED or NOT_SATISFIED in kids:
        return NOT_SATISFIED
    if own in (SATISFIED, NOT_ASSESSED) and all(k == SATISFIED for k in kids):
        return SATISFIED
    if own in (SATISFIED, PARTIAL) or any(k in (SATISFIED, PARTIAL) for k in kids):
        return PARTIAL
    return NOT_ASSESSED


def combine(children: Iterable[str]) -> str:
    """A plain combination of child statuses, for views that have no statement parts (a risk's residual
    status over its mitigations; the design check's control view over its determinative mitigations):
    any not-satisfied -> not-satisfied; all satisfied (inherited counts as satisfied) -> satisfied; some
    satisfied or partially-satisfied -> partially-satisfied; else not-assessed."""
    seen = set(children)
    if not seen:
        return NOT_ASSESSED
    if seen == {INHERITED}:
        return INHERITED
    if INHERITED in seen:
        seen = (seen - {INHERITED}) | {SATISFIED}
    if NOT_SATISFIED in seen:
        return NOT_SATISFIED
    if seen == {SATISFIED}:
        return SATISFIED
    if SATISFIED in seen or PARTIAL in seen:
        return PARTIAL
    return NOT_ASSESSED


def satisfied_percent(counts: dict[str, int]) -> float:
    """The share used by ``--min-satisfied``: satisfied controls among those with a determination
    (satisfied, partially-satisfied or not-satisfied), in percent. Inherited and not-assessed controls
    are left out of both sides; with no determination at all the share is 0."""
    determined = counts.get(SATISFIED, 0) + counts.get(PARTIAL, 0) + counts.get(NOT_SATISFIED, 0)
    if not determined:
        return 0.0
    return round(100.0 * counts.get(SATISFIED, 0) / determined, 2)
