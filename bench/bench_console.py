"""Console benchmark: how fast every console page opens with a large backlog.

The goal (issue 19): each page answers in 100 ms or less at the 95th percentile with 10,000
cases in the database; the table says, per page, the median, the p95 and whether it is met.

On a temporary SQLite file with synthetic, non-explicit rows (N open cases, each with a short
conversation between an adult and a child and two signals), through the real app:

    .venv/bin/python bench/bench_console.py               # 2000 cases, a few seconds
    .venv/bin/python bench/bench_console.py --cases 10000 --against HEAD~3

``--against REV`` measures the code of git revision ``REV`` too, in the same run: its
``src/`` checked out in a temporary folder and served by a process of its own, on a copy of
the same database, the two asked each page in turn, a few requests at a time. The machine is
shared, so only figures taken side by side compare (the p95 ratio column).

Writes bench/results/console.json and bench/results/console.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# A worker measuring another revision (``--against``) imports that revision's ``src/``.
sys.path.insert(
    0, os.environ.get("VIGIE_BENCH_SRC") or str(Path(__file__).resolve().parents[1] / "src")
)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "console"))

from console_seed import PASSWORD, log_in
from fastapi.testclient import TestClient
from sqlalchemy import insert

from vigie.api.app import create_app
from vigie.console import queries as q
from vigie.console.security import hash_password
from vigie.runtime import build_pipeline
from vigie.settings import Settings
from vigie.store.migrate import upgrade
from vigie.store.sql import SqlStore
from vigie.store.tables import AccountRow, CaseRow, MessageRow, PlatformRow, SignalRow

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TEXTS = ["salut, tu joues à quoi ?", "tu as quel âge ?", "c'est notre secret", "on va sur snap ?"]
CATS = [["age_probing", "secrecy"], ["sextortion_threat"], ["user_report"], ["known_imagery"]]


def _seed(store: SqlStore, cases: int, per_conv: int) -> str:
    now = datetime.now(UTC)
    with store.unit() as unit:
        s = unit.session
        s.add(PlatformRow(id="demo", name="demo", pseudonym_secret="s", created_at=now))
        s.flush()
        accounts, case_rows, messages, signals = [], [], [], []
        for i in range(cases):
            adult, child = f"a{i}", f"c{i}"
            accounts += [
                {
                    "platform_id": "demo",
                    "pseudo_id": adult,
                    "age": 30 + i % 20,
                    "age_source": "declared",
                    "first_seen": now,
                    "profile_state": {},
                },
                {
                    "platform_id": "demo",
                    "pseudo_id": child,
                    "age": 10 + i % 8,
                    "age_source": "estimated",
                    "first_seen": now,
                    "profile_state": {},
                },
            ]
            opened = now - timedelta(minutes=i % 600)
            case_rows.append(
                {
                    "id": f"case-{i}",
                    "platform_id": "demo",
                    "subject": adult,
                    "conversation_id": f"conv-{i}",
                    "status": "open",
                    "priority": 1 + i % 4,
                    "risk": (i % 100) / 100,
                    "categories": CATS[i % 4],
                    "requires_report": False,
                    "opened_at": opened,
                    "updated_at": opened,
                }
            )
            for m in range(per_conv):
                sender, recipient = (adult, child) if m % 2 == 0 else (child, adult)
                messages.append(
                    {
                        "platform_id": "demo",
                        "conversation_id": f"conv-{i}",
                        "sender": sender,
                        "recipients": [recipient],
                        "text": TEXTS[m % 4],
                        "sent_at": opened,
                        "risk": 0.0,
                    }
                )
            for cat in CATS[i % 4]:
                signals.append(
                    {
                        "platform_id": "demo",
                        "event_id": f"e{i}",
                        "case_id": f"case-{i}",
                        "conversation_id": f"conv-{i}",
                        "subject": adult,
                        "detector": "bench",
                        "category": cat,
                        "score": 0.9,
                        "explanation": "synthetic",
                        "details": {},
                        "at": opened,
                    }
                )
        s.execute(insert(AccountRow), accounts)
        s.execute(insert(CaseRow), case_rows)
        s.execute(insert(MessageRow), messages)
        s.execute(insert(SignalRow), signals)
        q.create_user(s, "bench@vigie.test", "referent", hash_password(PASSWORD), now)
        q.create_user(s, "admin@vigie.test", "admin", hash_password(PASSWORD), now)
    return "case-0"


def _times_ms(fn: Any, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2)


GOAL_MS = 100.0
OFFICER_PAGES = [
    "/console/queues?q=urgent",
    "/console/queues?q=grooming",
    "/console/queues?q=user_reports",
    "/console/cases/case-0",
    "/console/cases/case-1",
    "/console/reports",
    "/console/appeals",
    "/console/dashboard",
    "/console/settings",
    "/console/practice",
    "/console/practice/grooming-meeting",
]
ADMIN_PAGES = ["/console/audit", "/console/users", "/console/practice-progress"]


def worker(url: str) -> None:
    """Serve one code's app on ``url`` and time pages asked on stdin, one JSON line each
    (``{"page", "repeat"}``), answering ``{"times": [ms, ...]}``; the first ask of a page
    warms it up untimed."""
    store = SqlStore(url)
    settings = Settings(database_url=url, secret_key="bench-" + "k" * 30)
    app = create_app(settings, store, build_pipeline(settings, store))
    clients = {email: log_in(TestClient(app), email) for email in (OFFICER, ADMIN)}
    warm: set[str] = set()
    for line in sys.stdin:
        ask = json.loads(line)
        client = clients[ADMIN if ask["page"] in ADMIN_PAGES else OFFICER]

        def get(path: str = ask["page"], client: TestClient = client) -> None:
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[-300:])

        if ask["page"] not in warm:
            get()
            warm.add(ask["page"])
        print(json.dumps({"times": _times_ms(get, ask["repeat"])}), flush=True)
    store.dispose()


OFFICER, ADMIN = "bench@vigie.test", "admin@vigie.test"


def checkout(rev: str) -> Path:
    """``src/`` of revision ``rev`` in a temporary folder (the code measured against)."""
    folder = Path(tempfile.mkdtemp(prefix="vigie-against-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


class Worker:
    """A worker process for one code (``src``) on its own copy of the database."""

    def __init__(self, src: Path, db: Path) -> None:
        env = {**os.environ, "VIGIE_BENCH_SRC": str(src)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", f"sqlite:///{db}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def times(self, page: str, repeat: int) -> list[float]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"page": page, "repeat": repeat}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker for {page} stopped (see its error above)")
        return list(json.loads(line)["times"])

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _measure(workers: dict[str, Worker], repeat: int, rounds: int) -> list[dict[str, Any]]:
    """Every page, each code asked ``repeat`` times in ``rounds`` turns (same load)."""
    out = []
    for page in OFFICER_PAGES + ADMIN_PAGES:
        times: dict[str, list[float]] = {code: [] for code in workers}
        for _ in range(rounds):
            for code, w in workers.items():
                times[code] += w.times(page, max(1, repeat // rounds))
        row: dict[str, Any] = {"page": page}
        for code, ts in times.items():
            row[code] = {"median_ms": round(statistics.median(ts), 2), "p95_ms": _p95(ts)}
        row["met"] = row["this"]["p95_ms"] <= GOAL_MS
        out.append(row)
        print(page, {c: row[c]["p95_ms"] for c in workers}, flush=True)
    return out


def _markdown(result: dict[str, Any]) -> str:
    codes = result["codes"]
    head = ["page", *(f"{c} median" for c in codes), *(f"{c} p95" for c in codes)]
    if len(codes) > 1:
        head.append(f"p95 this / {codes[1]}")
    head.append(f"p95 ≤ {GOAL_MS:.0f} ms")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["pages"]:
        cells = [f"`{r['page']}`"]
        cells += [f"{r[c]['median_ms']} ms" for c in codes]
        cells += [f"{r[c]['p95_ms']} ms" for c in codes]
        if len(codes) > 1:
            cells.append(f"{r['this']['p95_ms'] / max(r[codes[1]]['p95_ms'], 0.01):.3f}")
        cells.append("yes" if r["met"] else "NO")
        lines.append("| " + " | ".join(cells) + " |")
    return (
        "# Console\n\n"
        f"{result['cases']} open cases ({result['messages_per_case']} messages each), "
        f"{result['requests_per_page']} requests per page and code, {result['machine']}, "
        f"load average {result['load_average_1m'][0]} → {result['load_average_1m'][1]}.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=8, help="messages per conversation")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page and code")
    parser.add_argument("--against", help="git revision to measure side by side (e.g. HEAD~3)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    started, load_before = time.time(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        seeded = Path(tmp) / "seeded.db"
        url = f"sqlite:///{seeded}"
        upgrade(url)
        store = SqlStore(url)
        start = time.perf_counter()
        _seed(store, args.cases, args.messages)
        seed_s = time.perf_counter() - start
        store.dispose()
        codes = {"this": ROOT / "src"}
        if args.against:
            codes[args.against] = checkout(args.against)
        workers = {}
        for code, src in codes.items():
            copy = Path(tmp) / f"{len(workers)}.db"
            shutil.copy(seeded, copy)
            workers[code] = Worker(src, copy)
        try:
            pages = _measure(workers, args.repeat, rounds=4)
        finally:
            for w in workers.values():
                w.close()
            if args.against:  # the checkout's temporary folder
                shutil.rmtree(codes[args.against].parent, ignore_errors=True)
    result = {
        "cases": args.cases,
        "messages_per_case": args.messages,
        "seed_s": round(seed_s, 2),
        "codes": list(codes),
        "requests_per_page": args.repeat,
        "pages": pages,
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        "seconds": round(time.time() - started, 1),
        "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "console.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "console.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
