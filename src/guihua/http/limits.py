"""What never reaches a route: bodies over a size limit (413, unread), NUL in a path or query (400)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY = 16 << 20  # 10,000 records of about 1 KiB each, with room to spare


class BodySizeLimit:
    """Checks Content-Length up front, and counts the bytes of bodies sent without one."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await send_problem(
                scope, send, 400, "invalid_input", "NUL characters (%00) are not allowed in a path or query"
            )
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        await self.app(scope, *self._counting(scope, receive, send))

    def _counting(self, scope: Scope, receive: Receive, send: Send) -> tuple[Receive, Send]:
        """A receive that answers 413 once the body passes the limit (and tells the app the client left),
        and a send that drops what the app answers after that."""
        seen, refused = 0, False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes and not refused:
                refused = True
                await self._refuse(scope, send)
            return {"type": "http.disconnect"} if refused else message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        return counted, unless_refused

    async def _refuse(self, scope: Scope, send: Send) -> None:
        detail = f"request bodies are limited to {self.max_bytes:,} bytes; send fewer records at a time"
        await send_problem(scope, send, 413, "body_too_large", detail)


def _has_nul(scope: Scope) -> bool:
    raw = scope.get("raw_path") or b""
    query = scope.get("query_string") or b""
    return "\x00" in str(scope.get("path", "")) or b"%00" in raw or b"%00" in query or b"\x00" in query


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """An RFC 9457 problem document, answered before any route runs."""
    body: dict[str, Any] = {
        "type": f"https://guihua.example/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": "",
    }
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(data)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
