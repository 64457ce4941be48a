"""The Training table's columns: one declaration for the Training sheet
(stepviz.formulas.Row, stepviz.workbook.training_sheet), the engine (``Run.training()``) and
the reader (``read_training``), so the three tables line up column by column and row by row.

A row is one update: the loss, the parameters and the optimizer's state the update starts
from, then the values its formulas share (``kept``); a column is named as on the step
sheets, ``wh[1,1]`` (i and j from 1). A row is labelled by its epoch (a whole number), with
mini-batches by its update (``"1.2"``: epoch 1, batch 2); the last row, the parameters after
training, by ``AFTER``.
"""
from __future__ import annotations

from .ops import Given
from .terms import I, J, pattern

AFTER = "after"  # the last row's label, whatever the workbook's language


def kept(net, shapes: dict) -> tuple[str, ...]:
    """The computed values a Training row keeps as cells, in step order: the loss, the
    output, and every value an op reads other than one cell at a time."""
    out = {"loss", "output"}
    skip = {"X", "y", *net.parameters(), *net.state(), *net.constants()}
    for step in net.steps():
        for c in step.computes:
            if isinstance(c.op, Given):
                continue
            single = shapes[c.result] == (1, 1)
            pats = pattern(c.op.spell(I, J, c.op.shown([shapes[o] for o in c.operands])))
            for k, name in enumerate(c.operands):
                if name not in skip and not single and pats[k].cells != ((I, J),):
                    out.add(name)
    return tuple(n for n in net.names() if n in out)


def columns(net, shapes: dict) -> list[tuple[str, int, int]]:
    """The cells of a row, in order, as (name, i, j) (0-based): the loss, the parameters, the
    optimizer's state, then the kept values."""
    names = ["loss", *net.parameters(), *net.state(), *(n for n in kept(net, shapes) if n != "loss")]
    return [(n, i, j) for n in names for i in range(shapes[n][0]) for j in range(shapes[n][1])]


def header(name: str, i: int, j: int) -> str:
    """A column's name: ``loss``, or ``name[i,j]`` with i and j from 1."""
    return name if name == "loss" else f"{name}[{i + 1},{j + 1}]"


def label(value, after: str = AFTER):
    """A row's label as the tables give it: a whole number as an int (an epoch), the last
    row's ``after`` (in the workbook's language: ``after``) as ``AFTER``, else the text
    (an update, ``"1.2"``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if text == after:
        return AFTER
    return int(text) if text.isdigit() else text
