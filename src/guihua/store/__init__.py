"""Persistence: SQLAlchemy 2 over SQLite (embedded default) or PostgreSQL, migrated by Alembic."""
