#!/usr/bin/env python3
"""Check corpus files: one JSON conversation per line, fields and values as README.md says.

Usage: python data/corpus/validate.py FILE... (prints problems and counts; exit 1 on problems)
"""

from __future__ import annotations

import json
import sys
from collections import Counter

LABELS = {"benign", "grooming", "sextortion", "exploitation"}
SIGNS = {
    "age_probing", "personal_info", "supervision_probing", "secrecy", "isolation",
    "flattery", "gift_offer", "platform_migration", "image_request", "camera_request",
    "meeting_request", "sextortion_threat", "payment_demand", "pressure",
    "deepfake_threat", "livestream_commissioning",
}
SOURCES = {"declared", "estimated", "verified", "unknown"}


def problems(conv: dict) -> list[str]:
    """What is wrong with one conversation (empty when it is fine)."""
    out: list[str] = []
    parts = conv.get("participants") or {}
    msgs = conv.get("messages") or []
    if not isinstance(conv.get("id"), str):
        out.append("id missing")
    if not isinstance(conv.get("lang"), str):
        out.append("lang missing")
    if conv.get("label") not in LABELS:
        out.append(f"label {conv.get('label')!r}")
    if len(parts) < 2:
        out.append("fewer than two participants")
    for handle, p in parts.items():
        if p.get("age") is not None and not isinstance(p.get("age"), int):
            out.append(f"age of {handle} not an int")
        if p.get("age_source", "unknown") not in SOURCES:
            out.append(f"age_source of {handle}")
    if not 6 <= len(msgs) <= 60:
        out.append(f"{len(msgs)} messages")
    for i, m in enumerate(msgs):
        if m.get("from") not in parts:
            out.append(f"message {i} from unknown {m.get('from')!r}")
        if not isinstance(m.get("text"), str) or not m["text"].strip():
            out.append(f"message {i} empty")
        bad = set(m.get("signs", [])) - SIGNS
        if bad:
            out.append(f"message {i} signs {sorted(bad)}")
    risky = conv.get("label") != "benign"
    fri = conv.get("first_risk_index")
    if risky and not (isinstance(fri, int) and 0 <= fri < len(msgs)):
        out.append(f"first_risk_index {fri!r}")
    if risky and conv.get("subject") not in parts:
        out.append(f"subject {conv.get('subject')!r}")
    if not risky and fri is not None:
        out.append("benign with first_risk_index")
    return out


def main(paths: list[str]) -> int:
    labels: Counter[str] = Counter()
    langs: Counter[str] = Counter()
    ids: set[str] = set()
    bad = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    conv = json.loads(line)
                except json.JSONDecodeError as e:
                    print(f"{path}:{n}: not JSON: {e}")
                    bad += 1
                    continue
                found = problems(conv)
                if conv.get("id") in ids:
                    found.append("duplicate id")
                ids.add(conv.get("id"))
                for p in found:
                    print(f"{path}:{n}: {conv.get('id')}: {p}")
                bad += bool(found)
                labels[conv.get("label")] += 1
                langs[conv.get("lang")] += 1
    print(f"{len(ids)} conversations, {bad} with problems")
    print("labels:", dict(labels))
    print("langs:", dict(langs))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
