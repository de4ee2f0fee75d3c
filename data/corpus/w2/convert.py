#!/usr/bin/env python3
"""Convert w2's compact authoring text (src/part-NN.txt) into part-NN.jsonl.

Format (one conversation per block, blocks separated by blank lines):
  # lang=en platform=instagram label=sextortion kind=gift_card subject=a start=2026-03-04T21:10:00Z
  @a 16 declared 2026-02-28        (handle, age or -, age_source, optional account_created)
  @b - unknown
  a: message text
  b[flattery,secrecy]: text with signs      (signs go on the subject's messages)
  !a[image_request]: text                   (! marks first_risk_index; default = first signed msg)
  +3h a: text                               (gap before this message; only used when start= given)
Ids are numbered across parts in file order.
"""
import json, re, sys, glob, os, random
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
GAP = re.compile(r"^\+(\d+)([smhd])\s+")
MSG = re.compile(r"^(!?)([A-Za-z0-9_]+)(?:\[([a-z_,]+)\])?:\s?(.*)$")
UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse(text, start_id):
    convs, n = [], start_id
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [l for l in block.splitlines() if l.strip()]
        if not lines:
            continue
        head = dict(kv.split("=", 1) for kv in lines[0].lstrip("#").split())
        rng = random.Random(n)
        parts, msgs, fri = {}, [], None
        t = datetime.fromisoformat(head["start"].replace("Z", "+00:00")) if "start" in head else None
        for l in lines[1:]:
            if l.startswith("@"):
                f = l[1:].split()
                p = {"age": None if f[1] == "-" else int(f[1]), "age_source": f[2]}
                if len(f) > 3:
                    p["account_created"] = f[3]
                parts[f[0]] = p
                continue
            gap = None
            g = GAP.match(l)
            if g:
                gap = timedelta(**{UNIT[g.group(2)]: int(g.group(1))})
                l = l[g.end():]
            m = MSG.match(l)
            if not m:
                raise SystemExit(f"bad line in conv {n}: {l!r}")
            msg = {"from": m.group(2), "text": m.group(4)}
            if m.group(3):
                msg["signs"] = m.group(3).split(",")
            if t is not None:
                if msgs:
                    if gap is None:
                        gap = (timedelta(minutes=rng.randint(4, 75)) if rng.random() < 0.07
                               else timedelta(seconds=rng.randint(8, 160)))
                    t += gap
                msg["at"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            if m.group(1):
                fri = len(msgs)
            msgs.append(msg)
        label = head["label"]
        if label != "benign" and fri is None:
            fri = next((i for i, x in enumerate(msgs) if x.get("signs")), None)
        conv = {"id": f"w2-{n:04d}", "writer": "w2", "lang": head["lang"],
                "platform": head["platform"], "participants": parts, "messages": msgs,
                "label": label, "kind": head["kind"],
                "subject": None if label == "benign" else head["subject"],
                "first_risk_index": None if label == "benign" else fri}
        convs.append(conv)
        n += 1
    return convs


def main():
    n = 1
    for src in sorted(glob.glob(os.path.join(HERE, "src", "part-*.txt"))):
        convs = parse(open(src, encoding="utf-8").read(), n)
        n += len(convs)
        out = os.path.join(HERE, os.path.basename(src)[:-4] + ".jsonl")
        with open(out, "w", encoding="utf-8") as f:
            for c in convs:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        print(out, len(convs))


if __name__ == "__main__":
    main()
