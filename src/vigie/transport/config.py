"""Bus settings: names, partitions and limits, shared by the publisher and every worker.

All processes of one deployment must agree on the stream name and partition count, so these
come from the environment (``VIGIE_BUS_STREAM``, ``VIGIE_BUS_PARTITIONS``, ...) next to
``VIGIE_BUS_URL``; tests build a :class:`BusConfig` with their own unique names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from vigie.settings import Settings

DEFAULT_URL = "nats://127.0.0.1:4222"


@dataclass(frozen=True, slots=True)
class BusConfig:
    url: str = DEFAULT_URL
    stream: str = "VIGIE_EVENTS"
    subject: str = "vigie.events"  # events go to "<subject>.<partition>"
    partitions: int = 16
    batch: int = 64  # messages fetched (and committed in one transaction) per partition
    concurrency: int = 4  # partition batches one worker processes at once (threads)
    ack_wait_s: float = 10.0  # un-acked this long (no heartbeat): redelivered
    max_attempts: int = 5  # failures of one event on its own before it is dead-lettered
    max_backlog: int = 200_000  # the API answers 503 + Retry-After above this many pending
    stream_max_msgs: int = 1_000_000  # hard bound: the stream refuses new messages past it
    publish_timeout_s: float = 2.0
    retry_after_s: int = 2
    rebalance_s: float = 2.0  # how often workers re-share partitions

    @property
    def servers(self) -> list[str]:
        """``VIGIE_BUS_URL`` may list a cluster: ``nats://a:4222,nats://b:4222``."""
        return [u.strip() for u in self.url.split(",") if u.strip()]

    @property
    def dead_stream(self) -> str:
        return self.stream + "_DEAD"

    @property
    def dead_subject(self) -> str:
        return self.subject + "-dead"

    def partition_subject(self, partition: int) -> str:
        return f"{self.subject}.{partition}"

    def durable(self, partition: int) -> str:
        return f"{self.stream}-p{partition}"

    @classmethod
    def from_settings(
        cls, settings: Settings, environ: dict[str, str] | None = None, **overrides: Any
    ) -> BusConfig:
        """``settings.bus_url`` plus ``VIGIE_BUS_<FIELD>`` environment overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("VIGIE_BUS_" + f.name.upper())
            if raw is not None and f.name != "url":
                values[f.name] = type(getattr(cls(), f.name))(raw)
        config = cls(url=settings.bus_url or DEFAULT_URL, **values)
        return replace(config, **overrides) if overrides else config
