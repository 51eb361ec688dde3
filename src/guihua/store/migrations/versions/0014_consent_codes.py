"""Consent codes for perk checks (spec section 6, ``consent_required``).

A resident makes a code on the portal for one perk (so one provider); the provider's
eligibility check sends it and spends it. Like sign-in codes, only a salted scrypt hash is
kept, with when it expires, how many wrong tries it has had, and when and by which account it
was used.

Revision ID: 0014_consent_codes
Revises: 0013_contact_language
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_consent_codes"
down_revision = "0013_contact_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("perk", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_consent_codes_subject", "consent_codes", ["subject_id", "perk", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_consent_codes_subject", table_name="consent_codes")
    op.drop_table("consent_codes")
