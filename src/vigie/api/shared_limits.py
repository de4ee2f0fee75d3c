"""Rate-limit buckets in Redis, so every ``vigie serve`` process and node shares them.

Without it each process has its own buckets: with ``--workers N`` or N nodes a platform
gets N times its limit (issue 21). With ``redis_url`` set, a request's token and a failed
key's token are taken by one Lua script each, atomically, on Redis's clock (the nodes'
clocks need not agree): one round trip of about 0.1 ms on a local network.

A bucket is a hash ``{tokens, last}`` that expires after a full period unused (it would be
full again by then). An address blocked for failed keys is a key with the block's expiry.

When Redis does not answer, the limits fall back to this process's own buckets for
``RETRY_AFTER_S`` (logged), rather than refusing everyone or stalling each request on a
timeout: a limiter must not become the outage.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from vigie.api.buckets import LocalCounts

log = logging.getLogger(__name__)

PREFIX = "vigie:rl:"
PERIOD_MS = 60_000
TIMEOUT_S = 0.25  # a Redis slower than this counts as down
RETRY_AFTER_S = 5.0  # how long the local buckets stand in once Redis failed

# KEYS[1]: the bucket; KEYS[2]: the client address's block.
# ARGV: capacity, period (ms), mode: "take" (refused while the address is blocked) or "fail"
# (a failed key: an empty bucket blocks the address until a token is back).
# Returns the milliseconds to wait, 0 when the token was taken.
_SCRIPT = """
local capacity, period, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
if mode == 'take' then
  local blocked = redis.call('PTTL', KEYS[2])
  if blocked > 0 then return blocked end
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(state[1]) or capacity
local last = tonumber(state[2]) or now
local rate = capacity / period
tokens = math.min(capacity, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(now))
redis.call('PEXPIRE', KEYS[1], period)
if mode == 'fail' and wait > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', wait)
end
return wait
"""


class RedisCounts:
    """The request and failure buckets of the rate limiter (``ratelimit.py``), in Redis."""

    def __init__(
        self, url: str, per_minute: int, failures_per_minute: int, prefix: str = PREFIX
    ) -> None:
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        self.script = self.client.register_script(_SCRIPT)
        self.per_minute = per_minute
        self.failures_per_minute = failures_per_minute
        self.prefix = prefix
        self.local = LocalCounts(per_minute, failures_per_minute)
        self._down_until = 0.0

    def blocked(self, address: str) -> float:
        ms = self._call(lambda: self.client.pttl(self._blocked_key(address)))
        if ms is None:
            return self.local.blocked(address)
        return max(0, int(ms)) / 1000

    def take(self, who: str, address: str) -> float:
        keys = [self.prefix + "req:" + who, self._blocked_key(address)]
        ms = self._call(lambda: self.script(keys, [self.per_minute, PERIOD_MS, "take"]))
        return self.local.take(who, address) if ms is None else int(ms) / 1000

    def failed(self, address: str) -> None:
        keys = [self.prefix + "fail:" + address, self._blocked_key(address)]
        args: list[int | str] = [self.failures_per_minute, PERIOD_MS, "fail"]
        if self._call(lambda: self.script(keys, args)) is None:
            self.local.failed(address)

    def _blocked_key(self, address: str) -> str:
        return self.prefix + "blocked:" + address

    def _call(self, command: Any) -> Any:
        """The command's answer; None while Redis is down (the caller counts locally)."""
        import redis

        if time.monotonic() < self._down_until:
            return None
        try:
            return command()
        except redis.RedisError as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_S
            log.warning("rate limits: Redis unreachable (%s); counting in this process", exc)
            return None
