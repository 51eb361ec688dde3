"""A small OpenID Connect provider for the tests: discovery, authorize (approves at once), token
(client secret, PKCE), JWKS; ID tokens signed RS256 with joserfc. Served by uvicorn on 127.0.0.1.

Whoever the test wants the provider to vouch for goes in ``claims``; ``sign_with_unpublished_key``
makes it sign with a key it does not publish (a forged token, as the client must see it).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Form, Header, HTTPException
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID, CLIENT_SECRET = "guihua-portal", "s3cret-of-the-test"


class Provider:
    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "published"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "published"})
        self.claims: dict[str, Any] = {"sub": "user-1"}
        self.sign_with_unpublished_key = False
        self.grants: dict[str, dict[str, str]] = {}
        self.app = self._app()

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return KeySet([self.key]).as_dict(private=False)

        @app.get("/authorize")
        def authorize(
            client_id: str,
            redirect_uri: str,
            state: str,
            nonce: str,
            code_challenge: str,
            response_type: str = "code",
            code_challenge_method: str = "S256",
            scope: str = "",
        ) -> RedirectResponse:
            if client_id != CLIENT_ID or response_type != "code" or code_challenge_method != "S256":
                raise HTTPException(400, "bad authorization request")
            code = secrets.token_urlsafe(16)
            self.grants[code] = {"nonce": nonce, "redirect_uri": redirect_uri, "challenge": code_challenge}
            return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", 302)

        @app.post("/token")
        def token(
            grant_type: str = Form(...),
            code: str = Form(...),
            redirect_uri: str = Form(...),
            code_verifier: str = Form(...),
            authorization: str = Header(""),
        ) -> JSONResponse:
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            grant = self.grants.pop(code, None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=")
            if (
                authorization != expected
                or grant_type != "authorization_code"
                or grant is None
                or grant["redirect_uri"] != redirect_uri
                or grant["challenge"] != challenge.decode()
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": grant["nonce"],
                **self.claims,
            }
            key = self.other_key if self.sign_with_unpublished_key else self.key
            id_token = jwt.encode({"alg": "RS256", "kid": "published"}, claims, key)
            return JSONResponse(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": id_token,
                }
            )

        return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider served on a free port of 127.0.0.1 for the ``with`` block."""
    port = _free_port()
    provider = Provider(port)
    server = uvicorn.Server(uvicorn.Config(provider.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test OIDC provider did not start")
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
