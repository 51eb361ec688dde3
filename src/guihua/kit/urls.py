"""Where people find Guihua: the public address (``GUIHUA_PUBLIC_URL``) and the pages under it.

Documents and notices send residents to pages, never to API paths: the portal (``/me``) to
see their records and object to one, and ``/verify/{code}`` to check a certificate (what the
certificate's QR code holds). One place builds these addresses, so a certificate printed today
and the notice e-mailed tomorrow point to the same pages.
"""

from __future__ import annotations

import os

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def public_url() -> str:
    """The service's public address, without a trailing slash (``GUIHUA_PUBLIC_URL``, else the default)."""
    return (os.environ.get("GUIHUA_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")


def portal_url() -> str:
    """The resident's own page: its records, notices, objections, report and certificates."""
    return f"{public_url()}/me"


def verify_url(display_code: str) -> str:
    """The public check of a certificate as a page (the code as printed: ``ABCD-EFGH-JKMN``)."""
    return f"{public_url()}/verify/{display_code}"
