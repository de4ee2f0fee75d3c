"""``make train``: rebuild the shipped text model from the corpus, deterministically.

1. Every message of the training writers (and of real chat, as benign) is read the way the
   detector reads it: normalised n-grams, pattern strengths, and the sentence embedding
   where the gate lets it through.
2. The gate and the message heads (one logistic regression per warning sign, plus "any")
   learn from the signs the writers marked.
3. The conversation head learns from every message of every training conversation, with
   the message heads' *out-of-fold* readings (folds by writer), walked through the same
   scoring loop as ``vigie scan``: label 1 from the first message after which a moderator
   would want the conversation in review, for its subject only.
4. Calibration (Platt) and the operating points are fitted on the development writers
   only: ``flag_p`` the lowest review probability at which at most ``--fpr`` of their benign
   conversations (and ``--chitchat-fpr`` of real chat) are flagged.

The test writers are never read here (``vigie.training.evaluate`` scores them once per
model version and logs it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from vigie.conversations import parse_conversation
from vigie.detect.base import DetectorOutput, MessageContext
from vigie.detect.scoring import score_conversation
from vigie.detect.text import features as ft
from vigie.detect.text.indicators import IndicatorMatcher
from vigie.detect.text.learned import EMBEDDING_SIZE, MessageReading, conversation_features
from vigie.detect.text.model import MODEL_FILE, save_model, sigmoid
from vigie.detect.text.normalize import normalize
from vigie.training.corpus import ROOT, Conversation, as_peers, chitchat, split, without_ages

OUT = ROOT / "src" / "vigie" / "detect" / "text" / MODEL_FILE
CACHE = ROOT / "var" / "train-cache"
HEADS = [*ft.SIGNS, "any"]
GATE_RECALL = 0.85  # dev: 13 % of messages embedded, recall no lower than at 0.95 (31 %)
EPOCHS = 12
HEAD_C = 0.1
HEADS_VERSION = 3  # bump when the heads' features or fitting change (invalidates the cache)
LABELS = ("grooming", "sextortion", "exploitation")
# Share of gated training messages shown to the heads without their embedding, so the
# model also reads messages the encoder did not embed (``semantic = false``, a lost encoder).
EMBEDDING_DROPOUT = 0.3
POSITIVE_WEIGHT = 5  # conversation-head positives repeated (calibration undoes the tilt)


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC).strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass(slots=True)
class Table:
    """Every message of a set of conversations, flattened, with its features and labels."""

    convs: list[Conversation]
    texts: list[str] = field(default_factory=list)
    where: list[tuple[str, int]] = field(default_factory=list)  # (conversation id, index)
    groups: list[str] = field(default_factory=list)
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0, len(HEADS))))
    ngrams: Any = None
    pats: np.ndarray = field(default_factory=lambda: np.zeros((0, len(ft.SIGNS))))
    emb: np.ndarray = field(default_factory=lambda: np.zeros((0, EMBEDDING_SIZE)))
    hits: list[list[Any]] = field(default_factory=list)


def _group(conv: Conversation) -> str:
    return f"chitchat-{conv.id[9]}" if conv.writer == "chitchat" else conv.writer


def build_table(convs: list[Conversation], embedder: Any, matcher: IndicatorMatcher) -> Table:
    table = Table(convs)
    rows: list[np.ndarray] = []
    for conv in convs:
        for i, msg in enumerate(conv.raw["messages"]):
            table.texts.append(msg.get("text") or "")
            table.where.append((conv.id, i))
            table.groups.append(_group(conv))
            y = np.zeros(len(HEADS), dtype=np.float32)
            for sign in msg.get("signs", []) if conv.risky else []:
                if sign in ft.SIGN_INDEX:
                    y[ft.SIGN_INDEX[sign]] = 1.0
            y[-1] = float(y[:-1].any())
            rows.append(y)
    table.labels = np.stack(rows) if rows else np.zeros((0, len(HEADS)), dtype=np.float32)
    capped = [ft.scored_text(t) for t in table.texts]
    table.hits = [matcher.match(t) for t in capped]
    table.pats = np.stack([ft.pattern_vector({h.category: h.strength for h in hs})
                           for hs in table.hits])  # fmt: skip
    table.ngrams = ft.NGrams().transform(normalize(t).text for t in capped).tocsr()
    table.emb = embed([ft.embedded_text(t) for t in capped], embedder)
    return table


def embed(texts: Sequence[str], embedder: Any) -> np.ndarray:
    """Sentence embeddings, cached on disk by text (``var/train-cache``) between runs."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{embedder.name}.npz"
    known: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as npz:
            keys = json.loads(bytes(npz["texts"]).decode("utf-8"))
            known = dict(zip(keys, npz["vectors"], strict=True))
    todo = sorted({t for t in texts if t not in known})
    if todo:
        log(f"embedding {len(todo)} new texts")
        for start in range(0, len(todo), 512):
            chunk = todo[start : start + 512]
            known.update(zip(chunk, embedder.encode(chunk), strict=True))
        keys = list(known)
        blob = np.frombuffer(json.dumps(keys).encode("utf-8"), dtype=np.uint8)
        np.savez(path, texts=blob, vectors=np.stack([known[k] for k in keys]))
    return np.stack([known[t] for t in texts]).astype(np.float32)


