#!/usr/bin/python3
"""Build models/mobilenet_v2_140/model.onnx from the TF.js graph decoded by extract-tfjs-weights.js.

Run with Debian's /usr/bin/python3 (apt-get install -y python3-onnx python3-numpy); needs onnx + numpy only.

The TF.js graph (nsfwjs `mobilenet_v2_mid`) is the TF-Hub MobileNetV2 1.4 feature-vector module
(batch norm already folded into the convolutions) with a 1792->5 dense head on top. This script
translates the sub-graph from the `input` placeholder up to the pooled feature vector
(`.../feature_vector/SpatialSqueeze`), dropping the dense head and the softmax:

  TF.js op (NHWC)                          ONNX op (NCHW)
  Mul / Sub by scalar (x*2-1)              Mul / Sub
  _FusedConv2D [BiasAdd(, Relu6)]          Conv (+ Clip 0..6)
  FusedDepthwiseConv2dNative [...]         Conv group=C (+ Clip 0..6)
  AddV2                                    Add
  AvgPool 7x7 VALID over a 7x7 map         GlobalAveragePool
  Squeeze [1,2]                            Flatten axis=1

TF 'SAME' padding is written as explicit (possibly asymmetric: 0 before, 1 after for the
stride-2 3x3 convolutions on even sizes) pads computed from the fixed 224x224 input.

Interface: input `image` float32 [N,3,224,224], RGB in [0,1] (pixel/255; the graph does x*2-1);
output `embedding` float32 [N,1792], global-average-pooled features, not L2-normalised.

Weights: `--weights float32` (default) stores the dequantized float32 values. `--weights uint8`
stores the original uint8 codes plus a per-tensor decode (Cast -> Sub zero point -> Mul scale),
which ONNX Runtime constant-folds at session start (~4x smaller file, same speed, values equal
to the float32 ones within float32 rounding; tensors without an integer uint8 zero point stay
float32). `--weights uint8-dql` uses DequantizeLinear instead (ONNX Runtime does not fold it:
about 2x slower).

Usage: /usr/bin/python3 models/convert/build_onnx.py [--src .tmp/mobilenet_v2_mid]
           [--out models/mobilenet_v2_140/model.onnx] [--weights float32|uint8|uint8-dql]
"""
import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FEATURE_NODE_SUFFIX = 'feature_vector/SpatialSqueeze'
INPUT_SIZE = 224
OPSET = 17


def short(name):
    marker = '/predict/'
    return name.split(marker, 1)[1] if marker in name else name


def attr_s(node, key):
    v = node.get('attr', {}).get(key)
    return base64.b64decode(v['s']).decode() if v and 's' in v else None


def attr_ints(node, key):
    v = node.get('attr', {}).get(key)
    if not v:
        return None
    return [int(i) for i in v['list'].get('i', [])]


def attr_strs(node, key):
    v = node.get('attr', {}).get(key)
    if not v:
        return []
    return [base64.b64decode(s).decode() for s in v['list'].get('s', [])]


