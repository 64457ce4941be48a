"""How far an answer typed by hand may be from a cell's exact value, spelled once as a cell
expression (stepviz.terms), so that grading (evaluated here, in Python) and a practice
sheet's live check (the same expression as a formula over the sheet's own cells) agree.

From an op's spelling ``t`` at one cell: the rounding of every operand as shown (half a unit
of its last shown digit; none for numbers shown as written) is propagated through ``t``,
each operation bounding its result's error from its operands' values and errors (products
and EXP with their second-order part, so the bound holds for the numbers shown, not only to
first order); then half a unit of the answer's own last shown digit is added, and a margin
for binary rounding (an answer exactly half a unit away stays right). A sum of more than
``MAX_TERMS`` products (``SCI_TERMS`` over numbers in scientific notation) reads its operands as ranges: their absolute sum, and for numbers in
scientific notation the largest half unit of the range, so the formula stays short.
"""
from __future__ import annotations

import math

import numpy as np

from .terms import MAX_TERMS, AbsRange, Cell, Dot, Fn, LnError, Neg, Num, Op2, Term, Total, XLogY, fn, softmax_row

SCI_TERMS = 4  # a sum over numbers in scientific notation reads ranges beyond this many terms: each
# term's half unit is a formula of its own, and 6 of them already made a check too long for Excel
HUGE = 1e300  # the bound when a divisor's rounding could reach zero: any answer is right
ZERO, ONE = Num(0.0), Num(1.0)


def _add(a: Term, b: Term) -> Term:
    if a == ZERO:
        return b
    return a if b == ZERO else Op2("+", a, b)


def _mul(a: Term, b: Term) -> Term:
    if ZERO in (a, b):
        return ZERO
    if a == ONE:
        return b
    return a if b == ONE else Op2("*", a, b)


def _abs(a: Term) -> Term:
    return Num(abs(a.value)) if isinstance(a, Num) else fn("ABS", a)


def _sum(terms) -> Term:
    out = ZERO
    for t in terms:
        out = _add(out, t)
    return out


def half_unit(shown, v: Term, general: float = 0.0) -> Term:
    """Half a unit of the last digit ``shown`` shows for the value ``v`` (``general``: for
    a number shown as written)."""
    if shown.kind == "general":
        return Num(general)
    if shown.kind == "fixed":
        return Num(0.5 * 10 ** -shown.decimals)
    a = _abs(v)
    return fn("IF", a > 0, (0.5 * 10.0 ** -shown.decimals) * Op2("^", Num(10.0), fn("INT", fn("LOG10", a))), 0)


def _product(a, ea, b, eb) -> Term:
    """The error bound of a·b: |a|·eb + |b|·ea + ea·eb."""
    return _sum([_mul(_abs(a), eb), _mul(_abs(b), ea), _mul(ea, eb)])


def bound(t: Term, shown_of) -> tuple[Term, Term]:
    """(value, error bound) of the expression ``t`` over operand cells shown as
    ``shown_of[k]``."""
    if isinstance(t, Num):
        return t, ZERO
    if isinstance(t, Cell):
        return t, half_unit(shown_of[t.k], t)
    if isinstance(t, Neg):
        v, e = bound(t.a, shown_of)
        return Neg(v), e
    row = softmax_row(t)
    if row is not None:  # each exponent z_k − z_j moves by at most 2·max e: p by a factor e^(±2·max e)
        e = half_unit(shown_of[row[0].k], AbsRange(row, "max"))
        return t, ZERO if e == ZERO else _mul(t, fn("EXP", _mul(Num(2.0), e)) - 1)
    if isinstance(t, XLogY):
        y, p = shown_of[t.y[0].k], shown_of[t.p[0].k]
        if y.kind != "general":  # targets are data shown as written; others: no bound
            return t, Num(HUGE)
        if p.kind == "general":
            return t, ZERO
        if p.kind == "sci":  # half a unit of a mantissa's last decimal: at most 0.5 % of |p| for two
            return t, LnError(t.y, t.p, Num(0.5 * 10.0 ** -p.decimals), relative=True, complement=t.complement)
        return t, LnError(t.y, t.p, half_unit(p, ZERO), complement=t.complement)
    if isinstance(t, (Dot, Total)):
        if isinstance(t, Dot):
            pairs = list(zip(t.a, t.b))
        else:
            pairs = [(c, c) if t.squares else (c, ONE) for c in t.cells]
        cells_ = [c for pair in pairs for c in pair if isinstance(c, Cell)]
        sci = any(shown_of[c.k].kind == "sci" for c in cells_)
        if len(pairs) <= (SCI_TERMS if sci else MAX_TERMS):
            errs = [(bound(a, shown_of)[1], bound(b, shown_of)[1]) for a, b in pairs]
            return t, _sum(_product(a, ea, b, eb) for (a, b), (ea, eb) in zip(pairs, errs))
        n = Num(float(len(pairs)))
        if isinstance(t, Total) and not t.squares:
            return t, _mul(n, half_unit(shown_of[t.cells[0].k], AbsRange(t.cells, "max")))
        a, b = (t.a, t.b) if isinstance(t, Dot) else (t.cells, t.cells)
        ea = half_unit(shown_of[a[0].k], AbsRange(a, "max"))
        eb = half_unit(shown_of[b[0].k], AbsRange(b, "max"))
        return t, _sum([_mul(eb, AbsRange(a, "sum")), _mul(ea, AbsRange(b, "sum")), _mul(n, _mul(ea, eb))])
    if isinstance(t, Fn):
        args = [bound(a, shown_of) for a in t.args]
        (v, e), rest = args[0], args[1:]
        value = Fn(t.name, tuple(a for a, _ in args))
        if t.name == "IF":
            return value, ZERO if rest[0][1] == rest[1][1] == ZERO else fn("IF", v, rest[0][1], rest[1][1])
        if e == ZERO and all(r == ZERO for _, r in rest):
            return value, ZERO
        if t.name == "EXP":
            return value, _mul(value, fn("EXP", e) - 1)
        if t.name == "TANH":  # slope at most 1
            return value, fn("MIN", 2, e)
        if t.name == "SQRT":
            return value, fn("SQRT", v + e) - fn("SQRT", fn("MAX", v - e, 0))
        if t.name in ("MAX", "MIN"):
            return value, fn("MAX", e, *(r for _, r in rest))
        raise TypeError(f"no error bound for {t.name}")
    (a, ea), (b, eb) = bound(t.a, shown_of), bound(t.b, shown_of)
    value = Op2(t.op, a, b)
    if t.op in "+-":
        return value, _add(ea, eb)
    if t.op == "*":
        return value, _product(a, ea, b, eb)
    if t.op == "/":
        if eb == ZERO:
            return value, ZERO if ea == ZERO else ea / _abs(b)
        low = _abs(b) - eb
        return value, fn("IF", low > 0, _add(_mul(_abs(a), eb), _mul(_abs(b), ea)) / (_abs(b) * low), HUGE)
    if t.op == "^":
        if ea == ZERO:
            return value, ZERO
        hi = _abs(a) + ea
        grows = fn("ABS", Op2("^", hi, b) - Op2("^", _abs(a), b))
        shrinks = fn("IF", _abs(a) > 0, _mul(_abs(b), _mul(Op2("^", hi, b - 1), ea)), ea)
        if isinstance(b, Num):
            return value, grows if b.value >= 1 else shrinks
        return value, fn("IF", Op2(">", ONE, b), shrinks, grows)
    return value, ZERO  # a comparison: its operands' rounding is not an error here


