"""The forward pass and its loss as ONE spreadsheet formula, for any parameters.

The step table's forward computes (steps 3 to 6: everything up to ``loss``) are spelled as
whole matrices: each op's cell expression at the symbolic cell (I, J) (``op.spell``, the
same spelling the step sheets use) becomes an array expression when every operand cell
stands for its whole operand: ``X · wh + bh`` becomes ``MMULT(X,wh)+bh`` (a one-row bias is
spread over the rows, as numpy broadcasts it), ``½ · ΣE²`` becomes ``SUMSQ(E)/2``. The
results are substituted into the ops that read them, so the whole pass is one array formula
over the ranges of X, y and the parameters:

    =SUMSQ(y-1/(1+EXP(-(MMULT(1/(1+EXP(-(MMULT(X,wh)+bh))),wout)+bout))))/2

``loss_value`` runs the same computes in numpy (the engine's ops) for the cached value.
A parameter can be moved at one cell (``moved``): the gradient check's L(w ± h).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..ops import Activate, Given
from ..terms import I, J, Cell, Dot, Fn, Neg, Num, Op2, Term, Total, excel, fn


def forward(steps) -> list:
    """The computes of the forward pass, in step order, up to and including ``loss``."""
    out = []
    for step in steps:
        for c in step.computes:
            if isinstance(c.op, Given):
                continue
            out.append(c)
            if c.result == "loss":
                return out
    raise AssertionError("the step table has no loss")


def inputs(steps) -> tuple[str, ...]:
    """The names the forward pass reads and does not compute: X, y and the parameters."""
    made, read = set(), []
    for c in forward(steps):
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


def _whole(t: Term, env: dict[int, Term]) -> Term:
    """The cell expression ``t`` (spelled at (I, J)) with every operand cell standing for
    its whole operand ``env[k]``: the result as an array expression."""
    if isinstance(t, Cell):
        return env[t.k]
    if isinstance(t, Num):
        return t
    if isinstance(t, Neg):
        return Neg(_whole(t.a, env))
    if isinstance(t, Op2):
        return Op2(t.op, _whole(t.a, env), _whole(t.b, env))
    if isinstance(t, Dot):  # a row of one operand times a column of the other: the matrix product
        return Fn("MMULT", (env[t.a[0].k], env[t.b[0].k]))
    if isinstance(t, Total):  # over every cell (the loss); a column sum is not part of the pass
        return Fn("SUMSQ" if t.squares else "SUM", (env[t.cells[0].k],))
    if isinstance(t, Fn):
        args = tuple(_whole(a, env) for a in t.args)
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
    for c in forward(steps):
        t = c.op.spell(I, J, [shapes[o] for o in c.operands])
        if c.result in safe:
            t = ARRAY_SAFE[c.op.fn.name](Cell(0, I, J))
        env[c.result] = _whole(t, {k: env[o] for k, o in enumerate(c.operands)})
    spelled = excel(env["loss"], lambda cell: ref(leaves[cell.k]), None)
    return "=" + spelled


def loss_value(steps, values: dict[str, np.ndarray]) -> float:
    """The loss of the forward pass in numpy, with the engine's ops, from ``values`` of X, y
    and the parameters."""
    cur = dict(values)
    with np.errstate(all="ignore"):
        for c in forward(steps):
            args = [cur[o] for o in c.operands]
            out = np.empty(c.op.shape(*(np.shape(a) for a in args)))
            c.op.compute(*args, out=out)
            cur[c.result] = out
    return float(cur["loss"][0, 0])


def moved(rng: str, shape, row: str, col: str, first: tuple[int, int], h: str, sign: str) -> str:
    """The range ``rng`` (shape, first cell 0-based) with one cell moved by ``sign`` h: the cell
    at the 1-based ``row`` and ``col`` expressions (the focus). An array expression."""
    mask = []
    if shape[0] > 1:
        mask.append(f"(ROW({rng})={first[0]}+{row})")
    if shape[1] > 1:
        mask.append(f"(COLUMN({rng})={first[1]}+{col})")
    return "(" + rng + sign + "*".join([h, *mask]) + ")"