def _logreg(x: Any, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """One logistic regression, fitted by averaged SGD (a pass over the non-zeros per
    epoch: minutes for every head and fold, where L-BFGS took most of an hour); a head with
    no positive example answers "no" firmly."""
    from sklearn.linear_model import SGDClassifier

    if y.sum() == 0:
        return np.zeros(x.shape[1], dtype=np.float32), -12.0
    model = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=EPOCHS, tol=None,
                          average=True, random_state=0)  # fmt: skip
    model.fit(x, y)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def gate_matrix(t: Table) -> Any:
    return sparse.hstack([t.ngrams, sparse.csr_matrix(t.pats)]).tocsr()


def head_matrix(t: Table, mask: np.ndarray) -> Any:
    """Heads' input: n-grams, patterns, the embedding where ``mask`` says it was taken."""
    mask = mask.astype(np.float32)
    emb = t.emb * mask[:, None]
    return sparse.hstack([t.ngrams, sparse.csr_matrix(t.pats), sparse.csr_matrix(emb),
                          sparse.csr_matrix(mask[:, None])]).tocsr()  # fmt: skip


@dataclass(slots=True)
class Heads:
    coef: np.ndarray  # (features, heads)
    bias: np.ndarray

    def probs(self, x: Any) -> np.ndarray:
        return sigmoid(np.asarray(x @ self.coef) + self.bias)


def fit_heads(x: Any, labels: np.ndarray, alpha: float) -> Heads:
    cols = [_logreg(x, labels[:, k], alpha) for k in range(labels.shape[1])]
    return Heads(np.stack([w for w, _ in cols], axis=1), np.array([b for _, b in cols]))


def out_of_fold(x: Any, labels: np.ndarray, groups: list[str], alpha: float) -> np.ndarray:
    """Message-head probabilities for each training message from heads that never saw its
    writer (so the conversation head learns how much to trust readings of new writers)."""
    names = sorted(set(groups))
    folds = {g: i % 5 for i, g in enumerate(names)}
    fold_of = np.array([folds[g] for g in groups])
    out = np.zeros(labels.shape, dtype=np.float64)
    for k in sorted(set(fold_of)):
        held = fold_of == k
        log(f"  fold {k}: {held.sum()} messages held out")
        heads = fit_heads(x[~held], labels[~held], alpha)
        out[held] = heads.probs(x[held])
    return out


def readings(
    t: Table, probs: np.ndarray, embedded: np.ndarray
) -> dict[tuple[str, int], MessageReading]:
    return {
        where: MessageReading(
            {s: float(p) for s, p in zip(ft.SIGNS, row[:-1], strict=True)}, float(row[-1]),
            t.hits[i], bool(embedded[i]), len(t.texts[i]) > ft.MAX_SCORED_CHARS,
        )
        for i, (where, row) in enumerate(zip(t.where, probs, strict=True))
    }  # fmt: skip


