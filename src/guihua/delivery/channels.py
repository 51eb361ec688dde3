"""The two ways a notice reaches a resident: e-mail over SMTP and a webhook (HTTP POST of JSON).

Both carry the notice id as the key a receiver deduplicates by: e-mail as
``Message-ID: <notice-ID@guihua.local>`` and ``X-Guihua-Notice-Id``, the webhook as the
``Idempotency-Key: notice-ID`` header and ``notice_id`` in the body. The outbox may send a
notice more than once (a crash after a send, before its commit); the key makes that harmless.

Configuration is parsed here, once, with one-line errors saying what to write.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

import httpx

from guihua.core.errors import InvalidInput
from guihua.usecases.contacts import check_email
from guihua.usecases.outbox import DeliveryFailed, Outgoing

MESSAGE_ID_DOMAIN = "guihua.local"
TIMEOUT = 10.0  # seconds per connection or request: a stuck receiver delays a run, never stalls it


def message_id(notice_id: int) -> str:
    """The same Message-ID for every attempt at one notice, so mail clients show it once."""
    return f"<notice-{notice_id}@{MESSAGE_ID_DOMAIN}>"


def parse_smtp(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:25`` for IPv6) as a host and a port, or a one-line error."""
    host, sep, port = value.strip().rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if (
        not sep
        or not host
        or not port.isdigit()
        or not 0 < int(port) < 65536
        or any(c.isspace() for c in host)
    ):
        raise InvalidInput(
            f"--smtp {value!r} is not HOST:PORT: write it like localhost:25 or mail.example.org:587"
        )
    return host, int(port)


def check_webhook_url(value: str) -> str:
    """An absolute http(s) URL with a host, or a one-line error."""
    try:
        url = httpx.URL(value.strip())
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise InvalidInput(
            f"--webhook {value!r} is not an http:// or https:// URL: write it like https://example.org/notices"
        )
    return str(url)


class EmailChannel:
    """Plain-text e-mail through an SMTP relay (no TLS, no login: a relay of the city's network)."""

    name = "email"
    needs_address = True

    def __init__(self, host: str, port: int, sender: str, timeout: float = TIMEOUT) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sender = check_email(sender, "--smtp-from")

    def message(self, out: Outgoing) -> EmailMessage:
        """The e-mail of one notice: its title as subject, its body as text, its id in the headers."""
        if not out.email:
            raise DeliveryFailed("no e-mail address")
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = out.email
        msg["Subject"] = out.title
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = f"<{out.message_key}@{MESSAGE_ID_DOMAIN}>"  # message_id() for a resident's
        msg[out.id_header] = str(out.notice_id)
        msg.set_content(out.body)
        if out.lang:  # the resident's language (set after set_content, which clears Content-* headers)
            msg["Content-Language"] = out.lang
        return msg

    def send(self, message: Outgoing) -> None:
        msg = self.message(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise DeliveryFailed(f"SMTP {self.host}:{self.port}: {reason}") from exc

    def close(self) -> None:
        """Nothing held between messages (one short SMTP session per notice)."""


class WebhookChannel:
    """POST each notice as JSON to one URL; any 2xx is delivered, anything else is retried."""

    name = "webhook"
    needs_address = False

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        self.url = check_webhook_url(url)
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def send(self, message: Outgoing) -> None:
        headers = {"Idempotency-Key": message.idempotency_key, "User-Agent": "guihua-notices"}
        try:
            answer = self.client.post(self.url, json=message.payload(), headers=headers)
        except httpx.HTTPError as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise DeliveryFailed(f"webhook {type(exc).__name__}: {reason}") from exc
        if not 200 <= answer.status_code < 300:
            snippet = " ".join(answer.text[:200].split())
            raise DeliveryFailed(
                f"webhook answered HTTP {answer.status_code} {answer.reason_phrase}: {snippet}"
            )

    def close(self) -> None:
        self.client.close()
