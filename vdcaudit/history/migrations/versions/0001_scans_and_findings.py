"""Scans, the subjects of findings (rule + resource) and every finding of every scan.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(400), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool_version", sa.String(40), nullable=False),
        sa.Column("rulepack", sa.String(200), nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("coverage", sa.JSON, nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("score", sa.Float, nullable=True),
    )
    op.create_index("ix_scans_scope_started", "scans", ["scope", "started"])
    op.create_table(
        "subjects",
        sa.Column("fingerprint", sa.String(32), primary_key=True),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("resource_name", sa.Text, nullable=False),
        sa.Column("resource_type", sa.String(200), nullable=False),
        sa.Column("subscription", sa.String(100), nullable=True),
    )
    op.create_table(
        "scan_findings",
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("fingerprint", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("waived", sa.Boolean, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sqlite_with_rowid=False,  # rows live in the primary key's b-tree: the fingerprint is stored once
    )
