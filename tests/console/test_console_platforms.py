"""Console accounts scoped per platform (issue 21, finding 6): one Vigie serving two platforms.

Property: an officer of one platform, whatever their role, never sees the other platform's
cases, notes, reports, appeals, signals or audit entries on any page (queues, case pages,
dashboard figures, audit, exports, reports, appeals, users), and no POST of theirs changes
anything of the other platform. Each platform's data carries its own marker (``zzdemo`` /
``zzother``), so a leak shows as the other marker in a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from console_seed import PASSWORD, ConsoleEnv, csrf_in, log_in
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from vigie.console import queries as q
from vigie.console.queues import QUEUE_KEYS
from vigie.console.security import ROLES, hash_password
from vigie.demo import DEMO_PLATFORM
from vigie.platforms import create_platform
from vigie.store.console_tables import AppealRow, CaseActionRow, CaseNoteRow, ConsoleUserRow
from vigie.store.tables import AccountRow, AuditRow, CaseRow, SignalRow

HOMES = ("zzdemo", "zzother")
# One world per test, shared by its examples (they only read, or fail to change it).
SLOW_FIXTURE = [HealthCheck.function_scoped_fixture]
CASES = 3


@dataclass
class World:
    console: ConsoleEnv
    platform: dict[str, str]  # marker -> platform id
    actions: dict[str, list[int]] = field(default_factory=dict)
    appeals: dict[str, list[int]] = field(default_factory=dict)
    clients: dict[tuple[str, str], TestClient] = field(default_factory=dict)

    def client(self, role: str, home: str) -> TestClient:
        """A logged-in officer of one platform (logged in once per test: argon2 is slow)."""
        key = (role, home)
        if key not in self.clients:
            self.clients[key] = log_in(TestClient(self.console.app), f"{home}-{role}@vigie.test")
        return self.clients[key]


def _cases_of(session: Session, marker: str, platform_id: str, now: datetime) -> list[int]:
    """Cases, a note, a report waiting for approval and an appeal, all marked."""
    actions = []
    for i in range(CASES):
        case_id, subject = f"{marker}-case-{i}", f"{marker}-subject-{i}"
        session.add(
            AccountRow(
                platform_id=platform_id,
                pseudo_id=subject,
                age=30,
                age_source="declared",
                first_seen=now,
                profile_state={},
            )
        )
        session.add(
            CaseRow(
                id=case_id,
                platform_id=platform_id,
                subject=subject,
                conversation_id=None,
                status="report_pending" if i == 0 else "open",
                priority=1 + i,
                risk=0.9,
                categories=["sextortion_threat"],
                requires_report=False,
                opened_at=now - timedelta(minutes=5 + i),
                updated_at=now,
            )
        )
        session.add(
            CaseNoteRow(case_id=case_id, author="ref1@vigie.test", text=f"{marker} note", at=now)
        )
        session.add(
            SignalRow(
                platform_id=platform_id,
                event_id=f"{marker}-ev-{i}",
                subject=subject,
                case_id=case_id,
                detector="patterns",
                category="livestream_commissioning" if marker == "zzother" else "sextortion_threat",
                score=0.9,
                explanation=f"{marker} signal",
                at=now,
            )
        )
        action = CaseActionRow(
            case_id=case_id,
            platform_id=platform_id,
            subject=subject,
            kind="prepare_report" if i == 0 else "warn",
            rule=f"{marker}-rule",
            reason=f"{marker} reason",
            actor="mod@vigie.test",
            at=now,
            report_status="pending" if i == 0 else None,
            authority="pharos" if i == 0 else None,
        )
        session.add(action)
        session.flush()
        actions.append(action.id)
    return actions


@pytest.fixture
def world(console: ConsoleEnv) -> Iterator[World]:
    store = console.app.state.store
    now = datetime.now(UTC)
    with store.unit() as unit:
        demo = unit.platform_by_name(DEMO_PLATFORM)
        assert demo is not None
        other = create_platform(unit, "other-game").platform
        found = World(console, {"zzdemo": demo.id, "zzother": other.id})
        s = unit.session
        for marker, platform_id in found.platform.items():
            found.actions[marker] = _cases_of(s, marker, platform_id, now)
            appeal = AppealRow(
                case_id=f"{marker}-case-1",
                action_id=found.actions[marker][1],
                statement=f"{marker} appeal",
                recorded_by="mod@vigie.test",
                recorded_at=now,
            )
            s.add(appeal)
            s.flush()
            found.appeals[marker] = [appeal.id]
            for _ in range(2 if marker == "zzdemo" else 3):  # dead letters: a dashboard figure
                unit.audit("bus", "event.dead_letter", f"case:{marker}-case-0", {}, platform_id)
            for role in ROLES:
                q.create_user(
                    s,
                    f"{marker}-{role}@vigie.test",
                    role,
                    hash_password(PASSWORD),
                    now,
                    [platform_id],
                )
    yield found


def _pages(w: World) -> list[str]:
    pages = [f"/console/queues?q={k}" for k in QUEUE_KEYS]
    pages += ["/console/dashboard", "/console/audit", "/console/audit?action=event.dead_letter"]
    pages += ["/console/decisions.csv", "/console/reports", "/console/appeals", "/console/users"]
    for marker in HOMES:
        pages += [f"/console/cases/{marker}-case-{i}" for i in range(CASES)]
        pages += [
            f"/console/cases/{marker}-case-{i}?account={marker}-subject-{i}" for i in range(CASES)
        ]
        pages += [f"/console/reports/{a}/confirm" for a in w.actions[marker]]
    return pages


def _foreign(home: str) -> str:
    return next(m for m in HOMES if m != home)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_officer_never_sees_another_platforms_case(world: World, data: st.DataObject) -> None:
    role = data.draw(st.sampled_from(ROLES), label="role")
    home = data.draw(st.sampled_from(HOMES), label="home")
    path = data.draw(st.sampled_from(_pages(world)), label="path")
    resp = world.client(role, home).get(path, follow_redirects=True)
    page = resp.text
    for asked in re.split(r"[/?=&]", path):  # a 404 names what was asked for: not a leak
        page = page.replace(asked, "") if asked.startswith("zz") else page
    assert _foreign(home) not in page, f"{path} shows {_foreign(home)} to {role}@{home}"
    if path.startswith(f"/console/cases/{_foreign(home)}"):
        assert resp.status_code in (403, 404)


def test_each_officer_sees_their_own_platform(world: World) -> None:
    """The other half: the scope hides the other platform, not everything."""
    for home in HOMES:
        page = world.client("referent", home).get("/console/queues?q=all").text
        assert f"{home}-case-1" in page
        dashboard = world.client("admin", home).get("/console/dashboard").text
        assert f'data-dead-letters="{2 if home == "zzdemo" else 3}"' in dashboard
        csv = world.client("auditor", home).get("/console/decisions.csv").text
        assert f"{home}-rule" in csv


def _posts(w: World, marker: str) -> list[tuple[str, dict[str, str]]]:
    case = f"{marker}-case-1"
    return [
        (f"/console/cases/{case}/claim", {}),
        (f"/console/cases/{case}/release", {}),
        (f"/console/cases/{case}/notes", {"text": "hello"}),
        (f"/console/cases/{case}/decide", {"kind": "warn", "rule": "x", "reason": "y"}),
        (f"/console/cases/{case}/close", {"outcome": "dismissed", "reason": "y"}),
        (
            f"/console/cases/{case}/appeals",
            {"action_id": str(w.actions[marker][1]), "statement": "unfair"},
        ),
        (f"/console/cases/{case}/held/1", {"verdict": "release"}),
        (f"/console/cases/{case}/media/1/reveal", {}),
        (f"/console/cases/{case}/people/{marker}-subject-1/reveal", {}),
        (
            f"/console/reports/{w.actions[marker][0]}/review",
            {"verdict": "approve", "confirm": "yes"},
        ),
        (f"/console/reports/{w.actions[marker][0]}/review", {"verdict": "reject"}),
        (
            f"/console/appeals/{w.appeals[marker][0]}/decide",
            {"outcome": "overturned", "reason": "y"},
        ),
    ]


def _state(w: World, marker: str) -> tuple[object, ...]:
    """Everything of a platform that a console POST could change."""
    with w.console.app.state.store.read() as unit:
        s = unit.session
        mine = CaseRow.id.like(f"{marker}-%")
        stmt = select(CaseRow.id, CaseRow.status, CaseRow.assignee).where(mine)
        cases = s.execute(stmt.order_by(CaseRow.id)).all()
        ids = [c[0] for c in cases]
        count = func.count()
        return (
            tuple(cases),
            s.scalar(select(count).select_from(CaseNoteRow).where(CaseNoteRow.case_id.in_(ids))),
            s.scalar(
                select(count).select_from(CaseActionRow).where(CaseActionRow.case_id.in_(ids))
            ),
            tuple(
                s.scalars(select(CaseActionRow.report_status).where(CaseActionRow.case_id.in_(ids)))
            ),
            tuple(s.scalars(select(AppealRow.outcome).where(AppealRow.case_id.in_(ids)))),
            s.scalar(select(count).select_from(AppealRow).where(AppealRow.case_id.in_(ids))),
            s.scalar(
                select(count).select_from(AuditRow).where(AuditRow.target.like(f"case:{marker}-%"))
            ),
        )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_officer_never_changes_another_platforms_case(world: World, data: st.DataObject) -> None:
    role = data.draw(st.sampled_from(ROLES), label="role")
    home = data.draw(st.sampled_from(HOMES), label="home")
    foreign = _foreign(home)
    path, form = data.draw(st.sampled_from(_posts(world, foreign)), label="post")
    client = world.client(role, home)
    token = csrf_in(client.get("/console/settings").text)
    before = _state(world, foreign)
    resp = client.post(path, data={**form, "csrf": token}, follow_redirects=False)
    assert resp.status_code in (303, 403, 404), (path, resp.status_code)
    assert _state(world, foreign) == before, f"{role}@{home} changed {foreign} with {path}"


def test_scoped_admin_manages_their_platforms_accounts_only(world: World) -> None:
    admin = world.client("admin", "zzdemo")
    page = admin.get("/console/users").text
    assert "zzdemo-moderator@vigie.test" in page and "zzother-moderator@vigie.test" not in page
    token = csrf_in(page)
    with world.console.app.state.store.read() as unit:
        ids = {u.email: u.id for u in unit.session.scalars(select(ConsoleUserRow))}
    # An account of the other platform: neither its password nor its platforms change.
    victim = ids["zzother-moderator@vigie.test"]
    reset = admin.post(f"/console/users/{victim}/password", data={"csrf": token})
    assert "one-time-password" not in reset.text
    admin.post(
        f"/console/users/{victim}/platforms",
        data={"csrf": token, "platform": world.platform["zzdemo"]},
    )
    log_in(TestClient(world.console.app), "zzother-moderator@vigie.test")  # password unchanged
    # Its own platform's account: given the other platform? Only its own platforms are given.
    own = ids["zzdemo-referent@vigie.test"]
    admin.post(
        f"/console/users/{own}/platforms",
        data={"csrf": token, "platform": world.platform["zzother"]},
    )
    with world.console.app.state.store.read() as unit:
        theirs = q.memberships(unit.session, [own, victim])
    assert theirs[own] == frozenset() and theirs[victim] == {world.platform["zzother"]}
    # A new account from the scoped admin belongs to the admin's platform.
    created = admin.post(
        "/console/users",
        data={
            "csrf": token,
            "email": "new@vigie.test",
            "role": "moderator",
            "platform": world.platform["zzdemo"],
            "all_platforms": "1",
        },
    )
    assert created.status_code == 201
    with world.console.app.state.store.read() as unit:
        new = q.user_by_email(unit.session, "new@vigie.test")
        assert new is not None and not new.all_platforms
        assert q.memberships(unit.session, [new.id])[new.id] == {world.platform["zzdemo"]}


def test_super_admin_assigns_platforms(world: World) -> None:
    """The accounts of a single-platform install see every platform (the seed's, created
    before the second platform): an admin of those assigns platforms to anyone."""
    admin = world.console.login("admin@vigie.test")
    page = admin.get("/console/users").text
    assert "zzother-moderator@vigie.test" in page and "zzdemo-moderator@vigie.test" in page
    with world.console.app.state.store.read() as unit:
        mod = q.user_by_email(unit.session, "mod@vigie.test")
        assert mod is not None and mod.all_platforms
        mod_id = mod.id
    both = [("platform", world.platform["zzother"]), ("csrf", csrf_in(page))]
    admin.post(f"/console/users/{mod_id}/platforms", data=dict(both))
    officer = world.console.login("mod@vigie.test")
    queue = officer.get("/console/queues?q=all").text
    assert "zzother-case-1" in queue and "zzdemo-case-1" not in queue
    assert "user.platforms" in _audit_actions(world)


def _audit_actions(w: World) -> list[str]:
    with w.console.app.state.store.read() as unit:
        return list(unit.session.scalars(select(AuditRow.action)))


def test_the_audit_chain_stays_whole_under_scoped_sessions(world: World) -> None:
    """Appends from a scoped session chain onto the last entry of any platform."""
    from vigie.store.audit import verify_chain

    client = world.client("referent", "zzother")
    page = client.get("/console/cases/zzother-case-2")
    client.post(
        "/console/cases/zzother-case-2/notes", data={"text": "seen", "csrf": csrf_in(page.text)}
    )
    with world.console.app.state.store.read() as unit:
        assert verify_chain(unit.session) is None


def test_accounts_that_exist_before_the_upgrade_see_every_platform(tmp_path: Path) -> None:
    """A single-platform install upgrades with no step: its accounts keep seeing everything."""
    from vigie.store.migrate import upgrade

    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(url, "a7e4c1f9b2d3")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO console_users (email, role, password_hash, active, created_at, blur,"
                " greyscale, mute, break_minutes, lang) VALUES ('old@vigie.test', 'referent', 'x',"
                " 1, '2026-01-01 00:00:00', 1, 1, 1, 50, '')"
            )
        )
    upgrade(url)
    with Session(engine) as s:
        old = q.user_by_email(s, "old@vigie.test")
        assert old is not None and q.platform_scope(s, old) is None
    engine.dispose()
