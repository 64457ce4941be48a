"""Read a stepviz workbook back into pandas (imported here, never at start-up).

Every reader first checks the file's zip directory (``check_workbook``): a file whose parts
would inflate beyond what a stepviz workbook can hold is refused before anything is read whole.
Both of pandas' engines stop at a part's declared size, so the directory is what counts.
"""
from __future__ import annotations

import importlib.util
import os
import re
import stat
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd

from .data import node_kind
from .errors import StepvizError, expect, is_path

TRACE_COLUMNS = ["epoch", "step", "name", "row", "col", "value"]
# Measured on stepviz workbooks, all-zero data included: parts of 1 MiB or more compress at most
# 17:1 (small ones up to 40:1); zip bombs reach 250:1 and more.
MAX_RATIO = 100
# The Trace lists one value per row, on at most Excel's 1,048,576 rows of at most ~250 bytes of XML.
MAX_TRACE_BYTES = 1_048_576 * 320
# stepviz writes at most 20 million cells (workbook.limits.MAX_CELLS), under 200 bytes of XML each.
MAX_INFLATED = 4 * 2**30
# Parts other than sheets (workbook, styles, shared strings: sheet and column names) are small:
# 2 MB for 12,000 sheets, a few MB for 16,384 columns of 255-character names.
MAX_OTHER_PART = 64 * 2**20
# Parts read whole before anything else, with tighter bounds: stepviz's document properties are
# 13 values of at most 255 characters (~4 KB of XML).
MAX_PART = {"docProps/custom.xml": 2**20}
MAX_HEADER_ROW = 1_048_576  # history_header names a row of the sheet
# 1.03 ..., with mini-batches 1.2.03 ...; at most 31 characters (Excel's): a longer name, with
# thousands of digits, is no sheet stepviz wrote (and more digits than int() converts)
STEP_SHEET = re.compile(r"^(?=.{1,31}$)\d+(?:\.\d+)?\.\d{2,} ", re.DOTALL)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


class NotAWorkbookError(StepvizError):
    """The file is missing or is not a workbook written by stepviz."""


