"""The console in a real browser: Debian's Chromium driven by Playwright against uvicorn.

Skipped with a visible reason when Chromium or Playwright are missing (``make system-deps``
installs Chromium; Playwright comes with the ``dev`` extras); under ``CI=true`` that is a
failure. Screenshots of the main pages land in ``var/test-artifacts/console/`` (or
``$VIGIE_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_seed import PASSWORD, URGENT_ORDER, reports_settings, seed

from vigie.api.app import create_app
from vigie.settings import Settings
from vigie.store.migrate import upgrade

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("VIGIE_TEST_ARTIFACTS", ROOT / "var/test-artifacts/console"))


def _require_browser() -> Any:
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None and not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (make system-deps installs Debian's chromium)"
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI requires the browser tests", pytrace=False)
        pytest.skip(reason)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn on a free port, with a temp SQLite database and demo data."""
    _require_browser()
    import uvicorn

    url = f"sqlite:///{tmp_path_factory.mktemp('browser')}/vigie.db"
    upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key="browser-test-" + "y" * 20,
        reports=reports_settings(tmp_path_factory.mktemp("reports")),
    )
    seed(url, settings)
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    sync_playwright = _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_as(browser: Any, server: str) -> Iterator[Any]:
    """Log in as someone in a fresh browser context (own cookies); returns the page."""
    contexts: list[Any] = []

    def login(email: str) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{server}/console")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("form[action='/console/login'] button[type=submit]")
        page.wait_for_url("**/console/queues**")
        return page

    yield login
    for context in contexts:
        context.close()


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_login_and_queue_ordering(open_as: Any) -> None:
    page = open_as("mod@vigie.test")
    assert page.locator("[data-count=urgent]").inner_text() == "3"
    order = page.locator("#queue-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.case)"
    )
    assert order == URGENT_ORDER
    assert page.locator("tr.late .overdue").count() >= 1
    _shot(page, "queues")


def test_claim_review_reveal_and_decide(open_as: Any) -> None:
    page = open_as("mod@vigie.test")
    page.click("a[data-queue=grooming]")
    page.locator("#queue-table tbody tr").first.locator("a").first.click()
    page.wait_for_url("**/console/cases/**")
    page.wait_for_selector("button[data-key=c]")
    page.wait_for_load_state("load")  # the shortcut script is loaded (deferred)
    page.keyboard.press("c")  # keyboard shortcut: claim
    page.wait_for_selector("#claimed")
    tiles = page.locator(".tile")
    assert tiles.count() == 2
    assert all("blurred" in (tiles.nth(i).get_attribute("class") or "") for i in range(2))
    assert page.locator("mark").count() >= 1 and page.locator(".msg.trigger").count() >= 1
    _shot(page, "case")
    tiles.first.locator("button.reveal").click()
    page.wait_for_selector(".tile[data-revealed=yes]")
    assert page.locator(".tile.blurred").count() == 1  # only the one item was revealed
    page.wait_for_load_state("load")
    page.keyboard.press("w")  # keyboard shortcut: warn, then focus moves to the policy rule
    assert page.locator("input[name=kind][value=warn]").is_checked()
    page.select_option("#rule", "risk_review_minor")
    page.click("#decide-form button[type=submit]")
    page.wait_for_url("**done=warn**")  # a measure keeps the case open and claimed
    assert page.locator("#done").is_visible() and page.locator("#claimed").is_visible()
    held = page.locator(".msg[data-held=held]")
    assert held.count() >= 1  # the demo's held messages are marked
    held.first.locator("input[name=reason]").fill("nothing to hold back")
    held.first.locator("button[value=release]").click()
    page.wait_for_url("**done=release_held**")
    assert page.locator(".msg[data-held=release_held]").count() == 1
    page.check("#close input[name=outcome][value=actioned]")
    page.fill("#close-reason", "warned; the child was given the safety message")
    page.click("#close-button")
    page.wait_for_url("**/console/queues**")
    assert page.locator("[data-count=grooming]").inner_text() == "1"


def test_four_eyes_report_approval(open_as: Any, server: str) -> None:
    author = open_as("ref1@vigie.test")
    author.goto(f"{server}/console/cases/case-hash")
    author.click("#claim-form button")
    author.check("input[name=kind][value=prepare_report]")
    author.select_option("#rule", "known_imagery")
    author.select_option("#authority", "pharos")
    author.fill("#reason", "media matches a hash list")
    author.click("#decide-form button[type=submit]")
    author.wait_for_url("**done=prepared**")  # the preparer reads what will leave
    author.goto(f"{server}/console/reports")
    row = author.locator("tr[data-report]")
    assert row.count() == 1 and "another référent approves" in row.inner_text()
    approver = open_as("ref2@vigie.test")
    approver.goto(f"{server}/console/reports")
    _shot(approver, "reports")
    approver.click("tr[data-report] a[data-approve]")
    approver.wait_for_url("**/confirm")
    approver.click("#confirm-approve")  # the box is required: nothing is sent unchecked
    assert "/confirm" in approver.url
    approver.check("#confirm-box")
    approver.click("#confirm-approve")
    approver.wait_for_url("**done=approved**")
    approver.goto(f"{server}/console/reports")
    assert approver.locator("tr[data-report]").count() == 0
    approver.goto(f"{server}/console/cases/case-hash")
    history = approver.inner_text("#actions-h + ul")
    assert "report approved (PHAROS) (by ref2@vigie.test)" in history


