"""vdcaudit-findings.json: the public, versioned machine contract (fields are added, never renamed)."""

from __future__ import annotations

import json
from typing import Any

from vdcaudit.reports.common import rulepack_version
from vdcaudit.scan import ScanResult

SCHEMA_VERSION = "1.0"


def as_document(result: ScanResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": result.tool,
        "scan": {
            "started": result.started.isoformat(),
            "finished": result.finished.isoformat(),
            "sources": result.sources,
            "rulepack": rulepack_version(result.rules),
        },
        "summary": result.summary,
        "coverage": [record.to_dict() for record in result.coverage],
        "sections": result.sections,
        "rules": [rule.metadata() for rule in result.rules],
        "findings": [finding.to_dict() for finding in result.findings],
        # CI gate (present only when waivers / a baseline were given): see vdcaudit.waivers, vdcaudit.baseline
        **({"waivers": result.waivers} if result.waivers is not None else {}),
        **({"baseline": result.baseline} if result.baseline is not None else {}),
    }


def render_json(result: ScanResult) -> bytes:
    return json.dumps(as_document(result), indent=2, ensure_ascii=False, default=str).encode("utf-8")
