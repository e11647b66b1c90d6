"""The history's tables (SQLAlchemy Core). Changes go through a new Alembic revision in
migrations/versions; this module describes the newest schema for the queries."""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
                        MetaData, String, Table, Text)

metadata = MetaData()

# One row per recorded scan. `counts` holds the status counts, open FAILs per category and the
# score, so `history list` and the trend never read the findings.
scans = Table(
    "scans", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(400), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("recorded", DateTime(timezone=True), nullable=False),
    Column("tool_version", String(40), nullable=False),
    Column("rulepack", String(200), nullable=False),
    Column("sources", JSON, nullable=False),
    Column("coverage", JSON, nullable=False),
    Column("rules", JSON, nullable=False),  # rule id -> title, severity, category
    Column("counts", JSON, nullable=False),
    Column("score", Float, nullable=True),
    Column("report_html", LargeBinary, nullable=True),  # gzip of the scan's HTML report, when written
    Index("ix_scans_scope_started", "scope", "started"),
)

# What a fingerprint names (rule + resource). Kept once, not per scan.
subjects = Table(
    "subjects", metadata,
    Column("fingerprint", String(32), primary_key=True),
    Column("rule_id", String(100), nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("resource_name", Text, nullable=False),
    Column("resource_type", String(200), nullable=False),
    Column("subscription", String(100), nullable=True),
)

# Every finding of every scan, by fingerprint. `first_seen` is set while the finding fails (open or
# waived) or has lost coverage after failing: the start of that failing run.
scan_findings = Table(
    "scan_findings", metadata,
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    Column("fingerprint", String(32), primary_key=True),
    Column("status", String(8), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("category", String(20), nullable=False),
    Column("waived", Boolean, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=True),
    Column("message", Text, nullable=True),  # kept for findings that are not PASS
    sqlite_with_rowid=False,
)

# A failing run that ended with the finding judged compliant: for the mean time to fix.
fixes = Table(
    "fixes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(400), nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("fixed_at", DateTime(timezone=True), nullable=False),
    Index("ix_fixes_scope_fixed", "scope", "fixed_at"),
    Index("ix_fixes_scan", "scan_id"),
)
