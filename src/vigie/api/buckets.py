"""Token buckets, and the request and failure counts a rate limiter keeps in them.

In this process's memory (:class:`LocalCounts`); ``shared_limits.py`` keeps the same counts
in Redis for every process, and falls back to these when Redis does not answer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

# At most this many buckets are kept; the least recently used are forgotten first.
MAX_BUCKETS = 50_000


class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``capacity`` per ``period`` seconds."""

    __slots__ = ("capacity", "last", "rate", "tokens")

    def __init__(self, capacity: float, period: float, now: float) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self.tokens = capacity
        self.last = now

    def take(self, now: float) -> float:
        """Take one token; 0.0 on success, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Buckets:
    """A bounded table of token buckets keyed by an opaque identity."""

    def __init__(self, per_minute: int, max_size: int = MAX_BUCKETS) -> None:
        self.per_minute = per_minute
        self.max_size = max_size
        self._table: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, identity: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        bucket = self._table.get(identity)
        if bucket is None:
            bucket = TokenBucket(self.per_minute, 60.0, now)
            self._table[identity] = bucket
            if len(self._table) > self.max_size:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(identity)
        return bucket.take(now)

    def __len__(self) -> int:
        return len(self._table)


class LocalCounts:
    """Request and failure buckets in this process's memory (no ``redis_url``)."""

    def __init__(self, per_minute: int, failures_per_minute: int) -> None:
        self.requests = Buckets(per_minute)
        self.failures = Buckets(failures_per_minute)
        self.blocked_until: dict[str, float] = {}

    def blocked(self, address: str) -> float:
        """Seconds the address is still refused for failed keys (0.0: not blocked)."""
        return max(0.0, self.blocked_until.get(address, 0.0) - time.monotonic())

    def take(self, who: str, address: str) -> float:
        """Take ``who``'s token unless ``address`` is blocked: seconds to wait, 0.0 if allowed."""
        return self.blocked(address) or self.requests.take(who)

    def failed(self, address: str) -> None:
        now = time.monotonic()
        wait = self.failures.take(address, now)
        if wait > 0:
            self.blocked_until[address] = now + wait
            if len(self.blocked_until) > MAX_BUCKETS:
                self.blocked_until.pop(next(iter(self.blocked_until)))


class Counts(Protocol):
    """Where the buckets live: :class:`LocalCounts`, or Redis (``shared_limits.py``)."""

    def blocked(self, address: str) -> float: ...

    def take(self, who: str, address: str) -> float: ...

    def failed(self, address: str) -> None: ...
