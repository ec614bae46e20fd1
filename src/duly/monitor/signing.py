"""Standard Webhooks signatures: how duly signs a webhook and how a receiver checks one.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``, signed with HMAC-SHA256 under
the key inside the ``whsec_`` secret, and sent as ``v1,`` followed by the base64 digest. Signing
the id and the timestamp along with the body means a captured request can neither be replayed
later (the timestamp is checked against the receiver's clock) nor passed off as another alert.
Receivers in any language can use a Standard Webhooks library instead of this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Final

from duly.service.channels import webhook_secret_key

__all__ = ["SIGNATURE_VERSION", "sign", "verify"]

SIGNATURE_VERSION: Final = "v1"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` header value for a body sent at ``timestamp`` (unix seconds)."""
    key = webhook_secret_key(secret)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    content = f"{msg_id}.{timestamp}.".encode() + raw
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance_s: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``body`` and its headers were signed with ``secret`` within ``tolerance_s``.

    ``body`` must be the raw bytes received: parsing the JSON and serializing it again changes
    the bytes and fails the check. Header names are matched in any case. The signature header may
    list several space-separated signatures (senders rotating a secret send one per secret); one
    match is enough. A timestamp more than ``tolerance_s`` away from ``now`` (default: the
    current time) fails, which stops a captured request from being replayed. The comparison
    takes the same time whatever the signature, so it does not leak how much of one was right.
    A ``secret`` that is not a ``whsec_`` secret raises ``ValueError``: that is the receiver's
    mistake, not a forged request.
    """
    webhook_secret_key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not signatures or not timestamp.isascii() or not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_s:
        return False
    expected = sign(secret, msg_id, int(timestamp), body).encode("ascii")
    found = False
    for candidate in signatures.split(" "):
        # Compare every candidate, so the time taken does not tell which one matched.
        found |= hmac.compare_digest(expected, candidate.encode("utf-8"))
    return found
