"""Where things go on a step sheet: blocks (matrices under captions), bands, references."""
from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.utility import xl_rowcol_to_cell

TOP = 5  # first row of the matrices on a step sheet
LEFT = 1  # first column (column A is a margin)


def sheet_name(epoch: int, step) -> str:
    """``1.03 hidden input``: the name of a step sheet (at most 31 characters)."""
    return f"{epoch}.{step.number:02d} {step.title}"[:31]


@dataclass(frozen=True)
class Block:
    """A matrix on a sheet: values start at (row, col); caption one row above."""

    name: str
    caption: str
    top: int  # the caption's row
    row: int
    col: int
    shape: tuple[int, int]

    def cell(self, i: int, j: int) -> tuple[int, int]:
        return self.row + i, self.col + j


class Refs:
    """``ref`` for ``op.formula``: spells A1 references and records the cells read."""

    def __init__(self, blocks: list[Block]):
        self.blocks = blocks
        self.cells: set[tuple[int, int]] = set()

    def __call__(self, k: int, r: int, c: int) -> str:
        cell = self.blocks[k].cell(r, c)
        self.cells.add(cell)
        return xl_rowcol_to_cell(*cell)

    def range(self, k: int, r0: int, c0: int, r1: int, c1: int) -> str:
        b = self.blocks[k]
        self.cells.update(b.cell(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
        return f"{xl_rowcol_to_cell(*b.cell(r0, c0))}:{xl_rowcol_to_cell(*b.cell(r1, c1))}"


class Layout:
    """Where each matrix of a step goes: one band of rows per result, its operands side
    by side on the left, the results aligned in one column on the right."""

    def __init__(self, step, shapes: dict, labels: dict):
        self.blocks: dict[tuple[str, str], Block] = {}
        row = TOP
        # a band per result: ("in", name) blocks not yet on the sheet, then ("out", result);
        # an operand that an earlier result of the step produced is read from that result
        bands, reads = [], []
        if step.given:
            bands.append([("out", r) for r in step.results])
        else:
            produced: set[str] = set()
            placed: set[tuple[str, str]] = set()
            for c in step.computes:
                keys = [("out", o) if o in produced else ("in", o) for o in c.operands]
                reads.append(keys)
                band = [k for k in dict.fromkeys(keys) if k not in placed and k[0] == "in"]
                placed.update(band)
                bands.append(band + [("out", c.result)])
                produced.add(c.result)
        width = lambda keys: sum(shapes[n][1] + 1 for _, n in keys)  # noqa: E731
        result_col = LEFT + max((width(b[:-1]) for b in bands), default=0) if not step.given else LEFT
        for band in bands:
            col = LEFT
            label_row = any(labels.get(n) for _, n in band)
            for kind, name in band:
                if kind == "out" and not step.given:
                    col = result_col
                shape = shapes[name]
                caption = f"{name}  ({shape[0]}×{shape[1]})"
                if kind == "out" and any(k == ("in", name) for b in bands for k in b):
                    caption = f"{name} updated  ({shape[0]}×{shape[1]})"
                self.blocks[(kind, name)] = Block(name, caption, row, row + 1 + label_row, col, shape)
                col += shape[1] + 1
            row += 1 + label_row + max(shapes[n][0] for _, n in band) + 1
        self.height = row
        self.operands = [[self.blocks[k] for k in keys] for keys in reads]  # per compute

