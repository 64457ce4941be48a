"""Questions about runs, answered in pandas: a matrix of one step, two runs compared.

Every function accepts a Run, a workbook path or a Trace DataFrame.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import StepvizError, expect, is_path
from .reader import read_trace

KEYS = ["epoch", "step", "name", "row", "col"]


def trace_of(source) -> pd.DataFrame:
    """The Trace table of a Run, a workbook path or an existing Trace DataFrame."""
    if isinstance(source, pd.DataFrame):
        return source
    if is_path(source):
        return read_trace(source)
    from .engine import Run

    expect(isinstance(source, Run), "stepviz.compare and stepviz.matrix",
           "a Run, a workbook path or a Trace DataFrame", source)
    return source.frame()


def matrix(source, name: str, epoch: int | None = None, step: int | None = None) -> pd.DataFrame:
    """``name`` as a DataFrame in its matrix shape (rows × cols, 0-based labels).

    ``epoch`` defaults to the first detailed epoch; ``step`` to the first step that lists
    ``name`` (for a parameter: the value the epoch starts from; give 11 or 12 for the update).
    """
    t = trace_of(source)
    epochs = sorted(t.epoch.unique())
    epoch = epochs[0] if epoch is None else epoch
    if epoch not in epochs:
        raise StepvizError(f"epoch {epoch} is not in the trace; detailed epochs: {', '.join(map(str, epochs))}")
    t = t[t.epoch == epoch]
    rows = t[t.name == name]
    if rows.empty:
        raise StepvizError(f"no matrix named {name!r}; names: {', '.join(dict.fromkeys(t.name))}")
    step = rows.step.min() if step is None else step
    rows = rows[rows.step == step]
    if rows.empty:
        raise StepvizError(f"{name} is not listed at step {step}; it is at step(s) "
                           f"{', '.join(map(str, sorted(t[t.name == name].step.unique())))}")
    m = rows.pivot(index="row", columns="col", values="value")
    m.index.name = m.columns.name = None
    return m


def compare(a, b) -> pd.DataFrame:
    """Per (epoch, step, name), the largest absolute difference between two runs or workbooks.

    Columns: epoch, step, name, max_abs_diff. Values present in only one of the two
    (another network shape, other detailed epochs) count as an infinite difference.
    """
    ta, tb = trace_of(a), trace_of(b)
    both = ta.merge(tb, on=KEYS, how="outer", suffixes=("_a", "_b"))
    diff = (both.value_a - both.value_b).abs().fillna(np.inf)
    out = (both.assign(max_abs_diff=diff).groupby(["epoch", "step", "name"], sort=False)
           .max_abs_diff.max().reset_index())
    return out.sort_values(["epoch", "step"], kind="stable").reset_index(drop=True)
