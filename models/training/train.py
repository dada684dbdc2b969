#!/usr/bin/python3
"""Fine-tunes the Siamese twin and trains the pair head on simulated views, then exports a model dir.

  /usr/bin/python3 models/training/train.py --views DIR --init models/mobilenet_v2_140/manifest.json \
      --out models/NAME --version VERSION [--budget-minutes M] [--smoke]

Stages (one JSON object per line on stdout: {"stage", "done", "total", ...}):
  cache      frozen stem (MobileNetV2 blocks 0..first_block-1) over every view, kept as float16
  train      top blocks + GeM + projection (embedding) + 1x1 conv (local features) + pair head;
             loss = multi-similarity (views) + softmax of views over clean catalog entries
                    + BCE of the pair head on (view, own clean) vs (view, shortlist negatives)
  calibrate  thresholds on held-out synthetic views (embedding cosine and pair probability)
  export     embedder.onnx + pair_head.onnx + manifest.json, checked against ONNX Runtime
"""
import argparse
import warnings
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calibrate import calibrate  # noqa: E402
from data import ViewSet, cache_activations, cache_activations_ort, split_views  # noqa: E402
from losses import catalog_softmax_loss, multi_similarity_loss  # noqa: E402
from pair_head import PairHead  # noqa: E402
from twin import Twin, extract_stem_onnx, split_backbone  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
warnings.filterwarnings('ignore', module='torch.onnx')
warnings.filterwarnings('ignore', category=UserWarning, message='.*(shape inference|Constant folding).*')

DEFAULTS = dict(first_block=14, dim=256, local_channels=128, items_per_batch=16, views_per_item=4,
                catalog_per_batch=64, shortlist_negatives=3, lr_top=1e-4, lr_head=1e-3, weight_decay=1e-4,
                holdout=0.15, budget_minutes=30.0, max_epochs=6.0, seed=1, temperature=0.05, pair_weight=1.0)


T0 = time.time()


