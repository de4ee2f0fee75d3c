#!/usr/bin/env python3
"""w4 compact form -> JSONL.  Usage: convert.py src/part-NN.txt part-NN.jsonl START_ID

Block:
=== lang platform label kind subject [ts=2026-03-04T17:02:00Z]
@a age src [created]          (age '-' = null)
a: text ## sign sign          ('!' before handle marks first_risk_index)
[+5m] b: text                 (explicit gap; s/m/h/d)
"""
import json, random, re, sys
from datetime import datetime, timedelta, timezone

AB = {"age": "age_probing", "pi": "personal_info", "sup": "supervision_probing",
      "sec": "secrecy", "iso": "isolation", "flat": "flattery", "gift": "gift_offer",
      "mig": "platform_migration", "img": "image_request", "cam": "camera_request",
      "meet": "meeting_request", "thr": "sextortion_threat", "pay": "payment_demand",
      "pr": "pressure", "df": "deepfake_threat", "live": "livestream_commissioning"}
SRC = {"d": "declared", "e": "estimated", "v": "verified", "u": "unknown"}
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse(path, start):
    out, cur, n = [], None, start
    rng = random.Random(path)
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("//"):
            continue
        if line.startswith("==="):
            if cur: out.append(finish(cur))
            f = line[3:].split()
            ts = None
            if f[-1].startswith("ts="):
                ts = datetime.fromisoformat(f.pop()[3:].replace("Z", "+00:00"))
            lang, plat, label, kind, subj = f
            cur = {"id": f"w4-{n:04d}", "writer": "w4", "lang": lang, "platform": plat,
                   "participants": {}, "messages": [], "label": label, "kind": kind,
                   "subject": None if subj == "-" else subj, "first_risk_index": None,
                   "_ts": ts, "_rng": rng}
            n += 1
            continue
        if line.startswith("@"):
            f = line[1:].split()
            p = {"age": None if f[1] == "-" else int(f[1]), "age_source": SRC[f[2]]}
            if len(f) > 3: p["account_created"] = f[3]
            cur["participants"][f[0]] = p
            continue
        gap = None
        m = re.match(r"\[\+(\d+)([smhdw])\]\s*", line)
        if m:
            gap = int(m.group(1)) * UNIT[m.group(2)]
            line = line[m.end():]
        mark = line.startswith("!")
        if mark: line = line[1:]
        who, text = line.split(":", 1)
        signs = []
        if " ## " in text:
            text, s = text.split(" ## ", 1)
            signs = [AB[x] for x in s.split()]
        msg = {"from": who.strip(), "text": text.strip()}
        if signs: msg["signs"] = signs
        if cur["_ts"] is not None:
            if cur["messages"]:
                cur["_ts"] += timedelta(seconds=gap if gap is not None else cur["_rng"].randint(8, 150))
            msg["at"] = cur["_ts"].strftime("%Y-%m-%dT%H:%M:%SZ")
        if mark: cur["first_risk_index"] = len(cur["messages"])
        cur["messages"].append(msg)
    if cur: out.append(finish(cur))
    return out


def finish(c):
    c.pop("_ts"); c.pop("_rng")
    return c


if __name__ == "__main__":
    convs = parse(sys.argv[1], int(sys.argv[3]))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        for c in convs:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(len(convs), "written, next id", int(sys.argv[3]) + len(convs))
