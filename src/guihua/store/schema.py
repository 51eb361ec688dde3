"""Tables of the store.

``records`` holds every accepted version of every department record. Columns
after ``line`` are *derived* (the rule the record matched under the
active catalog, its points and dates); they are recomputed whenever a catalog
is loaded, so they never disagree with the catalog in force.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for 10^8+ rows.
BigId = BigInteger().with_variant(Integer(), "sqlite")

catalogs = Table(
    "catalogs",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("loaded_by", String(200), nullable=False),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("department", String(64), nullable=False),
    Column("origin", String(500), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("catalog_version", Integer, nullable=False),
    Column("accepted", BigInteger, nullable=False, default=0),
    Column("duplicates", BigInteger, nullable=False, default=0),
    Column("corrected", BigInteger, nullable=False, default=0),
    Column("rejected", BigInteger, nullable=False, default=0),
)

records = Table(
    "records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("department", String(64), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("retracted_at", DateTime(timezone=True), nullable=True),
    Column("subject_id", String(18), nullable=False),
    Column("metric", String(100), nullable=False),
    Column("occurred_at", Date, nullable=False),
    Column("fields", Text, nullable=False),
    Column("submission_id", BigInteger, ForeignKey("submissions.id"), nullable=False),
    Column("line", BigInteger, nullable=True),
    # derived from the active catalog
    Column("rule_id", String(100), nullable=True),
    Column("points", Integer, nullable=True),
    Column("category", String(100), nullable=True),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("start_year", Integer, nullable=True),
    Column("case_id", String(200), nullable=True),
    Column("action", String(16), nullable=True),
    Index(
        "ux_records_current_key",
        "department",
        "source_id",
        unique=True,
        sqlite_where=text("is_current"),
        postgresql_where=text("is_current"),
    ),
    # current versions by subject; with retracted_at it answers "who has a counting record" alone
    Index(
        "ix_records_subject",
        "subject_id",
        "retracted_at",
        sqlite_where=text("is_current"),
        postgresql_where=text("is_current"),
    ),
    # the few rows that carry points, and the fewer that belong to a listing
    Index(
        "ix_records_scored",
        "subject_id",
        sqlite_where=text("rule_id IS NOT NULL"),
        postgresql_where=text("rule_id IS NOT NULL"),
    ),
    Index(
        "ix_records_listing",
        "subject_id",
        "metric",
        "case_id",
        sqlite_where=text("action IS NOT NULL"),
        postgresql_where=text("action IS NOT NULL"),
    ),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("submission_id", BigInteger, ForeignKey("submissions.id"), nullable=False),
    Column("department", String(64), nullable=False),
    Column("line", BigInteger, nullable=True),
    Column("reason", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Column("source_id", String(200), nullable=True),
    Column("raw", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_quarantine_department", "department"),
)

DERIVED_COLUMNS: tuple[str, ...] = (
    "rule_id",
    "points",
    "category",
    "start_date",
    "end_date",
    "start_year",
    "case_id",
    "action",
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("department", String(64), nullable=True),
    Column("provider", String(64), nullable=True),
    Column("subject_id", String(18), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Append-only; each entry holds the hash of the one before (see guihua.usecases.audit).
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("account", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject_id", String(18), nullable=True),
    Column("purpose", Text, nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_subject", "subject_id"),
)
