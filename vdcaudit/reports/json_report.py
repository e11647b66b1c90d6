"""vdcaudit-findings.json: the public, versioned machine contract (see schemas/findings.schema.json).

Written finding by finding: the small parts (scan, summary, rules, ...) first, indented, then one
finding per line, so a 100,000-resource report is never held whole in memory and a reader can
stream it. Rule metadata (title, severity, category, remediation) is listed once under `rules`;
each finding names its rule by `rule_id`.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from vdcaudit.jsonout import dumps, dumps_pretty
from vdcaudit.reports.common import rulepack_version
from vdcaudit.scan import ScanResult

SCHEMA_VERSION = "2.0"
_BATCH = 2000  # findings encoded per write


def head(result: ScanResult) -> dict[str, Any]:
    """Everything but the findings."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": result.tool,
        "scan": {
            "started": result.started.isoformat(),
            "finished": result.finished.isoformat(),
            "sources": result.sources,
            "rulepack": rulepack_version(result.rules),
            "scopes": result.scopes,
        },
        "summary": result.summary,
        "coverage": [record.to_dict() for record in result.coverage],
        "sections": result.sections,
        "rules": [rule.metadata() for rule in result.rules],
        # CI gate (present only when waivers / a baseline were given): see vdcaudit.waivers, vdcaudit.baseline
        **({"waivers": result.waivers} if result.waivers is not None else {}),
        **({"baseline": result.baseline} if result.baseline is not None else {}),
        **({"merge": result.merge} if result.merge is not None else {}),
    }


def write_json(result: ScanResult, stream: BinaryIO) -> None:
    top = dumps_pretty(head(result))
    stream.write(top[:-1].rstrip())  # the object without its closing brace
    stream.write(b',\n  "findings": [')
    findings = result.findings
    for start in range(0, len(findings), _BATCH):
        lines = [dumps(f.to_record()) for f in findings[start:start + _BATCH]]
        stream.write((b"," if start else b"") + b"\n    " + b",\n    ".join(lines))
    stream.write(b"\n  ]\n}\n" if findings else b"]\n}\n")
