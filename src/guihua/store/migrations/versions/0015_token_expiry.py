"""Bearer tokens that expire: ``accounts.token_expires_at``.

Tokens made from now on expire (90 days by default; ``guihua accounts rotate`` makes a new one
and the old one stops working at once). Tokens made before have no end (NULL) until rotated,
so an upgrade locks nobody out; ``guihua accounts list`` says which ones.

Revision ID: 0015_token_expiry
Revises: 0014_consent_codes
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_token_expiry"
down_revision = "0014_consent_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "token_expires_at")
