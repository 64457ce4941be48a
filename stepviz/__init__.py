"""stepviz: backpropagation, step by step, as a live highlighted spreadsheet.

    >>> import stepviz
    >>> run = stepviz.train("seed-mlp")
    >>> stepviz.write_workbook(run, "output/seed-mlp.xlsx")

Every public name is imported on first use (numpy with the engine, pandas with the reader,
XlsxWriter with the writer), so ``import stepviz`` and ``stepviz --help`` stay fast.
"""
from importlib import import_module

from .errors import ArgumentError, ConfigError, StepvizError

__version__ = "0.1.0"

# name -> module that defines it, imported on first use
_LAZY = {"Config": "config", "load_config": "config", "presets": "config",
         "Run": "engine", "TrainingError": "engine", "train": "engine",
         "Network": "steps", "Step": "steps",
         "write_workbook": "workbook", "read_trace": "reader", "read_history": "reader",
         "read_training": "reader",
         "compare": "analysis", "matrix": "analysis", "StepView": "notebook", "ViewError": "notebook",
         "grade": "grading", "make_class": "classroom"}

# submodules, also imported on first use (``stepviz.engine`` works after ``import stepviz``)
_MODULES = {"analysis", "cli", "config", "data", "engine", "notebook", "ops", "reader", "steps", "workbook",
            "exercise", "classroom", "grading", "gradebook", "feedback", "returns"}

__all__ = ["ArgumentError", "ConfigError", "StepvizError", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'stepviz' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
