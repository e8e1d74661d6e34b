"""JUnit XML (checkov, cfn-lint, cfn-guard and any test runner), parsed with defusedxml (no DTDs, no entities).

Every ``<failure>`` element is a failed finding (cfn-lint puts one per match under one testcase per rule),
every ``<error>`` an error, a testcase with ``<skipped>`` is info, and a testcase with none of these is a
pass. The tool and the rule id come from the document's conventions (first match wins):

- checkov: testcase ``name="[SEVERITY][CHECK_ID] title"``;
- cfn-lint: testsuite ``name="CloudFormation Lint"``, testcase ``name="W2531 title"``;
- cfn-guard: testsuites ``name="cfn-guard validate report"``, testcase = rule file, failure message = rule;
- otherwise tool ``junit`` and rule ``classname.name``.

Elements are cleared as soon as they are read, so large reports stream.

Completeness: a ``<testsuite>`` or ``<testsuites>`` element that states ``tests=`` must hold that many
testcases, and one that states ``failures=`` that many testcases with a ``<failure>`` (the count the
junit-xml writer that checkov and cfn-lint use puts there); otherwise the file was cut short or edited, and
it is refused, so that a partial report never closes findings. A file is ``verified`` when every testcase
was inside an element that states its total (or the root states one); a runner that writes no ``tests=``
gives a ``whole-document`` file (well-formed XML, but nothing to count against).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from compliance.evidence.model import Finding
from compliance.evidence.parsing import (
    ParseContext,
    Sniff,
    function_of,
    iso_time,
    make,
    provider_from_rule,
    relpath,
    severity,
    text,
)

_CHECKOV = re.compile(r"^\[(\w+)\]\[([A-Za-z0-9_]+)\]\s*(.*)$", re.S)
_LEADING_ID = re.compile(r"^([A-Z]\d{4})\s+(.*)$", re.S)
_AT = re.compile(r" at (.+?):(\d+):\d+$")
_RES = re.compile(r"^Resource:[ \t]*(.+?)[ \t]*$", re.M)
_FILE = re.compile(r"File:\s*(\S+?):?\s+(\d+)")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class JUnitXml:
    name = "junit-xml"
    title = "JUnit XML (checkov, cfn-lint, cfn-guard, any test runner)"
    tool = "junit"
    priority = 50
    completeness = "verified"

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return sniff.kind == "xml" and sniff.root_tag in ("testsuites", "testsuite")

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import ParseError, iterparse

        root_name = ""
        suite_name = ""
        suite_time: str | None = None
        counters: list[dict[str, int]] = [{}]
        path_stack: list[str] = []
        #: per open testsuite(s) element: [testcases, testcases with a failure]
        seen: list[list[int]] = []
        #: per open testsuite(s) element: whether it states a whole-number ``tests=`` (so counts what it holds)
        stating: list[bool] = []
        cases = counted = 0  # testcases, and those inside an element that states its total
        try:
            for event, el in iterparse(str(path), events=("start", "end"), forbid_dtd=True):
                tag = _local(el.tag)
                if event == "start":
                    n = counters[-1].get(tag, 0) + 1
                    counters[-1][tag] = n
                    counters.append({})
                    path_stack.append(f"{tag}[{n}]")
                    if tag == "testsuites" and len(path_stack) == 1:
                        root_name = el.get("name") or ""
                    elif tag == "testsuite":
                        suite_name = el.get("name") or ""
                        suite_time = iso_time(el.get("timestamp"))
                        ctx.scan_time = ctx.scan_time or suite_time
                    if tag in ("testsuite", "testsuites"):
                        seen.append([0, 0])
                        stating.append((el.get("tests") or "").strip().isdigit())
                    continue
                if tag == "testcase":
                    failed = any(_local(c.tag) == "failure" for c in el)
                    for counts in seen:
                        counts[0] += 1
                        counts[1] += failed
                    cases += 1
                    counted += any(stating)
                    yield from self._case(el, "/" + "/".join(path_stack), root_name, suite_name, suite_time)
                    el.clear()
                elif tag in ("testsuite", "testsuites"):
                    _check_totals(el, seen.pop(), "/" + "/".join(path_stack), ctx)
                    if len(stating) == 1:  # the root: verified when every testcase was counted by a stated total
                        ctx.completeness = "verified" if stating[0] or (cases and counted == cases) else "whole-document"
                    stating.pop()
                    el.clear()
                counters.pop()
                path_stack.pop()
        except DefusedXmlException as exc:
            raise ctx.error(f"refused unsafe XML ({type(exc).__name__}: entities or DTDs are not allowed)") from None
        except ParseError as exc:
            line = exc.position[0] if getattr(exc, "position", None) else None
            raise ctx.error(f"invalid XML: {exc.msg if hasattr(exc, 'msg') else exc}", line=line) from None

    def _case(self, el: Element, ptr: str, root_name: str, suite_name: str, when: str | None) -> Iterator[Finding]:
        name = el.get("name") or ""
        classname = el.get("classname") or ""
        tool, rule_id, title, sev = "junit", f"{classname}.{name}".strip("."), name, None
        m = _CHECKOV.match(name)
        if m:
            tool, sev, rule_id, title = "checkov", severity(m.group(1)), m.group(2), m.group(3)
        elif suite_name == "CloudFormation Lint" and (m2 := _LEADING_ID.match(name)):
            tool, rule_id, title = "cfn-lint", m2.group(1), m2.group(2)
            sev = {"E": "high", "W": "medium", "I": "info"}.get(rule_id[0])
        elif root_name.startswith("cfn-guard"):
            tool, rule_id, title = "cfn-guard", name, name
        children = [c for c in el if _local(c.tag) in ("failure", "error", "skipped")]
        common: dict[str, Any] = {"time": when, "title": text(title), "severity": sev, "provider": provider_from_rule(rule_id)}
        file_attr = relpath(el.get("file"))
        if tool == "checkov" and classname and file_attr:  # classname: "<file>.<resource>", file: "<file>"
            raw_file = (el.get("file") or "").lstrip("/")
            bare = classname.lstrip("/")
            resource = bare[len(raw_file) :].lstrip(".") if raw_file and bare.startswith(raw_file) else classname
        else:
            resource = None
        if not children:
            yield make(
                tool, rule_id, "pass", ptr, resource=resource, function=function_of(resource), file=_strip(file_attr), **common
            )
            return
        counts: dict[str, int] = {}
        for c in children:
            kind = _local(c.tag)
            counts[kind] = counts.get(kind, 0) + 1
            cptr = f"{ptr}/{kind}[{counts[kind]}]"
            msg = c.get("message") or ""
            body = c.text or ""
            file, line, res = _strip(file_attr), None, resource
            at = _AT.search(msg)
            if at:
                file, line = relpath(at.group(1)), int(at.group(2))
            rm, fm = _RES.search(body), _FILE.search(body)
            if rm and tool == "checkov":
                res = rm.group(1)
            if fm and tool == "checkov":
                file, line = _strip(relpath(fm.group(1))), int(fm.group(2))
            rid = f"{rule_id}/{msg}" if tool == "cfn-guard" and msg else rule_id
            result = {"failure": "fail", "error": "error", "skipped": "info"}[kind]
            yield make(tool, rid, result, cptr, resource=res, function=function_of(res), file=file, line=line,
                       message=text(msg or body[:500]), **common)  # fmt: skip


def _check_totals(el: Element, counts: list[int], ptr: str, ctx: ParseContext) -> None:
    """The totals the element states agree with the testcases it holds (a stated total that is not a whole
    number is not checked: some runners write other things there)."""
    for attr, have in (("tests", counts[0]), ("failures", counts[1])):
        stated = el.get(attr)
        if stated is not None and stated.strip().isdigit() and int(stated) != have:
            raise ctx.error(f"incomplete report: {attr}={stated} stated but {have} found (cut short?)", pointer=ptr)


def _strip(p: str | None) -> str | None:
    return p.lstrip("/") if p else p


FORMAT = JUnitXml()
