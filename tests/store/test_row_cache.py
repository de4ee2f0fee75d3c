"""The decider's row cache: same answers and rows as without it, and never stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from vigie.domain import Message, Platform
from vigie.events import AccountEvent, Event, MessageEvent
from vigie.platforms import create_platform
from vigie.runtime import build_pipeline
from vigie.settings import Settings
from vigie.store.migrate import upgrade
from vigie.store.row_cache import TAIL, Lru
from vigie.store.sql import SqlStore
from vigie.store.tables import AccountRow, ParticipantStateRow

AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
def cached(sqlite_url: str) -> Iterator[SqlStore]:
    s = SqlStore(sqlite_url, row_cache=True)
    yield s
    s.dispose()


def _traffic(prefix: str = "") -> list[Event]:
    """Two conversations of one adult: a child in the first, an adult in the second."""
    events: list[Event] = [
        AccountEvent(type="account", id=f"{prefix}a1", account="adult", age=31),
        AccountEvent(type="account", id=f"{prefix}a2", account="kid", age=12),
        AccountEvent(type="account", id=f"{prefix}a3", account="friend", age=35),
    ]
    texts = [
        ("c1", "kid", "hey, good game"),
        ("c2", "friend", "see you at work tomorrow"),
        ("c1", "kid", "how old are you? are your parents home?"),
        ("c1", "kid", "add me on snapchat, it's more private"),
        ("c2", "friend", "did you finish the report?"),
        ("c1", "kid", "don't tell anyone about us, ok?"),
        ("c1", "kid", "send me a picture of you"),
    ]
    for n, (conv, to, text) in enumerate(texts):
        message = {"type": "message", "id": f"{prefix}m{n}", "conversation": conv,
                   "sender": "adult", "recipients": [to], "text": text, "sent_at": AT}  # fmt: skip
        events.append(MessageEvent.model_validate(message))
    return events


def _rows(store: SqlStore) -> dict[str, Any]:
    with store.read() as unit:
        s = unit.session
        return {
            "accounts": sorted(
                (a.pseudo_id, a.age, a.restricted, a.profile_state)
                for a in s.execute(select(AccountRow)).scalars()
            ),
            "states": sorted(
                (p.conversation_id, p.pseudo_id, p.risk, p.categories, p.state)
                for p in s.execute(select(ParticipantStateRow)).scalars()
            ),
        }


def _run(store: SqlStore, platform: Platform, groups: int) -> list[dict[str, Any]]:
    pipeline = build_pipeline(Settings(database_url=str(store.engine.url)), store)
    with store.unit() as unit:
        unit.add_platform(platform)  # the same pseudonyms in both databases
    events = _traffic()
    answers = []
    for i in range(0, len(events), groups):
        batches = [(platform, [ev]) for ev in events[i : i + groups]]
        answers += [a for batch in pipeline.process_many(batches) for a in batch]
    return [{k: v for k, v in a.items() if k != "case"} for a in answers]


@pytest.mark.parametrize("groups", [1, 3])
def test_the_cache_changes_no_answer_and_no_row(tmp_path: Path, groups: int) -> None:
    stores = []
    for name, cache in (("plain", False), ("cached", True)):
        url = f"sqlite:///{tmp_path}/{name}.db"
        upgrade(url)
        stores.append(SqlStore(url, row_cache=cache))
    plain, cached = stores
    platform = _platform(plain)
    try:
        assert _run(cached, platform, groups) == _run(plain, platform, groups)
        assert _rows(cached) == _rows(plain)
        assert cached.row_cache is not None and cached.row_cache.hits > 0
    finally:
        for s in stores:
            s.dispose()


def test_conversation_tails_read_as_the_database_gives_them(cached: SqlStore) -> None:
    _run(cached, _platform(cached), 1)
    plain = SqlStore(str(cached.engine.url))
    pid = None
    try:
        with plain.read() as unit:
            pid = unit.platform_by_name("p").id  # type: ignore[union-attr]
            rows = unit.session.execute(select(ParticipantStateRow.conversation_id)).scalars()
            convs = sorted(set(rows))
        later = datetime(2026, 11, 29, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
        with cached.unit() as unit:  # the cache's tail of this conversation grows by one
            unit.add_message(Message(pid, convs[0], "x", "one more", later, [], "late"), 0.0)
        with plain.read() as unit:
            expected = {(c, n): unit.history(pid, c, n) for c in convs for n in range(1, 10)}
    finally:
        plain.dispose()
    hits = cached.row_cache.hits if cached.row_cache else 0
    with cached.unit() as unit:
        for (conv, n), messages in expected.items():
            assert unit.history(pid, conv, n) == messages
    assert cached.row_cache is not None and cached.row_cache.hits > hits


def _platform(store: SqlStore) -> Platform:
    with store.read() as unit:
        return create_platform(unit, "p").platform  # rolled back: only its secrets are kept


def _platform_and_state(store: SqlStore) -> tuple[str, str]:
    with store.unit() as unit:
        pid = create_platform(unit, "p").platform.id
        account = unit.ensure_accounts(pid, {"acc": "sealed"}, AT)["acc"]
        unit.save_participant_state(pid, "conv", "acc", {"seen": 1}, 0.2, ["secrecy"])
        unit.save_profile_state(pid, "acc", {"flags": 1})
        assert account.restricted is False
    return pid, "acc"


def test_another_connections_commit_empties_it(cached: SqlStore, sqlite_url: str) -> None:
    pid, acc = _platform_and_state(cached)
    with cached.unit() as unit:  # everything now comes from the cache
        assert unit.participant_state(pid, "conv", acc)[0] == {"seen": 1}
        assert unit.get_account(pid, acc).restricted is False  # type: ignore[union-attr]
    other = SqlStore(sqlite_url)  # the serve process, say, where the console lifts or sets
    try:
        with other.unit() as unit:
            unit.session.execute(
                update(AccountRow).where(AccountRow.pseudo_id == acc).values(restricted=True)
            )
            unit.save_participant_state(pid, "conv", acc, {"seen": 2}, 0.9, ["threats"])
            unit.save_profile_state(pid, acc, {"flags": 5})
    finally:
        other.dispose()
    with cached.unit() as unit:
        assert unit.get_account(pid, acc).restricted is True  # type: ignore[union-attr]
        assert unit.participant_state(pid, "conv", acc) == ({"seen": 2}, 0.9, ["threats"])
        assert unit.profile_state(pid, acc) == {"flags": 5}
    assert cached.row_cache is not None and cached.row_cache.drops == 1


def test_a_rolled_back_transaction_leaves_nothing_in_it(cached: SqlStore) -> None:
    pid, acc = _platform_and_state(cached)
    with pytest.raises(RuntimeError), cached.unit() as unit:
        unit.save_participant_state(pid, "conv", acc, {"seen": 99}, 1.0, ["threats"])
        unit.save_profile_state(pid, acc, {"flags": 99})
        raise RuntimeError("the pipeline failed after writing")
    _assert_as_first_saved(cached, pid, acc)


def test_changing_what_it_gave_never_changes_it(cached: SqlStore) -> None:
    pid, acc = _platform_and_state(cached)
    with cached.unit() as unit:
        state, _, categories = unit.participant_state(pid, "conv", acc)
        state["seen"] = 42
        categories.append("gifts")
        unit.profile_state(pid, acc)["flags"] = 42
    _assert_as_first_saved(cached, pid, acc)


def _assert_as_first_saved(store: SqlStore, pid: str, acc: str) -> None:
    with store.unit() as unit:
        assert unit.participant_state(pid, "conv", acc) == ({"seen": 1}, 0.2, ["secrecy"])
        assert unit.profile_state(pid, acc) == {"flags": 1}


def test_a_saved_account_is_read_again(cached: SqlStore) -> None:
    pid, acc = _platform_and_state(cached)
    with cached.unit() as unit:
        account = unit.get_account(pid, acc)
        assert account is not None
        account.age, account.restricted = 12, True
        unit.save_account(account)
    with cached.unit() as unit:
        again = unit.get_account(pid, acc)
        assert again is not None and (again.age, again.restricted) == (12, True)


def test_postgresql_has_none(postgres_url: str) -> None:
    store = SqlStore(postgres_url, row_cache=True)  # several workers write there at once
    try:
        assert store.row_cache is None
    finally:
        store.dispose()


def test_the_cache_is_bounded() -> None:
    lru: Lru[int, int] = Lru(3)
    for n in range(5):
        lru.put(n, n)
    assert len(lru) == 3 and lru.get(0) is None and lru.get(4) == 4
    lru.get(2)
    lru.put(5, 5)  # 3 was used least recently
    assert lru.get(3) is None and lru.get(2) == 2


def test_the_cache_is_bounded_by_weight() -> None:
    texts: Lru[str, str] = Lru(10, len)
    texts.put("a", "xxxx")
    texts.put("b", "yyyy")
    texts.put("a", "xxxxxx")  # weighed again: 6 + 4
    assert texts.weight == 10 and len(texts) == 2
    texts.put("c", "z")  # "b" goes first (used least recently), then the weight fits
    assert texts.get("b") is None and texts.weight == 7
    texts.put("d", "w" * 11)  # heavier than the bound: nothing can stay
    assert len(texts) == 0 and texts.weight == 0
    texts.put("e", "ok")
    texts.pop("e")
    assert texts.weight == 0


def test_a_long_conversation_keeps_only_its_last_messages(cached: SqlStore) -> None:
    pid, _ = _platform_and_state(cached)
    with cached.unit() as unit:
        for n in range(TAIL + 5):
            if n == 1:
                unit.history(pid, "long", 1)  # the tail starts here
            unit.add_message(Message(pid, "long", "acc", f"message {n}", AT, [], f"e{n}"), 0.0)
    assert cached.row_cache is not None
    tail = cached.row_cache.tails.get((pid, "long"))
    assert tail is not None and len(tail.rows) == TAIL and not tail.whole
    assert tail.rows[-1][1] == f"message {TAIL + 4}"
    assert cached.row_cache.tails.weight == tail.weight() == sum(100 + len(r[1]) for r in tail.rows)
    with cached.unit() as unit:  # further back than it keeps: read from the database
        hits = cached.row_cache.hits
        older = unit.history(pid, "long", TAIL + 2)
        assert [m.text for m in older][:2] == ["message 3", "message 4"]
        assert cached.row_cache.hits == hits
