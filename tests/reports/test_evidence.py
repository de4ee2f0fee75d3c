from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.reports import pdf
from vigie.reports.approvals import record_approval
from vigie.reports.audit import append_audit, verify_chain
from vigie.reports.case_facts import load_case_facts, platform_ids
from vigie.reports.evidence import PlatformIdentity, VerifyError, export_case, verify_package
from vigie.reports.legal_fr import qualify
from vigie.reports.ncmec import Reporter
from vigie.reports.ncmec_case import ServiceInfo, report_from_case
from vigie.store.console_tables import CaseActionRow
from vigie.store.tables import AuditRow, SignalRow

from .conftest import ACCOUNT_IDS, T0

DOC = Path(__file__).resolve().parents[2] / "docs" / "reports.md"
SERVICE = ServiceInfo(Reporter(email="safety@demo.example"), "demo chat")


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
    assert set(manifest["files"]) == {"case.json", "case.pdf"}  # type: ignore[call-overload]
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
    assert rows[0].actor == "alice@example.org" and rows[0].target == "case:case-1"
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


# --- what an investigator needs, and a verifier that is not Vigie's ----------------------------

IDENTITY = PlatformIdentity("Demo Games SAS, RCS Paris 000 000 000", "requisitions@demo.example")


def _console_decision(session: Session) -> None:
    """What the console writes when an officer claims, looks, decides and a referent approves;
    the age question was recorded before the case opened (no case on the signal)."""
    age = session.scalars(select(SignalRow).where(SignalRow.category == "age_probing")).one()
    age.case_id = None
    at = T0 + timedelta(minutes=40)
    session.add(
        CaseActionRow(
            case_id="case-1",
            platform_id="demo",
            subject="p-adult",
            kind="prepare_report",
            rule="grooming-minor",
            reason="adult asks a 13-year-old for secrecy and a private app",
            actor="mod@x",
            at=at,
            report_status="approved",
            authority="pharos",
            reviewed_by="ref@x",
            reviewed_at=at + timedelta(minutes=5),
        )
    )
    for action in ("case.claim", "evidence.reveal", "case.decision"):
        append_audit(session, "mod@x", action, "case:case-1", {"rule": "grooming-minor"}, at=at)
    record_approval(
        session, "case-1", authority="pharos", author="mod@x", approver="ref@x", role="referent"
    )
    session.commit()


