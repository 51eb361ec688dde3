"""Anonymous certificate checks counted per day instead of one audit entry each.

A public check of a certificate code wrote an entry of the audit trail each time: 500 random
codes wrote 500 entries, and 1,000 checks of one valid code pushed a service desk's real read
out of the resident's first page. ``certificate_checks`` counts them per day, resident (empty
for unknown codes) and outcome, with the last time; the resident still sees that, and when,
their certificate was checked. Checks by signed-in staff stay audit entries.

Revision ID: 0016_certificate_checks
Revises: 0015_token_expiry
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_certificate_checks"
down_revision = "0015_token_expiry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_checks",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("subject_id", sa.String(18), primary_key=True),  # "" for a code no certificate has
        sa.Column("outcome", sa.String(16), primary_key=True),
        sa.Column("checks", sa.BigInteger, nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("certificate_checks")
