"""The "since the last scan" view: JSON-able data for the report's history section, the site and
`history diff --json`. Computed here from the history; renderers only format it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from vdcaudit.history.diff import CLASSES, Change, ScanDiff
from vdcaudit.history.records import FindingRecord, ScanRecord
from vdcaudit.model import SEVERITY_ORDER

if TYPE_CHECKING:
    from vdcaudit.history.store import History, ScanRow

LISTED_PER_CLASS = 100  # changes listed per class; the rest are counted
OLDEST_OPEN_LISTED = 20
TREND_SCANS = 30
MTTF_DAYS = 90
# Listed one by one; `still_failing` is only counted (the open FAILs by age list them).
LISTED_CLASSES = [kind for kind in CLASSES if kind != "still_failing"]


def days_between(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 86400, 1)


def _finding(f: FindingRecord, scan: ScanRecord) -> dict[str, Any]:
    rule = scan.rules.get(f.rule_id) or {}
    return {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "title": f.title or rule.get("title", ""),
            "severity": f.severity, "category": f.category, "resource_name": f.resource_name or f.resource_id,
            "resource_id": f.resource_id, "status": f.status, "waived": f.waived, "message": f.message}


def _change(change: Change, d: ScanDiff) -> dict[str, Any]:
    entry = _finding(change.finding, d.after if change.after else d.before)  # type: ignore[arg-type]
    entry["before"] = None if change.before is None else change.before.status + (" (waived)" if change.before.waived else "")
    entry["after"] = None if change.after is None else change.after.status + (" (waived)" if change.after.waived else "")
    first_seen = (change.after and change.after.first_seen) or (change.before and change.before.first_seen)
    entry["first_seen"] = first_seen.isoformat() if first_seen else None
    if change.kind == "fixed" and change.before and change.before.first_seen:
        entry["fixed_at"] = d.after.started.isoformat()
        entry["days_to_fix"] = days_between(change.before.first_seen, d.after.started)
    return entry


def _scan_ref(scan: ScanRecord | None) -> dict[str, Any] | None:
    if scan is None:
        return None
    return {"id": scan.id, "label": scan.label, "started": scan.started.isoformat(), "rulepack": scan.rulepack,
            "scope": scan.scope}


def diff_view(d: ScanDiff) -> dict[str, Any]:
    """The diff of two scans (from the history or two findings files)."""
    return {
        "before": _scan_ref(d.before), "after": _scan_ref(d.after),
        "rulepack_changed": {"before": d.before.rulepack, "after": d.after.rulepack}
        if d.before is not None and d.rulepack_changed else None,
        "counts": {kind: d.count(kind) for kind in CLASSES},
        "alerting": d.alerting,
        "changes": {kind: [_change(c, d) for c in d.changes[kind][:LISTED_PER_CLASS]] for kind in LISTED_CLASSES},
        "more": {kind: max(0, d.count(kind) - LISTED_PER_CLASS) for kind in LISTED_CLASSES},
        "new_coverage_gaps": d.new_coverage_gaps,
    }


def trend_point(row: ScanRow) -> dict[str, Any]:
    return {"id": row.id, "started": row.started.isoformat(), "score": row.score,
            "open_fail": row.counts.get("open_fail_by_category", {}), "failing": row.counts.get("by_status", {}).get("FAIL", 0)}


def open_fails(scan: ScanRecord, at: datetime) -> tuple[list[dict[str, Any]], int]:
    """The open FAILs, oldest first, with how long each has been failing."""
    failing = [f for f in scan.findings if f.open_fail and f.first_seen]
    failing.sort(key=lambda f: (f.first_seen, [s.value for s in SEVERITY_ORDER].index(f.severity)
                                if f.severity in [s.value for s in SEVERITY_ORDER] else 9))
    rows = []
    for f in failing[:OLDEST_OPEN_LISTED]:
        entry = _finding(f, scan)
        entry["first_seen"] = f.first_seen.isoformat()  # type: ignore[union-attr]
        entry["open_days"] = days_between(f.first_seen, at)  # type: ignore[arg-type]
        rows.append(entry)
    return rows, len(failing)


def since_last_scan(history: History, d: ScanDiff) -> dict[str, Any]:
    """The report section of a scan just recorded (d.after carries its id and first_seen values)."""
    scan = d.after
    if scan.id is None:
        raise ValueError("since_last_scan needs a recorded scan: this one has no id")
    oldest, total_open = open_fails(scan, scan.started)
    trend = [trend_point(row) for row in reversed(history.scans(scope=scan.scope, limit=TREND_SCANS))]
    return {
        "history": history.shown, "scope": scan.scope, "scan": scan.id,
        **diff_view(d),
        "open_fails": oldest, "open_fails_total": total_open,
        "mean_time_to_fix": {"days": MTTF_DAYS, "by_severity": history.mean_time_to_fix(
            scan.scope, scan.started - timedelta(days=MTTF_DAYS), scan.started)},
        "trend": trend,
    }