class Recorder:
    """A stand-in detector that records the conversation head's inputs and labels while
    ``score_conversation`` walks each conversation (the loop ``vigie scan`` uses)."""

    name = "text.grooming"
    version = "training"

    def __init__(self, found: dict[tuple[str, int], MessageReading], decay: float) -> None:
        self.found = found
        self.decay = decay
        self.rows: list[np.ndarray] = []
        self.labels: list[int] = []
        self.conv: list[str] = []
        self.conv_meta: dict[str, dict[str, Any]] = {}

    def detect(self, ctx: MessageContext) -> DetectorOutput:
        reading = self.found[(ctx.conversation_id, ctx.index)]
        self.rows.append(conversation_features(ctx, reading, self.decay))
        meta = self.conv_meta[ctx.conversation_id]
        risky = meta["label"] != "benign" and meta.get("subject") == ctx.sender.handle
        self.labels.append(int(risky and ctx.index >= int(meta.get("first_risk_index") or 0)))
        self.conv.append(ctx.conversation_id)
        return DetectorOutput()


def walk(
    convs: list[Conversation], found: dict[tuple[str, int], MessageReading], decay: float
) -> Recorder:
    rec = Recorder(found, decay)
    for conv in convs:
        rec.conv_meta[conv.id] = conv.raw
        score_conversation(parse_conversation(conv.raw), [rec], 1.0)
    return rec


def _conv_flags(rec: Recorder, p: np.ndarray) -> dict[str, float]:
    peak: dict[str, float] = {}
    for cid, value in zip(rec.conv, p, strict=True):
        peak[cid] = max(peak.get(cid, 0.0), float(value))
    return peak


