"""Manual attestations: evidence no scanner produces (training records, a signed policy, an interview).

A small YAML format of ours, parsed with the KB's safe YAML reader (alias bombs and custom tags refused)::

    sckb-attestation: 1
    attestations:
      - id: workforce-training-2026          # optional; defaults to the position in the list
        mitigation: least-privilege-execution-role   # and/or control: AT-2 (each may also be a list)
        statement: All engineers with production access completed HIPAA security training.
        who: Dana Reyes, Security Officer
        when: 2026-11-02                    # the date the statement was made (ISO date or time)
        method: EXAMINE                     # EXAMINE (documents) or INTERVIEW (people); default EXAMINE
        result: pass                        # pass (default) or fail
        attachments: [attachments/roster-2026.pdf]   # relative to this file, inside the evidence folder

An id the KB does not hold, and a ``when`` later than the ingest's clock (``--now``), are errors.

Attachments are copied into the locker and their SHA-256 recorded; a path that leaves the evidence
folder (``../../etc/passwd``) or does not exist is an error. Keep them in a folder named ``attachments``:
folder walks skip it, so the attachments are not mistaken for scanner output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, iso_time, make, pointer, text

_MARK = re.compile(rb"^sckb-attestation\s*:", re.M)
_FIELDS = {
    "id",
    "mitigation",
    "mitigations",
    "control",
    "controls",
    "statement",
    "who",
    "when",
    "method",
    "result",
    "attachments",
}
MAX_BYTES = 4 * 1024 * 1024


class Attestation:
    name = "attestation-yaml"
    in_process = True  # its parse copies attachments into the locker: never in the parsing helper process
    title = "sckb manual attestation YAML (control or mitigation, statement, who, when, attachments)"
    tool = "sckb-attestation"
    priority = 5

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return sniff.kind in ("yaml", "text") and _MARK.search(head) is not None

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        from compliance.kb.yamlio import parse_yaml

        if ctx.size > MAX_BYTES:
            raise ctx.error(f"attestation file larger than {MAX_BYTES} bytes")
        raw = path.read_bytes()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ctx.error(f"invalid UTF-8 at byte {exc.start}", line=raw[: exc.start].count(b"\n") + 1) from None
        doc = parse_yaml(body, Path(ctx.display))
        data = doc.data
        if not isinstance(data, dict) or data.get("sckb-attestation") != 1:
            raise ctx.error("an attestation file starts with 'sckb-attestation: 1'", line=1)
        items = data.get("attestations")
        if not isinstance(items, list) or not items:
            raise ctx.error("'attestations' must be a non-empty list", line=doc.line_of(("attestations",)) or 1)
        for i, a in enumerate(items):
            loc: tuple[str | int, ...] = ("attestations", i)

            def bad(msg: str, *key: str | int, _loc: tuple[str | int, ...] = loc) -> Exception:
                return ctx.error(msg, line=doc.line_of(_loc + key), pointer=pointer(*_loc, *key))

            if not isinstance(a, dict):
                raise bad("each attestation must be a mapping")
            unknown = sorted(set(map(str, a)) - _FIELDS)
            if unknown:
                raise bad(f"unknown field(s): {', '.join(unknown)}", unknown[0])
            targets = tuple(sorted(set(_ids(a, "mitigation", bad) + _ids(a, "control", bad))))
            if not targets:
                raise bad("name the mitigation or control this attestation speaks for (mitigation: or control:)")
            if ctx.known is not None:
                for key in ("mitigation", "mitigations", "control", "controls"):
                    v = a.get(key)
                    for t in v if isinstance(v, list) else [v] if v is not None else []:
                        if not ctx.known(t.strip()):
                            raise bad(f"{key} {t.strip()!r} is not in the knowledge base (see 'sckb query')", key)
            statement = text(a.get("statement"))
            who = text(a.get("who"))
            if not statement:
                raise bad("'statement' is required", "statement")
            if not who:
                raise bad("'who' is required (the person making the statement)", "who")
            when = iso_time(str(a.get("when") or ""))
            if when is None:
                raise bad("'when' must be an ISO date or time", "when")
            if ctx.now is not None and when > ctx.now:
                raise bad(f"'when' ({when}) is later than the ingest's clock ({ctx.now}; set with --now)", "when")
            method = str(a.get("method") or "EXAMINE").upper()
            if method not in ("EXAMINE", "INTERVIEW"):
                raise bad("'method' must be EXAMINE or INTERVIEW", "method")
            result = str(a.get("result") or "pass").lower()
            if result not in ("pass", "fail"):
                raise bad("'result' must be pass or fail", "result")
            files = a.get("attachments") or []
            if not isinstance(files, list) or not all(isinstance(x, str) for x in files):
                raise bad("'attachments' must be a list of relative paths", "attachments")
            shas = [f"{rel} (sha256:{ctx.attach(rel, pointer(*loc, 'attachments', j))[:16]})" for j, rel in enumerate(files)]
            rid = text(a.get("id")) or f"attestation-{i + 1}"
            yield make(
                "sckb-attestation",
                rid,
                result,
                pointer(*loc),
                time=when,
                title=statement[:120],
                message=f"{statement} (attested by {who}" + (f"; attachments: {', '.join(shas)}" if shas else "") + ")",
                method=method,
                targets=targets,
            )


def _ids(a: dict[str, Any], key: str, bad: Any) -> list[str]:
    out: list[str] = []
    for k in (key, key + "s"):
        v = a.get(k)
        if v is None:
            continue
        values = v if isinstance(v, list) else [v]
        if not all(isinstance(x, str) and x.strip() for x in values):
            raise bad(f"'{k}' must be an id or a list of ids", k)
        out.extend(x.strip() for x in values)
    return out


FORMAT = Attestation()
