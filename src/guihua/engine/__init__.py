"""The rules of the spec (sections 4-9), each written once as an Ibis expression.

Expressions are built over unbound tables (:mod:`guihua.engine.tables`) and
compiled for whatever runs them: DuckDB over Arrow batches at ingestion
(:mod:`guihua.engine.batch`), the store's own SQL for lookups and exports
(:mod:`guihua.engine.compiled`), Spark for a province. There is no second
implementation in Python or in hand-written SQL; ``docs/architecture.md`` names
the function for each section of the spec.
"""
