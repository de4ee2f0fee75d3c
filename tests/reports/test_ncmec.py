from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.orm import Session

from vigie.reports.approvals import Approval, FourEyesError, record_approval, require_four_eyes
from vigie.reports.audit import verify_chain
from vigie.reports.case_facts import load_case_facts
from vigie.reports.ncmec import (
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
from vigie.reports.ncmec_case import ServiceInfo, report_from_case, send_case_report
from vigie.reports.ncmec_client import (
    PRODUCTION_URL,
    TEST_URL,
    NcmecClient,
    NcmecError,
    PreparedReport,
    ReportFile,
)
from vigie.store.reports_tables import ReportSubmissionRow

from .ncmec_server import FakeNcmec, check_report

AT = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)
REPORTER = Reporter(email="safety@demo-game.example", first_name="Safety", last_name="Team")
SERVICE = ServiceInfo(REPORTER, "demo-game chat", "onlineGamingIncident", "demo-game")
BENIGN = b"benign generated test bytes, not an image"


def _report() -> CyberTipReport:
    return CyberTipReport(
        incident_type=ONLINE_ENTICEMENT,
        incident_at=AT,
        reporter=REPORTER,
        reported=Account(esp_identifier="u-123", screen_name="player1", age=34),
        recipients=[Account(esp_identifier="u-456", age=13)],
        internet_details=[
            InternetDetail("chatImIncident", "in-game chat", "c-9", "tu as quel âge ?")
        ],
        annotations=["sextortion"],
    )


def _approved(author: str = "mod@x") -> list[Approval]:
    return [Approval("ref@x", "referent", AT)]


@pytest.fixture()
def fake() -> Iterator[FakeNcmec]:
    with FakeNcmec() as server:
        yield server


@pytest.fixture()
def client(fake: FakeNcmec) -> Iterator[NcmecClient]:
    c = NcmecClient("esp", "secret", base_url=fake.url, sleep=lambda s: None, backoff=0)
    yield c
    c.close()


def test_report_xml_follows_the_documented_order() -> None:
    root = ET.fromstring(build_report_xml(_report()))
    assert check_report(root) is None
    assert [c.tag for c in root] == [
        "incidentSummary",
        "internetDetails",
        "reporter",
        "personOrUserReported",
        "intendedRecipient",
    ]
    summary = [c.tag for c in root.find("incidentSummary")]  # type: ignore[union-attr]
    assert summary == ["incidentType", "reportAnnotations", "incidentDateTime"]
    assert root.find("incidentSummary/reportAnnotations/sextortion") is not None
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-11-20T17:05:00Z"
    assert root.findtext("personOrUserReported/espIdentifier") == "u-123"
    assert root.findtext("intendedRecipient/intendedRecipientPerson/age") == "13"
    assert root.findtext("internetDetails/chatImIncident/chatClient") == "in-game chat"


def test_validation_names_every_problem() -> None:
    bad = _report()
    bad.incident_type = "Grooming"
    bad.reporter = Reporter(email="nobody")
    bad.annotations = ["urgent"]
    bad.incident_at = datetime(2026, 11, 20)
    with pytest.raises(ReportValidationError) as err:
        build_report_xml(bad)
    text = str(err.value)
    for name in ("incidentType", "email", "reportAnnotations", "incidentDateTime"):
        assert name in text


def test_file_details_hashes_and_classification() -> None:
    md5 = hashlib.md5(BENIGN).hexdigest()
    details = FileDetails(
        industry_classification="B2",
        original_hashes={"MD5": md5},
        other_hashes={"PDQ": "a" * 64},
        file_viewed_by_esp=False,
    )
    root = ET.fromstring(build_file_details_xml("1001", "f1", details))
    assert root.tag == "fileDetails"
    assert [c.tag for c in root][:2] == ["reportId", "fileId"]
    assert root.find("originalFileHash").get("hashType") == "MD5"  # type: ignore[union-attr]
    assert root.findtext("industryClassification") == "B2"
    with pytest.raises(ReportValidationError, match="industryClassification"):
        build_file_details_xml("1", "f", FileDetails(industry_classification="C9"))
    with pytest.raises(ReportValidationError, match="only for files"):
        build_file_details_xml(
            "1", "f", FileDetails(relevance="Supplemental Reported", industry_classification="A1")
        )
    with pytest.raises(ReportValidationError, match="MD5"):
        build_file_details_xml("1", "f", FileDetails(original_hashes={"MD5": "xyz"}))


