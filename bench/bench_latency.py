"""Decision latency of ``POST /v1/events`` at a sustained rate (target: p99 <= 30 ms at 500/s).

Starts ``vigie serve`` on a fresh SQLite database (subprocess), creates a platform with the
CLI, then sends one message event per request at a fixed rate (open loop: requests leave on
schedule whether or not earlier ones have answered, so a slow server cannot hide its delay)
over a bounded pool of keep-alive connections. Conversations replay the small fixture set
(80 % benign, 20 % grooming or sextortion), after account events that give ages.

Reported: p50/p90/p99/max of the *decision latency* (request written → answer read) and of
the *scheduled latency* (planned send time → answer read, which adds any wait for a free
connection), achieved events/s, errors, and the decision mix. Writes
``bench/results/latency.json`` and ``bench/results/latency.md``, with the CPU cost per
message event of each stage measured in process (pipeline, text detector, policy), which
says where the time goes even when the shared machine is busy.

    .venv/bin/python bench/bench_latency.py [--rate 500] [--seconds 30] [--warmup 5]

The machine is shared and has two cores; the loader runs on the same machine as the server,
so numbers are pessimistic for the server and noisy from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "conversations_small.jsonl"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
from traffic_mix import mixed_conversations as mixed  # noqa: E402


# --- the loader: a minimal HTTP/1.1 keep-alive client (cheaper than a full client library,
# which matters when loader and server share two cores) -------------------------------------
class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def post(self, path: str, key: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("server closed the connection")
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return int(status_line.split()[1]), payload


def _conversations(n: int, seed: int = 7) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    benign = [r for r in records if r.get("label") == "benign"]
    risky = [r for r in records if r.get("label") != "benign"]
    rng = random.Random(seed)
    return [rng.choice(benign if rng.random() < 0.8 else risky) for _ in range(n)]


def _invisible_tag(n: int) -> str:
    """``n`` in zero-width characters: the text reads the same, the normaliser and the
    sentence encoder drop the tag, but no cache keyed by text (normalised forms, embeddings)
    has seen it before. (Until 2026-11-29 the encoder read the tag as tokens: about twice a
    chat message's tokens, so the stress case's figures were pessimistic.)"""
    return "\u2060" + "".join("\u200b" if bit == "0" else "\u200c" for bit in f"{n:b}")


def make_events(
    total: int,
    conversations: int,
    run: str,
    batch: int = 1,
    unique: bool = True,
    traffic: str = "mixed",
) -> tuple[list[bytes], list[bytes]]:
    """Account events (sent first, untimed) and ``total`` message events, round-robin,
    ``batch`` message events per request body. ``traffic``: ``mixed``, the realistic mix of
    ``traffic_mix.py`` (mostly peers), or ``fixtures``, the test fixtures' ten conversations
    (seven of them between an adult and a child, where the semantic stage runs: a stress
    case). The sets repeat their lines; with ``unique`` each message sent is made new
    (``_invisible_tag``), as in real chat, where most messages long enough to matter are
    written once."""
    chosen = _conversations(conversations) if traffic == "fixtures" else mixed(conversations)
    accounts: list[bytes] = []
    for i, conv in enumerate(chosen):
        for handle, p in conv["participants"].items():
            ev = {"type": "account", "id": f"{run}-acc-{i}-{handle}", "account": f"u{i}{handle}",
                  "age": p.get("age"), "age_source": p.get("age_source", "declared"),
                  "created_at": "2026-10-01T00:00:00Z"}  # fmt: skip
            accounts.append(json.dumps({"events": [ev]}).encode())
    messages: list[bytes] = []
    cursor = [0] * conversations
    for n in range(total):
        i = n % conversations
        conv = chosen[i]
        msg = conv["messages"][cursor[i] % len(conv["messages"])]
        cursor[i] += 1
        others = [h for h in conv["participants"] if h != msg["from"]]
        ev = {"type": "message", "id": f"{run}-m-{n}", "conversation": f"{run}-c{i}",
              "sender": f"u{i}{msg['from']}", "recipients": [f"u{i}{h}" for h in others],
              "text": msg["text"] + (_invisible_tag(n) if unique else ""),
              "sent_at": "2026-11-28T17:02:11Z"}  # fmt: skip
        messages.append(ev)
    bodies = [
        json.dumps({"events": messages[i : i + batch]}).encode()
        for i in range(0, len(messages), batch)
    ]
    return accounts, bodies


async def _send_all(
    port: int,
    key: str,
    bodies: list[bytes],
    rate: float,
    pool: int,
    record: bool,
    drain_s: float | None = None,
) -> dict[str, Any]:
    """Send on schedule; then wait at most ``drain_s`` for the answers still due (a saturated
    server would otherwise keep the benchmark running for minutes), counting the rest as
    ``unanswered``."""
    conns: asyncio.Queue[Connection] = asyncio.Queue()
    opened: list[Connection] = []

    async def connect() -> Connection:
        conn = await Connection.open(port)
        opened.append(conn)
        return conn

    for _ in range(pool):
        conns.put_nowait(await connect())
    service: list[float] = []
    scheduled: list[float] = []
    statuses: Counter[str] = Counter()
    decisions: Counter[str] = Counter()

    async def one(body: bytes, planned: float) -> None:
        conn = await conns.get()
        started = time.perf_counter()
        try:
            status, payload = await conn.post("/v1/events", key, body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            statuses[type(exc).__name__] += 1
            conns.put_nowait(await connect())
            return
        done = time.perf_counter()
        conns.put_nowait(conn)
        statuses[str(status)] += 1
        if status == 200 and record:
            service.append(done - started)
            scheduled.append(done - planned)
            for result in json.loads(payload).get("results", []):
                decisions[result.get("decision", "?")] += 1

    start = time.perf_counter()
    tasks = []
    for n, body in enumerate(bodies):
        planned = start + n / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body, planned)))
    _, pending = await asyncio.wait(tasks, timeout=drain_s)
    elapsed = time.perf_counter() - start
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        statuses["unanswered"] = len(pending)
    for conn in opened:
        conn.writer.close()
    return {
        "service": service,
        "scheduled": scheduled,
        "statuses": dict(statuses),
        "decisions": dict(decisions),
        "elapsed_s": elapsed,
        "sent": len(bodies),
    }


def _run_loop(job: Any) -> Any:
    """The loader on uvloop when installed (it ships with Vigie): the loader shares the
    server's two cores, so the less CPU it burns per request, the more the server gets."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(job)
    return uvloop.run(job)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _summary(values: list[float]) -> dict[str, float]:
    return {name: round(_pct(values, q), 2)
            for name, q in (("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99),
                            ("max_ms", 1.0))}  # fmt: skip


# --- the server ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _vigie(*args: str, env: dict[str, str]) -> list[str]:
    """The ``vigie`` command; ``VIGIE_BENCH_CLI`` may name another (e.g. a dev wrapper)."""
    custom = env.get("VIGIE_BENCH_CLI")
    return [*(custom.split() if custom else [sys.executable, "-m", "vigie.cli"]), *args]


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit("vigie serve exited before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit("vigie serve did not become ready")


def server_errors(log: str, keep: int = 5) -> list[str]:
    """The distinct exception lines the server logged (why some answers were 500)."""
    found: dict[str, int] = {}
    for line in log.splitlines():
        text = line.strip()
        if re.match(r"^[\w.]+(Error|Exception)\b", text):
            found[text[:300]] = found.get(text[:300], 0) + 1
    return [f"{n}x {text}" for text, n in list(found.items())[:keep]]


def bench_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "VIGIE_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "VIGIE_CONFIG": str(tmp / "absent.toml"),
        "VIGIE_API__RATE_LIMIT_PER_MINUTE": "100000000",
        "VIGIE_LOG_LEVEL": "warning",
    })  # fmt: skip
    return env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=500.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--pool", type=int, default=64, help="keep-alive connections")
    ap.add_argument("--workers", type=int, default=1, help="vigie serve --workers")
    ap.add_argument("--batch", type=int, default=1, help="message events per request")
    ap.add_argument(
        "--repeat-texts",
        dest="unique",
        action="store_false",
        help="send the fixtures' texts as they are (caches keyed by text then hit)",
    )
    ap.add_argument("--conversations", type=int, default=500)
    ap.add_argument("--target-p99-ms", type=float, default=30.0)
    ap.add_argument("--out", default="latency")
    ap.add_argument(
        "--drain",
        type=float,
        default=15.0,
        help="seconds to wait for late answers after the last send",
    )
    ap.add_argument(
        "--no-breakdown",
        dest="breakdown",
        action="store_false",
        help="skip the in-process CPU cost per stage",
    )
    ap.add_argument(
        "--wrap-server",
        default="",
        help="command prefix for the server, e.g. 'py-spy record -f raw -o p.txt --'",
    )
    ap.add_argument("--server-log", type=Path, help="keep the server's log here")
    ap.add_argument(
        "--traffic",
        choices=["mixed", "fixtures"],
        default="mixed",
        help="mixed: mostly peers, as bench_text (default); fixtures: seven conversations in "
        "ten between an adult and a child (a stress case for the semantic stage)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as tmpdir:
        tmp = Path(tmpdir)
        env = bench_env(tmp)
        _run(_vigie("db", "upgrade", env=env), env)
        key = _run(_vigie("platform", "add", "bench", env=env), env).strip().splitlines()[-1]
        port = _free_port()
        log = tmp / "serve.log"
        serve = [
            *args.wrap_server.split(),
            *_vigie("serve", "--port", str(port), "--workers", str(args.workers), env=env),
        ]
        with log.open("wb") as sink:
            server = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=sink)
        try:
            _wait_ready(port, server)
            result = _run_loop(_drive(port, key, args, server.pid))
        except BaseException:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        result["server_errors"] = server_errors(log.read_text(errors="replace"))
        if args.server_log:
            shutil.copyfile(log, args.server_log)
        if args.breakdown:
            result["cpu_per_event"] = cpu_breakdown(tmp)
    write_results(result, args)
    return 0


