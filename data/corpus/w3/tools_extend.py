"""Add hand-written lines to conversations in src, by id.
Extension file:  '## w3-0001' then lines 'P who: text' (put before the first message),
'A who: text' (put after the last message), 'G +2d' (gap given to the original first message).
Usage: python tools_extend.py FILE   |   python tools_extend.py --show FROM TO"""
import re, sys, json
from pathlib import Path

def blocks():
    n = 1
    for src in sorted(Path('src').glob('part-*.txt')):
        parts = re.split(r'(?m)^(?====)', src.read_text())
        yield src, parts, n
        n += sum(1 for b in parts if b.startswith('==='))

if sys.argv[1] == '--show':
    lo, hi = int(sys.argv[2]), int(sys.argv[3])
    for f in sorted(Path('.').glob('part-*.jsonl')):
        for l in open(f):
            c = json.loads(l); k = int(c['id'][3:])
            ms = c['messages']
            sg = [i for i, m in enumerate(ms) if m.get('signs')]
            need = len(ms) < 12 or (sg and 0 < sg[0] <= 3)
            if lo <= k <= hi and need:
                ps = ' '.join(f"{h}({p.get('age')})" for h, p in c['participants'].items())
                print(f"## {c['id']} {c['lang']} {c['label']} {c['kind']} n={len(ms)} fri={c['first_risk_index']} sign1={sg[0] if sg else None} | {ps}")
                show = ms if len(ms) <= 5 else ms[:2] + [None] + ms[-3:]
                for m in show:
                    print('   ...' if m is None else f"   {m['from']}: {m['text'][:110]}")
    sys.exit()

ext, cur = {}, None
for l in open(sys.argv[1], encoding='utf-8'):
    l = l.rstrip('\n')
    if l.startswith('## '):
        cur = l[3:].split()[0]; ext[cur] = {'P': [], 'A': [], 'G': None}
    elif l[:2] in ('P ', 'A '):
        ext[cur][l[0]].append(l[2:])
    elif l.startswith('G '):
        ext[cur]['G'] = l[2:].strip()
for src, parts, n in blocks():
    out = []
    for b in parts:
        if b.startswith('==='):
            cid = f"w3-{n:04d}"; n += 1
            if cid in ext:
                e = ext[cid]
                lines = b.rstrip('\n').split('\n')
                first = next(i for i, x in enumerate(lines) if i > 0 and x.strip() and not x.startswith('@') and not x.startswith('#'))
                if e['G']:
                    x = lines[first]; mark = '>' if x.startswith('>') else ''
                    who, msg = x[len(mark):].split(':', 1)
                    msg = msg.strip()
                    if not re.match(r'^\+\d+[smhd]\s', msg):
                        lines[first] = f"{mark}{who}: {e['G']} {msg}"
                lines = lines[:first] + e['P'] + lines[first:] + e['A']
                b = '\n'.join(lines) + '\n\n'
        out.append(b)
    src.write_text(''.join(out))
