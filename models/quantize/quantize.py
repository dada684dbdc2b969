#!/usr/bin/python3
"""Static QDQ int8 quantization of the twinlens embedder, with python3-onnx only (no onnxruntime for Python).

Two steps, with onnxruntime-node doing every inference in between (models/quantize/calibrate.mjs):

  prepare IN.onnx FP32.onnx CALIB.onnx TENSORS.json
      IN is ONNX Runtime's 'basic'-optimized graph of the shipped embedder (ort-optimize.mjs: constant
      folding). Folds each constant zero Pad into the Conv after it (the TF 'SAME' padding of the
      conversion), drops the local-feature branch unless --keep-local, and writes FP32.onnx (the float
      model the int8 one is cut from), CALIB.onnx (the same with every activation the int8 graph
      quantizes exposed as an extra output) and TENSORS.json (those names).

  qdq FP32.onnx STATS.json OUT.onnx [--method minmax|percentile] [--percentile 99.99]
      [--weights int8|int8r7|uint8] [--fp32-first] [--fp32-last]
      Inserts QuantizeLinear/DequantizeLinear pairs: per-channel symmetric weights (axis 0) and int32
      biases for every Conv, per-tensor uint8 activations (asymmetric; [0, r] for Relu6 outputs, whose
      Clip is removed since the uint8 range does the clamping), residual Adds quantized on both inputs
      and the output, so ONNX Runtime fuses QLinearConv / QLinearAdd. GeM pooling, the projection
      Gemm and the L2 normalisation stay float32.
"""
import argparse
import json
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def consumers(graph):
    out = {}
    for n in graph.node:
        for i in n.input:
            if i:
                out.setdefault(i, []).append(n)
    return out


def producers(graph):
    return {o: n for n in graph.node for o in n.output}


def init_map(graph):
    return {t.name: t for t in graph.initializer}


def const_value(graph, name):
    inits = init_map(graph)
    if name in inits:
        return numpy_helper.to_array(inits[name])
    for n in graph.node:
        if n.op_type == 'Constant' and n.output[0] == name:
            return numpy_helper.to_array(n.attribute[0].t)
    return None


def prune(model, outputs):
    """Keeps only the nodes (and initializers) the given graph outputs need."""
    g = model.graph
    prod = producers(g)
    need, stack = set(), list(outputs)
    while stack:
        t = stack.pop()
        n = prod.get(t)
        if n is None or id(n) in need:
            continue
        need.add(id(n))
        stack.extend(i for i in n.input if i)
    keep = [n for n in g.node if id(n) in need]
    del g.node[:]
    g.node.extend(keep)
    used = {i for n in g.node for i in n.input}
    inits = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)
    outs = [o for o in g.output if o.name in outputs]
    del g.output[:]
    g.output.extend(outs)


def fold_pads(model):
    """Pad(constant 0, H/W only) -> Conv becomes the Conv's own (possibly asymmetric) pads."""
    g = model.graph
    cons = consumers(g)
    drop = []
    for n in g.node:
        if n.op_type != 'Pad':
            continue
        mode = next((helper.get_attribute_value(a) for a in n.attribute if a.name == 'mode'), b'constant')
        pads = const_value(g, n.input[1])
        value = const_value(g, n.input[2]) if len(n.input) > 2 and n.input[2] else None
        users = cons.get(n.output[0], [])
        if mode != b'constant' or pads is None or (value is not None and float(value) != 0.0):
            continue
        if len(users) != 1 or users[0].op_type != 'Conv' or len(pads) != 8 or any(pads[[0, 1, 4, 5]]):
            continue
        conv = users[0]
        attrs = {a.name: a for a in conv.attribute}
        old = helper.get_attribute_value(attrs['pads']) if 'pads' in attrs else [0, 0, 0, 0]
        if 'auto_pad' in attrs and helper.get_attribute_value(attrs['auto_pad']) not in (b'NOTSET', 'NOTSET'):
            continue
        new = [old[0] + int(pads[2]), old[1] + int(pads[3]), old[2] + int(pads[6]), old[3] + int(pads[7])]
        keep = [a for a in conv.attribute if a.name not in ('pads', 'auto_pad')]
        del conv.attribute[:]
        conv.attribute.extend(keep + [helper.make_attribute('pads', new)])
        conv.input[0] = n.input[0]
        drop.append(n)
    for n in drop:
        g.node.remove(n)
    return len(drop)


