// Images/s of several embedders, interleaved round by round in one process (the machine is shared and
// noisy: compare ratios within a round, not figures between runs). onnxruntime-node, CPU,
// intraOpNumThreads as the service (default 2), graphOptimizationLevel 'all', idle threads sleeping as the
// service's (ortSpinWait off; --spin 1 to let them spin).
// Usage: node models/quantize/bench.mjs [--rounds 5] [--batches 1,16] [--threads 2] [--seconds 2] [--spin 0] A.onnx B.onnx...
import ort from 'onnxruntime-node';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); if (i < 0) return d; const v = args[i + 1]; args.splice(i, 2); return v; };
const rounds = Number(opt('--rounds', 5));
const batches = opt('--batches', '1,16').split(',').map(Number);
const threads = Number(opt('--threads', 2));
const seconds = Number(opt('--seconds', 2));
const spin = opt('--spin', '0');
const models = args;
const sessions = [];
for (const m of models) sessions.push(await ort.InferenceSession.create(m, { graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: spin } } } }));
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const out = { threads, rounds, seconds, spin, results: {} };
for (const b of batches) {
  const x = new Float32Array(b * 3 * 224 * 224).map(() => Math.random());
  const feeds = { image: new ort.Tensor('float32', x, [b, 3, 224, 224]) };
  for (const s of sessions) { await s.run(feeds); await s.run(feeds); } // warm-up
  const ips = models.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [k, s] of sessions.entries()) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000) { await s.run(feeds); n += b; }
      ips[k].push(n / ((performance.now() - t0) / 1000));
    }
  }
  out.results[`b${b}`] = models.map((m, k) => ({
    model: m,
    imgPerS: +median(ips[k]).toFixed(1),
    perRound: ips[k].map((v) => +v.toFixed(1)),
    ratioToFirst: +median(ips[k].map((v, r) => v / ips[0][r])).toFixed(3),
  }));
}
console.log(JSON.stringify(out, null, 1));
