"""Per-platform Ed25519 signing keys for evidence packages.

Keys are PEM files under a key folder (default ``./var/keys/``, or ``VIGIE_KEYS_DIR``), one per
platform: ``<platform>.ed25519.pem``, created on first use with mode 0600. They are files, not
rows, so database dumps and backups never carry the private key, and an operator can move them
to a secrets mount or HSM-backed path without touching the schema.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DEFAULT_KEYS_DIR = Path("var/keys")


def keys_dir() -> Path:
    return Path(os.environ.get("VIGIE_KEYS_DIR", str(DEFAULT_KEYS_DIR)))


def key_path(platform_id: str, folder: Path | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", platform_id)
    return (folder or keys_dir()) / f"{safe}.ed25519.pem"


def load_or_create_key(platform_id: str, folder: Path | None = None) -> Ed25519PrivateKey:
    path = key_path(platform_id, folder)
    if path.is_file():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key: what a platform publishes for recipients to pin."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key