async def _drive(port: int, key: str, args: argparse.Namespace, server_pid: int) -> dict[str, Any]:
    total = int(args.rate * args.seconds)
    warm_rate = min(args.rate, 100.0)  # gentle: warm caches without leaving a backlog
    warm = int(warm_rate * args.warmup)
    batch = args.batch
    accounts, messages = make_events(
        total + warm, args.conversations, f"r{int(time.time())}", batch, args.unique, args.traffic
    )
    warm //= batch
    await _send_all(port, key, accounts, rate=max(args.rate, 200), pool=args.pool, record=False)
    drain = args.drain
    await _send_all(port, key, messages[:warm], warm_rate / batch, args.pool, False, drain)
    server_cpu, loader_cpu = tree_cpu_seconds(server_pid), time.process_time()
    machine = machine_ticks()
    gc.collect()
    gc.disable()  # the loader's own collections would stall it and show as server latency
    try:
        run = await _send_all(port, key, messages[warm:], args.rate / batch, args.pool, True, drain)
    finally:
        gc.enable()
    after = tree_cpu_seconds(server_pid)
    machine = {k: v - machine.get(k, 0) for k, v in machine_ticks().items()}
    by_process = {k: v - server_cpu.get(k, 0.0) for k, v in after.items()}
    loader_cpu = time.process_time() - loader_cpu
    answered = max(1, len(run["service"]) * batch)
    return {
        "rate_target": args.rate, "seconds": args.seconds, "events": run["sent"] * batch,
        "events_per_request": batch, "unique_texts": args.unique, "traffic": args.traffic,
        "achieved_events_per_s": round(batch * len(run["service"]) / run["elapsed_s"], 1),
        "decision_latency": _summary(run["service"]),
        "scheduled_latency": _summary(run["scheduled"]),
        "statuses": run["statuses"], "decisions": run["decisions"],
        "machine_busy_pct": round(100 * machine["busy"] / max(1, machine["all"]), 1),
        "machine_steal_pct": round(100 * machine["steal"] / max(1, machine["all"]), 1),
        "server_cpu_ms_per_event": round(1000 * sum(by_process.values()) / answered, 3),
        "server_cpu_ms_per_event_by_process": {
            k: round(1000 * v / answered, 3) for k, v in sorted(by_process.items())
        },
        "loader_cpu_ms_per_event": round(1000 * loader_cpu / answered, 3),
        "target_p99_ms": args.target_p99_ms,
        "met": _pct(run["service"], 0.99) <= args.target_p99_ms
        and batch * len(run["service"]) / run["elapsed_s"] >= 0.98 * args.rate
        and set(run["statuses"]) == {"200"},
        "pool": args.pool, "conversations": args.conversations, "workers": args.workers,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "system": platform.platform()},
        "database": "sqlite (WAL)", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }  # fmt: skip


