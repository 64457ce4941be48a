"""A Map's axes: the grid of points over a data column's range, plain numpy below the
configuration (which checks, before any training, that a map's axes can be drawn)."""
from __future__ import annotations

import numpy as np

GRID = 25  # points per axis
MARGIN = 0.1  # beyond the data's range on each side, as a share of the range
STEPS = (1, 1.2, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8, 10)  # a round step: one of these times 10^k
# a column spanning less than this share of its size (or than TINY) is drawn as constant:
# its digits are rounding, and a step of 5e-324 / 24 is no number at all
FLAT, TINY = 1e-12, 1e-200


def axis(values: np.ndarray, descending: bool = False, name: str = "the column") -> np.ndarray:
    """GRID evenly spaced points covering the values' range plus MARGIN on each side (a constant
    column: ±0.5, or ±10 % of its value beyond 5), the step a round number (STEPS), so the axis
    labels read 0, 0.3, 0.6, … rather than 0.0465, 0.127, …; a ConfigError for a column too
    wide for floating-point arithmetic."""
    from .errors import ConfigError

    lo, hi = float(values.min()), float(values.max())
    with np.errstate(all="ignore"):
        span = hi - lo
        if not span > max(TINY, FLAT * max(abs(lo), abs(hi))):
            mid = (lo + hi) / 2
            lo, hi = mid - max(0.5, abs(mid) / 10), mid + max(0.5, abs(mid) / 10)
        else:
            lo, hi = lo - MARGIN * span, hi + MARGIN * span
        power = 10.0 ** np.floor(np.log10((hi - lo) / (GRID - 1)))
        for m in STEPS + tuple(10 * s for s in STEPS[1:]):
            step = m * power
            start = np.floor(((lo + hi) / 2 - step * (GRID - 1) / 2) / step + 1e-9) * step
            if start <= lo + 1e-9 * step and start + step * (GRID - 1) >= hi - 1e-9 * step:
                break
        out = None
        if np.isfinite(step) and step > 0 and np.isfinite(start):
            decimals = max(0, 2 - int(np.floor(np.log10(step))))
            out = np.round(start + step * np.arange(GRID), decimals) + 0.0  # 0, not -0 or 1.4E-17
    if out is None or not np.isfinite(out).all() or not (np.diff(out) > 0).all():
        raise ConfigError(f"workbook.map: {name} spans {float(values.min()):.3g} to {float(values.max()):.3g}, too "
                          "wide a range to draw a map of; scale it (or name other columns, or [] for no map)")
    return out[::-1].copy() if descending else out
