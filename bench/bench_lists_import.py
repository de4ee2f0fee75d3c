"""Hash-list import benchmark: ``vigie lists import`` of a one-million-hash list, timed.

Generates a CSV (contract format) of ``--size`` random PDQ hashes with one malformed line in
the middle, imports it with the real command into a fresh SQLite file and a fresh PostgreSQL
database, and checks that every good hash went in and that the bad line is named by number.
Wall time of the whole command (start-up, parsing, writing, change log) is what is reported:
the budget is 30 s for a million hashes on each database.

``--against REV`` times revision ``REV``'s code too, in the same run (the two alternate), so
the figures compare on a shared machine.

    .venv/bin/python bench/bench_lists_import.py                  # 1,000,000 hashes
    .venv/bin/python bench/bench_lists_import.py --against HEAD~1 --size 200000

Writes bench/results/lists_import.json and lists_import.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
VIGIE = str(Path(sys.executable).with_name("vigie"))
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
BUDGET_S = 30.0


def write_list(path: Path, size: int) -> int:
    """A CSV of ``size`` random PDQ hashes and one malformed line halfway; its line number."""
    rng = random.Random(22)
    bad_line = size // 2 + 2  # the header is line 1
    with path.open("w") as out:
        out.write("hash_type,hash_value,list,label\n")
        for line in range(2, size + 3):
            if line == bad_line:
                out.write("pdq,not-a-hash,bench,known_imagery\n")
            else:
                out.write(f"pdq,{rng.getrandbits(256):064x},bench,known_imagery\n")
    return bad_line


def checkout(rev: str) -> Path:
    """``src/`` of revision ``rev`` in a temporary folder (the code timed against)."""
    folder = Path(tempfile.mkdtemp(prefix="vigie-against-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def _admin(sql: str) -> None:
    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _run(args: list[str], url: str, src: Path | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIE_DATABASE_URL": url, "VIGIE_LOG_LEVEL": "warning"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return subprocess.run([VIGIE, *args], env=env, capture_output=True, text=True, check=False)


def time_import(csv_path: Path, url: str, src: Path | None) -> dict[str, Any]:
    """``vigie db upgrade`` (not timed), then ``vigie lists import`` (timed)."""
    upgrade = _run(["db", "upgrade"], url, src)
    if upgrade.returncode != 0:
        raise RuntimeError(upgrade.stderr[-2000:])
    cpu_before, started = _children_cpu(), time.perf_counter()
    done = _run(["lists", "import", str(csv_path)], url, src)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "output": done.stdout.strip().splitlines(),
    }


def _children_cpu() -> float:
    """User + system CPU of the finished commands: on a shared machine their wall time
    stretches with other people's load, their CPU time much less."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def on_sqlite(csv_path: Path, src: Path | None) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="vigie-lists-"))
    return time_import(csv_path, f"sqlite:///{folder / 'lists.db'}", src)


def on_postgres(csv_path: Path, src: Path | None) -> dict[str, Any]:
    db = f"vigie_lists_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{db}"')
    try:
        return time_import(csv_path, PG + db, src)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def check(result: dict[str, Any], size: int, bad_line: int) -> bool:
    """Every good hash added, and the malformed line named by its number."""
    out = result["output"]
    return f"added {size}" in out and any(f"rejected line {bad_line}:" in x for x in out)


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Hash-list import: `vigie lists import` of a one-million-hash list",
        "",
        f"{result['machine']}; {result['size']:,} PDQ hashes in the contract's CSV, one malformed "
        f"line (named in the output: checked). Wall time of the whole command (budget "
        f"{BUDGET_S:.0f} s) and its own CPU time (the command's; PostgreSQL's is not in it). "
        f"Load average (1 min) before/after: {result['load_average_1m']}.",
        "",
        "| code | database | seconds | CPU seconds | within budget | output checked |",
        "|---|---|---:|---:|---|---|",
    ]
    for r in result["runs"]:
        ok = "yes" if r["seconds"] <= BUDGET_S else "no"
        lines.append(
            f"| {r['code']} | {r['database']} | {r['seconds']} | {r['cpu_seconds']} | {ok} "
            f"| {'yes' if r['checked'] else 'NO'} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--against", help="git revision to time side by side")
    args = parser.parse_args()
    codes: list[tuple[str, Path | None]] = [("this", ROOT / "src")]  # not the venv's install
    if args.against:
        codes.append((args.against, checkout(args.against)))
    csv_path = Path(tempfile.mkdtemp(prefix="vigie-lists-")) / "bench.csv"
    bad_line = write_list(csv_path, args.size)
    load_before = os.getloadavg()[0]
    runs = []
    for database, run in (("SQLite", on_sqlite), ("PostgreSQL", on_postgres)):
        for code, src in codes:
            result = run(csv_path, src)
            checked = check(result, args.size, bad_line)
            runs.append({"code": code, "database": database, "checked": checked, **result})
            print(f"{code} {database}: {result['seconds']} s, {result['cpu_seconds']} s CPU, "
                  f"checked {checked}", flush=True)  # fmt: skip
    result = {
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        "size": args.size,
        "runs": [{k: v for k, v in r.items() if k != "output"} for r in runs],
        "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lists_import.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "lists_import.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