def tree_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds used so far by a process and each of its descendants (``vigie serve
    --workers``, the decider process), by a short name for each."""
    found: dict[str, float] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            name = _process_name(current, current == pid)
            seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            found[name] = found.get(name, 0.0) + seconds
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def machine_ticks() -> dict[str, int]:
    """Clock ticks of all CPUs so far (``/proc/stat``): in all, busy, and stolen by the
    hypervisor for other guests (what makes the same run slower from one hour to the next)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return {"all": sum(fields[:8]), "busy": user + nice + system + irq + softirq, "steal": steal}


def _process_name(pid: int, top: bool) -> str:
    """``serve`` for the server, the module's last part for ``python -m vigie.api.x``."""
    if top:
        return "serve"
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    module = next((a.decode() for a in argv if a.startswith(b"vigie.")), "")
    return module.rsplit(".", 1)[-1] if module else "worker"


def cpu_breakdown(tmp: Path, n: int = 300) -> dict[str, float]:
    """CPU ms per message event by stage, in process (``process_time``: what this process
    itself burns, so the figures hold even on a machine busy with other work)."""
    from vigie.detect.base import MessageContext
    from vigie.domain import Participant
    from vigie.events import EventBatch
    from vigie.platforms import create_platform
    from vigie.policy.base import PolicyInput
    from vigie.runtime import build_pipeline
    from vigie.settings import load_settings
    from vigie.store.migrate import upgrade
    from vigie.store.sql import SqlStore

    url = f"sqlite:///{tmp}/breakdown.db"
    upgrade(url)
    settings = load_settings({"VIGIE_DATABASE_URL": url, "VIGIE_CONFIG": str(tmp / "none")})
    store = SqlStore(url, row_cache=True)  # as the decider runs it
    with store.unit() as unit:
        platform = create_platform(unit, "cpu", None).platform
    pipe = build_pipeline(settings, store)
    accounts, messages = make_events(4 * n, 100, "cpu")
    events = [EventBatch.model_validate_json(b).events for b in accounts + messages]
    for batch in events[: len(accounts) + n]:  # accounts, then warm-up
        pipe.process_batch(platform, batch)
    # Texts the pipeline has not seen: its caches (readings, normal forms, embeddings by
    # text) would otherwise answer for the detector and flatter it.
    texts = [str(json.loads(b)["events"][0]["text"]) for b in messages[3 * n :]]
    child, adult = Participant("b", 13), Participant("a", 30)

    def per_event(fn: Any, items: list[Any]) -> float:
        start = time.process_time()
        for item in items:
            fn(item)
        return round(1000 * (time.process_time() - start) / len(items), 3)

    detector = pipe.text_detectors[0]
    gc.collect()
    gc.freeze()  # the loader's leftovers must not be scanned inside the measured calls
    out = {
        "pipeline_ms": per_event(lambda b: pipe.process_batch(platform, b),
                                 events[len(accounts) + n : len(accounts) + 3 * n]),
        "text_detector_ms": per_event(
            lambda t: detector.detect(MessageContext("c", t, adult, [child], None, 3)), texts),
        "policy_ms": per_event(lambda _: pipe.policy.decide(PolicyInput(
            "message", [], 0.6, ["secrecy"], adult, [child])), texts),
    }  # fmt: skip
    out["storage_and_rest_ms"] = round(
        out["pipeline_ms"] - out["text_detector_ms"] - out["policy_ms"], 3
    )
    store.dispose()
    return out


