"""Real services for tests: skip with a visible reason when absent, fail under CI=true."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

# Reference data the tests read lives in the repository (tests/data/README.md says whence).
DATA = Path(__file__).resolve().parent / "data"


def require(name: str, host: str, port: int) -> None:
    """Skip (or fail in CI) unless ``host:port`` accepts connections."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError as exc:
        reason = f"{name} not reachable at {host}:{port} ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI requires it", pytrace=False)
        pytest.skip(reason)


PG_HOST = os.environ.get("VIGIE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("VIGIE_TEST_PG_PORT", "5432"))
NATS_URL = os.environ.get("VIGIE_TEST_NATS_URL", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("VIGIE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_postgres() -> None:
    require("PostgreSQL", PG_HOST, PG_PORT)


def require_nats() -> None:
    host, port = NATS_URL.removeprefix("nats://").split(":")
    require("NATS", host, int(port))


def require_redis() -> None:
    host, _, rest = REDIS_URL.removeprefix("redis://").partition(":")
    require("Redis", host, int(rest.split("/")[0] or 6379))
