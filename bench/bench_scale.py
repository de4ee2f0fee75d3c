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

``--against REV`` measures the code of git revision ``REV`` too, in the same run (its
``src/`` checked out in a temporary folder, each phase alternating between the two): the
machine is shared, so only figures taken side by side compare. ``--workers 1`` skips the
two-worker phase.
"""

from __future__ import annotations

import argparse
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
THROUGHPUT_S, LATENCY_S, WARMUP_S = float(os.environ.get("BENCH_PHASE_S", 15)), 10.0, 4.0
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
# Words around each text so that messages are (almost) all different, as in real chat: the
# semantic stage caches embeddings by text and must not be measured on a handful of strings.
WORDS = (
    "ok",
    "so",
    "well",
    "hey",
    "lol",
    "yes",
    "no",
    "maybe",
    "haha",
    "right",
    "cool",
    "nice",
    "wow",
    "hmm",
    "sure",
    "yeah",
    "oh",
    "btw",
    "also",
    "anyway",
    "then",
    "now",
    "today",
    "later",
    "again",
    "first",
    "last",
    "really",
    "just",
    "still",
    "soon",
    "tonight",
    "tomorrow",
    "friday",
    "monday",
    "please",
    "thanks",
    "sorry",
    "great",
    "fine",
    "good",
    "bad",
    "fun",
    "quick",
    "slow",
    "big",
    "small",
)


def _admin(sql: str) -> None:
    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (Linux /proc), immune to other work's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def checkout(rev: str) -> Path:
    """``src/`` of revision ``rev`` in a temporary folder (the code measured against)."""
    folder = Path(tempfile.mkdtemp(prefix="vigie-against-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


class Bench:
    def __init__(self, src: Path | None = None) -> None:
        """``src``: run the ``vigie`` processes on that source tree (another revision)."""
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
        if src is not None:
            self.env["PYTHONPATH"] = str(src)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.metrics_ports: list[int] = []
        self.sent: dict[str, float] = {}
        self.counter = 0

    # Processes -----------------------------------------------------------------------------
    def _vigie(self, *args: str, wait: bool = True, **env: str) -> subprocess.Popen[bytes] | str:
        if wait:
            out = subprocess.run(
                [VIGIE, *args], env=self.env, check=True, capture_output=True, text=True
            )
            return out.stdout
        log = (LOGS / f"scale-{args[0]}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen([VIGIE, *args], env={**self.env, **env}, stdout=log, stderr=log)
        self.procs.append(proc)
        return proc

    def setup(self) -> None:
        _admin(f'CREATE DATABASE "{self.db}"')
        self._vigie("db", "upgrade")
        out = self._vigie("platform", "add", "bench")
        assert isinstance(out, str)
        self.key = out.strip().splitlines()[-1]
        # The API only publishes in asynchronous mode: spare it the embedding model.
        self._vigie(
            "serve", "--port", str(self.port), wait=False, VIGIE_DETECTION__SEMANTIC="false"
        )
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            timeout=30,
            headers={"Authorization": f"Bearer {self.key}"},
        )
        deadline = time.monotonic() + 180
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

        from vigie.transport.config import BusConfig
        from vigie.transport.stream import delete_streams

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
                    "text": f"{WORDS[i % 47]} {TEXTS[i % len(TEXTS)]} {WORDS[i // 47 % 47]}",
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

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by the API process and by all worker processes."""
        api = [p for p in self.procs if p.args[1] == "serve"]
        workers = [p for p in self.procs if p.args[1] == "worker"]
        return {
            "api": sum(_cpu_seconds(p.pid) for p in api),
            "workers": sum(_cpu_seconds(p.pid) for p in workers),
        }

    def db_stats(self) -> dict[str, int]:
        """PostgreSQL's own counters for the bench database (for the sizing arithmetic)."""
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname=self.db) as conn:
            row = conn.execute(
                "SELECT xact_commit, tup_inserted, tup_updated, tup_fetched"
                " FROM pg_stat_database WHERE datname = %s",
                (self.db,),
            ).fetchone()
        assert row is not None
        return dict(zip(("commits", "inserted", "updated", "fetched"), map(int, row), strict=True))

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

    def _wait_balanced(self, count: int, timeout: float = 240) -> None:
        """Until every worker has loaded its model and holds its share of the partitions."""
        deadline, owned = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            owned = [self._partitions(port) for port in self.metrics_ports]
            if len(owned) == count and min(owned) >= PARTITIONS // count:
                return
            time.sleep(0.5)
        raise RuntimeError(f"workers did not share the partitions: {owned}")

    @staticmethod
    def _partitions(port: int) -> int:
        """The worker's own gauge, read from its Prometheus endpoint."""
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        except httpx.HTTPError:
            return 0
        for line in text.splitlines():
            if line.startswith("vigie_worker_partitions "):
                return int(float(line.split()[1]))
        return 0

    def with_workers(self, count: int) -> dict[str, Any]:
        while len(self.metrics_ports) < count:
            port = _free_port()
            self.metrics_ports.append(port)
            self._vigie("worker", "--no-webhooks", "--metrics-port", str(port), wait=False)
        self._wait_balanced(count)
        self.throughput(WARMUP_S)  # first calls into the models are slow; not measured
        self.drain()
        before, first, cpu = self.db_stats(), self.processed(), self.cpu()
        rate = self.throughput(THROUGHPUT_S)
        self.drain()
        after, events = self.db_stats(), max(1, self.processed() - first)
        per_event = {k: round((after[k] - before[k]) / events, 2) for k in after}
        cpu_ms = {k: round((v - cpu[k]) / events * 1000, 2) for k, v in self.cpu().items()}
        lat = self.latency(max(5.0, 0.6 * rate), LATENCY_S)
        return {
            "workers": count,
            "events_per_s": round(rate, 1),
            **lat,
            "db_per_event": per_event,
            "cpu_ms_per_event": cpu_ms,
        }


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Scale-out: NATS JetStream workers on one machine",
        "",
        f"{result['machine']}; {result['note']}. Load average (1 min) before/after: "
        f"{result['load_average_1m']} — the machine is shared with other work, so numbers vary "
        "from run to run.",
        "",
        "| code | workers | events/s (sustained) | latency offered at | p50 | p99 "
        "| worker CPU per event | API CPU per event |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['code']} | {r['workers']} | {r['events_per_s']} | {r['offered_per_s']} ev/s "
            f"| {r['p50_ms']} ms | {r['p99_ms']} ms | {r['cpu_ms_per_event']['workers']} ms "
            f"| {r['cpu_ms_per_event']['api']} ms |"
        )
    for name, value in result["ratios"].items():
        lines.append(f"- {name}: **{value}**")
    lines.append("")
    return "\n".join(lines)


