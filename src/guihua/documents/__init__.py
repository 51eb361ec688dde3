"""Documents a person reads or hands on: certificates, reports (rendered from use-case results)."""