def test_four_eyes() -> None:
    assert require_four_eyes("mod@x", _approved()).approver == "ref@x"
    with pytest.raises(FourEyesError, match="own report"):
        require_four_eyes("ref@x", [Approval("ref@x", "referent", AT)])
    with pytest.raises(FourEyesError, match="referent"):
        require_four_eyes("mod@x", [Approval("other@x", "moderator", AT)])
    with pytest.raises(FourEyesError):
        require_four_eyes("mod@x", [])


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


def test_refuses_without_four_eyes(fake: FakeNcmec, client: NcmecClient) -> None:
    with pytest.raises(FourEyesError):
        client.send(PreparedReport(_report(), "ref@x", [Approval("ref@x", "referent", AT)]))
    assert fake.calls == []


def test_retries_transient_errors(fake: FakeNcmec, client: NcmecClient) -> None:
    fake.fail_next = {"/submit": 2, "/finish": 1}
    result = client.send(PreparedReport(_report(), "mod@x", _approved()))
    assert fake.reports[result.report_id]["state"] == "finished"
    assert fake.calls.count("/submit") == 3


def test_gives_up_and_retracts(fake: FakeNcmec) -> None:
    client = NcmecClient("esp", "secret", base_url=fake.url, sleep=lambda s: None, retries=1)
    fake.fail_next = {"/upload": 5}
    files = [ReportFile("f.bin", BENIGN, FileDetails())]
    with pytest.raises(NcmecError):
        client.send(PreparedReport(_report(), "mod@x", _approved(), files))
    assert fake.calls[-1] == "/retract"
    assert next(iter(fake.reports.values()))["state"] == "retracted"


def test_bad_credentials(fake: FakeNcmec) -> None:
    client = NcmecClient("esp", "wrong", base_url=fake.url)
    with pytest.raises(NcmecError, match="2000"):
        client.status()


def test_connection_refused_is_retried_then_raised() -> None:
    calls: list[float] = []
    client = NcmecClient(
        "u", "p", base_url="http://127.0.0.1:9/ispws", retries=2, sleep=calls.append
    )
    with pytest.raises(httpx.ConnectError):
        client.submit(_report())
    assert len(calls) == 2


def test_case_report_is_sent_recorded_and_audited(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeNcmec,
    client: NcmecClient,
) -> None:
    make_case(session)
    facts = load_case_facts(session, "case-1")
    report = report_from_case(facts, SERVICE)
    assert report.incident_type.startswith("Child Pornography")  # known_imagery in the case
    assert [r.age for r in report.recipients] == [13]
    with pytest.raises(FourEyesError):
        send_case_report(session, client, "case-1", author="mod@x", service=SERVICE)
    with pytest.raises(FourEyesError):
        record_approval(
            session, "case-1", authority="ncmec", author="mod@x", approver="mod@x", role="referent"
        )
    record_approval(
        session,
        "case-1",
        authority="ncmec",
        author="mod@x",
        approver="ref@x",
        role="referent",
        at=AT,
    )
    result = send_case_report(session, client, "case-1", author="mod@x", service=SERVICE)
    row = session.query(ReportSubmissionRow).one()
    assert row.external_id == result.report_id and row.authority == "ncmec"
    xml = fake.reports[result.report_id]["xml"]
    assert xml.findtext("internetDetails/onlineGamingIncident/gameName") == "demo-game"
    assert "p-adult" in (xml.findtext("personOrUserReported/espIdentifier") or "")
    assert verify_chain(session) is None
