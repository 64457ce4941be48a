"""What a step achieved, live on the step sheets (issue 17):

* the last step of each detailed epoch shows the loss before the update (step 6's) and the
  loss the updated parameters give: the forward pass once more, as one formula
  (``formulas.loss_formula``), so editing lr changes a number the learner sees;
* below the bands of the sheet that updates it, the backprop direction of each trained
  parameter's focus cell (``g = −∂L/∂w``:
  ``update_w / lr`` for plain gradient descent, ``g_w`` for momentum and Adam) beside its central
  finite-difference estimate ``−(L(w+h) − L(w−h))/(2h)`` from two more forward passes, each
  with the parameter's focus cell moved by ±h, and their relative difference. ``h`` is a blue
  cell on the Overview; the moved cell follows the sheet's focus.

Exercise workbooks have neither (the estimate would give the answers away), nor do networks
whose forward pass does not fit in one formula (``enabled``).
"""
from __future__ import annotations

import math

import numpy as np
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ..engine import forward_values
from ..formulas import ARRAY_SAFE, computes, inputs, loss_formula, moved, needs_safe
from ..ops import Activate
from ..terms import I, J
from ..text import Messages, languages
from .core import absolute
from ..limits import MAX_FORMULA
from .layout import LEFT, columns_for
from .lines import WORST, Focus

H = 5e-5  # central differences: small enough for the truncation error (h²), large enough for
# the rounding error (ε·L/h): every preset's relative difference stays below 1e-6 (tested)
RELATIVE_FORMAT = "0.00E+0;-0.00E+0;0"
WIDTH = 14  # characters: the columns of the gradient checks show losses to 10 digits


def direction(net, p: str) -> str:
    """The result that holds the backprop direction of parameter ``p`` (times lr for gd)."""
    return f"update_{p}" if net.optimizer == "gd" else f"g_{p}"


def significant(values, digits: int) -> str:
    """A number format showing ``digits`` significant digits of the smallest non-zero value."""
    v = np.abs(np.asarray(values, dtype=float))
    v = v[(v > 0) & np.isfinite(v)]
    if not v.size:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(v.min()))
    if decimals > 10:
        return "0." + "0" * (digits - 1) + "E+0"
    zeros = "0." + "0" * decimals if decimals > 0 else "0"
    return f"{zeros};-{zeros};0"


def _columns(key: str, width: float, **values) -> int:
    """The columns a (bold) message needs in the language that needs the most: every
    language lays the sheet out alike, so cells are where they are in any language."""
    return max(columns_for(Messages(lang)(key, **values), width) for lang in languages())


def _places(book, step, keys: list[str], col: int) -> list[int]:
    """The columns of messages written side by side from ``col``, each as wide as it needs."""
    out = []
    for key in keys:
        out.append(col)
        col += _columns(key, book.width[step.number])
    return out


def after_cell(book) -> tuple[int, int]:
    """Where the last step sheet of an epoch holds the loss after the update (0-based)."""
    step = book.run.steps[-1]
    keys = [f"check.{k}" for k in ("before", "after", "change")]
    return book.layouts[step.number].height + 2, _places(book, step, keys, LEFT)[1]


def _range(book, epoch: int, step, name: str) -> str:
    block = book.result_block(step, name)
    return quote_sheetname(book.sheet_name(epoch, step)) + "!" + block.range


def _safe(book, epoch, worst: bool = False) -> frozenset:
    """The activations that need their overflow-safe spelling in this epoch; ``worst``: all
    that have one (the longest formulas, for the limits)."""
    out = set()
    for c in computes(book.run.steps, "loss"):
        if isinstance(c.op, Activate) and c.op.fn.name in ARRAY_SAFE and (worst or needs_safe(
                c, book.run.value(epoch, _made(book, c.operands[0]).number, c.operands[0]))):
            out.add(c.result)
    return frozenset(out)


def _made(book, name):
    """The step that makes ``name`` in the forward pass (the first that lists it)."""
    return book.first[name]


