"""A case walked to NCMEC in a real browser (Debian's Chromium, Playwright, uvicorn): restrict
contact, prepare the report, read its preview, a second référent approves it through the
confirmation step, sends it to the local CyberTipline server (which accepts only what the
reference model of NCMEC's schema reads back), and the case shows it sent with its report id.
In French and in English, at 1024 and 1366 px, with no page wider than the window.

Skipped like the other browser tests when Chromium or Playwright are missing (failed under
``CI=true``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_seed import reports_settings, seed
from test_console_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    _free_port,
    _log_in,
    _require_browser,
)

from reports.ncmec_server import FakeNcmec
from vigie.api.app import create_app
from vigie.settings import Settings
from vigie.store.migrate import upgrade

pytestmark = pytest.mark.browser


@pytest.fixture
def ncmec() -> Iterator[FakeNcmec]:
    with FakeNcmec() as server:
        yield server


@pytest.fixture
def served(tmp_path: Path, ncmec: FakeNcmec) -> Iterator[tuple[str, str]]:
    """The app under uvicorn on a fresh database (a case is reported to NCMEC only once), its
    NCMEC account on the local server; yields (base URL, demo case id)."""
    _require_browser()
    import uvicorn

    url = f"sqlite:///{tmp_path}/vigie.db"
    upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key="browser-test-" + "y" * 20,
        reports=reports_settings(tmp_path, ncmec.url),
    )
    demo_case = seed(url, settings)["demo_case"]
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", demo_case
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    sync_playwright = _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _fits(page: Any, width: int) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide} px wide at {width}"


WORDS = {
    "fr-FR": {"send": "Envoyer au NCMEC", "sent": "envoyé", "approve": "Approuver un signalement"},
    "en-GB": {"send": "Send to NCMEC", "sent": "sent", "approve": "Approve a report"},
}


@pytest.mark.parametrize("width", [1024, 1366])
@pytest.mark.parametrize("lang", ["fr-FR", "en-GB"])
def test_restrict_report_approve_and_send_to_ncmec(
    chromium: Any, served: tuple[str, str], ncmec: FakeNcmec, width: int, lang: str
) -> None:
    server, case = served
    words = WORDS[lang]
    viewport = {"width": width, "height": 800}
    author_ctx = chromium.new_context(viewport=viewport, locale=lang)
    approver_ctx = chromium.new_context(viewport=viewport, locale=lang)
    try:
        author = author_ctx.new_page()
        _log_in(author, server, "ref1@vigie.test")
        author.goto(f"{server}/console/cases/{case}")
        author.click("#claim-form button")
        author.wait_for_selector("#claimed")
        # Restrict contact: a measure, the case stays open and claimed.
        author.check("input[name=kind][value=restrict_contact]")
        author.select_option("#rule", "risk_review_minor")
        author.fill("#reason", "asks a 13-year-old to move to another app and keep it secret")
        author.click("#decide-form button[type=submit]")
        author.wait_for_url("**done=restrict_contact**")
        _fits(author, width)
        # Prepare the report to NCMEC: the preparer lands on its preview.
        author.check("input[name=kind][value=prepare_report]")
        author.select_option("#rule", "risk_review_minor")
        author.select_option("#authority", "ncmec")
        author.fill("#reason", "grooming of a 13-year-old")
        author.click("#decide-form button[type=submit]")
        author.wait_for_url("**/console/reports/*?done=prepared")
        assert author.get_attribute("#report-state", "data-state") == "awaiting_approval"
        assert "Online Enticement of Children for Sexual Acts" in author.inner_text("#ncmec-xml")
        pdf_src = author.get_attribute("#package-pdf", "src")
        assert pdf_src
        pdf = author.request.get(f"{server}{pdf_src}")
        assert pdf.ok and pdf.body().startswith(b"%PDF")
        assert author.locator("#await-other").is_visible()  # four eyes: not theirs to approve
        assert author.locator("#confirm-form").count() == 0
        _fits(author, width)
        author.screenshot(path=str(ARTIFACTS / f"report-{width}-{lang}.png"), full_page=True)

        # A second référent reads it and approves it through the confirmation step.
        approver = approver_ctx.new_page()
        _log_in(approver, server, "ref2@vigie.test")
        approver.goto(f"{server}/console/reports")
        _fits(approver, width)
        approver.click("tr[data-report] a[data-approve]")
        approver.wait_for_url("**/confirm")
        assert words["approve"] in approver.inner_text("h1")
        read_hash = approver.inner_text("#content-hash").strip()
        assert approver.get_attribute("#confirm-form input[name=content_sha256]", "value") == (
            read_hash
        )
        approver.click("#confirm-approve")  # the box is required: nothing approved unchecked
        assert "/confirm" in approver.url
        _fits(approver, width)
        approver.check("#confirm-box")
        approver.click("#confirm-approve")
        approver.wait_for_url("**done=approved**")
        assert approver.get_attribute("#report-state", "data-state") == "approved"
        assert approver.inner_text("#send").strip() == words["send"]
        approver.click("#send")
        approver.wait_for_url("**done=sent**")
        (report_id,) = ncmec.reports
        assert ncmec.reports[report_id]["state"] == "finished"
        assert approver.get_attribute("#report-state", "data-state") == "sent"
        assert approver.inner_text("#report-id").strip() == report_id
        _fits(approver, width)
        approver.screenshot(path=str(ARTIFACTS / f"report-sent-{width}-{lang}.png"), full_page=True)

        # The case says where its report stands.
        approver.goto(f"{server}/console/cases/{case}")
        status = approver.locator("li[data-report-state=sent]")
        assert status.count() == 1 and report_id in status.inner_text()
        assert words["sent"] in status.inner_text()
        _fits(approver, width)
        history = approver.inner_text("#actions-h + ul")
        assert "ref1@vigie.test" in history and "ref2@vigie.test" in history
    finally:
        author_ctx.close()
        approver_ctx.close()
