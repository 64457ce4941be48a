"""Where things go on a step sheet: the header rows, then one band of rows per result.

A band starts with the result's formula in words, then holds the result's operands side by side on the left (each its own copy, so every
yellow cell's orange sources sit in its own band) and the result on the right, all results
of a step aligned in one column; under the band's blocks, from the left margin, the row of its
arithmetic line (so that a long line stays on the sheet's first screen and printed page). A
weight block a step makes (start values, updated weights) has its signed data bars in a
mini-block of its own right beside it (``Block.bars``), never over its numbers. An
operand that an earlier result of the same step produced is read in place (step 5's
``output`` reads ``output_layer_input``). Operands an op reads transposed are laid out
transposed (``Xᵀ``). Every block is as wide as its caption needs, so no caption is cut off.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, replace
from typing import Callable

from xlsxwriter.utility import xl_rowcol_to_cell

from ..steps import Compute

# header rows of a step sheet
TITLE, WORDS, LEGEND, NOTE, NAV, FOCUS = range(6)
TOP = 7  # the caption row of the first band
SCREEN_PX = 1250  # what a 1366-pixel-wide window shows at 100 % right of the row headers, less a margin
LEFT = 1  # first column (column A is a margin)


def text_width(text: str) -> int:
    """Width of a text in character cells: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


CHAR_PX = 7  # pixels of a character cell at Calibri 11 (its digit width), at 100 % zoom
PAD_PX = 5  # pixels a column adds to its width in characters


def column_px(width: float) -> int:
    """The pixels of a column ``width`` characters wide (Excel's rule at Calibri 11)."""
    return int(width * CHAR_PX + 0.5) + PAD_PX if width >= 1 else int(width * (CHAR_PX + PAD_PX) + 0.5)


def text_px(text: str, bold: bool = False) -> int:
    """A generous estimate of a text's pixels at Calibri 11: each character cell as wide as a
    digit (most letters are narrower), bold 10 % wider."""
    return math.ceil(text_width(text) * CHAR_PX * (1.1 if bold else 1.0))


def columns_for(text: str, width: float) -> int:
    """How many columns of ``width`` characters a (bold) text needs."""
    return max(1, math.ceil(1.1 * text_width(text) / width))


@dataclass(frozen=True)
class Block:
    """A matrix on a sheet, as shown: values from (row, col), caption at (top, col)."""

    name: str
    role: str  # "in": a copy of an operand, "out": a result of the step
    top: int
    row: int
    col: int
    shape: tuple[int, int]
    left: int = 0  # where the caption starts (row names of a transposed block sit there)
    transposed: bool = False
    caption: str = ""
    labels: tuple[str, ...] | None = None  # column names (row names when transposed)
    bars: bool = False  # a mini-block of data bars right of the values, one bar cell per value

    def cell(self, i: int, j: int) -> tuple[int, int]:
        return self.row + i, self.col + j

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def range(self) -> str:
        """The block's cells as an absolute A1 range."""
        last = self.cell(self.shape[0] - 1, self.shape[1] - 1)
        return f"{xl_rowcol_to_cell(*self.cell(0, 0), True, True)}:{xl_rowcol_to_cell(*last, True, True)}"

    @property
    def bars_col(self) -> int:
        """The first column of the block's data bars (``bars``): right beside its values."""
        return self.col + self.shape[1]


@dataclass(frozen=True)
class Placed:
    """One result of a step on its sheet: the result, the blocks it reads (one per
    operand, as the op sees them), and the row of its arithmetic line (None on steps 1-2)."""

    compute: Compute
    result: Block
    operands: tuple[Block, ...]
    line_row: int | None
    words_row: int | None = None  # the band's formula in words, above its captions


