"""Fixtures for the bus tests: real NATS JetStream and PostgreSQL, worker processes.

Every test gets its own database, stream and subject (random suffix), because the NATS server
is shared with other engineers. The semantic stage is off: these tests prove delivery,
ordering and effects, not detection quality, and it keeps worker start-up to a second.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services import NATS_URL, require_nats
from vigie.api.app import create_app
from vigie.platforms import create_platform
from vigie.settings import Settings
from vigie.store.sql import SqlStore
from vigie.transport.config import BusConfig
from vigie.transport.stream import delete_streams

VIGIE = str(Path(sys.executable).with_name("vigie"))
NATS_START = [
    "start-stop-daemon",
    "--start",
    "--oknodo",
    "--background",
    "--exec",
    "/usr/sbin/nats-server",
    "--",
    "-a",
    "127.0.0.1",
    "-p",
    "4222",
    "-js",
    "-sd",
    "/var/lib/nats-server",
    "-l",
    "/var/log/nats-server.log",
]
NATS_STOP = ["start-stop-daemon", "--stop", "--retry", "10", "--exec", "/usr/sbin/nats-server"]


def run_js(config: BusConfig, action: Callable[[Any], Any]) -> Any:
    """Run one JetStream coroutine on a short-lived connection."""
    import nats

    async def main() -> Any:
        nc = await nats.connect(config.url, connect_timeout=3, max_reconnect_attempts=3)
        try:
            return await action(nc.jetstream())
        finally:
            await nc.close()

    return asyncio.run(main())


def nats_up(timeout: float = 20.0) -> None:
    """Start the shared NATS server if it is not running and wait for it to answer."""
    subprocess.run(NATS_START, check=False, capture_output=True)
    deadline = time.monotonic() + timeout
    import socket

    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", 4222), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("NATS did not come back")


def nats_down(timeout: float = 15.0) -> None:
    """Stop the shared NATS server and wait until it no longer accepts connections."""
    import socket

    subprocess.run(NATS_STOP, check=False, capture_output=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", 4222), timeout=0.5):
                time.sleep(0.2)
        except OSError:
            return
    raise RuntimeError("NATS did not stop")


@pytest.fixture
def bus_config() -> Iterator[BusConfig]:
    require_nats()
    tag = secrets.token_hex(4)
    config = BusConfig(
        url=NATS_URL,
        stream=f"VIGIE_TEST_{tag}",
        subject=f"vigietest.{tag}",
        partitions=4,
        batch=16,
        ack_wait_s=4.0,
        rebalance_s=0.5,
        max_attempts=3,
        publish_timeout_s=2.0,
    )
    yield config
    nats_up()
    run_js(config, lambda js: delete_streams(js, config))


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[SqlStore]:
    store = SqlStore(postgres_url)
    yield store
    store.dispose()


@pytest.fixture
def platform_id_key(pg_store: SqlStore) -> tuple[str, str]:
    with pg_store.unit() as unit:
        created = create_platform(unit, "bus-test", "http://127.0.0.1:9/hook")
    return created.platform.id, created.api_key


def bus_settings(database_url: str, bus_url: str | None) -> Settings:
    return Settings(
        database_url=database_url,
        bus_url=bus_url,
        deliver_webhooks=False,
        detection={"semantic": False},
    )


@pytest.fixture
def bus_client(
    postgres_url: str, bus_config: BusConfig, platform_id_key: tuple[str, str]
) -> Iterator[TestClient]:
    """The API in asynchronous mode, authenticated as the test platform."""
    app = create_app(bus_settings(postgres_url, bus_config.url))
    app.state.bus_config = bus_config
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {platform_id_key[1]}"
        yield client
    publisher = getattr(app.state, "bus_publisher", None)
    if publisher is not None:
        publisher.close()
    app.state.store.dispose()


class Workers:
    """Worker processes started by one test, stopped (by pid) when it ends."""

    def __init__(self, database_url: str, config: BusConfig, logs: Path) -> None:
        self.env = {
            **os.environ,
            "VIGIE_DATABASE_URL": database_url,
            "VIGIE_BUS_URL": config.url,
            "VIGIE_BUS_STREAM": config.stream,
            "VIGIE_BUS_SUBJECT": config.subject,
            "VIGIE_BUS_PARTITIONS": str(config.partitions),
            "VIGIE_BUS_BATCH": str(config.batch),
            "VIGIE_BUS_ACK_WAIT_S": str(config.ack_wait_s),
            "VIGIE_BUS_REBALANCE_S": str(config.rebalance_s),
            "VIGIE_BUS_MAX_ATTEMPTS": str(config.max_attempts),
            "VIGIE_DETECTION__SEMANTIC": "false",
            "VIGIE_DELIVER_WEBHOOKS": "false",
            "VIGIE_LOG_LEVEL": "info",
        }
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [VIGIE, "worker", "--name", name, "--no-webhooks"],
            env={**self.env, **env},
            stdout=out,
            stderr=out,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs.glob("*.log"))


@pytest.fixture
def workers(postgres_url: str, bus_config: BusConfig, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(postgres_url, bus_config, tmp_path)
    yield pool
    pool.stop_all()