def operating_point(peaks: dict[str, float], benign: set[str], limit: float) -> float:
    """The lowest threshold at which at most ``limit`` of these benign conversations flag."""
    values = sorted((peaks[c] for c in benign), reverse=True)
    allowed = int(np.floor(limit * len(values)))
    if not values:
        return 0.5
    cut = values[allowed] if allowed < len(values) else 0.0
    return float(np.nextafter(cut, 1.0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--fpr", type=float, default=0.02, help="benign writer conversations")
    parser.add_argument("--chitchat-fpr", type=float, default=0.001)
    parser.add_argument("--chitchat", type=int, default=1500, help="real chats per split")
    parser.add_argument("--alpha", type=float, default=2e-6, help="L2 penalty of the heads")
    parser.add_argument(
        "--decays",
        default="0.9,0.95,0.97,0.99",
        help="per-message fading of a sender's signs, to choose from on dev",
    )
    parser.add_argument(
        "--gate-recall",
        type=float,
        default=GATE_RECALL,
        help="share of the dev sign messages the gate sends to the encoder",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from vigie.detect.text.semantic import UseEmbedder

    embedder = UseEmbedder(threads=2)
    matcher = IndicatorMatcher()
    train_real = chitchat("train", limit=args.chitchat)
    dev_real = chitchat("dev", limit=args.chitchat)
    train = split("train") + train_real
    dev = split("dev")
    log(f"train: {len(train)} conversations; dev: {len(dev)} + {len(dev_real)} real chats")
    t_train = build_table(train, embedder, matcher)
    t_dev = build_table(dev + dev_real, embedder, matcher)
    log(f"messages: train {len(t_train.texts)}, dev {len(t_dev.texts)}")

    digest = _digest(train + dev + dev_real, args)
    stage = _heads_stage(t_train, t_dev, args.alpha, args.gate_recall, digest)
    gate_t, mask_train, gate_dev = stage["gate_t"], stage["mask_train"], stage["gate_dev"]

    # 3. conversation head, for each candidate fading of the sender's memory; 4. Platt
    # calibration (monotone, so the ranking survives) and operating points. Both on the
    # development writers only, which also choose the fading (recall at the operating point).
    peers = [as_peers(c) for c in train_real[: len(train_real) // 2]]
    hidden = [without_ages(c) for c in train if c.writer != "chitchat"]
    train_found = readings(t_train, stage["oof"], mask_train)
    train_found.update(_copies(train_found))
    dev_peers = [as_peers(c) for c in dev_real]
    dev_found = readings(t_dev, stage["dev_probs"], gate_dev >= gate_t)
    dev_found.update(_copies(dev_found))
    sets = (train + peers + hidden, dev, dev_real, dev_peers)
    fits = [_conversation_stage(sets, train_found, dev_found, float(d), args)
            for d in args.decays.split(",")]  # fmt: skip
    best = max(fits, key=lambda f: (f["dev_recall"], -f["decay"]))
    log(f"chosen: fading {best['decay']} per message")
    _report_dev(dev, dev_real, dev_peers, best["peaks"], best["flag_p"])
    head, cal_a, cal_b = best["head"], best["cal_a"], best["cal_b"]
    flag_p, hold_p = best["flag_p"], best["hold_p"]

    arrays = {
        "conv_coef": head.coef_[0], "conv_bias": head.intercept_,
        "cal_x": np.array([cal_a]), "cal_y": np.array([cal_b]),
    }  # fmt: skip
    arrays.update(
        gate_coef=stage["gate_w"].astype(np.float16),
        gate_bias=np.array([stage["gate_b"]]),
        msg_coef=stage["coef"].astype(np.float16),
        msg_bias=stage["bias"],
    )
    meta = _meta(train, dev, dev_real, embedder.name, gate_t, flag_p, hold_p, args)
    meta["decay_per_message"] = best["decay"]
    save_model(args.out, arrays, meta)
    log(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB), version {meta['version']}, "
        f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return 0


def _conversation_stage(
    sets: tuple[list[Conversation], ...],
    train_found: dict[tuple[str, int], MessageReading],
    dev_found: dict[tuple[str, int], MessageReading],
    decay: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The conversation head and its calibration with this fading, and how it does on dev."""
    train_convs, dev, dev_real, dev_peers = sets
    rec_train = walk(train_convs, train_found, decay)
    rec_dev = walk(dev + dev_real + dev_peers, dev_found, decay)
    x_conv, y_conv = np.stack(rec_train.rows), np.array(rec_train.labels)
    head = _conversation_head(x_conv, y_conv)
    raw_dev = head.decision_function(np.stack(rec_dev.rows))
    cal_a, cal_b = _platt(raw_dev, np.array(rec_dev.labels))
    peaks = _conv_flags(rec_dev, sigmoid(cal_a * raw_dev + cal_b))
    benign_w = {c.id for c in dev if not c.risky}
    real = {c.id for c in dev_real} | {c.id for c in dev_peers}
    flag_p = max(operating_point(peaks, benign_w, args.fpr),
                 operating_point(peaks, real, args.chitchat_fpr))  # fmt: skip
    hold_p = min(max(flag_p + 0.01, operating_point(peaks, benign_w, args.fpr / 4)), 0.99)
    risky = [c.id for c in dev if c.risky]
    recall = sum(peaks[c] >= flag_p for c in risky) / max(len(risky), 1)
    log(f"fading {decay}: {len(y_conv)} states, {y_conv.mean():.1%} positive; "
        f"dev recall {recall:.3f} at the operating point")  # fmt: skip
    return {"decay": decay, "head": head, "cal_a": cal_a, "cal_b": cal_b, "peaks": peaks,
            "flag_p": flag_p, "hold_p": hold_p, "dev_recall": recall}  # fmt: skip


def _digest(convs: list[Conversation], args: argparse.Namespace) -> str:
    """What the message heads depend on: the data and their settings."""
    digest = hashlib.sha256(f"{HEADS_VERSION}:{args.alpha}:{EPOCHS}:{args.gate_recall}".encode())
    for conv in convs:
        digest.update(json.dumps(conv.raw, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()[:16]


def _heads_stage(
    t_train: Table, t_dev: Table, alpha: float, gate_recall: float, digest: str
) -> dict[str, Any]:
    """The gate and the message heads (steps 1 and 2), cached by data digest in
    ``var/train-cache`` so the conversation head can be refitted in minutes."""
    path = CACHE / f"heads-{digest}.npz"
    if path.exists():
        log(f"message heads from {path.name}")
        with np.load(path, allow_pickle=False) as npz:
            out: dict[str, Any] = {k: npz[k] for k in npz.files}
        out["gate_t"], out["gate_b"] = float(out["gate_t"]), float(out["gate_b"])
        return out
    gate_w, gate_b = _logreg(gate_matrix(t_train), t_train.labels[:, -1], alpha)
    gate_dev = sigmoid(np.asarray(gate_matrix(t_dev) @ gate_w) + gate_b)
    positives = np.sort(gate_dev[t_dev.labels[:, -1] == 1])
    gate_t = float(positives[int((1 - gate_recall) * len(positives))]) if len(positives) else 0.5
    gate_train = sigmoid(np.asarray(gate_matrix(t_train) @ gate_w) + gate_b)
    log(f"gate threshold {gate_t:.4f}: {np.mean(gate_dev >= gate_t):.1%} of dev messages embedded")
    keep = np.random.default_rng(0).random(len(gate_train)) >= EMBEDDING_DROPOUT
    mask_train = (gate_train >= gate_t) & keep
    x_train = head_matrix(t_train, mask_train)
    log("message heads, out of fold by writer")
    oof = out_of_fold(x_train, t_train.labels, t_train.groups, alpha)
    log("message heads, all training writers")
    heads = fit_heads(x_train, t_train.labels, alpha)
    dev_probs = heads.probs(head_matrix(t_dev, gate_dev >= gate_t))
    out = {"gate_w": gate_w, "gate_b": gate_b, "gate_t": gate_t, "gate_dev": gate_dev,
           "mask_train": mask_train, "oof": oof, "coef": heads.coef, "bias": heads.bias,
           "dev_probs": dev_probs}  # fmt: skip
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def _conversation_head(x: np.ndarray, y: np.ndarray) -> Any:
    """A logistic regression on the sender's state and context, strongly regularised (C
    chosen on the dev writers against boosted trees and a small network: it generalised
    best to a writer it never read). Positives weigh more so the rare class shapes it
    (Platt calibration on the dev writers undoes the tilt)."""
    from sklearn.linear_model import LogisticRegression

    weight = np.where(y == 1, float(POSITIVE_WEIGHT), 1.0)
    return LogisticRegression(C=HEAD_C, max_iter=3000).fit(x, y, sample_weight=weight)


def _platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e4).fit(raw[:, None], y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _report_dev(dev: list[Conversation], real: list[Conversation], peers: list[Conversation],
                peaks: dict[str, float], flag_p: float) -> None:  # fmt: skip
    def rate(convs: list[Conversation]) -> str:
        return f"{np.mean([peaks[c.id] >= flag_p for c in convs]):.3f}" if convs else "–"

    risky = [c for c in dev if c.risky]
    by_label = {lab: [c for c in risky if c.raw["label"] == lab] for lab in LABELS}
    log(f"dev at flag_p {flag_p:.4f}: recall {rate(risky)} "
        + " ".join(f"{k} {rate(v)}" for k, v in by_label.items())
        + f"; benign writers {rate([c for c in dev if not c.risky])}; "
        f"real chat {rate(real)}, as peers {rate(peers)}")  # fmt: skip


def _copies(found: dict[tuple[str, int], MessageReading]) -> dict[tuple[str, int], MessageReading]:
    """The same readings under the ids of the copies (real chat as teenagers, corpus
    conversations without ages): the messages are the same, only the context differs."""
    out = {}
    for (cid, i), reading in found.items():
        suffix = "-peers" if cid.startswith("chitchat-") else "-noages"
        out[(cid + suffix, i)] = reading
    return out


def _params(gate_recall: float) -> str:
    """A short digest of the training choices, so two models from the same data differ."""
    parts = (HEADS_VERSION, HEAD_C, EPOCHS, gate_recall, EMBEDDING_DROPOUT, POSITIVE_WEIGHT)
    chosen = ":".join(str(p) for p in parts)
    return hashlib.sha256(chosen.encode()).hexdigest()[:4]


def _meta(train: list[Conversation], dev: list[Conversation], dev_real: list[Conversation],
          embedder: str, gate_t: float, flag_p: float, hold_p: float,
          args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    digest = hashlib.sha256()
    for conv in train + dev:
        digest.update(json.dumps(conv.raw, sort_keys=True).encode("utf-8"))
    counts: dict[str, int] = {}
    for conv in train:
        counts[conv.writer] = counts.get(conv.writer, 0) + 1
    version = f"grooming-{datetime.now(UTC):%Y.%m.%d}-{digest.hexdigest()[:8]}"
    return {
        "version": f"{version}-{_params(args.gate_recall)}",
        "signs": list(ft.SIGNS), "embedder": embedder, "n_gram_features": ft.N_GRAM_FEATURES,
        "max_scored_chars": ft.MAX_SCORED_CHARS, "gate_threshold": gate_t,
        "flag_p": flag_p, "hold_p": hold_p,
        "train": counts, "dev": {"w": len(dev), "chitchat": len(dev_real)},
        "gate_recall": args.gate_recall, "fpr_target": args.fpr,
        "chitchat_fpr_target": args.chitchat_fpr, "alpha": args.alpha,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