def same_pads(in_size, k, stride, dilation):
    out = -(-in_size // stride)
    eff_k = (k - 1) * dilation + 1
    total = max((out - 1) * stride + eff_k - in_size, 0)
    return total // 2, total - total // 2, out


class Converter:
    def __init__(self, src, weights_mode):
        with open(os.path.join(src, 'model.json')) as f:
            self.model_json = json.load(f)
        with open(os.path.join(src, 'weights.json')) as f:
            index = json.load(f)
        f32 = np.fromfile(os.path.join(src, 'weights.f32'), dtype='<f4')
        u8 = np.fromfile(os.path.join(src, 'weights.u8'), dtype=np.uint8)
        self.weights = {}
        for w in index:
            sl = slice(w['offset'], w['offset'] + w['length'])
            self.weights[w['name']] = {
                'f32': f32[sl].reshape(w['shape']).astype(np.float32),
                'u8': u8[sl].reshape(w['shape']),
                'min': w['min'],
                'scale': w['scale'],
            }
        self.weights_mode = weights_mode
        self.nodes_by_name = {n['name']: n for n in self.model_json['modelTopology']['node']}
        self.onnx_nodes = []
        self.initializers = []
        self.shape = {}  # tf node name -> NHWC shape (N symbolic)
        self.op_types = set()

    # ---- weights -------------------------------------------------------------------------
    def weight_input(self, tf_name, onnx_name, transform):
        """Add a weight as initializer(s); `transform` maps an NHWC-layout array to ONNX layout.

        Returns the tensor name that carries the float32 weight inside the graph."""
        w = self.weights[tf_name]
        if self.weights_mode == 'float32':
            self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(transform(w['f32'])), onnx_name))
            return onnx_name
        # value = (q - zp) * scale: the tfjs converter nudged min to -zp*scale with an integer zp,
        # so q - zp is exact in float32 and only the multiply rounds (q*scale + min in float32
        # would cancel catastrophically for small weights: ~4e-4 error at the output).
        zp = -w['min'] / w['scale']
        zp_i = int(round(zp))
        if abs(zp - zp_i) > 1e-3 or not 0 <= zp_i <= 255:
            # all-positive/all-negative tensors (a few biases): no uint8 zero point, keep float32
            self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(transform(w['f32'])), onnx_name))
            return onnx_name
        q = np.ascontiguousarray(transform(w['u8']))
        self.initializers.append(numpy_helper.from_array(q, onnx_name + '_q'))
        self.initializers.append(numpy_helper.from_array(np.array(w['scale'], dtype=np.float32), onnx_name + '_scale'))
        if self.weights_mode == 'uint8':
            # Cast/Sub/Mul on initializers: ONNX Runtime constant-folds them at session start.
            self.initializers.append(numpy_helper.from_array(np.array(zp_i, dtype=np.float32), onnx_name + '_zp'))
            self.add('Cast', [onnx_name + '_q'], [onnx_name + '_qf'], onnx_name + '_cast', to=TensorProto.FLOAT)
            self.add('Sub', [onnx_name + '_qf', onnx_name + '_zp'], [onnx_name + '_qc'], onnx_name + '_subzp')
            self.add('Mul', [onnx_name + '_qc', onnx_name + '_scale'], [onnx_name], onnx_name + '_mulscale')
            return onnx_name
        # uint8-dql: DequantizeLinear (ONNX Runtime keeps it in the graph and runs it every call)
        self.initializers.append(numpy_helper.from_array(np.array(zp_i, dtype=np.uint8), onnx_name + '_zp'))
        self.add('DequantizeLinear', [onnx_name + '_q', onnx_name + '_scale', onnx_name + '_zp'], [onnx_name], onnx_name + '_dq')
        return onnx_name

    def scalar_value(self, tf_name):
        v = self.weights[tf_name]['f32']
        if v.size != 1:
            raise ValueError(f'{tf_name}: expected a scalar, got shape {v.shape}')
        return float(v.reshape(()))

    # ---- graph ---------------------------------------------------------------------------
    def add(self, op, inputs, outputs, name, **attrs):
        self.op_types.add(op)
        self.onnx_nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))

    def topo_order(self, output_name):
        order, state = [], {}

        def visit(name):
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise ValueError(f'cycle at {name}')
            state[name] = 1
            node = self.nodes_by_name[name]
            for inp in node.get('input', []):
                if inp.startswith('^'):
                    continue
                visit(inp.split(':')[0])
            state[name] = 2
            order.append(node)

        visit(output_name)
        return order

    def tensor(self, tf_name):
        return short(tf_name)

    def conv(self, node, depthwise):
        x, w_name, b_name = node['input'][:3]
        if attr_s(node, 'data_format') != 'NHWC':
            raise ValueError(f'{node["name"]}: data_format {attr_s(node, "data_format")}')
        fused = attr_strs(node, 'fused_ops')
        if fused not in (['BiasAdd'], ['BiasAdd', 'Relu6']):
            raise ValueError(f'{node["name"]}: unsupported fused_ops {fused}')
        strides = attr_ints(node, 'strides')
        dil = attr_ints(node, 'dilations') or [1, 1, 1, 1]
        if strides[0] != 1 or strides[3] != 1 or dil[0] != 1 or dil[3] != 1:
            raise ValueError(f'{node["name"]}: unsupported strides/dilations {strides} {dil}')
        w = self.weights[w_name]['f32']
        kh, kw, cin, cout = w.shape
        n, h, wd, c = self.shape[x.split(':')[0]]
        if depthwise:
            if cin != c:
                raise ValueError(f'{node["name"]}: depthwise channels {cin} != input {c}')
            mult = cout
            out_c = cin * mult
            # TF [kh,kw,C,mult] -> ONNX [C*mult,1,kh,kw], output channel c*mult+m in both
            transform = lambda a: a.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
            group = cin
        else:
            if cin != c:
                raise ValueError(f'{node["name"]}: conv in-channels {cin} != input {c}')
            out_c = cout
            transform = lambda a: a.transpose(3, 2, 0, 1)  # [kh,kw,in,out] -> [out,in,kh,kw]
            group = 1
        padding = attr_s(node, 'padding')
        if padding == 'SAME':
            pt, pb, oh = same_pads(h, kh, strides[1], dil[1])
            pl, pr, ow = same_pads(wd, kw, strides[2], dil[2])
        elif padding == 'VALID':
            pt = pb = pl = pr = 0
            oh = (h - ((kh - 1) * dil[1] + 1)) // strides[1] + 1
            ow = (wd - ((kw - 1) * dil[2] + 1)) // strides[2] + 1
        else:
            raise ValueError(f'{node["name"]}: padding {padding}')
        base = self.tensor(node['name'])
        w_in = self.weight_input(w_name, base + '/W', transform)
        b_in = self.weight_input(b_name, base + '/B', lambda a: a)
        if self.weights[b_name]['f32'].shape != (out_c,):
            raise ValueError(f'{node["name"]}: bias shape {self.weights[b_name]["f32"].shape}')
        relu6 = 'Relu6' in fused
        conv_out = base + '/conv' if relu6 else base
        self.add('Conv', [self.tensor(x), w_in, b_in], [conv_out], base + '/Conv',
                 kernel_shape=[kh, kw], strides=[strides[1], strides[2]], dilations=[dil[1], dil[2]],
                 pads=[pt, pl, pb, pr], group=group)
        if relu6:
            self.add('Clip', [conv_out, 'relu6_min', 'relu6_max'], [base], base + '/Relu6')
        self.shape[node['name']] = [n, oh, ow, out_c]

    def convert(self):
        topo = self.model_json['modelTopology']['node']
        outs = [n['name'] for n in topo if n['name'].endswith(FEATURE_NODE_SUFFIX)]
        if len(outs) != 1:
            raise ValueError(f'feature node *{FEATURE_NODE_SUFFIX} not found uniquely: {outs}')
        feature_node = outs[0]
        self.initializers.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), 'relu6_min'))
        self.initializers.append(numpy_helper.from_array(np.array(6.0, dtype=np.float32), 'relu6_max'))
        input_name = None
        for node in self.topo_order(feature_node):
            op, name = node['op'], node['name']
            ins = [i for i in node.get('input', []) if not i.startswith('^')]
            if op == 'Const':
                continue
            if op == 'Placeholder':
                dims = [int(d['size']) for d in node['attr']['shape']['shape']['dim']]
                if dims[1:] != [INPUT_SIZE, INPUT_SIZE, 3]:
                    raise ValueError(f'unexpected input shape {dims}')
                input_name = name
                self.shape[name] = ['N', INPUT_SIZE, INPUT_SIZE, 3]
                # the ONNX graph input `image` is NCHW; every op below is written for NCHW
                self.tensor_alias = {name: 'image'}
                continue
            if op in ('Mul', 'Sub'):
                consts = [i for i in ins if self.nodes_by_name[i]['op'] == 'Const']
                vars_ = [i for i in ins if self.nodes_by_name[i]['op'] != 'Const']
                if len(consts) != 1 or len(vars_) != 1:
                    raise ValueError(f'{name}: expected tensor {op} scalar')
                if op == 'Sub' and ins[0] != vars_[0]:
                    raise ValueError(f'{name}: scalar - tensor not supported')
                value = self.scalar_value(consts[0])
                cname = self.tensor(consts[0])
                self.initializers.append(numpy_helper.from_array(np.array(value, dtype=np.float32), cname))
                self.add(op, [self.src(vars_[0]), cname], [self.tensor(name)], self.tensor(name))
                self.shape[name] = self.shape[vars_[0]]
            elif op == '_FusedConv2D':
                self.conv(node, depthwise=False)
            elif op == 'FusedDepthwiseConv2dNative':
                self.conv(node, depthwise=True)
            elif op == 'AddV2':
                a, b = ins
                if self.shape[a] != self.shape[b]:
                    raise ValueError(f'{name}: broadcasting add {self.shape[a]} {self.shape[b]}')
                self.add('Add', [self.src(a), self.src(b)], [self.tensor(name)], self.tensor(name))
                self.shape[name] = self.shape[a]
            elif op == 'AvgPool':
                (x,) = ins
                n, h, w, c = self.shape[x]
                ksize, strides = attr_ints(node, 'ksize'), attr_ints(node, 'strides')
                if attr_s(node, 'padding') != 'VALID' or ksize != [1, h, w, 1]:
                    raise ValueError(f'{name}: AvgPool {ksize} over {h}x{w} is not a global pool')
                self.add('GlobalAveragePool', [self.src(x)], [self.tensor(name)], self.tensor(name))
                self.shape[name] = [n, 1, 1, c]
            elif op == 'Squeeze':
                (x,) = ins
                n, h, w, c = self.shape[x]
                if attr_ints(node, 'squeeze_dims') != [1, 2] or (h, w) != (1, 1):
                    raise ValueError(f'{name}: unsupported squeeze')
                out = 'embedding' if name == feature_node else self.tensor(name)
                self.add('Flatten', [self.src(x)], [out], self.tensor(name), axis=1)
                self.shape[name] = [n, c]
            else:
                raise ValueError(f'unsupported op {op} at {name}')
        if input_name is None or self.shape[feature_node][1:] != [1792]:
            raise ValueError(f'unexpected feature shape {self.shape.get(feature_node)}')

        graph = helper.make_graph(
            self.onnx_nodes,
            'mobilenet_v2_140_feature_vector',
            [helper.make_tensor_value_info('image', TensorProto.FLOAT, ['N', 3, INPUT_SIZE, INPUT_SIZE])],
            [helper.make_tensor_value_info('embedding', TensorProto.FLOAT, ['N', 1792])],
            initializer=self.initializers,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid('', OPSET)],
            producer_name='twinlens models/convert/build_onnx.py',
            doc_string=(
                'MobileNetV2 1.4 (TF-Hub imagenet feature_vector, ImageNet-pretrained, batch norm folded) '
                'converted from the TF.js graph model mobilenet_v2_mid shipped in the npm package nsfwjs (MIT). '
                'Input image: float32 NCHW RGB in [0,1] (pixel/255), 224x224. '
                'Output embedding: global-average-pooled 1792-d features, not L2-normalised.'
            ),
        )
        model.ir_version = 8
        helper.set_model_props(model, {
            'source': 'nsfwjs@4.4.0 dist/models/mobilenet_v2_mid (TF.js graph model, uint8-quantized weights)',
            'feature_node': short(feature_node),
            'weights': self.weights_mode,
        })
        return model

    def src(self, tf_name):
        tf_name = tf_name.split(':')[0]
        alias = getattr(self, 'tensor_alias', {})
        return alias.get(tf_name, self.tensor(tf_name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--src', default=os.path.join(ROOT, '.tmp', 'mobilenet_v2_mid'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'models', 'mobilenet_v2_140', 'model.onnx'))
    ap.add_argument('--weights', choices=['float32', 'uint8', 'uint8-dql'], default='float32')
    args = ap.parse_args()

    conv = Converter(args.src, args.weights)
    model = conv.convert()
    onnx.checker.check_model(model, full_check=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    onnx.save(model, args.out)
    n_params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    print(f'wrote {args.out}: {os.path.getsize(args.out)} bytes, {len(model.graph.node)} nodes, '
          f'op types {sorted(conv.op_types)}, {n_params} initializer elements, weights={args.weights}')


if __name__ == '__main__':
    sys.exit(main())
