"""CyberTipline reports, checked against the ``ncmec-cybertip`` reference model of NCMEC's
schema (``ncmec_reference``): every XML document built here goes through it, directly or
through the local server, which refuses what the reference does not read back identically."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigie.reports.approvals import (
    Approval,
    FourEyesError,
    approval_validity,
    record_approval,
    require_four_eyes,
)
from vigie.reports.audit import verify_chain
from vigie.reports.case_facts import load_case_facts, platform_ids
from vigie.reports.ncmec import (
    FILE_ANNOTATIONS,
    INCIDENT_TYPES,
    ONLINE_ENTICEMENT,
    REPORT_ANNOTATIONS,
    Account,
    CyberTipReport,
    FileDetails,
    InternetDetail,
    Reporter,
    ReportValidationError,
    build_file_details_xml,
    build_report_xml,
)
from vigie.reports.ncmec_case import (
    AlreadyReported,
    ServiceInfo,
    file_from_bytes,
    prepare_case_report,
    report_from_case,
    send_case_report,
)
from vigie.reports.ncmec_client import (
    PRODUCTION_URL,
    TEST_URL,
    NcmecClient,
    NcmecError,
    PreparedReport,
    ReportFile,
)
from vigie.settings import Settings, load_settings
from vigie.store.reports_tables import ApprovalRow, ReportSubmissionRow
from vigie.store.tables import AccountRow, AuditRow, SignalRow

from . import ncmec_reference as reference
from .conftest import ACCOUNT_IDS, T0
from .ncmec_server import FakeNcmec

AT = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)
REPORTER = Reporter(
    email="safety@demo-game.example",
    first_name="Safety",
    last_name="Team",
    legal_url="https://demo-game.example/legal-process",
)
SERVICE = ServiceInfo(REPORTER, "demo-game chat", "onlineGamingIncident", "demo-game")
BENIGN = b"benign generated test bytes, not an image"
MEDIA_BYTES = b"benign test bytes"  # conftest's medium: its MD5 is on the case's hash match


def _report() -> CyberTipReport:
    return CyberTipReport(
        incident_type=ONLINE_ENTICEMENT,
        incident_at=AT,
        reporter=REPORTER,
        reported=Account(esp_identifier="u-123", screen_name="player1", age=34),
        recipients=[Account(esp_identifier="u-456", age=13)],
        internet_details=[
            InternetDetail("chatImIncident", "in-game chat", None, "tu as quel âge ?")
        ],
        annotations=["informational", "sextortion", "sadisticOnlineExploitation"],
    )


def _approved(content: str | None = None) -> list[Approval]:
    return [Approval("ref@x", "referent", AT, content)]


@pytest.fixture()
def fake() -> Iterator[FakeNcmec]:
    with FakeNcmec() as server:
        yield server


@pytest.fixture()
def client(fake: FakeNcmec) -> Iterator[NcmecClient]:
    c = NcmecClient("esp", "secret", base_url=fake.url, sleep=lambda s: None, backoff=0)
    yield c
    c.close()


def test_enumerations_are_the_references() -> None:
    assert list(INCIDENT_TYPES) == reference.reference_enum("IncidentType")
    assert ONLINE_ENTICEMENT == "Online Enticement of Children for Sexual Acts"
    assert list(REPORT_ANNOTATIONS) == reference.reference_flags("report", "ReportAnnotations")
    assert list(FILE_ANNOTATIONS) == reference.reference_flags("files", "FileAnnotations")


def test_report_xml_is_what_the_reference_reads() -> None:
    xml = build_report_xml(_report())
    model = reference.check_report(xml)
    assert model.reporter.legal_url == "https://demo-game.example/legal-process"
    assert model.person_or_user_reported.esp_identifier == "u-123"
    assert model.intended_recipient[0].person.age == 13
    annotations = model.incident_summary.report_annotations
    assert annotations.sextortion and annotations.sadistic_online_exploitation
    assert annotations.informational and not annotations.spam
    root = ET.fromstring(xml)
    flags = [c.tag for c in root.find("incidentSummary/reportAnnotations")]  # type: ignore[union-attr]
    assert flags == ["sextortion", "sadisticOnlineExploitation", "informational"]  # schema order


def test_reference_check_catches_what_the_old_builder_sent() -> None:
    """The reference round trip is not lenient: the old element name and value fail it."""
    xml = build_report_xml(_report())
    with pytest.raises(reference.ReferenceMismatch, match="legalUrl"):
        reference.check_report(xml.replace(b"legalURL", b"legalUrl"))
    old = xml.replace(b"Sexual Acts", b"Sexual Act")
    with pytest.raises(reference.ReferenceMismatch, match="incident_type"):
        reference.check_report(old)


def test_validation_names_every_problem() -> None:
    bad = _report()
    bad.incident_type = "Online Enticement of Children for Sexual Act"
    bad.reporter = Reporter(email="nobody")
    bad.annotations = ["urgent"]
    bad.incident_at = datetime(2026, 11, 20)
    bad.reported = Account(esp_identifier="x" * 300, esp_service="s" * 101)
    with pytest.raises(ReportValidationError) as err:
        build_report_xml(bad)
    text = str(err.value)
    for name in ("incidentType", "email", "reportAnnotations", "incidentDateTime"):
        assert name in text
    assert "espIdentifier: 300 characters, at most 255" in text and "espService" in text


def test_file_details_hashes_and_classification() -> None:
    details = FileDetails(
        original_file_name="f.bin",
        industry_classification="B2",
        annotations=["generativeAi", "potentialMeme"],
        original_hashes={
            "MD5": hashlib.md5(BENIGN).hexdigest(),
            "SHA256": hashlib.sha256(BENIGN).hexdigest(),
            "SSDEEP": "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C",
        },
        other_hashes={"PDQ": "a" * 64},
        file_viewed_by_esp=False,
    )
    xml = build_file_details_xml("1001", "f1", details)
    model = reference.check_file_details(xml)
    assert [h.hash_type for h in model.original_file_hash] == ["MD5", "SHA256", "SSDEEP"]
    assert model.details[0].name_value_pair[0].type == "HASH"
    assert model.file_annotations.generative_ai and model.industry_classification == "B2"
    with pytest.raises(ReportValidationError, match="industryClassification"):
        build_file_details_xml("1", "f", FileDetails(industry_classification="C9"))
    supplemental = FileDetails(
        relevance="Supplemental Reported",
        industry_classification="A1",
        annotations=["potentialMeme"],
    )
    with pytest.raises(ReportValidationError, match="only for files") as err:
        build_file_details_xml("1", "f", supplemental)
    assert "potentialMeme" in str(err.value)
    with pytest.raises(ReportValidationError, match="SHA256"):
        build_file_details_xml("1", "f", FileDetails(original_hashes={"SHA256": "xyz"}))


def test_four_eyes_and_content_binding() -> None:
    assert require_four_eyes("mod@x", _approved()).approver == "ref@x"
    with pytest.raises(FourEyesError, match="own report"):
        require_four_eyes("ref@x", [Approval("ref@x", "referent", AT)])
    with pytest.raises(FourEyesError, match="referent"):
        require_four_eyes("mod@x", [Approval("other@x", "moderator", AT)])
    with pytest.raises(FourEyesError):
        require_four_eyes("mod@x", [])
    assert require_four_eyes("mod@x", _approved("a" * 64), "a" * 64).approver == "ref@x"
    with pytest.raises(FourEyesError, match="other content"):
        require_four_eyes("mod@x", _approved("a" * 64), "b" * 64)


def test_environment_switch() -> None:
    assert NcmecClient("u", "p").base_url == TEST_URL
    assert NcmecClient("u", "p", production=True).base_url == PRODUCTION_URL


def test_full_flow_against_local_server(fake: FakeNcmec, client: NcmecClient) -> None:
    md5 = hashlib.md5(BENIGN).hexdigest()
    files = [ReportFile("f.bin", BENIGN, FileDetails(original_hashes={"MD5": md5}))]
    result = client.send(PreparedReport(_report(), "mod@x", _approved(), files))
    stored = fake.reports[result.report_id]
    assert stored["state"] == "finished"
    assert fake.calls == ["/submit", "/upload", "/fileinfo", "/finish"]
    (file_id,) = result.file_ids
    assert stored["files"][file_id]["md5"] == md5
    assert stored["files"][file_id]["details"].findtext("originalFileHash") == md5


def test_server_refuses_what_the_reference_refuses(fake: FakeNcmec, client: NcmecClient) -> None:
    bad = (
        build_report_xml(_report())
        .replace(b"<legalURL>", b"<legalUrl>")
        .replace(b"</legalURL>", b"</legalUrl>")
    )
    answer = client.http.post(f"{fake.url}/submit", content=bad)
    assert answer.status_code == 400 and b"4100" in answer.content


def test_refuses_without_four_eyes(fake: FakeNcmec, client: NcmecClient) -> None:
    with pytest.raises(FourEyesError):
        client.send(PreparedReport(_report(), "ref@x", [Approval("ref@x", "referent", AT)]))
    assert fake.calls == []


def test_submit_is_never_retried_on_an_answer(fake: FakeNcmec, client: NcmecClient) -> None:
    """A 503 may come after the report was stored: resubmitting could file it twice."""
    fake.fail_next = {"/submit": 1}
    with pytest.raises(NcmecError, match="503"):
        client.send(PreparedReport(_report(), "mod@x", _approved()))
    assert fake.calls == ["/submit"]


def test_later_steps_are_retried(fake: FakeNcmec, client: NcmecClient) -> None:
    fake.fail_next = {"/finish": 2}
    result = client.send(PreparedReport(_report(), "mod@x", _approved()))
    assert fake.reports[result.report_id]["state"] == "finished"
    assert fake.calls.count("/finish") == 3 and fake.calls.count("/submit") == 1


def test_gives_up_and_retracts(fake: FakeNcmec) -> None:
    client = NcmecClient("esp", "secret", base_url=fake.url, sleep=lambda s: None, retries=1)
    fake.fail_next = {"/upload": 5}
    files = [ReportFile("f.bin", BENIGN, FileDetails())]
    with pytest.raises(NcmecError):
        client.send(PreparedReport(_report(), "mod@x", _approved(), files))
    assert fake.calls[-1] == "/retract"
    assert next(iter(fake.reports.values()))["state"] == "retracted"


def test_lost_finish_answer_counts_as_filed(fake: FakeNcmec) -> None:
    """/finish reached NCMEC but no answer came back, twice: the retraction answers 5102."""
    client = NcmecClient("esp", "secret", base_url=fake.url, sleep=lambda s: None, retries=1)
    fake.lose_answer = {"/finish": 2}
    result = client.send(PreparedReport(_report(), "mod@x", _approved()))
    assert result.already_finished
    assert fake.calls[-1] == "/retract"
    assert fake.reports[result.report_id]["state"] == "finished"


def test_bad_credentials_empty_401(fake: FakeNcmec) -> None:
    client = NcmecClient("esp", "wrong", base_url=fake.url)
    raw = client.http.get(f"{fake.url}/status")
    assert raw.status_code == 401 and raw.content == b""
    with pytest.raises(NcmecError, match="401"):
        client.status()


def test_connection_refused_is_retried_then_raised() -> None:
    calls: list[float] = []
    client = NcmecClient(
        "u", "p", base_url="http://127.0.0.1:9/ispws", retries=2, sleep=calls.append
    )
    with pytest.raises(httpx.ConnectError):
        client.submit(_report())
    assert len(calls) == 2


# --- from a case: platform ids, one draft, one approval of that content, one report ------------


def _grooming(session: Session) -> None:
    session.execute(delete(SignalRow).where(SignalRow.category == "known_imagery"))
    session.commit()


def _sextortion(session: Session) -> None:
    _grooming(session)
    session.add(
        SignalRow(
            platform_id="demo",
            event_id="c-9-ev-5",
            conversation_id="c-9",
            subject="p-adult",
            case_id="case-1",
            detector="patterns",
            category="sextortion_threat",
            score=0.9,
            explanation="threatens to share images unless paid",
            at=T0,
        )
    )
    session.commit()


def _hash_match(session: Session) -> None:
    """conftest's case already holds a known-imagery match on its medium."""


