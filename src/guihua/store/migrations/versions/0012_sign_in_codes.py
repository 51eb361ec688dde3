"""Portal sign-in: residents' one-time codes (e-mailed, or printed at a service counter).

Only a salted scrypt hash of a code is stored, with when it expires, how many wrong
tries it has had and when it was used; ``issued_by`` names the service desk that
printed a counter code.

Revision ID: 0012_sign_in_codes
Revises: 0011_record_changes
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_sign_in_codes"
down_revision = "0011_record_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("issued_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sign_in_codes_subject", "sign_in_codes", ["subject_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_codes_subject", table_name="sign_in_codes")
    op.drop_table("sign_in_codes")
