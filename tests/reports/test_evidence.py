from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from vigie.reports.audit import verify_chain
from vigie.reports.evidence import VerifyError, export_case, verify_package
from vigie.store.tables import AuditRow


@pytest.fixture()
def package(session: Session, make_case, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    make_case(session)
    out = tmp_path / "outbox" / "case-1"
    export_case(
        session,
        "case-1",
        out,
        actor="alice@example.org",
        authority="pharos",
        keys_folder=tmp_path / "keys",
    )
    return out


def test_package_has_every_file_and_verifies(package: Path) -> None:
    names = sorted(p.name for p in package.iterdir())
    assert names == ["case.json", "case.pdf", "manifest.json", "manifest.sig", "public_key.pem"]
    manifest = verify_package(package)
    assert set(manifest["files"]) == {"case.json", "case.pdf"}  # type: ignore[arg-type]
    assert (package / "case.pdf").read_bytes().startswith(b"%PDF")


def test_case_json_holds_the_facts_and_only_hashes(package: Path) -> None:
    body = json.loads((package / "case.json").read_text())
    case = body["case"]
    assert case["subject"] == "p-adult"
    ages = {p["pseudo_id"]: (p["age"], p["age_source"]) for p in case["parties"]}
    assert ages == {"p-adult": (34, "declared"), "p-child": (13, "estimated")}
    assert {i["category"] for i in case["indicators"]} >= {"secrecy", "known_imagery"}
    assert all(i["explanation"] for i in case["indicators"])
    assert case["media"][0]["hashes"]["md5"]
    assert set(case["media"][0]) == {"id", "at", "sender", "recipients", "hashes", "event_id"}
    assert [a["decision"] for a in case["actions"]] == ["hold", "block"]


def test_export_is_audited(session: Session, package: Path) -> None:
    rows = session.query(AuditRow).filter_by(action="evidence.export").all()
    assert len(rows) == 1
    assert rows[0].actor == "alice@example.org" and rows[0].target == "case-1"
    assert rows[0].details["authority"] == "pharos"
    assert verify_chain(session) is None


def test_changed_file_is_named(package: Path) -> None:
    body = (package / "case.json").read_text().replace("p-adult", "p-other")
    (package / "case.json").write_text(body)
    with pytest.raises(VerifyError, match=r"^case\.json: changed"):
        verify_package(package)


def test_changed_manifest_is_a_bad_signature(package: Path) -> None:
    raw = (package / "manifest.json").read_text().replace("pharos", "x")
    (package / "manifest.json").write_text(raw + " ")
    with pytest.raises(VerifyError, match=r"^manifest\.sig: bad signature"):
        verify_package(package)


def test_extra_and_missing_files_are_named(package: Path) -> None:
    (package / "note.txt").write_text("added later")
    with pytest.raises(VerifyError, match=r"^note\.txt: not listed"):
        verify_package(package)
    (package / "note.txt").unlink()
    (package / "case.pdf").unlink()
    with pytest.raises(VerifyError, match=r"^case\.pdf: missing"):
        verify_package(package)


def test_pinned_key(package: Path, tmp_path: Path) -> None:
    manifest = verify_package(package)
    key = manifest["signature"]["key_sha256"]  # type: ignore[index]
    verify_package(package, expected_key_sha256=key)
    with pytest.raises(VerifyError, match=r"public_key\.pem"):
        verify_package(package, expected_key_sha256="0" * 64)


def test_same_key_is_reused(session: Session, package: Path, tmp_path: Path) -> None:
    second = export_case(
        session, "case-1", tmp_path / "again", actor="bob", keys_folder=tmp_path / "keys"
    )
    assert second.key_fingerprint == verify_package(package)["signature"]["key_sha256"]  # type: ignore[index]
    key_file = next((tmp_path / "keys").iterdir())
    assert key_file.stat().st_mode & 0o077 == 0


def test_refuses_non_empty_folder(session: Session, package: Path) -> None:
    with pytest.raises(FileExistsError):
        export_case(session, "case-1", package, actor="bob")


def test_holds_are_in_the_package(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from vigie.reports.retention import place_hold
    from vigie.settings import RetentionSettings

    make_case(session)
    place_hold(session, "case-1", actor="ref@x", settings=RetentionSettings())
    out = tmp_path / "held"
    export_case(session, "case-1", out, actor="ref@x", keys_folder=tmp_path / "keys")
    body = json.loads((out / "case.json").read_text())
    assert [r["kind"] for r in body["case"]["reports"]] == ["legal_hold"]
    assert body["case"]["reports"][0]["until"]


def test_manifest_cannot_point_outside(package: Path) -> None:
    import json as _json

    from cryptography.hazmat.primitives import serialization

    from vigie.reports.keys import key_path

    manifest = _json.loads((package / "manifest.json").read_text())
    manifest["files"]["../escape"] = "0" * 64
    raw = (_json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    keys = package.parent.parent / "keys"
    key = serialization.load_pem_private_key(key_path("demo", keys).read_bytes(), None)
    (package / "manifest.json").write_bytes(raw)
    (package / "manifest.sig").write_text(key.sign(raw).hex())  # type: ignore[union-attr,call-arg]
    with pytest.raises(VerifyError, match="not a file name"):
        verify_package(package)


def test_encrypted_at_rest_when_a_key_is_set(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from vigie.crypto import EvidenceCryptoError, generate_key
    from vigie.reports.evidence import decrypt_package

    make_case(session)
    key = generate_key()
    out = tmp_path / "enc"
    export_case(session, "case-1", out, actor="a@x", keys_folder=tmp_path / "k", evidence_key=key)
    names = sorted(p.name for p in out.iterdir())
    assert "case.json.enc" in names and "case.pdf.enc" in names and "case.json" not in names
    assert b"p-adult" not in (out / "case.json.enc").read_bytes()
    verify_package(out)  # integrity checks need no key
    opened = decrypt_package(out, tmp_path / "plain", key)
    assert {p.name for p in opened} == {"case.json", "case.pdf"}
    opened_json = json.loads((tmp_path / "plain" / "case.json").read_text())
    assert opened_json["case"]["subject"] == "p-adult"
    with pytest.raises(EvidenceCryptoError):
        decrypt_package(out, tmp_path / "nope", generate_key())