def _prepare_and_approve(session: Session, files: list[ReportFile] | None = None) -> str:
    draft = prepare_case_report(session, "case-1", preparer="mod@x", service=SERVICE, files=files)
    record_approval(
        session, "case-1", authority="ncmec", author="mod@x", approver="ref@x", role="referent"
    )
    session.commit()
    return str(draft.details["content_sha256"])


@pytest.mark.parametrize(
    ("shape", "incident", "annotations", "attach"),
    [
        (_grooming, ONLINE_ENTICEMENT, [], False),
        (_sextortion, ONLINE_ENTICEMENT, ["sextortion"], False),
        (_hash_match, INCIDENT_TYPES[0], [], True),
    ],
    ids=["grooming", "sextortion", "hash-match"],
)
def test_case_reports_go_through_the_whole_flow(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeNcmec,
    client: NcmecClient,
    shape: Callable[[Session], None],
    incident: str,
    annotations: list[str],
    attach: bool,
) -> None:
    make_case(session)
    shape(session)
    facts = load_case_facts(session, "case-1")
    files = [file_from_bytes("media.bin", MEDIA_BYTES, facts)] + (
        [] if not attach else [file_from_bytes("context.bin", BENIGN, facts)]
    )
    _prepare_and_approve(session, files)
    result = send_case_report(session, client, "case-1", actor="sender@x", files=files)
    assert fake.calls == ["/submit"] + ["/upload", "/fileinfo"] * len(files) + ["/finish"]
    stored = fake.reports[result.report_id]
    model = reference.check_report(ET.tostring(stored["xml"]))
    assert model.incident_summary.incident_type == incident
    flags = model.incident_summary.report_annotations
    assert [a for a in REPORT_ANNOTATIONS if flags and getattr(flags, _snake(a))] == annotations
    assert model.person_or_user_reported.esp_identifier == ACCOUNT_IDS["p-adult"]
    assert model.intended_recipient[0].esp_identifier == ACCOUNT_IDS["p-child"]
    sent = ET.tostring(stored["xml"])
    assert b"p-adult" not in sent and b"p-child" not in sent  # no pseudonym leaves
    assert b"dm-c-9" in sent  # the conversation's own id, as additional info
    assert model.internet_details[0].online_gaming_incident.console is None
    details = [f["details"] for f in stored["files"].values()]
    assert all(d is not None for d in details)
    matched = [d for d in details if "known-imagery" in (d.findtext("additionalInfo") or "")]
    assert len(matched) == (1 if attach else 0)
    row = session.scalars(select(ReportSubmissionRow)).one()
    assert (row.status, row.external_id, row.actor) == ("finished", result.report_id, "mod@x")
    assert verify_chain(session) is None


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def test_case_report_needs_an_approval_of_this_content(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeNcmec,
    client: NcmecClient,
) -> None:
    make_case(session)
    with pytest.raises(FourEyesError, match="no prepared report"):
        send_case_report(session, client, "case-1", actor="mod@x", files=[])
    prepare_case_report(session, "case-1", preparer="mod@x", service=SERVICE)
    with pytest.raises(FourEyesError, match="referent"):
        send_case_report(session, client, "case-1", actor="mod@x", files=[])
    with pytest.raises(FourEyesError, match="own report"):
        record_approval(
            session, "case-1", authority="ncmec", author="mod@x", approver="mod@x", role="referent"
        )
    record_approval(
        session, "case-1", authority="ncmec", author="mod@x", approver="ref@x", role="referent"
    )
    other = ServiceInfo(Reporter(email="other@demo-game.example"), "demo-game chat")
    prepare_case_report(session, "case-1", preparer="mod@x", service=other)  # after approval
    session.commit()
    with pytest.raises(FourEyesError, match="other content"):
        send_case_report(session, client, "case-1", actor="mod@x", files=[])
    assert fake.calls == []


