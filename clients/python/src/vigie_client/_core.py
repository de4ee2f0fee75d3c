"""What the sync and async clients share: the retry policy and reading answers.

Only the sending and the sleeping differ between the two clients; everything that decides
(retry or not, how long to wait, which error) lives here once.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from vigie_client.errors import (
    AuthError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
    ValidationError,
    VigieError,
)

USER_AGENT = "vigie-client-python/0.1"
# Worth trying again with the same body: busy (429, 503) or a proxy/timeout in between.
RETRYABLE = {429, 500, 502, 503, 504}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying. Exponential back-off with jitter, except that a
    ``Retry-After`` header is obeyed: a server asking for more than ``max_delay_s`` gets the
    error raised at once (``RateLimitError.retry_after`` says when to come back)."""

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return float(backoff * (0.5 + random.random() / 2))


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta or HTTP date); None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text


def _message(body: Any, response: httpx.Response) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return f"HTTP {response.status_code}"


def _validation(body: Any, message: str, status: int) -> ValidationError:
    fields: list[tuple[str, str]] = []
    if isinstance(body, dict):
        fields = [(str(f["field"]), str(f["message"])) for f in body.get("fields") or []]
    first = fields[0][0] if fields else message.partition(":")[0]
    kind = PayloadTooLargeError if status == 413 else ValidationError
    return kind(message, first, fields, status, body)


def error_for(response: httpx.Response) -> VigieError:
    """The typed error for a non-2xx answer."""
    status = response.status_code
    body = _body(response)
    message = _message(body, response)
    if status == 401:
        return AuthError(message, status, body)
    if status in (413, 422):
        return _validation(body, message, status)
    if status == 404:
        return NotFoundError(message, status, body)
    if status in (429, 503) and response.headers.get("retry-after"):
        return RateLimitError(message, retry_after(response), status, body)
    if status >= 500:
        return ServerError(message, status, body)
    return VigieError(message, status, body)


def should_retry(error: VigieError, attempt: int, policy: RetryPolicy) -> tuple[bool, float]:
    """(try again?, seconds to wait first) after ``attempt`` tries ended in ``error``."""
    if attempt >= policy.max_attempts:
        return False, 0.0
    if error.status is not None and error.status not in RETRYABLE:
        return False, 0.0
    wait = policy.delay(attempt, getattr(error, "retry_after", None))
    return wait <= policy.max_delay_s, wait


def transport_error(exc: httpx.HTTPError) -> ServerError:
    return ServerError(f"{type(exc).__name__}: {exc}", None, None)


def headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT}


def batches(events: list[Any], size: int) -> list[list[Any]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def media_form(event: Any) -> dict[str, str]:
    data = event.to_json()
    data.pop("hashes", None)
    return {"event": json.dumps(data)}
