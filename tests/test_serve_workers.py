"""``vigie serve --workers 2``: two processes answer on one port and share one SQLite file."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from served import served


def _post(port: int, key: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/events",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.load(answer))


def test_two_workers_answer_and_write_to_one_database(tmp_path: Path) -> None:
    with served(tmp_path, "--workers", "2") as server:
        port, key = server.port, server.key
        ids: set[str] = set()
        for n in range(40):  # new connections: both workers get some
            event = {"type": "account", "id": f"acc-{n}", "account": f"u{n}", "age": 30}
            ids.update(r["id"] for r in _post(port, key, {"events": [event]})["results"])
        assert ids == {f"acc-{n}" for n in range(40)}
    import sqlite3

    with sqlite3.connect(tmp_path / "serve.db") as db:
        assert db.execute("select count(*) from processed_events").fetchone() == (40,)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_one_worker_decides_in_its_decider_process_and_stops_it(tmp_path: Path) -> None:
    # /readyz answers 503 "starting" until the decider has loaded.
    with served(tmp_path, ready="/readyz", wait_s=180) as server:
        port, key = server.port, server.key
        pid = server.process.pid
        deciders = [c for c in _children(pid) if "vigie.api.decider" in _command(c)]
        assert len(deciders) == 1
        for n in range(5):  # the first caches the key; the others take the lane
            event = {"type": "account", "id": f"acc-{n}", "account": f"u{n}", "age": 30}
            assert _post(port, key, {"events": [event]})["results"][0]["id"] == f"acc-{n}"
    deadline = time.time() + 15
    while _command(deciders[0]) and time.time() < deadline:  # it ends with its parent
        time.sleep(0.2)
    assert not _command(deciders[0])
