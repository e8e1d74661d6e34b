"""Prowler CSV: 3.x, 4.x and 5.x (semicolon-separated, ``CHECK_ID``/``STATUS``) and 2.x (comma-separated,
``TITLE_ID``/``CHECK_RESULT``). Streamed row by row; the pointer is the line number.

A CSV states no totals, so only its structure is checked: every row has as many fields as the header, and a
3.x-5.x file (semicolons) ends with a line end, as Python's csv writer that prowler uses ends every row (a cut
inside the last field leaves the right number of fields but no line end); otherwise it is refused. A 2.x file
(commas, written by shell scripts and often trimmed by hand) need not end with one. A cut exactly at a row
boundary cannot be told from a shorter scan, so a prowler CSV is ``unverified-complete``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.formats.prowler import status
from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, function_of, iso_time, make, provider, severity, text


class ProwlerCsv:
    name = "prowler-csv"
    title = "Prowler CSV (3.x-5.x semicolon, 2.x comma)"
    tool = "prowler"
    priority = 30
    completeness = "unverified-complete"

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        cols = {c.strip().upper() for c in sniff.first_line.replace(";", ",").split(",")}
        return sniff.kind == "csv" and ({"CHECK_ID", "STATUS"} <= cols or {"TITLE_ID", "CHECK_RESULT"} <= cols)

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        delim = ";" if ";" in ctx.sniff.first_line else ","
        with path.open("rb") as raw:
            stream = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
            reader = csv.reader(stream, delimiter=delim)
            try:
                header = [h.strip().upper() for h in next(reader)]
                for row in reader:
                    line = reader.line_num
                    if not any(c.strip() for c in row):
                        continue
                    if len(row) != len(header):
                        raise ctx.error(
                            f"incomplete row: {len(row)} fields where the header has {len(header)} (cut short?)", line=line
                        )
                    r = dict(zip(header, row, strict=False))
                    resource = text(
                        r.get("RESOURCE_UID") or r.get("RESOURCE_ARN") or r.get("RESOURCE_ID") or r.get("CHECK_RESOURCE_ID")
                    )
                    yield make(
                        "prowler",
                        text(r.get("CHECK_ID") or r.get("TITLE_ID")) or "unknown",
                        status(r.get("STATUS") or r.get("CHECK_RESULT")),
                        f"line {line}",
                        version=_version(r.get("PROWLER_VERSION")),
                        time=iso_time(r.get("TIMESTAMP") or r.get("ASSESSMENT_START_TIME") or r.get("PROWLER_START_TIME")),
                        title=text(r.get("CHECK_TITLE") or r.get("TITLE_TEXT")),
                        severity=severity(r.get("SEVERITY") or r.get("CHECK_SEVERITY")),
                        resource=resource,
                        function=function_of(resource),
                        provider=provider(r.get("PROVIDER")) or "aws",
                        account=text(_first(r, _ACCOUNT)),
                        region=text(r.get("REGION") or r.get("LOCATION")),
                        message=text(r.get("STATUS_EXTENDED") or r.get("CHECK_RESULT_EXTENDED")),
                    )
            except UnicodeDecodeError as exc:
                raise ctx.error(f"invalid UTF-8 ({exc.reason})", line=reader.line_num + 1) from None
            except csv.Error as exc:
                raise ctx.error(f"invalid CSV: {exc}", line=reader.line_num) from None
            except StopIteration:
                return
        if delim == ";" and not ctx.tail(1).endswith(b"\n"):
            raise ctx.error(
                "incomplete file: the last row has no line end, which prowler 3.x-5.x always writes (cut short?)",
                line=reader.line_num,
            )


#: the account column of each version: 4.x/5.x, 3.x AWS, 3.x Azure, 3.x GCP, 2.x
_ACCOUNT = ("ACCOUNT_UID", "ACCOUNT_ID", "SUBSCRIPTION", "PROJECT_ID", "ACCOUNT_NUM")


def _first(row: dict[str, str], columns: tuple[str, ...]) -> str | None:
    return next((row[c] for c in columns if row.get(c)), None)


def _version(v: str | None) -> str | None:
    s = text(v)
    return None if s is None or s.startswith("<") else s


FORMAT = ProwlerCsv()
