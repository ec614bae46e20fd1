"""Where alerts go: delivery channels as plain values, checked once when they are configured.

A channel is read from a mapping (a config file, an API body) by ``channel_from_mapping``, which
refuses anything it cannot deliver to, so a typo surfaces when the channel is saved rather than at
3 a.m. when the first breach alert fails. Sending lives in ``duly.monitor.delivery``; nothing here
touches the network.

Kinds and their keys (``kind`` is always required):

- ``webhook``: ``url`` (http or https), ``secret`` (a Standard Webhooks secret, ``whsec_`` and
  the base64 of 24 to 64 random bytes; generated when left out, so every webhook is signed),
  ``timeout_s``.
- ``slack``: ``url`` of a Slack-compatible incoming webhook, ``timeout_s``.
- ``email``: ``host``, ``port`` (25, or 587 with ``starttls``), ``sender``, ``to`` (one address
  or a list), ``username`` and ``password`` (both or neither), ``starttls``, ``timeout_s``.
- ``log``: nothing else; alerts go to the server log (the demo uses it).

Addresses are plain ``name@domain`` (no display names), which keeps them safe to put in headers.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "CHANNEL_KINDS",
    "MASK",
    "MESSAGE_KINDS",
    "Channel",
    "ChannelError",
    "EmailChannel",
    "LogChannel",
    "Message",
    "MessageKind",
    "SlackChannel",
    "WebhookChannel",
    "channel_from_mapping",
    "channel_to_mapping",
    "new_webhook_secret",
    "webhook_secret_key",
]

CHANNEL_KINDS: Final = ("webhook", "slack", "email", "log")
MESSAGE_KINDS: Final = ("warning", "breach", "escalation")
MASK: Final = "********"
"""What a secret, a password or a credential-bearing URL part shows unless revealed."""

SECRET_PREFIX: Final = "whsec_"
_SECRET_BYTES: Final = (24, 64)  # Standard Webhooks: at least 192 bits, at most 512
_DEFAULT_TIMEOUT_S: Final = 10.0
_MAX_TIMEOUT_S: Final = 120.0
# A plain address; no spaces, angle brackets, quotes or separators, so it cannot smuggle a second
# recipient or a header into a message.
_ADDRESS_PART = r"[^@\s\x00-\x1f\x7f<>,;:\"'()\[\]\\]+"
_ADDRESS = re.compile(f"{_ADDRESS_PART}@{_ADDRESS_PART}")
# Message ids end up in an HTTP header, in the signed content (where a "." would be ambiguous)
# and in a Message-ID: letters, digits, "_" and "-" only.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_KEYS: Final = {
    "webhook": ("kind", "url", "secret", "timeout_s"),
    "slack": ("kind", "url", "timeout_s"),
    "email": (
        "kind",
        "host",
        "port",
        "sender",
        "to",
        "username",
        "password",
        "starttls",
        "timeout_s",
    ),
    "log": ("kind",),
}

MessageKind = Literal["warning", "breach", "escalation"]


class ChannelError(ValueError):
    """A channel that cannot be used; ``field`` is the key at fault (``to[1]``), ``reason`` why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class WebhookChannel:
    """POSTs JSON signed the Standard Webhooks way, so any receiver can check where it came from."""

    name: str
    url: str
    secret: str
    timeout_s: float = _DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class SlackChannel:
    """A Slack-compatible incoming webhook; its URL is the credential, so it is masked like one."""

    name: str
    url: str
    timeout_s: float = _DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class EmailChannel:
    """An SMTP relay; ``to`` is a tuple so the channel stays hashable and immutable."""

    name: str
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = _DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class LogChannel:
    """Alerts to the server log: it needs no receiver, so a fresh install shows alerts at once."""

    name: str


Channel = WebhookChannel | SlackChannel | EmailChannel | LogChannel


@dataclass(frozen=True)
class Message:
    """One alert as every channel sends it.

    ``id`` stays the same across retries (it is the ``webhook-id`` receivers dedupe on and the
    root of the e-mail Message-ID), so it must be the alert's id, never an attempt's.
    """

    id: str
    kind: MessageKind
    created_at: datetime
    payload: Mapping[str, Any]
    subject: str
    text: str

    def __post_init__(self) -> None:
        if not _MESSAGE_ID.fullmatch(self.id):
            raise ValueError(f"message id {self.id!r} must be 1-200 letters, digits, '_' or '-'")
        if self.kind not in MESSAGE_KINDS:
            raise ValueError(f"message kind {self.kind!r} is not one of {', '.join(MESSAGE_KINDS)}")
        if self.created_at.utcoffset() != timedelta(0):
            raise ValueError("created_at must be an aware UTC datetime")
        if "\r" in self.subject or "\n" in self.subject:
            raise ValueError("a subject is one line (it becomes an e-mail header)")


