"""Append hand-written lines to given conversations in src (by id). Usage: python tools_append.py FILE"""
import re, sys
from pathlib import Path
app, cur = {}, None
for l in open(sys.argv[1]):
    l = l.rstrip('\n')
    if l.startswith('## '): cur = l[3:].strip(); app[cur] = []
    elif l.strip(): app[cur].append(l)
n = 1
for src in sorted(Path('src').glob('part-*.txt')):
    parts = re.split(r'(?m)^(?====)', src.read_text())
    out = []
    for b in parts:
        if b.startswith('==='):
            cid = f"w3-{n:04d}"; n += 1
            if cid in app:
                b = b.rstrip('\n') + '\n' + '\n'.join(app[cid]) + '\n\n'
        out.append(b)
    src.write_text(''.join(out))
