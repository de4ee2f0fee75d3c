"""Small helpers shared by the bus tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, logs: Callable[[], str] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    detail = ("\n--- worker logs ---\n" + logs()[-4000:]) if logs else ""
    raise AssertionError(f"timed out waiting for {what}{detail}")


def post_all(
    client: TestClient, events: list[dict[str, Any]], size: int = 40, timeout: float = 60.0
) -> list[str]:
    """Post in batches, retrying on 503 as a platform would; returns the accepted ids."""
    accepted: list[str] = []
    deadline = time.monotonic() + timeout
    for start in range(0, len(events), size):
        while True:
            answer = client.post("/v1/events", json={"events": events[start : start + size]})
            if answer.status_code == 202:
                accepted += answer.json()["accepted"]
                break
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["Retry-After"]) >= 1
            assert time.monotonic() < deadline, "the bus refused for too long"
            time.sleep(0.5)
    return accepted
