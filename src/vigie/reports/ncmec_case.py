"""From a Vigie case to a CyberTipline report, and the audited, approved sending of it.

Vigie knows pseudonyms, ages and their source, indicators and hashes; the platform adds what
only it has (the account identifiers NCMEC needs, its reporter details, media bytes when the
law requires them) through ``espIdentifier`` mapping and ``ReportFile`` contents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from vigie.reports.approvals import approvals_for
from vigie.reports.audit import append_audit
from vigie.reports.case_facts import CaseFacts, load_case_facts, parse_time
from vigie.reports.ncmec import (
    CHILD_SEXUAL_ABUSE_MATERIAL,
    ONLINE_ENTICEMENT,
    Account,
    CyberTipReport,
    InternetDetail,
    Reporter,
)
from vigie.reports.ncmec_client import NcmecClient, PreparedReport, ReportFile, SendResult
from vigie.store.reports_tables import ReportSubmissionRow

SEXTORTION = {"sextortion_threat", "payment_demand"}
SOLICITATION = {"image_request", "camera_request"}
AUTHORITY = "ncmec"


@dataclass(slots=True)
class ServiceInfo:
    """How the platform presents itself to NCMEC."""

    reporter: Reporter
    service_name: str
    kind: str = "chatImIncident"  # or "onlineGamingIncident"
    game_or_client: str | None = None


def report_from_case(
    facts: CaseFacts, service: ServiceInfo, esp_id: Callable[[str], str] = lambda pseudo: pseudo
) -> CyberTipReport:
    """Incident type, annotations, parties and chat excerpt from the case's facts."""
    categories = set(facts.categories) | {i.category for i in facts.indicators}
    imagery = "known_imagery" in categories
    subject = facts.party(facts.subject)
    minors = [p for p in facts.parties if p.role != "subject" and p.age is not None and p.age < 18]
    annotations = []
    if categories & SEXTORTION:
        annotations.append("sextortion")
    if categories & SOLICITATION:
        annotations.append("csamSolicitation")
    if subject and subject.age is not None and subject.age < 18 and minors:
        annotations.append("minorToMinorInteraction")
    first = min((parse_time(i.at) for i in facts.indicators), default=parse_time(facts.opened_at))
    excerpt = "\n".join(f"[{m.at}] {m.sender}: {m.text}" for m in facts.messages)
    return CyberTipReport(
        incident_type=CHILD_SEXUAL_ABUSE_MATERIAL if imagery else ONLINE_ENTICEMENT,
        incident_at=first,
        incident_description="time of the first risk indicator Vigie recorded",
        reporter=service.reporter,
        annotations=annotations,
        internet_details=[
            InternetDetail(
                service.kind, service.game_or_client, facts.conversation_id, excerpt or None
            )
        ],
        reported=Account(
            esp_identifier=esp_id(facts.subject),
            esp_service=service.service_name,
            screen_name=None,
            age=subject.age if subject else None,
            additional_info=_age_note(subject.age_source if subject else "unknown"),
        ),
        recipients=[
            Account(
                esp_identifier=esp_id(p.pseudo_id),
                esp_service=service.service_name,
                age=p.age,
                additional_info=_age_note(p.age_source),
            )
            for p in minors
        ],
        additional_info=_indicator_summary(facts),
    )


def _age_note(source: str) -> str:
    return f"age source: {source}"


def _indicator_summary(facts: CaseFacts) -> str:
    lines = [f"Vigie case {facts.case_id}; indicators:"]
    lines += [
        f"- {i.at} {i.category}: {i.explanation} ({i.detector}, score {i.score})"
        for i in facts.indicators
    ]
    hashed = [m for m in facts.media if m.hashes]
    if hashed:
        lines.append("media known by hash:")
        lines += [
            f"- {m.at} " + ", ".join(f"{k}={v}" for k, v in sorted(m.hashes.items()))
            for m in hashed
        ]
    return "\n".join(lines)


def send_case_report(
    session: Session,
    client: NcmecClient,
    case_id: str,
    *,
    author: str,
    service: ServiceInfo,
    files: list[ReportFile] | None = None,
    esp_id: Callable[[str], str] = lambda pseudo: pseudo,
    now: datetime | None = None,
) -> SendResult:
    """Build, check approvals, send, and record the submission in the table and the audit trail."""
    facts = load_case_facts(session, case_id)
    prepared = PreparedReport(
        report_from_case(facts, service, esp_id),
        author,
        approvals_for(session, case_id, AUTHORITY),
        files or [],
    )
    result = client.send(prepared)
    at = now or datetime.now(UTC)
    session.add(
        ReportSubmissionRow(
            platform_id=facts.platform_id,
            case_id=case_id,
            authority=AUTHORITY,
            external_id=result.report_id,
            status="finished",
            actor=author,
            at=at,
            details={
                "file_ids": result.file_ids,
                "approved_by": result.approved_by,
                "environment": client.base_url,
            },
        )
    )
    append_audit(
        session,
        author,
        "report.ncmec.sent",
        case_id,
        {
            "report_id": result.report_id,
            "approved_by": result.approved_by,
            "files": len(result.file_ids),
            "endpoint": client.base_url,
        },
        platform_id=facts.platform_id,
        at=at,
    )
    session.flush()  # the caller commits; NCMEC already has the report, so do it at once
    return result
