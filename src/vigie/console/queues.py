"""Queue routing and ordering: which queue a case lands in, and who looks first.

Routing rules are read top to bottom and the first that matches wins, so hash matches and
sextortion always land in the urgent queue whatever else a case carries. Within a queue,
cases are ordered by the policy's priority (1 = most urgent), then by a score made of the
risk, the child's age (younger first), recency and whether the subject is a repeat subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigie.console.i18n import N_, Translator
from vigie.console.queries import QueueCase

URGENT_CATEGORIES = frozenset({"known_imagery", "sextortion_threat", "payment_demand"})

# How long a case may wait, per priority, before its timer turns visible as overdue.
SLA = {1: timedelta(hours=1), 2: timedelta(hours=4), 3: timedelta(hours=24), 4: timedelta(hours=72)}


@dataclass(frozen=True, slots=True)
class Queue:
    key: str
    title: str  # English msgids: pages show them through the catalogue
    why: str
    matches: Callable[[QueueCase], bool]


QUEUES: tuple[Queue, ...] = (
    Queue(
        "reports",
        N_("Reports awaiting approval"),
        N_("prepared reports to an authority: a second référent must approve them"),
        lambda c: c.status == "report_pending",
    ),
    Queue(
        "escalated",
        N_("Escalated to a référent"),
        N_("cases a moderator escalated to a référent"),
        lambda c: c.status == "escalated",
    ),
    Queue(
        "urgent",
        N_("Hash matches and sextortion"),
        N_("known imagery, threats and payment demands: the most harm, the fastest"),
        lambda c: bool(URGENT_CATEGORIES & set(c.categories)),
    ),
    Queue(
        "user_reports",
        N_("User reports"),
        N_("reported by a user with no detector signal yet, or reported by a child"),
        lambda c: set(c.categories) <= {"user_report"} or c.minor_report,
    ),
    Queue(
        "grooming",
        N_("Grooming indicators"),
        N_("conversations with risk indicators"),
        lambda c: True,
    ),
)
QUEUE_KEYS = tuple(q.key for q in QUEUES)


def route(case: QueueCase) -> str:
    return next(q.key for q in QUEUES if q.matches(case))


AGE_WEIGHT = 0.4  # a newborn's share; an unknown age counts as UNKNOWN_AGE
UNKNOWN_AGE = 0.15
RECENCY_WEIGHT = 0.2
REPEAT_WEIGHT = 0.2


def age_part(age: int | None) -> float:
    """Younger first. Public, with ``recency`` and ``repeat_part``, because the SQL side of
    the queues (``queue_queries``) bounds the scores of cases whose facts it has not read."""
    return UNKNOWN_AGE if age is None else max(0.0, (18 - age) / 18) * AGE_WEIGHT


def recency(updated_at: datetime, now: datetime) -> float:
    hours = max(0.0, (now - updated_at).total_seconds() / 3600)
    return RECENCY_WEIGHT / (1 + hours)


def repeat_part(other_cases: int) -> float:
    return REPEAT_WEIGHT if other_cases > 0 else 0.0


def score(case: QueueCase, now: datetime) -> float:
    """Higher first. Weights are small and readable on purpose; the priority dominates."""
    part = age_part(case.child_age)
    return case.risk + part + recency(case.updated_at, now) + repeat_part(case.other_cases)


def order(cases: list[QueueCase], now: datetime) -> list[QueueCase]:
    return sorted(cases, key=lambda c: (c.priority, -score(c, now), c.opened_at, c.id))


def build(cases: list[QueueCase], now: datetime) -> dict[str, list[QueueCase]]:
    """Every queue (empty ones too, so counts show 0), each ordered."""
    out: dict[str, list[QueueCase]] = {k: [] for k in QUEUE_KEYS}
    for case in cases:
        out[route(case)].append(case)
    return {k: order(v, now) for k, v in out.items()}


def overdue(case: QueueCase | None, now: datetime) -> timedelta | None:
    """How late a case is against its priority's SLA, or None when still in time."""
    if case is None:
        return None
    late = now - case.opened_at - SLA.get(case.priority, SLA[4])
    return late if late > timedelta(0) else None


def human(delta: timedelta, tr: Translator | None = None) -> str:
    """A delay as officers say it ("45 min", "3 h 05", "2 days"), in the page's language."""
    tr = tr or Translator("en")
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return tr.t("%(n)s min", n=minutes)
    if minutes < 48 * 60:
        return tr.t("%(h)s h %(m)s", h=minutes // 60, m=str(minutes % 60).zfill(2))
    return tr.tn("%(n)s day", "%(n)s days", minutes // 1440)
