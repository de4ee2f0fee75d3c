#!/usr/bin/env python3
"""Convert w9's compact source files (src-NN.txt) into part-NN.jsonl.

Source format, one conversation per block:
  === lang platform label kind [subject]
  @h age src [created]        (age: int or -, src: declared/estimated/verified/unknown)
  start 2026-05-03T17:02:00Z  (optional; then each message +1 min, "~90m"/"~3h"/"~2d" lines add gaps)
  h: text                     (message; "h!: text" marks first_risk_index)
  h: text  #sign,sign         (signs at the end after "  #")
"""
import json, re, sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).parent


def parse(path, counter):
    convs, cur = [], None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if not line.strip() or line.startswith("//"):
            continue
        if line.startswith("==="):
            f = line[3:].split()
            counter[0] += 1
            cur = {"id": f"w9-{counter[0]:04d}", "writer": "w9", "lang": f[0], "platform": f[1],
                   "participants": {}, "messages": [], "label": f[2], "kind": f[3],
                   "subject": f[4] if len(f) > 4 else None, "first_risk_index": None}
            cur["_t"] = None
            convs.append(cur)
        elif line.startswith("@"):
            f = line[1:].split()
            p = {"age": None if f[1] == "-" else int(f[1]), "age_source": f[2]}
            if len(f) > 3:
                p["account_created"] = f[3]
            cur["participants"][f[0]] = p
        elif line.startswith("start "):
            cur["_t"] = datetime.strptime(line[6:].strip(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        elif re.fullmatch(r"~\d+[mhd]", line.strip()):
            n, u = int(line.strip()[1:-1]), line.strip()[-1]
            if cur["_t"] is not None:
                cur["_t"] += {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[u]
        else:
            m = re.match(r"^(\w+)(!?):\s?(.*)$", line)
            if not m:
                sys.exit(f"{path}: bad line: {line}")
            h, bang, text = m.groups()
            msg = {"from": h}
            sm = re.search(r"\s{2}#([a-z_,]+)$", text)
            if sm:
                text = text[:sm.start()].rstrip()
                msg["signs"] = sm.group(1).split(",")
            msg["text"] = text
            if cur["_t"] is not None:
                cur["_t"] += timedelta(seconds=40 + 7 * len(text) % 150)
                msg["at"] = cur["_t"].strftime("%Y-%m-%dT%H:%M:%SZ")
            if bang:
                cur["first_risk_index"] = len(cur["messages"])
            cur["messages"].append(msg)
    for c in convs:
        del c["_t"]
        m = c.pop("messages")
        c["messages"] = m
        for k in ("label", "kind", "subject", "first_risk_index"):
            c[k] = c.pop(k)
    return convs


def main():
    counter = [0]
    for src in sorted(HERE.glob("src-*.txt")):
        out = HERE / ("part-" + src.stem[4:] + ".jsonl")
        convs = parse(src, counter)
        with out.open("w", encoding="utf-8") as f:
            for c in convs:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        print(out.name, len(convs))


if __name__ == "__main__":
    main()
