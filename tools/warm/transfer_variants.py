"""
Research probe (not shipped), the sequel to transfer_probe.py: scorings that try to keep what
confirmed photos give their own items without taking the queries of items nobody confirmed (issue
11's transfer bar). Same features (tools/warm/embed-grocery.ts), same within-item whitening fitted
on the HALF of the items whose id's MD5 is even, same report: Recall@1 over all queries, over the
queries of items with confirmed photos ("with") and of the others ("without"); "cold" is the raw
backbone with no photos and no whitening.

Variants (each a row):
  fold                       the service: item vector = normalised sum of catalog vector and photos
  no fold                    whitened catalog vectors only (what the whitening alone transfers)
  shift b                    unconfirmed items moved by b x the mean (photo mean - catalog) offset
  map a                      a ridge map (towards identity, strength a) from catalog vectors to photo means
  best-view topK             an item scores by its best catalog vector or the mean of its K best photos
  item z-norm / mean-norm    each item's score minus (and over) its scores for other items' photos
  type z-norm x a            scores z-normed by type (photo-folded vs catalog-only), folded ones x a
  fold weight w (+meannorm)  photo mean added with weight w (and each item's mean impostor score off)
  remove top r dirs          the r main directions of (photo - catalog) differences projected out

usage (Debian's numpy): /usr/bin/python3 tools/warm/transfer_variants.py FEATURES_DIR
"""
import json, sys, hashlib
import numpy as np

D = sys.argv[1] if len(sys.argv) > 1 else '/tmp/whiten/raw'
m = json.load(open(D + '/meta.json')); d = m['dim']; V = m['views']
nrm = lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True)
def rows(n): return nrm(np.fromfile(f'{D}/{n}.f32', dtype=np.float32).reshape(-1, d).astype(np.float64))
cat = rows('catalog'); views = rows('catalog_views').reshape(len(cat), V, d)
qr, qmr, fr, fmr = rows('queries'), rows('queries_m'), rows('feedback'), rows('feedback_m')
items = [c['item'] for c in m['catalog']]; idx = {it: i for i, it in enumerate(items)}
qi = np.array([idx[r['item']] for r in m['queries']]); fi = np.array([idx[r['item']] for r in m['feedback']])
catraw = nrm(cat + views.sum(1))
fed = np.array([int(hashlib.md5(it.encode()).hexdigest(), 16) % 2 == 0 for it in items]); use = fed[fi]

def rep(S, name):
    hit = S.argmax(1) == qi; w = fed[qi]
    print(f'{name:34s} all {hit.mean():.3f}  with {hit[w].mean():.3f}  without {hit[~w].mean():.3f}', flush=True)

# The within-item whitening of src/adapt/fit-whitening.ts (ridge 0.1), fitted on the confirmed half.
q = nrm(qr + qmr); fb = nrm(fr + fmr)
groups = [fb[(fi == i) & use] for i in range(len(items))]
groups = [g if len(g) >= 10 else np.concatenate([g, catraw[i:i + 1], views[i]]) for i, g in enumerate(groups)]
allm = np.concatenate(groups); mean = allm.mean(0)
res = np.concatenate([g - g.mean(0) for g in groups]); Sw = res.T @ res / len(allm)
Sw += 0.1 * np.trace(Sw) / d * np.eye(d); W = np.linalg.inv(np.linalg.cholesky(Sw)).T
P = lambda x: nrm((x - mean) @ W)
catw = nrm(P(cat) + P(views.reshape(-1, d)).reshape(len(cat), V, d).sum(1))
qw = nrm(P(qr) + P(qmr)); fbw = nrm(P(fr) + P(fmr))
U = np.where(use)[0]; ref = fbw[U]; refi = fi[U]
pm = np.zeros_like(catw); n = np.zeros(len(items))
for j, k in enumerate(refi): pm[k] += ref[j]; n[k] += 1
F = np.where(n > 0)[0]; Nf = np.where(n == 0)[0]
pmean = pm / np.maximum(n, 1)[:, None]
folded = nrm(catw + pm)