def test_roles_and_the_reveal_in_the_audit_log(open_as: Any, server: str) -> None:
    moderator = open_as("mod@vigie.test")
    assert moderator.locator("nav a[href='/console/audit']").count() == 0
    response = moderator.goto(f"{server}/console/audit")
    assert response is not None and response.status == 403
    auditor = open_as("audit@vigie.test")
    assert auditor.locator("button:has-text('Claim')").count() == 0
    auditor.goto(f"{server}/console/cases/case-low")
    assert auditor.locator("#decide-form").count() == 0
    auditor.goto(f"{server}/console/audit?verify=1")
    assert "Chain intact" in auditor.inner_text("main")
    assert auditor.locator("tr[data-audit-action='evidence.reveal']").count() >= 1
    assert auditor.locator("tr[data-audit-action='report.approve']").count() >= 1
    _shot(auditor, "audit")
    auditor.goto(f"{server}/console/dashboard")
    _shot(auditor, "dashboard")


PAGES = [
    "/console/queues",
    "/console/queues?q=grooming",
    "/console/cases/case-hash",
    "/console/reports",
    "/console/appeals",
    "/console/dashboard",
    "/console/settings",
]


@pytest.mark.parametrize("width", [1024, 1366])
@pytest.mark.parametrize("lang", ["fr-FR", "en-GB"])
def test_pages_fit_without_sideways_scrolling(
    browser: Any, server: str, width: int, lang: str
) -> None:
    """At 1024 and 1366 px, in French and English, no page is wider than the window and the
    Claim buttons are on screen."""
    context = browser.new_context(viewport={"width": width, "height": 800}, locale=lang)
    try:
        for email, pages in (
            ("ref1@vigie.test", PAGES),
            ("admin@vigie.test", ["/console/users", "/console/audit"]),
        ):
            page = context.new_page()
            _log_in(page, server, email)
            for path in pages:
                page.goto(f"{server}{path}")
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= width, f"{path} is {wide} px wide at {width} ({lang})"
                for box in page.locator("button:visible").evaluate_all(
                    "bs => bs.map(b => b.getBoundingClientRect().right)"
                ):
                    assert box <= width, f"a button of {path} is off-screen at {width}"
            _shot(page, f"queues-{width}-{lang}")
            page.close()
            context.clear_cookies()
    finally:
        context.close()


def _log_in(page: Any, server: str, email: str) -> None:
    page.goto(f"{server}/console")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/console/login'] button[type=submit]")
    page.wait_for_url("**/console/queues**")


def test_admin_creates_an_account_that_logs_in_in_french(
    open_as: Any, browser: Any, server: str
) -> None:
    admin = open_as("admin@vigie.test")
    admin.goto(f"{server}/console/users")
    admin.click("details.create summary")
    admin.fill("#new-email", "newref@vigie.test")
    admin.select_option("#new-role", "referent")
    admin.click("#create-user button[type=submit]")
    password = admin.inner_text("#one-time-password").strip()
    assert len(password) >= 12
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(f"{server}/console")
        assert "Mot de passe" in page.inner_text("main")
        page.fill("#email", "newref@vigie.test")
        page.fill("#password", password)
        page.click("form[action='/console/login'] button[type=submit]")
        page.wait_for_url("**/console/queues**")
        assert "Référent" in page.inner_text("header")
        _shot(page, "new-account-fr")
    finally:
        context.close()
    admin.goto(f"{server}/console/audit?action=user.created")
    assert "newref@vigie.test" in admin.inner_text("main")


def test_a_referent_completes_a_practice_case_in_french(browser: Any, server: str) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="fr-FR")
    try:
        page = context.new_page()
        _log_in(page, server, "ref2@vigie.test")
        page.click("nav a[href='/console/practice']")
        page.click("tr[data-practice=negative-teacher-homework] a")
        assert "Photos du projet de sciences" in page.inner_text("h1")
        page.check("input[name=decision][value=dismiss]")
        page.check("input[name=channel][value=none]")
        page.click("#practice-form button[type=submit]")
        page.wait_for_selector("#feedback")
        assert page.get_attribute("#feedback", "data-passed") == "yes"
        assert "Pourquoi" in page.inner_text("#feedback")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024
        _shot(page, "practice-fr")
    finally:
        context.close()