def test_one_report_per_case(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeNcmec,
    client: NcmecClient,
) -> None:
    make_case(session)
    _prepare_and_approve(session)
    first = send_case_report(session, client, "case-1", actor="mod@x", files=[])
    with pytest.raises(AlreadyReported, match=first.report_id):
        send_case_report(session, client, "case-1", actor="other@x", files=[])
    with pytest.raises(AlreadyReported):
        prepare_case_report(session, "case-1", preparer="other@x", service=SERVICE)
    assert fake.calls.count("/submit") == 1


def test_already_finished_is_recorded_as_filed(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeNcmec,
) -> None:
    make_case(session)
    _prepare_and_approve(session)
    client = NcmecClient("esp", "secret", base_url=fake.url, sleep=lambda s: None, retries=1)
    fake.lose_answer = {"/finish": 2}
    result = send_case_report(session, client, "case-1", actor="mod@x", files=[])
    row = session.scalars(select(ReportSubmissionRow)).one()
    assert row.status == "finished" and row.external_id == result.report_id
    assert row.details["already_finished"] is True
    with pytest.raises(AlreadyReported):
        send_case_report(session, client, "case-1", actor="mod@x", files=[])


def test_failed_send_can_be_retried_and_is_audited(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeNcmec,
    client: NcmecClient,
) -> None:
    make_case(session)
    _prepare_and_approve(session)
    fake.fail_next = {"/submit": 1}
    with pytest.raises(NcmecError):
        send_case_report(session, client, "case-1", actor="mod@x", files=[])
    assert session.scalars(select(ReportSubmissionRow.status)).one() == "prepared"
    actions = session.scalars(select(AuditRow.action)).all()
    assert "report.ncmec.failed" in actions
    send_case_report(session, client, "case-1", actor="mod@x", files=[])
    assert session.scalars(select(ReportSubmissionRow.status)).one() == "finished"


