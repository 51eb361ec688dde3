"""A leaner store: notices point to what they are about; one by-subject index of records instead of two.

Notices point to the record version or objection they are about instead of
copying its facts. A notice kept a copy of its record's department, source id, version and
metric, and a text ``dedupe_key`` for every notice: a third of a store's
bytes, and a third of a large load's time. Now a penalty or listing notice is
unique by (record, kind, rule) and only repairs and decisions keep a key.
What a notice told (rule, points, from which day, case) stays in the notice.
Ids are kept, so deliveries still point to their notices.

Records: ``ix_records_subject`` now also holds ``rule_id``, which makes
``ix_records_scored`` (by subject, where a rule matched) redundant.

Revision ID: 0006_leaner_store
Revises: 0005_certificates
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_leaner_store"
down_revision = "0005_certificates"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BY_VERSION = "tmp_records_by_version"  # finds each notice's record version while migrating
_RECORD_ID = (
    "CASE WHEN n.kind = 'decision' THEN NULL ELSE (SELECT r.id FROM records r WHERE r.department = "
    "n.department AND r.source_id = n.source_id AND r.version = n.record_version) END"
)


def _indexes() -> None:
    op.create_index("ix_notices_subject", "notices", ["subject_id"])
    op.create_index(
        "ux_notices_record",
        "notices",
        ["record_id", "kind", sa.text("coalesce(rule_id, '')")],
        unique=True,
        sqlite_where=sa.text("kind IN ('penalty', 'listing')"),
        postgresql_where=sa.text("kind IN ('penalty', 'listing')"),
    )
    op.create_index("ux_notices_dedupe", "notices", ["dedupe_key"], unique=True)


def upgrade() -> None:
    op.create_index(_BY_VERSION, "records", ["department", "source_id", "version"])
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()
    op.drop_index(_BY_VERSION, "records")
    _indexes()
    op.drop_index("ix_records_scored", "records")
    op.drop_index("ix_records_subject", "records")
    op.create_index(
        "ix_records_subject",
        "records",
        ["subject_id", "retracted_at", "rule_id"],
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )


def _upgrade_postgresql() -> None:
    op.add_column("notices", sa.Column("record_id", sa.BigInteger, nullable=True))
    op.execute(f"UPDATE notices n SET record_id = {_RECORD_ID}")
    op.alter_column("notices", "dedupe_key", nullable=True)
    op.execute("UPDATE notices SET dedupe_key = NULL WHERE kind IN ('penalty', 'listing')")
    op.execute("ALTER TABLE notices DROP CONSTRAINT IF EXISTS notices_dedupe_key_key")
    op.drop_index("ix_notices_subject", "notices")
    for column in ("department", "source_id", "record_version", "metric"):
        op.drop_column("notices", column)


def _upgrade_sqlite() -> None:
    """SQLite cannot drop a column's UNIQUE NOT NULL: the table is rebuilt, ids and deliveries kept.

    Dropping the old table deletes its deliveries when foreign keys are on
    (ON DELETE CASCADE), so they are put aside and back.
    """
    op.create_table(
        "notices_lean",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=True),
        sa.Column("objection_id", sa.BigInteger, nullable=True),
        sa.Column("rule_id", sa.String(100), nullable=True),
        sa.Column("points", sa.Integer, nullable=True),
        sa.Column("effective_on", sa.Date, nullable=True),
        sa.Column("case_id", sa.String(200), nullable=True),
        sa.Column("dedupe_key", sa.String(400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO notices_lean (id, subject_id, kind, record_id, objection_id, rule_id, points, "
        "effective_on, case_id, dedupe_key, created_at) "
        f"SELECT n.id, n.subject_id, n.kind, {_RECORD_ID}, n.objection_id, n.rule_id, n.points, "
        "n.effective_on, n.case_id, CASE WHEN n.kind IN ('repair', 'decision') THEN n.dedupe_key END, "
        "n.created_at FROM notices n"
    )
    op.execute("CREATE TEMP TABLE deliveries_kept AS SELECT * FROM deliveries")
    op.drop_table("notices")
    op.rename_table("notices_lean", "notices")
    op.execute("DELETE FROM deliveries")
    op.execute("INSERT INTO deliveries SELECT * FROM deliveries_kept")
    op.execute("DROP TABLE deliveries_kept")


def downgrade() -> None:
    raise NotImplementedError(
        "notices cannot go back to revision 0005_certificates: restore a backup taken before the upgrade"
    )
