"""Routing and ordering rules of the queues (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigie.console import queues
from vigie.console.queries import QueueCase

NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


def _case(
    case_id: str,
    cats: list[str],
    *,
    priority: int = 2,
    risk: float = 0.7,
    age: int | None = 13,
    others: int = 0,
    status: str = "open",
    opened_minutes: int = 10,
) -> QueueCase:
    opened = NOW - timedelta(minutes=opened_minutes)
    return QueueCase(
        case_id,
        "p",
        "s",
        status,
        priority,
        risk,
        cats,
        opened,
        opened,
        None,
        child_age=age,
        other_cases=others,
    )


def test_hash_matches_and_sextortion_win_whatever_else_a_case_carries() -> None:
    assert queues.route(_case("a", ["secrecy", "known_imagery"])) == "urgent"
    assert queues.route(_case("b", ["flattery", "sextortion_threat"])) == "urgent"
    assert queues.route(_case("c", ["user_report"])) == "user_reports"
    assert queues.route(_case("d", ["secrecy", "user_report"])) == "grooming"
    assert queues.route(_case("e", ["known_imagery"], status="escalated")) == "escalated"


def test_priority_then_risk_child_age_and_repeat_subject() -> None:
    cases = [
        _case("p3-high-risk", ["secrecy"], priority=3, risk=1.0),
        _case("older-child", ["secrecy"], age=16),
        _case("younger-child", ["secrecy"], age=11),
        _case("repeat-subject", ["secrecy"], age=16, others=2),
    ]
    order = [c.id for c in queues.order(cases, NOW)]
    assert order == ["repeat-subject", "younger-child", "older-child", "p3-high-risk"]


def test_sla_is_visible_only_when_overdue() -> None:
    assert queues.overdue(_case("x", [], priority=1, opened_minutes=30), NOW) is None
    late = queues.overdue(_case("y", [], priority=1, opened_minutes=90), NOW)
    assert late == timedelta(minutes=30) and queues.human(late) == "30 min"


def test_every_queue_is_listed_even_empty() -> None:
    built = queues.build([_case("a", ["known_imagery"])], NOW)
    assert set(built) == set(queues.QUEUE_KEYS) and len(built["urgent"]) == 1