def test_unrecoverable_account_id_is_refused(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
) -> None:
    make_case(session)
    session.get(AccountRow, ("demo", "p-adult")).external_ref = None  # type: ignore[union-attr]
    session.commit()
    facts = load_case_facts(session, "case-1")
    with pytest.raises(ReportValidationError, match="p-adult"):
        report_from_case(facts, SERVICE, platform_ids(session, facts))


# --- the author is the recorded preparer; approvals expire (issue 21, finding 7) ---------------


def test_an_approval_names_the_recorded_preparer_never_another(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
) -> None:
    """mod@x prepared the report: mod@x cannot approve it by saying ref@x wrote it."""
    make_case(session)
    draft = prepare_case_report(session, "case-1", preparer="mod@x", service=SERVICE)
    digest = str(draft.details["content_sha256"])
    with pytest.raises(FourEyesError, match="prepared by mod@x"):
        record_approval(
            session,
            "case-1",
            authority="ncmec",
            author="ref@x",
            approver="mod@x",
            role="referent",
            content_sha256=digest,
        )
    approval = record_approval(
        session, "case-1", authority="ncmec", approver="ref@x", role="referent"
    )
    assert (approval.author, approval.content_sha256) == ("mod@x", digest)


def test_an_approval_recorded_for_another_author_does_not_send(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeNcmec,
    client: NcmecClient,
) -> None:
    """A stored approval of this content whose author is not the draft's preparer (written by
    an older Vigie, or by hand) is not an approval of this report."""
    make_case(session)
    draft = prepare_case_report(session, "case-1", preparer="mod@x", service=SERVICE)
    session.add(
        ApprovalRow(
            case_id="case-1",
            authority="ncmec",
            author="someone-else@x",
            approver="ref@x",
            role="referent",
            at=datetime.now(UTC),
            content_sha256=draft.details["content_sha256"],
        )
    )
    session.commit()
    with pytest.raises(FourEyesError, match="no approval"):
        send_case_report(session, client, "case-1", actor="mod@x", files=[])
    assert fake.calls == []


