"""Trace: every recorded value as a long table (epoch, step, name, row, col, value)."""
from __future__ import annotations

from .core import check


def write_trace(book, ws):
    for j, h in enumerate(("epoch", "step", "name", "row", "col", "value")):
        check(ws, ws.write_string(0, j, h, book.f_bold), 0, j)
    r = 1
    for epoch, step, name, a in book.run.records():
        for (i, j), v in zip(_indices(a.shape), a.ravel().tolist()):
            check(ws, ws.write_number(r, 0, epoch), r, 0)
            ws.write_number(r, 1, step)
            ws.write_string(r, 2, name)
            ws.write_number(r, 3, i)
            ws.write_number(r, 4, j)
            ws.write_number(r, 5, v, book.f_full)
            r += 1
    ws.freeze_panes(1, 0)


def _indices(shape):
    return [(i, j) for i in range(shape[0]) for j in range(shape[1])]
