"""A console database for tests: demo traffic, a few routed cases, media by hash, five officers.

Everything is benign: the media rows carry made-up hex hashes, not hashes of any real image.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.console import queries as q
from vigie.console.security import hash_password
from vigie.demo import DEMO_PLATFORM, seed_demo
from vigie.runtime import build_pipeline
from vigie.settings import ReportsSettings, Settings
from vigie.store.sql import SqlStore
from vigie.store.tables import AccountRow, CaseRow, DecisionRow, MediaRow, MessageRow

PASSWORD = "calm-harbour-lantern-42"
USERS = {
    "mod@vigie.test": "moderator",
    "mod2@vigie.test": "moderator",
    "ref1@vigie.test": "referent",
    "ref2@vigie.test": "referent",
    "admin@vigie.test": "admin",
    "audit@vigie.test": "auditor",
}
# (case id, categories, priority, risk, opened minutes ago)
EXTRA_CASES = [
    ("case-hash", ["known_imagery"], 1, 1.0, 10),
    ("case-sextortion", ["sextortion_threat"], 1, 0.8, 120),
    ("case-payment", ["payment_demand"], 2, 0.99, 5),
    ("case-report", ["user_report"], 2, 0.0, 30),
    ("case-low", ["age_probing"], 3, 0.55, 60),
]
URGENT_ORDER = ["case-hash", "case-sextortion", "case-payment"]


def reports_settings(folder: Path, ncmec_url: str | None = None) -> ReportsSettings:
    """Where a test console writes packages and keys, who the platform is, and its NCMEC
    account (the local CyberTipline server's, when ``ncmec_url`` is given)."""
    return ReportsSettings(
        outbox_dir=str(folder / "outbox"),
        keys_dir=str(folder / "keys"),
        legal_entity="Demo Games SAS, 1 rue de l'Exemple, 75000 Paris",
        requisition_contact="requisitions@demo-games.example",
        ncmec_url=ncmec_url,
        ncmec_username="esp" if ncmec_url else None,
        ncmec_password="secret" if ncmec_url else None,
        ncmec_retries=0,
        ncmec_reporter_email="safety@demo-games.example",
        ncmec_service="Demo Games chat",
    )


def seed(url: str, settings: Settings | None = None) -> dict[str, str]:
    """Fill a migrated database; returns {"demo_case": id} for the demo grooming case."""
    settings = settings or Settings(database_url=url)
    store = SqlStore(url)
    seed_demo(store, build_pipeline(settings, store))
    now = datetime.now(UTC)
    with store.unit() as unit:
        s = unit.session
        demo = s.scalars(select(CaseRow).order_by(CaseRow.opened_at)).first()
        assert demo is not None, "the demo traffic should open a case"
        platform = unit.platform_by_name(DEMO_PLATFORM)
        assert platform is not None
        for email, role in USERS.items():
            q.create_user(s, email, role, hash_password(PASSWORD), now)
        for case_id, cats, prio, risk, ago in EXTRA_CASES:
            opened = now - timedelta(minutes=ago)
            subject = f"subj-{case_id}"
            s.add(
                AccountRow(
                    platform_id=platform.id,
                    pseudo_id=subject,
                    age=30,
                    age_source="declared",
                    first_seen=opened,
                    profile_state={},
                )
            )
            s.add(
                CaseRow(
                    id=case_id,
                    platform_id=platform.id,
                    subject=subject,
                    conversation_id=None,
                    status="open",
                    priority=prio,
                    risk=risk,
                    categories=cats,
                    requires_report=False,
                    opened_at=opened,
                    updated_at=opened,
                )
            )
        for i in range(2):
            s.add(
                MediaRow(
                    platform_id=demo.platform_id,
                    conversation_id=demo.conversation_id,
                    sender=demo.subject,
                    recipients=[],
                    sent_at=now,
                    hashes={"md5": f"{i:032x}", "sha256": f"{i + 7:064x}"},
                )
            )
        _hold_last_message(s, demo, now)
        demo_id = demo.id
    store.dispose()
    return {"demo_case": demo_id}


def _hold_last_message(s: Session, demo: CaseRow, now: datetime) -> None:
    """The demo case always has one message Vigie held, whatever the detector scores."""
    last = s.scalars(
        select(MessageRow)
        .where(
            MessageRow.platform_id == demo.platform_id,
            MessageRow.conversation_id == demo.conversation_id,
            MessageRow.sender == demo.subject,
        )
        .order_by(MessageRow.id.desc())
    ).first()
    assert last is not None and last.event_id
    held = select(DecisionRow).where(
        DecisionRow.event_id == last.event_id, DecisionRow.kind == "hold"
    )
    if s.scalars(held).first() is None:
        s.add(
            DecisionRow(
                platform_id=demo.platform_id,
                event_id=last.event_id,
                kind="hold",
                actions=["hold_message"],
                case_id=demo.id,
                rules=["high_risk_hold"],
                subject=demo.subject,
                at=now,
            )
        )


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_in(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


@dataclass
class ConsoleEnv:
    app: FastAPI
    url: str
    demo_case: str
    login: Callable[[str], TestClient]


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": csrf_in(page.text)},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    return client