def test_an_approval_expires(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeNcmec,
    client: NcmecClient,
) -> None:
    """An approval older than ``reports.approval_valid_hours`` does not send; a fresh one does."""
    make_case(session)
    prepare_case_report(session, "case-1", preparer="mod@x", service=SERVICE)
    hours = Settings().reports.approval_valid_hours
    old = datetime.now(UTC) - timedelta(hours=hours, minutes=1)
    record_approval(session, "case-1", authority="ncmec", approver="ref@x", role="referent", at=old)
    session.commit()
    with pytest.raises(FourEyesError, match="expired"):
        send_case_report(session, client, "case-1", actor="mod@x", files=[])
    assert fake.calls == []
    # The same approval within a longer validity (the setting raised) still counts.
    week = timedelta(days=7)
    result = send_case_report(
        session, client, "case-1", actor="mod@x", files=[], approval_valid_for=week
    )
    assert result.approved_by == "ref@x"


def test_approvals_last_72_hours_by_default_and_are_configurable() -> None:
    assert Settings().reports.approval_valid_hours == 72
    environ = {"VIGIE_REPORTS__APPROVAL_VALID_HOURS": "24"}
    assert load_settings(environ).reports.approval_valid_hours == 24
    assert approval_validity(load_settings(environ)) == timedelta(hours=24)
