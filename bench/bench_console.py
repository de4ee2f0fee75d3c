"""Console benchmark: how fast every console page opens with a large backlog.

The goal (issue 19): each page answers in 100 ms or less at the 95th percentile with 10,000
cases in the database; the table says, per page, the median, the p95 and whether it is met.

On a temporary SQLite file with synthetic, non-explicit rows (N open cases, each with a short
conversation between an adult and a child and two signals), through the real app:

    .venv/bin/python bench/bench_console.py               # 2000 cases, a few seconds
    .venv/bin/python bench/bench_console.py --cases 10000

Writes bench/results/console.json and bench/results/console.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
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

RESULTS = Path(__file__).resolve().parent / "results"
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


def _median_ms(fn: Any, repeat: int) -> float:
    return round(statistics.median(_times_ms(fn, repeat)), 2)


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


def _pages(app: Any, repeat: int) -> list[dict[str, Any]]:
    """Median and p95 of every page, each asked ``repeat`` times (after one warm-up)."""
    out = []
    for email, pages in (("bench@vigie.test", OFFICER_PAGES), ("admin@vigie.test", ADMIN_PAGES)):
        client = log_in(TestClient(app), email)
        for path in pages:
            client.get(path)

            def get(path: str = path, client: TestClient = client) -> None:
                answer = client.get(path, follow_redirects=False)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[-300:])

            times = _times_ms(get, repeat)
            p95 = _p95(times)
            out.append(
                {
                    "page": path,
                    "median_ms": round(statistics.median(times), 2),
                    "p95_ms": p95,
                    "met": p95 <= GOAL_MS,
                }
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=8, help="messages per conversation")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        store = SqlStore(url)
        start = time.perf_counter()
        case_id = _seed(store, args.cases, args.messages)
        seed_s = time.perf_counter() - start
        settings = Settings(database_url=url, secret_key="bench-" + "k" * 30)
        app = create_app(settings, store, build_pipeline(settings, store))
        client = log_in(TestClient(app), "bench@vigie.test")

        def read_queue() -> None:
            with store.read() as unit:
                q.active_cases(unit.session)

        def queue_page() -> None:
            assert client.get("/console/queues?q=urgent").status_code == 200

        def case_page() -> None:
            assert client.get(f"/console/cases/{case_id}").status_code == 200

        result = {
            "cases": args.cases,
            "messages_per_case": args.messages,
            "seed_s": round(seed_s, 2),
            "active_cases_ms": _median_ms(read_queue, args.repeat),
            "queue_page_ms": _median_ms(queue_page, args.repeat),
            "case_page_ms": _median_ms(case_page, args.repeat),
            "pages": _pages(app, max(args.repeat, 20)),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        store.dispose()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "console.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        "| measure | value |",
        "|---|---|",
        f"| open cases | {result['cases']} ({result['messages_per_case']} messages each) |",
        f"| queue query (`active_cases`, median) | {result['active_cases_ms']} ms |",
        f"| GET /console/queues (median) | {result['queue_page_ms']} ms |",
        f"| GET /console/cases/ID (median, audited) | {result['case_page_ms']} ms |",
        "",
        f"| page | median | p95 | p95 ≤ {GOAL_MS:.0f} ms |",
        "|---|---|---|---|",
        *(
            f"| `{r['page']}` | {r['median_ms']} ms | {r['p95_ms']} ms | "
            f"{'yes' if r['met'] else 'NO'} |"
            for r in result["pages"]
        ),
    ]
    (RESULTS / "console.md").write_text("# Console\n\n" + "\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