def _drawn_text(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every string the PDF draws (its streams are compressed and its fonts subset)."""
    drawn: list[str] = []
    original = pdf._Doc.text_ok

    def record(self: pdf._Doc, value: str) -> str:
        drawn.append(value)
        return original(self, value)

    monkeypatch.setattr(pdf._Doc, "text_ok", record)
    return drawn


def test_package_after_a_console_decision(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_case(session)
    _console_decision(session)
    drawn = _drawn_text(monkeypatch)
    out = tmp_path / "ofmin"
    result = export_case(
        session,
        "case-1",
        out,
        actor="exporter@x",
        authority="ofmin",
        keys_folder=tmp_path / "keys",
        identity=IDENTITY,
    )
    body = json.loads((out / "case.json").read_text())
    case = body["case"]
    (decision,) = case["human_decisions"]
    assert (decision["kind"], decision["actor"], decision["reviewed_by"]) == (
        "prepare_report",
        "mod@x",
        "ref@x",
    )
    assert "secrecy" in decision["reason"]
    assert [a["approver"] for a in case["approvals"]] == ["ref@x"]
    logged = [e["action"] for e in body["audit"]]
    assert {"case.claim", "evidence.reveal", "case.decision", "report.approve"} <= set(logged)
    early = [i["category"] for i in case["indicators"] if i["before_case"]]
    assert early == ["age_probing"]
    articles = [o["article"] for o in body["legal_qualification"]["offences"]]
    assert articles == [
        "Code pénal, art. 227-22",
        "Code pénal, art. 227-22-1",
        "Code pénal, art. 227-23",
    ]
    wording = body["legal_qualification"]["offences"][1]["wording"]
    assert "propositions sexuelles à un mineur de quinze ans" in wording
    assert body["platform_identity"]["requisition_contact"] == "requisitions@demo.example"
    assert body["prepared_by"] == "exporter@x"
    assert body["key_sha256"] == result.key_fingerprint
    assert body["account_ids"]["p-adult"] == ACCOUNT_IDS["p-adult"]
    text = "\n".join(drawn)
    for expected in (
        "Qualifications pénales envisageables",
        "Décisions humaines (console)",
        "relevé avant l'ouverture de l'affaire",
        "Approuvé par (double contrôle): ref@x",
        f"Clé de signature (SHA-256 de la clé publique): {result.key_fingerprint}",
        "Personne morale: Demo Games SAS",
        ACCOUNT_IDS["p-child"],
    ):
        assert expected in text
    facts = load_case_facts(session, "case-1")
    report = report_from_case(facts, SERVICE, platform_ids(session, facts))
    assert report.incident_at == T0 + timedelta(minutes=2)  # the age question, message 3


def test_only_requisitions_carry_account_ids(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    make_case(session)
    out = tmp_path / "pharos"
    export_case(session, "case-1", out, actor="a@x", authority="pharos", keys_folder=tmp_path)
    body = json.loads((out / "case.json").read_text())
    assert body["account_ids"] is None
    assert ACCOUNT_IDS["p-adult"] not in (out / "case.json").read_text()
    with pytest.raises(ValueError, match="police"):
        export_case(session, "case-1", tmp_path / "x", actor="a@x", authority="police")


def test_sextortion_is_qualified_as_blackmail(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
) -> None:
    make_case(session)
    facts = load_case_facts(session, "case-1")
    facts.categories.append("payment_demand")
    assert "Code pénal, art. 312-10" in [q.article for q in qualify(facts)]
    facts.parties[1].age = 16  # 227-22-1 is for minors under fifteen
    assert "Code pénal, art. 227-22-1" not in [q.article for q in qualify(facts)]


def _doc_block(marker: str) -> str:
    """A fenced block of docs/reports.md, the one after ``<!-- test: marker -->``."""
    text = DOC.read_text(encoding="utf-8")
    after = text.split(f"<!-- test: {marker} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def _pynacl(folder: Path, script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), str(folder)], capture_output=True, text=True, check=False
    )


def _openssl(folder: Path) -> subprocess.CompletedProcess[str]:
    for tool in ("openssl", "xxd", "jq", "sha256sum"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _doc_block("openssl")],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def test_documented_verifiers_that_are_not_vigies(package: Path, tmp_path: Path) -> None:
    script = tmp_path / "verify.py"
    script.write_text(_doc_block("pynacl"))
    fingerprint = verify_package(package)["signature"]["key_sha256"]  # type: ignore[index]
    ok = _pynacl(package, script)
    assert ok.returncode == 0 and f"OK key-sha256 {fingerprint}" in ok.stdout, ok.stderr
    ssl = _openssl(package)
    assert ssl.returncode == 0, ssl.stderr
    assert "Signature Verified Successfully" in ssl.stdout and fingerprint in ssl.stdout
    flipped = tmp_path / "flipped"
    shutil.copytree(package, flipped)
    pdf_bytes = bytearray((flipped / "case.pdf").read_bytes())
    pdf_bytes[len(pdf_bytes) // 2] ^= 0x01
    (flipped / "case.pdf").write_bytes(bytes(pdf_bytes))
    bad = _pynacl(flipped, script)
    assert bad.returncode != 0 and "case.pdf: changed" in bad.stderr
    bad_ssl = _openssl(flipped)
    assert bad_ssl.returncode != 0 and "case.pdf: FAILED" in bad_ssl.stdout
    signed = tmp_path / "resigned"
    shutil.copytree(package, signed)
    (signed / "manifest.json").write_bytes((signed / "manifest.json").read_bytes() + b" ")
    assert _pynacl(signed, script).returncode != 0
    assert "Signature Verification Failure" in _openssl(signed).stdout


# --- vigie evidence decrypt: verify first, never outside its folder (issue 21) --------------


def _encrypted(session: Session, make_case, tmp_path: Path) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    from vigie.crypto import generate_key

    make_case(session)
    key = generate_key()
    out = tmp_path / "outbox" / "enc"
    export_case(
        session, "case-1", out, actor="a@x", keys_folder=tmp_path / "keys", evidence_key=key
    )
    return out, key


def _resign(package: Path, keys: Path, change: Any) -> None:
    """Change the manifest and sign it again with the platform's own key (a forger who holds
    it, or a manifest edited before signing): decrypt must still refuse what is unsafe."""
    from cryptography.hazmat.primitives import serialization

    from vigie.reports.keys import key_path

    manifest = json.loads((package / "manifest.json").read_text())
    change(manifest)
    raw = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    key = serialization.load_pem_private_key(key_path("demo", keys).read_bytes(), None)
    (package / "manifest.json").write_bytes(raw)
    (package / "manifest.sig").write_text(key.sign(raw).hex())  # type: ignore[union-attr,call-arg]


def test_decrypt_verifies_the_package_first(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from vigie.reports.evidence import decrypt_package

    package, key = _encrypted(session, make_case, tmp_path)
    blob = bytearray((package / "case.pdf.enc").read_bytes())
    blob[-1] ^= 1
    (package / "case.pdf.enc").write_bytes(bytes(blob))
    with pytest.raises(VerifyError, match=r"case\.pdf\.enc: changed"):
        decrypt_package(package, tmp_path / "plain", key)
    assert not (tmp_path / "plain").exists()  # nothing opened, not even case.json


def test_decrypt_never_writes_outside_its_folder(
    session: Session, make_case, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from vigie.crypto import encrypt
    from vigie.reports.evidence import decrypt_package

    package, key = _encrypted(session, make_case, tmp_path)
    escape = package / ".." / "escape.enc"
    escape.write_bytes(encrypt(key, b"planted", "case-1/../escape"))
    _resign(package, tmp_path / "keys", lambda m: m["files"].update({"../escape.enc": "0" * 64}))
    with pytest.raises(VerifyError, match="not a file name"):
        decrypt_package(package, tmp_path / "out" / "plain", key)
    assert not (tmp_path / "out" / "escape").exists()
    assert not (tmp_path / "out").exists()


def test_decrypt_opens_only_encrypted_files(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A plain file listed instead of its ``.enc`` (or a package never encrypted) is refused:
    decrypt used to read whatever plain file sat there, unchecked."""
    from vigie.crypto import generate_key
    from vigie.reports.evidence import decrypt_package

    make_case(session)
    plain = tmp_path / "outbox" / "plain"
    export_case(session, "case-1", plain, actor="a@x", keys_folder=tmp_path / "keys")
    with pytest.raises(VerifyError, match="not encrypted"):
        decrypt_package(plain, tmp_path / "opened", generate_key())
    assert not (tmp_path / "opened").exists()
