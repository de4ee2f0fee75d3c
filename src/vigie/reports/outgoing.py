"""Reports as the console works them: prepared, previewed, approved, then sent or handed over.

Why a frozen package: an evidence package holds the audit entries and the time it was made,
so one generated again later differs from the one a référent read. The package is written
once, when the report is prepared (signed, in the outbox); its manifest's SHA-256 is what the
second référent approves, and that folder is exactly what is downloaded and filed.

For NCMEC the report itself is the CyberTipline draft ``vigie ncmec prepare`` records
(``ncmec_case.prepare_case_report``): its content hash is what is approved and what
``send`` checks; the evidence package (in English) is kept beside it as the record.

One row of ``report_submissions`` per prepared report: ``prepared`` → (``sending`` →)
``finished`` (sent to NCMEC with its report id, or filed by hand with the authority's
reference), ``superseded`` by a newer preparation, ``rejected`` by the second référent.
``details`` names the console decision it belongs to (``action_id``).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigie.crypto import SUFFIX, decrypt
from vigie.reports import ncmec_case
from vigie.reports.audit import append_audit, case_target
from vigie.reports.authorities import AUTHORITIES, package_for
from vigie.reports.evidence import (
    MANIFEST,
    PlatformIdentity,
    export_case,
    verify_package,
)
from vigie.reports.ncmec import Reporter, build_report_xml
from vigie.store.reports_tables import ReportSubmissionRow
from vigie.store.tables import CaseRow

NCMEC = ncmec_case.AUTHORITY
# Authorities with web forms and no API: a person downloads the package and files it.
FILED_BY_HAND = tuple(a for a in AUTHORITIES if a != NCMEC)
PACKAGE_FILES = ("case.pdf", "case.json")


class ReportNotReady(ValueError):
    """What the report lacks to be prepared or to leave (configuration, approval, state)."""


@dataclass(slots=True, frozen=True)
class Outgoing:
    """Where prepared reports go and who the platform is (from ``settings.reports``)."""

    outbox: Path
    keys_dir: Path | None = None
    evidence_key: str | None = None
    identity: PlatformIdentity | None = None
    reporter_email: str | None = None
    service_name: str | None = None
    legal_url: str | None = None
    game: str | None = None

    def service(self) -> ncmec_case.ServiceInfo:
        if not self.reporter_email or not self.service_name:
            raise ReportNotReady(
                "NCMEC reporting is not configured: set reports.ncmec_reporter_email and "
                "reports.ncmec_service"
            )
        kind = "onlineGamingIncident" if self.game else "chatImIncident"
        reporter = Reporter(email=self.reporter_email, legal_url=self.legal_url)
        return ncmec_case.ServiceInfo(reporter, self.service_name, kind, self.game)


def prepare_report(
    session: Session,
    case_id: str,
    *,
    authority: str,
    preparer: str,
    config: Outgoing,
    action_id: int | None = None,
    now: datetime | None = None,
) -> ReportSubmissionRow:
    """Prepare the report of a console decision: the signed package, and for NCMEC the
    CyberTipline draft. Earlier preparations for this authority are superseded.

    Raises ReportNotReady (configuration), ``ncmec.ReportValidationError`` (NCMEC cannot take
    this case as it stands) or ``ncmec_case.AlreadyReported``; nothing is recorded then."""
    target = package_for(authority)
    if authority not in AUTHORITIES:
        raise ReportNotReady(f"unknown authority {authority!r}")
    if authority in FILED_BY_HAND and config.identity is None:
        raise ReportNotReady(
            "the authority needs the platform's legal entity and requisition contact: set "
            "reports.legal_entity and reports.requisition_contact"
        )
    now = now or datetime.now(UTC)
    draft = None
    if authority == NCMEC:
        draft = ncmec_case.prepare_case_report(
            session, case_id, preparer=preparer, service=config.service(), now=now
        )
    else:
        _supersede(session, case_id, authority)
    folder = config.outbox / f"{case_id}-{now.strftime('%Y%m%dT%H%M%S%fZ')}-{target.key}"
    package = export_case(
        session,
        case_id,
        folder,
        actor=preparer,
        authority=authority,
        keys_folder=config.keys_dir,
        now=now,
        evidence_key=config.evidence_key,
        identity=config.identity,
    )
    details = {
        "action_id": action_id,
        "package": str(folder),
        "manifest_sha256": package.manifest_sha256,
        "key_sha256": package.key_fingerprint,
    }
    if draft is not None:
        draft.details = {**(draft.details or {}), **details}
        session.flush()
        return draft
    row = ReportSubmissionRow(
        platform_id=_platform_of(session, case_id),
        case_id=case_id,
        authority=authority,
        status="prepared",
        actor=preparer,
        at=now,
        details={**details, "content_sha256": package.manifest_sha256},
    )
    session.add(row)
    append_audit(
        session,
        preparer,
        "report.package.prepared",
        case_target(case_id),
        {"authority": authority, "content_sha256": package.manifest_sha256},
        platform_id=row.platform_id,
        at=now,
    )
    session.flush()
    return row


def _platform_of(session: Session, case_id: str) -> str:
    case = session.get(CaseRow, case_id)
    return case.platform_id if case is not None else ""


def _supersede(session: Session, case_id: str, authority: str) -> None:
    session.execute(
        update(ReportSubmissionRow)
        .where(
            ReportSubmissionRow.case_id == case_id,
            ReportSubmissionRow.authority == authority,
            ReportSubmissionRow.status == "prepared",
        )
        .values(status="superseded")
        .execution_options(synchronize_session=False)
    )


def for_action(session: Session, action_id: int, case_id: str) -> ReportSubmissionRow | None:
    """The report prepared by one console decision (its latest row)."""
    rows = session.scalars(
        select(ReportSubmissionRow)
        .where(ReportSubmissionRow.case_id == case_id)
        .order_by(ReportSubmissionRow.id.desc())
    )
    return next((r for r in rows if (r.details or {}).get("action_id") == action_id), None)


def of_case(session: Session, case_id: str) -> dict[int, ReportSubmissionRow]:
    """Each console decision's report on this case, by decision id."""
    found: dict[int, ReportSubmissionRow] = {}
    rows = session.scalars(
        select(ReportSubmissionRow)
        .where(ReportSubmissionRow.case_id == case_id)
        .order_by(ReportSubmissionRow.id)
    )
    for row in rows:
        action = (row.details or {}).get("action_id")
        if isinstance(action, int):
            found[action] = row
    return found


