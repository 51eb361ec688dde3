"""The scoring semantics (spec sections 4-6), written once as Ibis expressions.

Expressions are built over unbound tables and compiled to the SQL of whatever
runs them: DuckDB for matching Arrow batches at ingestion, the store's own SQL
(SQLite or PostgreSQL) for scores, and Spark for a province. There is no
second implementation in Python.
"""