def is_relu6(graph, node):
    if node.op_type != 'Clip' or len(node.input) < 3:
        return False
    lo, hi = const_value(graph, node.input[1]), const_value(graph, node.input[2])
    return lo is not None and hi is not None and float(lo) == 0.0 and float(hi) == 6.0


def activation_tensors(graph):
    """Tensors the int8 graph carries quantized: Conv inputs/outputs (post-Relu6 where a Relu6 follows), Add inputs/outputs."""
    cons = consumers(graph)
    inits = init_map(graph)
    names = []

    def add(t):
        if t and t not in inits and t not in names:
            names.append(t)

    for n in graph.node:
        if n.op_type == 'Conv':
            add(n.input[0])
            users = cons.get(n.output[0], [])
            if len(users) == 1 and is_relu6(graph, users[0]):
                add(users[0].output[0])
            else:
                add(n.output[0])
        elif n.op_type == 'Add' and all(i not in inits for i in n.input):
            add(n.input[0])
            add(n.input[1])
            add(n.output[0])
    return names


def clean_opsets(model):
    keep = [o for o in model.opset_import if o.domain in ('', 'ai.onnx')]
    del model.opset_import[:]
    model.opset_import.extend(keep)


def cmd_prepare(a):
    m = onnx.load(a.input)
    outputs = ['embedding'] + (['local_features'] if a.keep_local else [])
    prune(m, outputs)
    folded = fold_pads(m)
    prune(m, outputs)  # drops the folded pads' constants
    clean_opsets(m)
    onnx.checker.check_model(m)
    onnx.save(m, a.fp32)
    names = activation_tensors(m.graph)
    c = onnx.load(a.fp32)
    for t in names:
        c.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    onnx.save(c, a.calib)
    relu6 = [n.output[0] for n in m.graph.node if is_relu6(m.graph, n)]
    json.dump({'tensors': names, 'relu6': relu6}, open(a.tensors, 'w'), indent=1)
    print(f'prepare: {folded} pads folded, {len(m.graph.node)} nodes, {len(names)} activation tensors, outputs {outputs}')


# ---------------------------------------------------------------------------------------------- qdq

