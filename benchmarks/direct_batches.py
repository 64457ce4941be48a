"""The baseline of the classification benchmarks: a plain numpy mini-batch loop (one hidden
sigmoid layer, softmax output, cross-entropy summed over a batch), and the script that trains
with it and writes a workbook's content directly with XlsxWriter. Imports nothing of stepviz.

    python benchmarks/direct_batches.py CONTENT.pickle OUT.xlsx
"""
from __future__ import annotations

import pickle
import sys

import numpy as np

from direct import write_direct


def batch_loop(X, y, wh, bh, wout, bout, lr, epochs, batch, shuffle, seed):
    """Mini-batch gradient descent, the batches drawn as stepviz draws them (the generator of
    the start values, after them); the loss of all samples logged once per epoch."""
    wh, bh, wout, bout = (a.copy() for a in (wh, bh, wout, bout))
    rng = np.random.default_rng(seed)
    for a in (wh, bh, wout, bout):
        rng.uniform(size=a.shape)
    n = len(X)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        h = 1 / (1 + np.exp(-(X @ wh + bh)))
        z = h @ wout + bout
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        losses.append(-np.sum(y * np.log(p)))
        for k in range(0, n, batch):
            rows = order[k:k + batch]
            xb, yb = X[rows], y[rows]
            h = 1 / (1 + np.exp(-(xb @ wh + bh)))
            z = h @ wout + bout
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            d = yb - p
            dh = (d @ wout.T) * (h * (1 - h))
            wout += h.T @ d * lr
            bout += d.sum(axis=0, keepdims=True) * lr
            wh += xb.T @ dh * lr
            bh += dh.sum(axis=0, keepdims=True) * lr
    return wout, losses


def main(content, out):
    with open(content, "rb") as f:
        job = pickle.load(f)
    batch_loop(*job["training"])
    write_direct(job["sheets"], out, job["in_memory"])


if __name__ == "__main__":
    main(*sys.argv[1:3])
