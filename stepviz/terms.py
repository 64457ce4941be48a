"""Cell expressions: how one result cell is computed from operand cells, spelled once.

An op kind (stepviz.ops) spells result cell (i, j) as a small expression over operand
cells ``x(k, r, c)`` (cell (r, c) of operand k, as the operand is shown on the sheet).
Everything else is read off that one spelling:

* ``excel(term, addr)`` -- the Excel formula of the cell;
* ``text(term)`` -- the arithmetic a learner reads, as literal strings and the values to
  show (``Value``), e.g. ``1×0.637 + 0×0.017 + 0.857``;
* ``cells(term)`` -- the operand cells the formula reads (the orange cells);
* spelled with the symbolic indices ``I`` and ``J`` instead of numbers, the same term is
  the op's *source pattern*: which cells of each operand any result cell (I, J) reads.
  ``pattern(term)`` groups it per operand; the workbook's conditional formats and the
  notebook view are built from it.
* ``evaluate(term, operands)`` -- numpy over whole operand arrays, for element-wise ops.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

MAX_TERMS = 10  # a sum of products is written out term by term up to this many terms; longer
# ones read two ranges (MMULT): short, and far below Excel's 8,192-character formula limit
SHOWN_TERMS = 3  # a long sum in the arithmetic line: its first terms, "…", its last term


@dataclass(frozen=True)
class Index:
    """A symbolic index: the row (I) or column (J) of the result cell being computed."""

    name: str

    def __repr__(self):
        return self.name


I, J = Index("I"), Index("J")
Pos = Union[int, Index]


class Term:
    """A node of a cell expression. Python's operators build the tree."""

    def __add__(self, other):
        return Op2("+", self, term(other))

    def __radd__(self, other):
        return Op2("+", term(other), self)

    def __sub__(self, other):
        return Op2("-", self, term(other))

    def __rsub__(self, other):
        return Op2("-", term(other), self)

    def __mul__(self, other):
        return Op2("*", self, term(other))

    def __rmul__(self, other):
        return Op2("*", term(other), self)

    def __truediv__(self, other):
        return Op2("/", self, term(other))

    def __rtruediv__(self, other):
        return Op2("/", term(other), self)

    def __pow__(self, other):
        return Op2("^", self, term(other))

    def __neg__(self):
        return Neg(self)

    def __gt__(self, other):
        return Op2(">", self, term(other))


def term(v) -> Term:
    return v if isinstance(v, Term) else Num(float(v))


@dataclass(frozen=True)
class Num(Term):
    value: float


@dataclass(frozen=True)
class Cell(Term):
    """Cell (r, c) of operand k (``k = -1``: the result itself, for the arithmetic line)."""

    k: int
    r: Pos
    c: Pos


@dataclass(frozen=True)
class Ref(Term):
    """A cell by its address: an operand cell instantiated for a place (stepviz.formulas)."""

    address: str


@dataclass(frozen=True)
class Op2(Term):
    op: str  # + - * / ^ >
    a: Term
    b: Term


@dataclass(frozen=True)
class Neg(Term):
    a: Term


@dataclass(frozen=True)
class Fn(Term):
    name: str  # EXP, TANH, SQRT, MAX, IF
    args: tuple[Term, ...]


@dataclass(frozen=True)
class Dot(Term):
    """a₁·b₁ + … + aₙ·bₙ over a row of one operand and a column of another."""

    a: tuple[Cell, ...]
    b: tuple[Cell, ...]


@dataclass(frozen=True)
class Total(Term):
    """The sum (or the sum of squares) of consecutive cells of one operand."""

    cells: tuple[Cell, ...]
    squares: bool = False


@dataclass(frozen=True)
class AbsRange(Term):
    """Over consecutive cells of one operand: the sum of their absolute values (``how =
    "sum"``) or the largest absolute value (``"max"``); text reads as 0. Used by the answer
    tolerance (stepviz.tolerance) of long sums."""

    cells: tuple[Cell, ...]
    how: str


@dataclass(frozen=True)
class XLogY(Term):
    """Σ y·ln(p) over the cells of two operands of one shape (``complement``: Σ (1−y)·ln(1−p),
    the other half of binary cross-entropy). ``guard``: the form for a p of exactly 0 (or 1)
    where y is 0 (or 1): that term is 0, as in PyTorch, not 0·ln(0)."""

    y: tuple[Cell, ...]
    p: tuple[Cell, ...]
    complement: bool = False
    guard: bool = False


