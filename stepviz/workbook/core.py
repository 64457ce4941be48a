"""The shared core of the sheet writers: the cell collector, and ``Book``, what every sheet
needs to know about the run (messages, formats, layouts, sheet names, where values live)."""
from __future__ import annotations

import numpy as np
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ..errors import StepvizError
from ..text import Messages
from .layout import Block, Layout
from .styles import Styles, style


class WorkbookError(StepvizError):
    """The workbook cannot be written (path, limits)."""


class Cells:
    """Cells of one sheet, collected and then written in row order (constant memory)."""

    def __init__(self):
        self.cells: dict[tuple[int, int], tuple] = {}

    def put(self, r, c, kind, *args):
        self.cells[(r, c)] = (kind, *args)

    def text(self, r, c, text, fmt=None):
        self.cells[(r, c)] = ("string", text, fmt)

    def link(self, r, c, sheet: str, cell: str, text: str, fmt):
        self.cells[(r, c)] = ("url", f"internal:{quote_sheetname(sheet)}!{cell}", fmt, text)

    def merge(self, r, c, last: int, text: str, fmt):
        """A text in cells (r, c) to (r, last) merged into one (a wrapped long text)."""
        self.cells[(r, c)] = ("merge", last, text, fmt)

    def flush(self, ws):
        merged = None  # (row, last column) of the merge being written: nothing else goes there
        for (r, c) in sorted(self.cells):
            kind, *args = self.cells[(r, c)]
            if merged and merged[0] == r and c <= merged[1]:
                raise WorkbookError(f"sheet {ws.name!r}: cell {xl_rowcol_to_cell(r, c)} lies in a merged text")
            if kind == "merge":
                merged = (r, args[0])
                check(ws, ws.merge_range(r, c, r, *args), r, c)
                continue
            if kind == "dynamic_array_formula":  # one cell: first and last are the same
                args = [r, c, *args]
            check(ws, getattr(ws, "write_" + kind)(r, c, *args), r, c)


def check(ws, rc, r, c):
    """XlsxWriter returns -1 for a cell it dropped: never let that pass silently."""
    if rc not in (0, None):
        raise WorkbookError(f"sheet {ws.name!r}: cell {xl_rowcol_to_cell(r, c)} could not be "
                            f"written (XlsxWriter returned {rc})")


def safe_read(cell: str) -> str:
    """An answer cell read as a number: 0 while blank, text or an error."""
    return f"IF(ISNUMBER({cell}),{cell},0)"


def absolute(sheet: str, cell: tuple[int, int]) -> str:
    return f"{quote_sheetname(sheet)}!{xl_rowcol_to_cell(*cell, True, True)}"


