"""Sending one alert to one channel, and the retry policy when that fails.

``deliver`` makes a single attempt and either returns (the receiver accepted the alert) or raises
``DeliveryError`` saying whether another attempt could succeed. The monitor owns the loop: it keeps
the alert in its outbox, waits ``retry_delay_s(attempt)`` after a retryable failure, and gives up
(dead-letters the alert) after ``MAX_ATTEMPTS`` attempts or at the first failure that is not
retryable. Delivery is therefore at least once: a receiver that accepted an alert but whose answer
was lost gets it again, with the same ``webhook-id`` (and e-mail Message-ID) to drop the copy.

What is worth retrying:

- HTTP (webhook and Slack): 5xx, 429 and 408 answers, time-outs and connection errors. Other
  answers, redirects included (the URL should be updated instead of followed on every alert),
  will not change by themselves. A ``Retry-After`` in seconds is passed on in the error.
- SMTP: 4xx replies (temporary by definition), time-outs and connection errors; 5xx replies,
  refused credentials and a server without STARTTLS when it is configured are permanent. When
  the server takes the message for some recipients and refuses others, the error lists the
  refused ones; it is retryable if any refusal was temporary (the others get a second copy).
"""

from __future__ import annotations

import json
import logging
import random
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Final, NoReturn, assert_never
from urllib.parse import urlsplit

import httpx

import duly
from duly.monitor.signing import sign
from duly.service.channels import (
    Channel,
    EmailChannel,
    LogChannel,
    Message,
    SlackChannel,
    WebhookChannel,
)

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_BASE_S",
    "RETRY_CAP_S",
    "DeliveryError",
    "deliver",
    "email_message",
    "retry_delay_s",
    "slack_body",
    "webhook_body",
]

RETRY_BASE_S: Final = 2.0
RETRY_CAP_S: Final = 3600.0
MAX_ATTEMPTS: Final = 14
"""Attempts before an alert is dead-lettered: about three hours of retries (``retry_delay_s``)."""

ALERT_LOGGER: Final = logging.getLogger("duly.alerts")
_USER_AGENT: Final = f"duly/{duly.__version__}"
_SNIPPET: Final = 200  # characters of a refusing answer kept in the error, enough to say why
_SLACK_SECTION_LIMIT: Final = 3000  # Slack refuses a section text longer than this
_RETRYABLE_HTTP: Final = frozenset({408, 429})


class DeliveryError(Exception):
    """An attempt that failed; ``retryable`` says whether the same attempt later could succeed.

    ``reason`` is written for the operator reading the dead-letter list, and never contains a
    secret (URLs are reduced to their host, as a Slack URL is itself a credential).
    ``retry_after_s`` is the receiver's own ``Retry-After``, when it sent one in seconds.
    """

    def __init__(self, reason: str, retryable: bool, *, retry_after_s: float | None = None) -> None:
        self.reason = reason
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        super().__init__(reason)


