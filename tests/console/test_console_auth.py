"""Log-in, sessions, CSRF, lock-out and roles."""

from __future__ import annotations

from console_seed import PASSWORD, ConsoleEnv, csrf_in
from fastapi.testclient import TestClient
from sqlalchemy import select

from vigie.console import security
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


def test_wrong_password_and_lock_out(console: ConsoleEnv) -> None:
    client = TestClient(console.app)
    for _ in range(security.MAX_FAILURES):
        page = client.get("/console/login")
        resp = client.post(
            "/console/login",
            data={"email": "mod@vigie.test", "password": "no", "csrf": csrf_in(page.text)},
        )
        assert resp.status_code == 401
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"email": "mod@vigie.test", "password": PASSWORD, "csrf": csrf_in(page.text)},
    )
    assert resp.status_code == 401 and "locked" in resp.text
    assert "console.login_locked" in _actions(console)


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
    for _ in range(security.MAX_FAILURES):
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
