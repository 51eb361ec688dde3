"""Notices point to the record version or objection they are about instead of copying its facts.

A notice kept a copy of its record's department, source id, version and
metric, and a text ``dedupe_key`` for every notice: a third of a store's
bytes, and a third of a large load's time. Now a penalty or listing notice is
unique by (record, kind, rule) and only repairs and decisions keep a key.
What a notice told (rule, points, from which day, case) stays in the notice.
Ids are kept, so deliveries still point to their notices.

Revision ID: 0006_lean_notices
Revises: 0005_certificates
Create Date: 2026-11-24
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006_lean_notices"
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
    """SQLite cannot drop a column's UNIQUE NOT NULL: the table is rebuilt, ids and deliveries kept."""
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
    _replace_notices("notices_lean")


_OLD_KEY = (
    "n.kind || ':' || r.department || ':' || r.source_id || ':' || CAST(r.version AS VARCHAR(12)) "
    "|| ':' || COALESCE(n.rule_id, '')"
)
_FACTS = (  # the copied facts of revision 0005, from the record version or the objection
    "COALESCE(r.department, o.department, '')",
    "COALESCE(r.source_id, o.source_id, '')",
    "COALESCE(r.version, o.record_version)",
    "r.metric",
    f"CASE WHEN n.kind IN ('penalty', 'listing') THEN {_OLD_KEY} ELSE n.dedupe_key END",
)
_JOINED = (
    "notices n LEFT JOIN records r ON r.id = n.record_id LEFT JOIN objections o ON o.id = n.objection_id"
)


def _replace_notices(rebuilt: str) -> None:
    """SQLite: the rebuilt table takes the place of ``notices``; the deliveries are put aside and back.

    Dropping the old table deletes its deliveries when foreign keys are on
    (ON DELETE CASCADE); the ids are the same in the rebuilt table.
    """
    op.execute("CREATE TEMP TABLE deliveries_kept AS SELECT * FROM deliveries")
    op.drop_table("notices")
    op.rename_table(rebuilt, "notices")
    op.execute("DELETE FROM deliveries")
    op.execute("INSERT INTO deliveries SELECT * FROM deliveries_kept")
    op.execute("DROP TABLE deliveries_kept")


def downgrade() -> None:
    for name in ("ux_notices_record", "ux_notices_dedupe", "ix_notices_subject"):
        op.drop_index(name, "notices")
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
    else:
        _downgrade_sqlite()
    op.create_index("ix_notices_subject", "notices", ["subject_id"])


def _downgrade_postgresql() -> None:
    names = ("department", "source_id", "record_version", "metric")
    types: tuple[sa.types.TypeEngine[Any], ...] = (
        sa.String(64),
        sa.String(200),
        sa.Integer(),
        sa.String(100),
    )
    for name, type_ in zip(names, types, strict=True):
        op.add_column("notices", sa.Column(name, type_, nullable=True))
    sets = ", ".join(f"{c} = f.{c}" for c in (*names, "dedupe_key"))
    facts = ", ".join(f"{expr} AS {c}" for expr, c in zip(_FACTS, (*names, "dedupe_key"), strict=True))
    op.execute(
        f"UPDATE notices SET {sets} FROM (SELECT n.id, {facts} FROM {_JOINED}) AS f WHERE f.id = notices.id"
    )
    for name in ("department", "source_id", "dedupe_key"):
        op.alter_column("notices", name, nullable=False)
    op.create_unique_constraint("notices_dedupe_key_key", "notices", ["dedupe_key"])
    op.drop_column("notices", "record_id")


def _downgrade_sqlite() -> None:
    op.create_table(
        "notices_wide",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(400), nullable=False, unique=True),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("record_version", sa.Integer, nullable=True),
        sa.Column("metric", sa.String(100), nullable=True),
        sa.Column("rule_id", sa.String(100), nullable=True),
        sa.Column("points", sa.Integer, nullable=True),
        sa.Column("effective_on", sa.Date, nullable=True),
        sa.Column("case_id", sa.String(200), nullable=True),
        sa.Column("objection_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO notices_wide (id, department, source_id, record_version, metric, dedupe_key, "
        "subject_id, kind, rule_id, points, effective_on, case_id, objection_id, created_at) "
        f"SELECT n.id, {', '.join(_FACTS)}, n.subject_id, n.kind, n.rule_id, n.points, n.effective_on, "
        f"n.case_id, n.objection_id, n.created_at FROM {_JOINED}"
    )
    _replace_notices("notices_wide")
