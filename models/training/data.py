"""Simulated views as written by `twinlens simulate`: DIR/views.u8 (N x 224 x 224 x 3 uint8) + DIR/views.json.

views.json: {"items": [{"itemId": ...}, ...], "views": [{"item": index, "clean": bool}, ...]}.
A clean view is the catalog image itself (decoded like the service does); the others are simulated photos.
"""
import json
import os

import numpy as np
import torch

SIZE = 224


class ViewSet:
    def __init__(self, directory):
        with open(os.path.join(directory, 'views.json')) as f:
            meta = json.load(f)
        self.directory = directory
        self.items = meta['items']
        self.view_item = np.array([v['item'] for v in meta['views']], dtype=np.int64)
        self.view_clean = np.array([bool(v.get('clean', False)) for v in meta['views']])
        n = len(self.view_item)
        path = os.path.join(directory, 'views.u8')
        expected = n * SIZE * SIZE * 3
        if os.path.getsize(path) != expected:
            raise ValueError(f'{path}: {os.path.getsize(path)} bytes, expected {expected} for {n} views')
        self.pixels = np.memmap(path, dtype=np.uint8, mode='r', shape=(n, SIZE, SIZE, 3))
        if n and self.view_item.max() >= len(self.items):
            raise ValueError(f'{directory}: a view names item {self.view_item.max()} of {len(self.items)}')

    def __len__(self):
        return len(self.view_item)

    def images(self, idx, mirror=False):
        """float32 [B,3,224,224] in [0,1], the service's model input."""
        x = torch.from_numpy(np.ascontiguousarray(self.pixels[idx]))
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        return x.flip(3) if mirror else x

    def clean_index(self):
        """item -> index of its clean view (the first one), -1 when an item has none."""
        out = np.full(len(self.items), -1, dtype=np.int64)
        for i in np.nonzero(self.view_clean)[0][::-1]:
            out[self.view_item[i]] = i
        return out


def split_views(views, holdout_fraction, seed):
    """Simulated (non-clean) views split per item into train and held-out indices."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for item in range(len(views.items)):
        idx = np.nonzero((views.view_item == item) & ~views.view_clean)[0]
        rng.shuffle(idx)
        k = int(round(len(idx) * holdout_fraction)) if len(idx) > 1 else 0
        held.extend(idx[:k])
        train.extend(idx[k:])
    return np.array(sorted(train), dtype=np.int64), np.array(sorted(held), dtype=np.int64)


@torch.no_grad()
def cache_activations(stem, views, indices, batch=32, on_batch=None):
    """Frozen-stem activations for `indices`, float16 [len, C, H, W]."""
    chunks = []
    for s in range(0, len(indices), batch):
        idx = indices[s:s + batch]
        chunks.append(stem(views.images(idx)).half())
        if on_batch:
            on_batch(min(s + batch, len(indices)), len(indices))
    return torch.cat(chunks) if chunks else torch.zeros(0)


def cache_activations_ort(stem_onnx, views_dir, indices, shape, tmp_dir, on_batch=None, batch=16):
    """Same as cache_activations, computed by onnxruntime-node (stem_cache.js): several times faster."""
    import subprocess
    idx_file = os.path.join(tmp_dir, 'cache_index.i32')
    out_file = os.path.join(tmp_dir, 'cache.f32')
    np.asarray(indices, dtype=np.int32).tofile(idx_file)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stem_cache.js')
    proc = subprocess.Popen(['node', script, stem_onnx, os.path.join(views_dir, 'views.u8'), idx_file,
                             out_file, str(batch)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if on_batch and line.startswith('{'):
            p = json.loads(line)
            on_batch(p['done'], p['total'])
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise RuntimeError(f'stem_cache.js failed: {err.strip()[-2000:]}')
    acts = np.fromfile(out_file, dtype=np.float32).reshape((len(indices),) + tuple(shape))
    os.remove(out_file)
    return torch.from_numpy(acts.astype(np.float16))