def _by_process(result: dict[str, Any]) -> str:
    parts = result.get("server_cpu_ms_per_event_by_process", {})
    return ", ".join(f"{name} {ms}" for name, ms in parts.items()) or "one process"


def _breakdown_lines(cpu: dict[str, float] | None) -> list[str]:
    if not cpu:
        return []
    return [
        "",
        "CPU per message event, in process (no HTTP), SQLite, the decider's store:",
        "",
        "| stage | CPU ms/event |",
        "|---|---|",
        *[f"| {name.removesuffix('_ms').replace('_', ' ')} | {v} |" for name, v in cpu.items()],
        "",
    ]


def _per_request(result: dict[str, Any]) -> str:
    n = result.get("events_per_request", 1)
    return "one per request" if n == 1 else f"{n} per request"


def write_results(result: dict[str, Any], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    d, s = result["decision_latency"], result["scheduled_latency"]
    lines = [
        f"# Decision latency, POST /v1/events, {result['rate_target']:.0f} events/s target",
        "",
        "| measure | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
        f"| decision (request → answer) | {d['p50_ms']} | {d['p90_ms']} | {d['p99_ms']} | "
        f"{d['max_ms']} |",
        f"| scheduled (planned send → answer) | {s['p50_ms']} | {s['p90_ms']} | {s['p99_ms']} "
        f"| {s['max_ms']} |",
        "",
        f"- achieved: **{result['achieved_events_per_s']} events/s** over {result['seconds']:.0f}"
        f" s ({result['events']} events, {_per_request(result)}, {result['pool']} connections)",
        "- texts: "
        + (
            "each message new (no cache keyed by text helps, as in real chat)"
            if result.get("unique_texts", True)
            else "the sets' texts replayed (caches keyed by text hit)"
        ),
        "- traffic: "
        + (
            "the test fixtures: seven conversations in ten between an adult and a child "
            "(a stress case for the semantic stage)"
            if result.get("traffic") == "fixtures"
            else "realistic mix from the development sets (75 % peers, as bench_text)"
        ),
        f"- target p99 ≤ {result['target_p99_ms']:.0f} ms at the target rate: "
        f"**{'met' if result['met'] else 'NOT met'}**",
        f"- HTTP statuses: {result['statuses']}; decisions: {result['decisions']}",
        f"- CPU per event during the run: server {result['server_cpu_ms_per_event']} ms "
        f"({_by_process(result)}), loader {result['loader_cpu_ms_per_event']} ms; machine busy "
        f"{result.get('machine_busy_pct', '?')} %, stolen by other guests "
        f"{result.get('machine_steal_pct', '?')} %",
        *[f"- server error: `{e}`" for e in result.get("server_errors", [])],
        *_breakdown_lines(result.get("cpu_per_event")),
        f"- {result['database']}, {result['machine']['cpus']} CPUs, loader on the same machine;"
        f" {result['at']}",
        "",
    ]
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
