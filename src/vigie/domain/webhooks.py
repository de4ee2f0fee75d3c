"""Webhook payloads and signatures (contract: docs/api.md, "Webhooks").

Vigie POSTs ``{"id", "action", "event", "subject", "case", "at"}`` with the header
``Vigie-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.
Signing the timestamp with the body lets receivers refuse replays older than five minutes;
``verify_signature`` is what a receiver (or a platform's test suite) calls.

A format, like the event schemas, so it lives with the domain: the store writes payloads into
the outbox in the decision's transaction and the dispatcher (``actions/``) signs and sends
them, and neither has to import the other for it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

SIGNATURE_HEADER = "Vigie-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE_S = 300


def payload_id(platform_id: str, event_id: str, action: str) -> str:
    """A stable id for one action on one event: replays of the event give the same id."""
    digest = hashlib.sha256(f"{platform_id}\x1f{event_id}\x1f{action}".encode()).hexdigest()
    return "wh_" + digest[:32]


def webhook_payload(
    platform_id: str,
    action: str,
    event_id: str,
    subject: str | None,
    case_id: str | None,
    at: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The contract's payload for one action; ``extra`` adds optional fields (never renames)."""
    when = (at or datetime.now(UTC)).astimezone(UTC)
    body: dict[str, Any] = {
        "id": payload_id(platform_id, event_id, action),
        "action": action,
        "event": event_id,
        "subject": subject,
        "case": case_id,
        "at": when.isoformat().replace("+00:00", "Z"),
    }
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return body


def encode_body(payload: dict[str, Any]) -> str:
    """The exact bytes that are signed and sent (compact, stable key order)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> str:
    """The ``Vigie-Signature`` header value for this body, signed now (or at ``timestamp``)."""
    raw = body.encode() if isinstance(body, str) else body
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={_mac(secret, t, raw)}"


def _parse_header(header: str) -> tuple[int | None, list[str]]:
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
    now: float | None = None,
    tolerance: int = TOLERANCE_S,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of now.

    Several ``v1=`` values are accepted (one matching is enough) so a secret can be rotated
    without downtime. The comparison is constant-time.
    """
    if not header:
        return False
    timestamp, macs = _parse_header(header)
    if timestamp is None or not macs:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    raw = body.encode() if isinstance(body, str) else body
    expected = _mac(secret, timestamp, raw)
    return any(hmac.compare_digest(expected, mac) for mac in macs)
