"""Tables of the store.

``records`` holds every accepted version of every department record. Columns
after ``line`` are *derived* (the rule the record matched under the
active catalog, its points and dates); they are recomputed whenever a catalog
is loaded, so they never disagree with the catalog in force.
"""

from __future__ import annotations

from typing import Any

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
    case,
    false,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.sql import FromClause

from guihua.engine.match import MATCH_COLUMNS

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
    # earlier occurrences of a key the same submission sent again (its last one counts); 0007
    Column("superseded", BigInteger, nullable=False, default=0, server_default="0"),
    # what was sent and by whom (0009; NULL for older submissions): SHA-256 (hex) and size of the
    # file's bytes or of the API request's body, the file's base name (``origin`` keeps the text
    # given), the acting account, and how long the submission took
    Column("sha256", String(64), nullable=True),
    Column("size_bytes", BigInteger, nullable=True),
    Column("file_name", String(255), nullable=True),
    Column("sent_by", String(200), nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    # feeds (0010): the day received in the scheme's zone (older rows: Asia/Shanghai), whether it
    # was a reviewer's correction (due process, not a department's feed), and the quality warnings
    # of the submission as JSON (NULL: none)
    Column("received_on", Date, nullable=True),
    Column("due_process", Boolean, nullable=False, default=False, server_default=false()),
    Column("warnings", Text, nullable=True),
    Index("ix_submissions_department", "department", "received_on"),
)

# What each submission carried, per metric (valid rows, and those dated long before it was
# received) and per reject reason: feeds read these, never the records (0010).
submission_metrics = Table(
    "submission_metrics",
    metadata,
    Column("submission_id", BigInteger, ForeignKey("submissions.id"), primary_key=True, autoincrement=False),
    Column("metric", String(100), primary_key=True),
    Column("rows", BigInteger, nullable=False),
    Column("old_rows", BigInteger, nullable=False),
)

# ``department`` and ``received_on`` are the submission's, kept here so that a feed's reasons are
# one scan of this narrow table, with no join.
submission_rejects = Table(
    "submission_rejects",
    metadata,
    Column("submission_id", BigInteger, ForeignKey("submissions.id"), primary_key=True, autoincrement=False),
    Column("reason", String(40), primary_key=True),
    Column("rows", BigInteger, nullable=False),
    Column("department", String(64), nullable=False),
    Column("received_on", Date, nullable=False),
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
    Column("retracted_on", Date, nullable=True),  # the day of retracted_at in the scheme's zone (0007)
    Column("subject_id", String(18), nullable=False),
    Column("metric", String(100), nullable=False),
    Column("occurred_at", Date, nullable=False),
    # the day this version was accepted, in the scheme's zone; always set (0007 filled older rows)
    Column("received_on", Date, nullable=True),
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

# Id ranges of stored record versions changed after they were added (0011): what the
# records' columnar copy (store/record_mirror.py) must copy again.
record_changes = Table(
    "record_changes",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("first_id", BigInteger, nullable=False),
    Column("last_id", BigInteger, nullable=False),
)
# A random token made once per store (0011), which its columnar copy carries too.
store_identity = Table("store_identity", metadata, Column("token", String(64), primary_key=True))

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
    # SHA-256 of reason and raw: a row sent again is not quarantined twice (0008)
    Column("digest", String(64), nullable=True),
    Index("ix_quarantine_department", "department"),
    Index("ix_quarantine_digest", "department", "digest"),
)

