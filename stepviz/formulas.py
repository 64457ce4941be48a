"""The step table's ops as formulas for a place: the one builder.

An op spells result cell (i, j) once, over the cells of its operands as shown
(``op.spell``, stepviz.terms). ``spell`` here instantiates that spelling for a *place*:
every operand cell is replaced by what ``operand(name, r, c)`` says it is there, a cell
address (``Ref``) or the expression that computes it (a value the place does not keep as a
cell is spelled into the formulas that read it). A step sheet's cell, a row of the Training
sheet and a grid point are places.

``Row`` is the place of one update on the Training sheet: every compute of the step table
(forward, loss, backward, the optimizer's state, the update) as the cells of one row. A row
keeps as cells the parameters and the optimizer's state an update starts from, the loss,
the output, and every value some op reads other than one cell at a time (a matrix product,
a column sum, a softmax read whole rows or columns: spelled into each reader, such a value
would be computed many times over); everything else is spelled into its one reader. The
updated parameters are the next row's start values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from xlsxwriter.utility import xl_col_to_name

from .ops import Activate, Given
from .table import columns, header, kept
from .terms import Cell, Fn, Neg, Num, Op2, Ref, Term, Total, excel, expanded, fn

# Overflow-safe spellings for a formula computed far from the values it was written with (an
# edited lr): the sigmoid reads its input once and EXP never overflows (exp(709) is about the
# largest double; below z = -709 the sigmoid is below 1e-308, 0 in the engine's arithmetic)
SAFE = {"sigmoid": lambda z: 1 / (1 + fn("EXP", fn("MIN", 709, -z)))}
MAX_ARGS = 255  # Excel's arguments of a function
TINY = 1e-300  # LN(p) reads MAX(p, 1E-300): a term whose y is 0 stays 0 (as in the engine)


def substitute(t: Term, cell: Callable[[Cell], Term]) -> Term:
    """The term with each operand cell replaced by ``cell(c)`` (sums written out first)."""
    if isinstance(t, Cell):
        return cell(t)
    if isinstance(t, (Num, Ref)):
        return t
    if isinstance(t, Neg):
        return Neg(substitute(t.a, cell))
    # squares without ^: LibreOffice makes x^2 of a tiny x (1E-305) #NUM!, where x·x and SUMSQ
    # underflow to 0 as numpy does (a sigmoid of −709 after an lr of 1e25)
    if isinstance(t, Total) and t.squares and len(t.cells) <= MAX_ARGS:
        return Fn("SUMSQ", tuple(substitute(c, cell) for c in t.cells))
    if isinstance(t, Op2) and t.op == "^" and t.b == Num(2.0):
        a = substitute(t.a, cell)
        return Op2("*", a, a) if isinstance(a, (Ref, Cell)) else Fn("SUMSQ", (a,))
    if isinstance(t, Op2):
        b = substitute(t.b, cell)
        if isinstance(b, Op2) and t.op in "+*" and b.op in ("+-" if t.op == "+" else "*/"):
            b = Fn("", (b,))  # a·(b·c) is not (a·b)·c in floating point: keep numpy's order
        return Op2(t.op, substitute(t.a, cell), b)
    if isinstance(t, Fn):
        args = tuple(substitute(a, cell) for a in t.args)
        if t.name == "LN":
            args = (fn("MAX", args[0], TINY),)
        return Fn(t.name, args)
    return substitute(expanded(t), cell)


def spell(compute, i: int, j: int, shapes: dict, operand: Callable[[str, int, int], Term], safe: bool = True) -> Term:
    """Result cell (i, j) of ``compute`` at a place: each operand cell replaced by
    ``operand(name, r, c)`` (the operand's own cell, a transposed operand's swapped back);
    ``safe``: the activation's overflow-safe spelling."""
    op = compute.op
    if safe and isinstance(op, Activate) and op.fn.name in SAFE:
        t = SAFE[op.fn.name](Cell(0, i, j))
    else:
        t = op.spell(i, j, op.shown([shapes[o] for o in compute.operands]))

    def cell(c: Cell) -> Term:
        r, col = (c.c, c.r) if op.flipped(c.k) else (c.r, c.c)
        return operand(compute.operands[c.k], r, col)

    return substitute(t, cell)


@dataclass
class Column:
    """A column of the Training sheet: cell (i, j) of ``name``; ``template`` its formula
    (with "="), to be formatted with the source row's number, the next row's, and the
    addresses of the source row's data cells (mini-batches); ``next``: written in the row
    after its source row (an updated parameter or state)."""

    name: str
    i: int
    j: int
    template: str = ""
    next: bool = False

    @property
    def header(self) -> str:
        return header(self.name, self.i, self.j)


