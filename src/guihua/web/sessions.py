"""Portal sessions: a signed cookie that carries who signed in, and ends by itself.

The session is a small JSON object in the ``guihua_session`` cookie, signed (HMAC, through
itsdangerous) with ``session.key``, a random key kept beside the certificate signing key in
the key folder (created mode 0600; refused when others may read it, as the signing key is).
Nothing in it is secret from its holder (an Actor and a CSRF token); it cannot be forged or
altered without the key.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (another site's form posts
arrive without it) and ``Secure`` when the request came over TLS (the scheme is https, or a
proxy in front said ``X-Forwarded-Proto: https``). It is re-signed on every page, so a session
ends after :data:`IDLE_SECONDS` without one; whatever happens it ends :data:`LIFETIME_SECONDS`
after sign-in. Only the portal's pages have sessions: the API (``/api/``), ``/openapi.json`` and
``/static/`` neither read nor set the cookie. authlib's OIDC client keeps its state and nonce in
the same session (``request.session``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import stat
import time
from pathlib import Path
from typing import Any

import itsdangerous
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import Session
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guihua.core.errors import CannotWrite, SigningKeyProblem

SESSION_COOKIE = "guihua_session"
KEY_FILE = "session.key"
IDLE_SECONDS = 30 * 60
LIFETIME_SECONDS = 12 * 3600
NO_SESSION_PREFIXES = ("/api/", "/openapi.json", "/static/")


def over_tls(scope: Scope) -> bool:
    """Whether the request came over TLS, here or at a proxy in front that says so."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return bool(value.split(b",")[0].strip().lower() == b"https")
    return False


def session_secret(key_dir: Path) -> bytes:
    """The key that signs sessions, made on first use (0600, in a 0700 folder), refused when open."""
    path = key_dir / KEY_FILE
    if not path.exists():
        try:
            key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            fd = -1  # made by another process meanwhile: use that one
        except OSError as exc:
            raise CannotWrite(f"cannot create the session key {path}: {exc.strerror or exc}") from None
        if fd >= 0:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except OSError as exc:
        raise SigningKeyProblem(f"cannot read the session key {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyProblem(f"session key {path} is open to other users: run chmod 600 {path}")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise SigningKeyProblem(f"{path} is not a session key (64 hex digits); remove it to make a new one")
    return key


class PortalSessions:
    """Loads ``scope["session"]`` from the cookie and writes it back on the answer (ASGI middleware)."""

    def __init__(self, app: ASGIApp, secret: bytes, idle: int = IDLE_SECONDS) -> None:
        self.app, self.idle = app, idle
        self.signer = itsdangerous.TimestampSigner(secret, salt="guihua.session")

    def _load(self, raw: str | None) -> Session:
        if not raw:
            return Session()
        try:
            data = json.loads(base64.b64decode(self.signer.unsign(raw.encode(), max_age=self.idle)))
        except (itsdangerous.BadSignature, ValueError, binascii.Error):
            return Session()
        if not isinstance(data, dict):
            return Session()
        since = data.get("since")
        if isinstance(since, int | float) and time.time() - since > LIFETIME_SECONDS:
            return Session()
        return Session(data)

    def _cookie(self, value: str, max_age: int, tls: bool) -> str:
        flags = "; HttpOnly; SameSite=Lax" + ("; Secure" if tls else "")
        return f"{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}{flags}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(NO_SESSION_PREFIXES):
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        session = self._load(raw)
        scope["session"] = session
        tls = over_tls(scope)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                current: dict[str, Any] = scope["session"]
                if current:  # re-signed on every page: the idle clock starts again
                    data = base64.b64encode(json.dumps(current, separators=(",", ":")).encode())
                    headers.append(
                        "set-cookie", self._cookie(self.signer.sign(data).decode(), self.idle, tls)
                    )
                elif raw:
                    headers.append("set-cookie", self._cookie("", 0, tls))
                headers.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, sending)