rep(q @ catraw.T, 'cold (raw, no photos)')
rep(qw @ folded.T, 'fold (service)')
rep(qw @ catw.T, 'no fold')
delta = (pmean[F] - catw[F]).mean(0)
for b in (0.5, 1.0, 1.5):
    rep(qw @ nrm(np.where(n[:, None] > 0, catw + pm, catw + b * delta)).T, f'shift b{b}')
for a in (1.0, 10.0):
    Mt = np.linalg.solve(catw[F].T @ catw[F] + a * np.eye(d), catw[F].T @ pmean[F] + a * np.eye(d))
    pred = nrm(catw @ Mt)
    rep(qw @ nrm(np.where(n[:, None] > 0, pm + pred, pred)).T, f'map a{a}')

def best_view(X, k):
    S = X @ catw.T; SP = X @ ref.T; out = S.copy()
    for i in F:
        sp = np.sort(SP[:, refi == i], axis=1)[:, -k:].mean(1); out[:, i] = np.maximum(S[:, i], sp)
    return out
def item_norm(Sq, Sr, name):
    mu = np.array([Sr[refi != i, i].mean() for i in range(len(items))])
    sd = np.array([Sr[refi != i, i].std() + 1e-9 for i in range(len(items))])
    rep((Sq - mu) / sd, name + ' item z-norm'); rep(Sq - mu, name + ' mean-norm')
for k in (1, 3):
    rep(best_view(qw, k), f'best-view top{k}')
    item_norm(best_view(qw, k), best_view(ref, k), f'best-view top{k}')
item_norm(qw @ folded.T, ref @ folded.T, 'fold')
item_norm(qw @ catw.T, ref @ catw.T, 'no fold')

# Type z-norm: impostor statistics of folded items (photo vs other folded items) and of catalog-only scores.
imp_fold = np.concatenate([(ref[j] @ folded[F].T)[F != refi[j]] for j in range(0, len(ref), 3)])
Sr_cat = ref @ catw.T
imp_cat = np.concatenate([np.delete(Sr_cat[j], refi[j]) for j in range(0, len(ref), 3)])
zf = (qw @ folded.T - imp_fold.mean()) / imp_fold.std(); zc = (qw @ catw.T - imp_cat.mean()) / imp_cat.std()
for a in (1.0, 0.8, 0.6, 0.4):
    L = zc.copy(); L[:, F] = a * zf[:, F]; rep(L, f'type z-norm x{a}')

for w in (0.1, 0.3, 0.5, 1.0):
    gal = nrm(catw + w * np.where(n[:, None] > 0, nrm(pmean + 1e-12), 0))
    rep(qw @ gal.T, f'fold weight {w}')
    Sr = ref @ gal.T; mu = np.array([Sr[refi != i, i].mean() for i in range(len(items))])
    rep(qw @ gal.T - mu, f'fold weight {w} + mean-norm')

_, _, Vt = np.linalg.svd(ref - catw[refi], full_matrices=False)
for r in (1, 3, 10, 30):
    B = Vt[:r]; proj = lambda X: nrm(X - (X @ B.T) @ B)
    cw, qw2, fb2 = proj(catw), proj(qw), proj(ref)
    gal = cw.copy()
    for j, k in enumerate(refi): gal[k] += fb2[j]
    rep(qw2 @ nrm(gal).T, f'remove top{r} dirs, fold'); rep(qw2 @ cw.T, f'remove top{r} dirs, no fold')

# Gate: a query whose nearest confirmed photo is close enough is taken to show a confirmed item
# (those rank first, by fold); the others rank the rest by mean-normed catalog score.
Sf, Sc = qw @ folded.T, qw @ catw.T
mu = np.array([Sr_cat[refi != i, i].mean() for i in range(len(items))])
nn = (qw @ ref.T).max(1)
print(f'nearest confirmed photo, mean similarity: queries of confirmed items {nn[fed[qi]].mean():.3f}, of the others {nn[~fed[qi]].mean():.3f}')
for qt in (0.2, 0.4, 0.6):
    tau = np.quantile(nn, qt); g = nn > tau
    rep(np.where(g[:, None], np.where(fed[None, :], 10 + Sf, Sc - mu), np.where(fed[None, :], -10 + Sf, Sc - mu)), f'gate at quantile {qt} ({tau:.3f})')
