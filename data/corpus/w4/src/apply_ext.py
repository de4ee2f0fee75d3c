import re, sys, glob
# starting ids per src file
starts = {}
for f in sorted(glob.glob('src/part-*.txt')):
    starts[f] = None
ext = {}
cur = None
for line in open(sys.argv[1], encoding='utf-8'):
    if line.startswith('+++'):
        cur = int(line.split()[1]); ext[cur] = []
    elif line.strip():
        ext[cur].append(line.rstrip('\n'))
nid = 1
for f in sorted(glob.glob('src/part-*.txt')):
    lines = open(f, encoding='utf-8').read().split('\n')
    blocks = []
    for l in lines:
        if l.startswith('==='):
            blocks.append([l])
        elif blocks:
            blocks[-1].append(l)
    out = []
    for b in blocks:
        while b and not b[-1].strip(): b.pop()
        if nid in ext: b += ext.pop(nid)
        out += b
        nid += 1
    open(f, 'w', encoding='utf-8').write('\n'.join(out) + '\n')
print('unapplied', list(ext))
