"""What every answer carries and what no client may do too often: security headers, rate limits.

Public endpoints take no token, so nothing but a limit stops one client from flooding them
(a certificate code guessed 500 times a second, the trail walked on every checkpoint request).
The limit is per client address, a token bucket: ``burst`` requests at once, then ``rate`` a
second; over it the answer is 429 with ``Retry-After``, before any route runs. Addresses are
the peer's (a reverse proxy in front should set its own limit, or the service sees one client).
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guihua.http.limits import send_problem

# Paths anyone may call without a token, the portal's certificate check and sign-in among them.
PUBLIC_PREFIXES = (
    *("/api/v1/certificates/", "/api/v1/stats/", "/api/v1/catalog", "/api/v1/audit/checkpoint"),
    *("/verify", "/login"),
)

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

# Scripts, styles, images and fonts only from Guihua itself: no inline script or event handler
# runs, so an injected ``<script>`` or ``onclick=`` does nothing; forms post only to Guihua.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI (``/docs``) sets style attributes as it renders; its scripts are still Guihua's own files.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_PATHS = ("/docs",)
# A resident's report (``format=html``) is one self-contained document with its styles inside it
# (it is also saved and opened as a file): inline styles, no script at all, nothing fetched.
DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_DOCUMENT_PATH = re.compile(r"^/api/v1/subjects/[^/]+/report$")


def content_security_policy(path: str) -> bytes:
    """The Content-Security-Policy of an answer to ``path`` (every answer has one)."""
    if _DOCUMENT_PATH.match(path):
        return DOCUMENT_CSP.encode()
    return (DOCS_CSP if path in DOCS_PATHS else CSP).encode()


class SecurityHeaders:
    """Adds the headers above and a Content-Security-Policy to every answer, and HSTS when the
    request came over TLS.

    No CORS headers are ever sent: browsers keep other sites' pages from reading the API.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = scope.get("scheme") == "https"
        csp = (b"content-security-policy", content_security_policy(str(scope.get("path", ""))))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h for h in message.get("headers", []) if not h[0].lower().startswith(b"access-control-")
                ]
                message["headers"] = headers + HEADERS + [csp] + ([HSTS] if tls else [])
            await send(message)

        await self.app(scope, receive, sending)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimit:
    """Per-client token buckets for the public paths (``rate`` per second, ``burst`` at once)."""

    rate: float = 10.0
    burst: int = 30
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, client: str) -> float:
        """0 when ``client`` may go on now (a token is taken), else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) > 100_000:  # forget idle clients rather than grow without end
                self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < 60}
            bucket = self._buckets.setdefault(client, _Bucket(float(self.burst), now))
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


class RateLimited:
    """429 with Retry-After for a client over its limit on a public path; other paths pass."""

    def __init__(self, app: ASGIApp, limit: RateLimit | None = None) -> None:
        self.app, self.limit = app, limit or RateLimit()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PUBLIC_PREFIXES):
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.limit.wait(str(client))
            if wait > 0:
                retry = max(1, math.ceil(wait))
                await send_problem(
                    scope,
                    send,
                    429,
                    "rate_limited",
                    f"too many requests from this address: try again in {retry} s",
                    [(b"retry-after", str(retry).encode())],
                )
                return
        await self.app(scope, receive, send)
