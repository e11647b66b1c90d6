"""Counts of findings, computed once and shared by every output format and the terminal.

One rule for every count: a finding is counted once, in one column. A waived finding is counted as
"waived" and not under its status (the open gaps and the accepted risk are shown apart), whatever
the format. `column_of` is that rule; every report reads these counts or uses it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from vdcaudit.model import CATEGORY_ORDER, SEVERITY_ORDER, Finding, Status


# The key under which findings without a subscription (or resource group) are counted: on-premises
# SDN, say. Part of the JSON's summary.by_subscription, so it does not change.
UNSCOPED = "(none)"
WAIVED = "waived"
# The columns of every count table: the statuses of open findings, then the waived ones.
COLUMNS = [s.value for s in Status] + [WAIVED]


def column_of(finding: Finding) -> str:
    """Where a finding is counted: "waived" when a waiver applies, else its status."""
    return WAIVED if finding.waiver is not None else finding.status.value


def new_counts() -> dict[str, int]:
    return {column: 0 for column in COLUMNS}


def _empty_matrix() -> dict[str, dict[str, dict[str, int]]]:
    return {c.value: {s.value: {sev.value: 0 for sev in SEVERITY_ORDER} for s in Status} for c in CATEGORY_ORDER}


def summarize(findings: list[Finding], not_assessed: dict[str, int], resources: int) -> dict[str, Any]:
    counts = Counter(column_of(f) for f in findings)
    # category -> status -> severity -> count, open (not waived) findings only
    matrix = _empty_matrix()
    # the same shape for the waived findings, by the status they were waived in
    waived_matrix = _empty_matrix()
    for f in findings:
        target = waived_matrix if f.waiver is not None else matrix
        target[f.category.value][f.status.value][f.severity.value] += 1
    return {
        "resources": resources,
        "findings": len(findings),
        # open findings by status; by_status + waived == findings
        "by_status": {s.value: counts.get(s.value, 0) for s in Status},
        "waived": counts.get(WAIVED, 0),
        "matrix": matrix,
        "waived_matrix": waived_matrix,
        "not_assessed": {"resources": sum(not_assessed.values()), "by_type": not_assessed},
        "by_subscription": by_subscription(findings),
    }


def score(passed: int, open_gaps: int) -> float | None:
    """Percent of assessed checks that are compliant; None when nothing was assessed."""
    total = passed + open_gaps
    return round(100.0 * passed / total, 1) if total else None


def score_of(counts: dict[str, int]) -> float | None:
    """The score of a row of counts: WARN counts as compliant (it is, for now); UNKNOWN and ERROR
    count against (never assumed compliant); waived findings are accepted risk and left out."""
    return score(counts["PASS"] + counts["WARN"], counts["FAIL"] + counts["UNKNOWN"] + counts["ERROR"])


def by_subscription(findings: list[Finding]) -> dict[str, dict[str, Any]]:
    """Per subscription: open findings by status, waived, and a score."""
    columns: dict[str, dict[str, int]] = {}
    for f in findings:
        columns.setdefault(f.subscription or UNSCOPED, new_counts())[column_of(f)] += 1
    rows = {key: {"by_status": {s.value: counts[s.value] for s in Status}, "waived": counts[WAIVED],
                  "score": score_of(counts)}
            for key, counts in columns.items()}
    return dict(sorted(rows.items()))
