"""Webhook signatures: ``Vigie-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The MAC covers ``"<t>.<raw body>"`` with the platform's webhook secret. Checking the timestamp
refuses replays of an old delivery; comparing in constant time leaks nothing about the
expected MAC. Several ``v1=`` values may be present while a secret is rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from vigie_client.errors import SignatureError

SIGNATURE_HEADER = "Vigie-Signature"
TOLERANCE_S = 300


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One delivered action; ``id`` is its idempotency key (deliveries are at least once)."""

    id: str
    action: str
    event: str | None
    subject: str | None
    case: str | None
    at: str
    raw: dict[str, Any]


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header Vigie would send for ``body`` (for a receiver's own tests)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_mac(secret, t, body)}"


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            macs.append(value.strip().lower())
    return timestamp, macs


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes | str,
    tolerance_s: int = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs the raw ``body`` with ``secret`` within the window."""
    timestamp, macs = _parse(header or "")
    if timestamp is None or not macs:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    raw = body.encode() if isinstance(body, str) else body
    expected = _mac(secret, timestamp, raw)
    # Every candidate is compared, so the time taken does not say which one matched.
    matches = [hmac.compare_digest(expected, mac) for mac in macs]
    return any(matches)


def parse_webhook(
    secret: str,
    header: str | None,
    body: bytes | str,
    tolerance_s: int = TOLERANCE_S,
    now: float | None = None,
) -> WebhookEvent:
    """The verified payload; ``SignatureError`` when the signature does not hold.

    Pass the body exactly as received: parsing and re-encoding JSON changes the bytes.
    """
    if not verify_signature(secret, header, body, tolerance_s, now):
        raise SignatureError("invalid or expired webhook signature")
    data = json.loads(body)
    return WebhookEvent(
        id=str(data["id"]),
        action=str(data["action"]),
        event=data.get("event"),
        subject=data.get("subject"),
        case=data.get("case"),
        at=str(data.get("at", "")),
        raw=data,
    )
