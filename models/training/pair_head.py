"""The pairwise head: looks at both 7x7 local feature maps of a pair and outputs a match logit.

Input: query_local, candidate_local [N, C, 7, 7], each location L2-normalised.
1. Cross-correlation: S[n, i, j] = <q_i, c_j> over all 49 x 49 location pairs.
2. Per-location best matches in both directions (row / column maxima), sorted (top-k), a soft
   mutual-match score, and the cosine of the mean-pooled maps: a fixed-size, position-free
   description of how much local evidence the pair shares.
3. Small MLP -> logit. Probability = sigmoid(logit).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class PairHead(nn.Module):
    def __init__(self, locations=49, hidden=64, temperature=0.05, compact=False):
        """compact: summarise the sorted best matches as means of the top 1, 3, 5, 10, 25 and all 49
        (15 features, hidden 16): fewer ways to fit the synthetic views."""
        super().__init__()
        self.temperature = temperature
        self.compact = compact
        if compact:
            hidden = 16
        n_feat = 15 if compact else 2 * locations + 3
        self.norm = nn.BatchNorm1d(n_feat)
        self.mlp = nn.Sequential(nn.Linear(n_feat, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def features(self, q, c):
        n, ch, h, w = q.shape
        qf = q.reshape(n, ch, h * w)
        cf = c.reshape(n, ch, h * w)
        s = torch.bmm(qf.transpose(1, 2), cf)  # [N, 49(q), 49(c)]
        row = s.max(dim=2).values  # best candidate match per query location
        col = s.max(dim=1).values  # best query match per candidate location
        row_sorted = torch.sort(row, dim=1, descending=True).values
        col_sorted = torch.sort(col, dim=1, descending=True).values
        # soft mutual nearest neighbours: mass where both softmaxes agree
        a = torch.softmax(s / self.temperature, dim=2)
        b = torch.softmax(s / self.temperature, dim=1)
        mutual = (a * b).sum(dim=(1, 2)) / (h * w)
        gq = F.normalize(qf.mean(2), dim=1)
        gc = F.normalize(cf.mean(2), dim=1)
        gcos = (gq * gc).sum(1)
        diag = torch.diagonal(s, dim1=1, dim2=2).mean(1)  # same-position agreement (aligned shots)
        if self.compact:
            ks = (1, 3, 5, 10, 25, h * w)
            row_sorted = torch.stack([row_sorted[:, :k].mean(1) for k in ks], 1)
            col_sorted = torch.stack([col_sorted[:, :k].mean(1) for k in ks], 1)
        return torch.cat([row_sorted, col_sorted, mutual[:, None], gcos[:, None], diag[:, None]], dim=1)

    def forward(self, query_local, candidate_local):
        return self.mlp(self.norm(self.features(query_local, candidate_local))).squeeze(1)