class Book:
    """One workbook being written: the run, its messages and formats, the step layouts,
    the sheet names and where every value lives."""

    def __init__(self, run, wb):
        self.run, self.wb = run, wb
        self.key = run  # an exercise's true values (stepviz.exercise), set by write_sheets
        cfg = self.config = run.config
        self.msg = Messages(cfg.lang)
        self.styles = Styles(wb) if wb is not None else None  # None: only laying out (estimate)
        self.exercise = cfg.exercise
        self.assessment = cfg.exercise and getattr(cfg, "assessment", False)  # no checks in the file
        self.parameters = set(cfg.network.parameters())
        self.labels = {"X": cfg.x_labels, "y": cfg.y_labels}
        # what an epoch starts from and hands to the next: the weights and the optimizer's state
        self.carried = set(cfg.network.parameters()) | set(cfg.network.state()) - {"t"}
        self.first, self.last = cfg.network.producers()
        self.read_by: dict[str, list] = {}  # name -> the steps that read it, in order (one pass)
        for s in run.steps:
            for name in dict.fromkeys(o for c in s.computes for o in c.operands):
                self.read_by.setdefault(name, []).append(s)
        self.steps = {s.number: s for s in run.steps}
        self.overview = self.msg("sheets.overview")
        self.history = self.msg("sheets.history")
        self.sheet_names = [self.sheet_name(e, s) for e in run.detail for s in run.steps]
        # the column width of a step's sheets: its labels' and its widest number's in any detailed epoch
        self.width = {s.number: max(self.min_width(s), self.number_width(s)) for s in run.steps}
        self.layouts = {s.number: Layout(s, run.shapes, self.labels, self.caption,
                                         lambda name, s=s: self.link_count(name, s),
                                         self.width[s.number], frozenset(self.parameters)) for s in run.steps}
        self.formulas: dict = {}  # (step, result's place, i, j, form) -> (formula, kind), see step_sheet
        # the values a sheet reads from the Overview: name -> (value, (row, col)), set there
        self.constants: dict[str, tuple[float, tuple[int, int]]] = {}
        self.training = None  # where the Training sheet puts things (training_sheet.Plan), if written

    # -- names ------------------------------------------------------------------------
    def title(self, step) -> str:
        return self.msg(f"steps.{step.key}") + (f" {step.layer}" if step.layer else "")

    def label(self, update: int) -> str:
        """An update as sheets name it: the epoch ``3``, or ``1.2`` for batch 2 of epoch 1."""
        return self.config.label(update)

    def sheet_name(self, epoch: int, step) -> str:
        """``1.03 hidden input`` (epoch 1, step 3), or with mini-batches ``1.2.03 hidden input``
        (epoch 1, batch 2, step 3): the name of a step sheet (at most 31 characters)."""
        return f"{self.label(epoch)}.{step.number:02d} {self.title(step)}"[:31]

    def sheet_title(self, epoch: int, step) -> str:
        """The title line of a step sheet: ``Epoch 1 · step 3 of 12 · hidden input``, or with
        mini-batches ``Epoch 1, batch 2 of 10 · step 3 of 12 · hidden input``."""
        cfg, n = self.config, len(self.run.steps)
        if cfg.batches > 1:
            e, b = divmod(epoch - 1, cfg.batches)
            return self.msg("sheet.title_batch", epoch=e + 1, batch=b + 1, batches=cfg.batches, step=step.number,
                            steps=n, title=self.title(step))
        return self.msg("sheet.title", epoch=epoch, step=step.number, steps=n, title=self.title(step))

    def caption(self, name: str, shape, transposed: bool, updated: bool) -> str:
        shown = name + ("ᵀ" if transposed else "")
        key = "captions.updated" if updated else "captions.plain"
        return self.msg(key, name=shown, rows=shape[0], cols=shape[1])

    def min_width(self, step) -> float:
        """The narrowest column of a step sheet: the style's, or the longest data label's."""
        labels = [len(label) + 1 for s in step.computes for label in (self.labels.get(s.result) or ())]
        labels += [len(label) + 1 for c in step.computes for o in c.operands for label in (self.labels.get(o) or ())]
        return min(40, max([style()["column_width"]] + labels))

    def number_width(self, step) -> int:
        """Characters of the widest number a step's sheets show in any detailed epoch, plus two:
        every sheet of a step is laid out alike. 0 while only laying out (no values) and in an
        exercise, whose answer cells the grader finds from the layout alone."""
        if not hasattr(self.run, "value") or self.exercise:
            return 0
        from ..display import shown

        constants = self.config.constants()
        operands = {o for c in step.computes for o in c.operands}
        made = [(n, step.number) for n in step.results]
        made += [(o, self.producer(o).number) for o in sorted(operands) if o not in constants]
        arrays = [np.array([[v]]) for n, v in constants.items() if n in operands]
        arrays += [self.run.value(e, k, n) for e in self.run.detail for n, k in dict.fromkeys(made)]
        longest = 0
        for v in arrays:
            t = shown(v, self.config.decimals)
            longest = max(longest, len(t.text(float(v.max()))), len(t.text(float(v.min()))))
        return longest + 2

    # -- where values live -------------------------------------------------------------
    def producer(self, name: str):
        """The step whose result ``name`` an operand of that name reads (start values for
        parameters: an update is only read by the next epoch)."""
        return self.first[name]

    def value(self, epoch: int, step, block: Block, key: bool = False):
        """The numbers of a block of ``step``'s sheet in ``epoch``, as the block shows them: a
        result's, an operand copy's (where it was made: a parameter's start value), or lr's
        and the optimizer's values from the Overview. ``key``: an exercise's true values
        (its cells hold what they compute while the answers are blank), which set the
        decimals every block shows."""
        constants = self.config.constants()
        if block.name in constants:
            return np.array([[constants[block.name]]])
        made = step if block.role == "out" else self.producer(block.name)
        v = (self.key if key else self.run).value(epoch, made.number, block.name)
        return v.T if block.transposed else v

    def result_block(self, step, name: str) -> Block:
        return self.layouts[step.number].results[name]

    def focus(self, block: Block) -> tuple[int, int]:
        """The configured focus of a result, clamped to its shape (0-based)."""
        f = self.config.focus
        return min(f[0], block.shape[0]) - 1, min(f[1], block.shape[1]) - 1

    def answer_at(self, step, block: Block) -> tuple[int, int] | None:
        """In an exercise, the question cell (i, j) of a result block (its focus cell, an
        empty answer cell for the student; stepviz.exercise says which results are asked);
        None for any other block."""
        if not self.exercise or block.role != "out" or block.name in self.parameters:
            return None
        if self.steps[step.number].given:
            return None
        return self.focus(block)

    def address(self, step, block: Block, i: int, j: int) -> str:
        """A formula's reference to cell (i, j) of a block: an answer cell is read as a
        number, 0 while it is blank or holds text or an error (error carried forward: later
        cells compute from the student's own answers, and never show an error value)."""
        cell = xl_rowcol_to_cell(*block.cell(i, j))
        return safe_read(cell) if self.answer_at(step, block) == (i, j) else cell

    def link(self, epoch: int, step, name: str, i: int, j: int) -> str:
        """A formula that reads cell (i, j) of result ``name`` of ``step`` in ``epoch``."""
        block = self.result_block(step, name)
        cell = quote_sheetname(self.sheet_name(epoch, step)) + "!" + xl_rowcol_to_cell(*block.cell(i, j))
        return "=" + (safe_read(cell) if self.answer_at(step, block) == (i, j) else cell)

    def readers(self, epoch: int, step, name: str) -> list[tuple[int, object]]:
        """(epoch, step) of the sheets that read the value ``name`` made by ``step``."""
        if self.first[name] is step:
            return [(epoch, s) for s in self.read_by.get(name, ()) if s.number > step.number]
        if self.last[name] is step and name in self.carried and epoch + 1 in self.run.detail:
            return [(epoch + 1, self.first[name])]
        return []

    def link_count(self, name: str, step) -> int:
        """Columns the caption row of result ``name`` on ``step``'s sheets keeps for its
        provenance links (the most any epoch needs, as ``readers`` lists them)."""
        if self.first[name] is step:
            return sum(s.number > step.number for s in self.read_by.get(name, ()))
        return 1 if self.last[name] is step and name in self.carried else 0
