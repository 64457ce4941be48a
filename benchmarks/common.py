"""Helpers shared by the benchmarks."""
from __future__ import annotations

import time

import numpy as np


def interleaved(baseline, ours, repeat):
    """Median seconds of each, measured alternately so that drift hits both alike."""
    times = ([], [])
    for _ in range(repeat):
        for fn, store in zip((baseline, ours), times):
            t = time.perf_counter()
            fn()
            store.append(time.perf_counter() - t)
    return float(np.median(times[0])), float(np.median(times[1]))
