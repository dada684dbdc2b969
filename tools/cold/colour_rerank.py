"""
Research probe for issue 12's colour evidence (the shipped stage is src/color/color-evidence.ts): adds
w x the Bhattacharyya coefficient of hue x saturation x value histograms (non-white pixels) to the
score of each query's top 20 after the text rerank of tools/cold/text_rerank.py, for each way of
taking the query's pixels; then Compare's ROC AUC with the same terms.
usage: /usr/bin/python3 tools/cold/colour_rerank.py FEATURES_DIR OCR.json PIXELS_DIR
  FEATURES_DIR from tools/warm/embed-grocery.ts, OCR.json from tools/cold/ocr-grocery.ts,
  PIXELS_DIR from tools/cold/dump-colour-pixels.mjs
"""
import json, sys, os, numpy as np
F, OCR, PX = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = ['text_rerank.py', F, OCR]
here = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(here, 'text_rerank.py')).read(); src = src[:src.index('def report')]
exec(src)
T=np.array([[sim(qg[i], cg_ocr[j] | cg_name[j]) for j in range(len(items))] for i in range(len(qg))])
S64=64
cat_ids=json.load(open(f'{PX}/catalog.json')); assert cat_ids==items
C=np.fromfile(f'{PX}/catalog.rgb',dtype=np.uint8).reshape(-1,S64*S64,3).astype(np.float32)/255
def hsv(x):
    mx=x.max(-1); mn=x.min(-1); d=mx-mn+1e-6
    r,g,b=x[...,0],x[...,1],x[...,2]
    h=np.where(mx==r,(g-b)/d%6,np.where(mx==g,(b-r)/d+2,(r-g)/d+4))/6
    s=np.where(mx>0,(mx-mn)/(mx+1e-6),0); return h%1,s,mx
def hist(x, hb=12, sb=3, vb=3, white=0.9):
    h,s,v=hsv(x); fg=~((x.min(-1)>white))
    out=[]
    for i in range(len(x)):
        m=fg[i]
        if m.sum()<10: m=np.ones_like(m)
        hh,ss,vv=h[i][m],s[i][m],v[i][m]
        grey=ss<0.15
        H=np.zeros((hb,sb,vb)); 
        hi=np.minimum((hh*hb).astype(int),hb-1); si=np.minimum(((ss-0.15)/0.85*sb).astype(int),sb-1).clip(0); vi=np.minimum((vv*vb).astype(int),vb-1)
        np.add.at(H,(hi[~grey],si[~grey],vi[~grey]),1)
        G=np.bincount(np.minimum((vv[grey]*4).astype(int),3),minlength=4)
        f=np.concatenate([H.ravel(),G]).astype(np.float64); out.append(f/f.sum())
    return np.array(out)
def ev(score, name):
    # rerank only the top 20 of the cosine order
    top=np.argsort(-S,1)[:,:20]
    r1=[];r5=[];cat_r1={}
    for i in range(len(qi)):
        t=top[i]; o=t[np.argsort(-score[i,t],kind='stable')]
        r1.append(o[0]==qi[i]); r5.append(qi[i] in o[:5]); c=cats[qi[i]]; cat_r1.setdefault(c,[]).append(o[0]==qi[i])
    print('%-40s R@1 %.3f R@5 %.3f '%(name,np.mean(r1),np.mean(r5))+' '.join('%s %.3f'%(k[:3],np.mean(v)) for k,v in sorted(cat_r1.items())))
ev(S,'cosine'); ev(S+0.2*T,'cosine+text')
for QF in ['cutout','whole','middle']:
  Q=np.fromfile(f'{PX}/queries-{QF}.rgb',dtype=np.uint8).reshape(-1,S64*S64,3).astype(np.float32)/255
  for hb,sb,vb in [(12,3,3),(18,3,2)]:
    hc=hist(C,hb,sb,vb); hq=hist(Q,hb,sb,vb)
    B=np.sqrt(hq)@np.sqrt(hc).T
    for w in [0.05,0.1,0.2,0.3]:
        ev(S+0.2*T+w*B,f'+colour {QF} {hb}x{sb}x{vb} w{w}')
same=np.zeros_like(S,dtype=bool); same[np.arange(len(qi)),qi]=True
def auc(sc):
    p=sc[same]; n=sc[~same]
    order=np.argsort(np.concatenate([p,n])); r=np.empty(len(order)); r[order]=np.arange(1,len(order)+1)
    return (r[:len(p)].sum()-len(p)*(len(p)+1)/2)/(len(p)*len(n))
Q=np.fromfile(f'{PX}/queries-middle.rgb',dtype=np.uint8).reshape(-1,S64*S64,3).astype(np.float32)/255
hc=hist(C,12,3,3); hq=hist(Q,12,3,3); B=np.sqrt(hq)@np.sqrt(hc).T
for w in [0,0.1,0.2,0.4]: print('AUC cos+0.2T+%.1fB %.3f'%(w,auc(S+0.2*T+w*B)))
