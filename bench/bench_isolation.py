"""Tenant isolation: platform B's latency while platform A sends symbol-heavy text (issue 21).

Target: with platform A sending 1 MiB requests of ``©`` back to back, platform B's p99 stays
under 50 ms. Starts ``vigie serve`` (one worker, so the decider process) on a fresh SQLite
database with two platforms, then measures B's one-message requests, sent open loop at a
fixed rate, in three phases of the same length:

* ``alone``: B only (the reference);
* ``flood-1mib``: A sends 1 MiB bodies of ``©`` (52 messages of 10,000) on ``--attackers``
  connections, each as soon as the last one is answered;
* ``at-limits``: A sends the most text a request may carry, all of it accepted
  (``api.max_text_chars_per_request`` in messages of ``api.max_text_chars``); reported for
  what it says about the CPU budget, not part of the target.

Each phase also records the CPU the serve process and the decider process used.

``--against REV`` measures the code of git revision ``REV`` too, in the same run (its
``src/`` checked out in a temporary folder; ``--rounds`` servers of each, alternating): the
machine is shared, so only figures taken side by side compare. The 1-minute load average is
recorded before and after each server.

Writes ``bench/results/isolation.json`` and ``bench/results/isolation.md``.

    .venv/bin/python bench/bench_isolation.py [--rate 50] [--seconds 15] [--attackers 2]
        [--against REV] [--rounds 2]

Loader and server share the machine (two cores here): numbers are pessimistic for the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
from bench_latency import (  # noqa: E402
    Connection,
    _free_port,
    _run,
    _summary,
    _vigie,
    _wait_ready,
    bench_env,
)

TARGET_P99_MS = 50.0
PHASES = ("alone", "flood-1mib", "at-limits")
SYMBOL = "©"


def events_body(prefix: str, texts: list[str]) -> bytes:
    events = [
        {"type": "message", "id": f"{prefix}-{i}", "conversation": f"{prefix}-c",
         "sender": f"{prefix}-s", "recipients": [f"{prefix}-r"], "text": text}
        for i, text in enumerate(texts)
    ]  # fmt: skip
    return json.dumps({"events": events}, ensure_ascii=False).encode()


def flood_body(n: int) -> bytes:
    """About 1 MiB (the default body limit) of ``©``: refused before any detector runs."""
    return events_body(f"a{n}", [SYMBOL * 10_000] * 52)


def at_limits_body(n: int) -> bytes:
    """The most text one request may carry at the default limits, all of it accepted."""
    return events_body(f"a{n}", [SYMBOL * 4000] * 64)


async def tenant_b(port: int, key: str, rate: float, seconds: float, prefix: str) -> dict[str, Any]:
    """One-message requests at ``rate`` per second (open loop); latencies and statuses."""
    pool: list[Connection] = []
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def one(n: int) -> None:
        body = events_body(f"b{prefix}{n}", ["salut, ça va ?"])
        conn = pool.pop() if pool else await Connection.open(port)
        started = time.perf_counter()
        try:
            status, _ = await conn.post("/v1/events", key, body)
        except (ConnectionError, asyncio.IncompleteReadError):  # idle keep-alive closed
            conn = await Connection.open(port)
            started = time.perf_counter()
            status, _ = await conn.post("/v1/events", key, body)
        latencies.append(time.perf_counter() - started)
        statuses[status] += 1
        pool.append(conn)

    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return {"requests": len(latencies), "statuses": dict(statuses), **_summary(latencies)}


async def tenant_a(port: int, key: str, bodies: list[bytes], stop: Any) -> Counter[int]:
    """``bodies`` in turn, back to back on one connection, until ``stop`` is set."""
    conn = await Connection.open(port)
    statuses: Counter[int] = Counter()
    n = 0
    while not stop.is_set():
        status, _ = await conn.post("/v1/events", key, bodies[n % len(bodies)])
        statuses[status] += 1
        n += 1
    return statuses


def attack(port: int, key: str, kind: str, args: tuple[int, int], stop: Any, out: Any) -> None:
    """Platform A, in a process of its own (its bodies are built before the phase starts), so
    building and sending megabytes does not delay B's loader. ``args``: A's connections, and
    how much nicer than the rest A's process runs (``--attacker-nice``: a sender on another
    machine would not take these cores)."""
    attackers, niceness = args
    make = {"flood-1mib": flood_body, "at-limits": at_limits_body}[kind]
    bodies = [[make(n * 100 + i) for n in range(120)] for i in range(attackers)]
    os.nice(niceness)
    out.put("ready")

    async def all_of_them() -> Counter[int]:
        found = await asyncio.gather(*(tenant_a(port, key, b, stop) for b in bodies))
        return sum(found, Counter())

    out.put(dict(asyncio.run(all_of_them())))


async def phase(
    port: int, keys: dict[str, str], args: argparse.Namespace, kind: str
) -> dict[str, Any]:
    attacker = None
    out: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    if kind != "alone":
        attacker = multiprocessing.Process(
            target=attack,
            args=(port, keys["a"], kind, (args.attackers, args.attacker_nice), stop, out),
        )
        attacker.start()
        await asyncio.get_running_loop().run_in_executor(None, out.get)  # bodies built
        await asyncio.sleep(0.5)  # A's first requests are in flight
    b = await tenant_b(port, keys["b"], args.rate, args.seconds, kind)
    a: dict[int, int] = {}
    if attacker is not None:
        stop.set()  # A stops with B's phase
        a = await asyncio.get_running_loop().run_in_executor(None, out.get)
        attacker.join()
    return {"b": b, "a_statuses": a}


def cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes(server: subprocess.Popen[bytes]) -> dict[str, int]:
    """The serve process and its decider (its one child, when there is one)."""
    found = {"serve": server.pid}
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    for pid in children.read_text().split() if children.exists() else []:
        found["decider"] = int(pid)
    return found


async def drive(
    port: int, keys: dict[str, str], args: argparse.Namespace, server: subprocess.Popen[bytes]
) -> dict[str, Any]:
    await tenant_b(port, keys["b"], 20, 5, "warm")  # key cache, first decisions
    found = {}
    for kind in PHASES:
        pids = processes(server)
        before = {name: cpu_s(pid) for name, pid in pids.items()}
        found[kind] = await phase(port, keys, args, kind)
        found[kind]["cpu_s"] = {n: round(cpu_s(p) - before[n], 2) for n, p in pids.items()}
    return found


def checkout(rev: str) -> Path:
    """``src/`` of revision ``rev`` in a temporary folder (the code measured against)."""
    folder = Path(tempfile.mkdtemp(prefix="vigie-against-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def serve(args: argparse.Namespace, src: Path) -> dict[str, Any]:
    """One server of the code in ``src``, through the three phases."""
    with tempfile.TemporaryDirectory(prefix="vigie-isolation-") as tmpdir:
        env = {**bench_env(Path(tmpdir)), "PYTHONPATH": str(src)}
        _run(_vigie("db", "upgrade", env=env), env)
        keys = {
            name: _run(_vigie("platform", "add", name, env=env), env).strip().splitlines()[-1]
            for name in ("a", "b")
        }
        port = _free_port()
        log = Path(tmpdir) / "serve.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(
                _vigie("serve", "--port", str(port), env=env), env=env, stderr=sink
            )
        try:
            _wait_ready(port, server)
            return asyncio.run(drive(port, keys, args, server))
        except BaseException:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(20)


def median_of(runs: list[dict[str, Any]], code: str, kind: str, field: str) -> float:
    return float(
        statistics.median(r["phases"][kind]["b"][field] for r in runs if r["code"] == code)
    )


def ratios(runs: list[dict[str, Any]], against: str | None) -> dict[str, float]:
    """This code's B figures over ``against``'s (medians over the rounds)."""
    if not against:
        return {}
    return {
        f"B {field} {kind}, this / {against}": round(
            median_of(runs, "this", kind, field) / median_of(runs, against, kind, field), 2
        )
        for kind in PHASES[1:]
        for field in ("p50_ms", "p99_ms")
    }


def write_results(result: dict[str, Any], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    p99 = median_of(result["runs"], "this", "flood-1mib", "p99_ms")
    result["target_met"] = p99 < TARGET_P99_MS
    (RESULTS / "isolation.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Tenant isolation (bench/bench_isolation.py)",
        "",
        f"Platform B: one message per request at {args.rate:g}/s for {args.seconds:g} s per "
        f"phase; platform A: {args.attackers} connection(s) sending back to back"
        f"{f', its process nice +{args.attacker_nice}' if args.attacker_nice else ''}. "
        f"{result['machine']}; 1-minute load average before/after each server in the table.",
        "",
        "| code | phase | B p50 ms | B p99 ms | B max ms | B statuses | A statuses "
        "| CPU s serve / decider | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        for name, found in run["phases"].items():
            b, cpu = found["b"], found["cpu_s"]
            lines.append(
                f"| {run['code']} | {name} | {b['p50_ms']} | {b['p99_ms']} | {b['max_ms']} "
                f"| {b['statuses']} | {found['a_statuses'] or '-'} "
                f"| {cpu.get('serve', '-')} / {cpu.get('decider', '-')} | {run['load']} |"
            )
    lines += [""] + [f"- {name}: {value}" for name, value in result["ratios"].items()]
    verdict = "met" if result["target_met"] else "NOT met"
    lines += [
        "",
        f"Target: B's p99 under {TARGET_P99_MS:g} ms during `flood-1mib` (median over this "
        f"code's servers: {p99:g} ms): {verdict}.",
    ]
    (RESULTS / "isolation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=50.0, help="B's requests per second")
    ap.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    ap.add_argument("--attackers", type=int, default=2, help="A's connections")
    ap.add_argument(
        "--attacker-nice", type=int, default=0, help="A's process this much nicer (0-19)"
    )
    ap.add_argument("--against", help="git revision to measure side by side (e.g. main)")
    ap.add_argument("--rounds", type=int, default=1, help="servers of each code, alternating")
    args = ap.parse_args()
    codes = [("this", ROOT / "src")] + (
        [(args.against, checkout(args.against))] if args.against else []
    )
    started = time.time()
    runs = []
    for _ in range(args.rounds):
        for code, src in codes:
            load = [round(os.getloadavg()[0], 1)]
            phases = serve(args, src)
            runs.append(
                {"code": code, "phases": phases, "load": [*load, round(os.getloadavg()[0], 1)]}
            )
    result = {
        "machine": f"{os.cpu_count()} CPU cores",
        "runs": runs,
        "ratios": ratios(runs, args.against),
        "wall_s": round(time.time() - started, 1),
    }
    write_results(result, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
