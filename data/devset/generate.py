# ruff: noqa: E501, SIM113
"""Generate the development and held-out conversation sets (shared JSON Lines format).

    python data/devset/generate.py            # writes dev.jsonl and heldout.jsonl here

Every phrase pool is split in three: two thirds of the lines feed ``dev.jsonl``, the last
third only ``heldout.jsonl``. Held-out was looked at twice while the old pattern detector was
tuned, so it no longer measures unseen paraphrases. Conversations are long more often than not, open with ordinary chat before the
first warning sign, and include hard negatives (family, teachers, coaches, peers of the same
age, adults among themselves) that use the same words for ordinary reasons.

``test.jsonl`` uses phrase pools (``phrases.TEST``) written after the old detector was tuned;
it was then inspected and patterns were changed from its misses, and some of its pools
fall back to dev lines (PRESSURE, SX_OPEN): it is **not** a clean test set. Only its first
look (recall 0.913, 14.2 % of hard negatives flagged) was honest (docs/evaluation-log.md).
These sets are history: the learned model trains and is measured on ``data/corpus``.

Labelling rule for ``first_risk_index``: the first message of the adult that is a sign of the
isolation/secrecy stage or later (supervision, secrecy, isolation, moving off-platform, image,
camera or meeting request, threat, payment), or the third trust-stage sign (flattery, age,
gifts, personal information), whichever comes first.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import phrases as ph

HERE = Path(__file__).parent
TRUST = ["FLATTERY", "AGE", "GIFT", "PERSONAL"]
STAGE2 = ["SUPERVISION", "SECRECY", "ISOLATION", "MIGRATION"]
LATER = ["IMAGE", "CAMERA", "MEETING"]
ZW = "\u200b"


class Pools:
    """Phrase pools restricted to one split."""

    def __init__(self, split: str) -> None:
        self.split = split

    def pick(self, rng: random.Random, name: str, lang: str) -> str:
        if self.split == "test" and name in ph.TEST:
            return rng.choice(ph.TEST[name][lang])
        lines = getattr(ph, name)[lang]
        if name in {"GAME_OPEN", "CHILD_REPLY", "CHILD_HESITANT"}:
            return rng.choice(lines)
        mine = [t for i, t in enumerate(lines) if (i % 3 == 2) == (self.split == "heldout")]
        return rng.choice(mine or lines)


def evade(rng: random.Random, text: str) -> str:
    """Sometimes write like someone who knows filters exist."""
    r = rng.random()
    if r < 0.25:
        for app, alt in (("snapchat", "sn@pch@t"), ("snap", rng.choice(["s n a p", "sn@p", "snp", "S.N.A.P"])),
                         ("telegram", "t3l3gram"), ("whatsapp", "wh4tsapp"), ("insta", "1nsta"),
                         ("photo", "ph0to"), ("pic", "p1c"), ("secret", "s3cret")):  # fmt: skip
            if app in text:
                return text.replace(app, alt, 1)
    if r < 0.35:
        words = text.split()
        i = rng.randrange(len(words))
        if len(words[i]) > 3:
            words[i] = words[i][:2] + rng.choice([ZW, "🙂", "✨"]) + words[i][2:]
        return " ".join(words)
    if r < 0.45:
        return text.upper()
    if r < 0.55:
        return text.replace("é", "e").replace("è", "e").replace("à", "a").replace("'", "")
    return text


class Builder:
    def __init__(self, rng: random.Random, pools: Pools, lang: str) -> None:
        self.rng, self.pools, self.lang = rng, pools, lang
        self.messages: list[dict[str, str]] = []
        self.t = datetime(2026, 11, rng.randint(1, 20), rng.randint(8, 21), rng.randint(0, 59),
                          tzinfo=UTC)  # fmt: skip

    def say(self, who: str, text: str) -> int:
        self.t += timedelta(seconds=self.rng.randint(5, 600))
        at = self.t.isoformat().replace("+00:00", "Z")
        self.messages.append({"from": who, "text": text, "at": at})
        return len(self.messages) - 1

    def line(self, who: str, pool: str, evasive: bool = False) -> int:
        text = self.pools.pick(self.rng, pool, self.lang)
        return self.say(who, evade(self.rng, text) if evasive else text)

    def chatter(self, a: str, b: str, n: int) -> None:
        for _ in range(n):
            self.line(a, "GAME_OPEN")
            if self.rng.random() < 0.8:
                self.line(b, "CHILD_REPLY")


def _grooming(rng: random.Random, b: Builder) -> int:
    b.chatter("a", "b", rng.choice([rng.randint(1, 4), rng.randint(5, 14), rng.randint(15, 30)]))
    trust = rng.sample(TRUST, rng.randint(0, 3))
    stage2 = rng.sample(STAGE2, rng.randint(1, 3))
    later = rng.sample(LATER, rng.randint(0, 2))
    first: int | None = None
    trust_seen = 0
    for move in trust:
        i = b.line("a", move)
        trust_seen += 1
        if trust_seen == 3 and first is None:
            first = i
        b.line("b", "CHILD_REPLY")
        b.chatter("a", "b", rng.randint(0, 3))
    for move in stage2 + later:
        i = b.line("a", move, evasive=True)
        first = i if first is None else first
        b.line("b", rng.choice(["CHILD_REPLY", "CHILD_HESITANT"]))
        if rng.random() < 0.3:
            b.line("a", "PRESSURE")
        b.chatter("a", "b", rng.randint(0, 2))
    assert first is not None
    return first


def _sextortion(rng: random.Random, b: Builder) -> int:
    b.line("a", "SX_OPEN")
    b.line("b", "CHILD_REPLY")
    b.chatter("a", "b", rng.randint(0, 6))
    first = b.line("a", "SX_EXCHANGE", evasive=True)
    b.line("b", rng.choice(["CHILD_REPLY", "CHILD_HESITANT"]))
    b.say("b", "[photo]" if rng.random() < 0.5 else "ok")
    b.line("a", "THREAT", evasive=True)
    b.line("b", "CHILD_PANIC")
    b.line("a", "PAYMENT")
    b.line("b", "CHILD_PANIC")
    b.line("a", rng.choice(["THREAT", "PRESSURE"]))
    return first


def _benign(rng: random.Random, b: Builder, pool: str, a: str, c: str) -> None:
    for _ in range(rng.randint(3, 14)):
        if rng.random() < 0.45:
            b.line(a, pool)
        else:
            b.line(a, "GAME_OPEN" if pool in {"PEER", "ADULTS"} else "CHILD_REPLY")
        symmetric = pool in {"PEER", "ADULTS"}
        b.line(c, pool if symmetric and rng.random() < 0.3 else "CHILD_REPLY")


def conversation(rng: random.Random, pools: Pools, n: int, kind: str) -> dict[str, object]:
    lang = rng.choice(["fr", "en"])
    b = Builder(rng, pools, lang)
    child = rng.randint(10, 15)
    known = rng.random() > 0.15
    parts: dict[str, dict[str, object]] = {}
    label, first = "benign", None
    if kind in {"grooming", "sextortion"}:
        adult_age = (
            rng.randint(19, 58) if kind == "grooming" else rng.choice([None, rng.randint(19, 30)])
        )
        parts["a"] = {"age": adult_age if known else None, "age_source": "declared"}
        parts["b"] = {"age": child, "age_source": "estimated"}
        if rng.random() < 0.5:
            parts["a"]["account_created"] = "2026-11-0" + str(rng.randint(1, 9))
        first = _grooming(rng, b) if kind == "grooming" else _sextortion(rng, b)
        label = kind
    elif kind == "peer":
        parts["a"] = {"age": child, "age_source": "estimated"}
        parts["b"] = {"age": child + rng.choice([-1, 0, 0, 1]), "age_source": "estimated"}
        _benign(rng, b, "PEER", "a", "b")
    elif kind == "adults":
        parts["a"] = {"age": rng.randint(20, 60), "age_source": "declared"}
        parts["b"] = {"age": rng.randint(20, 60), "age_source": "declared"}
        _benign(rng, b, "ADULTS", "a", "b")
    else:  # family, teacher, coach: an adult and a child who know each other
        parts["a"] = {"age": rng.randint(25, 60), "age_source": "declared"}
        parts["b"] = {"age": child, "age_source": "estimated"}
        _benign(rng, b, kind.upper(), "a", "b")
    return {"id": f"{pools.split}-{n:04d}", "lang": lang, "platform": "devset",
            "participants": parts, "messages": b.messages, "label": label,
            "first_risk_index": first, "kind": kind}  # fmt: skip


MIX = [("grooming", 0.34), ("sextortion", 0.12), ("family", 0.12), ("teacher", 0.1),
       ("coach", 0.1), ("peer", 0.14), ("adults", 0.08)]  # fmt: skip


def generate(split: str, count: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    pools = Pools(split)
    kinds = [k for k, w in MIX for _ in range(round(w * count))]
    rng.shuffle(kinds)
    return [conversation(rng, pools, i, k) for i, k in enumerate(kinds)]


def main() -> None:
    for split, count, seed in (("dev", 400, 7), ("heldout", 250, 12345), ("test", 300, 2026)):
        rows = generate(split, count, seed)
        with (HERE / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{split}: {len(rows)} conversations")


if __name__ == "__main__":
    main()
