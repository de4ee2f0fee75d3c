"""Typed errors: a platform's code can tell what to fix from what to retry.

``AuthError`` and ``ValidationError`` are the caller's to fix (retrying cannot help);
``RateLimitError`` and ``ServerError`` are raised only once the client's own retries are spent.
"""

from __future__ import annotations

from typing import Any


class VigieError(Exception):
    """Any answer from Vigie that is not a success, or no answer at all."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class AuthError(VigieError):
    """401: the API key is missing, wrong or revoked."""


class ValidationError(VigieError):
    """422: the body was refused; ``field`` names the first offending field (``events.0.text``)
    and ``fields`` lists every ``(field, message)`` pair."""

    def __init__(
        self,
        message: str,
        field: str,
        fields: list[tuple[str, str]],
        status: int = 422,
        body: Any = None,
    ) -> None:
        super().__init__(message, status, body)
        self.field = field
        self.fields = fields


class PayloadTooLargeError(ValidationError):
    """413: the body or file is over the server's limit; send smaller batches."""


class RateLimitError(VigieError):
    """429 (or 503 in asynchronous mode) after every retry; ``retry_after`` in seconds."""

    def __init__(
        self, message: str, retry_after: float | None, status: int = 429, body: Any = None
    ) -> None:
        super().__init__(message, status, body)
        self.retry_after = retry_after


class ServerError(VigieError):
    """5xx, a timeout or a broken connection, after every retry."""


class NotFoundError(VigieError):
    """404: for ``get_result``, the event is not processed (yet)."""


class SignatureError(VigieError):
    """A webhook whose signature is missing, wrong or outside the timestamp window."""
