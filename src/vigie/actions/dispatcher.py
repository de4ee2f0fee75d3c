"""Delivers the webhook outbox: claim due rows, POST them signed, retry with back-off.

Each row is claimed with a conditional UPDATE (a short lease), so several processes can run
a dispatcher on the same database without sending a row twice at the same time. The HTTP
call happens outside any transaction: a slow platform never holds a database lock.
Delivery is at-least-once; receivers deduplicate on the payload ``id`` (also sent as
``Idempotency-Key``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from vigie.domain.webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign
from vigie.store.outbox import DELIVERED, PENDING, WebhookOutboxRow

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DispatchConfig:
    """How hard to try. Defaults suit a platform that is briefly down for a deploy."""

    batch: int = 50
    timeout_s: float = 5.0
    lease_s: float = 60.0
    base_delay_s: float = 2.0
    max_delay_s: float = 3600.0
    idle_wait_s: float = 1.0

    @classmethod
    def from_settings(cls, settings: Any) -> DispatchConfig:
        """Reads ``settings.webhooks`` when the settings object has such a section."""
        section = getattr(settings, "webhooks", None)
        if section is None:
            return cls()
        names = cls.__dataclass_fields__
        return cls(**{k: getattr(section, k) for k in names if hasattr(section, k)})


def backoff(attempts: int, config: DispatchConfig) -> float:
    """Seconds before the next try after ``attempts`` failures: 2, 4, 8, … capped at 1 h."""
    return float(min(config.max_delay_s, config.base_delay_s * 2 ** max(0, attempts - 1)))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _claim(engine: Engine, now: datetime, config: DispatchConfig) -> list[WebhookOutboxRow]:
    """Due rows that this process now holds a lease on."""
    lease = now + timedelta(seconds=config.lease_s)
    free = or_(WebhookOutboxRow.claimed_until.is_(None), WebhookOutboxRow.claimed_until < now)
    claimed: list[WebhookOutboxRow] = []
    with Session(engine, expire_on_commit=False) as session:
        due = session.scalars(
            select(WebhookOutboxRow)
            .where(
                WebhookOutboxRow.status == PENDING, WebhookOutboxRow.next_attempt_at <= now, free
            )
            .order_by(WebhookOutboxRow.next_attempt_at)
            .limit(config.batch)
        ).all()
        for row in due:
            result = session.execute(
                update(WebhookOutboxRow)
                .where(WebhookOutboxRow.id == row.id, WebhookOutboxRow.status == PENDING, free)
                .values(claimed_until=lease)
            )
            if getattr(result, "rowcount", 0) == 1:
                claimed.append(row)
        session.commit()
    return claimed


def _post(client: httpx.Client, row: WebhookOutboxRow) -> tuple[int | None, str | None]:
    body = row.body.encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(row.secret, body),
        IDEMPOTENCY_HEADER: row.id,
        "User-Agent": "vigie-webhooks/1",
    }
    try:
        response = client.post(row.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def _record(
    engine: Engine,
    row: WebhookOutboxRow,
    status: int | None,
    error: str | None,
    now: datetime,
    config: DispatchConfig,
) -> None:
    attempts = row.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status": status,
        "last_error": error,
        "claimed_until": None,
    }
    if error is None:
        values.update(status=DELIVERED, delivered_at=now)
    else:
        values["next_attempt_at"] = now + timedelta(seconds=backoff(attempts, config))
        log.warning("webhook %s to %s failed (attempt %d): %s", row.id, row.url, attempts, error)
    with Session(engine) as session:
        session.execute(
            update(WebhookOutboxRow).where(WebhookOutboxRow.id == row.id).values(**values)
        )
        session.commit()


def deliver_due(
    engine: Engine,
    now: datetime | None = None,
    config: DispatchConfig | None = None,
    client: httpx.Client | None = None,
) -> int:
    """Try every webhook due at ``now`` once; return how many were delivered (2xx)."""
    cfg = config or DispatchConfig()
    at = _aware(now or datetime.now(UTC))
    rows = _claim(engine, at, cfg)
    if not rows:
        return 0
    own = client is None
    http = client or httpx.Client(timeout=cfg.timeout_s, follow_redirects=False)
    delivered = 0
    try:
        for row in rows:
            status, error = _post(http, row)
            _record(engine, row, status, error, at, cfg)
            delivered += error is None
    finally:
        if own:
            http.close()
    return delivered


class DispatcherHandle:
    """A background thread delivering the outbox until ``stop()``."""

    def __init__(self, engine: Engine, config: DispatchConfig) -> None:
        self._engine = engine
        self._config = config
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vigie-webhooks", daemon=True)

    def start(self) -> DispatcherHandle:
        self._thread.start()
        return self

    def _run(self) -> None:
        with httpx.Client(timeout=self._config.timeout_s, follow_redirects=False) as client:
            while not self._stopping.is_set():
                try:
                    sent = deliver_due(self._engine, None, self._config, client)
                except Exception:  # keep delivering after a database hiccup
                    log.exception("webhook dispatcher pass failed")
                    sent = 0
                if sent == 0:
                    self._stopping.wait(self._config.idle_wait_s)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def start_dispatcher(engine: Engine, settings: Any = None) -> DispatcherHandle:
    """Start delivering in a daemon thread; call ``.stop()`` at shutdown."""
    return DispatcherHandle(engine, DispatchConfig.from_settings(settings)).start()
