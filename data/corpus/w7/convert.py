#!/usr/bin/env python3
"""w7 compact text -> JSONL.  Usage: convert.py SRC.txt OUT.jsonl START_NUMBER

Block format (blocks separated by a line '---'):
  # lang platform label kind subject            (subject '-' when benign)
  T 2026-10-03T18:02                            (optional: timestamps on)
  @a 34 declared 2026-11-01                     (age or '?', source, optional created)
  a: text  ## sign1,sign2                       (signs optional)
  !a: text                                      ('!' = first_risk_index)
  [+3h] a: text                                 (gap before this message; default +1m)
"""
import json, re, sys
from datetime import datetime, timedelta

def gap(s):
    n, u = int(s[:-1]), s[-1]
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[u]: n})

def parse(block, num):
    conv = {"id": f"w7-{num:04d}", "writer": "w7"}
    parts, msgs, fri, t = {}, [], None, None
    for line in block.strip().splitlines():
        if not line.strip():
            continue
        if line.startswith("# "):
            lang, plat, label, kind, subj = line[2:].split()
            conv.update(lang=lang, platform=plat)
            label_ = label; kind_ = kind; subj_ = None if subj == "-" else subj
        elif line.startswith("T "):
            t = datetime.fromisoformat(line[2:].strip())
        elif line.startswith("@"):
            f = line[1:].split()
            p = {"age": None if f[1] == "?" else int(f[1]), "age_source": f[2]}
            if len(f) > 3:
                p["account_created"] = f[3]
            parts[f[0]] = p
        else:
            d = timedelta(minutes=1)
            m = re.match(r"\[\+(\d+[smhd])\]\s*", line)
            if m:
                d = gap(m.group(1)); line = line[m.end():]
            mark = line.startswith("!")
            if mark:
                line = line[1:]
            who, text = line.split(":", 1)
            signs = []
            if "##" in text:
                text, s = text.rsplit("##", 1)
                signs = [x.strip() for x in s.split(",") if x.strip()]
            msg = {"from": who.strip(), "text": text.strip()}
            if t is not None:
                if msgs:
                    t = t + d
                msg["at"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            if signs:
                msg["signs"] = signs
            if mark:
                fri = len(msgs)
            msgs.append(msg)
    conv["participants"] = parts
    conv["messages"] = msgs
    conv["label"] = label_
    conv["kind"] = kind_
    conv["subject"] = subj_
    conv["first_risk_index"] = fri if label_ != "benign" else None
    return conv

def main(src, out, start):
    blocks = [b for b in open(src, encoding="utf-8").read().split("\n---\n") if b.strip()]
    with open(out, "w", encoding="utf-8") as f:
        for i, b in enumerate(blocks):
            f.write(json.dumps(parse(b, start + i), ensure_ascii=False) + "\n")
    print(f"{len(blocks)} conversations, ids {start}..{start + len(blocks) - 1}")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
