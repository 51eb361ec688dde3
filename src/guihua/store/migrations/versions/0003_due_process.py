"""Due process: objections, notices and their deliveries, contacts, certificates.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("record_version", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("filed_on", sa.Date, nullable=False),
        sa.Column("suspends_on", sa.Date, nullable=False),
        sa.Column("filed_at", When, nullable=False),
        sa.Column("filed_by", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("decided_at", When, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_objections_key", "objections", ["department", "source_id"])
    op.create_index("ix_objections_subject", "objections", ["subject_id"])
    op.create_table(
        "notices",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(400), nullable=False, unique=True),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("record_version", sa.Integer, nullable=True),
        sa.Column("metric", sa.String(100), nullable=True),
        sa.Column("rule_id", sa.String(100), nullable=True),
        sa.Column("points", sa.Integer, nullable=True),
        sa.Column("effective_on", sa.Date, nullable=True),
        sa.Column("case_id", sa.String(200), nullable=True),
        sa.Column("objection_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_index("ix_notices_subject", "notices", ["subject_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "notice_id", sa.BigInteger, sa.ForeignKey("notices.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", When, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("delivered_at", When, nullable=True),
    )
    op.create_index("ux_deliveries_notice_channel", "deliveries", ["notice_id", "channel"], unique=True)
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "contacts",
        sa.Column("subject_id", sa.String(18), primary_key=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("updated_at", When, nullable=False),
    )
    op.create_table(
        "certificates",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("at", sa.Date, nullable=False),
        sa.Column("statement_digest", sa.String(64), nullable=False),
        sa.Column("issued_at", When, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_certificates_subject", "certificates", ["subject_id"])


def downgrade() -> None:
    for table in ("certificates", "contacts", "deliveries", "notices", "objections"):
        op.drop_table(table)
