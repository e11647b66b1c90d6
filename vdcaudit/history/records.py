"""The shape the history stores and compares: one scan and its findings, reduced to what a diff
needs. Built from a ScanResult (a scan being recorded) or from a vdcaudit-findings.json file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vdcaudit import findings_file
from vdcaudit.errors import InputError
from vdcaudit.model import CATEGORY_ORDER, Status, fingerprint
from vdcaudit.timestamps import parse_datetime

if TYPE_CHECKING:
    from vdcaudit.scan import ScanResult

JUDGED = ("PASS", "WARN", "FAIL")  # statuses that say something about compliance
UNJUDGED = ("UNKNOWN", "ERROR")
# What a scan keeps of each rule it ran. `version` is "" for scans recorded before rules had one.
RULE_FACTS = ("title", "severity", "category", "version")


@dataclass
class FindingRecord:
    fingerprint: str
    rule_id: str
    resource_id: str
    status: str
    severity: str
    category: str
    waived: bool = False
    resource_name: str = ""
    resource_type: str = ""
    subscription: str | None = None
    title: str = ""
    message: str = ""
    first_seen: datetime | None = None  # filled by the store: start of the current failing run

    @property
    def open_fail(self) -> bool:
        return self.status == "FAIL" and not self.waived


@dataclass
class ScanRecord:
    started: datetime
    finished: datetime
    scope: str
    rulepack: str
    tool_version: str
    sources: list[dict[str, Any]]
    coverage: list[dict[str, Any]]
    findings: list[FindingRecord]
    label: str = ""  # where it came from: "scan #12" or a file name
    id: int | None = None
    rules: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> RULE_FACTS

    def counts(self) -> dict[str, Any]:
        """Status counts (waived counted apart), open FAILs per category, and the score (the share of
        judged-or-not checks that are compliant, as in vdcaudit.summary)."""
        by_status = {s.value: 0 for s in Status}
        open_by_category = {c.value: 0 for c in CATEGORY_ORDER}
        waived = 0
        for f in self.findings:
            if f.waived:
                waived += 1
                continue
            by_status[f.status] = by_status.get(f.status, 0) + 1
            if f.status == "FAIL":
                open_by_category[f.category] = open_by_category.get(f.category, 0) + 1
        good = by_status["PASS"] + by_status["WARN"]
        total = good + by_status["FAIL"] + by_status["UNKNOWN"] + by_status["ERROR"]
        return {"by_status": by_status, "waived": waived, "findings": len(self.findings),
                "open_fail_by_category": open_by_category,
                "score": round(100.0 * good / total, 1) if total else None}


def default_scope(sources: list[dict[str, Any]]) -> str:
    """Scans of the same scope are compared. Without --history-scope: the kinds of source read and
    the tenants named, e.g. "azure tenant=72f9..." or "snapshot+sdn"."""
    kinds = sorted({str(s.get("kind", "source")) for s in sources})
    tenants = sorted({str(s[k]) for s in sources for k in ("tenant", "tenant_id", "tenantId") if s.get(k)})
    return "+".join(kinds) + (f" tenant={','.join(tenants)}" if tenants else "") if kinds else "(none)"


def parse_time(value: Any, path: Path | None = None) -> datetime:
    try:
        return parse_datetime(value, naive="utc")
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {str(value)[:60]!r}", path) from None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def read_findings_file(path: Path) -> ScanRecord:
    """A vdcaudit-findings.json of any schema version, read by vdcaudit.findings_file (which gives
    every finding its rule's title, severity and category), as the history's ScanRecord."""
    file = findings_file.read_findings_file(path)
    document = file.document
    findings = []
    for index, item in enumerate(file.findings):
        status = item.get("status")
        if status not in {s.value for s in Status}:
            raise InputError(f"findings[{index}] has no valid status", path)
        findings.append(FindingRecord(
            fingerprint=fingerprint(item["rule_id"], item["resource_id"]),  # recomputed, never trusted
            rule_id=item["rule_id"], resource_id=item["resource_id"], status=status,
            severity=str(item.get("severity") or "info"), category=str(item.get("category") or "at-rest"),
            waived=bool(item.get("waiver")), resource_name=str(item.get("resource_name") or ""),
            resource_type=str(item.get("resource_type") or ""), subscription=item.get("subscription"),
            title=str(item.get("title") or ""), message=str(item.get("message") or "")))
    scan = _object(document.get("scan"))
    started = parse_time(scan.get("started"), path) if scan.get("started") else \
        datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    sources = _objects(scan.get("sources"))
    return ScanRecord(
        started=started, finished=parse_time(scan["finished"], path) if scan.get("finished") else started,
        scope=default_scope(sources), rulepack=str(scan.get("rulepack") or ""),
        tool_version=str(_object(document.get("tool")).get("version") or ""), sources=sources,
        coverage=_objects(document.get("coverage")),
        findings=findings, label=path.name,
        rules={str(r.get("id") or rid): {k: str(r.get(k) or "") for k in RULE_FACTS}
               for rid, r in file.rules.items()})


def record_of(result: "ScanResult", scope: str | None = None) -> ScanRecord:
    """The history's view of a scan just made."""
    from vdcaudit.reports.common import rulepack_version

    findings = [FindingRecord(
        fingerprint=f.fingerprint, rule_id=f.rule_id, resource_id=f.resource_id, status=f.status.value,
        severity=f.severity.value, category=f.category.value, waived=f.waiver is not None,
        resource_name=f.resource_name, resource_type=f.resource_type, subscription=f.subscription,
        title=f.title, message=f.message) for f in result.findings]
    return ScanRecord(
        started=result.started, finished=result.finished, scope=scope or default_scope(result.sources),
        rulepack=rulepack_version(result.rules), tool_version=result.tool.get("version", ""),
        sources=list(result.sources), coverage=[c.to_dict() for c in result.coverage], findings=findings,
        rules={r.id: {"title": r.title, "severity": r.severity.value, "category": r.category.value,
                      "version": str(r.version)} for r in result.rules})
