"""Intake: department files read in chunks, checked in columns, classified; no store, no SQL.

``readers`` (and one module per format) turn a file into text cells,
``validation`` gives each row its first reject reason (spec section 3),
``classify`` decides what each valid row does, ``seen_keys`` spares the store
questions about keys it cannot hold.
"""