def tolerance_term(t: Term, shown_of, answer) -> tuple[Term, Term]:
    """(value, tolerance) of an answer to the cell expression ``t`` whose operands are shown
    as ``shown_of[k]`` and the answer as ``answer``: the propagated rounding, plus half a
    unit of the answer's last shown digit, plus the margin for binary rounding."""
    v, e = bound(t, shown_of)
    total = _add(e, half_unit(answer, v, general=0.5e-4))
    return v, _add(_mul(total, Num(1 + 1e-9)), _mul(Num(1e-12), _abs(v)))


_F = {"EXP": np.exp, "TANH": np.tanh, "SQRT": np.sqrt, "ABS": np.abs, "INT": np.floor, "LOG10": np.log10,
      "MAX": max, "MIN": min}


def scalar(t: Term, at) -> float:
    """The value of ``t`` where ``at(cell)`` is each operand cell's number, as a spreadsheet
    computes it (IF evaluates one branch; overflow gives inf or nan, never an exception)."""
    def ev(t):
        if isinstance(t, Num):
            return np.float64(t.value)
        if isinstance(t, Cell):
            return np.float64(at(t))
        if isinstance(t, Neg):
            return -ev(t.a)
        if isinstance(t, Dot):
            return sum((ev(a) * ev(b) for a, b in zip(t.a, t.b)), np.float64(0))
        if isinstance(t, Total):
            return sum((ev(c) ** 2 if t.squares else ev(c) for c in t.cells), np.float64(0))
        if isinstance(t, AbsRange):
            a = [abs(ev(c)) for c in t.cells]
            return sum(a, np.float64(0)) if t.how == "sum" else max(a)
        if isinstance(t, XLogY):
            y = np.array([ev(c) for c in t.y])
            p = np.array([ev(c) for c in t.p])
            if t.complement:
                y, p = 1 - y, 1 - p + ((1 - y == 0) if t.guard else 0)
            elif t.guard:
                p = p + (y == 0)
            return np.float64(np.sum(y * np.log(p)))
        if isinstance(t, LnError):
            y = np.array([ev(c) for c in t.y])
            p = np.array([ev(c) for c in t.p])
            y, p = (1 - y, 1 - p) if t.complement else (y, p)
            e = ev(t.e) * (np.abs(p) if t.relative else 1.0)
            bad = p <= e
            if np.any((y != 0) & bad):
                return np.float64(HUGE)
            off = bad * (1 + np.abs(p))
            return np.float64(np.sum(np.abs(y) * np.log((p + off) / (p - e + off))))
        if isinstance(t, Fn):
            if t.name == "IF":
                return ev(t.args[1]) if ev(t.args[0]) else ev(t.args[2])
            return np.float64(_F[t.name](*[ev(a) for a in t.args]))
        a, b = ev(t.a), ev(t.b)
        if t.op == ">":
            return np.float64(a > b)
        return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}[t.op](a, b)

    with np.errstate(all="ignore"):
        return float(ev(t))


def tolerance(t: Term, values, shown_of, answer) -> float:
    """The tolerance of ``tolerance_term`` for the operands ``values[k]`` as shown."""
    _, tol = tolerance_term(t, shown_of, answer)
    out = scalar(tol, lambda c: values[c.k][c.r, c.c])
    return out if math.isfinite(out) else math.inf


def check_formula(answer: str, value: str, tol: str) -> str:
    """A practice answer's live check, from the formulas (without "=") of the cell's value
    and its tolerance: ✓ within it, ✗ beyond, nothing while blank, ``?`` for text, nothing
    when an earlier cell holds an error."""
    return (f'=IF(ISBLANK({answer}),"",IF(ISNUMBER({answer}),IFERROR(IF(ABS({answer}-({value}))<='
            f'{tol},"✓","✗"),""),"?"))')
