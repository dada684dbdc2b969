"""
Research probe (not shipped) for the warm path's transfer problem: why items nobody confirmed lose
their queries once confirmed photos are folded into other items, and whether a hubness correction
helps. Reads the raw-backbone features that tools/warm/embed-grocery.ts writes, fits the same
within-item whitening as src/adapt/fit-whitening.ts (numpy, float64), and prints Recall@1 for the
queries of items with and without confirmed photos:
  cos                  the service's scoring (whitened vectors, confirmed photos folded in);
  bias K10 lambda L    cos minus L times the item's mean similarity to its 10 nearest confirmed photos;
  no-fold              whitened catalog vectors alone.
ALL: every item has its photos; HALF: the items whose id's MD5 is even (a different half from
eval's --feedback-item-fraction 0.5, so compare rows within one run, not with the eval).

usage (Debian's numpy): /usr/bin/python3 tools/warm/transfer_probe.py FEATURES_DIR
"""
import json, sys, numpy as np, hashlib
D=sys.argv[1] if len(sys.argv)>1 else '/tmp/whiten/raw'; m=json.load(open(D+'/meta.json')); d=m['dim']; V=m['views']
def rows(n):
    a=np.fromfile(f'{D}/{n}.f32',dtype=np.float32).reshape(-1,d); return a/np.linalg.norm(a,axis=1,keepdims=True)
nrm=lambda a: a/np.linalg.norm(a,axis=-1,keepdims=True)
cat=rows('catalog'); views=rows('catalog_views').reshape(len(cat),V,d)
q=nrm(rows('queries')+rows('queries_m')); fb=nrm(rows('feedback')+rows('feedback_m'))
items=[c['item'] for c in m['catalog']]; idx={it:i for i,it in enumerate(items)}
qi=np.array([idx[r['item']] for r in m['queries']]); fi=np.array([idx[r['item']] for r in m['feedback']])
catraw=nrm(cat+views.sum(1))
def fit(groups, ridge=0.1):
    allm=np.concatenate(groups); mean=allm.mean(0)
    res=np.concatenate([g-g.mean(0) for g in groups]); Sw=res.T@res/len(allm)
    Sw+=ridge*np.trace(Sw)/d*np.eye(d); L=np.linalg.cholesky(Sw); W=np.linalg.inv(L).T
    return mean,W
def proj(mean,W,x): return nrm((x-mean)@W)
def run(frac_items, label):
    fed=np.array([i in frac_items for i in range(len(items))])
    use=np.array([fed[i] for i in fi])
    groups=[]
    for i in range(len(items)):
        ph=fb[(fi==i)&use]
        c=[catraw[i:i+1], views[i]]
        groups.append(np.concatenate([ph]+ (c if len(ph)<10 else [])) if len(ph)>0 or True else None)
    mean,W=fit(groups)
    P=lambda x: proj(mean,W,x)
    catw=nrm(P(cat)+P(views.reshape(-1,d)).reshape(len(cat),V,d).sum(1))
    qw=nrm(P(rows('queries'))+P(rows('queries_m')))
    fbw=nrm(P(rows('feedback'))+P(rows('feedback_m')))
    gal=catw.copy()
    for k in np.where(use)[0]: gal[fi[k]]+=fbw[k]
    gal=nrm(gal)
    S=qw@gal.T
    def rep(S,name):
        top=S.argmax(1); hit=top==qi
        w=fed[qi]
        print(f'{label} {name}: all {hit.mean():.3f} with {hit[w].mean() if w.any() else 0:.3f} without {hit[~w].mean() if (~w).any() else 0:.3f}')
    rep(S,'cos')
    # CSLS with reference = confirmed photos (whitened); r_i = mean top-K cos of gallery i to reference photos
    ref=fbw[use]
    r=np.sort(gal@ref.T,axis=1)[:,-10:].mean(1)
    for lam in (0.1,0.2,0.3,0.4):
        rep(S-lam*r[None,:],f'bias K10 lambda {lam}')
    # unfolded catalog only for reference
    rep(qw@catw.T,'no-fold')
h=lambda s: int(hashlib.md5(s.encode()).hexdigest(),16)
half=set(i for i,it in enumerate(items) if h(it)%2==0)
run(set(range(len(items))),'ALL')
run(half,'HALF')
