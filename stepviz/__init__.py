"""stepviz: backpropagation, step by step, as a live highlighted spreadsheet.

    >>> import stepviz
    >>> run = stepviz.train("seed-mlp")
    >>> stepviz.write_workbook(run, "output/seed-mlp.xlsx")

pandas, XlsxWriter and openpyxl are imported only when a function that needs them is
first used, so ``import stepviz`` and ``stepviz --help`` stay fast.
"""
from importlib import import_module

from .config import Config, ConfigError, StepvizError, load_config, presets
from .engine import Run, TrainingError, train
from .steps import Network, Step

__version__ = "0.1.0"

# name -> module that defines it, imported on first use
_LAZY = {"write_workbook": "workbook", "read_trace": "reader", "read_history": "reader",
         "compare": "analysis", "matrix": "analysis"}

__all__ = ["Config", "ConfigError", "Network", "Run", "Step", "StepvizError", "TrainingError",
           "load_config", "presets", "train", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'stepviz' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
