"""Reports from the console, step by step (HTTP level): prepare, preview, approve with a
confirmation bound to the content hash, send to the local CyberTipline server (which checks
every report against the reference model of NCMEC's schema), failures and retries, a lost
answer resolved, a signed package downloaded and filed; audited, CSRF-checked, in French."""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_seed import ConsoleEnv, csrf_in, log_in, reports_settings, seed
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from typer.testing import CliRunner

from reports.ncmec_server import FakeNcmec
from vigie.api.app import create_app
from vigie.console import i18n
from vigie.reports.evidence import verify_package
from vigie.reports.ncmec_case import ServiceInfo, build_case_report, content_sha256
from vigie.settings import Settings
from vigie.store.reports_tables import ApprovalRow, ReportSubmissionRow
from vigie.store.tables import AuditRow, CaseRow

FR = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture
def ncmec() -> Iterator[FakeNcmec]:
    with FakeNcmec() as server:
        yield server


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path, ncmec: FakeNcmec) -> Iterator[ConsoleEnv]:
    """The console with its NCMEC account on the local CyberTipline server."""
    settings = Settings(
        database_url=sqlite_url,
        secret_key="test-secret-" + "x" * 20,
        reports=reports_settings(tmp_path, ncmec.url),
    )
    info = seed(sqlite_url, settings)
    app = create_app(settings)

    def login(email: str) -> TestClient:
        return log_in(TestClient(app, base_url="http://testserver"), email)

    yield ConsoleEnv(app, sqlite_url, info["demo_case"], login)
    app.state.store.dispose()


def _post(client: TestClient, path: str, **data: str) -> Response:
    token = csrf_in(client.get("/console/queues").text)
    return client.post(path, data={"csrf": token, **data}, follow_redirects=False)


def _loc(resp: Response) -> str:
    return str(resp.headers["location"])


