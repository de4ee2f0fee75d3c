#!/usr/bin/env python3
"""Convert w10's compact source files (src-NN.txt) into part-NN.jsonl.

Source format, one conversation per block:
  === lang platform label kind [subject=HANDLE] [fri=N] [start=RFC3339]
  @ handle age|- source [account_created]
  handle: text ##sign1,sign2        (signs optional)
  +15m handle: text                 (optional gap when start= is given; m/h/d)
  ! handle: text                    (marks first_risk_index; "! +2h handle: ..." also works)
Ids are numbered in order across all source files.
"""
import glob, json, os, re, datetime as dt

HERE = os.path.dirname(os.path.abspath(__file__))
GAP = re.compile(r"^\+(\d+)([smhd]) ")

def parse(text):
    convs, cur = [], None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.startswith("//"):
            continue
        if line.startswith("==="):
            f = line[3:].split()
            cur = {"lang": f[0], "platform": f[1], "label": f[2], "kind": f[3],
                   "opts": dict(x.split("=", 1) for x in f[4:]), "parts": {}, "msgs": []}
            convs.append(cur)
            continue
        if line.startswith("@ "):
            f = line[2:].split()
            p = {"age": None if f[1] == "-" else int(f[1]), "age_source": f[2]}
            if len(f) > 3:
                p["account_created"] = f[3]
            cur["parts"][f[0]] = p
            continue
        gap = None
        if line.startswith("! "):
            cur["fri"] = len(cur["msgs"])
            line = line[2:]
        m = GAP.match(line)
        if m:
            n, u = int(m.group(1)), m.group(2)
            gap = dt.timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[u]: n})
            line = line[m.end():]
        who, txt = line.split(": ", 1)
        signs = None
        if " ##" in txt:
            txt, s = txt.rsplit(" ##", 1)
            signs = [x for x in s.split(",") if x]
        msg = {"from": who.strip(), "text": txt.strip()}
        if signs:
            msg["signs"] = signs
        cur["msgs"].append((msg, gap))
    return convs

def main():
    n = 0
    for src in sorted(glob.glob(os.path.join(HERE, "src-*.txt"))):
        part = os.path.basename(src).replace("src-", "part-").replace(".txt", ".jsonl")
        out = []
        for c in parse(open(src, encoding="utf-8").read()):
            n += 1
            o = c["opts"]
            start = o.get("start")
            t = dt.datetime.fromisoformat(start) if start else None
            msgs = []
            for i, (m, gap) in enumerate(c["msgs"]):
                if t is not None:
                    if i > 0:
                        t = t + (gap if gap is not None else dt.timedelta(seconds=40 + (len(m["text"]) * 3) % 150))
                    m = {"from": m["from"], "text": m["text"], "at": t.isoformat().replace("+00:00", "Z"), **({"signs": m["signs"]} if "signs" in m else {})}
                msgs.append(m)
            risky = c["label"] != "benign"
            out.append({
                "id": f"w10-{n:04d}", "writer": "w10", "lang": c["lang"], "platform": c["platform"],
                "participants": c["parts"], "messages": msgs, "label": c["label"], "kind": c["kind"],
                "subject": o.get("subject") if risky else None,
                "first_risk_index": (int(o["fri"]) if "fri" in o else c.get("fri")) if risky else None,
            })
        with open(os.path.join(HERE, part), "w", encoding="utf-8") as f:
            for c in out:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(n, "conversations")

if __name__ == "__main__":
    main()