def new_webhook_secret() -> str:
    """A fresh secret of 32 random bytes, in the ``whsec_`` form receivers' libraries expect."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def webhook_secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret; ``ValueError`` says why a secret is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with {SECRET_PREFIX!r} (a Standard Webhooks secret)")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError(f"must be {SECRET_PREFIX!r} followed by base64") from None
    low, high = _SECRET_BYTES
    if not low <= len(key) <= high:
        raise ValueError(f"must encode {low} to {high} random bytes, not {len(key)}")
    return key


def channel_from_mapping(name: str, data: Mapping[str, Any]) -> Channel:
    """The channel ``data`` describes, or a ``ChannelError`` naming the first key at fault."""
    if not isinstance(name, str) or not _CHANNEL_NAME.fullmatch(name):
        raise ChannelError(
            "name", "must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    if not isinstance(data, Mapping):
        raise ChannelError(name, f"must be a mapping with a kind, not {type(data).__name__}")
    kind = data.get("kind")
    if kind is None:
        raise ChannelError("kind", f"is required (one of {', '.join(CHANNEL_KINDS)})")
    if kind not in CHANNEL_KINDS:
        raise ChannelError(
            "kind", f"unknown kind {kind!r}; expected one of {', '.join(CHANNEL_KINDS)}"
        )
    allowed = _KEYS[kind]
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ChannelError(
            unknown[0], f"unknown key for a {kind} channel; expected {', '.join(allowed)}"
        )
    reader = _Reader(data)
    if kind == "webhook":
        url = reader.url("url")
        secret = reader.optional_str("secret")
        if secret is None:
            secret = new_webhook_secret()
        else:
            try:
                webhook_secret_key(secret)
            except ValueError as error:
                raise ChannelError("secret", str(error)) from None
        return WebhookChannel(name, url, secret, reader.timeout())
    if kind == "slack":
        return SlackChannel(name, reader.url("url"), reader.timeout())
    if kind == "email":
        return _email_channel(name, reader)
    return LogChannel(name)


def channel_to_mapping(channel: Channel, reveal_secrets: bool) -> dict[str, Any]:
    """The mapping ``channel_from_mapping`` reads back (when revealed), for config files and APIs.

    Unless ``reveal_secrets``, the webhook secret, the SMTP password, a password in a URL and the
    path and query of a Slack URL (its token) are replaced by ``MASK``, so listing channels never
    leaks a credential.
    """
    if isinstance(channel, WebhookChannel):
        return {
            "kind": "webhook",
            "url": channel.url if reveal_secrets else _masked_url(channel.url, mask_path=False),
            "secret": channel.secret if reveal_secrets else MASK,
            "timeout_s": channel.timeout_s,
        }
    if isinstance(channel, SlackChannel):
        return {
            "kind": "slack",
            "url": channel.url if reveal_secrets else _masked_url(channel.url, mask_path=True),
            "timeout_s": channel.timeout_s,
        }
    if isinstance(channel, EmailChannel):
        password = channel.password
        return {
            "kind": "email",
            "host": channel.host,
            "port": channel.port,
            "sender": channel.sender,
            "to": list(channel.to),
            "username": channel.username,
            "password": password if reveal_secrets or password is None else MASK,
            "starttls": channel.starttls,
            "timeout_s": channel.timeout_s,
        }
    return {"kind": "log"}


def _email_channel(name: str, reader: _Reader) -> EmailChannel:
    host = reader.required_str("host")
    if any(c.isspace() for c in host):
        raise ChannelError("host", f"{host!r} is not a host name")
    starttls = reader.optional_bool("starttls", default=False)
    port = reader.port("port", default=587 if starttls else 25)
    sender = reader.address("sender", reader.required_str("sender"))
    to = reader.addresses("to")
    username = reader.optional_str("username")
    password = reader.optional_str("password")
    if (username is None) != (password is None):
        missing = "password" if password is None else "username"
        raise ChannelError(missing, "is required when the other of username and password is set")
    return EmailChannel(
        name, host, port, sender, to, username, password, starttls, reader.timeout()
    )


def _masked_url(url: str, *, mask_path: bool) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username}:{MASK}@{netloc.rpartition('@')[2]}"
    path = "/" + MASK if mask_path and parts.path.strip("/") else parts.path
    query = MASK if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, ""))


@dataclass(frozen=True)
class _Reader:
    """Reads typed values off one channel mapping; every error names the key it read."""

    data: Mapping[str, Any]

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def required_str(self, key: str) -> str:
        value = self.get(key)
        if value is None or value == "":
            raise ChannelError(key, "is required")
        if not isinstance(value, str):
            raise ChannelError(key, f"must be text, not {type(value).__name__}")
        return value

    def optional_str(self, key: str) -> str | None:
        return None if self.get(key) is None else self.required_str(key)

    def optional_bool(self, key: str, *, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ChannelError(key, f"must be true or false, not {value!r}")
        return value

    def url(self, key: str) -> str:
        value = self.required_str(key)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChannelError(key, f"{value!r} is not an http:// or https:// URL")
        if any(c.isspace() for c in value):
            raise ChannelError(key, "must not contain spaces")
        try:
            parts.port  # noqa: B018 -- raises on a port that is not a number from 0 to 65535
        except ValueError:
            raise ChannelError(key, f"{value!r} has an invalid port") from None
        return value

    def port(self, key: str, *, default: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ChannelError(key, f"must be a whole number, not {value!r}")
        if not 1 <= value <= 65535:
            raise ChannelError(key, f"{value} is out of range (1-65535)")
        return value

    def address(self, key: str, value: str) -> str:
        if not _ADDRESS.fullmatch(value):
            raise ChannelError(key, f"{value!r} is not an e-mail address (name@domain)")
        return value

    def addresses(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if value is None or value == [] or value == "":
            raise ChannelError(key, "is required (one address or a list)")
        if isinstance(value, str):
            return (self.address(key, value),)
        if not isinstance(value, list | tuple):
            raise ChannelError(key, f"must be an address or a list of them, not {value!r}")
        found: list[str] = []
        for i, item in enumerate(value):
            where = f"{key}[{i}]"
            if not isinstance(item, str):
                raise ChannelError(where, f"must be an address, not {item!r}")
            found.append(self.address(where, item))
        return tuple(found)

    def timeout(self) -> float:
        value = self.get("timeout_s")
        if value is None:
            return _DEFAULT_TIMEOUT_S
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ChannelError("timeout_s", f"must be a number of seconds, not {value!r}")
        if not 0 < value <= _MAX_TIMEOUT_S:
            raise ChannelError("timeout_s", f"must be more than 0 and at most {_MAX_TIMEOUT_S:g}")
        return float(value)
