"""The traffic both text benchmarks call realistic: conversations drawn from the development
sets with weights that make most of them chats between peers (75 %), then adults with
children they know (family, teachers, coaches: 12 %), adults among themselves (8 %) and
risky conversations (5 %)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SETS = (ROOT / "data/devset/dev.jsonl", ROOT / "data/devset/heldout.jsonl")

MIX = {"peer": 0.75, "family": 0.05, "teacher": 0.04, "coach": 0.03, "adults": 0.08,
       "grooming": 0.035, "sextortion": 0.015}  # fmt: skip


def by_kind() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in SETS:
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            found.setdefault(obj["kind"], []).append(obj)
    return found


def draw(rng: random.Random, kinds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """One conversation (a copy of the raw JSON object): a kind by the ``MIX`` weights, then
    one conversation of that kind."""
    names, weights = zip(*MIX.items(), strict=True)
    return dict(rng.choice(kinds[rng.choices(names, weights)[0]]))


def mixed_conversations(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """``n`` conversations drawn with the ``MIX`` weights."""
    kinds = by_kind()
    rng = random.Random(seed)
    return [draw(rng, kinds) for _ in range(n)]
