#!/usr/bin/env python3
"""Convert w1's compact hand-written source (src/part-NN.txt) into part-NN.jsonl.

Source form (one conversation per block, blocks start with '=='):
  == LANG PLATFORM LABEL KIND SUBJECT [START_TIME]
  @h AGE SOURCE [ACCOUNT_CREATED]      (AGE '?' = null; SOURCE dec/est/ver/unk)
  h: text {sign,sign}                   (message; '!h:' marks first_risk_index)
  ~2h                                   (time gap before next message, with START_TIME)
Every conversation is written by hand; this script only changes the notation.
"""
import glob, json, os, re, sys
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = {"dec": "declared", "est": "estimated", "ver": "verified", "unk": "unknown"}
SIGN = {"age": "age_probing", "info": "personal_info", "sup": "supervision_probing",
        "sec": "secrecy", "iso": "isolation", "flat": "flattery", "gift": "gift_offer",
        "mig": "platform_migration", "img": "image_request", "cam": "camera_request",
        "meet": "meeting_request", "threat": "sextortion_threat", "pay": "payment_demand",
        "press": "pressure", "deep": "deepfake_threat", "live": "livestream_commissioning"}
GAP = re.compile(r"^~(\d+)([smhd])$")


def parse_block(lines, where):
    head = lines[0].split()[1:]
    lang, plat, label, kind, subj = head[:5]
    t = datetime.fromisoformat(head[5]) if len(head) > 5 else None
    parts, msgs, fri = {}, [], None
    for ln in lines[1:]:
        if ln.startswith("@"):
            f = ln[1:].split()
            p = {"age": None if f[1] == "?" else int(f[1]), "age_source": SRC[f[2]]}
            if len(f) > 3:
                p["account_created"] = f[3]
            parts[f[0]] = p
            continue
        g = GAP.match(ln)
        if g:
            n, u = int(g.group(1)), g.group(2)
            if t:
                t += timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[u]: n})
            continue
        mark = ln.startswith("!")
        if mark:
            ln = ln[1:]
        h, _, text = ln.partition(": ")
        if h not in parts or not text:
            sys.exit(f"{where}: bad line {ln!r}")
        signs = []
        m = re.search(r"\s*\{([a-z,]+)\}\s*$", text)
        if m:
            signs = [SIGN[s] for s in m.group(1).split(",")]
            text = text[: m.start()]
        msg = {"from": h, "text": text.strip()}
        if signs:
            msg["signs"] = signs
        if t:
            t += timedelta(seconds=8 + 2 * len(text) + 7 * (len(msgs) % 3))
            msg["at"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        if mark:
            fri = len(msgs)
        msgs.append(msg)
    risky = label != "benign"
    for m in msgs:  # signs are recorded only on the subject's messages
        if m.get("from") != subj:
            m.pop("signs", None)
    if risky and fri is None:
        fri = next(i for i, m in enumerate(msgs) if m.get("signs"))
    return {"lang": lang, "platform": plat, "participants": parts, "messages": msgs,
            "label": label, "kind": kind, "subject": subj if risky else None,
            "first_risk_index": fri if risky else None}


def main():
    n = 0
    for src in sorted(glob.glob(os.path.join(HERE, "src", "part-*.txt"))):
        blocks, cur = [], None
        for raw in open(src, encoding="utf-8"):
            ln = raw.rstrip("\n").strip()
            if not ln or ln.startswith("#"):
                continue
            if ln.startswith("=="):
                cur = [ln]
                blocks.append(cur)
            else:
                cur.append(ln)
        out = []
        for i, b in enumerate(blocks):
            c = parse_block(b, f"{src} block {i + 1}")
            n += 1
            c = {"id": f"w1-{n:04d}", "writer": "w1", **c}
            out.append(json.dumps(c, ensure_ascii=False))
        dst = os.path.join(HERE, os.path.basename(src).replace(".txt", ".jsonl"))
        with open(dst, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        print(dst, len(out))


if __name__ == "__main__":
    main()