def quant_range(stat, method, pct, relu6):
    lo, hi = stat['min'], stat['max']
    if method == 'mse':
        return mse_range(stat, relu6)
    if method == 'percentile':
        h = np.asarray(stat['hist'], dtype=np.float64)
        edges = np.linspace(stat['min'], stat['max'], len(h) + 1)
        c = np.cumsum(h) / h.sum()
        q = pct / 100.0
        hi = float(edges[min(len(h), np.searchsorted(c, q) + 1)])
        lo = float(edges[np.searchsorted(c, 1 - q)]) if stat['min'] < 0 else stat['min']
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if relu6:
        lo, hi = 0.0, min(hi, 6.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    return lo, hi


def mse_range(stat, relu6, levels=255):
    """The [lo, hi] that minimises the expected squared error (clipping + uniform rounding noise) of a uint8
    quantizer over the calibration histogram; grid search over histogram quantiles on each side."""
    h = np.asarray(stat['hist'], dtype=np.float64)
    edges = np.linspace(stat['min'], stat['max'], len(h) + 1)
    x = (edges[:-1] + edges[1:]) / 2
    p = h / h.sum()
    c = np.cumsum(p)
    top = 6.0 if relu6 else float(stat['max'])
    qs = 1 - np.concatenate([[0], np.logspace(-7, -0.7, 60)])
    his = sorted({min(top, float(edges[min(len(h), np.searchsorted(c, q) + 1)])) for q in qs} | {min(top, float(stat['max']))})
    if relu6 or stat['min'] >= 0:
        los = [0.0]
    else:
        los = sorted({min(0.0, float(edges[np.searchsorted(c, 1 - q)])) for q in qs} | {float(stat['min'])})
    best = None
    for lo in los:
        for hi in his:
            if hi <= lo:
                continue
            step = (hi - lo) / levels
            xc = np.clip(x, lo, hi)
            err = np.sum(p * (x - xc) ** 2) + step * step / 12 * np.sum(p[(x >= lo) & (x <= hi)])
            if best is None or err < best[0]:
                best = (err, lo, hi)
    return best[1], max(best[2], 0.0)


def uint8_params(lo, hi):
    scale = (hi - lo) / 255.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def cmd_qdq(a):
    m = onnx.load(a.fp32)
    g = m.graph
    stats = json.load(open(a.stats))['stats']
    cons = consumers(g)
    inits = init_map(g)
    new_inits = []

    convs = [n for n in g.node if n.op_type == 'Conv']
    skip = set()
    if a.fp32_first:
        skip.add(convs[0].name or convs[0].output[0])
    if a.fp32_last:
        skip.add(convs[-1].name or convs[-1].output[0])
    for pat in a.fp32_match:
        skip.update(n.name or n.output[0] for n in convs if pat in (n.name or n.output[0]))
    qconvs = [n for n in convs if (n.name or n.output[0]) not in skip]
    # 1. Relu6 after a quantized Conv: drop the Clip, the Conv writes the Clip's output name (its uint8 range clamps).
    relu6 = set()
    for n in list(g.node):
        if n.op_type == 'Conv' and (n.name or n.output[0]) not in skip:
            users = cons.get(n.output[0], [])
            if len(users) == 1 and is_relu6(g, users[0]):
                clip = users[0]
                n.output[0] = clip.output[0]
                relu6.add(clip.output[0])
                g.node.remove(clip)
    cons = consumers(g)

    qadds = [n for n in g.node if n.op_type == 'Add' and all(i not in inits for i in n.input)]

    # 2. activation tensors carried as uint8: inputs and outputs of quantized nodes
    acts = []
    for n in qconvs + qadds:
        for t in ([n.input[0]] if n.op_type == 'Conv' else list(n.input)) + [n.output[0]]:
            if t not in acts:
                acts.append(t)
    params = {}
    for t in acts:
        if t not in stats:
            sys.exit(f'no calibration statistics for {t}')
        lo, hi = quant_range(stats[t], a.method, a.percentile, t in relu6)
        params[t] = uint8_params(lo, hi)

    # 3. weights: per-channel symmetric (axis 0); bias int32 with scale s_x * s_w
    wmax = {'int8': 127, 'int8r7': 63, 'uint8': 127}[a.weights]
    for n in qconvs:
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float64)
        amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        sw = np.where(amax > 0, amax / wmax, 1.0)
        q = np.clip(np.round(w / sw.reshape(-1, 1, 1, 1)), -wmax, wmax)
        base = n.input[1]
        if a.weights == 'uint8':
            qw = (q + 128).astype(np.uint8)
            zpw = np.full(w.shape[0], 128, np.uint8)
        else:
            qw = q.astype(np.int8)
            zpw = np.zeros(w.shape[0], np.int8)
        new_inits += [numpy_helper.from_array(qw, base + '_q'), numpy_helper.from_array(sw.astype(np.float32), base + '_scale'),
                      numpy_helper.from_array(zpw, base + '_zp')]
        g.node.append(helper.make_node('DequantizeLinear', [base + '_q', base + '_scale', base + '_zp'], [base + '_dq'], axis=0,
                                       name=base + '_DequantizeLinear'))
        n.input[1] = base + '_dq'
        if len(n.input) > 2 and n.input[2]:
            b = numpy_helper.to_array(inits[n.input[2]]).astype(np.float64)
            sx = float(params[n.input[0]][0])
            sb = sx * sw
            qb = np.round(b / sb).astype(np.int32)
            bb = n.input[2]
            new_inits += [numpy_helper.from_array(qb, bb + '_q'), numpy_helper.from_array(sb.astype(np.float32), bb + '_scale'),
                          numpy_helper.from_array(np.zeros(len(qb), np.int32), bb + '_zp')]
            g.node.append(helper.make_node('DequantizeLinear', [bb + '_q', bb + '_scale', bb + '_zp'], [bb + '_dq'], axis=0,
                                           name=bb + '_DequantizeLinear'))
            n.input[2] = bb + '_dq'

    # 4. activations: one Q per tensor, one DQ per consumer (ORT wants a DQ per node unit)
    cons = consumers(g)
    prod = producers(g)
    for t in acts:
        s, z = params[t]
        new_inits += [numpy_helper.from_array(np.array(s, np.float32), t + '_scale'), numpy_helper.from_array(np.array(z, np.uint8), t + '_zp')]
        src = t
        if t in prod:  # rename the producer's output so consumers can read the DQ'd value under new names
            src = t + '_f'
            p = prod[t]
            p.output[list(p.output).index(t)] = src
        g.node.append(helper.make_node('QuantizeLinear', [src, t + '_scale', t + '_zp'], [t + '_q'], name=t + '_QuantizeLinear'))
        for k, c in enumerate(cons.get(t, [])):
            d = f'{t}_dq{k}'
            g.node.append(helper.make_node('DequantizeLinear', [t + '_q', t + '_scale', t + '_zp'], [d], name=f'{t}_DequantizeLinear{k}'))
            for j, i in enumerate(c.input):
                if i == t:
                    c.input[j] = d
        if any(o.name == t for o in g.output):
            sys.exit(f'{t} is a graph output')

    # 5. drop the float weights/biases now replaced, add the quantized ones, topologically sort
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    topo_sort(g)
    m.producer_name = 'twinlens models/quantize/quantize.py'
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    print(f'qdq: {len(qconvs)}/{len(convs)} Conv, {len(qadds)} Add quantized, {len(acts)} uint8 activations, '
          f'{len(relu6)} Relu6 folded, weights {a.weights}, method {a.method}' + (f' {a.percentile}' if a.method == 'percentile' else ''))


