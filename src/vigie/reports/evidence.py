"""Evidence packages for PHAROS, Point de Contact (INHOPE) and judicial requisitions (OFMIN).

A package is a folder: ``case.pdf`` (for a person), ``case.json`` (the same facts for a
machine), ``manifest.json`` (SHA-256 of every other file), ``manifest.sig`` (Ed25519 signature
of manifest.json's exact bytes, hex) and ``public_key.pem``. Authorities have web forms, not
APIs, so delivery is a folder in an outbox that a person files; every export is audited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from cryptography.exceptions import InvalidSignature
from sqlalchemy.orm import Session

from vigie.crypto import SUFFIX, decrypt, write_encrypted
from vigie.reports.audit import append_audit, case_target
from vigie.reports.authorities import PACKAGES, package_for
from vigie.reports.case_facts import audit_entries_for, load_case_facts, platform_ids
from vigie.reports.keys import fingerprint, load_or_create_key, load_public_pem, public_pem
from vigie.reports.legal_fr import CAVEAT, qualify
from vigie.reports.pdf import render_pdf

FORMAT = "vigie-evidence/1"
MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "public_key.pem"
DEFAULT_OUTBOX = Path("var/outbox")
PURPOSES = {key: a.purpose for key, a in PACKAGES.items()}


@dataclass(slots=True, frozen=True)
class PlatformIdentity:
    """Who answers for the platform: its legal entity and where requisitions go.

    Why in the package: an investigator's next step is a requisition to the platform; the
    package says to whom, so no one has to look it up."""

    legal_entity: str
    requisition_contact: str


@dataclass(slots=True, frozen=True)
class ExportResult:
    folder: Path
    manifest_sha256: str
    key_fingerprint: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_folder(case_id: str, now: datetime, outbox: Path = DEFAULT_OUTBOX) -> Path:
    return outbox / f"{case_id}-{now.strftime('%Y%m%dT%H%M%SZ')}"


def export_case(
    session: Session,
    case_id: str,
    out: Path,
    *,
    actor: str,
    authority: str = "generic",
    keys_folder: Path | None = None,
    now: datetime | None = None,
    evidence_key: str | None = None,
    identity: PlatformIdentity | None = None,
) -> ExportResult:
    """Write the package for ``case_id`` into ``out`` (created; must be empty) and audit it.

    With ``evidence_key``, ``case.json`` and ``case.pdf`` are stored encrypted (``.enc``,
    AES-256-GCM bound to the case and file name); the manifest lists and hashes the files as
    stored, so ``verify`` needs no key, and ``vigie evidence decrypt`` opens them for filing.
    The audit entry joins the caller's transaction: commit it.
    """
    target = package_for(authority)
    now = now or datetime.now(UTC)
    facts = load_case_facts(session, case_id)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    key = load_or_create_key(facts.platform_id, keys_folder)
    pub = key.public_key()
    body = {
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "purpose": target.purpose,
        "authority": target.key,
        "prepared_by": actor,
        "key_sha256": fingerprint(pub),
        "platform_identity": asdict(identity) if identity else None,
        "legal_qualification": {
            "note": CAVEAT,
            "offences": [asdict(q) for q in qualify(facts)],
        },
        "account_ids": platform_ids(session, facts) if target.account_ids else None,
        "case": facts.to_dict(),
        "audit": audit_entries_for(session, case_id),
    }
    text = json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    pdf = render_pdf(facts, body, generated_at=now, lang=target.lang)
    written = [
        write_encrypted(out / name, data, evidence_key, f"{case_id}/{name}").name
        for name, data in (("case.json", text.encode("utf-8")), ("case.pdf", pdf))
    ]
    (out / PUBLIC_KEY).write_bytes(public_pem(pub))
    manifest = {
        "format": FORMAT,
        "case": case_id,
        "platform": facts.platform_id,
        "generated_at": now.isoformat(),
        "generated_by": actor,
        "algorithm": "sha256",
        "files": {name: sha256_file(out / name) for name in written},
        "encrypted": evidence_key is not None,
        "signature": {
            "algorithm": "Ed25519",
            "file": SIGNATURE,
            "public_key": PUBLIC_KEY,
            "key_sha256": fingerprint(pub),
        },
    }
    raw = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    (out / MANIFEST).write_bytes(raw)
    (out / SIGNATURE).write_text(key.sign(raw).hex() + "\n", encoding="ascii")
    manifest_sha = hashlib.sha256(raw).hexdigest()
    append_audit(
        session,
        actor,
        "evidence.export",
        case_target(case_id),
        {
            "authority": authority,
            "folder": str(out),
            "manifest_sha256": manifest_sha,
            "files": manifest["files"],
            "key_sha256": fingerprint(pub),
        },
        platform_id=facts.platform_id,
        at=now,
    )
    session.flush()  # the caller commits (a CLI command, or the store's unit of work)
    return ExportResult(out, manifest_sha, fingerprint(pub))


def decrypt_package(
    folder: Path, out: Path, evidence_key: str, *, expected_key_sha256: str | None = None
) -> list[Path]:
    """Write the readable files of an encrypted package into ``out`` (for filing by hand).

    The package is verified first (signature, then every file's hash): what is opened is
    exactly what was signed. Every listed file must be encrypted (a ``.enc`` file; a plain
    file put beside the manifest is not evidence) and its name must stay inside ``out``
    (a manifest naming ``../x`` wrote outside it: issue 21).
    """
    manifest = verify_package(folder, expected_key_sha256=expected_key_sha256)
    files = manifest.get("files", {})
    assert isinstance(files, dict)  # verify_package checked every entry
    plain_names = [_opened_name(name) for name in files]
    out.mkdir(parents=True, exist_ok=True)
    opened = []
    for name, plain in zip(files, plain_names, strict=True):
        context = f"{manifest['case']}/{plain}"
        data = decrypt(evidence_key, (folder / name).read_bytes(), context)
        target = out / plain
        target.write_bytes(data)
        opened.append(target)
    return opened


def _opened_name(name: str) -> str:
    """The name a listed file is opened under; VerifyError when it is not an encrypted file
    or would not be a plain file name inside the output folder."""
    if not name.endswith(SUFFIX):
        raise VerifyError(f"{name}: not encrypted; decrypt opens only {SUFFIX} files")
    plain = name.removesuffix(SUFFIX)
    if not plain or Path(plain).name != plain or plain in {".", ".."} or plain.startswith("."):
        raise VerifyError(f"{name}: not a file name of this package")
    return plain


class VerifyError(Exception):
    """A package that does not hold; the message names the file or the signature."""


def verify_package(folder: Path, *, expected_key_sha256: str | None = None) -> dict[str, object]:
    """Check signature first (it covers the manifest), then every listed file; return manifest.

    Files in the folder that the manifest does not list are reported too: a package is exactly
    what was signed.
    """
    for name in (MANIFEST, SIGNATURE, PUBLIC_KEY):
        if not (folder / name).is_file():
            raise VerifyError(f"{name}: missing")
    raw = (folder / MANIFEST).read_bytes()
    try:
        key = load_public_pem((folder / PUBLIC_KEY).read_bytes())
        key.verify(bytes.fromhex((folder / SIGNATURE).read_text().strip()), raw)
    except (InvalidSignature, ValueError) as exc:
        raise VerifyError(f"{SIGNATURE}: bad signature of {MANIFEST} ({exc or 'invalid'})") from exc
    manifest = json.loads(raw)
    signature = manifest.get("signature", {})
    if signature.get("key_sha256") != fingerprint(key):
        raise VerifyError(f"{PUBLIC_KEY}: does not match the key named in {MANIFEST}")
    if expected_key_sha256 and fingerprint(key) != expected_key_sha256.lower():
        raise VerifyError(
            f"{PUBLIC_KEY}: signed with key {fingerprint(key)}, not the expected "
            f"{expected_key_sha256}"
        )
    files: dict[str, str] = manifest.get("files", {})
    for name, digest in sorted(files.items()):
        if "/" in name or "\\" in name or name.startswith("."):
            raise VerifyError(f"{name}: not a file name of this package")
        path = folder / name
        if not path.is_file():
            raise VerifyError(f"{name}: missing")
        if sha256_file(path) != digest:
            raise VerifyError(f"{name}: changed (SHA-256 differs from {MANIFEST})")
    known = set(files) | {MANIFEST, SIGNATURE, PUBLIC_KEY}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in known)
    if extra:
        raise VerifyError(f"{extra[0]}: not listed in {MANIFEST}")
    return cast(dict[str, object], manifest)
