"""Scale-out benchmark: sustained events/s and end-to-end latency with 1 and 2 workers.

Everything runs on this machine, for real: PostgreSQL, NATS JetStream, the API (``vigie
serve`` in asynchronous mode) and ``vigie worker`` processes with the default detectors.
A loader posts message events over loopback HTTP in two phases per worker count:

* throughput: closed loop, never more than ``WINDOW`` events accepted but not yet processed
  (bounded, so the backlog and hence latency cannot grow without limit); events/s is what
  the workers committed during the phase;
* latency: open loop at 60 % of that throughput; end-to-end latency is from the loader's
  POST to the commit of the event's decision (``processed_events.at``), p50 and p99.

Writes bench/results/scale.json and scale.md. Takes about two minutes.
Run: ``.venv/bin/python bench/bench_scale.py`` (needs PostgreSQL and NATS on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LOGS = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
VIGIE = str(Path(sys.executable).with_name("vigie"))
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
NATS = "nats://127.0.0.1:4222"
PARTITIONS, BATCH, WINDOW, POST_SIZE = 16, 32, 400, 20
THROUGHPUT_S, LATENCY_S = float(os.environ.get("BENCH_PHASE_S", 18)), 12.0
TEXTS = [
    "hey, good game",
    "how old are you?",
    "which level are you on?",
    "are your parents home?",
    "lol that boss was hard",
    "add me on snapchat, it's more private",
    "gg, same time tomorrow?",
    "don't tell anyone about us, ok?",
]


def _admin(sql: str) -> None:
    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Bench:
    def __init__(self) -> None:
        tag = secrets.token_hex(4)
        self.db = f"vigie_bench_{tag}"
        self.url = PG + self.db
        self.port = _free_port()
        self.env = {
            **os.environ,
            "VIGIE_DATABASE_URL": self.url,
            "VIGIE_BUS_URL": NATS,
            "VIGIE_BUS_STREAM": f"VIGIE_BENCH_{tag}",
            "VIGIE_BUS_SUBJECT": f"vigiebench.{tag}",
            "VIGIE_BUS_PARTITIONS": str(PARTITIONS),
            "VIGIE_BUS_BATCH": str(BATCH),
            "VIGIE_DELIVER_WEBHOOKS": "false",
            "VIGIE_LOG_LEVEL": "warning",
            "VIGIE_API__RATE_LIMIT_PER_MINUTE": "1000000",
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self.sent: dict[str, float] = {}
        self.counter = 0

    # Processes -----------------------------------------------------------------------------
    def _vigie(self, *args: str, wait: bool = True) -> subprocess.Popen[bytes] | str:
        if wait:
            out = subprocess.run(
                [VIGIE, *args], env=self.env, check=True, capture_output=True, text=True
            )
            return out.stdout
        log = (LOGS / f"scale-{args[0]}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen([VIGIE, *args], env=self.env, stdout=log, stderr=log)
        self.procs.append(proc)
        return proc

    def setup(self) -> None:
        _admin(f'CREATE DATABASE "{self.db}"')
        self._vigie("db", "upgrade")
        out = self._vigie("platform", "add", "bench")
        assert isinstance(out, str)
        self.key = out.strip().splitlines()[-1]
        self._vigie("serve", "--port", str(self.port), wait=False)
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            timeout=30,
            headers={"Authorization": f"Bearer {self.key}"},
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if self.http.get("/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("API did not become ready")

    def teardown(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._delete_streams()
        _admin(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def _delete_streams(self) -> None:
        import nats

        from vigie.bus.config import BusConfig
        from vigie.bus.stream import delete_streams

        config = BusConfig(stream=self.env["VIGIE_BUS_STREAM"])

        async def main() -> None:
            nc = await nats.connect(NATS)
            await delete_streams(nc.jetstream(), config)
            await nc.close()

        asyncio.run(main())

    # Load ----------------------------------------------------------------------------------
    def _events(self, n: int) -> list[dict[str, Any]]:
        events = []
        for _ in range(n):
            i = self.counter
            self.counter += 1
            conv = i // len(TEXTS) % 400  # 400 live conversations, 8 messages each in turn
            events.append(
                {
                    "type": "message",
                    "id": f"e{i}",
                    "conversation": f"c{conv}",
                    "sender": f"u{conv}",
                    "recipients": [f"v{conv}"],
                    "text": TEXTS[i % len(TEXTS)],
                }
            )
        return events

    def _post(self, n: int) -> None:
        events = self._events(n)
        while True:
            now = time.time()
            answer = self.http.post("/v1/events", json={"events": events})
            if answer.status_code == 202:
                for e in events:
                    self.sent[e["id"]] = now
                return
            if answer.status_code not in (429, 503):
                raise RuntimeError(f"API answered {answer.status_code}: {answer.text[:200]}")
            time.sleep(float(answer.headers.get("Retry-After", "1")))

    def processed(self) -> int:
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname=self.db) as conn:
            row = conn.execute("SELECT count(*) FROM processed_events").fetchone()
        return int(row[0]) if row else 0

    def throughput(self, seconds: float) -> float:
        """Closed loop with at most WINDOW events in flight; committed events per second."""
        start_count, start = self.processed(), time.monotonic()
        done = start_count
        while time.monotonic() - start < seconds:
            if len(self.sent) - done < WINDOW:
                self._post(POST_SIZE)
            else:
                time.sleep(0.05)
                done = self.processed()
        end_count = self.processed()
        return (end_count - start_count) / (time.monotonic() - start)

    def drain(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.processed() < len(self.sent) and time.monotonic() < deadline:
            time.sleep(0.2)

    def latency(self, rate: float, seconds: float) -> dict[str, float]:
        """Open loop at ``rate`` events/s; percentiles of POST → committed decision."""
        first = self.counter
        per_post = 5
        gap, start = per_post / rate, time.monotonic()
        next_at = start
        while time.monotonic() - start < seconds:
            self._post(per_post)
            next_at += gap
            time.sleep(max(0.0, next_at - time.monotonic()))
        self.drain()
        ids = [f"e{i}" for i in range(first, self.counter)]
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname=self.db) as conn:
            rows = conn.execute(
                "SELECT event_id, at FROM processed_events WHERE event_id = ANY(%s)", (ids,)
            ).fetchall()
        waits = sorted(
            at.replace(tzinfo=at.tzinfo or UTC).timestamp() - self.sent[eid] for eid, at in rows
        )
        q = statistics.quantiles(waits, n=100)
        return {
            "events": len(waits),
            "offered_per_s": round(rate, 1),
            "p50_ms": round(q[49] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1),
        }

    def with_workers(self, count: int) -> dict[str, Any]:
        while len([p for p in self.procs if p.args[1] == "worker"]) < count:
            self._vigie("worker", "--no-webhooks", wait=False)
        time.sleep(8 if count == 1 else 10)  # model load and partition sharing
        self._post(POST_SIZE)  # warm-up
        self.drain()
        rate = self.throughput(THROUGHPUT_S)
        self.drain()
        lat = self.latency(max(5.0, 0.6 * rate), LATENCY_S)
        return {"workers": count, "events_per_s": round(rate, 1), **lat}


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Scale-out: NATS JetStream workers on one machine",
        "",
        f"{result['machine']}; {result['note']}",
        "",
        "| workers | events/s (sustained) | latency offered at | p50 | p99 |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['workers']} | {r['events_per_s']} | {r['offered_per_s']} ev/s "
            f"| {r['p50_ms']} ms | {r['p99_ms']} ms |"
        )
    lines += ["", f"Ratio 2 workers / 1 worker: **{result['ratio_2_over_1']}**", ""]
    return "\n".join(lines)


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    bench = Bench()
    started = time.time()
    try:
        bench.setup()
        runs = [bench.with_workers(1), bench.with_workers(2)]
    finally:
        bench.teardown()
    result = {
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        "note": (
            "API, workers, PostgreSQL, NATS and the loader share these cores; default "
            "detectors (semantic stage on); "
            f"{PARTITIONS} partitions, batches of {BATCH}, loader window {WINDOW}"
        ),
        "runs": runs,
        "ratio_2_over_1": round(runs[1]["events_per_s"] / max(runs[0]["events_per_s"], 1e-9), 2),
        "seconds": round(time.time() - started, 1),
    }
    (RESULTS / "scale.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "scale.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
