"""``vigie serve`` as a real subprocess on a fresh SQLite file, for tests that speak HTTP.

The client library and the Matrix integration are tested against this, not against mocks or
an in-process app: what they meet is what a platform meets.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Served:
    process: subprocess.Popen[bytes]
    port: int
    key: str
    env: dict[str, str]
    webhook_secret: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vigie(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    """Run the CLI; its standard output (the test fails on a non-zero exit)."""
    done = subprocess.run(
        [sys.executable, "-m", "vigie.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a served Vigie: its own database, no config file unless given."""
    return {
        **os.environ,
        "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "VIGIE_CONFIG": str(tmp_path / "absent.toml"),
        "VIGIE_LOG_LEVEL": "warning",
        **extra,
    }


def wait_ready(url: str, alive: subprocess.Popen[bytes], wait_s: float) -> None:
    deadline = time.time() + wait_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            assert time.time() < deadline and alive.poll() is None, f"{url} not ready"
            time.sleep(0.3)


@contextlib.contextmanager
def served(
    tmp_path: Path,
    *serve_args: str,
    ready: str = "/healthz",
    wait_s: float = 60,
    env: dict[str, str] | None = None,
    platform_args: tuple[str, ...] = (),
    port: int | None = None,
) -> Iterator[Served]:
    """``vigie serve`` with one platform (``served``), once ``ready`` answers; SIGINT after."""
    env = env or serve_env(tmp_path)
    vigie("db", "upgrade", env=env)
    lines = vigie("platform", "add", "served", *platform_args, env=env).strip().splitlines()
    secrets = [
        line.split(":", 1)[1].strip() for line in lines if line.startswith("webhook-secret:")
    ]
    port = port or free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vigie.cli", "serve", "--port", str(port), *serve_args], env=env
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}{ready}", server, wait_s)
        yield Served(server, port, lines[-1], env, secrets[0] if secrets else None)
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
