#!/usr/bin/env python3
"""Convert w8's hand-written compact text (src-NN.txt) into part-NN.jsonl.

Compact form, one conversation per block:
  == LANG PLATFORM LABEL KIND SUBJECT      (SUBJECT '-' when benign)
  p HANDLE AGE SOURCE [ACCOUNT_CREATED]    (AGE '?' for null; SOURCE d/e/v/u)
  t START_RFC3339 [STEP]                   (optional: timestamps on; STEP e.g. 40s,
                                            the usual gap between messages, default 1m)
  [!][{+GAP}]HANDLE: text  ## sign,sign     ('!' marks first_risk_index;
                                            GAP like 2m, 3h, 1d; default 1m)
Only a parser: every line of every conversation is written by hand.
"""
import json, re, sys
from datetime import datetime, timedelta, timezone

SRC = {"d": "declared", "e": "estimated", "v": "verified", "u": "unknown"}
GAP = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse(text, start_n):
    convs, cur, n = [], None, start_n
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.startswith("//"):
            continue
        if line.startswith("== "):
            lang, plat, label, kind, subj = line[3:].split()
            cur = {"id": f"w8-{n:04d}", "writer": "w8", "lang": lang, "platform": plat,
                   "participants": {}, "messages": [], "label": label, "kind": kind,
                   "subject": None if subj == "-" else subj, "first_risk_index": None}
            cur["_t"] = None
            convs.append(cur)
            n += 1
            continue
        if line.startswith("p "):
            bits = line.split()
            p = {"age": None if bits[2] == "?" else int(bits[2]), "age_source": SRC[bits[3]]}
            if len(bits) > 4:
                p["account_created"] = bits[4]
            cur["participants"][bits[1]] = p
            continue
        if line.startswith("t "):
            bits = line[2:].split()
            cur["_t"] = datetime.fromisoformat(bits[0].replace("Z", "+00:00"))
            cur["_step"] = timedelta(**{GAP[bits[1][-1]]: int(bits[1][:-1])}) if len(bits) > 1 else timedelta(minutes=1)
            cur["_first"] = True
            continue
        m = re.match(r"^(!?)(?:\{\+(\d+)([smhd])\})?([A-Za-z0-9_]+): ?(.*)$", line)
        if not m:
            raise SystemExit(f"bad line in {cur and cur['id']}: {line!r}")
        bang, gn, gu, who, body = m.groups()
        signs = []
        if " ## " in body:
            body, s = body.rsplit(" ## ", 1)
            signs = [x.strip() for x in s.split(",") if x.strip()]
        msg = {"from": who, "text": body.strip()}
        if signs:
            msg["signs"] = signs
        if cur["_t"] is not None:
            if cur.pop("_first", False) and not gn:
                pass
            else:
                delta = timedelta(**{GAP[gu]: int(gn)}) if gn else cur["_step"]
                cur["_t"] += delta
            msg["at"] = cur["_t"].strftime("%Y-%m-%dT%H:%M:%SZ")
        if bang:
            cur["first_risk_index"] = len(cur["messages"])
        cur["messages"].append(msg)
    for c in convs:
        c.pop("_t", None); c.pop("_first", None); c.pop("_step", None)
    return convs


if __name__ == "__main__":
    # usage: convert.py            -> all src-*.txt in order, ids numbered from 1,
    #                                 written as part-01.jsonl, part-02.jsonl... (30 each)
    #        convert.py SRC START  -> one file, as while writing (src-NN -> part-NN)
    import glob, os
    if len(sys.argv) == 3:
        src, start = sys.argv[1], int(sys.argv[2])
        groups = [(src.replace("src-", "part-").replace(".txt", ".jsonl"),
                   parse(open(src, encoding="utf-8").read(), start))]
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        allc, n = [], 1
        for src in sorted(glob.glob(os.path.join(here, "src-*.txt"))):
            convs = parse(open(src, encoding="utf-8").read(), n)
            allc += convs
            n += len(convs)
        for old in glob.glob(os.path.join(here, "part-*.jsonl")):
            os.remove(old)
        groups = [(os.path.join(here, f"part-{i // 30 + 1:02d}.jsonl"), allc[i:i + 30])
                  for i in range(0, len(allc), 30)]
    for out, convs in groups:
        with open(out, "w", encoding="utf-8") as f:
            for c in convs:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        print(out, len(convs))