def reject(session: Session, row: ReportSubmissionRow) -> None:
    """The second référent refused it: it can never be approved or sent."""
    if row.status == "prepared":
        row.status = "rejected"


def state(row: ReportSubmissionRow | None, review: str | None) -> str:
    """One word for where the report stands (the console shows its label): awaiting_approval,
    rejected, approved, failed, sending, unknown, sent, filed, superseded, missing."""
    if review == "rejected":
        return "rejected"
    if row is None:
        return "missing"
    if row.status == "superseded":
        return "superseded"
    if review == "pending":
        return "awaiting_approval"
    if row.status == "finished":
        return "sent" if row.authority == NCMEC else "filed"
    if row.status == "sending":
        return "unknown" if ncmec_case.is_unresolved(row) else "sending"
    if (row.details or {}).get("last_error"):
        return "failed"
    return "approved"


def last_error(row: ReportSubmissionRow | None) -> str | None:
    error = (row.details or {}).get("last_error") if row is not None else None
    return str(error.get("error")) if isinstance(error, dict) else None


def content_hash(row: ReportSubmissionRow) -> str:
    return str((row.details or {}).get("content_sha256") or "")


def package_folder(row: ReportSubmissionRow) -> Path | None:
    folder = (row.details or {}).get("package")
    return Path(folder) if folder else None


def package_file(row: ReportSubmissionRow, name: str, evidence_key: str | None) -> bytes:
    """One readable file of the report's package (``case.pdf``, ``case.json``), decrypted
    when the package is encrypted at rest. FileNotFoundError when it is gone (purged)."""
    if name not in PACKAGE_FILES:
        raise FileNotFoundError(name)
    folder = package_folder(row)
    if folder is None:
        raise FileNotFoundError(name)
    plain, sealed = folder / name, folder / (name + SUFFIX)
    if plain.is_file():
        return plain.read_bytes()
    if sealed.is_file() and evidence_key:
        return decrypt(evidence_key, sealed.read_bytes(), f"{row.case_id}/{name}")
    raise FileNotFoundError(name)


def package_zip(row: ReportSubmissionRow) -> bytes:
    """The signed package exactly as written (verified first), as one zip file for filing.

    An encrypted package stays encrypted; ``vigie evidence decrypt`` opens it."""
    folder = package_folder(row)
    if folder is None or not (folder / MANIFEST).is_file():
        raise FileNotFoundError("the package is gone (purged, or never written)")
    verify_package(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{folder.name}/{path.name}")
    return buffer.getvalue()


def ncmec_xml(session: Session, row: ReportSubmissionRow) -> tuple[bytes, str]:
    """The CyberTipline XML that sending would submit now, and the content hash it gives
    (equal to the draft's unless the case changed since it was prepared)."""
    service = ncmec_case.ServiceInfo.from_dict(row.details["service"])
    report = ncmec_case.build_case_report(session, row.case_id, service)
    files = ncmec_case.read_draft_files(session, row)
    return build_report_xml(report), ncmec_case.content_sha256(report, files)


def mark_filed(
    session: Session,
    row: ReportSubmissionRow,
    *,
    actor: str,
    reference: str,
    approved: bool,
    at: datetime | None = None,
) -> None:
    """A person filed the package with the authority (PHAROS, Point de Contact, OFMIN) and
    records its reference. Only an approved package, once."""
    reference = reference.strip()[:200]
    if row.authority not in FILED_BY_HAND or row.status != "prepared" or not approved:
        raise ReportNotReady("only an approved package not yet filed can be marked filed")
    if not reference:
        raise ReportNotReady("give the reference the authority gave")
    at = at or datetime.now(UTC)
    row.status, row.external_id, row.at = "finished", reference, at
    row.details = {**(row.details or {}), "filed_by": actor}
    append_audit(
        session,
        actor,
        "report.package.filed",
        case_target(row.case_id),
        {"authority": row.authority, "reference": reference, "content_sha256": content_hash(row)},
        platform_id=row.platform_id,
        at=at,
    )
