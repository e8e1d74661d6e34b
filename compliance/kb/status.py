"""The status rules: how findings combine into a rule outcome, a mitigation status and a control status.

The rules are generic (no framework, control or tool is named here) and small enough to state in full.
They are the single place where a status is decided; the README section "Assessment and OSCAL" repeats
them for readers, and ``tests/test_assess_rules.py`` checks each one.

1. **Finding outcome.** A finding counts only when its latest observation is *fresh*: its ``last_seen``
   scan time lies within the window ``[now - max_age, now]``. Older evidence is reported as *stale* and
   counts for nothing; evidence dated after ``now`` is ignored as *future*. A fresh finding is

   - ``fail`` when its result is ``fail`` and it is still open;
   - ``pass`` when its result is ``pass``;
   - ``error`` when the check could not run (result ``error``);
   - ``closed`` when it failed before but the latest scan no longer reports it (it neither passes
     nor fails anything);
   - ``info`` otherwise (informational, counts for nothing).

   Manual attestations and design evidence are findings too (method EXAMINE or INTERVIEW); they count
   exactly like scanner results.

2. **Rule outcome** (one tool rule, e.g. ``checkov:CKV_AWS_1``, for one mitigation): ``fail`` if any fresh
   finding fails; else ``pass`` if any passes; else ``error`` if any errored; else ``none``.

3. **Mitigation status** from its rules: ``not-satisfied`` if any rule fails (one open failure is enough:
   a mitigation is only as good as its weakest checked subject); else ``satisfied`` if any rule passes;
   else ``not-assessed`` (no fresh pass or fail evidence: none at all, only stale, or only errors).

4. **Control status** combines its *children*: every mitigation that maps to it (``maps-to``) plus any
   attestation that names the control directly, each with the status of rule 3. With
   :func:`combine`:

   - no children, or all ``not-assessed`` -> ``not-assessed``;
   - any ``not-satisfied`` -> ``not-satisfied``;
   - else any ``partially-satisfied`` -> ``partially-satisfied``;
   - all ``satisfied`` -> ``satisfied``;
   - some ``satisfied`` and some ``not-assessed`` -> ``partially-satisfied`` (evidence covers part of
     the control).

   An attestation that names the control itself speaks for the whole control: when there is one, the
   control's not-assessed mitigations are left out of the combination (they cannot make it partial),
   while failing mitigations still count.

   A control whose shared-responsibility party (``kb.party``) is ``provider`` is ``inherited`` whatever
   the evidence says: the FaaS provider implements it (its evidence is still listed in the path).

5. **HIPAA safeguard status** (the ``hipaa`` scope's view) combines, with the same :func:`combine`, the
   mitigations that map to the safeguard, the controls it crosswalks to and, for a standard, its
   implementation specifications. ``inherited`` children count as ``satisfied``; a safeguard whose
   children are all ``inherited`` is ``inherited``.

6. **Unmapped failures** (open, fresh, failing findings that reach no mitigation and no control) change no
   status. ``--unmapped-failures`` says how they count: ``ignore`` (not reported), ``warn`` (the
   default: listed in the summary) or ``fail`` (listed, and the CI gate fails when there is any).
"""

from __future__ import annotations

from collections.abc import Iterable

SATISFIED = "satisfied"
NOT_SATISFIED = "not-satisfied"
PARTIAL = "partially-satisfied"
NOT_ASSESSED = "not-assessed"
INHERITED = "inherited"

#: Every status, from best to worst for display.
STATUSES = (SATISFIED, INHERITED, PARTIAL, NOT_SATISFIED, NOT_ASSESSED)

#: How an unmapped failure counts (rule 6).
UNMAPPED_MODES = ("ignore", "warn", "fail")

#: Finding outcomes (rule 1) and rule outcomes (rule 2).
OUTCOMES = ("fail", "pass", "error", "closed", "info")


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
    """Rule 2: the outcome of one rule from its fresh finding counts."""
    if fail:
        return "fail"
    if passed:
        return "pass"
    if error:
        return "error"
    return "none"


def mitigation_status(outcomes: Iterable[str]) -> str:
    """Rule 3: a mitigation's status from its rule outcomes."""
    seen = set(outcomes)
    if "fail" in seen:
        return NOT_SATISFIED
    if "pass" in seen:
        return SATISFIED
    return NOT_ASSESSED


def combine(children: Iterable[str]) -> str:
    """Rules 4 and 5: combine child statuses into one (``inherited`` counts as satisfied)."""
    seen = set(children)
    if not seen:
        return NOT_ASSESSED
    if seen == {INHERITED}:
        return INHERITED
    if INHERITED in seen:
        seen = (seen - {INHERITED}) | {SATISFIED}
    if NOT_SATISFIED in seen:
        return NOT_SATISFIED
    if PARTIAL in seen:
        return PARTIAL
    if seen == {SATISFIED}:
        return SATISFIED
    if SATISFIED in seen:
        return PARTIAL
    return NOT_ASSESSED


def control_children(mitigations: list[str], attestations: list[str]) -> list[str]:
    """Rule 4: the children of a control: its mitigations' statuses and its direct attestations'.
    With a direct attestation, not-assessed mitigations are dropped (the attestation covers the control)."""
    if attestations:
        return [s for s in mitigations if s != NOT_ASSESSED] + attestations
    return list(mitigations)


def control_status(children: Iterable[str], party: str | None) -> str:
    """Rule 4: a control's status from its children and its shared-responsibility party."""
    if party == "provider":
        return INHERITED
    return combine(children)


def satisfied_percent(counts: dict[str, int]) -> float:
    """The share used by ``--min-satisfied``: satisfied controls among those with a determination
    (satisfied, partially-satisfied or not-satisfied), in percent. Inherited and not-assessed controls
    are left out of both sides; with no determination at all the share is 0."""
    determined = counts.get(SATISFIED, 0) + counts.get(PARTIAL, 0) + counts.get(NOT_SATISFIED, 0)
    if not determined:
        return 0.0
    return round(100.0 * counts.get(SATISFIED, 0) / determined, 2)
