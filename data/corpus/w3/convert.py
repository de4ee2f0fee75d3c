#!/usr/bin/env python3
"""Convert w3's compact hand-written conversations (src/part-NN.txt) to part-NN.jsonl.

Compact form, one conversation per block:
=== lang=fr platform=whatsapp label=benign kind=grandparent subject=a ts=2026-03-14T18:02
@a 67 estimated 2025-03-01      (handle, age or ?, age_source, optional account_created)
@b 10 declared
a: message text
>a: message after which a moderator should look (first_risk_index)
a: text {secrecy,flattery}      (signs at the end in braces)
a: +2h text                      (time gap before this message, when ts is set)
"""
import json, re, sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
GAP = re.compile(r"^\+(\d+)([smhd])\s+")
SIGNS = re.compile(r"\s*\{([a-z_,\s]+)\}\s*$")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(text, start_id):
    convs, cur = [], None
    n = start_id
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("==="):
            head = dict(kv.split("=", 1) for kv in line[3:].split())
            cur = {"head": head, "parts": {}, "msgs": [], "fri": None}
            convs.append(cur)
            continue
        if line.startswith("@"):
            bits = line[1:].split()
            p = {"age": None if bits[1] == "?" else int(bits[1]), "age_source": bits[2]}
            if len(bits) > 3:
                p["account_created"] = bits[3]
            cur["parts"][bits[0]] = p
            continue
        mark = line.startswith(">")
        if mark:
            line = line[1:]
        who, msg = line.split(":", 1)
        msg = msg.strip()
        gap = None
        g = GAP.match(msg)
        if g:
            gap = int(g.group(1)) * UNIT[g.group(2)]
            msg = msg[g.end():]
        signs = None
        s = SIGNS.search(msg)
        if s:
            signs = [x.strip() for x in s.group(1).split(",") if x.strip()]
            msg = msg[: s.start()]
        if mark:
            cur["fri"] = len(cur["msgs"])
        cur["msgs"].append({"from": who.strip(), "text": msg, "gap": gap, "signs": signs})
    out = []
    for c in convs:
        h = c["head"]
        t = datetime.fromisoformat(h["ts"]) if "ts" in h else None
        msgs = []
        for m in c["msgs"]:
            d = {"from": m["from"], "text": m["text"]}
            if t is not None:
                if msgs:
                    t += timedelta(seconds=m["gap"] if m["gap"] is not None else 15 + 3 * len(m["text"]))
                d["at"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            if m["signs"]:
                d["signs"] = m["signs"]
            msgs.append(d)
        risky = h["label"] != "benign"
        out.append({
            "id": f"w3-{n:04d}", "writer": "w3", "lang": h["lang"], "platform": h["platform"],
            "participants": c["parts"], "messages": msgs, "label": h["label"], "kind": h["kind"],
            "subject": h.get("subject") if risky else None,
            "first_risk_index": c["fri"] if risky else None,
        })
        n += 1
    return out


def main():
    n = 1
    for src in sorted((HERE / "src").glob("part-*.txt")):
        convs = parse(src.read_text(encoding="utf-8"), n)
        n += len(convs)
        dst = HERE / (src.stem + ".jsonl")
        with open(dst, "w", encoding="utf-8") as f:
            for c in convs:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        print(dst.name, len(convs))


if __name__ == "__main__":
    main()
