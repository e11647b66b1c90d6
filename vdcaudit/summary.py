"""Counts of findings, computed once and shared by every output format."""

from __future__ import annotations

from collections import Counter
from typing import Any

from vdcaudit.model import CATEGORY_ORDER, SEVERITY_ORDER, Finding, Status


# The key under which findings without a subscription (or resource group) are counted: on-premises
# SDN, say. Part of the JSON's summary.by_subscription, so it does not change.
UNSCOPED = "(none)"


def summarize(findings: list[Finding], not_assessed: dict[str, int], resources: int) -> dict[str, Any]:
    # One pass over the findings (there may be millions); every count below comes from this tally.
    tally = Counter((f.category, f.status, f.severity, f.waiver is not None, f.subscription) for f in findings)
    by_status = Counter({s.value: 0 for s in Status})
    matrix: dict[str, dict[str, dict[str, int]]] = {
        c.value: {s.value: {sev.value: 0 for sev in SEVERITY_ORDER} for s in Status} for c in CATEGORY_ORDER
    }
    # The same shape for waived findings only (they are also counted in `matrix`), so a report can
    # show open gaps and accepted risk apart without going back to the findings.
    waived_matrix: dict[str, dict[str, dict[str, int]]] = {
        c.value: {s.value: {sev.value: 0 for sev in SEVERITY_ORDER} for s in Status} for c in CATEGORY_ORDER
    }
    waived = 0
    for (category, status, severity, is_waived, _), count in tally.items():
        by_status[status.value] += count
        matrix[category.value][status.value][severity.value] += count
        if is_waived:
            waived_matrix[category.value][status.value][severity.value] += count
            waived += count
    return {
        "resources": resources,
        "findings": len(findings),
        "by_status": {s.value: by_status[s.value] for s in Status},
        "waived": waived,
        # category -> status -> severity -> count
        "matrix": matrix,
        "waived_matrix": waived_matrix,
        "not_assessed": {"resources": sum(not_assessed.values()), "by_type": not_assessed},
        "by_subscription": by_subscription(_regroup(tally)),
    }


def _regroup(tally: Counter[Any]) -> Counter[Any]:
    grouped: Counter[Any] = Counter()
    for (_, status, _, is_waived, subscription), count in tally.items():
        grouped[(subscription, status, is_waived)] += count
    return grouped


def score(passed: int, open_gaps: int) -> float | None:
    """Percent of assessed checks that are compliant; None when nothing was assessed."""
    total = passed + open_gaps
    return round(100.0 * passed / total, 1) if total else None


def by_subscription(tally: Counter[Any]) -> dict[str, dict[str, Any]]:
    """Per subscription: counts by status, waived, and a score. WARN counts as compliant (it is, for
    now); UNKNOWN and ERROR count against (never assumed compliant); waived findings are accepted
    risk and left out of the score. `tally`: (subscription, status, waived) -> findings."""
    rows: dict[str, dict[str, Any]] = {}
    unwaived: dict[str, Counter[str]] = {}
    for (subscription, status, is_waived), count in tally.items():
        key = subscription or UNSCOPED
        row = rows.setdefault(key, {"by_status": {s.value: 0 for s in Status}, "waived": 0})
        row["by_status"][status.value] += count
        if is_waived:
            row["waived"] += count
        else:
            unwaived.setdefault(key, Counter())[status.value] += count
    for key, row in rows.items():
        counts = unwaived.get(key, Counter())
        row["score"] = score(counts["PASS"] + counts["WARN"], counts["FAIL"] + counts["UNKNOWN"] + counts["ERROR"])
    return dict(sorted(rows.items()))
