"""The decider process answers the events lane exactly as the serve process would, and the
serve process takes over when it is not there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from traffic import accounts, message
from vigie.api.app import create_app
from vigie.api.group_commit import GroupCommitter
from vigie.settings import Settings

ACCOUNTS = accounts("dc")


def _message(n: int, text: str) -> dict[str, Any]:
    return message("dc", n, text)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from vigie.platforms import create_platform
    from vigie.store.migrate import upgrade

    url = f"sqlite:///{Path(tmp_path_factory.mktemp('decider')) / 'd.db'}"
    upgrade(url)
    settings = Settings(database_url=url)
    settings = settings.model_copy(
        update={"api": settings.api.model_copy(update={"decider": "process"})}
    )
    app = create_app(settings)
    with app.state.store.unit() as unit:
        key = create_platform(unit, "decided").api_key
    with TestClient(app) as client:
        deadline = time.monotonic() + 180
        while client.get("/readyz").status_code != 200:  # 503 "starting" while it loads
            assert time.monotonic() < deadline, "decider never became ready"
            time.sleep(0.2)
        yield client, {"Authorization": f"Bearer {key}"}
    app.state.store.dispose()


def _stored(client: TestClient, auth: dict[str, str], event_id: str) -> None:
    """Wait until the event is decided and stored (the lane may have answered 504 first)."""
    deadline = time.monotonic() + 120
    while client.get(f"/v1/events/{event_id}", headers=auth).status_code != 200:
        assert time.monotonic() < deadline, f"{event_id} never decided"
        time.sleep(0.2)


def test_the_decider_answers_the_lane(
    served: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, auth = served
    assert client.app.state.decider.ready  # type: ignore[attr-defined]
    client.post("/v1/events", json={"events": ACCOUNTS}, headers=auth)  # caches the key
    _stored(client, auth, ACCOUNTS[-1]["id"])  # a cold decider may answer it after the timeout
    warm = _message(0, "tu es seul ? ne dis rien à personne")  # loads the semantic stage
    client.post("/v1/events", json={"events": [warm]}, headers=auth)
    _stored(client, auth, warm["id"])

    async def not_here(*_: Any, **__: Any) -> Any:
        raise AssertionError("decided in the serve process")

    monkeypatch.setattr(GroupCommitter, "process", not_here)
    risky = _message(1, "c'est notre secret, ne dis rien à tes parents")
    answer = client.post("/v1/events", json={"events": [risky]}, headers=auth)
    assert answer.status_code == 200
    result = answer.json()["results"][0]
    assert result["id"] == "dc-m1" and {s["category"] for s in result["signals"]} >= {"secrecy"}
    assert client.get("/v1/events/dc-m1", headers=auth).json() == result  # stored, same object
    again = client.post("/v1/events", json={"events": [risky]}, headers=auth)
    assert again.json()["results"] == [result]  # idempotent through the decider too


def test_the_serve_process_decides_while_the_decider_is_gone_then_it_comes_back(
    served: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, auth = served
    decider = client.app.state.decider  # type: ignore[attr-defined]
    first = decider._process
    first.kill()
    first.wait(10)
    answer = client.post("/v1/events", json={"events": [_message(2, "salut")]}, headers=auth)
    assert answer.status_code == 200 and answer.json()["results"][0]["id"] == "dc-m2"
    assert not decider.ready and not decider.starting  # restarting does not make it unready
    assert client.get("/readyz").status_code == 200
    deadline = time.monotonic() + 180  # started again after RESTART_AFTER_S, then it loads
    while not decider.ready:
        assert time.monotonic() < deadline, "the decider was not started again"
        time.sleep(0.2)
    assert decider._process is not first and first.poll() is not None

    async def not_here(*_: Any, **__: Any) -> Any:
        raise AssertionError("decided in the serve process")

    monkeypatch.setattr(GroupCommitter, "process", not_here)
    again = client.post("/v1/events", json={"events": [_message(3, "re")]}, headers=auth)
    assert again.status_code == 200 and again.json()["results"][0]["id"] == "dc-m3"


def test_a_decider_that_keeps_failing_is_started_again_less_and_less_often() -> None:
    from vigie.api import decider as module

    class Loop:
        def __init__(self) -> None:
            self.waits: list[float] = []

        def remove_reader(self, _: int) -> None:
            pass

        def call_later(self, wait: float, _: Any) -> None:
            self.waits.append(wait)

    class Pipe:
        def fileno(self) -> int:
            return -1

        def close(self) -> None:
            pass

    decider, loop = module.Decider(Settings()), Loop()
    decider._loop = loop  # type: ignore[assignment]
    for _ in range(9):  # each start fails before the decider says it is ready
        decider._conn = Pipe()  # type: ignore[assignment]
        decider._lost()
    assert loop.waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    decider._conn = Pipe()  # type: ignore[assignment]
    decider._settle(module.READY)  # once ready, the next failure waits a second again
    decider._lost()
    assert loop.waits[-1] == module.RESTART_AFTER_S


def test_a_held_request_waits_for_lighter_ones_only_up_to_the_hold_limit(tmp_path: Path) -> None:
    """The decider's loop: light requests are answered first, the heavy one once they are;
    past ``HOLD_LIMIT_S`` the backlog goes in arrival order."""
    import orjson

    from vigie.api import decider as module
    from vigie.events import EventBatch
    from vigie.platforms import create_platform
    from vigie.runtime import build_pipeline
    from vigie.store.migrate import upgrade
    from vigie.store.sql import SqlStore

    url = f"sqlite:///{tmp_path / 'hold.db'}"
    upgrade(url)
    store = SqlStore(url, row_cache=True)
    pipeline = build_pipeline(Settings(database_url=url), store)
    with store.unit() as unit:
        platform = create_platform(unit, "hold").platform
    peers = [{"type": "account", "id": f"hold-{h}", "account": h, "age": 13} for h in "pq"]
    pipeline.process_batch(platform, EventBatch.model_validate({"events": ACCOUNTS + peers}).events)

    class Pipe:
        def __init__(self) -> None:
            self.answered: list[int] = []

        def send_bytes(self, frame: bytes) -> None:
            self.answered.append(orjson.loads(frame)[0])

    heavy = ("adult", "child", "you can tell me anything you know, i listen to you")
    said = [heavy, ("p", "q", "gg"), ("q", "p", "nice shot")]

    def backlog(run: str, since: float) -> list[Any]:
        return [
            module._Waiting(n, (platform, EventBatch.model_validate({"events": [{
                "type": "message", "id": f"{run}{n}", "conversation": f"{run}-{n}",
                "sender": sender, "recipients": [to], "text": text,
            }]}).events), since)
            for n, (sender, to, text) in enumerate(said)
        ]  # fmt: skip

    pipe = Pipe()
    left = module._decide(pipeline, backlog("now", time.monotonic()), pipe)  # type: ignore[arg-type]
    assert pipe.answered == [1, 2] and [w.request for w in left] == [0]
    assert module._decide(pipeline, left, pipe) == []  # type: ignore[arg-type]
    assert pipe.answered == [1, 2, 0]

    late = Pipe()
    stale = backlog("late", time.monotonic() - 2 * module.HOLD_LIMIT_S)
    assert module._decide(pipeline, stale, late) == []  # type: ignore[arg-type]
    assert late.answered == [0, 1, 2]
    store.dispose()


# --- platforms take turns (issue 21: one platform's heavy requests delay another's little) ---
def _turns_setup(tmp_path: Path) -> tuple[Any, Any, dict[str, Any]]:
    """A decider's pipeline on a fresh database with platforms ``a`` and ``b``."""
    from vigie.platforms import create_platform
    from vigie.runtime import build_pipeline
    from vigie.store.migrate import upgrade
    from vigie.store.sql import SqlStore

    url = f"sqlite:///{tmp_path / 'turns.db'}"
    upgrade(url)
    store = SqlStore(url, row_cache=True)
    pipeline = build_pipeline(Settings(database_url=url), store)
    with store.unit() as unit:
        platforms = {name: create_platform(unit, name).platform for name in "ab"}
    return store, pipeline, platforms


