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


def add_platform(env: dict[str, str], name: str, *args: str) -> tuple[str, str | None]:
    """A new platform: (its API key, its webhook secret when ``--webhook`` is given)."""
    lines = vigie("platform", "add", name, *args, env=env).strip().splitlines()
    secrets = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("webhook-secret:")]
    return lines[-1], secrets[0] if secrets else None


@contextlib.contextmanager
def serving(
    env: dict[str, str],
    key: str,
    *serve_args: str,
    port: int | None = None,
    webhook_secret: str | None = None,
    ready: str = "/healthz",
    wait_s: float = 60,
) -> Iterator[Served]:
    """``vigie serve`` on an upgraded database, once ``ready`` answers; SIGINT after."""
    port = port or free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vigie.cli", "serve", "--port", str(port), *serve_args], env=env
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}{ready}", server, wait_s)
        yield Served(server, port, key, env, webhook_secret)
    finally:
        stop(server)


@contextlib.contextmanager
def served(
    tmp_path: Path,
    *serve_args: str,
    ready: str = "/healthz",
    wait_s: float = 60,
    env: dict[str, str] | None = None,
    platform_args: tuple[str, ...] = (),
) -> Iterator[Served]:
    """``vigie serve`` with one platform (``served``) on a fresh database."""
    env = env or serve_env(tmp_path)
    vigie("db", "upgrade", env=env)
    key, secret = add_platform(env, "served", *platform_args)
    with serving(env, key, *serve_args, webhook_secret=secret, ready=ready, wait_s=wait_s) as s:
        yield s


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
