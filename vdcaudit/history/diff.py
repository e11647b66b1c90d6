"""What changed between two scans, finding by finding (by fingerprint: rule id + resource id, so a
renamed rule title or a reworded message never makes a finding new).

Classes, from the earlier scan's state of a fingerprint to the later one's ("open" = FAIL, not waived):
- new:            open FAIL now; absent before, or not judged before (UNKNOWN/ERROR)
- regressed:      open FAIL now; PASS or WARN before
- still_failing:  open FAIL now and before
- fixed:          PASS or WARN now; FAIL (open or waived) before
- lost_coverage:  UNKNOWN or ERROR now; judged before (PASS, WARN or FAIL) — it hides what it was
- waived:         waived FAIL now; not waived before (or not there)
- unwaived:       open FAIL now; waived FAIL before (the waiver expired or was removed)
- gone:           FAIL before and absent now: the resource was removed, or not read this time.
                  Never counted as fixed.
- new_rule:       open FAIL now, of a rule the earlier scan did not run: the pack grew, the estate did not
                  change.
- rule_changed:   what would be new, regressed, fixed or lost coverage, where the rule's version differs
                  between the two scans: the verdict may have moved because the rule did.
Rule versions are compared only where both scans recorded one (scans recorded before rules had
versions have none): without them the classes above apply as they are, and `rulepack_changed` tells.
Coverage records (what could not be read) new in the later scan are listed as new_coverage_gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vdcaudit.model import SEVERITY_ORDER
from vdcaudit.history.records import JUDGED, UNJUDGED, FindingRecord, ScanRecord

# Each class of change between two scans, in the order every view lists them, with the words the
# HTML and Markdown reports head their counts with.
CHANGE_LABELS = {"new": "new FAIL", "regressed": "regressed", "unwaived": "unwaived", "lost_coverage": "lost coverage",
                 "fixed": "fixed", "waived": "waived", "still_failing": "still failing", "gone": "no longer seen",
                 "new_rule": "new rule FAIL", "rule_changed": "rule changed"}
CLASSES = tuple(CHANGE_LABELS)
# The changes a notification is sent for: a gap opened, or a view of one was lost. A FAIL of a new or
# changed rule is listed (and still fails the gate) but is not news about the estate.
ALERTING = ("new", "regressed", "unwaived", "lost_coverage")
# Changes that a rule's own change may explain (see rule_changed).
_RULE_SENSITIVE = ("new", "regressed", "fixed", "lost_coverage")


@dataclass
class Change:
    kind: str
    after: FindingRecord | None
    before: FindingRecord | None

    @property
    def finding(self) -> FindingRecord:
        return self.after or self.before  # type: ignore[return-value]  # one of them is always set


@dataclass
class ScanDiff:
    before: ScanRecord | None
    after: ScanRecord
    changes: dict[str, list[Change]] = field(default_factory=lambda: {kind: [] for kind in CLASSES})
    new_coverage_gaps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rulepack_changed(self) -> bool:
        return self.before is not None and self.before.rulepack != self.after.rulepack

    def count(self, kind: str) -> int:
        return len(self.changes[kind])

    @property
    def alerting(self) -> int:
        return sum(self.count(kind) for kind in ALERTING) + len(self.new_coverage_gaps)


def classify(before: FindingRecord | None, after: FindingRecord | None) -> str | None:
    if after is None:
        return "gone" if before is not None and before.status == "FAIL" else None
    if after.status == "FAIL":
        if after.waived:
            return None if before is not None and before.status == "FAIL" and before.waived else "waived"
        if before is None or before.status in UNJUDGED:
            return "new"
        if before.status == "FAIL":
            return "unwaived" if before.waived else "still_failing"
        return "regressed"
    if after.status in UNJUDGED:
        return "lost_coverage" if before is not None and before.status in JUDGED else None
    return "fixed" if before is not None and before.status == "FAIL" else None


def _coverage_key(record: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(record.get(k) or "").lower() for k in ("source", "scope", "resource_type", "reason"))


def rule_change(before: ScanRecord, after: ScanRecord, rule_id: str) -> str | None:
    """"new_rule" when the earlier scan did not run the rule, "rule_changed" when both scans recorded
    a version for it and the versions differ; None otherwise (or when versions are unknown)."""
    if not before.rules:  # an earlier scan that recorded no rules at all tells nothing
        return None
    old = before.rules.get(rule_id)
    if old is None:
        return "new_rule"
    old_version, new_version = old.get("version") or "", (after.rules.get(rule_id) or {}).get("version") or ""
    return "rule_changed" if old_version and new_version and old_version != new_version else None


def diff(before: ScanRecord | None, after: ScanRecord) -> ScanDiff:
    result = ScanDiff(before, after)
    earlier = {f.fingerprint: f for f in before.findings} if before else {}
    later = {f.fingerprint: f for f in after.findings}
    for fp in list(later) + [fp for fp in earlier if fp not in later]:
        kind = classify(earlier.get(fp), later.get(fp))
        if kind in _RULE_SENSITIVE and before is not None:
            change = rule_change(before, after, (later.get(fp) or earlier[fp]).rule_id)
            if change == "rule_changed" or (change == "new_rule" and kind == "new"):
                kind = change
        if kind:
            result.changes[kind].append(Change(kind, later.get(fp), earlier.get(fp)))
    for changes in result.changes.values():
        changes.sort(key=lambda c: (_severity_rank(c.finding.severity), c.finding.rule_id, c.finding.resource_id.lower()))
    known = {_coverage_key(c) for c in before.coverage} if before else set()
    result.new_coverage_gaps = [c for c in after.coverage if _coverage_key(c) not in known] if before else []
    return result


def _severity_rank(severity: str) -> int:
    known = [s.value for s in SEVERITY_ORDER]
    return known.index(severity) if severity in known else len(known)
