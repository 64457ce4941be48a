"""Read a stepviz workbook back into pandas (imported here, never at start-up)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from .config import StepvizError

TRACE_COLUMNS = ["epoch", "step", "name", "row", "col", "value"]


class NotAWorkbookError(StepvizError):
    """The file is missing or is not a workbook written by stepviz."""


def engine() -> str:
    """pandas' fastest available xlsx engine: calamine when installed, else openpyxl."""
    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def _read(path, sheet: str, engine_name: str | None) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise NotAWorkbookError(f"{path}: no such file")
    try:
        return pd.read_excel(path, sheet_name=sheet, engine=engine_name or engine())
    except ValueError as e:  # missing sheet, or not an xlsx at all
        if "not found" in str(e) or "Worksheet" in str(e):
            raise NotAWorkbookError(f"{path}: no {sheet} sheet; not a stepviz workbook") from None
        raise NotAWorkbookError(f"{path}: not a readable .xlsx workbook ({e})") from None
    except Exception as e:  # zip/XML errors differ between engines
        raise NotAWorkbookError(f"{path}: not a readable .xlsx workbook ({type(e).__name__})") from None


def read_trace(path, *, engine: str | None = None) -> pd.DataFrame:
    """The Trace sheet: one row per recorded value, columns epoch, step, name, row, col, value."""
    df = _read(path, "Trace", engine)
    if list(df.columns) != TRACE_COLUMNS:
        raise NotAWorkbookError(f"{path}: its Trace sheet has columns {list(df.columns)}, "
                                f"expected {TRACE_COLUMNS}; not a stepviz workbook")
    return df.astype({"epoch": "int64", "step": "int64", "name": "str", "row": "int64",
                      "col": "int64", "value": "float64"})


def read_history(path, *, engine: str | None = None) -> pd.DataFrame:
    """The History sheet: one row per recorded epoch (epoch, loss, outputs, parameters)."""
    df = _read(path, "History", engine)
    if list(df.columns[:2]) != ["epoch", "loss"]:
        raise NotAWorkbookError(f"{path}: its History sheet does not start with epoch, loss; "
                                "not a stepviz workbook")
    return df.astype({"epoch": "int64"})


def step_sheet(path, epoch: int, step: int) -> tuple[str, str] | None:
    """(sheet name, formula in words) of a step sheet, or None when there is none."""
    import openpyxl

    prefix = f"{epoch}.{step:02d} "
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        name = next((n for n in wb.sheetnames if n.startswith(prefix)), None)
        if name is None:
            return None
        words = next(wb[name].iter_rows(min_row=2, max_row=2, max_col=1, values_only=True))[0]
        return name, words or ""
    finally:
        wb.close()
