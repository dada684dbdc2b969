#!/usr/bin/python3
"""Quick PyTorch-side retrieval check while iterating (the service's `twinlens eval --model` is the
reference figure). Queries and catalog images come as view dumps decoded by the service's decoder
(views.u8 + views.json; queries: one view per photo, items[i] has itemId and topCategory).

  /usr/bin/python3 models/training/evaluate.py --checkpoint MODEL/checkpoint.pt --catalog CAT_VIEWS \
      --queries QUERY_VIEWS [--rerank 20] [--raw]
Reports Recall@1/@5 and MRR, overall and per top category, for the shortlist and the pair-head rerank.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import ViewSet  # noqa: E402
from pair_head import PairHead  # noqa: E402
from twin import Twin, split_backbone  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def metrics(rank_lists, truth, cats):
    out = {}
    for name in ['all'] + sorted(set(cats)):
        sel = [i for i in range(len(truth)) if name == 'all' or cats[i] == name]
        r1 = np.mean([rank_lists[i][0] == truth[i] for i in sel])
        r5 = np.mean([truth[i] in rank_lists[i][:5] for i in sel])
        mrr = np.mean([1.0 / (list(rank_lists[i]).index(truth[i]) + 1) if truth[i] in rank_lists[i] else 0.0 for i in sel])
        out[name] = {'n': len(sel), 'r1': round(float(r1), 3), 'r5': round(float(r5), 3), 'mrr': round(float(mrr), 3)}
    return out


STEM_CACHE = {}


def stem_acts(stem, views, idx, mirror, batch=32):
    """Stem activations, computed once per (view set, block, mirror) by onnxruntime-node and kept under .tmp."""
    key = (views.directory, stem.output_name, mirror)
    if key not in STEM_CACHE:
        import hashlib
        import tempfile
        from data import cache_activations_ort
        from twin import extract_stem_onnx
        tag = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
        f = os.path.join(ROOT, '.tmp', 'eval-stem-cache', tag + '.pt')
        if os.path.exists(f):
            STEM_CACHE[key] = torch.load(f)
        else:
            os.makedirs(os.path.dirname(f), exist_ok=True)
            all_idx = np.arange(len(views))
            with torch.no_grad():
                if mirror:
                    acts = torch.cat([stem(views.images(all_idx[s:s + batch], mirror=True)).half()
                                      for s in range(0, len(all_idx), batch)])
                else:
                    with tempfile.TemporaryDirectory() as tmp:
                        so = extract_stem_onnx(ARGS.init, stem.output_name, os.path.join(tmp, 'stem.onnx'))
                        shape = stem(torch.zeros(1, 3, 224, 224)).shape[1:]
                        acts = cache_activations_ort(so, views.directory, all_idx, shape, tmp)
            torch.save(acts, f)
            STEM_CACHE[key] = acts
    return STEM_CACHE[key][torch.from_numpy(np.asarray(idx))]


@torch.no_grad()
def run(stem, model, views, idx, mirror=False, batch=64):
    acts = stem_acts(stem, views, idx, mirror)
    outs_e, outs_l = [], []
    for s in range(0, len(idx), batch):
        e, l = model(acts[s:s + batch].float())
        outs_e.append(e)
        outs_l.append(l)
    return torch.cat(outs_e), torch.cat(outs_l)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--checkpoint')
    ap.add_argument('--raw', action='store_true', help='raw pretrained GAP features (baseline)')
    ap.add_argument('--catalog', required=True)
    ap.add_argument('--queries', required=True)
    ap.add_argument('--init', default=os.path.join(ROOT, 'models', 'mobilenet_v2_140', 'model.onnx'))
    ap.add_argument('--rerank', type=int, default=20)
    ap.add_argument('--mirror', action='store_true')
    ap.add_argument('--first-block', type=int, default=14, help='with --raw: where the stem ends')
    ap.add_argument('--catalog-mean', action='store_true', help='catalog entry = mean of all its views')
    args = ap.parse_args()
    global ARGS
    ARGS = args
    torch.set_num_threads(2)
    ck = torch.load(args.checkpoint) if args.checkpoint else None
    first = ck['args']['first_block'] if ck else args.first_block
    stem, top, _, _ = split_backbone(args.init, first)
    if args.raw:
        class Raw(torch.nn.Module):
            def forward(self, x):
                f = top(x)
                return F.normalize(f.mean((2, 3)), dim=1), F.normalize(f, dim=1)
        model, head = Raw(), None
    else:
        a = ck['args']
        model = Twin(top, dim=a['dim'], local_channels=a['local_channels'])
        model.load_state_dict(ck['twin'])
        head = PairHead(compact=a.get('pair_compact', False))
        head.load_state_dict(ck['head'])
        head.eval()
    model.eval()
    cat, qv = ViewSet(args.catalog), ViewSet(args.queries)
    clean = cat.clean_index()
    if args.catalog_mean:
        ce, _ = run(stem, model, cat, np.arange(len(cat)))
        c_emb = F.normalize(torch.stack([ce[cat.view_item == i].mean(0) for i in range(len(cat.items))]), dim=1)
        _, c_loc = run(stem, model, cat, clean)
    else:
        c_emb, c_loc = run(stem, model, cat, clean)
    q_emb, q_loc = run(stem, model, qv, np.arange(len(qv)))
    if args.mirror:
        qm, _ = run(stem, model, qv, np.arange(len(qv)), mirror=True)
        q_emb = F.normalize(q_emb + qm, dim=1)
    ids = [str(it['itemId']) for it in cat.items]
    truth = [ids.index(str(qv.items[qv.view_item[i]]['itemId'])) for i in range(len(qv))]
    cats = [qv.items[qv.view_item[i]]['topCategory'].strip() for i in range(len(qv))]
    sims = q_emb @ c_emb.t()
    order = sims.argsort(1, descending=True).numpy()
    res = {'shortlist': metrics(order, truth, cats)}
    if head is not None:
        k = min(args.rerank, len(ids))
        with torch.no_grad():
            top_k = order[:, :k]
            p = torch.sigmoid(head(q_loc.repeat_interleave(k, 0), c_loc[torch.from_numpy(top_k.reshape(-1))])).reshape(-1, k)
        rer = np.take_along_axis(top_k, p.argsort(1, descending=True).numpy(), 1)
        res[f'rerank_top{k}'] = metrics(np.concatenate([rer, order[:, k:]], 1), truth, cats)
    for stage, m in res.items():
        print(stage, ' '.join(f"{c}:R1={v['r1']:.3f}/R5={v['r5']:.3f}" for c, v in m.items()))
    print(json.dumps(res))


if __name__ == '__main__':
    main()
