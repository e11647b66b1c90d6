"""CSV: one row per finding, for spreadsheets.

Spreadsheet-safe: a cell that a spreadsheet would read as a formula (starting with = + - @, tab
or carriage return) gets a leading apostrophe, so a hostile resource name or tag value cannot
run as a formula (CSV injection). UTF-8 with a byte-order mark, which Excel needs to read UTF-8.
"""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

from vdcaudit.io.jsonout import dumps
from vdcaudit.model import Finding
from vdcaudit.reports.evidence import CONTROL, visible
from vdcaudit.scan import ScanResult

COLUMNS = [
    "fingerprint", "status", "waived", "severity", "category", "rule_id", "title", "resource_name",
    "resource_type", "resource_id", "subscription", "resource_group", "source", "message", "evidence",
    "waiver_owner", "waiver_justification", "waiver_expires", "file", "line",
]
_FORMULA_START = frozenset(("=", "+", "-", "@", "\t", "\r"))


def spreadsheet_safe(value: str) -> str:
    return "'" + value if value[:1] in _FORMULA_START else value


def _row(finding: Finding) -> list[str]:
    waiver = finding.waiver
    location = finding.location or {}
    values = [
        finding.fingerprint, finding.status.value, "yes" if waiver else "no", finding.severity.value,
        finding.category.value, finding.rule_id, finding.title, finding.resource_name,
        finding.resource_type, finding.resource_id, finding.subscription or "", finding.resource_group or "",
        finding.source, finding.message,
        dumps(finding.evidence).decode("utf-8") if finding.evidence else "",
        waiver.owner if waiver else "", waiver.justification if waiver else "",
        (waiver.expires or "") if waiver else "",
        str(location.get("file") or ""), str(location.get("line") or ""),
    ]
    if CONTROL.search("".join(values)):  # rare: one search per row instead of one per cell
        values = [visible(v) for v in values]
    return [spreadsheet_safe(v) for v in values]


def write_csv(result: ScanResult, stream: BinaryIO) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    writer.writerows(_row(f) for f in result.findings)
    text.flush()
    text.detach()  # the caller owns (and closes) the binary stream
