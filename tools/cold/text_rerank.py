"""
Research probe for issue 12 (not shipped): does OCR text rerank the cold shortlist? Reads the
default model's features of grocery-dev (tools/warm/embed-grocery.ts: catalog with its 16 views,
queries with their mirror; the cold cosine order of `make eval`) and tools/cold/ocr-grocery.ts's
text, and adds w x text score to the cosine of each query's top 20. The text score is the share of
the query's character trigrams (words of 3+ letters, lower-cased ASCII, OCR confidence >= MIN_CONF)
found in the item's: its catalog image's OCR text, its `name` column, or both.
usage: /usr/bin/python3 tools/cold/text_rerank.py FEATURES_DIR OCR.json [MIN_CONF=0.5] [CATALOG_CSV]
"""
import json, sys, re, csv, unicodedata, numpy as np
F = sys.argv[1]; OCR = sys.argv[2]
m = json.load(open(F + '/meta.json')); d = m['dim']; V = m['views']
def rows(n):
    a = np.fromfile(f'{F}/{n}.f32', dtype=np.float32).reshape(-1, d).astype(np.float64); return a / np.linalg.norm(a, axis=1, keepdims=True)
nrm = lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True)
cat = rows('catalog'); views = rows('catalog_views').reshape(len(cat), V, d)
items = [c['item'] for c in m['catalog']]; idx = {it: i for i, it in enumerate(items)}
qi = np.array([idx[r['item']] for r in m['queries']]); cats = np.array([c['cat'] for c in m['catalog']])
S = nrm(rows('queries') + rows('queries_m')) @ nrm(cat + views.sum(1)).T
o = json.load(open(OCR))
CSV = sys.argv[4] if len(sys.argv) > 4 else '../shared/data/grocery-dev/catalog.csv'
names = {r['item_id']: r['name'] for r in csv.DictReader(open(CSV, newline=''))}
def norm(s):
    s = unicodedata.normalize('NFKD', s).encode('ascii', 'ignore').decode().lower()
    return re.sub(r'[^a-z0-9]+', ' ', s).strip()
def grams(text, n=3):
    g = set()
    for w in norm(text).split():
        if len(w) < 3: continue
        w = f' {w} '
        g |= {w[i:i + n] for i in range(len(w) - n + 1)}
    return g
MINC = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
def text_of(entries): return ' '.join(t for t, c in entries if c >= MINC)
qg = [grams(text_of(q['texts'])) for q in o['queries']]
cg_ocr = [grams(text_of(o['catalog'][it]['texts'])) for it in items]
cg_name = [grams(names[it].replace('-', ' ')) for it in items]
def sim(a, b):  # containment of the query's grams in the item's
    return len(a & b) / len(a) if a and b else 0.0
def report(Sc, name):
    order = np.argsort(-Sc, 1); h1 = order[:, 0] == qi; h5 = (order[:, :5] == qi[:, None]).any(1); qc = cats[qi]
    print(f'{name:42s} R@1 {h1.mean():.3f} R@5 {h5.mean():.3f}  ' + ' '.join(f'{c[:3]} {h1[qc == c].mean():.3f}' for c in sorted(set(qc))))
report(S, 'cold cosine')
has = np.array([len(g) > 0 for g in qg]); print('queries with text:', has.sum(), 'of', len(has), {c: int(has[cats[qi] == c].sum()) for c in sorted(set(cats))})
for src, CG in (('ocr', cg_ocr), ('name', cg_name), ('ocr+name', [a | b for a, b in zip(cg_ocr, cg_name)])):
    T = np.array([[sim(q, c) for c in CG] for q in qg])
    # how often is the own item's text score the best among the top-20?
    for w in (0.05, 0.1, 0.2, 0.4):
        Sc = S.copy()
        top = np.argsort(-S, 1)[:, :20]
        for r in range(len(S)):
            Sc[r, top[r]] += w * T[r, top[r]]
        report(Sc, f'{src} w {w} (top-20 rerank)')
