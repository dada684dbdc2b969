"""Ranking losses on L2-normalised embeddings."""
import torch
import torch.nn.functional as F


def multi_similarity_loss(emb, labels, alpha=2.0, beta=50.0, base=0.5, margin=0.1):
    """Multi-similarity loss (Wang et al. 2019) with its in-batch hard-pair mining."""
    sim = emb @ emb.t()
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=emb.device)
    pos_mask, neg_mask = same & ~eye, ~same
    losses = []
    for i in range(len(labels)):
        pos, neg = sim[i][pos_mask[i]], sim[i][neg_mask[i]]
        if len(pos) == 0 or len(neg) == 0:
            continue
        # mining: negatives harder than the easiest positive, positives harder than the hardest negative
        neg_h = neg[neg + margin > pos.min()]
        pos_h = pos[pos - margin < neg.max()]
        if len(neg_h) == 0 or len(pos_h) == 0:
            continue
        lp = torch.log1p(torch.exp(-alpha * (pos_h - base)).sum()) / alpha
        ln = torch.log1p(torch.exp(beta * (neg_h - base)).sum()) / beta
        losses.append(lp + ln)
    if not losses:
        return emb.sum() * 0.0
    return torch.stack(losses).mean()


def catalog_softmax_loss(query_emb, query_items, catalog_emb, catalog_items, temperature=0.05):
    """Cross-entropy of each query (simulated photo) over catalog entries (clean images): the
    retrieval the service does, with the clean embeddings acting as the class proxies."""
    logits = query_emb @ catalog_emb.t() / temperature
    target = (query_items[:, None] == catalog_items[None, :]).float().argmax(1)
    return F.cross_entropy(logits, target)
