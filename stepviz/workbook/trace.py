"""Trace: every recorded value as a long table (epoch, step, name, row, col, value), the
contract with pandas: column names, contents and 0-based row/col never change."""
from __future__ import annotations

from . import printing
from .core import check

COLUMNS = ("epoch", "step", "name", "row", "col", "value")


def write_trace(book, ws) -> None:
    bold = book.styles.bold
    for j, h in enumerate(COLUMNS):
        check(ws, ws.write_string(0, j, h, bold), 0, j)
    r = 1
    for epoch, step, name, a in book.run.records():
        rows, cols = a.shape
        for k, v in enumerate(a.ravel().tolist()):
            check(ws, ws.write_number(r, 0, epoch), r, 0)
            ws.write_number(r, 1, step)
            ws.write_string(r, 2, name)
            ws.write_number(r, 3, k // cols)
            ws.write_number(r, 4, k % cols)
            ws.write_number(r, 5, v)
            r += 1
    ws.freeze_panes(1, 0)
    printing.page(ws, printing.TABLE_ROWS, len(COLUMNS) - 1, landscape=False, tall=1)  # its first page
    ws.protect()
