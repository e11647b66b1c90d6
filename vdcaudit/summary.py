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
    # One pass over the findings (there may be millions); every count below comes from this tally.
    tally = Counter((f.category, f.status, f.severity, f.waiver is not None, f.subscription) for f in findings)
    # category -> status -> severity -> count: open (not waived) findings in `matrix`, the waived
    # ones (by the status they were waived in) in `waived_matrix`
    matrix, waived_matrix = _empty_matrix(), _empty_matrix()
    columns = new_counts()
    rows: dict[str, dict[str, int]] = {}
    for (category, status, severity, is_waived, subscription), count in tally.items():
        (waived_matrix if is_waived else matrix)[category.value][status.value][severity.value] += count
        column = WAIVED if is_waived else status.value
        columns[column] += count
        rows.setdefault(subscription or UNSCOPED, new_counts())[column] += count
    return {
        "resources": resources,
        "findings": len(findings),
        # open findings by status; by_status + waived == findings
        "by_status": {s.value: columns[s.value] for s in Status},
        "waived": columns[WAIVED],
        "matrix": matrix,
        "waived_matrix": waived_matrix,
        "not_assessed": {"resources": sum(not_assessed.values()), "by_type": not_assessed},
        # per subscription: open findings by status, waived, and a score
        "by_subscription": {key: {"by_status": {s.value: counts[s.value] for s in Status},
                                  "waived": counts[WAIVED], "score": score_of(counts)}
                            for key, counts in sorted(rows.items())},
    }


def score(passed: int, open_gaps: int) -> float | None:
    """Percent of assessed checks that are compliant; None when nothing was assessed."""
    total = passed + open_gaps
    return round(100.0 * passed / total, 1) if total else None


def score_of(counts: dict[str, int]) -> float | None:
    """The score of a row of counts: WARN counts as compliant (it is, for now); UNKNOWN and ERROR
    count against (never assumed compliant); waived findings are accepted risk and left out."""
    return score(counts["PASS"] + counts["WARN"], counts["FAIL"] + counts["UNKNOWN"] + counts["ERROR"])
