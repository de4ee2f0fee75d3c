"""Pseudonymous identifiers: Vigie never stores a platform's account or conversation ids.

An id becomes ``HMAC-SHA256(platform secret, kind + ":" + id)``; the same person keeps the same
pseudonym on one platform, and two platforms' pseudonyms cannot be linked. The original id is
kept only encrypted with a key derived from the same secret, so it can be handed back to its own
platform (which already knows it) and to no one else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken


@lru_cache(maxsize=65536)
def pseudonymise(secret: str, kind: str, external_id: str) -> str:
    """A stable 32-hex-character pseudonym for ``external_id`` on one platform.

    Cached: the same people and conversations come back event after event."""
    mac = hmac.new(secret.encode(), f"{kind}:{external_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


@lru_cache(maxsize=1024)
def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(f"vigie-external-ref:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


@lru_cache(maxsize=65536)
def seal(secret: str, external_id: str) -> str:
    """Encrypt the platform's own id so only that platform's secret can reveal it.

    Cached: any token opens to the same id, and encrypting on every event is costly.
    """
    return _fernet(secret).encrypt(external_id.encode()).decode()


def unseal(secret: str, token: str | None) -> str | None:
    """The platform's own id, or ``None`` when it cannot be recovered."""
    if not token:
        return None
    try:
        return _fernet(secret).decrypt(token.encode()).decode()
    except InvalidToken:
        return None