def engine() -> str:
    """pandas' fastest available xlsx engine: calamine when installed, else openpyxl."""
    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def check_workbook(path) -> dict[str, str]:
    """Refuse, from the zip directory alone, a file that is not an .xlsx archive or whose parts
    would inflate beyond what a stepviz workbook can hold; return {sheet name: zip part}."""
    expect(is_path(path), "stepviz's readers", "a file name (str or pathlib.Path) as path", path)
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise NotAWorkbookError(f"{path}: no such file") from None
    except OSError as e:
        raise NotAWorkbookError(f"{path}: cannot read ({e.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise NotAWorkbookError(f"{path}: is {node_kind(info.st_mode)}, not a workbook file")
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
            sizes = {p.filename: p.file_size for p in parts}
            total = sum(sizes.values())
            if total > MAX_INFLATED:
                raise NotAWorkbookError(f"{path}: its parts would inflate to {total:,} bytes, more than a "
                                        f"stepviz workbook can hold ({MAX_INFLATED:,}); not read")
            for p in parts:
                if p.filename in MAX_PART and p.file_size > MAX_PART[p.filename]:
                    raise NotAWorkbookError(f"{path}: its part {p.filename} would inflate to {p.file_size:,} "
                                            f"bytes, more than a stepviz workbook's ({MAX_PART[p.filename]:,}); "
                                            "not read")
                if p.file_size > MAX_OTHER_PART and not p.filename.startswith("xl/worksheets/sheet"):
                    raise NotAWorkbookError(f"{path}: its part {p.filename} would inflate to {p.file_size:,} "
                                            f"bytes, more than a stepviz workbook's ({MAX_OTHER_PART:,}); not read")
                if p.file_size >= 2**20 and p.file_size > MAX_RATIO * max(p.compress_size, 1):
                    raise NotAWorkbookError(
                        f"{path}: its part {p.filename} would inflate {p.compress_size:,} bytes to "
                        f"{p.file_size:,} ({p.file_size / max(p.compress_size, 1):,.0f}:1), a stepviz "
                        f"workbook compresses at most {MAX_RATIO}:1; not read (a damaged file or a "
                        "decompression bomb)")
            sheets = _sheet_parts(z)
            trace = sizes.get(sheets.get("Trace"), 0)
            if trace > MAX_TRACE_BYTES:
                raise NotAWorkbookError(f"{path}: its Trace sheet would inflate to {trace:,} bytes, more than "
                                        "Excel's 1,048,576 rows hold; not read")
            return sheets
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
        raise NotAWorkbookError(f"{path}: not a readable .xlsx workbook ({type(e).__name__})") from None


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: zip part} from xl/workbook.xml and its relationships ({} if they are absent)."""
    try:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for sheet in book.iter(_MAIN + "sheet"):
        target = targets.get(sheet.get(_REL + "id"), "")
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def _read(path, sheet: str, engine_name: str | None, header: int = 0) -> pd.DataFrame:
    check_workbook(path)
    expect(engine_name is None or isinstance(engine_name, str), "stepviz's readers",
           '"calamine", "openpyxl" or None as engine', engine_name)
    path = Path(path)
    try:
        return pd.read_excel(path, sheet_name=sheet, header=header, engine=engine_name or engine())
    except ValueError as e:  # missing sheet, or not an xlsx at all
        if "not found" in str(e) or "Worksheet" in str(e):
            if properties(path).get("exercise") == "true":
                raise NotAWorkbookError(f"{path}: an exercise workbook has no {sheet} sheet (its numbers would give "
                                        "the answers away); read the workbook written without --exercise") from None
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
    empty = int(df.isna().to_numpy().sum())
    if empty:
        raise NotAWorkbookError(f"{path}: its Trace sheet has {empty} empty cells; the workbook was "
                                "edited or damaged")
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
    header = props.get("history_header", "1")
    if not 1 <= len(sheet) <= 31:  # Excel's sheet names
        raise NotAWorkbookError(f"{path}: its document property stepviz_history_sheet is not a sheet name "
                                f"({len(sheet):,} characters); the workbook was edited or damaged")
    if not (header.isascii() and header.isdigit() and len(header) <= 7 and 1 <= int(header) <= MAX_HEADER_ROW):
        raise NotAWorkbookError(f"{path}: its document property stepviz_history_header is {header[:40]!r}, "
                                "not a row number; the workbook was edited or damaged")
    header = int(header) - 1
    df = _read(path, sheet, engine, header=header)
    if df.shape[1] < 2:
        raise NotAWorkbookError(f"{path}: its {sheet} sheet has no epoch and loss columns; "
                                "not a stepviz workbook")
    df.columns = ["epoch", "loss", *df.columns[2:]]
    try:
        return df.astype({"epoch": "int64"})
    except (ValueError, TypeError):
        raise NotAWorkbookError(f"{path}: its {sheet} sheet has epochs that are not whole numbers") from None


def read_training(path, *, engine: str | None = None) -> pd.DataFrame:
    """The Training sheet's table: one row per update, labelled by its epoch (an int; with
    mini-batches its update, ``"1.2"``), columns epoch, loss, then each parameter's, the
    optimizer's state's and the kept values' ``name[i,j]`` as on the step sheets, whatever the
    workbook's language; its last row, the parameters after training, is labelled
    ``"after"``. The values are floats, what the file holds (an error value: NaN) (after a recalculation in a spreadsheet:
    that training's); the same table as ``Run.training()`` of the run it was written from
    (stepviz.table declares both)."""
    from .table import label
    from .text import Messages, languages
    from .workbook.training_sheet import HEADER

    props = properties(path)
    sheet = props.get("training_sheet")
    if not sheet or len(sheet) > 31:
        raise NotAWorkbookError(f"{path}: no Training sheet (written with workbook.live_epochs = 0, or by an "
                                "older stepviz)")
    df = _read(path, sheet, engine, header=HEADER)
    names = [str(c) for c in df.columns]
    end = next((k for k, c in enumerate(names) if c.startswith("Unnamed")), len(names))  # the data block follows a gap
    df = df.iloc[:, :end]
    df.columns = ["epoch", "loss", *names[2:end]]
    df = df[df.epoch.notna()].reset_index(drop=True)  # the data block may run below the table
    lang = props.get("lang", "en")
    after = Messages(lang if lang in languages() else "en")("training.after")
    values = df.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").astype("float64")  # an error value: NaN
    return pd.concat([pd.Series([label(v, after) for v in df.epoch], name="epoch", dtype=object), values], axis=1)


def properties(path) -> dict[str, str]:
    """The settings stepviz stored in a workbook's custom document properties (``stepviz_``
    dropped from the names); empty when there are none. The file is checked first
    (``check_workbook``): no part is inflated beyond its bound."""
    check_workbook(path)
    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("docProps/custom.xml")
        root = ElementTree.fromstring(xml)
    except KeyError:
        return {}
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, ElementTree.ParseError) as e:
        raise NotAWorkbookError(f"{path}: not a readable .xlsx workbook (docProps/custom.xml: "
                                f"{type(e).__name__})") from None
    out = {}
    for prop in root:
        name = prop.get("name", "")
        if name.startswith("stepviz_") and len(prop):
            out[name[len("stepviz_"):]] = prop[0].text or ""
    return out


def step_sheet(path, epoch: int, step: int) -> tuple[str, str] | None:
    """(sheet name, formula in words) of a step sheet, or None when there is none."""
    import openpyxl

    check_workbook(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception as e:  # openpyxl reads every part it knows (custom.xml too): errors differ
        raise NotAWorkbookError(f"{path}: not a readable .xlsx workbook ({type(e).__name__})") from None
    try:
        batches = _batches(path, next((p.value for p in wb.custom_doc_props.props if p.name == "stepviz_batches"), 1))
        prefix = f"{_label(epoch, batches)}.{step:02d} "
        name = next((n for n in wb.sheetnames if n.startswith(prefix)), None)
        if name is None:
            return None
        words = next(wb[name].iter_rows(min_row=2, max_row=2, max_col=1, values_only=True), [None])[0]
        return name, words if isinstance(words, str) else ""
    except NotAWorkbookError:
        raise
    except Exception as e:
        raise NotAWorkbookError(f"{path}: not a readable .xlsx workbook ({type(e).__name__})") from None
    finally:
        wb.close()


def _batches(path, value) -> int:
    """The stepviz_batches property: updates per epoch, a whole number from 1 (NotAWorkbookError
    for anything else: the workbook was edited)."""
    text = str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= 9 and int(text) >= 1):
        raise NotAWorkbookError(f"{path}: its document property stepviz_batches is {text[:40]!r}, not a whole "
                                "number of batches; the workbook was edited or damaged")
    return int(text)


def _label(update: int, batches: int) -> str:
    """An update's name on its sheets: the epoch, or epoch.batch (stepviz.config.Config.label)."""
    return str(update) if batches == 1 else f"{(update - 1) // batches + 1}.{(update - 1) % batches + 1}"