def _ratios(runs: list[dict[str, Any]], against: str | None) -> dict[str, float]:
    """Two workers against one (this code), and this code against ``against``'s."""

    def find(code: str, workers: int) -> dict[str, Any] | None:
        return next((r for r in runs if r["code"] == code and r["workers"] == workers), None)

    out: dict[str, float] = {}
    one, two = find("this", 1), find("this", 2)
    if one and two:
        out["events/s, 2 workers / 1 worker"] = round(
            two["events_per_s"] / max(one["events_per_s"], 1e-9), 2
        )
    for workers in (1, 2):
        new, old = find("this", workers), against and find(against, workers)
        if new and old:
            cpu = "cpu_ms_per_event"
            out[f"worker CPU per event, this / {against} ({workers} worker)"] = round(
                new[cpu]["workers"] / max(old[cpu]["workers"], 1e-9), 2
            )
            out[f"events/s, this / {against} ({workers} worker)"] = round(
                new["events_per_s"] / max(old["events_per_s"], 1e-9), 2
            )
    return out


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _measure(src: Path | None, workers: int) -> dict[str, Any]:
    """One fresh database, stream and API; ``workers`` workers on the code in ``src``."""
    bench = Bench(src)
    try:
        bench.setup()
        return bench.with_workers(workers)
    finally:
        bench.teardown()


def main() -> None:
    missing = [
        name for name, port in (("PostgreSQL", 5432), ("NATS", 4222)) if not _reachable(port)
    ]
    if missing:  # `make bench` runs every benchmark; this one needs both services
        print(f"bench_scale skipped: {', '.join(missing)} not reachable on 127.0.0.1")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", help="git revision to measure side by side (e.g. HEAD~1)")
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1 or 1,2")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    codes: list[tuple[str, Path | None]] = [("this", ROOT / "src")]  # not the venv's install
    if args.against:
        codes.append((args.against, checkout(args.against)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    started, load_before = time.time(), os.getloadavg()[0]
    runs = []
    for count in counts:  # alternate the two codes phase by phase: same load for both
        for code, src in codes:
            runs.append({"code": code, **_measure(src, count)})
    result = {
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        "note": (
            "API, workers, PostgreSQL, NATS and the loader share these cores; default "
            "detectors (semantic stage on); "
            f"{PARTITIONS} partitions, batches of {BATCH}, loader window {WINDOW}"
        ),
        "runs": runs,
        "ratios": _ratios(runs, args.against),
        "seconds": round(time.time() - started, 1),
        "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    (RESULTS / "scale.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "scale.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
