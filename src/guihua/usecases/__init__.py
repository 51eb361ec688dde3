"""Use cases: what the CLI and the HTTP service do, written once."""
