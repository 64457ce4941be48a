"""The Inputs sheet (``data.standardize``): the preprocessing step a learner can read.

The data as read (blue: edit it), each column's mean (AVERAGE) and standard deviation
(STDEVP) over every sample, and beside them the standardised inputs the network reads,
``(raw − mean) / sd``, as live formulas. The X block of every detailed update's first step
links to the standardised rows its batch read (``link``), so the engine's X, the step sheets'
and the Trace's are these numbers, and an edit of a raw value reaches the step sheets."""
from __future__ import annotations

from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ..config import input_names
from ..display import shown
from . import printing
from .core import Cells

MEAN, SD, HEADER, FIRST = 5, 6, 8, 9  # rows: the mean, the sd, the table's header, its first sample
RAW = 1  # the first raw column; the standardised ones start after a gap


def has_inputs(book) -> bool:
    return book.config.raw_X is not None


def sheet_name(book) -> str:
    return book.msg("sheets.inputs")


def _std_col(book, j: int) -> int:
    return RAW + book.config.X.shape[1] + 1 + j


def link(book, sample: int, j: int) -> str:
    """A formula reading the standardised input j of a sample (0-based) on the Inputs sheet."""
    return f"={quote_sheetname(sheet_name(book))}!{xl_rowcol_to_cell(FIRST + sample, _std_col(book, j), True, True)}"


def stat(book, which: str, j: int) -> str:
    """The absolute reference of column j's mean or sd on the Inputs sheet (for other sheets)."""
    return f"{quote_sheetname(sheet_name(book))}!{xl_rowcol_to_cell(MEAN if which == 'mean' else SD, RAW + j, True, True)}"


def write_inputs(book, ws) -> None:
    cfg, msg, st = book.config, book.msg, book.styles
    raw, X = cfg.raw_X, cfg.X
    n, d = raw.shape
    names = input_names(d, cfg.x_labels)
    cells = Cells()
    cells.text(0, 0, msg("inputs.title"), st.title)
    cells.text(1, 0, msg("inputs.intro", samples=n))
    cells.text(2, 0, msg("inputs.why"), st.words)
    cells.link(3, 0, book.overview, "A1", "← " + book.overview, st.link)
    cells.text(HEADER - 4, RAW, msg("inputs.raw"), st.bold)
    cells.text(HEADER - 4, _std_col(book, 0), msg("inputs.standardised"), st.bold)
    cells.text(MEAN, 0, msg("inputs.mean"), st.bold)
    cells.text(SD, 0, msg("inputs.sd"), st.bold)
    cells.text(HEADER, 0, msg("inputs.sample"), st.header)
    for j in range(d):
        raw_fmt = st.cell("input", shown(raw[:, j], cfg.decimals).num_format)
        std_fmt = st.cell("value", shown(X[:, j], cfg.decimals).num_format)
        top, bottom = xl_rowcol_to_cell(FIRST, RAW + j), xl_rowcol_to_cell(FIRST + n - 1, RAW + j)
        stat_fmt = st.cell("value", shown([cfg.mean[j], cfg.sd[j]], cfg.decimals).num_format)
        cells.put(MEAN, RAW + j, "formula", f"=AVERAGE({top}:{bottom})", stat_fmt, float(cfg.mean[j]))
        cells.put(SD, RAW + j, "formula", f"=STDEVP({top}:{bottom})", stat_fmt, float(cfg.sd[j]))
        c = _std_col(book, j)
        cells.text(HEADER, RAW + j, names[j], st.header)
        cells.text(HEADER, c, names[j], st.header)
        mean, sd = xl_rowcol_to_cell(MEAN, RAW + j, True, False), xl_rowcol_to_cell(SD, RAW + j, True, False)
        for i in range(n):
            cells.put(FIRST + i, RAW + j, "number", float(raw[i, j]), raw_fmt)
            cells.put(FIRST + i, c, "formula", f"=({xl_rowcol_to_cell(FIRST + i, RAW + j)}-{mean})/{sd}", std_fmt,
                      float(X[i, j]))
    for i in range(n):
        cells.put(FIRST + i, 0, "number", i + 1, st.left)
    ws.set_column(0, 0, 10)
    ws.set_column(RAW, _std_col(book, d - 1), 12)
    ws.set_column(RAW + d, RAW + d, 3)
    ws.freeze_panes(FIRST, 1)
    # printed: one page wide, the header on each
    printing.page(ws, FIRST + n - 1, _std_col(book, d - 1), repeat=HEADER)
    cells.flush(ws)