def emit(stage, done, total, **extra):
    print(json.dumps({'stage': stage, 'done': done, 'total': total, 'elapsed_s': round(time.time() - T0, 1), **extra}),
          flush=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--views', required=True, help='dir with views.u8 + views.json (twinlens simulate)')
    ap.add_argument('--init', default=os.path.join(ROOT, 'models', 'mobilenet_v2_140', 'manifest.json'))
    ap.add_argument('--out', required=True)
    ap.add_argument('--version', required=True)
    ap.add_argument('--name', default=None, help='model name (default: basename of --out)')
    ap.add_argument('--budget-minutes', type=float, default=DEFAULTS['budget_minutes'],
                    help='wall-clock budget of the whole run; training stops early to fit it')
    ap.add_argument('--smoke', action='store_true', help='a few steps on a few views (CI)')
    ap.add_argument('--checkpoint', default=None, help='start from this torch checkpoint (trained top + heads)')
    ap.add_argument('--no-export', action='store_true')
    # defaults = the best measured on grocery-dev (models/training/README.md): fine-tuning the top on simulated
    # views lowered the real-photo figures below the closed-form whitening it starts from
    ap.add_argument('--freeze-top', action=argparse.BooleanOptionalAction, default=True,
                    help='keep the backbone and the (initialised) embedding projection; train local features + pair '
                         'head only (--no-freeze-top: fine-tune the top blocks too)')
    ap.add_argument('--freeze-memory-gb', type=float, default=4.0, help='memory for the cached 7x7 maps (--freeze-top)')
    ap.add_argument('--pair-compact', action=argparse.BooleanOptionalAction, default=True,
                    help='pair head on 15 summary features (see pair_head.py); --no-pair-compact: 101 features')
    ap.add_argument('--cache-file', default=None, help='keep / reuse the stem activations in this file')
    ap.add_argument('--init-method', choices=['whiten', 'pca'], default='whiten',
                    help='embedding projection start: within-item whitening of simulated views, or PCA')
    ap.add_argument('--cache', choices=['ort', 'torch'], default='ort',
                    help='what computes the frozen stem: onnxruntime-node (fast) or PyTorch')
    for k, v in DEFAULTS.items():
        if k == 'budget_minutes':
            continue
        ap.add_argument('--' + k.replace('_', '-'), type=type(v), default=v)
    return ap.parse_args(argv)


class Trainer:
    def __init__(self, args):
        self.args = args
        self.t0 = time.time()
        torch.manual_seed(args.seed)
        self.rng = np.random.default_rng(args.seed)
        torch.set_num_threads(int(os.environ.get('TWINLENS_TRAIN_THREADS', '2')))
        with open(args.init) as f:
            self.base_manifest = json.load(f)
        onnx_path = os.path.join(os.path.dirname(os.path.abspath(args.init)), self.base_manifest['file'])
        self.onnx_path = onnx_path
        self.stem, top, self.cut_name, _ = split_backbone(onnx_path, args.first_block)
        self.stem.eval()
        for p in self.stem.parameters():
            p.requires_grad_(False)
        self.twin = Twin(top, dim=args.dim, local_channels=args.local_channels)
        self.head = PairHead(compact=args.pair_compact)
        self.views = ViewSet(args.views)

    def elapsed_min(self):
        return (time.time() - self.t0) / 60

    # ---- data -------------------------------------------------------------------------------
    def prepare(self):
        a, v = self.args, self.views
        clean = v.clean_index()
        if (clean < 0).any():
            raise SystemExit(f'{int((clean < 0).sum())} items have no clean view (catalog image)')
        train_idx, held_idx = split_views(v, a.holdout, a.seed)
        if len(held_idx) == 0:
            raise SystemExit(f'--holdout {a.holdout} holds out none of the {len(train_idx)} views of {len(v.items)} items '
                             '(an item needs 2 or more views, and round(views x holdout) >= 1): raise --holdout or give items more views')
        if a.smoke:
            train_idx = train_idx[:max(16, len(train_idx) // 50)]
        self.clean_idx = clean
        self.train_idx, self.held_idx = train_idx, held_idx
        everything = np.concatenate([clean, train_idx, held_idx])
        progress = lambda d, t: emit('cache', d, t)  # noqa: E731
        cache_file = a.cache_file
        if cache_file and os.path.exists(cache_file):
            acts = torch.load(cache_file)
            if acts.shape[0] != len(everything):
                raise SystemExit(f'{cache_file}: {acts.shape[0]} cached views, expected {len(everything)}')
            emit('cache', len(everything), len(everything), note='loaded ' + cache_file)
        elif a.cache == 'ort':
            import tempfile
            with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
                stem_onnx = extract_stem_onnx(self.onnx_path, self.cut_name, os.path.join(tmp, 'stem.onnx'))
                shape = self.stem(torch.zeros(1, 3, 224, 224)).shape[1:]
                acts = cache_activations_ort(stem_onnx, a.views, everything, shape, tmp, on_batch=progress)
        else:
            acts = cache_activations(self.stem, v, everything, on_batch=progress)
        if cache_file and not os.path.exists(cache_file):
            torch.save(acts, cache_file)
        n_items = len(clean)
        self.clean_acts = acts[:n_items]
        self.train_acts = acts[n_items:n_items + len(train_idx)]
        self.held_acts = acts[n_items + len(train_idx):]
        self.train_items = torch.from_numpy(v.view_item[train_idx])
        self.held_items = torch.from_numpy(v.view_item[held_idx])
        self.by_item = [np.nonzero(self.train_items.numpy() == i)[0] for i in range(n_items)]

    @torch.no_grad()
    def embed(self, acts, batch=128):
        self.twin.eval()
        embs, locs = [], []
        for s in range(0, len(acts), batch):
            e, l = self.twin(acts[s:s + batch].float())
            embs.append(e)
            locs.append(l)
        self.twin.train()
        return torch.cat(embs), torch.cat(locs)

    @torch.no_grad()
    def init_projections(self):
        self.twin.eval()
        sample = self.train_acts[self.rng.permutation(len(self.train_acts))[:512]]
        sample = torch.cat([self.clean_acts, sample]).float()
        fm = torch.cat([self.twin.top(sample[s:s + 128]) for s in range(0, len(sample), 128)])
        pooled = self.twin.gem(fm)
        locs = fm.permute(0, 2, 3, 1).reshape(-1, fm.shape[1])
        locs = locs[torch.randperm(len(locs))[:8000]]
        self.twin.init_projections((pooled, locs))
        if self.args.init_method == 'whiten':
            self.init_whitening()
        self.twin.train()

    @torch.no_grad()
    def init_whitening(self, view_budget=3000, shrink=0.1):
        """Embedding projection = within-item whitening fitted on the simulated views (the closed-form
        method that led the frozen-feature experiments), then the `dim` whitened directions of largest total spread."""
        items, feats = [], []
        per_item = max(2, min(24, view_budget // max(1, len(self.by_item))))
        for i, views in enumerate(self.by_item):
            pick = views[:per_item]
            if len(pick) < 2:
                continue
            x = torch.cat([self.clean_acts[i:i + 1], self.train_acts[pick]]).float()
            feats.append(self.twin.gem(self.twin.top(x)))
            items.append(i)
        out = self.twin.proj.weight.shape[0]
        if len(items) < 2 or sum(len(f) for f in feats) <= out:
            emit('init', 1, 1, note='too few views to whiten: PCA projection kept')
            return
        mu_all = torch.cat(feats).mean(0)
        within = torch.cat([f - f.mean(0, keepdim=True) for f in feats])
        cov = within.t() @ within / len(within)
        cov += shrink * cov.trace() / cov.shape[0] * torch.eye(cov.shape[0])
        s, u = torch.linalg.eigh(cov)
        w = u / s.sqrt()  # [D, D]: x -> (x - mu) @ w is whitened within items
        # keep the `dim` whitened directions with the most total spread across all views (LDA-like)
        xw = (torch.cat(feats) - mu_all) @ w
        _, _, v = torch.linalg.svd(xw, full_matrices=False)
        p = (w @ v[:out].t()).t()  # [dim, D]
        self.twin.proj.weight.copy_(p)
        self.twin.proj.bias.copy_(-(p @ mu_all))

    @torch.no_grad()
    def freeze_top(self, batch=128):
        """--freeze-top: run the (frozen) top once over every cached view and train only the local-feature
        projection and the pair head on its 7x7x1792 maps; the embedding projection keeps its init."""
        self.twin.eval()
        per_view = self.twin.proj.weight.shape[1] * 49 * 2  # float16 7x7 map
        max_train = int(self.args.freeze_memory_gb * 1e9 / per_view) - len(self.clean_acts) - len(self.held_acts)
        if len(self.train_acts) > max_train > 0:  # large catalogs: keep a random subset of the training views
            keep = np.sort(self.rng.choice(len(self.train_acts), size=max_train, replace=False))
            self.train_acts, self.train_idx = self.train_acts[keep], self.train_idx[keep]
            self.train_items = self.train_items[keep]
            self.by_item = [np.nonzero(self.train_items.numpy() == i)[0] for i in range(len(self.clean_idx))]
            emit('freeze', 0, 1, note=f'kept {max_train} training views to fit --freeze-memory-gb')
        for name in ('clean_acts', 'train_acts', 'held_acts'):
            acts = getattr(self, name)
            out = [self.twin.top(acts[s:s + batch].float()).half() for s in range(0, len(acts), batch)]
            setattr(self, name, torch.cat(out) if out else acts)
            emit('freeze', 1, 1, part=name)
        self.twin.from_fmap = True
        self.twin.train()

    def sample_batch(self, neighbours):
        a = self.args
        n_items = len(self.clean_idx)
        have = [i for i in range(n_items) if len(self.by_item[i]) > 0]
        P = min(a.items_per_batch, len(have))
        # half the items at random, the rest their embedding-shortlist neighbours (hard negatives)
        seeds = list(self.rng.choice(have, size=max(1, P // 2), replace=False))
        chosen = list(dict.fromkeys(seeds))
        for s in seeds:
            for nb in neighbours[s]:
                if len(chosen) >= P:
                    break
                if nb not in chosen and len(self.by_item[nb]) > 0:
                    chosen.append(int(nb))
        while len(chosen) < P:
            c = int(self.rng.choice(have))
            if c not in chosen:
                chosen.append(c)
        view_idx = np.concatenate([self.rng.choice(self.by_item[i], size=a.views_per_item,
                                                   replace=len(self.by_item[i]) < a.views_per_item) for i in chosen])
        cat_items = list(chosen)
        for c in chosen:
            for nb in neighbours[c][:4]:
                if len(cat_items) >= max(a.catalog_per_batch, P):
                    break
                if nb not in cat_items:
                    cat_items.append(int(nb))
        rest = [i for i in self.rng.permutation(n_items) if i not in set(cat_items)]
        cat_items += [int(i) for i in rest[:max(0, a.catalog_per_batch - len(cat_items))]]
        return view_idx, np.array(cat_items)

    # ---- training -------------------------------------------------------------------------------
    def train(self):
        a = self.args
        top_params = list(self.twin.top.parameters())
        head_params = [p for n, p in self.twin.named_parameters() if not n.startswith('top.')]
        if a.freeze_top:
            head_params = list(self.twin.local.parameters())
            groups = [{'params': head_params + list(self.head.parameters()), 'lr': a.lr_head}]
        else:
            groups = [{'params': top_params, 'lr': a.lr_top},
                      {'params': head_params + list(self.head.parameters()), 'lr': a.lr_head}]
        opt = torch.optim.AdamW(groups, weight_decay=a.weight_decay)
        per_step_views = a.items_per_batch * a.views_per_item
        epoch_steps = max(1, len(self.train_idx) // per_step_views)
        total_steps = 3 if a.smoke else max(0, int(a.max_epochs * epoch_steps))
        budget_train_min = a.budget_minutes * 0.8 - self.elapsed_min()  # leave time for calibrate + export
        self.history = []
        neighbours = self.mine_neighbours()
        t_start = time.time()
        step = 0
        while step < total_steps:
            if step and step % epoch_steps == 0:
                neighbours = self.mine_neighbours()
            view_idx, cat_items = self.sample_batch(neighbours)
            q_items = self.train_items[view_idx]
            c_items = torch.from_numpy(cat_items)
            x = torch.cat([self.train_acts[view_idx], self.clean_acts[cat_items]]).float()
            emb, loc = self.twin(x)
            nq = len(view_idx)
            q_emb, c_emb, q_loc, c_loc = emb[:nq], emb[nq:], loc[:nq], loc[nq:]
            l_ms = multi_similarity_loss(torch.cat([q_emb, c_emb[:a.items_per_batch]]),
                                         torch.cat([q_items, c_items[:a.items_per_batch]]))
            l_ce = catalog_softmax_loss(q_emb, q_items, c_emb, c_items, a.temperature)
            # pair head: each view vs its own clean image and its top shortlist negatives
            with torch.no_grad():
                sims = q_emb @ c_emb.t()
                same = q_items[:, None] == c_items[None, :]
                pos_col = same.float().argmax(1)
                sims[same] = -2
                neg_cols = sims.topk(min(a.shortlist_negatives, sims.shape[1] - 1), dim=1).indices
            qi = torch.arange(nq)
            pq = torch.cat([qi, qi.repeat_interleave(neg_cols.shape[1])])
            pc = torch.cat([pos_col, neg_cols.reshape(-1)])
            labels = torch.cat([torch.ones(nq), torch.zeros(nq * neg_cols.shape[1])])
            logits = self.head(q_loc[pq], c_loc[pc])
            l_pair = F.binary_cross_entropy_with_logits(logits, labels,
                                                        pos_weight=torch.tensor(float(neg_cols.shape[1])))
            loss = a.pair_weight * l_pair if a.freeze_top else l_ms + l_ce + a.pair_weight * l_pair
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            rec = {'loss': round(loss.item(), 4), 'ms': round(l_ms.item(), 4), 'ce': round(l_ce.item(), 4),
                   'pair': round(l_pair.item(), 4)}
            self.history.append(rec)
            sec_per_step = (time.time() - t_start) / step
            self.sec_per_step = sec_per_step
            if step == 1 or step % 10 == 0 or step == total_steps:
                emit('train', step, total_steps, **rec, sec_per_step=round(sec_per_step, 3))
            if not a.smoke and (time.time() - t_start + sec_per_step) / 60 > budget_train_min:
                emit('train', step, step, note='stopped by the time budget')
                break
        self.steps, self.train_seconds = step, time.time() - t_start

    @torch.no_grad()
    def mine_neighbours(self, k=8):
        emb, _ = self.embed(self.clean_acts)
        sims = emb @ emb.t()
        sims.fill_diagonal_(-2)
        return sims.topk(min(k, len(emb) - 1), dim=1).indices.numpy()

    # ---- validation / calibration -----------------------------------------------------------------
    @torch.no_grad()
    def validate(self, negatives_per_view=4):
        """Held-out synthetic views vs the clean catalog: Recall@1 and thresholds for both scores."""
        self.twin.eval()
        self.head.eval()
        c_emb, c_loc = self.embed(self.clean_acts)
        q_emb, q_loc = self.embed(self.held_acts)
        if len(q_emb) == 0:
            return {'held_out_views': 0}
        sims = q_emb @ c_emb.t()
        items = self.held_items
        r1 = float((sims.argmax(1) == items).float().mean())
        order = sims.argsort(1, descending=True)
        pos_cos = sims[torch.arange(len(items)), items]
        # negatives: half from the top of the shortlist (the pairs the rerank sees), half at random
        # (the pairs Compare mostly sees); calibrating on hard ones alone would set the bar too high
        hard = []
        n_hard = max(1, negatives_per_view // 2)
        for i in range(len(items)):
            row = [int(c) for c in order[i] if int(c) != int(items[i])]
            rand = self.rng.choice(row[n_hard:], size=negatives_per_view - n_hard, replace=False) if len(row) > negatives_per_view else []
            hard.append(row[:n_hard] + [int(r) for r in rand])
        hard = torch.tensor(hard)
        neg_cos = sims.gather(1, hard).reshape(-1)
        qi = torch.arange(len(items))
        pos_p = torch.sigmoid(self.head(q_loc, c_loc[items]))
        neg_p = torch.sigmoid(self.head(q_loc[qi.repeat_interleave(hard.shape[1])], c_loc[hard.reshape(-1)]))
        # rerank of the top-10 shortlist by the pair head
        k = min(10, c_emb.shape[0])
        top = order[:, :k]
        pp = torch.sigmoid(self.head(q_loc.repeat_interleave(k, 0), c_loc[top.reshape(-1)])).reshape(-1, k)
        r1_rerank = float((top.gather(1, pp.argmax(1, keepdim=True)).squeeze(1) == items).float().mean())
        self.twin.train()
        self.head.train()
        emb_cal = calibrate(pos_cos.numpy(), neg_cos.numpy(), 'view vs clean catalog image, embedding cosine, '
                            f'negatives = {negatives_per_view // 2} top of the shortlist + {negatives_per_view - negatives_per_view // 2} random')
        pair_cal = calibrate(pos_p.numpy(), neg_p.numpy(), 'view vs clean catalog image, pair-head probability, '
                             f'negatives = {negatives_per_view // 2} top of the embedding shortlist + {negatives_per_view - negatives_per_view // 2} random')
        return {'held_out_views': len(items), 'recall_at_1': r1, 'recall_at_1_reranked_top10': r1_rerank,
                'embedding': emb_cal, 'pair': pair_cal}

    def save_checkpoint(self, path):
        torch.save({'twin': self.twin.state_dict(), 'head': self.head.state_dict(), 'args': vars(self.args),
                    'cut': self.cut_name}, path)


def git_commit():
    try:
        return subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except Exception:  # noqa: BLE001 - provenance only
        return None


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:
        args.items_per_batch, args.views_per_item, args.catalog_per_batch = 4, 2, 8
    tr = Trainer(args)
    emit('load', 1, 1, views=len(tr.views), items=len(tr.views.items), cut=tr.cut_name)
    tr.prepare()
    t_cache = tr.elapsed_min()
    if args.checkpoint:
        ck = torch.load(args.checkpoint)
        tr.twin.load_state_dict(ck['twin'])
        tr.head.load_state_dict(ck['head'])
    else:
        tr.init_projections()
    if args.freeze_top:
        tr.freeze_top()
    val_before = tr.validate()
    emit('validate', 0, 1, recall_at_1=val_before.get('recall_at_1'))
    tr.train()
    val = tr.validate()
    emit('calibrate', 1, 1, recall_at_1=val.get('recall_at_1'), recall_at_1_reranked=val.get('recall_at_1_reranked_top10'),
         pair_auc=val.get('pair', {}).get('auc'), embedding_auc=val.get('embedding', {}).get('auc'))
    os.makedirs(args.out, exist_ok=True)
    tr.save_checkpoint(os.path.join(args.out, 'checkpoint.pt'))
    if args.no_export:
        return 0
    from export import export_model  # noqa: E402 - keeps torch.onnx import off the smoke path until needed
    provenance = {
        'views': os.path.abspath(args.views), 'items': len(tr.views.items), 'train_views': int(len(tr.train_idx)),
        'held_out_views': int(len(tr.held_idx)), 'cut': tr.cut_name, 'trainable_from_block': args.first_block,
        'steps': tr.steps, 'cache_minutes': round(t_cache, 2), 'train_seconds': round(tr.train_seconds, 1),
        'loss_first': tr.history[0] if tr.history else None, 'loss_last': tr.history[-1] if tr.history else None,
        'validation_before': {k: v for k, v in val_before.items() if k in ('recall_at_1', 'recall_at_1_reranked_top10')},
        'validation': {'recall_at_1': val.get('recall_at_1'), 'recall_at_1_reranked_top10': val.get('recall_at_1_reranked_top10'),
                       'embedding': val.get('embedding', {}).get('text'), 'pair': val.get('pair', {}).get('text')},
        'hyperparameters': {k: getattr(args, k) for k in DEFAULTS}, 'smoke': args.smoke,
        'git_commit': git_commit(), 'torch': torch.__version__,
    }
    export_model(tr, args, val, provenance, emit)
    emit('done', 1, 1, out=os.path.abspath(args.out), minutes=round(tr.elapsed_min(), 2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
