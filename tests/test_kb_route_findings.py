"""Route findings reach the controls they prove (issue 21): an unauthenticated (admin) route speaks to AC-3 and
AC-6(10), an unverified token to SC-23 and IA-8. A status engine decides only along determinative paths
(rule -(subset-of|equal)-> mitigation -(subset-of|equal)-> control), so where that is defensible the links are
subset-of; where it is not, the rationale says why."""

from __future__ import annotations

import pytest

from compliance import kb as kbmod
from compliance.kb.core import KB

DETERMINATIVE = ("subset-of", "equal")


@pytest.fixture(scope="module")
def kb() -> KB:
    return kbmod.load()


def _determinative_controls(kb: KB, rule: str) -> set[str]:
    out: set[str] = set()
    for (src, mit, kind), e in kb.edges.items():
        if src != rule or kind != "evidences" or e.relationship not in DETERMINATIVE:
            continue
        for (m, ctl, kind2), link in kb.edges.items():
            if m == mit and kind2 == "maps-to" and link.relationship in DETERMINATIVE:
                out.add(ctl)
    return out


@pytest.mark.parametrize(
    ("rule", "control"),
    [
        ("sckb-design:api-authentication", "AC-3"),  # the design check's route without an authorizer
        ("prowler:apigateway_restapi_authorizers_enabled", "AC-3"),
        ("sckb-design:function-url-authentication", "AC-3"),  # a function URL with AuthType NONE
        ("semgrep:python.jwt.security.unverified-jwt-decode.unverified-jwt-decode", "SC-23"),  # JWT not verified
    ],
)
def test_finding_reaches_its_control_by_a_determinative_path(kb: KB, rule: str, control: str) -> None:
    assert control in _determinative_controls(kb, rule)


@pytest.mark.parametrize(
    ("mitigation", "control"),
    [("api-authentication", "AC-6(10)"), ("token-validation", "IA-8")],
)
def test_the_overlapping_control_is_linked_and_the_rationale_says_why_not_subset(kb: KB, mitigation: str, control: str) -> None:
    link = kb.edges[(mitigation, control, "maps-to")]
    assert link.relationship == "intersects-with" and link.confidence
    assert "Not subset-of" in (link.rationale or "")
    assert f"({control.lower().replace('(', '.').replace(')', '')}_smt" in (link.ref or "")


@pytest.mark.parametrize(("mitigation", "control"), [("api-authentication", "AC-3"), ("token-validation", "SC-23")])
def test_determinative_links_say_why_they_are_subset(kb: KB, mitigation: str, control: str) -> None:
    link = kb.edges[(mitigation, control, "maps-to")]
    assert link.relationship == "subset-of" and (link.rationale or "").startswith("Subset-of because")
