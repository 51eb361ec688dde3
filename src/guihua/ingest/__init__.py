"""Ingestion: read department files in chunks, validate in columns, classify, store."""
