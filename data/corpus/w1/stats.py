import json, glob, collections
c = collections.Counter(); ts = 0; n = 0; short = []; lens = []
for f in sorted(glob.glob(__import__('os').path.join(__import__('os').path.dirname(__import__('os').path.abspath(__file__)),'part-*.jsonl'))):
    for l in open(f):
        d = json.loads(l); n += 1
        c[(d['lang'], d['label'])] += 1
        ts += 'at' in d['messages'][0]
        k = len(d['messages']); lens.append(k)
        if k < 8 or k > 45: short.append((d['id'], k))
print(n, dict(sorted(c.items())), 'timestamped', ts, 'short', short)
lens.sort(); print('median len', lens[len(lens)//2])