def check_formulas(book, epoch: int, p: str, h: str, focus: Focus, worst: bool = False) -> tuple[str, str]:
    """The formulas of L(p + h) and L(p − h), p moved at the focus of the sheet that updates it
    (``focus``: its focus cells)."""
    run, net = book.run, book.config.network
    start = book.result_block(book.first[p], p)
    rows, cols = start.shape

    def ref(sign):
        def at(name):
            rng = _range(book, epoch, book.first[name], name)
            if name != p:
                return rng
            return moved(rng, start.shape, focus.index(I, rows, "0"), focus.index(J, cols, "0"), start.cell(0, 0),
                         h, sign)
        return at

    safe = _safe(book, epoch, worst)
    return tuple(loss_formula(run.steps, run.shapes, ref(s), safe) for s in "+-")


def after_formula(book, epoch: int, worst: bool = False) -> str:
    """The formula of the loss the parameters after this epoch's update give."""
    run = book.run
    trained = set(book.config.network.trained())

    def ref(name):
        step = book.last[name] if name in trained else book.first[name]
        return _range(book, epoch, step, name)

    return loss_formula(run.steps, run.shapes, ref, _safe(book, epoch, worst or _large_after(book, epoch)))


def _large_after(book, epoch: int) -> bool:
    """Whether the updated parameters may overflow EXP in the pass after the update (a reckless
    lr): |z| ≤ (inputs + 1)·max|a|·max|w| with every activation read at most max(1, |X|)."""
    net, cfg = book.config.network, book.config
    largest = max((float(np.abs(book.run.value(epoch, book.last[n].number, n)).max()) for n in net.trained()),
                  default=0.0)
    width = max((net.inputs, *net.hidden)) + 1
    return largest * max(1.0, float(np.abs(cfg.X).max())) * width > 700


def _before(book, epoch: int) -> dict[str, np.ndarray]:
    """X, y and the parameters as this epoch's forward pass reads them."""
    return {n: book.run.value(epoch, book.first[n].number, n) for n in inputs(book.run.steps)}


def loss_value(book, values: dict[str, np.ndarray]) -> float:
    """The loss of the forward pass in numpy (the engine's), from ``values`` of X, y and the
    parameters: the cached value of ``loss_formula``."""
    return float(forward_values(book.run.steps, values, values["X"], until="loss")["loss"][0, 0])


def after_value(book, epoch: int) -> float:
    trained = set(book.config.network.trained())
    values = {n: (book.run.value(epoch, book.last[n].number, n) if n in trained else v)
              for n, v in _before(book, epoch).items()}
    return loss_value(book, values)


def longest(book) -> list[tuple[int, str]]:
    """(length, what) of the longest formulas written here (no values needed)."""
    epoch = book.run.detail[-1] if book.run.detail else 1
    h = absolute(book.overview, (1_048_575, 16_383))  # the longest reference there is
    out = [(len(after_formula(book, epoch, True)), "the loss after the update")]
    for p in book.config.network.trained():
        out.append((max(map(len, check_formulas(book, epoch, p, h, WORST, True))) + len(WORST.ok((2, 2))) + 8,
                    f"the gradient check of {p}"))
    return out


MAX_LAYERS = 10  # deeper networks get no checks: each parameter's check is a forward pass through
# every layer, so their cost grows with the square of the depth


def enabled(book) -> bool:
    """Whether the workbook shows what the steps achieved: not in an exercise (the estimate
    would give answers away), and only where each forward pass fits in one formula (a ReLU
    network reads each layer's input twice, so its formula doubles per hidden layer). Not yet
    for classifiers and mini-batches: a softmax row's maximum and a cross-entropy's LN have no
    whole-matrix spelling here, and a batch's loss is not the epoch's."""
    if not hasattr(book, "_achieved"):
        cfg = book.config
        book._achieved = (not book.exercise and cfg.network.loss in ("error", "sse") and cfg.batches == 1
                          and len(cfg.network.hidden) <= MAX_LAYERS
                          and cfg.network.output != "softmax" and all(n <= MAX_FORMULA for n, _ in longest(book)))
    return book._achieved


