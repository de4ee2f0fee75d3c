# ruff: noqa: E402  (the source path is set before vigie is imported)
"""Text normaliser speed: CPU ms per MiB by kind of content, next to the old implementation.

    .venv/bin/python bench/bench_normalize.py [--baseline COMMIT] [--repeat 5]

The goal (issues 17 and 21): any 1 MiB text normalises in 50 ms or less, and never near
0.5 s, because one user's message must not stall a decider shared by every platform. Each
kind of content is normalised at 1 MiB by the current code; the old implementation (read
from git at ``--baseline``, the last commit before the rewrite) runs the same texts at
10 KiB in the same process, since its symbol clean-up and digit words are quadratic (a 40 KB
message of ``©`` took seconds), and at 1 MiB only where 10 KiB took under 30 ms. Times are
CPU time of this process, best of ``--repeat`` (the machine is shared).

Writes bench/results/normalize.md.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from vigie.detect.text.normalize import _normalize as normalize_new

BASELINE = "d0d8bad"  # main before the linear rewrite
MIB = 1 << 20
SMALL = 10 << 10
CHAT = (
    "hey how are you doing today ajoute moi sur snap send me a photo j'ai 13 ans t'as quel âge "
    "tes parents sont là ce soir don't tell your parents agrégame en whatsapp"
)


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _random(size: int, low: int, high: int) -> str:
    rng = random.Random(size + high)
    return "".join(chr(rng.randrange(low, high)) for _ in range(size))


def _chat(size: int) -> str:
    words = CHAT.split(" ")
    rng = random.Random(size)
    return " ".join(rng.choice(words) for _ in range(size // 4))[:size]


CASES: dict[str, Callable[[int], str]] = {
    "chat (FR/EN words)": _chat,
    "© only": lambda n: "©" * n,
    "emoji only": lambda n: "😀" * n,
    "emoji between letters": lambda n: _repeat("sn🔥ap ", n),
    "letter, symbol, letter...": lambda n: _repeat("a©", n),
    "spaced letters": lambda n: _repeat("s n a p ", n),
    "spaced, short runs": lambda n: _repeat("a b c dd ", n),
    "letters split by , + U+3000": lambda n: _repeat("s,n,a,p t+e+l+e\u3000g ", n),
    "confusables (Cyrillic, Armenian)": lambda n: _repeat("Ѕnаpchаt օո ", n),
    "small caps, regional indicators": lambda n: _repeat("ᴛᴇʟᴇɢʀᴀᴍ 🇸🇳🇦🇵 ", n),
    "VS16, Hangul filler, FVS": lambda n: _repeat("s\ufe0fn\u3164a\u180bp ", n),
    "digits only": lambda n: "1" * n,
    "leet words": lambda n: _repeat("t3l3gr4m ", n),
    "leet, densest": lambda n: _repeat("a1 ", n),
    "chat spellings (c tt ya)": lambda n: _repeat("c tt ya ", n),
    "number words": lambda n: _repeat("dix-sept treize ", n),
    "ß (one char, two out)": lambda n: "ß" * n,
    "random code points": lambda n: _random(n, 0, 0x110000),
    "random BMP": lambda n: _random(n, 0x20, 0x10000),
}


def _old_normalize(commit: str) -> Callable[[str], object]:
    """The old ``normalize`` from git, undecorated (its cache would hide repeats)."""
    path = "src/vigie/detect/text/normalize.py"
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("old_normalize")
    sys.modules[module.__name__] = module
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
    func: Callable[[str], object] = module.normalize.__wrapped__
    return func


def _cpu_ms(func: Callable[[str], object], text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        func(text)
        best = min(best, time.process_time() - start)
    return best * 1000


def _row(
    name: str, make: Callable[[int], str], old: Callable[[str], object], repeat: int
) -> dict[str, float | None]:
    small, big = make(SMALL), make(MIB)
    new_small, new_big = _cpu_ms(normalize_new, small, repeat), _cpu_ms(normalize_new, big, repeat)
    old_small = _cpu_ms(old, small, 1)
    old_big = _cpu_ms(old, big, 1) if old_small < 30 else None
    print(f"{name:34} new {new_big:8.1f} ms/MiB   old 10 KiB {old_small:8.1f} ms", flush=True)
    return {"new_small": new_small, "new_big": new_big, "old_small": old_small, "old_big": old_big}


def _table(rows: dict[str, dict[str, float | None]], baseline: str) -> str:
    lines = [
        "## Text normaliser (CPU ms, best of several, same process)",
        "",
        f"Old: `normalize.py` at `{baseline}`. New: this commit. "
        "Goal: ≤ 50 ms per MiB, never near 500.",
        "",
        "| content | new, 1 MiB | old, 1 MiB | new, 10 KiB | old, 10 KiB | old ÷ new at 10 KiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        old_big = f"{r['old_big']:.0f}" if r["old_big"] is not None else "not run (quadratic)"
        ratio = (r["old_small"] or 0) / max(r["new_small"] or 0, 1e-3)
        lines.append(
            f"| {name} | {r['new_big']:.1f} | {old_big} | {r['new_small']:.2f} | "
            f"{r['old_small']:.1f} | {ratio:.0f}× |"
        )
    worst = max(float(r["new_big"] or 0) for r in rows.values())
    lines += ["", f"Worst new figure: {worst:.1f} ms per MiB.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    old = _old_normalize(args.baseline)
    rows = {name: _row(name, make, old, args.repeat) for name, make in CASES.items()}
    out = ROOT / "bench" / "results" / "normalize.md"
    out.write_text(_table(rows, args.baseline), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
