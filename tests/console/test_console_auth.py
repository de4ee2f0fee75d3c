"""Log-in, sessions, CSRF, the log-in back-off and roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from console_seed import PASSWORD, ConsoleEnv, csrf_in
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from vigie.console import security
from vigie.store.console_tables import LoginBackoffRow
from vigie.store.tables import AuditRow


def _actions(env: ConsoleEnv) -> list[str]:
    with env.app.state.store.read() as unit:
        return list(unit.session.scalars(select(AuditRow.action).order_by(AuditRow.id)))


def test_pages_need_a_session(console: ConsoleEnv) -> None:
    anon = TestClient(console.app)
    for path in ("/console/queues", f"/console/cases/{console.demo_case}", "/console/audit"):
        resp = anon.get(path, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/console/login"


def test_login_sets_a_strict_httponly_cookie_and_is_audited(console: ConsoleEnv) -> None:
    client = TestClient(console.app)
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"email": "mod@vigie.test", "password": PASSWORD, "csrf": csrf_in(page.text)},
        follow_redirects=False,
    )
    cookie = resp.headers["set-cookie"]
    assert security.COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "console.login" in _actions(console)
    assert client.get("/console/queues").status_code == 200


def _attempt(client: TestClient, email: str, password: str) -> Response:
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": csrf_in(page.text)},
        follow_redirects=False,
    )


def _error_of(page: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page, re.S)
    assert found, "the login page shows no error"
    return found.group(1)


def _from(console: ConsoleEnv, address: str) -> TestClient:
    return TestClient(console.app, client=(address, 50000))


def test_guessing_from_one_address_never_locks_the_officer_out(console: ConsoleEnv) -> None:
    """The red team's lock-out: five wrong passwords used to lock the account for everyone.
    Now only the guessing address waits; the officer logs in from their own address."""
    attacker = _from(console, "203.0.113.7")
    for _ in range(security.FREE_FAILURES + 2):
        assert _attempt(attacker, "mod@vigie.test", "no").status_code == 401
    refused = _attempt(attacker, "mod@vigie.test", PASSWORD)
    assert refused.status_code == 401  # the right password waits too, from that address
    assert "console.login_locked" in _actions(console)
    officer = _attempt(_from(console, "198.51.100.20"), "mod@vigie.test", PASSWORD)
    assert officer.status_code == 303 and officer.headers["location"] == "/console/queues"


def test_every_refused_log_in_reads_the_same(console: ConsoleEnv) -> None:
    """Unknown e-mail, wrong password and backed-off pair: one status and one message, so the
    answers never tell which e-mails have an account."""
    client = _from(console, "203.0.113.8")
    unknown = _attempt(client, "nobody@vigie.test", "no")
    wrong = _attempt(client, "ref1@vigie.test", "no")
    for _ in range(security.FREE_FAILURES):
        _attempt(client, "ref2@vigie.test", "no")
    waiting = _attempt(client, "ref2@vigie.test", PASSWORD)
    for _ in range(security.FREE_FAILURES):
        _attempt(client, "ghost@vigie.test", "no")
    ghost_waiting = _attempt(client, "ghost@vigie.test", "no")
    answers = [unknown, wrong, waiting, ghost_waiting]
    assert {r.status_code for r in answers} == {401}
    assert len({_error_of(r.text) for r in answers}) == 1
    assert "locked" not in waiting.text.lower()


def test_the_wait_grows_with_each_failure_and_is_capped() -> None:
    waits = [security.backoff(n) for n in range(1, security.FREE_FAILURES + 12)]
    assert waits[: security.FREE_FAILURES - 1] == [timedelta(0)] * (security.FREE_FAILURES - 1)
    grown = waits[security.FREE_FAILURES - 1 :]
    assert grown[0] > timedelta(0) and grown == sorted(grown)
    assert grown[-1] == security.BACKOFF_MAX


def test_the_wait_ends_by_itself(console: ConsoleEnv) -> None:
    """A backed-off pair may try again once its wait is over, and a right password then
    clears its failures."""
    client = _from(console, "203.0.113.9")
    for _ in range(security.FREE_FAILURES):
        _attempt(client, "mod2@vigie.test", "no")
    assert _attempt(client, "mod2@vigie.test", PASSWORD).status_code == 401
    with console.app.state.store.unit() as unit:
        past = datetime.now(UTC) - timedelta(seconds=1)
        unit.session.execute(update(LoginBackoffRow).values(blocked_until=past))
    assert _attempt(client, "mod2@vigie.test", PASSWORD).status_code == 303
    with console.app.state.store.read() as unit:
        assert unit.session.scalars(select(LoginBackoffRow)).first() is None


def test_login_form_needs_its_csrf_token(console: ConsoleEnv) -> None:
    client = TestClient(console.app)
    client.get("/console/login")
    resp = client.post(
        "/console/login", data={"email": "mod@vigie.test", "password": PASSWORD, "csrf": "forged"}
    )
    assert resp.status_code == 403


def test_posts_without_the_session_csrf_token_are_refused(console: ConsoleEnv) -> None:
    client = console.login("mod@vigie.test")
    resp = client.post(f"/console/cases/{console.demo_case}/claim", data={"csrf": "nope"})
    assert resp.status_code == 403


def test_forged_cookie_is_refused(console: ConsoleEnv) -> None:
    client = TestClient(console.app)
    client.cookies.set(security.COOKIE, "abc.def")
    assert client.get("/console/queues", follow_redirects=False).status_code == 303


def test_logout_revokes_the_server_side_session(console: ConsoleEnv) -> None:
    client = console.login("mod@vigie.test")
    cookie = client.cookies.get(security.COOKIE)
    page = client.get("/console/queues")
    client.post("/console/logout", data={"csrf": csrf_in(page.text)})
    replay = TestClient(console.app)
    replay.cookies.set(security.COOKIE, str(cookie))
    assert replay.get("/console/queues", follow_redirects=False).status_code == 303


def test_role_matrix(console: ConsoleEnv) -> None:
    mod, auditor = console.login("mod@vigie.test"), console.login("audit@vigie.test")
    admin = console.login("admin@vigie.test")
    assert mod.get("/console/audit").status_code == 403
    assert auditor.get("/console/audit").status_code == 200
    assert mod.get("/console/decisions.csv").status_code == 403
    # Child-safety evidence is its own permission: the admin sees the case, not the messages.
    text = "parle à personne"
    assert text in mod.get(f"/console/cases/{console.demo_case}").text
    admin_page = admin.get(f"/console/cases/{console.demo_case}")
    assert admin_page.status_code == 200 and text not in admin_page.text
    page = auditor.get("/console/queues")
    assert "/claim" not in page.text
    resp = auditor.post(
        f"/console/cases/{console.demo_case}/claim", data={"csrf": csrf_in(page.text)}
    )
    assert resp.status_code == 403


def test_pages_carry_security_headers(console: ConsoleEnv) -> None:
    resp = console.login("mod@vigie.test").get("/console/queues")
    assert "default-src 'self'" in resp.headers["content-security-policy"]
    assert resp.headers["x-frame-options"] == "DENY"


def test_admin_unlocks_and_deactivates(console: ConsoleEnv) -> None:
    client = TestClient(console.app)
    for _ in range(security.FREE_FAILURES):
        page = client.get("/console/login")
        client.post(
            "/console/login",
            data={"email": "mod2@vigie.test", "password": "no", "csrf": csrf_in(page.text)},
        )
    admin = console.login("admin@vigie.test")
    page = admin.get("/console/users").text
    assert "locked" in page
    assert console.login("mod@vigie.test").get("/console/users").status_code == 403
    with console.app.state.store.unit() as unit:
        from vigie.console import queries as q

        user = q.user_by_email(unit.session, "mod2@vigie.test")
        assert user is not None
        mod2_id, mod_id = user.id, q.user_by_email(unit.session, "mod@vigie.test").id  # type: ignore[union-attr]
    admin.post(f"/console/users/{mod2_id}/unlock", data={"csrf": csrf_in(page)})
    console.login("mod2@vigie.test")  # works again
    mod = console.login("mod@vigie.test")
    admin.post(f"/console/users/{mod_id}/deactivate", data={"csrf": csrf_in(page)})
    assert mod.get("/console/queues", follow_redirects=False).status_code == 303
    assert "user.deactivate" in _actions(console)
