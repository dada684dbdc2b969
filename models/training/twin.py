"""The Siamese twin: MobileNetV2-1.4 rebuilt in PyTorch from the service's own ONNX file, plus heads.

The backbone is not re-implemented by hand: `OnnxSegment` builds torch modules for the nodes of
models/mobilenet_v2_140/model.onnx (Conv with folded batch norm, Clip 0..6, Add, Mul/Sub by a
scalar) and runs them in graph order, so the weights and padding are exactly the ones the service
runs. `split_backbone` cuts the graph at the input of one inverted-residual block: the part below
(`stem`) stays frozen and its activations can be cached; the part above (`top`, up to Conv_1's
7x7x1792 map) is fine-tuned.

`Twin` = top + heads:
  embedding      GeM pooling of the 7x7x1792 map -> linear 1792->D -> L2 normalise   [N, D]
  local_features 1x1 conv 1792->C on the 7x7 map -> L2 normalise per location       [N, C, 7, 7]
"""
import re

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

CONV1_OUTPUT = 'MobilenetV2/Conv_1/Relu6'


def _key(name):
    return re.sub(r'[^0-9A-Za-z_]', '_', name)


class OnnxSegment(nn.Module):
    """Runs nodes[i:j] of the backbone graph; `input_name` -> `output_name`."""

    def __init__(self, nodes, inits, input_name, output_name):
        super().__init__()
        self.input_name, self.output_name = input_name, output_name
        self.steps = []  # (kind, module key or constant, inputs, output)
        self.convs = nn.ModuleDict()
        for n in nodes:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            if n.op_type == 'Conv':
                w = torch.from_numpy(numpy_helper.to_array(inits[n.input[1]]).copy())
                b = torch.from_numpy(numpy_helper.to_array(inits[n.input[2]]).copy())
                conv = nn.Conv2d(w.shape[1] * attrs['group'], w.shape[0], tuple(attrs['kernel_shape']),
                                 stride=tuple(attrs['strides']), groups=attrs['group'], bias=True)
                conv.weight.data.copy_(w)
                conv.bias.data.copy_(b)
                pt, pl, pb, pr = attrs['pads']
                k = _key(n.output[0])
                self.convs[k] = conv
                self.steps.append(('conv', k, (pl, pr, pt, pb), n.input[0], n.output[0]))
            elif n.op_type == 'Clip':
                self.steps.append(('relu6', None, None, n.input[0], n.output[0]))
            elif n.op_type == 'Add':
                self.steps.append(('add', None, None, tuple(n.input), n.output[0]))
            elif n.op_type in ('Mul', 'Sub'):
                c = float(numpy_helper.to_array(inits[n.input[1]]))
                self.steps.append((n.op_type.lower(), None, c, n.input[0], n.output[0]))
            else:
                raise ValueError(f'unsupported op {n.op_type} in segment')

    def forward(self, x):
        env = {self.input_name: x}
        for kind, key, arg, inp, out in self.steps:
            if kind == 'conv':
                t = env[inp]
                if any(arg):
                    t = F.pad(t, arg)
                env[out] = self.convs[key](t)
            elif kind == 'relu6':
                env[out] = F.hardtanh(env[inp], 0.0, 6.0)
            elif kind == 'add':
                env[out] = env[inp[0]] + env[inp[1]]
            elif kind == 'mul':
                env[out] = env[inp] * arg
            elif kind == 'sub':
                env[out] = env[inp] - arg
        return env[self.output_name]


def block_input_name(graph, block):
    """Tensor that feeds inverted-residual block `block` (1..16) of MobileNetV2."""
    prefix = f'MobilenetV2/expanded_conv_{block}/'
    for n in graph.node:
        if n.name.startswith(prefix) or any(o.startswith(prefix) for o in n.output):
            return n.input[0]
    raise ValueError(f'block {block} not found')


def split_backbone(onnx_path, first_trainable_block):
    """Returns (stem, top, cut_name, cut_channels): stem: image -> cut, top: cut -> 7x7x1792."""
    model = onnx.load(onnx_path)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    cut = block_input_name(g, first_trainable_block)
    names = [n.output[0] for n in g.node]
    i_cut = names.index(cut) + 1
    i_end = names.index(CONV1_OUTPUT) + 1
    # the cut must be a block boundary: nothing after it reads a tensor made before it
    made_before = set(names[:i_cut]) - {cut}
    for n in g.node[i_cut:i_end]:
        if made_before.intersection(n.input):
            raise ValueError(f'cut {cut} is not a block boundary')
    stem = OnnxSegment(g.node[:i_cut], inits, 'image', cut)
    top = OnnxSegment(g.node[i_cut:i_end], inits, cut, CONV1_OUTPUT)
    with torch.no_grad():
        c = stem(torch.zeros(1, 3, 224, 224)).shape[1]
    return stem, top, cut, c


class GeM(nn.Module):
    def __init__(self, p=3.0, eps=1e-6):
        super().__init__()
        self.p = nn.Parameter(torch.tensor(float(p)))
        self.eps = eps

    def forward(self, x):
        p = self.p.clamp(1.0, 8.0)
        return x.clamp(min=self.eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


class Twin(nn.Module):
    """Trainable part of the twin: cached stem activations -> (embedding, local_features)."""

    def __init__(self, top, dim=256, local_channels=128, feat_channels=1792):
        super().__init__()
        self.top = top
        self.gem = GeM()
        self.proj = nn.Linear(feat_channels, dim)
        self.local = nn.Conv2d(feat_channels, local_channels, 1)

    #: True while training on cached top outputs (7x7x1792 maps) instead of stem activations
    from_fmap = False

    def forward(self, cut):
        fmap = cut if self.from_fmap else self.top(cut)
        emb = F.normalize(self.proj(self.gem(fmap)), dim=1)
        loc = F.normalize(self.local(fmap), dim=1)
        return emb, loc

    @torch.no_grad()
    def init_projections(self, features):
        """PCA initialisation of both projections: features = (pooled [M,1792], per-location [L,1792])."""
        pooled, locs = features
        for lin, x in ((self.proj, pooled), (self.local, locs)):
            mu = x.mean(0)
            _, _, v = torch.linalg.svd(x - mu, full_matrices=False)
            out = lin.weight.shape[0]
            w = v[:out]
            if len(w) < out:  # fewer samples than outputs (tiny catalogs): complete with random directions
                extra = torch.randn(out - len(w), w.shape[1])
                extra -= (extra @ w.t()) @ w
                w = torch.cat([w, F.normalize(extra, dim=1)])
            lin.weight.copy_(w.reshape(lin.weight.shape))
            lin.bias.copy_(-(w @ mu))


class Embedder(nn.Module):
    """What is exported as embedder.onnx: image [N,3,224,224] in [0,1] -> embedding, local_features."""

    def __init__(self, stem, twin):
        super().__init__()
        self.stem, self.twin = stem, twin

    def forward(self, image):
        return self.twin(self.stem(image))


def extract_stem_onnx(onnx_path, cut_name, out_path):
    """The frozen stem as its own ONNX graph (image -> cut tensor), for fast caching in ONNX Runtime."""
    onnx.utils.extract_model(onnx_path, out_path, ['image'], [cut_name])
    return out_path