def _rows(env: ConsoleEnv, model: type, **where: object) -> list[Any]:
    with env.app.state.store.unit() as unit:
        stmt: Any = select(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return list(unit.session.scalars(stmt))


def _audit(env: ConsoleEnv, action: str) -> list[AuditRow]:
    return _rows(env, AuditRow, action=action)


def _prepare(env: ConsoleEnv, who: TestClient, case: str, authority: str) -> int:
    """Claim, then decide "prepare report": the preparer lands on the report's page."""
    _post(who, f"/console/cases/{case}/claim")
    resp = _post(
        who,
        f"/console/cases/{case}/decide",
        kind="prepare_report",
        rule="high_risk_hold" if authority == "ncmec" else "known_imagery",
        authority=authority,
        reason="grooming of a 13-year-old; moved to another app",
    )
    match = re.match(r"/console/reports/(\d+)\?done=prepared$", _loc(resp))
    assert match, _loc(resp)
    return int(match.group(1))


def _hash_on_page(page: str) -> str:
    match = re.search(r'name="content_sha256" value="([0-9a-f]{64})"', page)
    assert match, "the confirmation form carries the content hash read"
    return match.group(1)


def _approve(approver: TestClient, action: int) -> Response:
    page = approver.get(f"/console/reports/{action}/confirm").text
    return _post(
        approver,
        f"/console/reports/{action}/review",
        verdict="approve",
        confirm="yes",
        content_sha256=_hash_on_page(page),
    )


def test_preparing_for_ncmec_records_the_cli_draft_and_previews_it(env: ConsoleEnv) -> None:
    ref1 = env.login("ref1@vigie.test")
    action = _prepare(env, ref1, env.demo_case, "ncmec")
    (draft,) = _rows(env, ReportSubmissionRow, authority="ncmec")
    assert (draft.status, draft.actor, draft.details["action_id"]) == (
        "prepared",
        "ref1@vigie.test",
        action,
    )
    # The same draft `vigie ncmec prepare` records: its service and content hash.
    service = ServiceInfo.from_dict(draft.details["service"])
    assert service.reporter.email == "safety@demo-games.example"
    with env.app.state.store.unit() as unit:
        report = build_case_report(unit.session, env.demo_case, service)
    assert draft.details["content_sha256"] == content_sha256(report, [])
    assert _audit(env, "report.ncmec.prepared") and _audit(env, "evidence.export")
    assert _rows(env, CaseRow, id=env.demo_case)[0].status == "report_pending"

    page = ref1.get(f"/console/reports/{action}").text
    assert "&lt;incidentType&gt;Online Enticement of Children for Sexual Acts&lt;" in page
    assert draft.details["content_sha256"] in page
    assert 'id="package-pdf"' in page and 'id="package-json"' in page
    assert 'id="await-other"' in page and 'id="confirm-form"' not in page  # not their own
    assert _audit(env, "report.preview")
    pdf = ref1.get(f"/console/reports/{action}/files/case.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "frame-ancestors 'self'" in pdf.headers["content-security-policy"]
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
    assert _audit(env, "report.package.view")
    # Evidence stays behind its permission: admins see no package.
    admin = env.login("admin@vigie.test")
    assert admin.get(f"/console/reports/{action}").status_code == 403
    assert admin.get(f"/console/reports/{action}/files/case.pdf").status_code == 403


def test_approval_is_a_second_referent_confirming_the_content_read(env: ConsoleEnv) -> None:
    ref1, ref2 = env.login("ref1@vigie.test"), env.login("ref2@vigie.test")
    action = _prepare(env, ref1, env.demo_case, "ncmec")
    review = f"/console/reports/{action}/review"
    page = ref2.get(f"/console/reports/{action}/confirm").text
    good = _hash_on_page(page)
    own = _post(ref1, review, verdict="approve", confirm="yes", content_sha256=good)
    assert "You%20prepared" in _loc(own)
    unconfirmed = _post(ref2, review, verdict="approve", content_sha256=good)
    assert _loc(unconfirmed).endswith("/confirm")
    stale = _post(ref2, review, verdict="approve", confirm="yes", content_sha256="0" * 64)
    assert "changed%20since" in _loc(stale) or "changed+since" in _loc(stale)
    assert _audit(env, "report.approval_mismatch") and not _rows(env, ApprovalRow)
    assert _post(ref2, review, verdict="approve", confirm="yes").status_code == 303
    assert not _rows(env, ApprovalRow)  # no hash read, no approval
    done = _post(ref2, review, verdict="approve", confirm="yes", content_sha256=good)
    assert _loc(done).startswith(f"/console/reports/{action}?done=approved")
    (approval,) = _rows(env, ApprovalRow)
    assert (approval.author, approval.approver, approval.content_sha256) == (
        "ref1@vigie.test",
        "ref2@vigie.test",
        good,
    )
    page = ref2.get(f"/console/reports/{action}").text
    assert 'data-state="approved"' in page and 'id="send"' in page


def test_send_to_ncmec_and_the_status_on_the_case(env: ConsoleEnv, ncmec: FakeNcmec) -> None:
    ref1, ref2 = env.login("ref1@vigie.test"), env.login("ref2@vigie.test")
    action = _prepare(env, ref1, env.demo_case, "ncmec")
    _approve(ref2, action)
    mod = env.login("mod@vigie.test")
    assert _post(mod, f"/console/reports/{action}/send").status_code == 403
    no_csrf = ref2.post(f"/console/reports/{action}/send", follow_redirects=False)
    assert no_csrf.status_code == 403 and not ncmec.reports
    sent = _post(ref2, f"/console/reports/{action}/send")
    assert _loc(sent).startswith(f"/console/reports/{action}?done=sent")
    (report_id,) = ncmec.reports
    assert ncmec.reports[report_id]["state"] == "finished"
    (row,) = _rows(env, ReportSubmissionRow, authority="ncmec")
    assert (row.status, row.external_id, row.details["sent_by"]) == (
        "finished",
        report_id,
        "console:ref2@vigie.test",
    )
    (audit,) = _audit(env, "report.ncmec.sent")
    assert audit.details["author"] == "ref1@vigie.test"
    assert audit.details["approved_by"] == "ref2@vigie.test"
    case_page = ref1.get(f"/console/cases/{env.demo_case}").text
    assert 'data-report-state="sent"' in case_page and report_id in case_page
    again = _post(ref2, f"/console/reports/{action}/send")
    assert "error=" in _loc(again) and len(ncmec.reports) == 1  # one report per case


def test_a_failed_send_shows_its_reason_and_is_retried(env: ConsoleEnv, ncmec: FakeNcmec) -> None:
    ref1, ref2 = env.login("ref1@vigie.test"), env.login("ref2@vigie.test")
    action = _prepare(env, ref1, env.demo_case, "ncmec")
    _approve(ref2, action)
    ncmec.fail_next = {"/submit": 1}  # /submit is never retried on an answer
    failed = _post(ref2, f"/console/reports/{action}/send")
    assert _loc(failed).startswith(f"/console/reports/{action}?done=failed")
    page = ref2.get(f"/console/reports/{action}").text
    assert 'data-state="failed"' in page and "HTTP 503" in page
    assert "Retry sending to NCMEC" in page
    case_page = ref1.get(f"/console/cases/{env.demo_case}").text
    assert 'data-report-state="failed"' in case_page and "HTTP 503" in case_page
    assert _audit(env, "report.ncmec.failed")
    _post(ref2, f"/console/reports/{action}/send")
    page = ref2.get(f"/console/reports/{action}").text
    assert 'data-state="sent"' in page and "HTTP 503" not in page


def _lose_the_answer(env: ConsoleEnv, ncmec: FakeNcmec) -> tuple[TestClient, int]:
    """/finish is done but its answer lost, and the retraction refused: outcome unknown."""
    ref1, ref2 = env.login("ref1@vigie.test"), env.login("ref2@vigie.test")
    action = _prepare(env, ref1, env.demo_case, "ncmec")
    _approve(ref2, action)
    ncmec.lose_answer = {"/finish": 1}
    ncmec.fail_next = {"/retract": 1}
    resp = _post(ref2, f"/console/reports/{action}/send")
    assert _loc(resp).startswith(f"/console/reports/{action}?done=unknown")
    page = ref2.get(f"/console/reports/{action}").text
    assert 'data-state="unknown"' in page and 'id="check"' in page and 'id="send"' not in page
    assert _audit(env, "report.ncmec.unknown")
    return ref2, action


def test_a_lost_answer_is_resolved_by_asking_ncmec(env: ConsoleEnv, ncmec: FakeNcmec) -> None:
    ref2, action = _lose_the_answer(env, ncmec)
    (report_id,) = ncmec.reports
    resolved = _post(ref2, f"/console/reports/{action}/resolve", verdict="check")
    assert _loc(resolved).startswith(f"/console/reports/{action}?done=resolved")
    (row,) = _rows(env, ReportSubmissionRow, authority="ncmec")
    assert (row.status, row.external_id) == ("finished", report_id)
    (audit,) = _audit(env, "report.ncmec.resolved")
    assert audit.details["how"] == "checked" and audit.details["filed"] is True
    assert len(ncmec.reports) == 1  # nothing was sent twice


def test_a_lost_answer_is_resolved_by_hand_with_a_reason(env: ConsoleEnv, ncmec: FakeNcmec) -> None:
    ref2, action = _lose_the_answer(env, ncmec)
    (report_id,) = ncmec.reports
    path = f"/console/reports/{action}/resolve"
    no_reason = _post(ref2, path, verdict="filed", report_id=report_id)
    assert "error=" in _loc(no_reason) and not _audit(env, "report.ncmec.resolved")
    _post(ref2, path, verdict="filed", report_id=report_id, reason="NCMEC's e-mail receipt")
    (row,) = _rows(env, ReportSubmissionRow, authority="ncmec")
    assert (row.status, row.external_id) == ("finished", report_id)
    (audit,) = _audit(env, "report.ncmec.resolved")
    assert audit.details["how"] == "manual" and audit.actor == "console:ref2@vigie.test"


def test_a_package_is_downloaded_signed_as_approved_and_marked_filed(
    env: ConsoleEnv, tmp_path: Path
) -> None:
    ref1, ref2 = env.login("ref1@vigie.test"), env.login("ref2@vigie.test")
    action = _prepare(env, ref1, "case-hash", "pharos")
    early = ref2.get(f"/console/reports/{action}/package.zip", follow_redirects=False)
    assert early.status_code == 303  # nothing leaves before the second référent approves
    page = ref2.get(f"/console/reports/{action}/confirm").text
    approved_hash = _hash_on_page(page)
    _approve(ref2, action)
    zipped = ref2.get(f"/console/reports/{action}/package.zip")
    assert zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        archive.extractall(tmp_path / "got")
    (folder,) = (tmp_path / "got").iterdir()
    verify_package(folder)
    assert hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest() == approved_hash
    assert _audit(env, "report.package.download")
    assert "error=" in _loc(_post(ref2, f"/console/reports/{action}/filed", reference=" "))
    _post(ref2, f"/console/reports/{action}/filed", reference="PHAROS-2026-00042")
    case_page = ref1.get("/console/cases/case-hash").text
    assert 'data-report-state="filed"' in case_page and "PHAROS-2026-00042" in case_page
    assert _audit(env, "report.package.filed")[0].details["content_sha256"] == approved_hash


def test_what_cannot_be_prepared_is_said_and_nothing_recorded(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=sqlite_url, secret_key="test-secret-" + "x" * 20)
    seed(sqlite_url, settings)
    app = create_app(settings)  # no legal entity, no NCMEC reporter configured
    try:
        ref1 = log_in(TestClient(app, base_url="http://testserver"), "ref1@vigie.test")
        for case, authority in (("case-hash", "pharos"), ("case-hash", "ncmec")):
            _post(ref1, f"/console/cases/{case}/claim")
            resp = _post(
                ref1,
                f"/console/cases/{case}/decide",
                kind="prepare_report",
                rule="known_imagery",
                authority=authority,
            )
            assert "error=" in _loc(resp) and "detail=" in _loc(resp), _loc(resp)
        with app.state.store.unit() as unit:
            assert not list(unit.session.scalars(select(ReportSubmissionRow)))
            case = unit.session.get(CaseRow, "case-hash")
            assert case is not None and case.status == "open"
    finally:
        app.state.store.dispose()


def test_ncmec_refuses_a_case_without_the_platforms_ids(env: ConsoleEnv) -> None:
    ref1 = env.login("ref1@vigie.test")
    _post(ref1, "/console/cases/case-hash/claim")
    resp = _post(
        ref1,
        "/console/cases/case-hash/decide",
        kind="prepare_report",
        rule="known_imagery",
        authority="ncmec",
    )
    assert "espIdentifier" in _loc(resp).replace("%20", " ")
    page = ref1.get(_loc(resp), headers=FR).text
    assert "NCMEC refuserait" in page


def test_report_pages_in_french_have_no_english(env: ConsoleEnv, ncmec: FakeNcmec) -> None:
    from test_console_i18n import _english_words, _untranslated

    english = _english_words()
    ref1, ref2 = env.login("ref1@vigie.test"), env.login("ref2@vigie.test")
    ncmec_action = _prepare(env, ref1, env.demo_case, "ncmec")
    pharos_action = _prepare(env, ref1, "case-hash", "pharos")
    i18n.MISSES.clear()
    pages = []
    for action in (ncmec_action, pharos_action):
        pages += [(ref1, f"/console/reports/{action}"), (ref2, f"/console/reports/{action}")]
        _approve(ref2, action)
        pages.append((ref2, f"/console/reports/{action}?done=approved"))
    ncmec.fail_next = {"/submit": 1}
    _post(ref2, f"/console/reports/{ncmec_action}/send")
    pages.append((ref2, f"/console/reports/{ncmec_action}?done=failed"))
    pages.append((ref2, f"/console/cases/{env.demo_case}"))
    _post(ref2, f"/console/reports/{ncmec_action}/send")
    _post(ref2, f"/console/reports/{pharos_action}/filed", reference="PH-1")
    pages += [(ref2, f"/console/reports/{ncmec_action}?done=sent"), (ref2, "/console/reports")]
    pages += [(ref2, f"/console/reports/{pharos_action}?done=filed")]
    pages += [(ref2, f"/console/cases/{env.demo_case}"), (ref2, "/console/cases/case-hash")]
    problems = {}
    for client, path in pages:
        resp = client.get(path, headers=FR)
        assert resp.status_code == 200, path
        found = _untranslated(resp.text, english)
        if found:
            problems[path] = found
    assert not i18n.MISSES, f"looked up without a French entry: {sorted(i18n.MISSES, key=str)}"
    assert not problems, f"English left in French pages: {problems}"


def test_cli_resolves_a_lost_answer(env: ConsoleEnv, ncmec: FakeNcmec, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vigie.cli import app as cli

    _, action = _lose_the_answer(env, ncmec)
    (report_id,) = ncmec.reports
    monkeypatch.setenv("VIGIE_DATABASE_URL", env.url)
    monkeypatch.setenv("VIGIE_NCMEC_USERNAME", "esp")
    monkeypatch.setenv("VIGIE_NCMEC_PASSWORD", "secret")
    from vigie.settings import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        check = ["ncmec", "resolve", env.demo_case, "--check", "--url", ncmec.url]
        result = runner.invoke(cli, [*check, "--actor", "ops"])
        assert result.exit_code == 0, result.output
        assert f"filed: report {report_id}" in result.output
        again = runner.invoke(cli, check)
        assert again.exit_code == 1 and "no report with an unknown outcome" in again.output
    finally:
        get_settings.cache_clear()
    (audit,) = _audit(env, "report.ncmec.resolved")
    assert audit.actor == "ops" and audit.details["how"] == "checked"
    assert action


def test_an_expired_approval_sends_nothing(
    sqlite_url: str, tmp_path: Path, ncmec: FakeNcmec
) -> None:
    settings = Settings(
        database_url=sqlite_url,
        secret_key="test-secret-" + "x" * 20,
        reports=reports_settings(tmp_path, ncmec.url).model_copy(
            update={"approval_valid_hours": 0.0001}  # 0.36 s
        ),
    )
    info = seed(sqlite_url, settings)
    app = create_app(settings)
    try:
        ref1 = log_in(TestClient(app, base_url="http://testserver"), "ref1@vigie.test")
        ref2 = log_in(TestClient(app, base_url="http://testserver"), "ref2@vigie.test")
        env = ConsoleEnv(app, sqlite_url, info["demo_case"], lambda e: ref1)
        action = _prepare(env, ref1, info["demo_case"], "ncmec")
        _approve(ref2, action)
        time.sleep(0.5)
        page = ref2.get(f"/console/reports/{action}").text
        assert 'id="expired"' in page and 'id="send"' not in page
        resp = _post(ref2, f"/console/reports/{action}/send")
        assert "error=" in _loc(resp) and "expired" in _loc(resp) and not ncmec.reports
    finally:
        app.state.store.dispose()
