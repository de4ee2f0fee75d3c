"""Signals an officer needs (issue 19, part 6), end to end through the real pipeline:
media a child sends to an adult after a photo request is held and tops the queue; a child's
user report raises the case and lands under User reports; every webhook says why."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from vigie.console import queries as q
from vigie.console import queues
from vigie.events import AccountEvent, MediaEvent, MessageEvent, UserReportEvent
from vigie.platforms import create_platform
from vigie.runtime import build_pipeline
from vigie.settings import Settings
from vigie.store.outbox import WebhookOutboxRow
from vigie.store.sql import SqlStore
from vigie.store.tables import CaseRow

GROOMING = [
    "hey, good game",
    "how old are you?",
    "are your parents home?",
    "don't tell anyone about us, ok?",
    "send me a picture of you",
]


def _setup(store: SqlStore) -> tuple[Any, Any]:
    pipeline = build_pipeline(Settings(database_url=str(store.engine.url)), store)
    with store.unit() as unit:
        platform = create_platform(unit, "p", "http://127.0.0.1:9/hook").platform
    pipeline.process_batch(
        platform,
        [
            AccountEvent(type="account", id="a1", account="adult", age=31),
            AccountEvent(type="account", id="a2", account="kid", age=12),
            AccountEvent(type="account", id="a3", account="other", age=29),
        ],
    )
    for i, text in enumerate(GROOMING):
        ev = MessageEvent(
            type="message", id=f"m{i}", conversation="c1", sender="adult", recipients=["kid"],
            text=text,
        )  # fmt: skip
        pipeline.process_batch(platform, [ev])
    return pipeline, platform


def _hooks(store: SqlStore) -> list[dict[str, Any]]:
    with store.read() as unit:
        return [json.loads(b) for b in unit.session.scalars(select(WebhookOutboxRow.body))]


def _media(i: str, sender: str, recipient: str) -> MediaEvent:
    return MediaEvent.model_validate(
        {"type": "media", "id": i, "conversation": "c1", "sender": sender,
         "recipients": [recipient], "hashes": {"sha256": f"{int(i[-1]) + 1:064x}"}}
    )  # fmt: skip


def test_child_media_after_a_photo_request_is_held_and_tops_the_adults_case(
    store: SqlStore,
) -> None:
    pipeline, platform = _setup(store)
    with store.read() as unit:
        case = unit.session.scalars(select(CaseRow)).one()
        assert "image_request" in case.categories and case.priority > 1
    answer = pipeline.process_batch(platform, [_media("md1", "kid", "adult")])[0]
    assert answer["decision"] == "hold" and "hold_message" in answer["actions"]
    assert answer["case"] == case.id  # the adult's case, not a new one about the child
    with store.read() as unit:
        row = unit.session.get(CaseRow, case.id)
        assert row is not None and row.priority == 1
    hold = [h for h in _hooks(store) if h["action"] == "hold_message" and h["event"] == "md1"]
    assert hold and hold[0]["reason"]["rules"] == ["media_to_adult_after_image_request"]
    # Media between adults, or from the child to someone without such a case, is not held.
    other = pipeline.process_batch(platform, [_media("md2", "kid", "other")])[0]
    assert other["decision"] == "allow"


def test_a_childs_user_report_raises_priority_and_shows_under_user_reports(
    store: SqlStore,
) -> None:
    pipeline, platform = _setup(store)
    report = UserReportEvent(
        type="user_report", id="r1", reporter="kid", subject="adult", conversation="c1",
        reason="he keeps asking for photos",
    )  # fmt: skip
    answer = pipeline.process_batch(platform, [report])[0]
    with store.read() as unit:
        row = unit.session.get(CaseRow, answer["case"])
        assert row is not None and row.priority == 1
        waiting = q.active_cases(unit.session)
    built = queues.build(waiting, waiting[0].opened_at)
    assert [c.id for c in built["user_reports"]] == [answer["case"]]
    assert built["user_reports"][0].minor_report


def test_every_webhook_carries_its_reason(store: SqlStore) -> None:
    _setup(store)
    hooks = _hooks(store)
    assert hooks
    for hook in hooks:
        assert hook["reason"]["rules"] and hook["reason"]["text"], hook
