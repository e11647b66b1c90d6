"""Counts of findings, computed once and shared by every output format."""

from __future__ import annotations

from collections import Counter
from typing import Any

from vdcaudit.model import CATEGORY_ORDER, SEVERITY_ORDER, Finding, Status


# The key under which findings without a subscription (or resource group) are counted: on-premises
# SDN, say. Part of the JSON's summary.by_subscription, so it does not change.
UNSCOPED = "(none)"


def summarize(findings: list[Finding], not_assessed: dict[str, int], resources: int) -> dict[str, Any]:
    by_status = Counter(f.status.value for f in findings)
    matrix: dict[str, dict[str, dict[str, int]]] = {
        c.value: {s.value: {sev.value: 0 for sev in SEVERITY_ORDER} for s in Status} for c in CATEGORY_ORDER
    }
    # The same shape for waived findings only (they are also counted in `matrix`), so a report can
    # show open gaps and accepted risk apart without going back to the findings.
    waived_matrix: dict[str, dict[str, dict[str, int]]] = {
        c.value: {s.value: {sev.value: 0 for sev in SEVERITY_ORDER} for s in Status} for c in CATEGORY_ORDER
    }
    for f in findings:
        matrix[f.category.value][f.status.value][f.severity.value] += 1
        if f.waiver is not None:
            waived_matrix[f.category.value][f.status.value][f.severity.value] += 1
    waived = sum(1 for f in findings if f.waiver is not None)
    return {
        "resources": resources,
        "findings": len(findings),
        "by_status": {s.value: by_status.get(s.value, 0) for s in Status},
        "waived": waived,
        # category -> status -> severity -> count
        "matrix": matrix,
        "waived_matrix": waived_matrix,
        "not_assessed": {"resources": sum(not_assessed.values()), "by_type": not_assessed},
        "by_subscription": by_subscription(findings),
    }


def score(passed: int, open_gaps: int) -> float | None:
    """Percent of assessed checks that are compliant; None when nothing was assessed."""
    total = passed + open_gaps
    return round(100.0 * passed / total, 1) if total else None


def by_subscription(findings: list[Finding]) -> dict[str, dict[str, Any]]:
    """Per subscription: counts by status, waived, and a score. WARN counts as compliant (it is, for
    now); UNKNOWN and ERROR count against (never assumed compliant); waived findings are accepted
    risk and left out of the score."""
    rows: dict[str, dict[str, Any]] = {}
    unwaived: dict[str, Counter[str]] = {}
    for f in findings:
        key = f.subscription or UNSCOPED
        row = rows.setdefault(key, {"by_status": {s.value: 0 for s in Status}, "waived": 0})
        row["by_status"][f.status.value] += 1
        if f.waiver is not None:
            row["waived"] += 1
        else:
            unwaived.setdefault(key, Counter())[f.status.value] += 1
    for key, row in rows.items():
        counts = unwaived.get(key, Counter())
        row["score"] = score(counts["PASS"] + counts["WARN"], counts["FAIL"] + counts["UNKNOWN"] + counts["ERROR"])
    return dict(sorted(rows.items()))
