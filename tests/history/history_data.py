"""Small scan records for the history tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vdcaudit.history.records import FindingRecord, ScanRecord

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def finding(key: str, status: str, waived: bool = False, severity: str = "high",
            category: str = "in-transit", message: str = "") -> FindingRecord:
    """`key` is the resource; the fingerprint is made from it (rule VDC-T-001)."""
    from vdcaudit.model import fingerprint

    return FindingRecord(fingerprint=fingerprint("VDC-T-001", f"/r/{key}"), rule_id="VDC-T-001",
                         resource_id=f"/r/{key}", status=status, severity=severity, category=category,
                         waived=waived, resource_name=key, resource_type="Test/things",
                         title="Things are encrypted", message=message or f"{key} is {status}")


def scan(day: float, *findings: FindingRecord, scope: str = "prod", rulepack: str = "3 rules, sha256:aaa",
         coverage: list[dict[str, str]] | None = None) -> ScanRecord:
    moment = T0 + timedelta(days=day)
    return ScanRecord(started=moment, finished=moment + timedelta(minutes=5), scope=scope, rulepack=rulepack,
                      tool_version="0.1.0", sources=[{"kind": "snapshot", "location": "x.json"}],
                      coverage=coverage or [], findings=list(findings),
                      rules={"VDC-T-001": {"title": "Things are encrypted", "severity": "high", "category": "in-transit"}})
