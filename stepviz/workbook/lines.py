"""The arithmetic line under a result, as live formulas (the rule: stepviz.display).

``hidden_layer_input[1,1] = 1×0.6370 + 0×0.0165 + 1×0.6066 + 0×0.9351 + 0.857 = 2.101``
is a text formula that follows the sheet's focus. It reads a row of helper cells in hidden
columns right of the sheet, one formula each, so that every value is read and rounded
once: the rounded value of each operand cell the line shows, the text of each value in
the line, the learner's result (the line's operations on the rounded operands), the
cell's own value rounded, and their texts.

The focus is read through ``Focus``, the one spelling of "which row and column the sheet's
focus cells select": a number is rounded to a whole one and clamped to the matrix (2.5 → 3,
0 → 1, 99 → the last row), the same in the highlight, the lines and the gradient checks. A
focus cell holding no number (text, a cleared cell, an error: data validation does not stop
a paste) selects nothing: no cell is lit, the line says what to type, the checks stay empty.
The focus cells are read by same-sheet absolute references (``$E$6``), never by a defined
name: spreadsheets that import xlsx commonly drop sheet-scoped names.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from xlsxwriter.utility import xl_rowcol_to_cell

from ..display import checkable, hand_value, line_extra, line_parts
from ..terms import I, J, Cell, Index, excel, expanded, merge_literals

@dataclass(frozen=True)
class Focus:
    """The sheet's focus cells, ``row`` and ``col``: absolute references (``$E$6``), or the
    fixed numbers of an exercise (``"2"``)."""

    row: str
    col: str

    def ref(self, pos) -> str:
        return self.row if pos is I else self.col

    def index(self, pos, limit: int, otherwise: str) -> str:
        """The 1-based row (I) or column (J) of a result with ``limit`` rows (columns) that the
        focus selects: rounded, clamped to [1, limit]; ``otherwise`` when the focus cell holds
        no number."""
        ref = self.ref(pos)
        if limit == 1:
            return "1"
        if ref.isdigit():
            return str(max(1, min(int(ref), limit)))
        return f"IF(ISNUMBER({ref}),MIN({limit},MAX(1,ROUND({ref},0))),{otherwise})"

    def ok(self, shape) -> str:
        """The condition "the focus selects a cell of a result of ``shape``": the focus cells
        that matter (a row for more than one row, a column for more than one column) hold
        numbers. "TRUE" when none matters."""
        refs = [self.ref(pos) for pos, n in zip((I, J), shape) if n > 1 and not self.ref(pos).isdigit()]
        if not refs:
            return "TRUE"
        tests = [f"ISNUMBER({r})" for r in refs]
        return tests[0] if len(tests) == 1 else "AND(" + ",".join(tests) + ")"


WORST = Focus("$XFD$1048576", "$XFD$1048576")  # the longest spelling, for the limits


@dataclass
class Line:
    """The formula of one arithmetic line, the text it caches, and its helper cells
    [(column, formula, cached value)]."""

    formula: str
    cached: str
    helpers: list[tuple[int, str, object]]
    extra: int = 0  # the digits the operands show beyond their blocks'


def arithmetic(p, shown_of, values_of=None, focus=(0, 0), first: int = 16000, msg=None, cells: Focus = WORST,
               extra: int | None = None) -> Line:
    """The arithmetic line of a placed result: its formula, the text it computes at ``focus``
    (0-based; "" without ``values_of``) and its helper cells from column ``first`` on.
    ``shown_of(block)`` is a block's ``Shown``, ``values_of(block)`` its array as shown;
    ``msg`` the sheet's messages (English without); ``cells`` the sheet's focus cells;
    ``extra`` the digits the operands show beyond their blocks' (``display.line_extra``,
    computed when None)."""
    from ..text import Messages

    msg = msg or Messages("en")
    block, row = p.result, p.line_row if p.line_row is not None else 0
    rows, cols = block.shape
    block_of = lambda k: block if k == -1 else p.operands[k]  # noqa: E731
    shapes = [b.shape for b in p.operands]
    op = p.compute.op
    parts = line_parts(block.name, op, shapes)
    at = lambda pos: focus[0] if pos is I else focus[1] if pos is J else pos  # noqa: E731
    live = values_of is not None
    if extra is None:
        extra = line_extra(op, shapes, lambda k: values_of(block_of(k)), lambda k: shown_of(block_of(k))) \
            if live and checkable(parts) else 0
    operand_shown = lambda b: shown_of(b).finer(extra)  # noqa: E731
    helpers: list[tuple[int, str, object]] = []

    def helper(formula: str, value) -> str:
        col = first + len(helpers)
        helpers.append((col, formula, value))
        return xl_rowcol_to_cell(row, col, True, True)

    def cell_expr(c: Cell) -> str:
        b = block_of(c.k)
        if b.size == 1:
            return xl_rowcol_to_cell(*b.cell(0, 0), True, True)
        r = cells.index(c.r, rows, "1") if isinstance(c.r, Index) else str(c.r + 1)
        k = cells.index(c.c, cols, "1") if isinstance(c.c, Index) else str(c.c + 1)
        return f"INDEX({b.range},{r},{k})"

    def value(c: Cell) -> float:
        return float(values_of(block_of(c.k))[at(c.r), at(c.c)]) if live else 0.0

    # the rounded value of every cell the line shows, once
    rounded: dict[Cell, str] = {}
    for part in parts:
        if not isinstance(part, (str, Index)) and part.cell not in rounded:
            c = part.cell
            s = operand_shown(block_of(c.k))
            rounded[c] = helper("=" + s.round_excel(cell_expr(c)), s.rounded(value(c)))
    pieces, text = [], []
    for part in merge_literals(["1" if isinstance(x, Index) and (rows if x is I else cols) == 1 else x
                                for x in parts]):
        if isinstance(part, str):
            pieces.append('"' + part.replace('"', '""') + '"')
            text.append(part)
        elif isinstance(part, Index):
            pieces.append(cells.index(part, rows if part is I else cols, "1"))
            text.append(str(at(part) + 1))
        else:
            c = part.cell
            s = operand_shown(block_of(c.k))
            negated = part.term is not c  # minus the cell: EXP(−2.101)
            r = f"(-{rounded[c]})" if negated else rounded[c]
            v = s.rounded(value(c)) * (-1 if negated else 1)
            t = s.line_text(v, part.wrap, part.sup)
            pieces.append(helper("=" + s.line_excel(r, part.wrap, part.sup), t))
            text.append(t)
    # the result: the learner's (the line's operations on the rounded operands) and the cell's
    res = shown_of(block)
    cell = cell_expr(Cell(-1, I, J))
    cell_value = float(values_of(block)[focus]) if live else 0.0
    rc = helper("=" + res.round_excel(cell), res.rounded(cell_value))
    tc = helper("=" + res.line_excel(rc), res.line_text(res.rounded(cell_value)))
    unrounded = msg("sheet.line_unrounded", value="\x00").split("\x00")
    if checkable(parts):
        term = expanded(op.spell(I, J, shapes))
        hand = math.nan
        if live:
            hand = hand_value(op, *focus, shapes, lambda k: values_of(block_of(k)),
                              lambda k: operand_shown(block_of(k))).value
        hand = cell_value if math.isnan(hand) else hand
        h = helper(f"=IFERROR({excel(term, lambda c: rounded[c], None)},{cell})", hand)
        rh = helper("=" + res.round_excel(h), res.rounded(hand))
        th = helper("=" + res.line_excel(rh), res.line_text(res.rounded(hand)))
        q = lambda s: '"' + s.replace('"', '""') + '"'  # noqa: E731
        pieces += [th, f'IF({rh}={rc},"",{q(unrounded[0])}&{tc}&{q(unrounded[1])})']
        same = res.rounded(hand) == res.rounded(cell_value)
        text += [res.line_text(res.rounded(hand))] + ([] if same else [unrounded[0], res.line_text(res.rounded(cell_value)), unrounded[1]])
    else:
        pieces.append(tc)
        text.append(res.line_text(res.rounded(cell_value)))
    formula = "&".join(pieces)
    if cells.ok(block.shape) != "TRUE":
        message = msg("sheet.focus_garbage").replace('"', '""')
        formula = f'IF({cells.ok(block.shape)},{formula},"{message}")'
    # the notebook spells the same text from stepviz.display.line_values (test_notebook compares)
    return Line("=" + formula, "".join(text) if live else "", helpers, extra)
