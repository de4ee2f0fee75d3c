#!/usr/bin/env python3
"""Convert w6's compact authoring files (part-NN.txt) into part-NN.jsonl.

Format of a .txt file:
  @@start N                      first id number in this file
  === LANG PLATFORM LABEL KIND [subj=KEY]
  % KEY=HANDLE AGE|? SOURCE [YYYY-MM-DD]
  t 2026-10-14T19:02:00-04:00    optional: conversation has timestamps
  KEY: text                      a message (optional "[+5m]" gap prefix in text)
  *KEY: text                     the message at first_risk_index
  KEY: text ## sign1,sign2       signs on that message
Blank lines and lines starting with '#' between conversations are ignored.
"""
import hashlib, json, re, sys
from datetime import datetime, timedelta

GAP = re.compile(r"^\[\+(\d+)([smhd])\]\s*")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def convert(path):
    out, cur, n = [], None, None
    def flush():
        if cur:
            out.append(finish(cur))
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@@start"):
            n = int(line.split()[1]); continue
        if line.startswith("==="):
            flush()
            f = line[3:].split()
            cur = {"id": f"w6-{n:04d}", "lang": f[0], "platform": f[1], "label": f[2],
                   "kind": f[3], "subj": None, "keys": {}, "parts": {}, "msgs": [], "t": None, "fri": None}
            for x in f[4:]:
                if x.startswith("subj="):
                    cur["subj"] = x[5:]
            n += 1; continue
        if line.startswith("% "):
            f = line[2:].split()
            key, handle = f[0].split("=", 1)
            p = {"age": None if f[1] == "?" else int(f[1]), "age_source": f[2]}
            if len(f) > 3:
                p["account_created"] = f[3]
            cur["keys"][key] = handle; cur["parts"][handle] = p; continue
        if line.startswith("t "):
            cur["t"] = datetime.fromisoformat(line[2:].strip()); continue
        m = re.match(r"^(\*?)(\w+):\s?(.*)$", line)
        if not m:
            raise SystemExit(f"{path}: bad line: {line!r}")
        star, key, text = m.groups()
        signs = []
        if " ## " in text:
            text, s = text.rsplit(" ## ", 1)
            signs = [x.strip() for x in s.split(",") if x.strip()]
        gap = None
        g = GAP.match(text)
        if g:
            gap = int(g.group(1)) * UNIT[g.group(2)]; text = text[g.end():]
        if star:
            cur["fri"] = len(cur["msgs"])
        if key not in cur["keys"]:
            raise SystemExit(f"{path}: {cur['id']}: unknown key {key}")
        cur["msgs"].append((cur["keys"][key], text.strip(), signs, gap))
    flush()
    return out


def finish(c):
    msgs, t = [], c["t"]
    for i, (frm, text, signs, gap) in enumerate(c["msgs"]):
        m = {"from": frm, "text": text}
        if t is not None:
            if i > 0:
                if gap is None:
                    h = int(hashlib.md5(text.encode()).hexdigest()[:4], 16)
                    gap = 8 + h % 70 + len(text) // 3
                t = t + timedelta(seconds=gap)
            m["at"] = t.isoformat().replace("+00:00", "Z")
        if signs:
            m["signs"] = signs
        msgs.append(m)
    benign = c["label"] == "benign"
    return {"id": c["id"], "writer": "w6", "lang": c["lang"], "platform": c["platform"],
            "participants": c["parts"], "messages": msgs, "label": c["label"], "kind": c["kind"],
            "subject": None if benign else c["keys"].get(c["subj"]),
            "first_risk_index": None if benign else c["fri"]}


if __name__ == "__main__":
    for p in sys.argv[1:]:
        convs = convert(p)
        dst = p[:-4] + ".jsonl"
        with open(dst, "w", encoding="utf-8") as f:
            for c in convs:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        print(dst, len(convs))
        for c in convs:
            n = len(c["messages"])
            if not 8 <= n <= 45:
                print("  LENGTH", c["id"], c["kind"], n)
