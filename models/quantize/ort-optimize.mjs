// Saves ONNX Runtime's optimized graph of a model (to check fusions, or as the quantizer's input).
// Usage: node models/quantize/ort-optimize.mjs IN.onnx OUT.onnx [basic|extended|all]
// 'basic' keeps standard ONNX ops only (constant folding, Pad->Conv, redundant nodes), so python onnx can edit it.
import ort from 'onnxruntime-node';
const [input, output, level = 'basic'] = process.argv.slice(2);
await ort.InferenceSession.create(input, { graphOptimizationLevel: level, optimizedModelFilePath: output, intraOpNumThreads: 1 });
console.log(`${input} -> ${output} (${level})`);
