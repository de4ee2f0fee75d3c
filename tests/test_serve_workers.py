"""``vigie serve --workers 2``: two processes answer on one port and share one SQLite file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _vigie(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vigie.cli", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _post(port: int, key: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/events",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.load(answer))


@contextlib.contextmanager
def _served(
    tmp_path: Path, *serve_args: str, ready: str = "/healthz", wait_s: float = 60
) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    """``vigie serve`` on a fresh SQLite file, once ``ready`` answers; stopped by SIGINT."""
    env = {
        **os.environ,
        "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "VIGIE_CONFIG": str(tmp_path / "absent.toml"),
        "VIGIE_LOG_LEVEL": "warning",
    }
    _vigie("db", "upgrade", env=env)
    key = _vigie("platform", "add", "served", env=env).strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vigie.cli", "serve", "--port", str(port), *serve_args],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + wait_s
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2)
                break
            except OSError:
                assert time.time() < deadline and server.poll() is None, "serve not ready"
                time.sleep(0.3)
        yield server, port, key
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def test_two_workers_answer_and_write_to_one_database(tmp_path: Path) -> None:
    with _served(tmp_path, "--workers", "2") as (_, port, key):
        ids = set()
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
    with _served(tmp_path, ready="/readyz", wait_s=180) as (server, port, key):
        deciders = [c for c in _children(server.pid) if "vigie.api.decider" in _command(c)]
        assert len(deciders) == 1
        for n in range(5):  # the first caches the key; the others take the lane
            event = {"type": "account", "id": f"acc-{n}", "account": f"u{n}", "age": 30}
            assert _post(port, key, {"events": [event]})["results"][0]["id"] == f"acc-{n}"
    deadline = time.time() + 15
    while _command(deciders[0]) and time.time() < deadline:  # it ends with its parent
        time.sleep(0.2)
    assert not _command(deciders[0])
