"""Counts of findings, computed once and shared by every output format."""

from __future__ import annotations

from collections import Counter
from typing import Any

from vdcaudit.model import CATEGORY_ORDER, SEVERITY_ORDER, Finding, Status


def summarize(findings: list[Finding], not_assessed: dict[str, int], resources: int) -> dict[str, Any]:
    by_status = Counter(f.status.value for f in findings)
    matrix: dict[str, dict[str, dict[str, int]]] = {
        c.value: {s.value: {sev.value: 0 for sev in SEVERITY_ORDER} for s in Status} for c in CATEGORY_ORDER
    }
    for f in findings:
        matrix[f.category.value][f.status.value][f.severity.value] += 1
    waived = sum(1 for f in findings if f.waiver is not None)
    return {
        "resources": resources,
        "findings": len(findings),
        "by_status": {s.value: by_status.get(s.value, 0) for s in Status},
        "waived": waived,
        # category -> status -> severity -> count
        "matrix": matrix,
        "not_assessed": {"resources": sum(not_assessed.values()), "by_type": not_assessed},
    }