class Row:
    """The formulas of one update as a row of cells (the Training sheet's columns).

    ``columns``: the loss, the parameters, the optimizer's state, then the kept values;
    ``col[(name, i, j)]`` their 0-based column (from ``first``). ``constant(name)`` gives
    the address of lr and the optimizer's values (the Overview's); ``data(name, i, j)``
    the address of a data cell (X, y), or None when it depends on the row (mini-batches:
    the source row's batch is passed when formatting, as slots)."""

    def __init__(self, net, shapes: dict, first: int, constant: Callable[[str], str],
                 data: Callable[[str, int, int], str | None]):
        self.net, self.shapes = net, shapes
        self.kept = kept(net, shapes)
        carried = (*net.parameters(), *net.state())
        self.columns = [Column(*key) for key in columns(net, shapes)]  # stepviz.table: shared with the engine
        self.col = {(c.name, c.i, c.j): first + k for k, c in enumerate(self.columns)}
        self.constant, self.data = constant, data
        self.carried = set(carried)
        self.carried_keys = {(c.name, c.i, c.j) for c in self.columns if c.name in self.carried}

    def letter(self, name: str, i: int, j: int) -> str:
        return xl_col_to_name(self.col[(name, i, j)])

    def build(self, shapes: dict | None = None) -> list[Column]:
        """Every column's template for the data shapes ``shapes`` (a shorter last batch has
        fewer rows: its row leaves the cells of the missing samples empty)."""
        shapes = shapes or self.shapes
        net, carried = self.net, self.carried
        n = shapes["X"][0]
        slots = {"X": 2, "y": 2 + n * shapes["X"][1]}
        env: dict[str, Callable[[int, int], Term]] = {}
        memo: dict = {}
        out: dict[tuple[str, int, int], str] = {}
        nxt: set = set()

        def ref(name, row):
            return lambda i, j: Ref(f"{self.letter(name, i, j)}{{{row}}}")

        def data(name):
            def at(i, j):
                fixed = self.data(name, i, j)
                return Ref(fixed if fixed is not None else f"{{{slots[name] + i * shapes[name][1] + j}}}")
            return at

        def inline(compute, scope):
            def at(i, j):
                key = (id(scope), compute.result, i, j)
                if key not in memo:
                    memo[key] = spell(compute, i, j, shapes, lambda o, r, c: scope[o](r, c))
                return memo[key]
            return at

        for name in ("X", "y"):
            env[name] = data(name)
        for name in net.constants():
            env[name] = lambda i, j, name=name: Ref(self.constant(name))
        for step in net.steps():
            for c in step.computes:
                if isinstance(c.op, Given):
                    if c.result in carried:
                        env[c.result] = ref(c.result, 0)
                    continue
                scope = dict(env)
                rows, cols = shapes[c.result]
                if c.result in carried:  # an update: the next row's start value
                    for i in range(rows):
                        for j in range(cols):
                            out[(c.result, i, j)] = "=" + excel(inline(c, scope)(i, j), None, None)
                            nxt.add((c.result, i, j))
                    env[c.result] = ref(c.result, 1)
                elif c.result in self.kept:
                    for i in range(rows):
                        for j in range(cols):
                            out[(c.result, i, j)] = "=" + excel(inline(c, scope)(i, j), None, None)
                    env[c.result] = ref(c.result, 0)
                else:
                    env[c.result] = inline(c, scope)
        for name in carried:  # not updated (frozen biases, Adam's t): copied, or counted
            for i in range(shapes[name][0]):
                for j in range(shapes[name][1]):
                    if (name, i, j) not in out:
                        cell = f"{self.letter(name, i, j)}{{0}}"
                        out[(name, i, j)] = f"={cell}+1" if name == "t" else f"={cell}"
                        nxt.add((name, i, j))
        return [Column(c.name, c.i, c.j, out[(c.name, c.i, c.j)], (c.name, c.i, c.j) in nxt)
                for c in self.columns if (c.name, c.i, c.j) in out]


def forward(net, shapes: dict, operand: Callable[[str, int, int], Term]) -> Callable[[int, int], Term]:
    """The output's cell (i, j) as one expression of the inputs and the parameters (each
    ``operand(name, r, c)``): the forward computes of the step table spelled into each other
    (a new input's prediction, a Map grid point)."""
    env: dict[str, Callable[[int, int], Term]] = {}
    memo: dict = {}

    def inline(compute, scope):
        def at(i, j):
            key = (compute.result, i, j)
            if key not in memo:
                memo[key] = spell(compute, i, j, shapes, lambda o, r, c: scope[o](r, c) if o in scope else operand(o, r, c))
            return memo[key]
        return at

    for step in net.steps():
        for c in step.computes:
            if isinstance(c.op, Given):
                continue
            env[c.result] = inline(c, dict(env))
            if c.result == "output":
                return env["output"]
    raise AssertionError("the step table has no output")
