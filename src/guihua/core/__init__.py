"""The pure core: identifiers, the catalog model and its validation, reject reasons.

Nothing in this package performs I/O or imports the store, engine or adapters.
"""
