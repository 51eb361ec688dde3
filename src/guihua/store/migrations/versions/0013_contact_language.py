"""Residents' language: the language their notices are sent in, kept with their contact.

``contacts.lang`` is a language tag (``zh-CN``, ``en``); NULL, as for every contact kept
before this revision, means zh-CN, the default.

Revision ID: 0013_contact_language
Revises: 0012_sign_in_codes
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_contact_language"
down_revision = "0012_sign_in_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("lang", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("lang")