def _frame(request: int, platform: Any, prefix: str, texts: list[str]) -> bytes:
    """What the serve process sends the decider: ``[request, platform id]``, then the body."""
    import orjson

    events = [
        {"type": "message", "id": f"{prefix}{n}", "conversation": f"{prefix}-c",
         "sender": f"{prefix}-s", "recipients": [f"{prefix}-r"], "text": text}
        for n, text in enumerate(texts)
    ]  # fmt: skip
    return orjson.dumps([request, platform.id]) + b"\n" + orjson.dumps({"events": events})


def _batch(platform: Any, prefix: str, texts: list[str]) -> Any:
    """``(platform, events)`` as the decider's intake reads them."""
    from vigie.events import EventBatch

    body = _frame(0, platform, prefix, texts).split(b"\n", 1)[1]
    return platform, EventBatch.model_validate_json(body).events


def _decided_in_order(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the events the pipeline decides, in the order it decides them."""
    order: list[str] = []
    decide_one = pipeline._process_once

    def recorded(unit: Any, platform: Any, event: Any, media: Any) -> Any:
        order.append(event.id)
        return decide_one(unit, platform, event, media)

    monkeypatch.setattr(pipeline, "_process_once", recorded)
    return order


def test_another_platforms_event_goes_between_the_parts_of_a_heavy_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Platform a's request of many symbol-heavy messages is being decided when platform b's
    one message arrives in the pipe: b's event is decided after a's first event, before the
    rest of a's request, and b is answered first; a's answer is whole and in order. Order,
    not time: ``SLICE_S`` at 0 makes every group long enough to be cut."""
    import multiprocessing

    import orjson

    from vigie.api import decider as module

    store, pipeline, platforms = _turns_setup(tmp_path)
    monkeypatch.setattr(module, "SLICE_S", 0.0)
    order = _decided_in_order(pipeline, monkeypatch)
    serve, there = multiprocessing.Pipe()
    intake = module._Intake(there, module._Platforms(store))
    serve.send_bytes(_frame(1, platforms["a"], "a", ["©" * 4000] * 6))
    backlog: list[Any] = []
    intake.take(backlog, wait=True)  # a's request is in the decider's backlog
    serve.send_bytes(_frame(2, platforms["b"], "b", ["salut, ça va ?"]))  # b's is in the pipe

    served: dict[str, int] = {}
    while backlog:
        backlog = module._decide(pipeline, backlog, there, intake, served)  # type: ignore[arg-type]

    assert order == ["a0", "b0", "a1", "a2", "a3", "a4", "a5"]
    answers = [orjson.loads(serve.recv_bytes()) for _ in range(2)]
    assert [request for request, _, _ in answers] == [2, 1]  # b answered first
    assert [a["id"] for a in answers[1][1]] == [f"a{n}" for n in range(6)]
    assert not serve.poll()  # one answer per request
    store.dispose()


def test_alone_a_heavy_request_is_one_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody else waiting: nothing is cut, the request is one transaction as before."""
    from vigie.api import decider as module

    store, pipeline, platforms = _turns_setup(tmp_path)
    monkeypatch.setattr(module, "SLICE_S", 0.0)
    groups: list[int] = []
    many = pipeline.process_many

    def counted(batches: Any, turn: Any = None) -> Any:
        groups.append(len(batches))
        return many(batches, turn)

    monkeypatch.setattr(pipeline, "process_many", counted)
    sent: list[bytes] = []

    class Pipe:
        def send_bytes(self, frame: bytes) -> None:
            sent.append(frame)

    backlog = [module._Waiting(1, _batch(platforms["a"], "a", ["©"] * 4), time.monotonic())]
    assert module._decide(pipeline, backlog, Pipe()) == []  # type: ignore[arg-type]
    assert groups == [1] and len(sent) == 1
    store.dispose()


def test_a_cut_request_keeps_one_cpu_budget_across_its_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request cut for another platform does not get a fresh budget with each part: past
    it, the rest is refused (the part already committed stays; a retry answers it as first
    decided)."""
    import orjson

    from vigie.api import decider as module

    store, pipeline, platforms = _turns_setup(tmp_path)
    monkeypatch.setattr(module, "SLICE_S", 0.0)
    pipeline.cpu_budget_s = 1e-9  # the first event always runs; anything after is over
    order = _decided_in_order(pipeline, monkeypatch)

    def waiting(request: int, name: str, texts: list[str]) -> Any:
        return module._Waiting(request, _batch(platforms[name], name, texts), time.monotonic() - 1)

    sent: list[Any] = []

    class Pipe:
        def send_bytes(self, frame: bytes) -> None:
            sent.append(orjson.loads(frame))

    backlog = [waiting(1, "a", ["©" * 400] * 3), waiting(2, "b", ["salut"])]
    while backlog:
        backlog = module._decide(pipeline, backlog, Pipe())  # type: ignore[arg-type]
    assert order == ["a0", "b0"]
    assert [s[0] for s in sent] == [2, 1]
    assert sent[1][1] is None and sent[1][2].startswith("OverBudget: ")
    store.dispose()


def test_platforms_take_turns_in_the_backlog() -> None:
    """The waiting requests of the platform served longest ago first, all of them (a
    platform's small requests share a group), then the next platform's; a platform's own
    requests keep their arrival order."""
    from vigie.api import decider as module
    from vigie.domain import Platform

    def waiting(request: int, platform: str) -> Any:
        return module._Waiting(request, (Platform(platform, platform, "s"), []), 0.0)

    backlog = [waiting(1, "a"), waiting(2, "b"), waiting(3, "a"), waiting(4, "c"), waiting(5, "b")]
    fair = module._fair(backlog, {})
    assert [w.request for w in fair] == [1, 3, 2, 5, 4]
    fair = module._fair(backlog, {"a": 2, "b": 1})  # a served last, b before: c, b, then a
    assert [w.request for w in fair] == [4, 2, 5, 1, 3]
