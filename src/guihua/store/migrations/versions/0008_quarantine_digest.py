"""Quarantined rows carry a digest of what was refused, so a file sent again does not quarantine it twice.

The digest is SHA-256 over the line, the reason and the row as kept (``raw``); rows already
quarantined get theirs here, so a resend after the upgrade adds nothing either.

Revision ID: 0008_quarantine_digest
Revises: 0007_received_on
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0008_quarantine_digest"
down_revision = "0007_received_on"
branch_labels = None
depends_on = None


def digest(line: int | None, reason: str, raw: str) -> str:
    return hashlib.sha256(f"{line}\x1f{reason}\x1f{raw}".encode("utf-8", "surrogatepass")).hexdigest()


def upgrade() -> None:
    op.add_column("quarantine", sa.Column("digest", sa.String(64), nullable=True))
    conn = op.get_bind()
    last = 0
    while rows := conn.execute(
        sa.text("SELECT id, line, reason, raw FROM quarantine WHERE id > :last ORDER BY id LIMIT 10000"),
        {"last": last},
    ).all():
        conn.execute(
            sa.text("UPDATE quarantine SET digest = :d WHERE id = :id"),
            [{"d": digest(r.line, r.reason, r.raw), "id": r.id} for r in rows],
        )
        last = rows[-1].id
    op.create_index("ix_quarantine_digest", "quarantine", ["department", "digest"])


def downgrade() -> None:
    op.drop_index("ix_quarantine_digest", "quarantine")
    op.execute("ALTER TABLE quarantine DROP COLUMN digest")
