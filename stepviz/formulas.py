"""The step table's ops as formulas for a place: the one builder.

An op spells result cell (i, j) once, over the cells of its operands as shown
(``op.spell``, stepviz.terms). ``spell`` here instantiates that spelling for a *place*:
every operand cell is replaced by what ``operand(name, r, c)`` says it is there, a cell
address (``Ref``) or the expression that computes it (a value the place does not keep as a
cell is spelled into the formulas that read it). A step sheet's cell, a row of the Training
sheet, a Map grid point and a whole matrix are places:

* a step sheet's cell: the op's own spelling (``op.cell_term``) over the addresses of its
  operands' cells on the sheet (stepviz.workbook.step_sheet);
* a Training row (``Row``): one update as a row of cells;
* a point (``forward``, ``unit``): the output, or one unit of a layer, at one input (the
  Overview's predictions, the Map's grid cells);
* whole matrices (``loss_formula``): the forward pass up to the loss as one array formula over
  ranges (the loss after the update, the gradient checks' L(w ± h)).

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

import numpy as np
from xlsxwriter.utility import xl_col_to_name

from .ops import Activate, Given
from .table import columns, header, kept
from .terms import I, J, Cell, Dot, Fn, Neg, Num, Op2, Ref, Term, Total, excel, expanded, fn

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


def computes(steps, until: str = "output") -> list:
    """The computes of the forward pass, in step order, up to and including ``until``
    (``output``, or ``loss``)."""
    out = []
    for step in steps:
        for c in step.computes:
            if isinstance(c.op, Given):
                continue
            out.append(c)
            if c.result == until:
                return out
    raise AssertionError(f"the step table has no {until}")


def chain(computes_: list, shapes: dict, operand: Callable[[str, int, int], Term]) -> dict[str, Callable[[int, int], Term]]:
    """Each result of ``computes_`` at a point as one expression (each cell spelled once,
    memoised): the computes spelled into each other, what they do not compute read as
    ``operand(name, r, c)``."""
    env: dict[str, Callable[[int, int], Term]] = {}
    memo: dict = {}

    def inline(compute, scope):
        def at(i, j):
            key = (compute.result, i, j)
            if key not in memo:
                memo[key] = spell(compute, i, j, shapes, lambda o, r, c: scope[o](r, c) if o in scope else operand(o, r, c))
            return memo[key]
        return at

    for c in computes_:
        env[c.result] = inline(c, dict(env))
    return env


def forward(net, shapes: dict, operand: Callable[[str, int, int], Term]) -> Callable[[int, int], Term]:
    """The output's cell (i, j) as one expression of the inputs and the parameters (each
    ``operand(name, r, c)``): the forward computes of the step table spelled into each other
    (a new input's prediction)."""
    return chain(computes(net.steps()), shapes, operand)["output"]


def unit(layer, u: int, shapes: dict, weight: Callable[[str, int, int], Term], previous: Callable[[int], Term]) -> Term:
    """Unit ``u`` of a layer (its dense and activation computes, stepviz.maps.layers) at one
    point: ``act(a · w[:,u] + b[u])`` as the step table spells it, over ``previous(c)``, the
    previous layer's unit c (an input for the first layer), and ``weight(name, i, j)``, a
    parameter's cell (a Map grid cell: one row of the layer)."""
    dense, act = layer
    a = dense.operands[0]
    point = {**shapes, a: (1, shapes[a][1]), dense.result: (1, shapes[dense.result][1]),
             act.result: (1, shapes[act.result][1])}
    z = chain([dense], point, lambda o, r, c: previous(c) if o == a else weight(o, r, c))[dense.result]
    return spell(act, 0, u, point, lambda o, r, c: z(r, c))


# -- whole matrices: the forward pass up to the loss as one array formula ---------------------
# The step table's forward computes (everything up to ``loss``) are spelled as whole matrices:
# each op's cell expression at the symbolic cell (I, J) becomes an array expression when every
# operand cell stands for its whole operand: ``X · wh + bh`` becomes ``MMULT(X,wh)+bh`` (a
# one-row bias is spread over the rows, as numpy broadcasts it), ``½ · ΣE²`` becomes
# ``SUMSQ(E)/2``. The results are substituted into the ops that read them, so the whole pass is
# one array formula over the ranges of X, y and the parameters:
#
#     =SUMSQ(y-1/(1+EXP(-(MMULT(1/(1+EXP(-(MMULT(X,wh)+bh))),wout)+bout))))/2
#
# A parameter can be moved at one cell (``moved``): the gradient check's L(w ± h).

def inputs(steps) -> tuple[str, ...]:
    """The names the forward pass reads and does not compute: X, y and the parameters."""
    made, read = set(), []
    for c in computes(steps, "loss"):
        read += [o for o in c.operands if o not in made and o not in read]
        made.add(c.result)
    return tuple(read)


# An activation written once per cell can switch to an overflow-safe spelling per cell
# (ops.Activation.safe_spell); a whole array needs one spelling safe for every cell and that
# reads its input once (the pass is nested, so a repeated input would double per layer):
# sigmoid(z) = (1 + tanh(z/2))/2 exactly, and TANH never overflows.
ARRAY_SAFE = {"sigmoid": lambda z: (1 + fn("TANH", z / 2)) / 2}


def needs_safe(c, values) -> bool:
    """Whether the activation ``c`` must use its overflow-safe array spelling, given the
    recorded values of its input (any cell where the cell-by-cell sheets need theirs)."""
    if not isinstance(c.op, Activate) or c.op.fn.safe_spell is None or values is None:
        return False
    return bool(np.any(np.asarray(values) < c.op.fn.safe_below))


def whole(t: Term, env: dict[int, Term]) -> Term:
    """The cell expression ``t`` (spelled at (I, J)) with every operand cell standing for
    its whole operand ``env[k]``: the result as an array expression."""
    if isinstance(t, Cell):
        return env[t.k]
    if isinstance(t, Num):
        return t
    if isinstance(t, Neg):
        return Neg(whole(t.a, env))
    if isinstance(t, Op2):
        return Op2(t.op, whole(t.a, env), whole(t.b, env))
    if isinstance(t, Dot):  # a row of one operand times a column of the other: the matrix product
        return Fn("MMULT", (env[t.a[0].k], env[t.b[0].k]))
    if isinstance(t, Total):  # over every cell (the loss); a column sum is not part of the pass
        return Fn("SUMSQ" if t.squares else "SUM", (env[t.cells[0].k],))
    if isinstance(t, Fn):
        args = tuple(whole(a, env) for a in t.args)
        if t.name == "MAX":  # MAX of arrays is one number: element-wise it is IF(a>b,a,b)
            a, b = args
            return Fn("IF", (Op2(">", a, b), a, b))
        return Fn(t.name, args)
    raise TypeError(f"{type(t).__name__} has no array spelling")


def loss_formula(steps, shapes: dict, ref: Callable[[str], str], safe: frozenset = frozenset()) -> str:
    """The formula (with "=") of the loss of the forward pass over the ranges ``ref(name)``
    of its inputs (X, y, parameters; any range expression: a moved parameter too); the
    activations named in ``safe`` use their overflow-safe array spelling."""
    leaves = list(inputs(steps))
    env = {name: Cell(k, I, J) for k, name in enumerate(leaves)}  # a leaf: a range
    for c in computes(steps, "loss"):
        t = c.op.spell(I, J, [shapes[o] for o in c.operands])
        if c.result in safe:
            t = ARRAY_SAFE[c.op.fn.name](Cell(0, I, J))
        env[c.result] = whole(t, {k: env[o] for k, o in enumerate(c.operands)})
    return "=" + excel(env["loss"], lambda cell: ref(leaves[cell.k]), None)


def moved(rng: str, shape, row: str, col: str, first: tuple[int, int], h: str, sign: str) -> str:
    """The range ``rng`` (shape, first cell 0-based) with one cell moved by ``sign`` h: the cell
    at the 1-based ``row`` and ``col`` expressions (the focus). An array expression."""
    mask = []
    if shape[0] > 1:
        mask.append(f"(ROW({rng})={first[0]}+{row})")
    if shape[1] > 1:
        mask.append(f"(COLUMN({rng})={first[1]}+{col})")
    return "(" + rng + sign + "*".join([h, *mask]) + ")"
