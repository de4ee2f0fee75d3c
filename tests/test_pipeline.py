"""The pipeline end to end on the real detectors and policy, without HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from vigie.events import AccountEvent, Event, MessageEvent
from vigie.platforms import create_platform
from vigie.pseudonym import pseudonymise
from vigie.runtime import build_pipeline
from vigie.settings import Settings
from vigie.store.outbox import WebhookOutboxRow
from vigie.store.sql import SqlStore


def _traffic() -> list:
    acc = [
        AccountEvent(type="account", id="a1", account="adult", age=31),
        AccountEvent(type="account", id="a2", account="kid", age=12),
    ]
    texts = [
        "hey, good game",
        "how old are you?",
        "are your parents home?",
        "add me on snapchat, it's more private",
        "don't tell anyone about us, ok?",
        "send me a picture of you",
    ]
    msgs = [
        MessageEvent(
            type="message",
            id=f"m{i}",
            conversation="c1",
            sender="adult",
            recipients=["kid"],
            text=t,
        )
        for i, t in enumerate(texts)
    ]
    return [*acc, *msgs]


def test_risky_traffic_opens_one_case_and_queues_signed_webhooks(store: SqlStore) -> None:
    settings = Settings(database_url=str(store.engine.url))
    pipeline = build_pipeline(settings, store)
    with store.unit() as unit:
        platform = create_platform(unit, "p", "http://127.0.0.1:9/hook").platform
    results = [pipeline.process_batch(platform, [ev])[0] for ev in _traffic()]
    cases = {r["case"] for r in results if r["case"]}
    assert len(cases) == 1
    assert results[-1]["decision"] != "allow"
    with store.read() as unit:
        rows = unit.session.execute(select(WebhookOutboxRow.body)).scalars().all()
    payloads = [json.loads(body) for body in rows]
    assert payloads and all(p["subject"] == "adult" for p in payloads)
    assert all(set(p) >= {"id", "action", "event", "subject", "case", "at"} for p in payloads)
    # Replaying the same events changes nothing and queues nothing new.
    again = [pipeline.process_batch(platform, [ev])[0] for ev in _traffic()]
    assert again == results
    with store.read() as unit:
        count = len(unit.session.execute(select(WebhookOutboxRow.id)).scalars().all())
    assert count == len(rows)


def test_peers_of_the_same_age_are_not_flagged(store: SqlStore) -> None:
    pipeline = build_pipeline(Settings(database_url=str(store.engine.url)), store)
    with store.unit() as unit:
        platform = create_platform(unit, "p2").platform
    events: list[Event] = [
        AccountEvent(type="account", id="a1", account="x", age=13),
        AccountEvent(type="account", id="a2", account="y", age=13),
    ]
    texts = ["wanna play tonight?", "yeah after homework", "how old is your brother?", "16"]
    events += [
        MessageEvent(
            type="message",
            id=f"m{i}",
            conversation="c",
            sender="xy"[i % 2],
            recipients=["yx"[i % 2]],
            text=t,
        )
        for i, t in enumerate(texts)
    ]
    results = pipeline.process_batch(platform, events)
    assert all(r["decision"] == "allow" and r["case"] is None for r in results)


def test_signals_keep_the_message_language(store: SqlStore) -> None:
    from vigie.store.tables import SignalRow

    pipeline = build_pipeline(Settings(database_url=str(store.engine.url)), store)
    with store.unit() as unit:
        platform = create_platform(unit, "p3").platform
    events: list[Event] = [
        AccountEvent(type="account", id="a1", account="adult", age=40),
        AccountEvent(type="account", id="a2", account="kid", age=12),
        MessageEvent(
            type="message",
            id="m1",
            conversation="c",
            sender="adult",
            recipients=["kid"],
            text="keep this our little secret",
            lang="en",
        ),
    ]
    pipeline.process_batch(platform, events)
    with store.read() as unit:
        details = unit.session.execute(select(SignalRow.details)).scalars().all()
    assert details and all(d.get("lang") == "en" for d in details)


def test_event_times_with_an_offset_are_stored_in_utc(db_url: str) -> None:
    store = SqlStore(db_url)
    pipeline = build_pipeline(Settings(database_url=db_url), store)
    with store.unit() as unit:
        platform = create_platform(unit, "tz").platform
    sent = datetime(2026, 11, 29, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    message = MessageEvent(type="message", id="m1", conversation="c", sender="a",
                           recipients=["b"], text="hello there", sent_at=sent)  # fmt: skip
    try:
        pipeline.process_batch(platform, [message])
        conv = pseudonymise(platform.pseudonym_secret, "conversation", "c")
        with store.read() as unit:
            (prior,) = unit.history(platform.id, conv, 5)
        assert prior.sent_at == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    finally:
        store.dispose()


def test_a_group_gives_the_answers_of_one_by_one_and_embeds_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit embeds the whole group at once; answers do not change."""
    from vigie.store.migrate import upgrade

    answers = []
    calls: list[int] = []
    for name in ("alone", "grouped"):
        url = f"sqlite:///{tmp_path}/{name}.db"
        upgrade(url)
        store = SqlStore(url)
        pipeline = build_pipeline(Settings(database_url=url), store)
        detector = pipeline.text_detectors[0]
        if detector.embedder is not None:  # type: ignore[attr-defined]
            embedder = detector.embedder  # type: ignore[attr-defined]
            embedder.cache.clear()
            inner = embedder.inner
            original = inner.encode

            def counted(texts: list[str], original: Any = original) -> Any:
                calls.append(len(texts))
                return original(texts)

            monkeypatch.setattr(inner, "encode", counted)
        with store.unit() as unit:
            platform = create_platform(unit, "p").platform
        traffic = _traffic()
        pipeline.process_many([(platform, traffic[:2])])  # the accounts
        if name == "alone":
            calls.clear()
            answers.append([pipeline.process_batch(platform, [ev])[0] for ev in traffic[2:]])
            alone_calls = list(calls)
        else:
            calls.clear()
            group = pipeline.process_many([(platform, [ev]) for ev in traffic[2:]])
            answers.append([a[0] for a in group])
            grouped_calls = list(calls)
        store.dispose()
    same = [[{**a, "case": bool(a["case"])} for a in run] for run in answers]  # ids are random
    assert same[0] == same[1]
    if alone_calls:  # the semantic stage is installed: fewer, larger encodes in a group
        assert len(grouped_calls) < len(alone_calls) and max(grouped_calls) > 1