@dataclass(frozen=True)
class LnError(Term):
    """The error bound of ``XLogY(y, p, complement)`` when each p is off by at most ``e`` (a
    number) or, with ``relative``, by at most ``relative``·|p| (numbers in scientific
    notation): Σ |y'|·ln(p' / (p' − e)) over the cells (y' = y, p' = p, or 1−y, 1−p), 1E+300
    (any answer) when a term with y' ≠ 0 has p' ≤ e. Used by the answer tolerance
    (stepviz.tolerance) of a cross-entropy; spelled over two ranges, as XLogY is."""

    y: tuple[Cell, ...]
    p: tuple[Cell, ...]
    e: Term
    relative: bool = False
    complement: bool = False


def fn(name: str, *args) -> Fn:
    return Fn(name, tuple(term(a) for a in args))


def softmax(z: Cell, row: tuple[Cell, ...]) -> Term:
    """softmax at cell ``z`` of its ``row``: EXP(z − MAX(row)) / Σ EXP(c − MAX(row))."""
    top = fn("MAX", *row)
    total = fn("EXP", row[0] - top)
    for c in row[1:]:
        total = total + fn("EXP", c - top)
    return fn("EXP", z - top) / total


def softmax_row(t: Term) -> tuple[Cell, ...] | None:
    """The row of a term spelled by ``softmax``, else None."""
    if isinstance(t, Op2) and t.op == "/" and isinstance(t.a, Fn) and t.a.name == "EXP":
        arg = t.a.args[0]
        if (isinstance(arg, Op2) and arg.op == "-" and isinstance(arg.a, Cell) and isinstance(arg.b, Fn)
                and arg.b.name == "MAX" and arg.a in arg.b.args
                and t == softmax(arg.a, arg.b.args)):
            return arg.b.args
    return None


def _softmax(t: Term) -> tuple[Cell, tuple[Cell, ...]] | None:
    """(z, row) of a term spelled by ``softmax``, at a concrete or the symbolic cell; else None."""
    if isinstance(t, Op2) and t.op == "/" and isinstance(t.a, Fn) and t.a.name == "EXP":
        arg = t.a.args[0]
        if (isinstance(arg, Op2) and arg.op == "-" and isinstance(arg.a, Cell) and isinstance(arg.b, Fn)
                and arg.b.name == "MAX" and t == softmax(arg.a, arg.b.args)):
            return arg.a, arg.b.args
    return None


class Operands:
    """``x`` of ``op.spell``: ``x(k, r, c)`` is a cell; ``x.row``/``x.col`` a row or column."""

    def __call__(self, k: int, r: Pos, c: Pos) -> Cell:
        return Cell(k, r, c)

    def row(self, k: int, r: Pos, n: int) -> tuple[Cell, ...]:
        return tuple(Cell(k, r, c) for c in range(n))

    def col(self, k: int, c: Pos, n: int) -> tuple[Cell, ...]:
        return tuple(Cell(k, r, c) for r in range(n))

    def all(self, k: int, shape) -> tuple[Cell, ...]:
        return tuple(Cell(k, r, c) for r in range(shape[0]) for c in range(shape[1]))


x = Operands()


# -- the cells a term reads ------------------------------------------------------------
def cells(t: Term) -> list[Cell]:
    """Every operand cell the term reads, in reading order (with repeats)."""
    if isinstance(t, Cell):
        return [t]
    if isinstance(t, Op2):
        return cells(t.a) + cells(t.b)
    if isinstance(t, Neg):
        return cells(t.a)
    if isinstance(t, Fn):
        return [c for a in t.args for c in cells(a)]
    if isinstance(t, Dot):
        return list(t.a) + list(t.b)
    if isinstance(t, Total):
        return list(t.cells)
    if isinstance(t, XLogY):
        return list(t.y) + list(t.p)
    return []


@dataclass(frozen=True)
class Pattern:
    """The cells of one operand that result cell (I, J) reads: ``rows × cols`` when the
    cells form such a product (they do for every op kind), else the listed ``cells``."""

    rows: tuple[Pos, ...]
    cols: tuple[Pos, ...]
    cells: tuple[tuple[Pos, Pos], ...]
    product: bool

    def at(self, i: int, j: int) -> set[tuple[int, int]]:
        """The concrete cells read by result cell (i, j)."""
        sub = lambda p: i if p is I else j if p is J else p  # noqa: E731
        return {(sub(r), sub(c)) for r, c in self.cells}


