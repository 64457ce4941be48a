"""stepviz: backpropagation, step by step, as a live highlighted spreadsheet.

    >>> import stepviz
    >>> run = stepviz.train("seed-mlp")
    >>> stepviz.write_workbook(run, "output/seed-mlp.xlsx")

pandas is imported only by the functions that return DataFrames.
"""
from .config import Config, ConfigError, StepvizError, load_config, presets
from .engine import Run, TrainingError, train
from .steps import Network, Step

__version__ = "0.1.0"

__all__ = ["Config", "ConfigError", "Network", "Run", "Step", "StepvizError", "TrainingError",
           "load_config", "presets", "read_history", "read_trace", "train", "write_workbook"]


def write_workbook(run, path, **kwargs):
    """Write ``run`` as an .xlsx workbook at ``path`` (atomically). See stepviz.workbook."""
    from .workbook import write_workbook as _write

    return _write(run, path, **kwargs)


def read_trace(path):
    """The Trace sheet of a stepviz workbook as a DataFrame (epoch, step, name, row, col, value)."""
    from .reader import read_trace as _read

    return _read(path)


def read_history(path):
    """The History sheet of a stepviz workbook as a DataFrame, one row per recorded epoch."""
    from .reader import read_history as _read

    return _read(path)