def topo_sort(g):
    ready = {i.name for i in g.input} | {t.name for t in g.initializer} | {''}
    nodes, out = list(g.node), []
    while nodes:
        rest = []
        for n in nodes:
            if all(i in ready for i in n.input):
                out.append(n)
                ready.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(nodes):
            sys.exit('graph has a cycle or a missing input: ' + rest[0].name)
        nodes = rest
    del g.node[:]
    g.node.extend(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('prepare')
    s.add_argument('input')
    s.add_argument('fp32')
    s.add_argument('calib')
    s.add_argument('tensors')
    s.add_argument('--keep-local', action='store_true', help='keep the local_features output (pair head)')
    s = sub.add_parser('qdq')
    s.add_argument('fp32')
    s.add_argument('stats')
    s.add_argument('out')
    s.add_argument('--method', choices=['minmax', 'percentile', 'mse'], default='percentile')
    s.add_argument('--percentile', type=float, default=99.99)
    s.add_argument('--weights', choices=['int8', 'int8r7', 'uint8'], default='int8')
    s.add_argument('--fp32-first', action='store_true', help='keep the first Conv (on the image) in float')
    s.add_argument('--fp32-last', action='store_true', help='keep the last Conv (1792 channels, before GeM) in float')
    s.add_argument('--fp32-match', action='append', default=[], help='keep the Convs whose name contains this in float (repeatable)')
    a = p.parse_args()
    {'prepare': cmd_prepare, 'qdq': cmd_qdq}[a.cmd](a)


if __name__ == '__main__':
    main()
