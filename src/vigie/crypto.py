"""Evidence encryption at rest (AES-256-GCM), used when ``settings.evidence_key`` is set.

Why: evidence packages and any kept media sit on disk until a person files them with an
authority; a copied disk or backup must not hand over children's conversations. Why AES-GCM
with associated data: each blob is bound to what it is (``context``, e.g. ``case-42/case.pdf``),
so an encrypted file swapped for another one fails to open instead of passing as evidence.

The configured key is either 32 random bytes in URL-safe base64 (recommended; print one with
``python -c "from vigie.crypto import generate_key; print(generate_key())"``) or a passphrase
of 16 characters or more, stretched with scrypt (slow on purpose). The
same key opens every blob, so rotating it means re-encrypting (``reencrypt``).

Blob layout: ``VGE1`` | 12-byte nonce | ciphertext and 16-byte tag.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"VGE1"
NONCE_BYTES = 12
SUFFIX = ".enc"
# Fixed salt: the passphrase form exists for operators who cannot store a random key; a
# per-install random key (generate_key) is the recommended form and needs no salt.
_SALT = b"vigie-evidence-key/1"


class EvidenceCryptoError(ValueError):
    """A blob that cannot be opened: wrong key, changed bytes, or a different context."""


def generate_key() -> str:
    """A new random key, in the form ``settings.evidence_key`` expects."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@lru_cache(maxsize=8)
def _key_bytes(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode())
        if len(raw) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    if len(key) < 16:
        raise EvidenceCryptoError("evidence_key: use generate_key() or a passphrase of 16+ chars")
    return Scrypt(salt=_SALT, length=32, n=2**15, r=8, p=1).derive(key.encode())


def is_encrypted(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def encrypt(key: str, data: bytes, context: str) -> bytes:
    """Encrypt ``data``, bound to ``context`` (say what the blob is: case and file name)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key_bytes(key)).encrypt(nonce, data, context.encode())
    return MAGIC + nonce + sealed


def decrypt(key: str, blob: bytes, context: str) -> bytes:
    """The plaintext, or :class:`EvidenceCryptoError` naming why it cannot be opened."""
    if not is_encrypted(blob):
        raise EvidenceCryptoError(f"{context}: not a Vigie encrypted blob")
    nonce, sealed = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES], blob[len(MAGIC) + NONCE_BYTES :]
    try:
        return AESGCM(_key_bytes(key)).decrypt(nonce, sealed, context.encode())
    except InvalidTag as exc:
        raise EvidenceCryptoError(
            f"{context}: wrong key, changed bytes, or another file's content"
        ) from exc


def write_encrypted(path: Path, data: bytes, key: str | None, context: str) -> Path:
    """Write ``data`` to ``path``, encrypted to ``path + .enc`` when a key is configured.

    Returns the path actually written, so callers can list it in a manifest.
    """
    if key is None:
        path.write_bytes(data)
        return path
    target = path.with_name(path.name + SUFFIX)
    target.write_bytes(encrypt(key, data, context))
    return target


def read_maybe_encrypted(path: Path, key: str | None, context: str) -> bytes:
    """Read a file written by :func:`write_encrypted` (plain or ``.enc``)."""
    encrypted = path if path.name.endswith(SUFFIX) else path.with_name(path.name + SUFFIX)
    if encrypted.is_file():
        if key is None:
            raise EvidenceCryptoError(f"{context}: encrypted, and no evidence_key is configured")
        return decrypt(key, encrypted.read_bytes(), context)
    return path.read_bytes()


def reencrypt(blob: bytes, old_key: str, new_key: str, context: str) -> bytes:
    """Key rotation for one blob."""
    return encrypt(new_key, decrypt(old_key, blob, context), context)
