"""From a Vigie case to a CyberTipline report: prepared by one person, approved by another,
sent once.

Why the platform's own ids: NCMEC and the police act on the account ids the platform knows,
never on Vigie's pseudonyms; Vigie keeps those ids sealed (``vigie.pseudonym``) and opens them
only here. Why a draft: the approval is bound to the SHA-256 of the prepared report and its
files (``content_sha256``), the preparer recorded with it is the report's author, and a case
is filed at most once (a draft is claimed by one sender before anything leaves).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigie.reports.approvals import FourEyesError, approvals_for, current_draft
from vigie.reports.audit import append_audit, case_target
from vigie.reports.case_facts import CaseFacts, load_case_facts, parse_time, platform_ids
from vigie.reports.ncmec import (
    CHILD_SEXUAL_ABUSE_MATERIAL,
    ONLINE_ENTICEMENT,
    Account,
    CyberTipReport,
    FileDetails,
    InternetDetail,
    Reporter,
    ReportValidationError,
    build_file_details_xml,
    build_report_xml,
)
from vigie.reports.ncmec_client import (
    NcmecClient,
    NcmecOutcomeUnknown,
    PreparedReport,
    ReportFile,
    SendResult,
)
from vigie.store.reports_tables import ReportSubmissionRow

SEXTORTION = {"sextortion_threat", "payment_demand"}
SOLICITATION = {"image_request", "camera_request"}
AUTHORITY = "ncmec"
DONE = ("sending", "finished")


class AlreadyReported(RuntimeError):
    """The case already has a CyberTipline report (or one is being sent)."""


@dataclass(slots=True)
class ServiceInfo:
    """How the platform presents itself to NCMEC."""

    reporter: Reporter
    service_name: str
    kind: str = "chatImIncident"  # or "onlineGamingIncident"
    game_or_client: str | None = None
    console: str | None = None  # the gaming console, when known (never a conversation id)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ServiceInfo:
        values = dict(data)
        values["reporter"] = Reporter(**values["reporter"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


def report_from_case(facts: CaseFacts, service: ServiceInfo, ids: dict[str, str]) -> CyberTipReport:
    """Incident type, annotations, parties and chat excerpt from the case's facts.

    ``ids`` maps pseudonyms (and the conversation) to the platform's own ids
    (``case_facts.platform_ids``); an account whose id cannot be recovered is refused."""
    categories = set(facts.categories) | {i.category for i in facts.indicators}
    subject = facts.party(facts.subject)
    minors = [p for p in facts.parties if p.role != "subject" and p.age is not None and p.age < 18]
    _require_ids(ids, [facts.subject, *(p.pseudo_id for p in minors)])
    first = min((parse_time(i.at) for i in facts.indicators), default=parse_time(facts.opened_at))
    return CyberTipReport(
        incident_type=(
            CHILD_SEXUAL_ABUSE_MATERIAL if "known_imagery" in categories else ONLINE_ENTICEMENT
        ),
        incident_at=first,
        incident_description="time of the first risk indicator Vigie recorded",
        reporter=service.reporter,
        annotations=_annotations(categories, subject.age if subject else None, bool(minors)),
        internet_details=[_internet_detail(facts, service, ids)],
        reported=Account(
            esp_identifier=ids[facts.subject],
            esp_service=service.service_name,
            age=subject.age if subject else None,
            additional_info=_age_note(subject.age_source if subject else "unknown"),
        ),
        recipients=[
            Account(
                esp_identifier=ids[p.pseudo_id],
                esp_service=service.service_name,
                age=p.age,
                additional_info=_age_note(p.age_source),
            )
            for p in minors
        ],
        additional_info=_indicator_summary(facts),
    )


def _require_ids(ids: dict[str, str], pseudos: list[str]) -> None:
    missing = [p for p in dict.fromkeys(pseudos) if p not in ids]
    if missing:
        raise ReportValidationError(
            [
                f"espIdentifier: the platform's own id of account {p} cannot be recovered "
                "(no sealed reference); NCMEC cannot act on a pseudonym"
                for p in missing
            ]
        )


def _annotations(categories: set[str], subject_age: int | None, minors: bool) -> list[str]:
    annotations = []
    if categories & SEXTORTION:
        annotations.append("sextortion")
    if categories & SOLICITATION:
        annotations.append("csamSolicitation")
    if subject_age is not None and subject_age < 18 and minors:
        annotations.append("minorToMinorInteraction")
    return annotations


def _internet_detail(facts: CaseFacts, service: ServiceInfo, ids: dict[str, str]) -> InternetDetail:
    """The chat or game, the excerpt, and the conversation's own id as additional info."""
    excerpt = "\n".join(f"[{m.at}] {ids.get(m.sender, m.sender)}: {m.text}" for m in facts.messages)
    conversation = ids.get(facts.conversation_id or "")
    gaming = service.kind == "onlineGamingIncident"
    return InternetDetail(
        service.kind,
        service.game_or_client or (None if gaming else service.service_name),
        service.console if gaming else None,
        excerpt or None,
        f"conversation id on {service.service_name}: {conversation}" if conversation else None,
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


def file_from_bytes(
    name: str, content: bytes, facts: CaseFacts, source: str | None = None
) -> ReportFile:
    """A file to attach, with its MD5/SHA1/SHA256, and the case's PDQ when its bytes match
    a medium of the case (a known-imagery match names the list in additional info)."""
    digests = {k: hashlib.new(k.lower(), content).hexdigest() for k in ("MD5", "SHA1", "SHA256")}
    known = next(
        (
            m
            for m in facts.media
            if {m.hashes.get("md5"), m.hashes.get("sha256")} & {digests["MD5"], digests["SHA256"]}
        ),
        None,
    )
    matched = known is not None and any(
        i.category == "known_imagery" and i.media_id == known.id for i in facts.indicators
    )
    details = FileDetails(
        original_file_name=name,
        original_hashes=digests,
        other_hashes={"PDQ": known.hashes["pdq"]} if known and "pdq" in known.hashes else {},
        additional_info=["matched a known-imagery hash list"] if matched else [],
    )
    return ReportFile(name, content, details, source)


def content_sha256(report: CyberTipReport, files: list[ReportFile]) -> str:
    """SHA-256 of exactly what leaves: the report XML, then each file's bytes and details."""
    digest = hashlib.sha256(build_report_xml(report))
    for item in files:
        digest.update(b"\x00file\x00" + item.name.encode())
        digest.update(hashlib.sha256(item.content).digest())
        digest.update(build_file_details_xml("0", "0", item.details))
    return digest.hexdigest()


def build_case_report(session: Session, case_id: str, service: ServiceInfo) -> CyberTipReport:
    facts = load_case_facts(session, case_id)
    return report_from_case(facts, service, platform_ids(session, facts))


def _refuse_if_reported(session: Session, case_id: str) -> None:
    stmt = select(ReportSubmissionRow).where(
        ReportSubmissionRow.case_id == case_id,
        ReportSubmissionRow.authority == AUTHORITY,
        ReportSubmissionRow.status.in_(DONE),
    )
    row = session.scalars(stmt).first()
    if row is not None:
        raise AlreadyReported(
            f"case {case_id} already has a CyberTipline report "
            f"({row.status}, report id {row.external_id or 'not known yet'})"
        )


def prepare_case_report(
    session: Session,
    case_id: str,
    *,
    preparer: str,
    service: ServiceInfo,
    files: list[ReportFile] | None = None,
    now: datetime | None = None,
) -> ReportSubmissionRow:
    """Record the draft a referent will approve: preparer, content hash, service, files.

    The files' bytes are not kept, only their name, source and SHA-256; earlier drafts of
    the case are superseded (their approvals no longer match anything)."""
    _refuse_if_reported(session, case_id)
    facts = load_case_facts(session, case_id)
    report = report_from_case(facts, service, platform_ids(session, facts))
    files = files or []
    digest = content_sha256(report, files)
    session.execute(
        update(ReportSubmissionRow)
        .where(
            ReportSubmissionRow.case_id == case_id,
            ReportSubmissionRow.authority == AUTHORITY,
            ReportSubmissionRow.status == "prepared",
        )
        .values(status="superseded")
    )
    at = now or datetime.now(UTC)
    row = ReportSubmissionRow(
        platform_id=facts.platform_id,
        case_id=case_id,
        authority=AUTHORITY,
        status="prepared",
        actor=preparer,
        at=at,
        details={
            "content_sha256": digest,
            "service": service.to_dict(),
            "files": [
                {
                    "name": f.name,
                    "source": f.source,
                    "sha256": hashlib.sha256(f.content).hexdigest(),
                }
                for f in files
            ],
        },
    )
    session.add(row)
    append_audit(
        session,
        preparer,
        "report.ncmec.prepared",
        case_target(case_id),
        {"content_sha256": digest, "files": len(files)},
        platform_id=facts.platform_id,
        at=at,
    )
    session.flush()
    return row


def read_draft_files(session: Session, draft: ReportSubmissionRow) -> list[ReportFile]:
    """The draft's files, read again from where the preparer took them."""
    facts = load_case_facts(session, draft.case_id)
    files = []
    for item in (draft.details or {}).get("files", []):
        source = item.get("source")
        if not source:
            raise FileNotFoundError(f"{item['name']}: the draft does not say where it came from")
        files.append(file_from_bytes(item["name"], Path(source).read_bytes(), facts, source))
    return files


@dataclass(slots=True)
class Claimed:
    """A draft one sender holds (``sending``), and exactly what it sends."""

    draft_id: int
    case_id: str
    prepared: PreparedReport


def claim_for_sending(
    session: Session,
    case_id: str,
    *,
    files: list[ReportFile] | None = None,
    approval_valid_for: timedelta | None = None,
) -> Claimed:
    """Check the case's approved draft and take it (``prepared`` → ``sending``).

    The report is rebuilt from the case and must hash to what was approved; the author is the
    draft's preparer. Nothing leaves here: the caller commits the claim, then sends (outside
    any transaction, so a slow NCMEC holds no lock), then records the outcome
    (``record_sent``, ``record_failed``, ``record_unknown``). AlreadyReported when another
    sender took it first. Only an approval of the draft's preparer within
    ``approval_valid_for`` (default: ``reports.approval_valid_hours``) counts."""
    _refuse_if_reported(session, case_id)
    draft = current_draft(session, case_id, AUTHORITY)
    if draft is None:
        raise FourEyesError(f"case {case_id}: no prepared report (vigie ncmec prepare)")
    service = ServiceInfo.from_dict(draft.details["service"])
    files = read_draft_files(session, draft) if files is None else files
    report = build_case_report(session, case_id, service)
    approvals = approvals_for(session, case_id, AUTHORITY, approval_valid_for)
    prepared = PreparedReport(report, draft.actor, approvals, files)
    prepared.content_sha256 = content_sha256(report, files)
    NcmecClient.check(prepared)  # four eyes on this content, validation: nothing claimed yet
    claimed = session.execute(
        update(ReportSubmissionRow)
        .where(ReportSubmissionRow.id == draft.id, ReportSubmissionRow.status == "prepared")
        .values(
            status="sending",
            details={**(draft.details or {}), "claimed_at": datetime.now(UTC).isoformat()},
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyReported(f"case {case_id}: another sender took this report")
    return Claimed(draft.id, case_id, prepared)


def send_case_report(
    session: Session,
    client: NcmecClient,
    case_id: str,
    *,
    actor: str,
    files: list[ReportFile] | None = None,
    now: datetime | None = None,
    approval_valid_for: timedelta | None = None,
) -> SendResult:
    """Send the case's approved draft, once: claim it, send, record the outcome.

    The report must hash to what was approved, and only an approval recorded for the draft's
    preparer within ``approval_valid_for`` (default: the ``reports.approval_valid_hours``
    setting) counts (``claim_for_sending``). The claim (``sending``) is committed before
    anything leaves, so a second sender, here or elsewhere, finds the case taken. Commits."""
    try:
        claimed = claim_for_sending(
            session, case_id, files=files, approval_valid_for=approval_valid_for
        )
    except AlreadyReported:
        session.rollback()
        raise
    session.commit()
    try:
        result = client.send(claimed.prepared)
    except NcmecOutcomeUnknown as exc:
        session.rollback()
        record_unknown(session, claimed.draft_id, actor, exc, endpoint=client.base_url)
        session.commit()
        raise
    except Exception as exc:
        session.rollback()
        record_failed(session, claimed.draft_id, actor, exc)
        session.commit()
        raise
    record_sent(session, claimed.draft_id, result, actor=actor, endpoint=client.base_url, at=now)
    session.commit()  # NCMEC has the report: record it at once
    return result


def _draft(session: Session, draft_id: int) -> ReportSubmissionRow:
    draft = session.get(ReportSubmissionRow, draft_id, populate_existing=True)
    if draft is None:
        raise LookupError(f"report draft {draft_id} is gone")
    return draft


def record_failed(session: Session, draft_id: int, actor: str, exc: Exception) -> None:
    """Sending failed and NCMEC holds no finished report: the draft can be sent again (the
    reason stays on it, for the console, until the next attempt succeeds)."""
    draft = _draft(session, draft_id)
    error = str(exc)[:500] or type(exc).__name__
    draft.status = "prepared"
    draft.details = {
        **(draft.details or {}),
        "last_error": {"error": error, "at": datetime.now(UTC).isoformat(), "by": actor},
    }
    append_audit(
        session,
        actor,
        "report.ncmec.failed",
        case_target(draft.case_id),
        {"error": error},
        platform_id=draft.platform_id,
    )


def record_unknown(
    session: Session, draft_id: int, actor: str, exc: NcmecOutcomeUnknown, *, endpoint: str
) -> None:
    """The report may be filed: keep the case taken (``sending``) until someone resolves it
    (``resolve_unknown``: by asking NCMEC, or by hand)."""
    draft = _draft(session, draft_id)
    draft.external_id = exc.report_id
    draft.details = {
        **(draft.details or {}),
        "outcome": "unknown",
        "environment": endpoint,
        "last_error": {"error": str(exc)[:500], "at": datetime.now(UTC).isoformat(), "by": actor},
    }
    append_audit(
        session,
        actor,
        "report.ncmec.unknown",
        case_target(draft.case_id),
        {"report_id": exc.report_id, "error": str(exc)[:500]},
        platform_id=draft.platform_id,
    )


def record_sent(
    session: Session,
    draft_id: int,
    result: SendResult,
    *,
    actor: str,
    endpoint: str,
    at: datetime | None = None,
) -> None:
    draft = _draft(session, draft_id)
    at = at or datetime.now(UTC)
    draft.status, draft.external_id, draft.at = "finished", result.report_id, at
    details = {k: v for k, v in (draft.details or {}).items() if k not in ("last_error", "outcome")}
    draft.details = {
        **details,
        "file_ids": result.file_ids,
        "approved_by": result.approved_by,
        "sent_by": actor,
        "environment": endpoint,
        "already_finished": result.already_finished,
    }
    append_audit(
        session,
        actor,
        "report.ncmec.sent",
        case_target(draft.case_id),
        {
            "report_id": result.report_id,
            "author": draft.actor,
            "approved_by": result.approved_by,
            "content_sha256": draft.details.get("content_sha256"),
            "files": len(result.file_ids),
            "endpoint": endpoint,
            "already_finished": result.already_finished,
        },
        platform_id=draft.platform_id,
        at=at,
    )


# A claim older than this with no recorded outcome is a sender that died mid-way.
STALE_CLAIM = timedelta(minutes=15)


def unresolved(session: Session, case_id: str) -> ReportSubmissionRow | None:
    """The case's report whose sending outcome is unknown (or whose sender died), if any."""
    stmt = select(ReportSubmissionRow).where(
        ReportSubmissionRow.case_id == case_id,
        ReportSubmissionRow.authority == AUTHORITY,
        ReportSubmissionRow.status == "sending",
    )
    for row in session.scalars(stmt):
        if is_unresolved(row):
            return row
    return None


def is_unresolved(row: ReportSubmissionRow, now: datetime | None = None) -> bool:
    if row.status != "sending":
        return False
    details = row.details or {}
    if details.get("outcome") == "unknown":
        return True
    claimed = details.get("claimed_at")
    return not claimed or (now or datetime.now(UTC)) - parse_time(str(claimed)) > STALE_CLAIM


def resolve_unknown(
    session: Session,
    draft_id: int,
    *,
    actor: str,
    filed: bool,
    how: str,
    reason: str = "",
    report_id: str | None = None,
    at: datetime | None = None,
) -> ReportSubmissionRow:
    """Settle a report whose outcome was lost: filed (``finished``, with NCMEC's report id) or
    not (back to ``prepared``: the approval still holds and it can be sent again).

    ``how`` is ``checked`` (NCMEC answered ``NcmecClient.confirm``) or ``manual`` (a person
    checked another way, e.g. NCMEC's acknowledgement; a reason is required). Audited
    ``report.ncmec.resolved``. ValueError when there is nothing to resolve or details lack."""
    draft = _draft(session, draft_id)
    if not is_unresolved(draft):
        raise ValueError(f"case {draft.case_id}: no report with an unknown outcome")
    if how not in ("checked", "manual"):
        raise ValueError(f"unknown resolution {how!r}")
    report_id = (report_id or draft.external_id or "").strip() or None
    if how == "manual" and not reason.strip():
        raise ValueError("a resolution by hand needs a reason (how it was checked)")
    if filed and not report_id:
        raise ValueError("a filed report needs NCMEC's report id")
    at = at or datetime.now(UTC)
    details = {k: v for k, v in (draft.details or {}).items() if k != "outcome"}
    resolution = {"how": how, "filed": filed, "by": actor, "at": at.isoformat(), "reason": reason}
    draft.details = {**details, "resolution": resolution}
    if filed:
        draft.status, draft.external_id, draft.at = "finished", report_id, at
        draft.details = {**draft.details, "sent_by": actor, "last_error": None}
    else:
        draft.status = "prepared"
        draft.details = {
            **draft.details,
            "last_error": {
                "error": f"not filed (resolved {how}): {reason}".strip(),
                "at": at.isoformat(),
                "by": actor,
            },
        }
    append_audit(
        session,
        actor,
        "report.ncmec.resolved",
        case_target(draft.case_id),
        {"how": how, "filed": filed, "report_id": report_id, "reason": reason[:500]},
        platform_id=draft.platform_id,
        at=at,
    )
    return draft
