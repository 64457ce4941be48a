"""Helpers shared by the benchmarks."""
from __future__ import annotations

import gc
import time

import numpy as np


def interleaved(baseline, ours, repeat):
    """Median seconds of each, measured alternately so that drift hits both alike. As timeit
    does, the garbage collector is off while a call is timed: otherwise a collection that one
    call happens to trigger would scan everything the benchmark itself holds (the content of
    other workbooks) and charge it to that call."""
    times = ([], [])
    for _ in range(repeat):
        for fn, store in zip((baseline, ours), times):
            gc.collect()
            gc.disable()
            try:
                t = time.perf_counter()
                fn()
                store.append(time.perf_counter() - t)
            finally:
                gc.enable()
    return float(np.median(times[0])), float(np.median(times[1]))