def cells(book) -> tuple[int, int]:
    """(cells, formulas) written here per detailed epoch, for the estimate."""
    n = len(book.config.network.trained())
    return 7 + 11 * n, 3 + 5 * n


# -- writing ---------------------------------------------------------------------------------
def write(sheet) -> None:
    """Below the step's bands, on the first screen of the sheet: on an epoch's last sheet the
    loss before and after the update, then the gradient checks of the parameters this sheet
    updates, one under the other."""
    book, step = sheet.book, sheet.step
    r = sheet.lay.height
    if step is book.run.steps[-1]:
        _after(sheet)
        r = sheet.height + 1
    order = [x.result.name for x in sheet.lay.placed]  # in the order of the bands
    mine = [p for p in book.config.network.trained() if book.last[p] is step]
    for p in sorted(mine, key=lambda p: order.index(direction(book.config.network, p))):
        r = _check(sheet, p, r)


def _labels(book, p: str, msg=None) -> list[str]:
    msg, gd = msg or book.msg, book.config.network.optimizer == "gd"
    return [msg("check.backprop_gd" if gd else "check.backprop", name=p, update=direction(book.config.network, p)),
            msg("check.plus", name=p), msg("check.minus", name=p), msg("check.estimate"), msg("check.relative")]


def value_column(book, step) -> int:
    """The column of the gradient checks' numbers: the empty column left of the step's results
    (its labels to the left of it), or right of the longest label in any language."""
    net, width = book.config.network, book.width[step.number]
    labels = max(columns_for(label, width) for lang in languages() for q in net.trained()
                 for label in _labels(book, q, Messages(lang)))
    return max(book.layouts[step.number].placed[0].result.left - 1, LEFT + labels)


def _check(sheet, p: str, r: int) -> int:
    """The gradient check of ``p`` from row ``r``: what it is in words, then one row per number,
    its label (right-aligned in cells merged from the left margin) beside the number in
    ``value_column``. Returns the next free row."""
    book, st, msg, epoch, net = sheet.book, sheet.styles, sheet.msg, sheet.epoch, sheet.book.config.network
    name = direction(net, p)
    placed = next(x for x in sheet.lay.placed if x.result.name == name)
    block = placed.result
    rows, cols = block.shape
    i, j = book.focus(block)
    h_cell = absolute(book.overview, book.constants["h"][1])
    h = book.constants["h"][0]
    col = value_column(book, sheet.step)
    sheet.wide.add(col)
    sheet.wrap_text(r, LEFT, msg("check.words", name=p), "words")
    at_rows = [r + 1 + k for k in range(5)]
    for row, label in zip(at_rows, _labels(book, p)):  # right-aligned, beside its number
        if col - 1 > LEFT:
            sheet.cells.merge(row, LEFT, col - 1, label, st.header)
        else:
            sheet.cells.text(row, LEFT, label, st.header)
    sheet.right = max(sheet.right, col + 1)
    # the backprop direction at the focus, as the sheet computed it
    at = xl_rowcol_to_cell(*block.cell(0, 0), True, True) if block.size == 1 else \
        f"INDEX({block.range},{sheet.focus.index(I, rows, '0')},{sheet.focus.index(J, cols, '0')})"
    value = float(sheet.values[block][i, j])
    if net.optimizer == "gd":
        lr = book.config.lr
        at, value = f"{at}/{absolute(book.overview, book.constants['lr'][1])}", value / lr
    # the loss with p's focus cell moved by +h and by −h
    values = _before(book, epoch)
    losses = []
    for sign in (1, -1):
        w = values[p].copy()
        w[i, j] = w[i, j] + sign * h
        losses.append(loss_value(book, {**values, p: w}))
    estimate = -(losses[0] - losses[1]) / (2 * h)
    top = max(abs(value), abs(estimate))
    relative = 0.0 if top == 0 else abs(value - estimate) / top
    plus, minus = check_formulas(book, epoch, p, h_cell, sheet.focus)
    cell = [xl_rowcol_to_cell(row, col) for row in at_rows]
    fmt = st.cell("value", significant([value, estimate], 6))
    loss_fmt = st.cell("value", significant(losses, 10))
    # a focus that selects no cell (text, blank or an error pasted past the validation) shows
    # nothing here, as no cell is lit; an error elsewhere (text in lr) shows nothing either
    ok = sheet.focus.ok(block.shape)
    quiet = lambda f: (f'=IFERROR({f.removeprefix("=")},"")' if ok == "TRUE" else  # noqa: E731
                       f'=IF({ok},IFERROR({f.removeprefix("=")},""),"")')
    # INDEX and the moved ranges: one-cell dynamic arrays, so that Excel 365 shows no @
    sheet.cells.put(at_rows[0], col, "dynamic_array_formula", quiet(at), fmt, value)
    sheet.cells.put(at_rows[1], col, "dynamic_array_formula", quiet(plus), loss_fmt, losses[0])
    sheet.cells.put(at_rows[2], col, "dynamic_array_formula", quiet(minus), loss_fmt, losses[1])
    sheet.cells.put(at_rows[3], col, "formula", quiet(f"-({cell[1]}-{cell[2]})/(2*{h_cell})"), fmt, estimate)
    d, e = cell[0], cell[3]
    sheet.cells.put(at_rows[4], col, "formula",
                    quiet(f"IF(MAX(ABS({d}),ABS({e}))=0,0,ABS({d}-{e})/MAX(ABS({d}),ABS({e})))"),
                    st.cell("value", RELATIVE_FORMAT), relative)
    sheet.height = max(sheet.height, at_rows[-1] + 1)
    return at_rows[-1] + 2


