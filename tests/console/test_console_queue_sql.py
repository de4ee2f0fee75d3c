"""The queues counted and ordered in SQL (``queue_queries``) say what ``queues.build`` says
over every waiting case read into Python: same counts, same overdue counts, same top of each
queue in the same order, with the same facts (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from vigie.console import queries as q
from vigie.console import queue_queries as qq
from vigie.console import queues
from vigie.store.console_tables import CaseActionRow
from vigie.store.sql import SqlStore
from vigie.store.tables import (
    AccountRow,
    CaseRow,
    MessageRow,
    PlatformRow,
    SignalRow,
    UserReportRow,
)

NOW = datetime.now(UTC).replace(microsecond=0)
CATEGORIES = [
    ["age_probing", "secrecy"],
    ["sextortion_threat"],
    ["user_report"],
    [],
    ["known_imagery", "user_report"],
    ["payment_demand"],
    ["off_platform"],
]
STATUSES = ["open", "open", "in_review", "escalated", "report_pending", "closed"]


def _account(platform: str, who: str, age: int | None) -> dict[str, object]:
    return {
        "platform_id": platform,
        "pseudo_id": who,
        "age": age,
        "age_source": "declared",
        "first_seen": NOW,
        "profile_state": {},
    }


def _seed(store: SqlStore, n: int, rnd: random.Random) -> None:
    """``n`` cases on two platforms: repeat subjects, children of every age (and unknown),
    reports by minors and by adults, pending and approved reports, every status."""
    with store.unit() as unit:
        s = unit.session
        for p in ("p1", "p2"):
            s.add(PlatformRow(id=p, name=f"name-{p}", pseudonym_secret="s", created_at=NOW))
        s.flush()
        accounts, cases, messages, reports, actions = [], [], [], [], []
        for i in range(n):
            platform, subject = f"p{1 + i % 2}", f"adult{rnd.randrange(n // 3)}"
            child, conv = f"kid{i}", f"conv{i}"
            accounts.append(_account(platform, child, rnd.choice([None, 0, 5, 9, 12, 15, 17, 25])))
            opened = NOW - timedelta(minutes=rnd.randrange(6000))
            status = rnd.choice(STATUSES)
            cases.append(
                {
                    "id": f"case-{i:04d}",
                    "platform_id": platform,
                    "subject": subject,
                    "conversation_id": conv,
                    "status": status,
                    "priority": rnd.choice([1, 2, 3, 4, 5]),
                    "risk": rnd.choice([0.0, 0.5, 0.55, round(rnd.random(), 3)]),
                    "categories": rnd.choice(CATEGORIES),
                    "requires_report": False,
                    "opened_at": opened,
                    "updated_at": opened + timedelta(minutes=rnd.randrange(60)),
                    "assignee": rnd.choice([None, "mod@vigie.test"]),
                }
            )
            messages += [
                _message(platform, conv, subject, [child], opened),
                _message(platform, conv, child, [subject], opened),
            ]
            if status == "report_pending" and rnd.random() < 0.7:
                actions.append(_pending_report(f"case-{i:04d}", platform, subject))
            if rnd.random() < 0.1:
                reports.append(_report(platform, child, subject))
        for p in ("p1", "p2"):
            accounts += [_account(p, f"adult{k}", 40) for k in range(n // 3)]
        s.execute(insert(AccountRow), accounts)
        s.execute(insert(CaseRow), cases)
        s.execute(insert(MessageRow), messages)
        if reports:
            s.execute(insert(UserReportRow), reports)
        s.add_all(actions)


def _message(
    platform: str, conv: str, sender: str, to: list[str], at: datetime
) -> dict[str, object]:
    return {
        "platform_id": platform,
        "conversation_id": conv,
        "sender": sender,
        "recipients": to,
        "text": "salut",
        "sent_at": at,
        "risk": 0.0,
    }


def _report(platform: str, reporter: str, subject: str) -> dict[str, object]:
    return {
        "platform_id": platform,
        "reporter": reporter,
        "subject": subject,
        "reason": "r",
        "event_id": f"r-{reporter}",
        "at": NOW,
    }


def _pending_report(case_id: str, platform: str, subject: str) -> CaseActionRow:
    return CaseActionRow(
        case_id=case_id,
        platform_id=platform,
        subject=subject,
        kind="prepare_report",
        rule="r",
        reason="r",
        actor="ref1@vigie.test",
        at=NOW,
        report_status="pending",
        overturned=False,
    )


def _facts(c: q.QueueCase) -> tuple[object, ...]:
    return (c.id, c.platform, c.status, c.child_age, c.other_cases, c.minor_report, c.categories)


@pytest.mark.parametrize("seed", [1, 2])
def test_sql_queues_match_the_python_queues(db_url: str, seed: int) -> None:
    store = SqlStore(db_url)
    _seed(store, 400, random.Random(seed))
    with store.read() as unit:
        s = unit.session
        built = queues.build(q.active_cases(s), NOW)
        found = qq.backlog(s, NOW)
        assert found.counts == {k: len(v) for k, v in built.items()}
        assert found.overdue == {
            k: sum(1 for c in v if queues.overdue(c, NOW)) for k, v in built.items()
        }
        for key in queues.QUEUE_KEYS:
            for page in (1, 7, 40, 100):
                shown = qq.top(s, key, found, NOW, page)
                assert [_facts(c) for c in shown] == [_facts(c) for c in built[key][:page]]
    store.dispose()


def test_signal_counts_group_by_utc_day_category_and_language(db_url: str) -> None:
    """The dashboard's flags, counted by the database: a signal just before midnight UTC
    counts on its own day, a missing or empty language is "unknown"."""
    store = SqlStore(db_url)
    midnight = datetime(2026, 11, 30, tzinfo=UTC)
    rows = [
        (midnight - timedelta(seconds=1), "secrecy", {"lang": "fr"}),
        (midnight, "secrecy", {"lang": "fr"}),
        (midnight + timedelta(hours=23, minutes=59), "secrecy", {}),
        (midnight + timedelta(hours=1), "age_probing", {"lang": ""}),
        (midnight + timedelta(hours=2), "age_probing", {"lang": "en"}),
        (midnight - timedelta(days=30), "age_probing", {"lang": "en"}),  # before ``since``
    ]
    with store.unit() as unit:
        s = unit.session
        s.add(PlatformRow(id="p1", name="p1", pseudonym_secret="s", created_at=NOW))
        s.flush()
        s.execute(insert(SignalRow), [_signal(at, cat, details) for at, cat, details in rows])
    with store.read() as unit:
        counts = q.signal_counts(unit.session, midnight - timedelta(days=14))
    assert sorted(counts) == [
        ("2026-11-29", "secrecy", "fr", 1),
        ("2026-11-30", "age_probing", "en", 1),
        ("2026-11-30", "age_probing", "unknown", 1),
        ("2026-11-30", "secrecy", "fr", 1),
        ("2026-11-30", "secrecy", "unknown", 1),
    ]
    store.dispose()


def _signal(at: datetime, category: str, details: dict[str, str]) -> dict[str, object]:
    return {
        "platform_id": "p1",
        "event_id": f"e-{at.isoformat()}",
        "detector": "t",
        "category": category,
        "score": 0.9,
        "explanation": "x",
        "details": details,
        "at": at,
    }
