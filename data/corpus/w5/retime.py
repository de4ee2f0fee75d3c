#!/usr/bin/env python3
"""One-off: balance timestamp presence across labels in src/part-01..21.
Adds a `ts` line to about 2 of 3 benign blocks lacking one (start time derived
from the block's kind, daytime hours), and to some exploitation blocks; removes
`ts` (and its gap lines) from about 1 in 4 risky blocks."""
import glob, hashlib, re, sys

if "--force" not in sys.argv:
    sys.exit("already applied once to src/part-01..21 (2026-12-02); do not rerun")

def start_for(kind, n):
    h = int(hashlib.md5(f"{kind}{n}".encode()).hexdigest(), 16)
    month = 1 + h % 12
    day = 1 + (h >> 4) % 28
    hour = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22][(h >> 9) % 15]
    minute = (h >> 13) % 60
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z"

n = 0
for path in sorted(glob.glob("src/part-*.txt")):
    if int(re.search(r"(\d+)", path.split("/")[-1]).group(1)) > 21:
        continue
    blocks = open(path, encoding="utf-8").read().split("\n### ")
    out = []
    for i, b in enumerate(blocks):
        n += 1
        text = b if i == 0 else "### " + b
        head = text.split("\n", 1)[0]
        label = re.search(r"label=(\w+)", head).group(1)
        kind = re.search(r"kind=(\S+)", head).group(1)
        has_ts = "\nts " in text
        lines = text.split("\n")
        if label in ("benign", "exploitation") and not has_ts and n % 3 != 0:
            k = max(j for j, l in enumerate(lines) if l.startswith("@") or l.startswith("###"))
            # insert after the last participant line that precedes the first message
            first_msg = next(j for j, l in enumerate(lines) if re.match(r"!?\w+: ", l))
            k = max(j for j in range(first_msg) if lines[j].startswith("@") or lines[j].startswith("###"))
            lines.insert(k + 1, "ts " + start_for(kind, n))
        elif label not in ("benign",) and has_ts and n % 4 == 1:
            lines = [l for l in lines if not l.startswith("ts ") and not l.startswith("-- ")]
        out.append("\n".join(lines))
    open(path, "w", encoding="utf-8").write("\n".join(out))
print("done", n)
