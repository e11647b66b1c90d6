"""Recording scans in the history and reading them back (one code path for SQLite and PostgreSQL)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from vdcaudit.errors import InputError
from vdcaudit.history.database import Database
from vdcaudit.history.diff import ScanDiff, diff
from vdcaudit.history.records import UNJUDGED, FindingRecord, ScanRecord
from vdcaudit.history.schema import fixes, scan_findings, scans, subjects
from vdcaudit.model import SEVERITY_ORDER

INSERT_BATCH = 5_000


def utc(moment: datetime) -> datetime:
    """Stored in UTC; SQLite gives back naive values, which are UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _for_db(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


@dataclass
class ScanRow:
    """A scan without its findings: what `history list` and the trend read."""

    id: int
    scope: str
    started: datetime
    finished: datetime
    tool_version: str
    rulepack: str
    counts: dict[str, Any]
    score: float | None
    has_report: bool = False


@dataclass
class Recorded:
    scan_id: int
    diff: ScanDiff


def _chunks(rows: list[dict[str, Any]], size: int = INSERT_BATCH) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


_SCAN_COLUMNS = (scans.c.id, scans.c.scope, scans.c.started, scans.c.finished, scans.c.tool_version,
                 scans.c.rulepack, scans.c.counts, scans.c.score, scans.c.report_html.is_not(None))


def _scan_row(row: Any) -> ScanRow:
    return ScanRow(id=row[0], scope=row[1], started=utc(row[2]), finished=utc(row[3]), tool_version=row[4],
                   rulepack=row[5], counts=row[6], score=row[7], has_report=bool(row[8]))


class History:
    def __init__(self, target: str) -> None:
        self.db = Database(target)
        self.shown = self.db.shown

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recording -------------------------------------------------------------------------

    def record(self, scan: ScanRecord) -> Recorded:
        """Store the scan and all its findings in one transaction, carrying each failing finding's
        first_seen from the previous scan of the scope and noting the fixes; returns the diff
        against that previous scan."""
        now = datetime.now(timezone.utc)
        with self.db.write() as connection:
            previous_id = self._previous_id(connection, scan.scope, scan.started)
            before = self._load(connection, previous_id) if previous_id is not None else None
            earlier = {f.fingerprint: f for f in before.findings} if before else {}
            fixed = []
            for finding in scan.findings:
                prior = earlier.get(finding.fingerprint)
                carried = prior.first_seen if prior is not None else None
                if finding.status == "FAIL":
                    finding.first_seen = carried or scan.started
                elif finding.status in UNJUDGED:
                    finding.first_seen = carried  # a failing run is not ended by losing sight of it
                elif carried is not None:
                    fixed.append(finding)
            counts = scan.counts()
            scan_id = connection.execute(insert(scans).values(
                scope=scan.scope, started=utc(scan.started), finished=utc(scan.finished), recorded=now,
                tool_version=scan.tool_version[:40], rulepack=scan.rulepack[:200], sources=scan.sources,
                coverage=scan.coverage, rules=scan.rules, counts=counts, score=counts["score"],
            ).returning(scans.c.id)).scalar_one()
            # subjects already named by the previous scan exist; only the others may be new
            self._insert_subjects(connection, [f for f in scan.findings if f.fingerprint not in earlier])
            self._insert_findings(connection, scan_id, scan.findings)
            for chunk in _chunks([{"scan_id": scan_id, "scope": scan.scope, "fingerprint": f.fingerprint,
                                   "severity": f.severity, "first_seen": utc(earlier[f.fingerprint].first_seen),  # type: ignore[arg-type]
                                   "fixed_at": utc(scan.started)} for f in fixed]):
                connection.execute(insert(fixes), chunk)
        scan.id = scan_id
        scan.label = f"scan #{scan_id}"
        return Recorded(scan_id, diff(before, scan))

    def _insert_subjects(self, connection: Connection, findings: list[FindingRecord]) -> None:
        dialect_insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        rows = list({f.fingerprint: {"fingerprint": f.fingerprint, "rule_id": f.rule_id[:100],
                                     "resource_id": f.resource_id, "resource_name": f.resource_name,
                                     "resource_type": f.resource_type[:200],
                                     "subscription": (f.subscription or None) and f.subscription[:100]}
                     for f in findings}.values())
        statement = dialect_insert(subjects).on_conflict_do_nothing(index_elements=["fingerprint"])
        for chunk in _chunks(rows):
            connection.execute(statement, chunk)

    def _insert_findings(self, connection: Connection, scan_id: int, findings: list[FindingRecord]) -> None:
        rows = [{"scan_id": scan_id, "fingerprint": f.fingerprint, "status": f.status, "severity": f.severity,
                 "category": f.category, "waived": f.waived, "first_seen": _for_db(f.first_seen),
                 "message": None if f.status == "PASS" else f.message}
                for f in {f.fingerprint: f for f in findings}.values()]
        for chunk in _chunks(rows):
            connection.execute(insert(scan_findings), chunk)

    def attach_report(self, scan_id: int, html: bytes) -> None:
        """The scan's HTML report, for the site (a second, small transaction: losing it loses no finding)."""
        with self.db.write() as connection:
            connection.execute(update(scans).where(scans.c.id == scan_id).values(report_html=gzip.compress(html, 6)))

    # -- reading ---------------------------------------------------------------------------

    def _previous_id(self, connection: Connection, scope: str, started: datetime) -> int | None:
        query = (select(scans.c.id).where(scans.c.scope == scope, scans.c.started <= utc(started))
                 .order_by(scans.c.started.desc(), scans.c.id.desc()).limit(1))
        return connection.execute(query).scalar()

    def scans(self, scope: str | None = None, limit: int | None = None) -> list[ScanRow]:
        """Newest first."""
        query = select(*_SCAN_COLUMNS).order_by(scans.c.started.desc(), scans.c.id.desc())
        if scope is not None:
            query = query.where(scans.c.scope == scope)
        if limit:
            query = query.limit(limit)
        with self.db.read() as connection:
            return [_scan_row(row) for row in connection.execute(query)]

    def resolve(self, reference: str) -> int:
        """A scan named on the command line: its number, `latest`, or `latest~N` (N scans before)."""
        match = re.fullmatch(r"(?:#?(\d+))|latest(?:~(\d+))?", reference.strip())
        if not match:
            raise InputError(f"not a scan: {reference!r} (a scan number from `history list`, latest, or latest~N)")
        with self.db.read() as connection:
            if match.group(1):
                scan_id = int(match.group(1))
                found = connection.execute(select(scans.c.id).where(scans.c.id == scan_id)).scalar()
            else:
                back = int(match.group(2) or 0)
                found = connection.execute(select(scans.c.id).order_by(scans.c.started.desc(), scans.c.id.desc())
                                           .offset(back).limit(1)).scalar()
        if found is None:
            raise InputError(f"no scan {reference} in the history", self.shown)
        return int(found)

    def load(self, scan_id: int) -> ScanRecord:
        with self.db.read() as connection:
            return self._load(connection, scan_id)

    def previous(self, scan_id: int) -> int | None:
        """The scan recorded before this one in the same scope."""
        with self.db.read() as connection:
            row = connection.execute(select(scans.c.scope, scans.c.started).where(scans.c.id == scan_id)).one()
            query = (select(scans.c.id).where(scans.c.scope == row[0], scans.c.id != scan_id,
                                              (scans.c.started < row[1]) | ((scans.c.started == row[1]) & (scans.c.id < scan_id)))
                     .order_by(scans.c.started.desc(), scans.c.id.desc()).limit(1))
            return connection.execute(query).scalar()

    def _load(self, connection: Connection, scan_id: int) -> ScanRecord:
        head = connection.execute(select(scans).where(scans.c.id == scan_id)).mappings().one()
        query = (select(scan_findings.c.fingerprint, scan_findings.c.status, scan_findings.c.severity,
                        scan_findings.c.category, scan_findings.c.waived, scan_findings.c.first_seen,
                        scan_findings.c.message, subjects.c.rule_id, subjects.c.resource_id,
                        subjects.c.resource_name, subjects.c.resource_type, subjects.c.subscription)
                 .join(subjects, subjects.c.fingerprint == scan_findings.c.fingerprint)
                 .where(scan_findings.c.scan_id == scan_id))
        rules = head["rules"] or {}
        findings = [FindingRecord(
            fingerprint=r.fingerprint, rule_id=r.rule_id, resource_id=r.resource_id, status=r.status,
            severity=r.severity, category=r.category, waived=bool(r.waived), resource_name=r.resource_name,
            resource_type=r.resource_type, subscription=r.subscription,
            title=(rules.get(r.rule_id) or {}).get("title", ""), message=r.message or "",
            first_seen=utc(r.first_seen) if r.first_seen else None) for r in connection.execute(query)]
        return ScanRecord(
            id=scan_id, label=f"scan #{scan_id}", started=utc(head["started"]), finished=utc(head["finished"]),
            scope=head["scope"], rulepack=head["rulepack"], tool_version=head["tool_version"],
            sources=head["sources"], coverage=head["coverage"], findings=findings, rules=rules)

    def report_html(self, scan_id: int) -> bytes | None:
        with self.db.read() as connection:
            blob = connection.execute(select(scans.c.report_html).where(scans.c.id == scan_id)).scalar()
        return gzip.decompress(blob) if blob else None

    def fixed_in(self, scan_id: int) -> dict[str, tuple[datetime, datetime]]:
        """fingerprint -> (first_seen, fixed_at) for the findings this scan found fixed."""
        with self.db.read() as connection:
            rows = connection.execute(select(fixes.c.fingerprint, fixes.c.first_seen, fixes.c.fixed_at)
                                      .where(fixes.c.scan_id == scan_id))
            return {r[0]: (utc(r[1]), utc(r[2])) for r in rows}

    def mean_time_to_fix(self, scope: str, since: datetime, until: datetime | None = None) -> dict[str, dict[str, Any]]:
        """Per severity: failing runs fixed in [since, until] and their mean length in days."""
        query = select(fixes.c.severity, fixes.c.first_seen, fixes.c.fixed_at).where(
            fixes.c.scope == scope, fixes.c.fixed_at >= utc(since))
        if until is not None:
            query = query.where(fixes.c.fixed_at <= utc(until))
        totals: dict[str, list[float]] = {}
        with self.db.read() as connection:
            for severity, first_seen, fixed_at in connection.execute(query):
                days = (utc(fixed_at) - utc(first_seen)).total_seconds() / 86400
                totals.setdefault(severity, []).append(days)
        order = [s.value for s in SEVERITY_ORDER]
        return {sev: {"fixed": len(totals[sev]), "mean_days": round(sum(totals[sev]) / len(totals[sev]), 1)}
                for sev in sorted(totals, key=lambda s: order.index(s) if s in order else len(order))}

    # -- pruning ---------------------------------------------------------------------------

    def prune(self, keep: int | None = None, older_than: timedelta | None = None) -> int:
        """Delete scans beyond the newest `keep` of each scope, or started before now - older_than.
        Returns how many scans were deleted."""
        with self.db.write() as connection:
            doomed: set[int] = set()
            if older_than is not None:
                cutoff = datetime.now(timezone.utc) - older_than
                doomed.update(connection.execute(select(scans.c.id).where(scans.c.started < cutoff)).scalars())
            if keep is not None:
                rank = func.row_number().over(partition_by=scans.c.scope,
                                              order_by=(scans.c.started.desc(), scans.c.id.desc())).label("rank")
                ranked = select(scans.c.id, rank).subquery()
                doomed.update(connection.execute(select(ranked.c.id).where(ranked.c.rank > keep)).scalars())
            ids = sorted(doomed)
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for table in (fixes, scan_findings):
                    connection.execute(delete(table).where(table.c.scan_id.in_(chunk)))
                connection.execute(delete(scans).where(scans.c.id.in_(chunk)))
            if ids:
                still_used = select(scan_findings.c.fingerprint).where(
                    scan_findings.c.fingerprint == subjects.c.fingerprint).exists()
                connection.execute(delete(subjects).where(~still_used))
        return len(ids)
