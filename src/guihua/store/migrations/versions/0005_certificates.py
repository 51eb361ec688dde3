"""Certificates keep what they certified, so that a public check can tell when it stops holding.

Revision ID: 0005_certificates
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_certificates"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # canonical JSON of the certified finding (status and cases); NULL only for rows issued before
    op.add_column("certificates", sa.Column("finding", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("finding")