def _say(n: int, conv: str, sender: str, to: str, text: str) -> MessageEvent:
    return MessageEvent(
        type="message", id=f"l{n}", conversation=conv, sender=sender, recipients=[to], text=text
    )


def test_light_batches_are_decided_before_a_heavy_one_and_its_conversation_waits(
    store: SqlStore,
) -> None:
    """A message the sentence encoder will embed is held while lighter, unrelated ones go;
    what follows it in its conversation waits with it; nothing is lost or changed."""
    pipeline = build_pipeline(Settings(database_url=str(store.engine.url)), store)
    with store.unit() as unit:
        platform = create_platform(unit, "lf").platform
    ages = {"adult": 34, "kid": 12, "p1": 13, "p2": 13}
    pipeline.process_batch(
        platform,
        [AccountEvent(type="account", id=f"a-{h}", account=h, age=a) for h, a in ages.items()],
    )
    heavy = _say(1, "c1", "adult", "kid", "you can tell me anything you know, i listen to you")
    after = _say(2, "c1", "kid", "adult", "ok")
    peers = [_say(3 + i, "c2", "p1", "p2", t) for i, t in enumerate(["gg", "nice shot"])]
    detector = pipeline.text_detectors[0]
    assert detector.embedder is not None  # type: ignore[attr-defined]
    items = [
        (heavy.text, *_people(ages, "adult", "kid")),
        (peers[1].text, *_people(ages, "p1", "p2")),
    ]
    assert detector.costly(items) == [True, False]  # type: ignore[attr-defined]

    batches = [(platform, [ev]) for ev in (heavy, after, *peers)]
    first = pipeline.process_light_first(batches, cap=16)
    assert first[0] is None and first[1] is None  # held, and held behind it
    assert [a[0]["id"] for a in first[2:]] == ["l3", "l4"]  # type: ignore[index]
    second = pipeline.process_light_first(batches[:2], cap=16)  # nothing light left: in order
    assert [a[0]["id"] for a in second] == ["l1", "l2"]  # type: ignore[index]
    with store.read() as unit:
        conv = pseudonymise(platform.pseudonym_secret, "conversation", "c1")
        assert [m.text for m in unit.history(platform.id, conv, 5)] == [heavy.text, "ok"]


def _people(ages: dict[str, int], sender: str, to: str) -> tuple[Any, list[Any]]:
    from vigie.domain import Participant

    return Participant(sender, ages[sender]), [Participant(to, ages[to])]
