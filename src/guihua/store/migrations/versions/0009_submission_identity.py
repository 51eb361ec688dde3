"""A submission says what was sent and by whom; a quarantined row knows every submission that refused it.

Submissions get the SHA-256 (hex) and size of the file's bytes (or of the API
request's body), the file's base name, the acting account and how long the
submission took; older submissions leave them NULL. ``quarantine_refusals``
links each quarantined row to every submission that refused it: the row itself
stays once (0008), from the submission that first refused it, and a file sent
again adds a link, not a row. Every row already quarantined gets the link to
its own submission here.

Revision ID: 0009_submission_identity
Revises: 0008_quarantine_digest
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_submission_identity"
down_revision = "0008_quarantine_digest"
branch_labels = None
depends_on = None

_COLUMNS = ("sha256", "size_bytes", "file_name", "sent_by", "duration_ms")


def upgrade() -> None:
    op.add_column("submissions", sa.Column("sha256", sa.String(64), nullable=True))
    op.add_column("submissions", sa.Column("size_bytes", sa.BigInteger, nullable=True))
    op.add_column("submissions", sa.Column("file_name", sa.String(255), nullable=True))
    op.add_column("submissions", sa.Column("sent_by", sa.String(200), nullable=True))
    op.add_column("submissions", sa.Column("duration_ms", sa.BigInteger, nullable=True))
    op.create_table(
        "quarantine_refusals",
        sa.Column(
            "quarantine_id",
            sa.BigInteger,
            sa.ForeignKey("quarantine.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column(
            "submission_id",
            sa.BigInteger,
            sa.ForeignKey("submissions.id"),
            primary_key=True,
            autoincrement=False,
        ),
    )
    op.create_index("ix_quarantine_refusals_submission", "quarantine_refusals", ["submission_id"])
    op.execute(
        "INSERT INTO quarantine_refusals (quarantine_id, submission_id) "
        "SELECT id, submission_id FROM quarantine"
    )


def downgrade() -> None:
    op.drop_index("ix_quarantine_refusals_submission", "quarantine_refusals")
    op.drop_table("quarantine_refusals")
    for column in _COLUMNS:
        op.execute(f"ALTER TABLE submissions DROP COLUMN {column}")