# Every submission that refused a quarantined row (0009): the row is kept once, from the submission
# that first refused it (``quarantine.submission_id``); a file sent again links it to its own.
quarantine_refusals = Table(
    "quarantine_refusals",
    metadata,
    Column(
        "quarantine_id",
        BigInteger,
        ForeignKey("quarantine.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("submission_id", BigInteger, ForeignKey("submissions.id"), primary_key=True, autoincrement=False),
    Index("ix_quarantine_refusals_submission", "submission_id"),
)

DERIVED_COLUMNS: tuple[str, ...] = (*MATCH_COLUMNS, "case_id", "action")  # what matching stores

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
    Column("token_expires_at", DateTime(timezone=True), nullable=True),  # 0015; NULL: made before, no end
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

# --------------------------------------------------------------------------- due process (spec section 7)

# One row per objection; the decision columns stay NULL until a reviewer decides.
# ``suspends_on`` = filed_on + 30 days, stored so that the engine needs no date
# arithmetic in SQL: the record stops counting from that day until ``decided_on``.
objections = Table(
    "objections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_id", String(18), nullable=False),
    Column("department", String(64), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("record_version", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("suspends_on", Date, nullable=False),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("filed_by", String(200), nullable=False),
    Column("decision", String(16), nullable=True),  # upheld | corrected | revoked
    Column("decided_on", Date, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Index("ix_objections_key", "department", "source_id"),
    Index("ix_objections_subject", "subject_id"),
)

# Notices to residents (the outbox). A notice keeps what it told (rule, points, from which day,
# case) and points to what it is about: the record version (penalty, listing, repair) or the
# objection (decision); department, source id, version and metric are read from there
# (``notice_columns``), never copied. Creating notices is idempotent: a record version is
# noticed once per kind and rule (``ux_notices_record``), a case's repair and an objection's
# decision once by ``dedupe_key`` (NULL for the others).
notices = Table(
    "notices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_id", String(18), nullable=False),
    Column("kind", String(16), nullable=False),  # penalty | listing | repair | decision
    Column("record_id", BigInteger, nullable=True),
    Column("objection_id", BigInteger, nullable=True),
    Column("rule_id", String(100), nullable=True),
    Column("points", Integer, nullable=True),
    Column("effective_on", Date, nullable=True),
    Column("case_id", String(200), nullable=True),
    Column("dedupe_key", String(400), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_notices_subject", "subject_id"),
    Index(
        "ux_notices_record",
        "record_id",
        "kind",
        func.coalesce(text("rule_id"), literal_column("''")),
        unique=True,
        sqlite_where=text("kind IN ('penalty', 'listing')"),
        postgresql_where=text("kind IN ('penalty', 'listing')"),
    ),
    Index("ux_notices_dedupe", "dedupe_key", unique=True),
)


def notice_columns() -> tuple[list[Any], FromClause]:
    """A notice as it reads whole: its columns and the facts of the record or objection it is about.

    Returns the columns and the FROM clause to select them from (notices
    outer-joined to records and objections). ``about_metric`` and ``about_rule_id`` name what
    the resident is told about in words: for a decision, the metric and the rule of the record
    version objected to; for a repair, the rule that listed the case; else the notice's own.
    """
    n, r, o = notices, records, objections
    objected, listed = records.alias("objected"), records.alias("listed")
    the_objected = (
        (objected.c.department == o.c.department)
        & (objected.c.source_id == o.c.source_id)
        & (objected.c.version == o.c.record_version)
    )
    objected_metric = select(func.min(objected.c.metric)).where(the_objected).scalar_subquery()
    objected_rule = select(func.min(objected.c.rule_id)).where(the_objected).scalar_subquery()
    listing_rule = (
        select(func.min(listed.c.rule_id))
        .where(
            listed.c.subject_id == n.c.subject_id,
            listed.c.metric == r.c.metric,
            listed.c.case_id == n.c.case_id,
            listed.c.action == "list",
        )
        .scalar_subquery()
    )
    columns = [
        n.c.id,
        n.c.kind,
        n.c.subject_id,
        func.coalesce(r.c.department, o.c.department).label("department"),
        func.coalesce(r.c.source_id, o.c.source_id).label("source_id"),
        func.coalesce(r.c.version, o.c.record_version).label("record_version"),
        r.c.metric,
        r.c.occurred_at,
        n.c.rule_id,
        n.c.points,
        n.c.effective_on,
        n.c.case_id,
        n.c.objection_id,
        n.c.created_at,
        case((n.c.kind == "decision", objected_metric), else_=r.c.metric).label("about_metric"),
        case(
            (n.c.kind == "decision", objected_rule), (n.c.kind == "repair", listing_rule), else_=n.c.rule_id
        ).label("about_rule_id"),
    ]
    joined = n.outerjoin(r, r.c.id == n.c.record_id).outerjoin(o, o.c.id == n.c.objection_id)
    return columns, joined


# One row per (notice, channel): the delivery state of the outbox.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("notice_id", BigInteger, ForeignKey("notices.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),  # email | webhook
    Column("status", String(16), nullable=False),  # pending | delivered | no_address
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ux_deliveries_notice_channel", "notice_id", "channel", unique=True),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

# How to reach a resident (e-mail); given at the service centre or by the resident.
contacts = Table(
    "contacts",
    metadata,
    Column("subject_id", String(18), primary_key=True),
    Column("email", String(320), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("lang", String(16), nullable=True),  # the language notices are sent in (NULL: zh-CN)
)

# Issued certificates of listing status, by verification code.
certificates = Table(
    "certificates",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("subject_id", String(18), nullable=False),
    Column("at", Date, nullable=False),
    Column("statement_digest", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("key_id", String(64), nullable=False),
    # canonical JSON of what was certified (status and cases), compared on public checks (0005)
    Column("finding", Text, nullable=True),
    Index("ix_certificates_subject", "subject_id"),
)


# --------------------------------------------------------------------------- feeds (0010)

# How to reach a department about its feed (alerts, quality warnings).
department_contacts = Table(
    "department_contacts",
    metadata,
    Column("department", String(64), primary_key=True),
    Column("email", String(320), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A feed's episode of trouble (``overdue`` or ``failing``): from the check that found it to the
# check that found it over; at most one open episode per (department, kind).
feed_episodes = Table(
    "feed_episodes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("department", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # overdue | failing
    Column("started_on", Date, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("detail", Text, nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Index(
        "ux_feed_episodes_open",
        "department",
        "kind",
        unique=True,
        sqlite_where=text("ended_at IS NULL"),
        postgresql_where=text("ended_at IS NULL"),
    ),
)

# Notices about a department's feed (an episode's alert, a submission's quality warnings), worded
# when made; once per ``dedupe_key`` (``episode:ID``, ``quality:SUBMISSION``).
feed_notices = Table(
    "feed_notices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("department", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # overdue | failing | quality
    Column("episode_id", BigInteger, ForeignKey("feed_episodes.id"), nullable=True),
    Column("submission_id", BigInteger, ForeignKey("submissions.id"), nullable=True),
    Column("to_operators", Boolean, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ux_feed_notices_dedupe", "dedupe_key", unique=True),
    Index("ix_feed_notices_department", "department"),
)

# The outbox of feed notices: one row per (notice, channel, recipient): e-mail to the department,
# e-mail to the operators, the operators' webhook.
feed_deliveries = Table(
    "feed_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("feed_notice_id", BigInteger, ForeignKey("feed_notices.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),  # email | ops_webhook
    Column("recipient", String(16), nullable=False),  # department | operators
    Column("status", String(16), nullable=False),  # pending | delivered | no_address
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ux_feed_deliveries_notice", "feed_notice_id", "channel", "recipient", unique=True),
    Index("ix_feed_deliveries_due", "status", "next_attempt_at"),
)


# --------------------------------------------------------------------------- portal sign-in (0012)

# One-time sign-in codes of residents (e-mailed, or printed at a service counter): only a salted
# scrypt hash of each code is kept; a code is short-lived, single use and dies after a few wrong tries.
sign_in_codes = Table(
    "sign_in_codes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_id", String(18), nullable=False),
    Column("code_hash", String(128), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("channel", String(16), nullable=False),  # email | counter
    Column("issued_by", String(200), nullable=True),  # the service desk's account, for a counter code
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Index("ix_sign_in_codes_subject", "subject_id", "created_at"),
)


# --------------------------------------------------------------------------- consent for perk checks (0014)

# Consent codes a resident makes for one perk's check (spec section 6, ``consent_required``):
# only a salted scrypt hash is kept; a code is short-lived, spent by the one check that uses it,
# and dies after a few wrong tries. ``used_by`` is the provider's account that spent it.
consent_codes = Table(
    "consent_codes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_id", String(18), nullable=False),
    Column("perk", String(200), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("code_hash", String(128), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("used_by", String(200), nullable=True),
    Index("ix_consent_codes_subject", "subject_id", "perk", "created_at"),
)

# Anonymous certificate checks, counted per day, resident ("" for unknown codes) and outcome (0016).
certificate_checks = Table(
    "certificate_checks",
    metadata,
    Column("day", Date, primary_key=True),
    Column("subject_id", String(18), primary_key=True),
    Column("outcome", String(16), primary_key=True),
    Column("checks", BigInteger, nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
)
