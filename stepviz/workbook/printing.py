"""How the sheets print: landscape A4 (Letter prints the same pages a little smaller), each
sheet's name in the page header, one page wide at the scale its content needs, as many pages
tall as it needs with its title (or table header) repeated; long tables print their first page.

Step sheets set this up in ``step_sheet.StepSheet.print_setup``; the Overview, History and Trace
here. Widths are estimated in pixels at 100 % zoom (``layout.column_px``, ``layout.text_px``).
"""
from __future__ import annotations

import math

from .layout import column_px, text_px, text_width

PAPER_A4 = 9  # XlsxWriter's paper code
MARGINS = dict(left=0.3, right=0.3, top=0.6, bottom=0.5)  # inches; the header sits in the top one
HEADER_MARGIN = 0.25
LINE_PT = 15  # the height of a line of Calibri 11 (points); CJK glyphs are taller
CJK_LINE_PT = 18


def rows_pt(text: str, lines: int) -> float:
    """The height of a row holding ``lines`` lines of ``text``, with a little room."""
    return (CJK_LINE_PT if text_width(text) > len(text) else LINE_PT) * lines + 2
PAGE_PX = 1250  # the content a landscape page shows at a readable scale (8 points for 11)
TABLE_ROWS = 40  # the rows of a long table's first printed page (History, Trace)


def page(ws, last_row: int, last_col: int, *, landscape: bool = True, repeat: int | None = None,
         tall: int = 0) -> None:
    """Print rows 0..last_row, columns 0..last_col: one page wide, ``tall`` pages tall (0: as
    many as needed), row ``repeat`` on every page."""
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(PAPER_A4)
    ws.set_margins(**MARGINS)
    ws.set_header("&L&A", margin=HEADER_MARGIN)  # the sheet's name on every printed page
    ws.print_area(0, 0, last_row, last_col)
    if repeat is not None:
        ws.repeat_rows(repeat)
    ws.fit_to_pages(1, tall)


def wrap_long(ws, cells, widths, styles, limit: int = PAGE_PX) -> None:
    """Wrap every text of ``cells`` that would run past ``limit`` pixels (a plain or italic text
    alone at the end of its row) in a cell merged up to the last column inside the limit, its
    row as tall as its lines."""
    edges = _edges(widths)
    roles = {None: "plain", styles.words: "words", styles.note: "note"}
    last = max((c for (r, c) in cells.cells), default=0)
    for (r, c), (kind, *args) in sorted(cells.cells.items()):
        if kind != "string" or args[1] not in roles or edges(c) + text_px(args[0]) <= limit:
            continue
        end = c
        while edges(end + 2) <= limit:
            end += 1
        if end == c or any((r, k) in cells.cells for k in range(c + 1, last + 1)):
            continue
        cells.merge(r, c, end, args[0], styles.wrapped(roles[args[1]]))
        ws.set_row(r, rows_pt(args[0], math.ceil(text_px(args[0]) / (edges(end + 1) - edges(c)))))


def _edges(widths):
    """``edges(c)``: the pixels left of column c, the columns ``widths(c)`` characters wide."""
    edge = [0]

    def left(c):
        while len(edge) <= c:
            edge.append(edge[-1] + column_px(widths(len(edge) - 1)))
        return edge[c]
    return left


def text_right(cells, widths) -> int:
    """The last column any text of ``cells`` reaches (a text runs on over empty cells to its
    right), with ``widths(col)`` the columns' widths in characters."""
    left = _edges(widths)
    right = 0
    for (r, c), (kind, *args) in cells.cells.items():
        text = args[0] if kind == "string" else args[2] if kind == "url" else None
        if kind == "merge":  # a wrapped text ends with its cells
            text, c = None, args[0]
        end = left(c + 1)
        if isinstance(text, str):
            end = max(end, left(c) + text_px(text))
        while left(right + 1) < end:
            right += 1
    return right
