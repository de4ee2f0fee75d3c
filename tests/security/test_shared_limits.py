"""Rate limits shared by every process through Redis (issue 21, finding 5).

Without Redis each process had its own buckets: with ``--workers N`` or N nodes a platform
got N times its limit. With ``redis_url`` set, two ``vigie serve`` processes count against
one bucket. Needs Redis (``VIGIE_TEST_REDIS_URL``, default 127.0.0.1:6379): skipped with the
reason when it is not there, failed under ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from services import REDIS_URL, require_redis
from vigie.api.shared_limits import RedisCounts


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own, removed afterwards."""
    require_redis()
    import redis

    name = f"vigie-test:{secrets.token_hex(6)}:"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=name + "*"):
        client.delete(key)


def test_two_processes_counts_share_one_bucket(prefix: str) -> None:
    one, two = (RedisCounts(REDIS_URL, 3, 2, prefix=prefix) for _ in range(2))
    assert [one.take("platform:p", "ip:a"), two.take("platform:p", "ip:b")] == [0.0, 0.0]
    assert one.take("platform:p", "ip:a") == 0.0
    wait = two.take("platform:p", "ip:b")
    assert 19 < wait <= 20  # three a minute: the next token in 20 s, whoever asks
    assert one.take("platform:q", "ip:a") == 0.0  # another platform has its own bucket


def test_failed_keys_block_the_address_in_every_process(prefix: str) -> None:
    one, two = (RedisCounts(REDIS_URL, 100, 2, prefix=prefix) for _ in range(2))
    one.failed("ip:a")
    two.failed("ip:a")
    assert one.blocked("ip:a") == 0.0
    two.failed("ip:a")  # the third failure in a minute, allowed two
    assert 29 < one.blocked("ip:a") <= 30
    assert one.take("platform:p", "ip:a") > 0  # refused, even with a valid key
    assert two.blocked("ip:b") == 0.0


def test_without_redis_the_process_counts_alone() -> None:
    """An unreachable Redis neither refuses everyone nor raises: local buckets stand in."""
    counts = RedisCounts("redis://127.0.0.1:1/0", 2, 2)
    assert [counts.take("platform:p", "ip:a") for _ in range(3)][:2] == [0.0, 0.0]
    assert counts.take("platform:p", "ip:a") > 0
    counts.failed("ip:a")
    assert counts.blocked("ip:a") == 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _vigie(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vigie.cli", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def _serve(env: dict[str, str]) -> Iterator[int]:
    """One ``vigie serve`` process; its port once it answers."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vigie.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while _status(port, "/healthz") != 200:
            assert server.poll() is None, "vigie serve exited"
            assert time.monotonic() < deadline, "vigie serve never answered"
            time.sleep(0.2)
        yield port
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def _status(port: int, path: str, key: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_two_serve_processes_share_one_rate_limit(tmp_path: Path, prefix: str) -> None:
    env = {
        **os.environ,
        "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path}/shared.db",
        "VIGIE_CONFIG": str(tmp_path / "absent.toml"),
        "VIGIE_LOG_LEVEL": "warning",
        "VIGIE_REDIS_URL": REDIS_URL,
        "VIGIE_API__RATE_LIMIT_PER_MINUTE": "6",
        "VIGIE_API__DECIDER": "loop",
        "VIGIE_DETECTION__SEMANTIC": "false",
        "VIGIE_DELIVER_WEBHOOKS": "false",
    }
    _vigie(env, "db", "upgrade")
    key = _vigie(env, "platform", "add", "shared").strip().splitlines()[-1]
    with ExitStack() as stack:
        ports = [stack.enter_context(_serve(env)) for _ in range(2)]
        codes = [_status(ports[n % 2], "/v1/cases", key) for n in range(6)]
        assert codes == [200] * 6  # three on each process
        assert [_status(port, "/v1/cases", key) for port in ports] == [429, 429]
