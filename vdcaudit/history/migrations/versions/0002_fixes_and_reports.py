"""Fixed failing runs (for the mean time to fix) and the scan's HTML report (for the site).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fixes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scope", sa.String(400), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_fixes_scope_fixed", "fixes", ["scope", "fixed_at"])
    op.create_index("ix_fixes_scan", "fixes", ["scan_id"])
    op.add_column("scans", sa.Column("report_html", sa.LargeBinary, nullable=True))
