#!/usr/bin/python3
"""Trains the evidence head (issue 12's pair head v2) and exports it to ONNX with its manifest.

The head reads, for each of a Search's top hits, the evidence the service measured (embedding cosine,
colour similarity, text similarity, whether the photo showed print) and gives the logit that the hit
is the photo's item. Training data: `twinlens eval --evidence-file F` over benchmarks made of
generated items and simulated photos (never benchmark photos; see README.md here). Loss: the softmax
of each query over its hits (the ranking Search does) plus a pairwise BCE (so the output is a
probability, for a threshold).

  /usr/bin/python3 models/evidence_head/train.py --out models/evidence_head \
      --embedder-version twinlens-generic-v1-shortlist data1.jsonl data2.jsonl ...
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time

import torch
import torch.nn as nn

FEATURES = ["cosine", "color", "text", "query_has_text"]


def read_queries(files):
    """One (features [n, F], labels [n], source) per query that has its item among its measured hits."""
    out = []
    for f in files:
        source = os.path.basename(f)
        with open(f) as fh:
            for line in fh:
                q = json.loads(line)
                hits = q["hits"]
                if not hits:
                    continue
                x = torch.tensor([[h["cosine"], h["color"], h["text"], 1.0 if h["queryHasText"] else 0.0] for h in hits])
                y = torch.tensor([1.0 if h["right"] else 0.0 for h in hits])
                out.append((x, y, source))
    return out


class Head(nn.Module):
    """A linear term (the fixed weights' form) plus a small tanh MLP that may learn when to trust what."""

    def __init__(self, width, hidden, mean, std):
        super().__init__()
        # Inputs are standardised inside the graph (constants from the training data): the cosines of
        # a shortlist differ by hundredths, the similarities by tenths.
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.linear = nn.Linear(width, 1)
        self.hidden = hidden
        if hidden > 0:
            self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.Tanh(), nn.Linear(hidden, 1))
            nn.init.zeros_(self.mlp[2].weight)
            nn.init.zeros_(self.mlp[2].bias)

    def forward(self, x):
        x = (x - self.mean) / self.std
        out = self.linear(x)
        if self.hidden > 0:
            out = out + self.mlp(x)
        return out.squeeze(-1)


def loss_of(model, batch, bce_weight):
    ce, bce, n = 0.0, 0.0, 0
    for x, y, _ in batch:
        logits = model(x)
        if y.sum() > 0:
            ce = ce - torch.log_softmax(logits, 0)[y.argmax()]
            n += 1
        bce = bce + nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="mean")
    return ce / max(n, 1) + bce_weight * bce / len(batch)


def recall_at_1(score, queries):
    """Share of queries whose item is first by `score` (queries whose item is not among the hits count as misses)."""
    hit = 0
    for x, y, _ in queries:
        s = score(x)
        hit += int(y[int(torch.argmax(s))] > 0)
    return hit / max(len(queries), 1)


def train(queries, hidden, epochs, lr, weight_decay, bce_weight, seed):
    torch.manual_seed(seed)
    allx = torch.cat([x for x, _, _ in queries])
    model = Head(len(FEATURES), hidden, allx.mean(0), allx.std(0).clamp_min(1e-3))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng = random.Random(seed)
    for _ in range(epochs):
        order = list(range(len(queries)))
        rng.shuffle(order)
        for i in range(0, len(order), 64):
            opt.zero_grad()
            loss = loss_of(model, [queries[j] for j in order[i : i + 64]], bce_weight)
            loss.backward()
            opt.step()
    return model


def eer_threshold(model, queries):
    """The equal-error threshold on the probability over every (photo, hit) pair: right hits vs the others."""
    with torch.no_grad():
        p = torch.cat([torch.sigmoid(model(x)) for x, _, _ in queries])
    y = torch.cat([y for _, y, _ in queries])
    pos, neg = p[y > 0], p[y == 0]
    best, threshold = 2.0, 0.5
    for t in torch.linspace(0.001, 0.999, 999).tolist():
        gap = abs(float((neg >= t).float().mean()) - float((pos < t).float().mean()))
        if gap < best:
            best, threshold = gap, t
    far = float((neg >= threshold).float().mean())
    frr = float((pos < threshold).float().mean())
    return round(threshold, 4), f"equal-error threshold on the {len(pos)} right / {len(neg)} wrong (photo, top hit) pairs of the training queries (simulated photos of generated items): FAR {far:.3f}, FRR {frr:.3f}"


