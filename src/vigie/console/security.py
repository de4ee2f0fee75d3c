"""Passwords, session tokens, CSRF and the role → permission matrix.

Why server-side sessions: a signed cookie alone cannot be revoked; here the cookie carries a
random token (signed with the settings' secret so forged cookies are refused before any
database work) and the database row decides whether it is still valid (logout, expiry, idle).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("moderator", "referent", "admin", "auditor")
COOKIE = "vigie_session"
LOGIN_CSRF_COOKIE = "vigie_login_csrf"
SESSION_LIFETIME = timedelta(hours=10)
SESSION_IDLE = timedelta(minutes=60)
# Log-in back-off, per (e-mail as typed, client address): the first FREE_FAILURES wrong
# passwords cost nothing; each further one makes that pair wait twice as long, from
# BACKOFF_FIRST up to BACKOFF_MAX. Failures are forgotten FORGET_AFTER the last one.
FREE_FAILURES = 5
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)

# Child-safety evidence (conversation text, media reveal) is its own permission: only the
# people who decide on cases hold it; admins and auditors see metadata and the audit trail.
PERMISSIONS: dict[str, frozenset[str]] = {
    "queue.view": frozenset(ROLES),
    "case.view": frozenset(ROLES),
    "evidence.view": frozenset({"moderator", "referent"}),
    # The platform's own account id (de-pseudonymised): référents, on demand, audited.
    "account.reveal": frozenset({"referent"}),
    "case.claim": frozenset({"moderator", "referent"}),
    "case.decide": frozenset({"moderator", "referent"}),
    "case.escalated": frozenset({"referent"}),
    "note.add": frozenset({"moderator", "referent"}),
    "report.approve": frozenset({"referent"}),
    # Send an approved report to NCMEC, download or mark filed a package, resolve a lost answer.
    "report.send": frozenset({"referent"}),
    "appeal.record": frozenset({"moderator", "referent", "admin"}),
    "appeal.decide": frozenset({"referent"}),
    "audit.view": frozenset({"admin", "auditor"}),
    "decisions.export": frozenset({"referent", "admin", "auditor"}),
    "dashboard.view": frozenset(ROLES),
    "users.manage": frozenset({"admin"}),
    # Practice cases (never real ones): officers practise, admins follow each person's progress.
    "practice.work": frozenset({"moderator", "referent"}),
    "practice.progress": frozenset({"admin"}),
}

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so timing does not tell which accounts exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def backoff(failures: int) -> timedelta:
    """How long a (e-mail, address) pair waits after its ``failures``-th failure in a row.

    Why growing and capped rather than a lock: guessing from one address gets slow fast (ten
    failures: 15 minutes between tries), while the right person from another address is never
    held up, and the wait always ends by itself.
    """
    extra = failures - FREE_FAILURES
    if extra < 0:
        return timedelta(0)
    wait: timedelta = BACKOFF_FIRST * 2 ** min(extra, 20)
    return min(BACKOFF_MAX, wait)


def can(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, frozenset())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database stores: a stolen table does not give usable cookies."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, token: str) -> str:
    mac = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    return f"{token}.{mac}"


def unsign(secret: str, value: str | None) -> str | None:
    if not value or "." not in value:
        return None
    token, mac = value.rsplit(".", 1)
    good = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    return token if hmac.compare_digest(mac, good) else None


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
