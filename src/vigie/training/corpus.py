"""The corpus by writer (``data/corpus``), its splits, and the real benign chat.

Splits are by writer (``data/corpus/splits.toml``): one writer's conversations never
straddle train, dev and test, so the figures say how the model does on a writer it never
read. Real chat comes from the ``chitchat-dataset`` package, only its conversations whose id
starts with 0-7 (8-f are reserved for outside evaluation: they are skipped before reading).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "data" / "corpus"
OURS = frozenset("01234567")


@dataclass(slots=True)
class Conversation:
    """One corpus conversation: the raw record (shared format plus the corpus fields)."""

    raw: dict[str, Any]
    writer: str

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    @property
    def risky(self) -> bool:
        return bool(self.raw.get("label", "benign") != "benign")


def splits(corpus: Path = CORPUS) -> dict[str, Any]:
    with (corpus / "splits.toml").open("rb") as fh:
        return tomllib.load(fh)


def writer_conversations(writer: str, corpus: Path = CORPUS) -> Iterator[Conversation]:
    for path in sorted((corpus / writer).glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield Conversation(json.loads(line), writer)


def split(name: str, corpus: Path = CORPUS) -> list[Conversation]:
    """Every conversation of the writers assigned to ``name`` (train, dev, check or test)."""
    writers = [w for w, s in splits(corpus)["writers"].items() if s == name]
    return [c for w in writers for c in writer_conversations(w, corpus)]


def chitchat(name: str, corpus: Path = CORPUS, limit: int | None = None) -> list[Conversation]:
    """Real benign chat for one split, as conversations with ages unknown.

    Only ids whose first character the split lists (all within 0-7) are opened.
    """
    import chitchat_dataset

    prefixes = set(splits(corpus)["chitchat"].get(name, ""))  # "check" has no real chat
    if not prefixes <= OURS:
        raise ValueError("chitchat ids starting 8-f are reserved for outside evaluation")
    data = chitchat_dataset.Dataset()
    out = []
    for conv_id in sorted(k for k in data if k[:1] in prefixes):
        out.append(Conversation(_chitchat_record(conv_id, data[conv_id]), "chitchat"))
        if limit is not None and len(out) >= limit:
            break
    return out


def _chitchat_record(conv_id: str, conv: dict[str, Any]) -> dict[str, Any]:
    handles: dict[str, str] = {}
    messages = []
    for turn in conv["messages"]:
        for msg in turn:
            handle = handles.setdefault(msg["sender"], "ab"[min(len(handles), 1)])
            messages.append({"from": handle, "text": msg["text"], "at": msg.get("timestamp")})
    participants = {h: {"age": None, "age_source": "unknown"} for h in "ab"}
    return {"id": f"chitchat-{conv_id}", "lang": "en", "platform": "chitchat",
            "participants": participants, "messages": messages, "label": "benign",
            "first_risk_index": None, "subject": None}  # fmt: skip


def as_peers(conv: Conversation, ages: tuple[int, int] = (14, 15)) -> Conversation:
    """The same chat as if two teenagers wrote it (the outside check scores it both ways)."""
    raw = dict(conv.raw)
    raw["id"] = conv.id + "-peers"
    raw["participants"] = {h: {"age": a, "age_source": "declared"}
                           for h, a in zip("ab", ages, strict=True)}  # fmt: skip
    return Conversation(raw, conv.writer)


def without_ages(conv: Conversation) -> Conversation:
    """The same conversation as a platform that knows no ages would send it (Matrix, say).

    Training on both keeps the model from reading "age unknown" as a risk in itself (in the
    corpus, family members tend to have known ages and strangers not).
    """
    raw = dict(conv.raw)
    raw["id"] = conv.id + "-noages"
    raw["participants"] = {h: {**p, "age": None, "age_source": "unknown"}
                           for h, p in conv.raw["participants"].items()}  # fmt: skip
    return Conversation(raw, conv.writer)
