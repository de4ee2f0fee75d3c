"""A large valid batch does not restart the decider (issue 21, finding 4).

uvicorn runs on uvloop, which makes the decider's socket non-blocking: a frame larger than
the socket buffer raised, the serve process took it for a lost decider and loaded the models
again (4-14 s). The red team's 960 KB, 1,000-event body did it 5 times in 5.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from vigie.api.decider import Decider
from vigie.platforms import create_platform
from vigie.settings import Settings
from vigie.store.migrate import upgrade
from vigie.store.sql import SqlStore


def _large_body() -> bytes:
    events = [
        {
            "type": "message",
            "id": f"big-{i}",
            "conversation": f"c{i % 50}",
            "sender": f"s{i % 50}",
            "recipients": [f"r{i % 50}"],
            "text": "on se voit demain après les cours pour finir le projet " * 15,
        }
        for i in range(1000)
    ]
    return json.dumps({"events": events}).encode()


def test_a_960_kb_batch_is_decided_by_the_same_decider_under_uvloop(tmp_path: Path) -> None:
    uvloop = pytest.importorskip("uvloop", reason="uvicorn's loop, as in vigie serve")
    url = f"sqlite:///{tmp_path / 'frames.db'}"
    upgrade(url)
    store = SqlStore(url)
    with store.unit() as unit:
        platform = create_platform(unit, "big").platform
    store.dispose()
    settings = Settings(
        database_url=url,
        deliver_webhooks=False,
        detection={"semantic": False},
        api={"cpu_budget_s": 0},
    )
    body = _large_body()
    assert 900_000 < len(body) < 1024 * 1024

    async def scenario() -> None:
        decider = Decider(settings)
        decider.start()
        try:
            deadline = time.monotonic() + 180
            while not decider.ready:
                assert time.monotonic() < deadline, "the decider never became ready"
                await asyncio.sleep(0.1)
            first = decider._process
            for _ in range(2):
                answers = await decider.process(platform, body, timeout=300)
                assert [a["id"] for a in answers] == [f"big-{i}" for i in range(1000)]
            assert decider.ready and decider._process is first  # never lost, never restarted
        finally:
            decider.stop()

    uvloop.run(scenario())
