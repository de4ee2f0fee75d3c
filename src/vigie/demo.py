"""A demo platform with a few short, non-explicit conversations, so the console has something
to show on a fresh install. Ages and wording follow child-protection guidance examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigie.events import AccountEvent, Event, MessageEvent
from vigie.pipeline import Pipeline
from vigie.platforms import NewPlatform, create_platform
from vigie.store.base import Store

DEMO_PLATFORM = "demo-game"

_ACCOUNTS = [
    ("u-lucas", 13, "estimated"),
    ("u-marc", 34, "declared"),
    ("u-emma", 12, "declared"),
    ("u-coach", 41, "verified"),
    ("u-noah", 13, "declared"),
]

_CONVERSATIONS: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "demo-1",
        [
            ("u-marc", "u-lucas", "salut, bien joué pour la partie, tu joues souvent ?"),
            ("u-lucas", "u-marc", "oui tous les soirs"),
            ("u-marc", "u-lucas", "t'as quel âge ? tu es en quelle classe ?"),
            ("u-lucas", "u-marc", "13 ans, en 4e"),
            (
                "u-marc",
                "u-lucas",
                "tu es très mature pour ton âge, je te file des V-bucks si tu veux",
            ),
            ("u-marc", "u-lucas", "tes parents sont là ce soir ?"),
            ("u-marc", "u-lucas", "ajoute moi sur snap, c'est plus tranquille"),
            ("u-marc", "u-lucas", "et n'en parle à personne, c'est notre secret"),
        ],
    ),
    (
        "demo-2",
        [
            ("u-coach", "u-emma", "Training moves to 5pm on Saturday, tell your parents please."),
            ("u-emma", "u-coach", "ok thanks coach"),
            ("u-coach", "u-emma", "Great match last week, the whole team played well."),
        ],
    ),
    (
        "demo-3",
        [
            ("u-noah", "u-lucas", "t'es chaud pour une game ce soir ?"),
            ("u-lucas", "u-noah", "ouais après les devoirs"),
            ("u-noah", "u-lucas", "trop bien, on fait le défi du jour"),
        ],
    ),
]


def demo_events(start: datetime | None = None) -> list[Event]:
    """The demo traffic as events, as a platform would send them."""
    at = start or datetime.now(UTC) - timedelta(hours=1)
    events: list[Event] = [
        AccountEvent(
            type="account",
            id=f"demo-acc-{name}",
            account=name,
            age=age,
            age_source=source,
            created_at=at - timedelta(days=30),
        )
        for name, age, source in _ACCOUNTS
    ]
    for conv, lines in _CONVERSATIONS:
        for i, (sender, recipient, text) in enumerate(lines):
            events.append(
                MessageEvent(
                    type="message",
                    id=f"{conv}-m{i}",
                    conversation=conv,
                    sender=sender,
                    recipients=[recipient],
                    text=text,
                    sent_at=at + timedelta(minutes=i),
                )
            )
    return events


def seed_demo(store: Store, pipeline: Pipeline) -> NewPlatform | None:
    """Create the demo platform and its traffic once; ``None`` when it already exists."""
    with store.unit() as unit:
        if unit.platform_by_name(DEMO_PLATFORM) is not None:
            return None
        created = create_platform(unit, DEMO_PLATFORM)
    pipeline.process_batch(created.platform, demo_events())
    return created