class Layout:
    """The blocks of one step sheet. ``caption(name, shape, transposed, updated)`` spells a
    caption; ``links(name)`` says how many provenance links a result's caption row holds;
    ``width`` is the narrowest column width the sheet will have (characters); ``bars`` the
    names whose blocks, where the step makes them, get data bars beside them."""

    def __init__(self, step, shapes: dict, labels: dict, caption: Callable, links: Callable[[str], int],
                 width: float, bars: frozenset = frozenset()):
        self.placed: list[Placed] = []
        self.blocks: list[Block] = []

        def measure(name, role="in", transposed=False, updated=False):
            """(shape, caption, columns before the values, columns the block spans)."""
            shape = shapes[name][::-1] if transposed else shapes[name]
            text = caption(name, shape, transposed, updated)
            side = 1 if labels.get(name) and transposed else 0  # row names sit left of the values
            bar = shape[1] if role == "out" and name in bars else 0
            return shape, text, side, max(side + shape[1] + bar,
                                          columns_for(text, width) + (links(name) if role == "out" else 0))

        def make(name, role, row, col, transposed=False, updated=False) -> tuple[Block, int]:
            shape, text, side, extent = measure(name, role, transposed, updated)
            names = labels.get(name)
            block = Block(name, role, row, row + 1 + (1 if names and not transposed else 0), col + side,
                          shape, col, transposed, text, names, role == "out" and name in bars)
            self.blocks.append(block)
            return block, extent

        if step.given:  # data or start values: side by side, in rows as wide as the first screen
            col, rows, top = LEFT, 0, TOP
            budget = LEFT + max(1, (SCREEN_PX - column_px(2)) // column_px(width))
            labelled = any(labels.get(r) for r in step.results)
            for c in step.computes:
                if col > LEFT and col + measure(c.result, "out")[3] > budget:
                    col, top = LEFT, rows + 1
                block, extent = make(c.result, "out", top, col)
                if labelled and not labels.get(c.result):  # align values under a labelled neighbour
                    block = _shift(block, 1)
                    self.blocks[-1] = block
                self.placed.append(Placed(c, block, (), None))
                col += extent + 1
                rows = max(rows, block.row + block.shape[0])
            self.height = rows + 1
            self.right = col
            return

        # computed steps: first the operand blocks of every band, to align the results
        bands, produced = [], {}
        for c in step.computes:
            reads = [produced.get(o) for o in c.operands]
            bands.append((c, reads))
            produced[c.result] = c
        row, right = TOP, LEFT
        result_col = LEFT + max(
            (sum(measure(o, transposed=c.op.flipped(k))[3] + 1 for k, o in enumerate(c.operands) if reads[k] is None)
             for c, reads in bands), default=0)
        results: dict[str, Block] = {}
        for c, reads in bands:
            words, row = row, row + 1  # each band starts with its formula in words
            col, operands, bottom = LEFT, [], row
            has_labels = any(labels.get(o) and not c.op.flipped(k) for k, o in enumerate(c.operands)
                             if reads[k] is None)
            for k, o in enumerate(c.operands):
                if reads[k] is not None:  # produced by an earlier result of this step
                    operands.append(results[o])
                    continue
                block, extent = make(o, "in", row, col, c.op.flipped(k))
                if has_labels and not (labels.get(o) and not c.op.flipped(k)):
                    block = _shift(block, 1)
                    self.blocks[-1] = block
                operands.append(block)
                col += extent + 1
                bottom = max(bottom, block.row + block.shape[0])
            result, extent = make(c.result, "out", row, result_col, updated=c.result in c.operands)
            if has_labels:
                result = _shift(result, 1)
                self.blocks[-1] = result
            results[c.result] = result
            line = max(bottom, result.row + result.shape[0])  # below every block of the band
            self.placed.append(Placed(c, result, tuple(operands), line, words))
            right = max(right, result_col + extent)
            row = line + 2
        self.height = row
        self.right = right

    @property
    def results(self) -> dict[str, Block]:
        return {p.result.name: p.result for p in self.placed}



def _shift(block: Block, rows: int) -> Block:
    """The block moved down (values aligned with a labelled neighbour's)."""
    return replace(block, row=block.row + rows)
