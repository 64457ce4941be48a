"""Read a stepviz workbook back into pandas (imported here, never at start-up)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from .errors import StepvizError

TRACE_COLUMNS = ["epoch", "step", "name", "row", "col", "value"]


class NotAWorkbookError(StepvizError):
    """The file is missing or is not a workbook written by stepviz."""


def engine() -> str:
    """pandas' fastest available xlsx engine: calamine when installed, else openpyxl."""
    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def _read(path, sheet: str, engine_name: str | None, header: int = 0) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise NotAWorkbookError(f"{path}: no such file")
    try:
        return pd.read_excel(path, sheet_name=sheet, header=header, engine=engine_name or engine())
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
    try:
        return df.astype({"epoch": "int64", "step": "int64", "name": "str", "row": "int64",
                          "col": "int64", "value": "float64"})
    except (ValueError, TypeError):
        raise NotAWorkbookError(f"{path}: its Trace sheet holds cells that are not numbers or are "
                                "empty; the workbook was edited or damaged") from None


def read_history(path, *, engine: str | None = None) -> pd.DataFrame:
    """The training history: one row per recorded epoch with the columns epoch, loss,
    ``output[i,j]`` and each parameter's ``name[i,j]`` (i and j count from 1), whatever
    the workbook's language; the same table as ``Run.history()``."""
    props = properties(path)
    sheet = props.get("history_sheet", "History")  # workbooks before 0.2 called it History
    header = int(props.get("history_header", "1")) - 1
    df = _read(path, sheet, engine, header=header)
    if df.shape[1] < 2:
        raise NotAWorkbookError(f"{path}: its {sheet} sheet has no epoch and loss columns; "
                                "not a stepviz workbook")
    df.columns = ["epoch", "loss", *df.columns[2:]]
    try:
        return df.astype({"epoch": "int64"})
    except (ValueError, TypeError):
        raise NotAWorkbookError(f"{path}: its {sheet} sheet has epochs that are not whole numbers") from None


def properties(path) -> dict[str, str]:
    """The settings stepviz stored in a workbook's custom document properties (``stepviz_``
    dropped from the names); empty when there are none."""
    import zipfile
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("docProps/custom.xml")
    except KeyError:
        return {}
    except (OSError, zipfile.BadZipFile) as e:
        raise NotAWorkbookError(f"{path}: not a readable .xlsx workbook ({type(e).__name__})") from None
    out = {}
    for prop in ElementTree.fromstring(xml):
        name = prop.get("name", "")
        if name.startswith("stepviz_") and len(prop):
            out[name[len("stepviz_"):]] = prop[0].text or ""
    return out


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


def inspect(path) -> dict:
    """What a workbook is: the settings stepviz stored in it, its sheets, and any problem
    found (missing sheets, values that are not numbers). Raises NotAWorkbookError when it
    is not a workbook stepviz wrote."""
    import re

    import openpyxl

    path = Path(path)
    if not path.is_file():
        raise NotAWorkbookError(f"{path}: no such file")
    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception as e:
        raise NotAWorkbookError(f"{path}: not a readable .xlsx workbook ({type(e).__name__})") from None
    try:
        props = {p.name[len("stepviz_"):]: p.value for p in wb.custom_doc_props.props
                 if p.name.startswith("stepviz_")}
        names = list(wb.sheetnames)
    finally:
        wb.close()
    if "version" not in props:
        raise NotAWorkbookError(f"{path}: not written by stepviz (it has no stepviz document properties)")
    steps = [n for n in names if re.match(r"^\d+\.\d{2,} ", n)]
    from .text import Messages

    msg = Messages(props.get("lang", "en"))
    expected = [msg("sheets.overview")]
    if props.get("exercise") != "true":  # an exercise workbook has no History and Trace
        expected += [props.get("history_sheet", "History"), "Trace"]
    problems = [f"missing sheet {s}" for s in expected if s not in names]
    epochs = sorted({int(n.split(".")[0]) for n in steps})
    values = missing = 0
    if "Trace" in names:
        try:
            trace = read_trace(path)
            values, missing = len(trace), int(trace.value.isna().sum())
            if missing:
                problems.append(f"{missing} Trace values are not numbers")
            if sorted(trace.epoch.unique()) != epochs:
                problems.append("the Trace's epochs differ from the step sheets'")
        except NotAWorkbookError as e:
            problems.append(str(e).split(": ", 1)[-1])
    return {"path": str(path), "settings": props, "step_sheets": len(steps), "epochs": epochs,
            "trace_values": values, "problems": problems}
