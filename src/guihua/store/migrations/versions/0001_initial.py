"""Initial store: catalogs, submissions, records (with derived match columns), quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "catalogs",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(500), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("catalog_version", sa.Integer, nullable=False),
        sa.Column("accepted", sa.BigInteger, nullable=False),
        sa.Column("duplicates", sa.BigInteger, nullable=False),
        sa.Column("corrected", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "records",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("occurred_at", sa.Date, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("submission_id", sa.BigInteger, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("line", sa.BigInteger, nullable=True),
        sa.Column("rule_id", sa.String(100), nullable=True),
        sa.Column("points", sa.Integer, nullable=True),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("start_year", sa.Integer, nullable=True),
        sa.Column("case_id", sa.String(200), nullable=True),
        sa.Column("action", sa.String(16), nullable=True),
    )
    op.create_index(
        "ux_records_current_key",
        "records",
        ["department", "source_id"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )
    op.create_index(
        "ix_records_subject",
        "records",
        ["subject_id", "retracted_at"],
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )
    op.create_index(
        "ix_records_scored",
        "records",
        ["subject_id"],
        sqlite_where=sa.text("rule_id IS NOT NULL"),
        postgresql_where=sa.text("rule_id IS NOT NULL"),
    )
    op.create_index(
        "ix_records_listing",
        "records",
        ["subject_id", "metric", "case_id"],
        sqlite_where=sa.text("action IS NOT NULL"),
        postgresql_where=sa.text("action IS NOT NULL"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.BigInteger, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("line", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("source_id", sa.String(200), nullable=True),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_quarantine_department", "quarantine", ["department"])


def downgrade() -> None:
    op.drop_table("quarantine")
    op.drop_table("records")
    op.drop_table("submissions")
    op.drop_table("catalogs")
