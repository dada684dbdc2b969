"""Exports the trained twin (embedder.onnx) and pair head (pair_head.onnx), checks both against
ONNX Runtime (onnxruntime-node, the service's runtime, via ort_check.js) and writes manifest.json."""
import json
import os
import subprocess
import tempfile

import numpy as np
import onnx
import torch

from twin import Embedder

OPSET = 17
HERE = os.path.dirname(os.path.abspath(__file__))


def _export(module, inputs, names_in, names_out, path, dynamic):
    module.eval()
    torch.onnx.export(module, inputs, path, input_names=names_in, output_names=names_out, opset_version=OPSET,
                      dynamic_axes=dynamic, do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model)


def _ort_run(model_path, feeds, outputs, tmp):
    spec = {'model': model_path, 'inputs': {}, 'outputs': {}}
    for name, arr in feeds.items():
        f = os.path.join(tmp, name + '.in')
        np.ascontiguousarray(arr, dtype=np.float32).tofile(f)
        spec['inputs'][name] = {'file': f, 'dims': list(arr.shape)}
    for name in outputs:
        spec['outputs'][name] = os.path.join(tmp, name + '.out')
    spec_file = os.path.join(tmp, 'spec.json')
    with open(spec_file, 'w') as f:
        json.dump(spec, f)
    res = subprocess.run(['node', os.path.join(HERE, 'ort_check.js'), spec_file], capture_output=True, text=True,
                         timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f'onnxruntime-node check failed: {res.stderr.strip()[-2000:]}')
    dims = json.loads(res.stdout.strip().splitlines()[-1])['dims']
    return {n: np.fromfile(spec['outputs'][n], dtype=np.float32).reshape(dims[n]) for n in outputs}


def check_against_ort(embedder, head, out_dir, sample_images):
    """Max abs differences ORT vs torch on real sample images (and odd batch sizes: dynamic batch)."""
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        x = sample_images
        emb_t, loc_t = embedder(x)
        ort = _ort_run(os.path.join(out_dir, 'embedder.onnx'), {'image': x.numpy()}, ['embedding', 'local_features'], tmp)
        n = loc_t.shape[0]
        perm = torch.roll(torch.arange(n), 1)
        logit_t = head(loc_t, loc_t[perm])
        ort_h = _ort_run(os.path.join(out_dir, 'pair_head.onnx'),
                         {'query_local': loc_t.numpy(), 'candidate_local': loc_t[perm].numpy()}, ['logit'], tmp)
        return {
            'images': int(n),
            'embedding_max_abs_diff': float(np.abs(ort['embedding'] - emb_t.numpy()).max()),
            'local_features_max_abs_diff': float(np.abs(ort['local_features'] - loc_t.numpy()).max()),
            'pair_logit_max_abs_diff': float(np.abs(ort_h['logit'] - logit_t.numpy()).max()),
            'runtime': 'onnxruntime-node (models/training/ort_check.js)',
        }


def export_model(tr, args, val, provenance, emit):
    out = args.out
    tr.twin.from_fmap = False
    embedder = Embedder(tr.stem, tr.twin).eval()
    head = tr.head.eval()
    emit('export', 0, 3)
    dummy = torch.rand(2, 3, 224, 224)
    _export(embedder, (dummy,), ['image'], ['embedding', 'local_features'], os.path.join(out, 'embedder.onnx'),
            {'image': {0: 'N'}, 'embedding': {0: 'N'}, 'local_features': {0: 'N'}})
    emit('export', 1, 3)
    c = args.local_channels
    loc = torch.nn.functional.normalize(torch.randn(3, c, 7, 7), dim=1)
    _export(head, (loc, loc.flip(0)), ['query_local', 'candidate_local'], ['logit'], os.path.join(out, 'pair_head.onnx'),
            {'query_local': {0: 'N'}, 'candidate_local': {0: 'N'}, 'logit': {0: 'N'}})
    emit('export', 2, 3)
    # real sample images: held-out views (odd count exercises the dynamic batch)
    idx = np.concatenate([tr.clean_idx[:2], tr.held_idx[:3] if len(tr.held_idx) else tr.train_idx[:3]])
    check = check_against_ort(embedder, head, out, tr.views.images(idx))
    tol = 1e-3
    if max(check['embedding_max_abs_diff'], check['local_features_max_abs_diff'], check['pair_logit_max_abs_diff']) > tol:
        raise RuntimeError(f'ONNX Runtime disagrees with PyTorch beyond {tol}: {check}')
    provenance['onnx_check'] = check
    emit('export', 3, 3, **{k: v for k, v in check.items() if k.endswith('diff')})

    base = tr.base_manifest
    name = args.name or os.path.basename(os.path.abspath(out))
    emb_cal, pair_cal = val.get('embedding', {}), val.get('pair', {})
    manifest = {
        'name': name,
        'version': args.version,
        'file': 'embedder.onnx',
        'input': base['input'],
        'outputs': {'embedding': 'embedding', 'localFeatures': 'local_features'},
        'embeddingDim': args.dim,
        'normalize': 'l2',
        'threshold': emb_cal.get('threshold', base.get('threshold')),
        'thresholdCalibration': emb_cal.get('text', 'not calibrated (no held-out views)'),
        'localFeatures': {'channels': c, 'height': 7, 'width': 7},
        'pairHead': {
            'file': 'pair_head.onnx',
            'inputs': {'query': 'query_local', 'candidate': 'candidate_local'},
            'output': 'logit',
            'threshold': pair_cal.get('threshold', 0.5),
            'thresholdCalibration': pair_cal.get('text', 'not calibrated (no held-out views)'),
        },
        'source': (f'Siamese twin fine-tuned by models/training/train.py from {base.get("name")} '
                   f'({base.get("version")}): blocks from {args.first_block} up, GeM + linear {args.dim}-d embedding, '
                   f'1x1 conv {c}-channel local features, cross-correlation pair head. Base model: '
                   + (base.get('source') or '')),
        'training': provenance,
    }
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest
