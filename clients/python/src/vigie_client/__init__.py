"""Python client for Vigie's events API (contract: docs/api.md in the Vigie repository)."""

from vigie_client._core import RetryPolicy
from vigie_client.client import AsyncVigieClient, VigieClient
from vigie_client.errors import (
    AuthError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
    SignatureError,
    ValidationError,
    VigieError,
)
from vigie_client.models import (
    AccountEvent,
    Case,
    EventResult,
    MediaEvent,
    MessageEvent,
    SendResult,
    Signal,
    UserReport,
)
from vigie_client.webhooks import WebhookEvent, parse_webhook, sign, verify_signature

__all__ = [
    "AccountEvent",
    "AsyncVigieClient",
    "AuthError",
    "Case",
    "EventResult",
    "MediaEvent",
    "MessageEvent",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitError",
    "RetryPolicy",
    "SendResult",
    "ServerError",
    "Signal",
    "SignatureError",
    "UserReport",
    "ValidationError",
    "VigieClient",
    "VigieError",
    "WebhookEvent",
    "parse_webhook",
    "sign",
    "verify_signature",
]