def pattern(t: Term) -> dict[int, Pattern]:
    """Per operand, the symbolic cells a term spelled at (I, J) reads."""
    by_k: dict[int, list[tuple[Pos, Pos]]] = {}
    for c in cells(t):
        by_k.setdefault(c.k, []).append((c.r, c.c))
    out = {}
    for k, rc in by_k.items():
        rc = list(dict.fromkeys(rc))
        rows, cols = tuple(dict.fromkeys(r for r, _ in rc)), tuple(dict.fromkeys(c for _, c in rc))
        out[k] = Pattern(rows, cols, tuple(rc), len(rc) == len(rows) * len(cols))
    return out


# -- Excel formula -----------------------------------------------------------------------
_PREC = {">": 0, "+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def number(v: float) -> str:
    """A constant as Excel and Python both read it: 2, 0.5, 1E-08 (an upper-case exponent, as
    Excel writes it: its grammar has no ``1e-08``). Every number written into a formula is
    spelled here."""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v).upper()


def excel(t: Term, addr: Callable[[Cell], str], span: Callable[[Cell, Cell], str]) -> str:
    """The Excel formula (without "=") of a concrete term; ``addr`` spells a cell, ``span`` a
    range between two cells of one operand."""
    return _excel(t, addr, span)[0]


def _excel(t, addr, span) -> tuple[str, int]:
    """(text, precedence) of a term; atoms have precedence 9."""
    if isinstance(t, Num):
        return number(t.value), 9 if t.value >= 0 else 3
    if isinstance(t, Cell):
        return addr(t), 9
    if isinstance(t, Ref):
        return t.address, 9
    if isinstance(t, Neg):
        s, p = _excel(t.a, addr, span)
        return "-" + (s if p >= 9 else f"({s})"), 3
    if isinstance(t, Fn):
        return t.name + "(" + ",".join(_excel(a, addr, span)[0] for a in t.args) + ")", 9
    if isinstance(t, Dot):
        if len(t.a) > MAX_TERMS:
            return f"MMULT({span(t.a[0], t.a[-1])},{span(t.b[0], t.b[-1])})", 9
        return "+".join(f"{addr(a)}*{addr(b)}" for a, b in zip(t.a, t.b)), 1 if len(t.a) > 1 else 2
    if isinstance(t, Total):
        return ("SUMSQ(" if t.squares else "SUM(") + span(t.cells[0], t.cells[-1]) + ")", 9
    if isinstance(t, AbsRange):  # SUMIF, MAX and MIN skip text, and need no array evaluation
        r = span(t.cells[0], t.cells[-1])
        return (f'(SUMIF({r},">0")-SUMIF({r},"<0"))' if t.how == "sum" else f"MAX(MAX({r}),-MIN({r}))"), 9
    if isinstance(t, XLogY):  # SUMPRODUCT evaluates LN over the range in Excel and LibreOffice alike
        y, p = span(t.y[0], t.y[-1]), span(t.p[0], t.p[-1])
        if t.complement:
            y, p = f"1-{y}", f"1-{p}" + (f"+({y}=1)" if t.guard else "")
        elif t.guard:
            p = f"{p}+({y}=0)"
        return f"SUMPRODUCT({y},LN({p}))", 9
    if isinstance(t, LnError):
        y, p = span(t.y[0], t.y[-1]), span(t.p[0], t.p[-1])
        if t.complement:
            y, p = f"(1-{y})", f"(1-{p})"
        e = f"{_excel(t.e, addr, span)[0]}*ABS({p})" if t.relative else _excel(t.e, addr, span)[0]
        off = f"({p}<={e})*(1+ABS({p}))"  # a bad term's LN made finite (its y' is 0)
        return (f"IF(SUMPRODUCT(({y}<>0)*({p}<={e}))>0,1E+300,"
                f"SUMPRODUCT(ABS({y}),LN(({p}+{off})/({p}-{e}+{off}))))"), 9
    p = _PREC[t.op]
    a, pa = _excel(t.a, addr, span)
    b, pb = _excel(t.b, addr, span)
    a = a if pa >= p else f"({a})"
    b = b if pb > p or (pb == p and t.op in "+*") else f"({b})"
    return a + t.op + b, p


def is_array(t: Term) -> bool:
    """Whether the formula holds an MMULT or a function over a range evaluated as an array
    (``LN`` in the cross-entropy): written as a one-cell array formula, so that Excel 365
    shows it as written, without an implicit-intersection ``@``, and every engine evaluates
    it as an array."""
    if isinstance(t, Dot):
        return len(t.a) > MAX_TERMS
    if isinstance(t, Op2):
        return is_array(t.a) or is_array(t.b)
    if isinstance(t, (Neg,)):
        return is_array(t.a)
    if isinstance(t, Fn):
        return any(is_array(a) for a in t.args)
    return isinstance(t, XLogY)  # LN over a range: an array evaluation (IronCalc needs the array form)