def _update(sheet: str, batches: int) -> int:
    """The update a step sheet shows, counted over the run as the Trace counts them."""
    parts = sheet.split(" ", 1)[0].split(".")
    return int(parts[0]) if len(parts) == 2 else (int(parts[0]) - 1) * batches + int(parts[1])


def inspect(path) -> dict:
    """What a workbook is: the settings stepviz stored in it, its sheets, and any problem
    found (missing sheets, values that are not numbers, formulas without the values stepviz
    stored). Raises NotAWorkbookError when it is not a workbook stepviz wrote."""
    import openpyxl

    path = Path(path)
    parts = check_workbook(path)
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
    steps = [n for n in names if STEP_SHEET.match(n)]
    from .text import Messages, languages

    lang = props.get("lang", "en")
    msg = Messages(lang if lang in languages() else "en")
    expected = [msg("sheets.overview")]
    if props.get("exercise") != "true":  # an exercise workbook has no History and Trace
        expected += [props.get("history_sheet", "History"), "Trace"]
    problems = [f"missing sheet {s}" for s in expected if s not in names]
    problems += [f"a sheet named {n[:12]}… ({len(n):,} characters) is no step sheet stepviz writes (at most 31)"
                 for n in names if len(n) > 31 and re.match(r"\d+(?:\.\d+)?\.\d{2,} ", n)]
    batches = _batches(path, props.get("batches", 1))  # mini-batches: a sheet is named epoch.batch.step
    epochs = sorted({_update(n, batches) for n in steps})
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
    formulas, uncached = _formula_values(path, [parts[n] for n in steps if n in parts])
    if uncached:
        problems.append(f"{uncached:,} of the step sheets' {formulas:,} formulas have lost the value "
                        "stepviz stored with them (a program that drops them, such as openpyxl, saved "
                        "the file): pandas reads no numbers from them; recalculate and save it in Excel "
                        "or LibreOffice, or write it again with stepviz")
    return {"path": str(path), "settings": props, "step_sheets": len(steps), "epochs": epochs,
            "trace_values": values, "problems": problems}


def _formula_values(path, parts) -> tuple[int, int]:
    """(formula cells, formula cells without a stored value) in these worksheet parts, read as
    a stream. A text result is marked t="str"; an empty one is a value, not a loss. An
    exercise's verdict (✓/✗) is empty text until an answer is typed: not a loss either."""
    formulas = uncached = 0
    with zipfile.ZipFile(path) as z:
        for part in parts:
            with z.open(part) as f:
                for _, el in ElementTree.iterparse(f):
                    if el.tag == _MAIN + "c":
                        f = el.find(_MAIN + "f")
                        if f is not None:
                            formulas += 1
                            v = el.find(_MAIN + "v")
                            verdict = (f.text or "").startswith("IF(ISBLANK(")
                            if (v is None or not v.text) and el.get("t") != "str" and not verdict:
                                uncached += 1
                        el.clear()
                    elif el.tag == _MAIN + "row":
                        el.clear()
    return formulas, uncached
