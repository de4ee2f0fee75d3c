"""Platform authentication by API key (``Authorization: Bearer <key>``)."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vigie.domain import Platform
from vigie.platforms import KEY_CACHE_SECONDS, authenticate, hash_api_key

_bearer = HTTPBearer(auto_error=False, description="The platform's API key")

KEY_CACHE_SIZE = 10_000


class KeyCache:
    """Valid keys seen recently, by hash, so each request does not read the database.

    Only valid keys are kept (random guesses cannot fill it), for at most
    ``KEY_CACHE_SECONDS``: a revoked key stops working within that time.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Platform, float]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Platform | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, key_hash: str, platform: Platform) -> None:
        with self._lock:
            if len(self._entries) >= KEY_CACHE_SIZE:
                self._entries.clear()
            self._entries[key_hash] = (platform, time.monotonic() + KEY_CACHE_SECONDS)


def _cache(app: Any) -> KeyCache:
    cache = getattr(app.state, "key_cache", None)
    if cache is None:
        cache = app.state.key_cache = KeyCache()
    return cache


def cached_platform(app: Any, authorization: str | None) -> Platform | None:
    """The platform of a ``Bearer`` key already in the cache; ``None`` otherwise (the caller
    then goes the full way, which reads the database and answers 401 when it must)."""
    key = bearer_key(authorization)
    return None if key is None else _cache(app).get(hash_api_key(key))


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, read as FastAPI's HTTPBearer
    reads it (any case of "Bearer", spaces around the key dropped); None without one."""
    scheme, _, key = (authorization or "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def platform_for_key(app: Any, key: str) -> Platform | None:
    """The platform ``key`` belongs to: from the cache, else from the database (cached then);
    None for a wrong key."""
    cache = _cache(app)
    platform = cache.get(hash_api_key(key))
    if platform is None:
        with app.state.store.read() as unit:
            platform = authenticate(unit, key)
        if platform is not None:
            cache.put(hash_api_key(key), platform)
    return platform


def authenticated(app: Any, authorization: str | None) -> Platform | None:
    """The platform of a request's ``Authorization`` header, or None (no key, a wrong key)."""
    key = bearer_key(authorization)
    return None if key is None else platform_for_key(app, key)


async def current_platform(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Platform:
    """The platform the key belongs to; 401 without a valid key.

    Async on purpose: a cache hit is a dictionary lookup, cheaper than a thread hop.
    """
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, MISSING, headers=CHALLENGE)
    platform = platform_for_key(request.app, credentials.credentials)
    if platform is None:
        raise HTTPException(401, INVALID, headers=CHALLENGE)
    request.state.platform_id = platform.id
    return platform


MISSING, INVALID = "missing API key", "invalid API key"
CHALLENGE = {"WWW-Authenticate": "Bearer"}

PlatformDep = Annotated[Platform, Depends(current_platform)]