# -- the arithmetic line ---------------------------------------------------------------------
@dataclass(frozen=True)
class Value:
    """A number shown in the arithmetic line: a cell, or minus a cell. ``wrap``: put it in
    parentheses when negative (an operand: ``0.859×(−0.115)``; not a function's whole
    argument: ``EXP(−2.101)``); ``sup``: written as an exponent (``0.9¹``)."""

    term: Term  # Cell or Neg(Cell)
    wrap: bool = True
    sup: bool = False

    @property
    def cell(self) -> Cell:
        return self.term.a if isinstance(self.term, Neg) else self.term


Part = Union[str, Value]
_SYMBOL = {"+": " + ", "-": " − ", "*": "×", "/": "/", "^": "^", ">": ">"}


def text(t: Term) -> list[Part]:
    """The arithmetic of a term: the formula with every cell replaced by its value. A softmax
    spells its row's maximum once: ``m = MAX(3.694,3.418,4.115); EXP(3.694 − m)/(…)``."""
    row = _softmax(t)
    if row is not None:
        z, row = row
        top = ["m = MAX("] + [x for n, c in enumerate(row) for x in ([","] if n else []) + [Value(c, wrap=False)]]
        less = lambda c: ["EXP(", Value(c), " − m)"]  # noqa: E731
        return merge_literals(top + ["); "] + less(z) + ["/("] + _sum([less(c) for c in row]) + [")"])
    return merge_literals(_text(t)[0])


def _text(t) -> tuple[list[Part], int]:
    if isinstance(t, Num):
        return [number(t.value)], 9
    if isinstance(t, Cell):
        return [Value(t)], 9
    if isinstance(t, Neg):
        if isinstance(t.a, Cell):  # shown as the value of −x: EXP(-2.101), not EXP(−(2.101))
            return [Value(t)], 9
        s, p = _text(t.a)
        return ["−"] + (s if p >= 9 else ["("] + s + [")"]), 3
    if isinstance(t, Fn):
        parts = [t.name + "("]
        for n, a in enumerate(t.args):
            arg = [Value(a, wrap=False)] if isinstance(a, Cell) or (isinstance(a, Neg) and isinstance(a.a, Cell)) \
                else _text(a)[0]  # a whole argument needs no parentheses: EXP(−2.101)
            parts += ([","] if n else []) + arg
        return parts + [")"], 9
    if isinstance(t, Dot):
        terms = [[Value(a), "×", Value(b)] for a, b in zip(t.a, t.b)]
        return _sum(terms), 1 if len(terms) > 1 else 2
    if isinstance(t, Total):
        terms = [[Value(c), "²"] if t.squares else [Value(c)] for c in t.cells]
        return ["("] + _sum(terms) + [")"], 9
    if isinstance(t, XLogY):
        if t.complement:
            terms = [["(1−", Value(y), ")×ln(1−", Value(p), ")"] for y, p in zip(t.y, t.p)]
        else:
            terms = [[Value(y), "×ln(", Value(p), ")"] for y, p in zip(t.y, t.p)]
        return ["("] + _sum(terms) + [")"], 9
    p = _PREC[t.op]
    a, pa = _text(t.a)
    b, pb = _text(t.b)
    if t.op == "^" and t.b == Num(2.0):  # x² reads better than x^2
        return (a if pa >= p else ["("] + a + [")"]) + ["²"], p
    if t.op == "^" and isinstance(t.b, Cell):  # a power of a step counter: 0.9¹
        return (a if pa >= p else ["("] + a + [")"]) + [Value(t.b, wrap=False, sup=True)], p
    a = a if pa >= p else ["("] + a + [")"]
    b = b if pb > p or (pb == p and t.op in "+*") else ["("] + b + [")"]
    return a + [_SYMBOL[t.op]] + b, p


def _sum(terms: list[list[Part]]) -> list[Part]:
    """t₁ + t₂ + … + tₙ, abbreviated to the first terms and the last when long."""
    if len(terms) > SHOWN_TERMS + 1:
        terms = terms[:SHOWN_TERMS - 1] + [["…"]] + terms[-1:]
    out: list[Part] = []
    for n, t in enumerate(terms):
        out += ([" + "] if n else []) + t
    return out


def merge_literals(parts: list) -> list:
    """Adjacent literal strings joined: fewer pieces in the formula."""
    out: list[Part] = []
    for p in parts:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        else:
            out.append(p)
    return out