def split(queries, held_out, seed):
    rng = random.Random(seed)
    order = list(range(len(queries)))
    rng.shuffle(order)
    cut = int(len(order) * held_out)
    return [queries[i] for i in order[cut:]], [queries[i] for i in order[:cut]]


def by_source(score, queries):
    sources = sorted({s for _, _, s in queries})
    return {s: round(recall_at_1(score, [q for q in queries if q[2] == s]), 3) for s in sources} | {"all": round(recall_at_1(score, queries), 3)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--embedder-version", required=True)
    p.add_argument("--version", default="evidence-head-v1")
    p.add_argument("--hidden", type=int, default=8)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--bce-weight", type=float, default=1.0)
    p.add_argument("--held-out", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fixed", default="0.1,0.2", help="colour,text weights of the fixed rule reported beside the head")
    a = p.parse_args()
    started = time.time()
    queries = read_queries(a.files)
    fit, held = split(queries, a.held_out, a.seed)
    wc, wt = (float(v) for v in a.fixed.split(","))
    baselines = {
        "cosine": by_source(lambda x: x[:, 0], held),
        f"fixed colour {wc} text {wt}": by_source(lambda x: x[:, 0] + wc * x[:, 1] + wt * x[:, 2], held),
    }
    model = train(fit, a.hidden, a.epochs, a.lr, a.weight_decay, a.bce_weight, a.seed)
    model.eval()
    with torch.no_grad():
        head_held = by_source(model, held)
    print(json.dumps({"queries": len(queries), "fit": len(fit), "held_out": len(held), "held_out_recall_at_1": {**baselines, "head": head_held}}), flush=True)
    # The shipped head is refitted on every query once the held-out figures are taken.
    final = train(queries, a.hidden, a.epochs, a.lr, a.weight_decay, a.bce_weight, a.seed)
    final.eval()
    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, "evidence_head.onnx")
    torch.onnx.export(
        final, torch.zeros(2, len(FEATURES)), onnx_path, input_names=["evidence"], output_names=["logit"],
        dynamic_axes={"evidence": {0: "n"}, "logit": {0: "n"}}, opset_version=17,
    )
    with open(onnx_path, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()
    # The linear part in the raw features' units (per unit of cosine, of colour, ...).
    linear = (final.linear.weight.detach()[0] / final.std).tolist()
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    threshold, calibration = eer_threshold(final, queries)
    manifest = {
        "name": "twinlens-evidence-head",
        "version": a.version,
        "file": "evidence_head.onnx",
        "sha256": sha,
        "input": "evidence",
        "output": "logit",
        "features": FEATURES,
        "embedderVersion": a.embedder_version,
        "threshold": threshold,
        "thresholdCalibration": calibration,
        "training": {
            "data": [os.path.basename(f) for f in a.files],
            "queries": len(queries),
            "held_out_recall_at_1": {**baselines, "head": head_held},
            "linear_weights": dict(zip(FEATURES, [round(w, 4) for w in linear])),
            "hyperparameters": {k: getattr(a, k) for k in ["hidden", "epochs", "lr", "weight_decay", "bce_weight", "held_out", "seed"]},
            "seconds": round(time.time() - started, 1),
            "torch": torch.__version__,
            "git_commit": commit,
            "command": " ".join(["/usr/bin/python3", "models/evidence_head/train.py", *sys.argv[1:]]),
        },
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")
    print(json.dumps({"onnx": onnx_path, "sha256": sha, "linear": manifest["training"]["linear_weights"]}))


if __name__ == "__main__":
    main()