def _after(sheet) -> None:
    book, st, msg, epoch = sheet.book, sheet.styles, sheet.msg, sheet.epoch
    net = book.config.network
    numbers = sorted({book.first[c.result].number for c in computes(book.run.steps, "loss")})
    r = sheet.lay.height
    sheet.wrap_text(r, LEFT, msg("check.after_words", first=numbers[0], last=numbers[-1],
                                 names=", ".join(net.trained())), "words")
    keys = [f"check.{k}" for k in ("before", "after", "change")]
    labels = [msg(k) for k in keys]
    places = _places(book, sheet.step, keys, LEFT)
    assert (r + 2, places[1]) == after_cell(book)
    loss_step = next(s for s in book.run.steps if "loss" in s.results)
    for c, label in zip(places, labels):
        sheet.put_text(r + 1, c, label, st.caption)
    origin = book.result_block(loss_step, "loss")  # read from the loss's sheet: its caption links there
    sheet.cells.link(r + 1, places[0], book.sheet_name(epoch, loss_step), xl_rowcol_to_cell(origin.top, origin.left),
                     labels[0], st.caption_link)
    before = float(book.run.value(epoch, loss_step.number, "loss")[0, 0])
    after = after_value(book, epoch)
    fmt = significant([before, after], 5)
    cell = [xl_rowcol_to_cell(r + 2, c) for c in places]
    sheet.cells.put(r + 2, places[0], "formula",
                    "=" + absolute(book.sheet_name(epoch, loss_step), book.result_block(loss_step, "loss").cell(0, 0)),
                    st.cell("link", fmt), before)
    sheet.cells.put(r + 2, places[1], "dynamic_array_formula", after_formula(book, epoch), st.cell("value", fmt), after)
    sheet.cells.put(r + 2, places[2], "formula", f"={cell[1]}-{cell[0]}",
                    st.cell("value", significant([after - before], 3)), after - before)
    sheet.height = max(sheet.height, r + 3)
