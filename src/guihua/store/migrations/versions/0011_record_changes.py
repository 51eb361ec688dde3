"""Record changes: which stored record versions changed after they were added.

Records are mostly added; a few stored versions change afterwards (superseded by a
correction, retracted, withdrawn, re-matched, purged). ``record_changes`` notes the id
range of each such change so that the records' columnar copy (``store/record_mirror.py``)
rewrites only the parts that changed instead of copying every record again.
``store_identity`` holds a random token made once per store: a copy made of another store
(one since deleted and made again at the same place) is told apart by it.

Revision ID: 0011_record_changes
Revises: 0010_feeds
Create Date: 2026-12-02
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011_record_changes"
down_revision = "0010_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("first_id", sa.BigInteger, nullable=False),
        sa.Column("last_id", sa.BigInteger, nullable=False),
    )
    identity = op.create_table("store_identity", sa.Column("token", sa.String(64), primary_key=True))
    op.bulk_insert(identity, [{"token": secrets.token_hex(16)}])


def downgrade() -> None:
    op.drop_table("store_identity")
    op.drop_table("record_changes")
