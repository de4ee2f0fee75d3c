"""Shared fixtures: a temporary SQLite database with every table, and a small confirmed case.

All texts are non-explicit risk indicators; media is referenced by hashes of benign bytes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

import vigie.store.console_tables  # the console's decisions, read by the reports
import vigie.store.reports_tables  # noqa: F401  (registers the tables on Base)
from vigie.pseudonym import seal
from vigie.store.tables import (
    AccountRow,
    Base,
    CaseRow,
    ConversationRow,
    DecisionRow,
    MediaRow,
    MessageRow,
    PlatformRow,
    SignalRow,
    UserReportRow,
)

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
SECRET = "s"
# The platform's own account ids, kept sealed in accounts.external_ref as the pipeline does.
ACCOUNT_IDS = {"p-adult": "acct-778100", "p-child": "acct-204417"}

MESSAGES = [
    ("p-adult", "salut, tu joues à quoi ?"),
    ("p-child", "fortnite"),
    ("p-adult", "tu as quel âge ?"),
    ("p-child", "13"),
    ("p-adult", "c'est notre secret, ne dis rien à tes parents"),
    ("p-adult", "on continue sur snap ? je t'offre des v-bucks"),
]


@pytest.fixture(scope="session")
def reports_pg_url() -> Iterator[str]:
    """One PostgreSQL database for this folder's tests (tables emptied before each test)."""
    from services import PG_HOST, PG_PORT, require_postgres

    require_postgres()
    import psycopg

    name = "vigie_reports_" + secrets.token_hex(6)

    def admin(sql: str) -> None:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every database test runs on SQLite and on PostgreSQL (skipped, or failed under CI=true,
    when the server is unreachable). Schema from metadata, so these tests do not depend on
    the migration history."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigie.db'}"
    url = str(request.getfixturevalue("reports_pg_url"))
    engine = create_engine(url)
    Base.metadata.create_all(engine)  # tables registered since (other rooms' imports)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()
    return url


@pytest.fixture()
def session(db_url: str) -> Iterator[Session]:
    engine = create_engine(db_url)
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as s:
        yield s
    engine.dispose()


def add_case(
    session: Session,
    case_id: str = "case-1",
    conv: str = "c-9",
    t0: datetime = T0,
    status: str = "reported",
) -> CaseRow:
    """A grooming case: an adult and a 13-year-old, four indicators, a hold and a block."""
    if session.get(PlatformRow, "demo") is None:
        session.add(
            PlatformRow(id="demo", name="demo-game", pseudonym_secret=SECRET, created_at=t0)
        )
    for pid, age, src in (("p-adult", 34, "declared"), ("p-child", 13, "estimated")):
        if session.get(AccountRow, ("demo", pid)) is None:
            session.add(
                AccountRow(
                    platform_id="demo",
                    pseudo_id=pid,
                    external_ref=seal(SECRET, ACCOUNT_IDS[pid]),
                    age=age,
                    age_source=src,
                    created_at=t0 - timedelta(days=3),
                    first_seen=t0,
                )
            )
    session.add(
        ConversationRow(
            platform_id="demo",
            id=conv,
            external_ref=seal(SECRET, f"dm-{conv}"),
            started_at=t0,
            last_at=t0,
            message_count=len(MESSAGES),
        )
    )
    ids = []
    for i, (sender, text) in enumerate(MESSAGES):
        other = "p-child" if sender == "p-adult" else "p-adult"
        row = MessageRow(
            platform_id="demo",
            conversation_id=conv,
            sender=sender,
            recipients=[other],
            text=text,
            sent_at=t0 + timedelta(minutes=i),
            event_id=f"{conv}-ev-{i}",
        )
        session.add(row)
        session.flush()
        ids.append(row.id)
    media_hash = hashlib.md5(b"benign test bytes").hexdigest()
    media = MediaRow(
        platform_id="demo",
        conversation_id=conv,
        sender="p-adult",
        recipients=["p-child"],
        hashes={"md5": media_hash, "pdq": "a" * 64},
        sent_at=t0 + timedelta(minutes=7),
        event_id=f"{conv}-ev-m",
    )
    session.add(media)
    session.flush()
    for idx, det, cat, expl in (
        (2, "patterns", "age_probing", "asks the other person's age"),
        (4, "patterns", "secrecy", "asks to keep the conversation secret"),
        (5, "semantic", "platform_migration", "asks to move to a private app"),
        (5, "patterns", "gift_offer", "offers game currency"),
    ):
        session.add(
            SignalRow(
                platform_id="demo",
                event_id=f"{conv}-ev-{idx}",
                conversation_id=conv,
                subject="p-adult",
                message_id=ids[idx],
                case_id=case_id,
                detector=det,
                category=cat,
                score=0.8,
                explanation=expl,
                at=t0 + timedelta(minutes=idx),
            )
        )
    session.add(
        SignalRow(
            platform_id="demo",
            event_id=f"{conv}-ev-m",
            conversation_id=conv,
            subject="p-adult",
            media_id=media.id,
            case_id=case_id,
            detector="hashlist",
            category="known_imagery",
            score=1.0,
            explanation="md5 matches test list",
            at=t0 + timedelta(minutes=7),
        )
    )
    session.add(
        DecisionRow(
            platform_id="demo",
            event_id=f"{conv}-ev-4",
            kind="hold",
            actions=["hold_message", "open_case"],
            case_id=case_id,
            rules=["secrecy-minor"],
            subject="p-adult",
            at=t0 + timedelta(minutes=4, seconds=1),
        )
    )
    session.add(
        DecisionRow(
            platform_id="demo",
            event_id=f"{conv}-ev-5",
            kind="block",
            actions=["block", "restrict_contact", "require_report"],
            case_id=case_id,
            rules=["migration-minor"],
            subject="p-adult",
            at=t0 + timedelta(minutes=5, seconds=2),
        )
    )
    session.add(
        UserReportRow(
            platform_id="demo",
            reporter="p-child",
            subject="p-adult",
            conversation_id=conv,
            reason="asked me to keep a secret",
            event_id=f"{conv}-ev-r",
            at=t0 + timedelta(minutes=6),
        )
    )
    case = CaseRow(
        id=case_id,
        platform_id="demo",
        subject="p-adult",
        conversation_id=conv,
        status=status,
        priority=1,
        risk=0.93,
        categories=["age_probing", "secrecy", "platform_migration", "gift_offer"],
        requires_report=True,
        opened_at=t0 + timedelta(minutes=4),
        updated_at=t0 + timedelta(minutes=30),
    )
    session.add(case)
    session.commit()
    return case


@pytest.fixture()
def make_case():  # type: ignore[no-untyped-def]
    """The ``add_case`` helper, as a fixture so test modules need not import conftest."""
    return add_case
