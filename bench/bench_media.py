"""Known-imagery benchmark: the PDQ index beside three references, and image hashing speed.

Compares, on the same hashes and queries, in one run:
  - Vigie's ``PDQIndex`` (multi-index hashing over 16-bit slices, Numba inner loop),
  - python-threatexchange's ``PDQIndex`` (faiss ``IndexBinaryMultiHash``, what HMA uses),
  - faiss ``IndexBinaryFlat`` (exhaustive scan: the memory-bandwidth floor),
  - a NumPy scan (XOR + popcount over every hash).
on random hashes and on clustered ones (near-variants of a few thousand base hashes).
Exactness is checked against faiss's exhaustive search. Then hashes 1-megapixel JPEGs.

    .venv/bin/python bench/bench_media.py --size 1000000          # quick check
    .venv/bin/python bench/bench_media.py                         # 10 million (several minutes)

Writes bench/results/media.json and bench/results/media.md.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from vigie.detect.media.hashing import hash_media
from vigie.detect.media.pdq_index import PDQIndex

RESULTS = Path(__file__).resolve().parent / "results"
THRESHOLD = 31


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- data


def random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64 - 1, size=(n, 4), dtype=np.uint64, endpoint=True)


def sparse_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random masks with ~8 or ~16 bits set of 256 (AND of 5 or 4 random words)."""
    noise = random_hashes(rng, n) & random_hashes(rng, n) & random_hashes(rng, n)
    noise &= random_hashes(rng, n)
    half = rng.random(n) < 0.5
    noise[half] &= random_hashes(rng, int(half.sum()))
    return noise


def clustered_hashes(rng: np.random.Generator, n: int, bases: int) -> np.ndarray:
    """Near-variants of ``bases`` base hashes (each ~8-16 bits from its base)."""
    base = random_hashes(rng, bases)
    out = base[rng.integers(0, bases, n)]
    out ^= sparse_noise(rng, n)
    return out


