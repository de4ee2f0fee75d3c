"""Admins manage accounts in the console: create, roles, password resets; all audited."""

from __future__ import annotations

import re

from console_seed import ConsoleEnv, csrf_in, log_in
from fastapi.testclient import TestClient
from sqlalchemy import select

from vigie.console import queries as q
from vigie.store.tables import AuditRow


def _post(client: TestClient, path: str, **data: str) -> object:
    token = csrf_in(client.get("/console/users").text)
    return client.post(path, data={"csrf": token, **data}, follow_redirects=False)


def _user_id(env: ConsoleEnv, email: str) -> int:
    with env.app.state.store.unit() as unit:
        user = q.user_by_email(unit.session, email)
        assert user is not None
        return user.id


def _one_time(html: str) -> str:
    match = re.search(r'id="one-time-password">([^<]+)<', html)
    assert match, "no one-time password shown"
    return match.group(1)


def test_admin_creates_changes_role_and_resets_password(console: ConsoleEnv) -> None:
    admin = console.login("admin@vigie.test")
    created = _post(admin, "/console/users", email="New.Ref@vigie.test", role="referent")
    password = _one_time(created.text)  # type: ignore[attr-defined]
    assert len(password) >= 12
    newcomer = log_in(TestClient(console.app), "new.ref@vigie.test", password)
    assert newcomer.get("/console/queues").status_code == 200
    uid = _user_id(console, "new.ref@vigie.test")
    _post(admin, f"/console/users/{uid}/role", role="moderator")
    assert newcomer.get("/console/queues", follow_redirects=False).status_code == 303
    reset = _post(admin, f"/console/users/{uid}/password")
    fresh = _one_time(reset.text)  # type: ignore[attr-defined]
    assert fresh != password
    log_in(TestClient(console.app), "new.ref@vigie.test", fresh)
    again = _post(admin, "/console/users", email="new.ref@vigie.test", role="admin")
    assert "already" in again.headers["location"]  # type: ignore[attr-defined]
    with console.app.state.store.unit() as unit:
        rows = list(
            unit.session.scalars(
                select(AuditRow).where(AuditRow.actor == "console:admin@vigie.test")
            )
        )
    actions = [r.action for r in rows]
    assert {"user.created", "user.role", "user.password_reset"} <= set(actions)
    role = next(r for r in rows if r.action == "user.role")
    assert role.details == {"from": "referent", "to": "moderator"}
    assert password not in str([r.details for r in rows])  # passwords never reach the log


def test_only_admins_and_never_on_themselves(console: ConsoleEnv) -> None:
    ref = console.login("ref1@vigie.test")
    token = csrf_in(ref.get("/console/queues").text)
    resp = ref.post("/console/users", data={"csrf": token, "email": "x@y.z", "role": "admin"})
    assert resp.status_code == 403
    admin = console.login("admin@vigie.test")
    me = _user_id(console, "admin@vigie.test")
    assert "error=" in _post(admin, f"/console/users/{me}/role", role="auditor").headers["location"]  # type: ignore[attr-defined]
    with console.app.state.store.unit() as unit:
        user = q.user_by_id(unit.session, me)
        assert user is not None and user.role == "admin"