def scalar(t: Term, value_of: Callable[[Cell], float]) -> float:
    """A concrete term's value with Python floats, ``value_of(cell)`` giving each cell's:
    the arithmetic done as a calculator does it (raises OverflowError, ZeroDivisionError
    where a spreadsheet shows an error)."""
    if isinstance(t, Num):
        return t.value
    if isinstance(t, Cell):
        return value_of(t)
    if isinstance(t, Neg):
        return -scalar(t.a, value_of)
    if isinstance(t, Dot):
        return sum(value_of(a) * value_of(b) for a, b in zip(t.a, t.b))
    if isinstance(t, Total):
        return sum(value_of(c) ** 2 if t.squares else value_of(c) for c in t.cells)
    if isinstance(t, XLogY):
        return scalar(expanded(t), value_of)
    if isinstance(t, Fn):
        args = [scalar(a, value_of) for a in t.args]
        if t.name == "IF":
            return args[1] if args[0] else args[2]
        return {"EXP": math.exp, "TANH": math.tanh, "SQRT": math.sqrt, "MAX": max, "MIN": min,
                "LN": math.log}[t.name](*args)  # LN(0): ValueError, an error in a spreadsheet too
    a, b = scalar(t.a, value_of), scalar(t.b, value_of)
    if t.op == ">":
        return float(a > b)
    v = a + b if t.op == "+" else a - b if t.op == "-" else a * b if t.op == "*" else \
        a / b if t.op == "/" else math.pow(a, b)
    if not math.isfinite(v):
        raise OverflowError(f"{a} {t.op} {b}")
    return v


def expanded(t: Term) -> Term:
    """The term with sums over ranges written out cell by cell (``SUM(A1:A3)`` → ``A1+A2+A3``),
    so that each cell can be replaced by another expression."""
    if isinstance(t, Dot):
        out = t.a[0] * t.b[0]
        for a, b in zip(t.a[1:], t.b[1:]):
            out = out + a * b
        return out
    if isinstance(t, Total):
        items = [c ** 2 if t.squares else c for c in t.cells]
        out = items[0]
        for c in items[1:]:
            out = out + c
        return out
    if isinstance(t, XLogY):  # Σ y·LN(p), or Σ (1 − y)·LN(1 − p)
        items = [(1 - y) * fn("LN", 1 - p) if t.complement else y * fn("LN", p) for y, p in zip(t.y, t.p)]
        out = items[0]
        for item in items[1:]:
            out = out + item
        return out
    if isinstance(t, Op2):
        return Op2(t.op, expanded(t.a), expanded(t.b))
    if isinstance(t, Neg):
        return Neg(expanded(t.a))
    if isinstance(t, Fn):
        return Fn(t.name, tuple(expanded(a) for a in t.args))
    return t


# -- numpy -------------------------------------------------------------------------------
_NUMPY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power,
          ">": np.greater}
_FUNCTIONS = {"EXP": np.exp, "TANH": np.tanh, "SQRT": np.sqrt}


def evaluate(t: Term, operands):
    """An element-wise term over whole operand arrays (a 1×1 operand broadcasts)."""
    if isinstance(t, Num):
        return t.value
    if isinstance(t, Cell):
        return operands[t.k]
    if isinstance(t, Neg):
        return np.negative(evaluate(t.a, operands))
    if isinstance(t, Op2):
        return _NUMPY[t.op](evaluate(t.a, operands), evaluate(t.b, operands))
    if isinstance(t, Fn):
        args = [evaluate(a, operands) for a in t.args]
        if t.name == "MAX":
            return np.maximum(*args)
        if t.name == "IF":
            return np.where(*args)
        return _FUNCTIONS[t.name](*args)
    raise TypeError(f"{type(t).__name__} is not element-wise")


def compiled(t: Term) -> Callable:
    """``evaluate`` of an element-wise term made once into a function of the operands: the
    engine runs an optimizer's update every epoch without walking the term again."""
    if isinstance(t, Num):
        v = t.value
        return lambda operands: v
    if isinstance(t, Cell):
        k = t.k
        return lambda operands: operands[k]
    if isinstance(t, Neg):
        a = compiled(t.a)
        return lambda operands: np.negative(a(operands))
    if isinstance(t, Op2):
        f, a, b = _NUMPY[t.op], compiled(t.a), compiled(t.b)
        return lambda operands: f(a(operands), b(operands))
    if isinstance(t, Fn):
        args = [compiled(a) for a in t.args]
        f = np.maximum if t.name == "MAX" else (lambda *a: np.where(*a)) if t.name == "IF" else _FUNCTIONS[t.name]
        return lambda operands: f(*(a(operands) for a in args))
    raise TypeError(f"{type(t).__name__} is not element-wise")