def make_queries(rng: np.random.Generator, stored: np.ndarray, n: int) -> np.ndarray:
    """Half near a stored hash (a hit, usually within 31), half unrelated (a miss)."""
    hits = stored[rng.integers(0, len(stored), n // 2)] ^ sparse_noise(rng, n // 2)
    return np.concatenate([hits, random_hashes(rng, n - n // 2)])


# ---------------------------------------------------------------- timing


def latencies(run_one: Callable[[np.ndarray], Any], queries: np.ndarray) -> dict[str, float]:
    """Wall-clock and on-CPU (this thread) time per query, one query at a time.

    On a shared machine the wall clock includes waiting for a core; the thread's CPU time is
    what one query costs one core.
    """
    run_one(queries[0])
    wall, cpu = [], []
    for query in queries:
        start, start_cpu = time.perf_counter(), time.thread_time()
        run_one(query)
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    wall_ms, cpu_ms = np.array(wall) * 1000, np.array(cpu) * 1000
    return {
        "p50_ms": float(np.percentile(wall_ms, 50)),
        "p99_ms": float(np.percentile(wall_ms, 99)),
        "cpu_p50_ms": float(np.percentile(cpu_ms, 50)),
        "cpu_p99_ms": float(np.percentile(cpu_ms, 99)),
        "queries": len(queries),
    }


def throughput(
    run_batch: Callable[[np.ndarray], Any], queries: np.ndarray, batch: int, cores: int
) -> dict[str, Any]:
    """Lookups/s in batches: as measured (wall), and as CPU time allows on ``cores`` cores."""
    run_batch(queries[:batch])
    out = []
    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(queries), batch):
        out.append(run_batch(queries[i : i + batch]))
    wall = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    return {
        "batched_per_s": len(queries) / wall,
        "batched_per_s_cpu": cores * len(queries) / max(cpu, 1e-9),
        "out": out,
    }


# ---------------------------------------------------------------- the four contenders


def bench_vigie(stored: np.ndarray, queries: np.ndarray, threads: int) -> tuple[dict, Any]:
    import numba

    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    index = PDQIndex()
    index.add(stored, np.arange(len(stored)), np.zeros(len(stored)))
    build = time.perf_counter() - start
    row = {
        "build_s": build,
        "bytes_per_hash": index.memory_bytes() / len(stored),
        "rss_bytes_per_hash": (rss_bytes() - before) / len(stored),
    }
    numba.set_num_threads(1)
    row.update(latencies(lambda q: index.search_arrays(q, THRESHOLD), queries))
    numba.set_num_threads(threads)
    batched = throughput(lambda b: index.search_arrays(b, THRESHOLD), queries, 256, threads)
    found = set()
    for i, (q_of, keys, _, _) in enumerate(batched.pop("out")):
        found |= {(int(q) + 256 * i, int(k)) for q, k in zip(q_of, keys, strict=True)}
    row.update(batched)
    return row, found


def bench_faiss_flat(
    stored: np.ndarray, queries: np.ndarray, threads: int, n_single: int
) -> tuple[dict, Any]:
    import faiss

    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    index = faiss.IndexBinaryFlat(256)
    index.add(stored.view(np.uint8).reshape(-1, 32))
    row = {
        "build_s": time.perf_counter() - start,
        "bytes_per_hash": index.ntotal * index.code_size / len(stored),
        "rss_bytes_per_hash": (rss_bytes() - before) / len(stored),
    }
    as_bytes = queries.view(np.uint8).reshape(-1, 32)
    faiss.omp_set_num_threads(1)
    row.update(
        latencies(
            lambda q: index.range_search(q.view(np.uint8).reshape(1, 32), THRESHOLD + 1),
            queries[:n_single],
        )
    )
    faiss.omp_set_num_threads(threads)
    batched = throughput(lambda b: index.range_search(b, THRESHOLD + 1), as_bytes, 256, threads)
    truth = set()  # exhaustive: every stored hash at distance < 32
    for i, (lims, _, ids) in enumerate(batched.pop("out")):
        for q in range(len(lims) - 1):
            truth |= {(256 * i + q, int(x)) for x in ids[lims[q] : lims[q + 1]]}
    row.update(batched)
    return row, truth


def bench_threatexchange(
    stored: np.ndarray, queries: np.ndarray, threads: int, n_single: int
) -> dict:
    import faiss
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex as TEIndex

    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    index = TEIndex((row.tobytes().hex(), i) for i, row in enumerate(stored))
    row = {
        "build_s": time.perf_counter() - start,
        "rss_bytes_per_hash": (rss_bytes() - before) / len(stored),
    }
    row["bytes_per_hash"] = row["rss_bytes_per_hash"]
    hexes = [q.tobytes().hex() for q in queries]
    faiss.omp_set_num_threads(1)
    single = hexes[:n_single]
    row.update(latencies(lambda h: index.query(h), np.array(single, dtype=object)))
    faiss.omp_set_num_threads(threads)
    inner = index.index
    batched = throughput(
        lambda b: inner.search_with_distance_in_result(list(b), THRESHOLD),
        np.array(hexes, dtype=object),
        256,
        threads,
    )
    batched.pop("out")
    row.update(batched)
    return row


def bench_numpy_scan(stored: np.ndarray, queries: np.ndarray, n_single: int) -> dict:
    def scan(query: np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.bitwise_count(stored ^ query).sum(axis=1) <= THRESHOLD)

    row = {"build_s": 0.0, "bytes_per_hash": 32.0, "rss_bytes_per_hash": 32.0}
    row.update(latencies(scan, queries[:n_single]))
    row["batched_per_s"] = 1000.0 / row["p50_ms"]  # one core; a scan gains little from batching
    row["batched_per_s_cpu"] = 2000.0 / row["cpu_p50_ms"]
    return row


# ---------------------------------------------------------------- hashing speed


def _jpeg(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((1155, 866), Image.Resampling.BICUBIC)
    noise = rng.integers(-12, 12, size=(866, 1155, 3))
    pixels = np.clip(np.asarray(image).astype(np.int16) + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=88)
    return out.getvalue()


def _hash_all(images: list[bytes]) -> int:
    for data in images:
        hash_media(data, "x.jpg")
    return len(images)


def bench_hashing(count: int, workers: int) -> dict:
    images = [_jpeg(seed) for seed in range(count)]
    _hash_all(images[:2])
    start, start_cpu = time.perf_counter(), time.process_time()
    _hash_all(images)
    one_core = count / (time.perf_counter() - start)
    one_core_cpu = count / (time.process_time() - start_cpu)
    chunks = [images[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_hash_all, [images[:1]] * workers))
        start = time.perf_counter()
        done = sum(pool.map(_hash_all, chunks))
        pooled = done / (time.perf_counter() - start)
    return {
        "images": count,
        "megapixels": 1155 * 866 / 1e6,
        "mean_jpeg_bytes": int(np.mean([len(i) for i in images])),
        "images_per_s_1_core": one_core,
        "images_per_s_1_core_cpu": one_core_cpu,
        f"images_per_s_{workers}_processes": pooled,
    }


# ---------------------------------------------------------------- report


def run_dataset(
    name: str, stored: np.ndarray, args: argparse.Namespace, rng: np.random.Generator
) -> dict:
    queries = make_queries(rng, stored, args.queries)
    rows: dict[str, Any] = {}
    print(f"[{name}] vigie MIH ...", flush=True)
    rows["vigie_mih"], found = bench_vigie(stored, queries, args.threads)
    if args.only_vigie:
        rows["vigie_mih"].update(size=len(stored), exact=None)
        return rows
    print(f"[{name}] faiss IndexBinaryFlat ...", flush=True)
    rows["faiss_flat"], truth = bench_faiss_flat(stored, queries, args.threads, args.flat_queries)
    rows["vigie_mih"]["exact"] = found == truth
    rows["vigie_mih"]["matches_checked"] = len(truth)
    gc.collect()
    print(f"[{name}] numpy scan ...", flush=True)
    rows["numpy_scan"] = bench_numpy_scan(stored, queries, args.numpy_queries)
    if not args.skip_threatexchange:
        ref = stored[: args.ref_size] if args.ref_size < len(stored) else stored
        print(f"[{name}] threatexchange PDQIndex at {len(ref):,} ...", flush=True)
        ref_queries = make_queries(rng, ref, args.te_queries)
        rows["threatexchange_pdqindex"] = bench_threatexchange(
            ref, ref_queries, args.threads, args.te_queries
        )
        rows["threatexchange_pdqindex"]["size"] = len(ref)
    for row in rows.values():
        row.setdefault("size", len(stored))
    return rows


def _loads(values: list[float]) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def markdown(report: dict) -> str:
    lines = [
        f"# Known imagery benchmark ({report['machine']})",
        "",
        f"PDQ index, threshold {THRESHOLD}; p50/p99 on one core (one query at a time), "
        f"batched lookups/s on {report['threads']} threads (batches of 256). "
        "Queries: half near a stored hash, half unrelated.",
        "",
        "| data | index | hashes | build s | bytes/hash | p50 ms | p99 ms | CPU p50 ms "
        "| CPU p99 ms | batched lookups/s | batched, CPU-bound | exact |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for dataset, rows in report["index"].items():
        for name, r in rows.items():
            exact = {True: "yes", False: "NO"}.get(
                r.get("exact"), "reference" if name == "faiss_flat" else ""
            )
            lines.append(
                f"| {dataset} | {name} | {r['size']:,} | {r['build_s']:.1f} | "
                f"{r['bytes_per_hash']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
                f"{r['cpu_p50_ms']:.3f} | {r['cpu_p99_ms']:.3f} | "
                f"{r['batched_per_s']:,.0f} | {r['batched_per_s_cpu']:,.0f} | {exact} |"
            )
    h = report["hashing"]
    pooled = h[f"images_per_s_{report['threads']}_processes"]
    lines += [
        "",
        "p50/p99: wall clock per query; CPU p50/p99: the querying thread's CPU time (what a "
        "query costs one core, without the waits of a shared machine). Batched: wall-clock "
        f"lookups/s on {report['threads']} threads, and lookups per CPU-second x "
        f"{report['threads']} cores. Single-query counts per index are in `media.json` (fewer "
        "for the slow references). threatexchange's bytes/hash is resident-memory growth.",
        "",
        f"Hashing {h['images']} generated {h['megapixels']:.1f}-megapixel JPEGs "
        f"(~{h['mean_jpeg_bytes'] // 1024} KiB each; decode + PDQ + MD5 + SHA-256): "
        f"{h['images_per_s_1_core']:.1f} images/s on one core "
        f"({h['images_per_s_1_core_cpu']:.1f} per CPU-second), "
        f"{pooled:.1f} images/s with "
        f"{report['threads']} processes.",
        "",
        f"Command: `{report['command']}`. Load average (1, 5, 15 min) at start "
        f"{_loads(report['load_average_at_start'])}, at end {_loads(report['load_average_at_end'])}"
        " on a machine shared with other work: latencies are upper bounds.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--bases", type=int, default=5000, help="clustered: base hashes")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--flat-queries", type=int, default=200)
    parser.add_argument("--numpy-queries", type=int, default=20)
    parser.add_argument("--te-queries", type=int, default=300)
    parser.add_argument(
        "--ref-size",
        type=int,
        default=None,
        help="hashes for threatexchange's index (default: --size)",
    )
    parser.add_argument("--skip-threatexchange", action="store_true")
    parser.add_argument("--only-vigie", action="store_true", help="no references (quick check)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.ref_size = args.ref_size or args.size
    rng = np.random.default_rng(2026)
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "threads": args.threads,
        "threshold": THRESHOLD,
        "command": "python " + " ".join(sys.argv),
        "index": {},
        "load_average_at_start": os.getloadavg(),
    }
    datasets = {
        "random": lambda: random_hashes(rng, args.size),
        "clustered": lambda: clustered_hashes(rng, args.size, args.bases),
    }
    for name, make in datasets.items():
        stored = make()
        report["index"][name] = run_dataset(name, stored, args, rng)
        del stored
        gc.collect()
    print("hashing ...", flush=True)
    report["hashing"] = bench_hashing(args.images, args.threads)
    report["load_average_at_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "media.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "media.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