def retry_delay_s(attempt: int, *, jitter: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first) before the next.

    The delay doubles from ``RETRY_BASE_S`` and is capped at ``RETRY_CAP_S``: 2 s, 4 s, 8 s, ...
    2048 s (34 min), then an hour. ``jitter()`` (a number in [0, 1), random by default; pass a
    constant in tests) scales it by 0.8 to 1.2, never above the cap, so alerts that failed together
    (a receiver restarting) do not all come back in the same second. With ``MAX_ATTEMPTS`` = 14
    the thirteen waits add up to about 3 h 8 min before the alert is dead-lettered: enough to ride
    out a deploy or a short outage, short enough that a breach alert still means something.
    """
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, not {attempt}")
    factor = jitter()
    if not 0.0 <= factor <= 1.0:
        raise ValueError(f"jitter must be between 0 and 1, not {factor}")
    base = min(RETRY_BASE_S * 2.0 ** min(attempt - 1, 64), RETRY_CAP_S)
    return min(base * (0.8 + 0.4 * factor), RETRY_CAP_S)


def deliver(channel: Channel, message: Message, *, client: httpx.Client | None = None) -> None:
    """One attempt to hand ``message`` to ``channel``; raises ``DeliveryError`` if it failed.

    ``client`` lets the monitor reuse connections across deliveries; without one, a client is
    opened for this attempt. Redirects are never followed.
    """
    if isinstance(channel, WebhookChannel):
        body = webhook_body(message)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(channel.secret, message.id, timestamp, body),
        }
        _post(client, channel.url, body, headers, channel.timeout_s)
    elif isinstance(channel, SlackChannel):
        headers = {"content-type": "application/json"}
        _post(client, channel.url, slack_body(message), headers, channel.timeout_s)
    elif isinstance(channel, EmailChannel):
        _send_email(channel, message)
    elif isinstance(channel, LogChannel):
        ALERT_LOGGER.warning(
            "%s %s: %s\n%s",
            message.kind,
            message.id,
            message.subject,
            message.text,
            extra={"alert_id": message.id, "alert_kind": message.kind, "channel": channel.name},
        )
    else:
        assert_never(channel)


def webhook_body(message: Message) -> bytes:
    """The exact bytes a webhook POSTs and signs: the Standard Webhooks ``type``/``timestamp``/
    ``data`` envelope, compact JSON, UTF-8."""
    envelope = {
        "type": f"sla.{message.kind}",
        "timestamp": message.created_at.isoformat().replace("+00:00", "Z"),
        "data": message.payload,
    }
    return _json(envelope)


def slack_body(message: Message) -> bytes:
    """A Slack-compatible incoming-webhook body: ``text`` for notifications and clients without
    blocks, and one section with the subject in bold over the text."""
    subject, text = _slack_escape(message.subject), _slack_escape(message.text)
    section = f"*{subject}*\n{text}"
    if len(section) > _SLACK_SECTION_LIMIT:
        section = section[: _SLACK_SECTION_LIMIT - 1] + "…"
    return _json(
        {
            "text": f"{subject}\n{text}",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": section}}],
        }
    )


def _json(value: Any) -> bytes:
    try:
        text = json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_mapping
        )
    except (TypeError, ValueError) as error:
        # A payload that cannot be sent now never will be: dead-letter it with the reason.
        raise DeliveryError(f"the alert payload is not JSON: {error}", retryable=False) from None
    return text.encode("utf-8")


def _mapping(value: object) -> dict[Any, Any]:
    """Read-only mappings (``MappingProxyType``) are JSON objects too; anything else is not."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _slack_escape(text: str) -> str:
    """Slack reads ``&``, ``<`` and ``>`` as markup (links, mentions); alert text is plain."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _post(
    client: httpx.Client | None, url: str, body: bytes, headers: dict[str, str], timeout_s: float
) -> None:
    headers = {"user-agent": _USER_AGENT, **headers}
    host = urlsplit(url).hostname or "the receiver"
    try:
        if client is None:
            with httpx.Client() as own:
                response = own.post(url, content=body, headers=headers, timeout=timeout_s)
        else:
            response = client.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException:
        raise DeliveryError(f"{host} did not answer within {timeout_s:g} s", True) from None
    except httpx.TransportError as error:
        raise DeliveryError(f"could not reach {host}: {error}", True) from None
    except httpx.HTTPError as error:
        raise DeliveryError(f"request to {host} failed: {error}", False) from None
    _check_answer(host, response)


def _check_answer(host: str, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    snippet = " ".join(response.text[:_SNIPPET].split())
    reason = f"{host} answered {status} {response.reason_phrase}" + (
        f": {snippet}" if snippet else ""
    )
    retryable = status >= 500 or status in _RETRYABLE_HTTP
    retry_after = response.headers.get("retry-after", "")
    retry_after_s = float(retry_after) if retry_after.isascii() and retry_after.isdigit() else None
    raise DeliveryError(reason, retryable, retry_after_s=retry_after_s)


def email_message(channel: EmailChannel, message: Message) -> EmailMessage:
    """The e-mail an alert becomes; its Message-ID comes from the alert id, so copies sent by a
    retry are recognisably the same message."""
    domain = channel.sender.rpartition("@")[2]
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = channel.sender
    email["To"] = ", ".join(channel.to)
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = f"<duly.{message.id}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to alerts
    email.set_content(message.text)
    return email


def _send_email(channel: EmailChannel, message: Message) -> None:
    email = email_message(channel, message)
    server = f"{channel.host}:{channel.port}"
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_s) as smtp:
            if channel.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if channel.username is not None and channel.password is not None:
                smtp.login(channel.username, channel.password)
            refused = smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as error:
        _raise_refused(server, error.recipients)
    except smtplib.SMTPResponseException as error:
        reply = _reply_text(error.smtp_error)
        retryable = 400 <= error.smtp_code < 500
        raise DeliveryError(
            f"{server} replied {error.smtp_code} {reply}".rstrip(), retryable
        ) from None
    except smtplib.SMTPServerDisconnected as error:
        raise DeliveryError(f"{server} closed the connection: {error}", True) from None
    except smtplib.SMTPException as error:
        # STARTTLS or AUTH not offered, no common AUTH mechanism: only a config change helps.
        raise DeliveryError(f"{server}: {error}", False) from None
    except ssl.SSLCertVerificationError as error:
        raise DeliveryError(f"{server}: {error.verify_message}", False) from None
    except TimeoutError:
        raise DeliveryError(
            f"{server} did not answer within {channel.timeout_s:g} s", True
        ) from None
    except OSError as error:
        raise DeliveryError(f"could not reach {server}: {error}", True) from None
    if refused:
        _raise_refused(server, refused)


def _raise_refused(server: str, refused: dict[str, tuple[int, bytes]]) -> NoReturn:
    details = "; ".join(
        f"{address} ({code} {_reply_text(reply)})" for address, (code, reply) in refused.items()
    )
    retryable = any(400 <= code < 500 for code, _ in refused.values())
    raise DeliveryError(f"{server} refused {details}", retryable)


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:_SNIPPET]
