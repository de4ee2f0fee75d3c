import sys, glob
# prepend lines to conversations: "--- ID" then lines; inserted after the participant (@) lines
pre = {}; cur = None
for line in open(sys.argv[1], encoding='utf-8'):
    if line.startswith('---'):
        cur = int(line.split()[1]); pre[cur] = []
    elif line.strip():
        pre[cur].append(line.rstrip('\n'))
nid = 1
for f in sorted(glob.glob('src/part-*.txt')):
    blocks = []
    for l in open(f, encoding='utf-8').read().split('\n'):
        if l.startswith('==='): blocks.append([l])
        elif blocks: blocks[-1].append(l)
    out = []
    for b in blocks:
        if nid in pre:
            k = max(i for i, l in enumerate(b) if l.startswith('@') or l.startswith('===')) + 1
            b = b[:k] + pre.pop(nid) + b[k:]
        out += b; nid += 1
    open(f, 'w', encoding='utf-8').write('\n'.join(out).rstrip('\n') + '\n')
print('unapplied', list(pre))
