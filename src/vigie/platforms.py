"""Platforms (tenants) and their API keys. Keys are shown once and stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from vigie.domain import Platform
from vigie.store.base import Unit

KEY_PREFIX = "vg_"
# How long a serving process may keep accepting a key after it was revoked: valid keys are
# cached that long (api/auth.py, api/decider.py), and ``vigie platform rotate-key`` says so.
KEY_CACHE_SECONDS = 30.0


def hash_api_key(key: str) -> str:
    """SHA-256 is enough here: keys are 256-bit random, so there is nothing to brute-force."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(slots=True)
class NewPlatform:
    platform: Platform
    api_key: str


def new_key_hint(name: str) -> str:
    """How to get a key for an existing platform: keys are shown once, so a lost one is
    replaced, never shown again."""
    return f"for a new API key (the old one then stops working): vigie platform rotate-key {name}"


class PlatformExists(ValueError):
    """A platform of that name is already there (the command line says how to get a new key)."""


class UnknownPlatform(ValueError):
    """No platform has that name."""


def create_platform(unit: Unit, name: str, webhook_url: str | None = None) -> NewPlatform:
    """Create a platform with its pseudonymisation secret, first API key and webhook secret."""
    if unit.platform_by_name(name) is not None:
        raise PlatformExists(f"a platform named {name!r} already exists")
    platform = Platform(
        id="pf_" + secrets.token_hex(8),
        name=name,
        pseudonym_secret=secrets.token_hex(32),
        webhook_url=webhook_url,
        webhook_secret=("whsec_" + secrets.token_hex(24)) if webhook_url else None,
        created_at=datetime.now(UTC),
    )
    unit.add_platform(platform)
    key = issue_api_key(unit, platform.id)
    unit.audit("cli", "platform.create", platform.id, {"name": name}, platform.id)
    return NewPlatform(platform, key)


def rotate_api_key(unit: Unit, name: str) -> NewPlatform:
    """Revoke every key of the platform ``name`` and issue a new one, in the audit trail.

    Keys are stored only as hashes, so a lost key cannot be shown again: a new one is the way
    back, and the old ones stop working so a key that leaked is not left valid.
    """
    platform = unit.platform_by_name(name)
    if platform is None:
        raise UnknownPlatform(f"no platform named {name!r}")
    revoked = unit.revoke_api_keys(platform.id)
    key = issue_api_key(unit, platform.id)
    details = {"name": name, "revoked_keys": revoked, "new_key_prefix": key[:8]}
    unit.audit("cli", "platform.rotate_key", platform.id, details, platform.id)
    return NewPlatform(platform, key)


def issue_api_key(unit: Unit, platform_id: str) -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    unit.add_api_key(platform_id, key[:8], hash_api_key(key))
    return key


def authenticate(unit: Unit, key: str) -> Platform | None:
    """The platform owning ``key``, or ``None``."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    return unit.platform_by_key_hash(hash_api_key(key))
