"""How numbers are shown: readable, the same in a cell, in the arithmetic line and in
Python, and redone by hand from what is shown.

A block of numbers gets one ``Shown``: plain (``General``) for short numbers such as data
and learning rates, fixed decimals (at least ``decimals``, more when needed so that every
non-zero value shows three significant digits), or scientific notation (three significant
digits: ``4.52E-7``) for tiny or huge values. Each ``Shown`` gives the cell's number format, how a value is rounded for display
(``rounded`` in Python, ``round_excel`` as a spreadsheet expression), and the text of a
rounded value in an arithmetic line (``line_text``, ``line_excel``): a real minus sign,
negatives in parentheses where they are operands, the scientific form as ``2.9·10⁻⁶``.
Spreadsheet texts use ``FIXED``, which follows the reader's locale, unlike ``TEXT`` with a
format code.

**The rule of the arithmetic line** (``line_parts``, ``line_values``): every operand is
shown rounded as its block shows it, with as many more digits as it takes (``line_extra``,
at most ``MAX_EXTRA``, the same for every cell of a result) for the line's operations on
those operands (``hand_value``) to round, as the result's block shows it, to what the cell
shows. So a learner who redoes the line with a calculator gets the line's and the cell's
result. Where no such precision does it (at some other focus, or after an edit of lr),
the line says what the cell computes from its full-precision operands:
``= 1.519 (full precision: 1.520)``. A line that leaves terms out (``…``, long sums) cannot
be redone by hand; it ends with the cell's value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

import numpy as np

from .terms import I, J, Cell, Index, Term, scalar, text

MAX_DECIMALS = 6  # beyond this, scientific notation: 4.52E-7 reads better than 0.000000452
SIGNIFICANT = 3  # the fewest significant digits a non-zero value shows
MAX_EXTRA = 3  # the most digits an arithmetic line adds to its operands' shown ones
MAX_FIXED = 1e15  # from here on, scientific notation: a spreadsheet keeps 15 digits
MINUS = "\u2212"
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_EXACT = Context(prec=1200, rounding=ROUND_HALF_UP, Emin=-99999, Emax=99999)  # any double


def _decimal(v: float) -> Decimal:
    """v to 15 significant digits, as spreadsheets round before they round to decimals:
    0.293 + 0.1×(−0.125) is 0.2805 to them (and to a calculator), 0.28049999999999997 in
    binary, and shows as 0.281."""
    return Decimal(f"{float(v):.15g}")


def _quantize(v: float, exponent: int) -> Decimal:
    """v rounded half away from zero to a multiple of 10**exponent (as spreadsheets round
    the decimal value they show)."""
    return _decimal(v).quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP, context=_EXACT)


def _sci(v: float, decimals: int) -> tuple[str, int]:
    """Mantissa text (``decimals`` decimals, 1.00 to 9.99 for two, without sign) and exponent
    of v ≠ 0, rounded as shown."""
    v = abs(v)
    d = _decimal(v)
    q = _quantize(v, d.adjusted() - decimals)  # 9.996 → 10.0, 1.00E+1
    e = q.adjusted()
    m = q.scaleb(-e, context=_EXACT).quantize(Decimal(1).scaleb(-decimals), context=_EXACT)
    return f"{m:f}", e


def superscript(n) -> str:
    """3 → ³, -6 → ⁻⁶."""
    return str(n).translate(SUPERSCRIPT)


def _excel_superscript(s: str) -> str:
    """A spreadsheet expression: the text ``s`` (digits and "-") in superscript."""
    for plain, sup in zip("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"):
        s = f'SUBSTITUTE({s},"{plain}","{sup}")'
    return s


@dataclass(frozen=True)
class Shown:
    kind: str  # "general", "fixed" or "sci"
    decimals: int = SIGNIFICANT - 1  # fixed: decimals; sci: the mantissa's decimals

    @property
    def num_format(self) -> str:
        if self.kind == "general":
            return "General"
        if self.kind == "sci":
            m = "0." + "0" * self.decimals if self.decimals else "0"
            return f"{m}E+0;-{m}E+0;0"
        zeros = "0." + "0" * self.decimals if self.decimals else "0"
        return f"{zeros};-{zeros};0"  # zero shows as 0

    # -- the value as shown ------------------------------------------------------------
    def rounded(self, v: float) -> float:
        """The value a reader takes from the display: v rounded as shown."""
        v = float(v)
        if self.kind == "general" or v == 0 or not math.isfinite(v):
            return v
        r = float(_quantize(v, _decimal(v).adjusted() - self.decimals if self.kind == "sci" else -self.decimals))
        return r if math.isfinite(r) else v  # 1.7975e308 shows as 1.80E308, beyond the largest double

    def finer(self, extra: int) -> Shown:
        """The same with ``extra`` more digits (a number shown as written stays so)."""
        return self if extra == 0 or self.kind == "general" else Shown(self.kind, self.decimals + extra)

    def round_excel(self, v: str) -> str:
        """What ``rounded`` computes, as a spreadsheet expression of the value expression v."""
        if self.kind == "general":
            return v
        if self.kind == "sci":
            return f"IF({v}=0,0,ROUND({v},{self.decimals}-INT(LOG10(ABS({v})))))"
        return f"ROUND({v},{self.decimals})"

    # -- text ----------------------------------------------------------------------------
    def text(self, v: float) -> str:
        """The value as its cell shows it (number format applied; spreadsheets round half
        away from zero), e.g. ``0.637``, ``-0.00544``, ``4.52E-7``."""
        v = float(v)
        if v == 0:
            return "0"
        if not math.isfinite(v):
            return str(v)
        if self.kind == "general":
            return f"{v:.15g}"
        if self.kind == "sci":
            m, e = _sci(v, self.decimals)
            return f"{'-' if v < 0 else ''}{m}E{e}"
        return _fixed(v, self.decimals)

    def line_text(self, r: float, wrap: bool = False, sup: bool = False) -> str:
        """A rounded value ``r`` as an arithmetic line spells it: ``0.637``, ``−0.115``
        (``(−0.115)`` when ``wrap``: an operand), ``2.92·10⁻⁶``; ``sup``: as an exponent (``¹``)."""
        if sup:
            return superscript(self.text(r))
        if r == 0 or not math.isfinite(r):
            s = self.text(r)
        elif self.kind == "sci":
            m, e = _sci(abs(r), self.decimals)
            s = f"{m}·10{superscript(e)}"
        else:
            s = self.text(abs(r))
        if r < 0:
            return f"({MINUS}{s})" if wrap else MINUS + s
        return s

    def line_excel(self, r: str, wrap: bool = False, sup: bool = False) -> str:
        """What ``line_text`` computes, as a spreadsheet expression of the rounded value r
        (a cell address: it is read several times)."""
        if sup:
            return _excel_superscript(f'{r}&""')
        if self.kind == "general":
            s = f'ABS({r})&""'
        elif self.kind == "sci":
            e = f"INT(LOG10(ABS({r})))"  # r is rounded to its shown digits: exact
            s = f'FIXED(ABS({r})/10^({e}/2)/10^({e}/2),{self.decimals},1)&"·10"&' + _excel_superscript(f'{e}&""')
        else:
            s = f"FIXED(ABS({r}),{self.decimals},1)"
        sign = f'IF({r}<0,"({MINUS}","")' if wrap else f'IF({r}<0,"{MINUS}","")'
        close = f'&IF({r}<0,")","")' if wrap else ""
        return f'IF({r}=0,"0",{sign}&{s}{close})'

    def tolerance(self, v: float) -> float:
        """Half a unit of the last digit shown for ``v``."""
        if self.kind == "sci":
            return 0.5 * 10.0 ** (_decimal(v).adjusted() - self.decimals) if v else 0.0
        return 0.5 * 10 ** -(self.decimals if self.kind == "fixed" else 4)


def _fixed(v: float, decimals: int) -> str:
    q = _quantize(v, -decimals)
    s = f"{q:f}"
    return s.lstrip("-") if q == 0 else s


def is_short(v: float) -> bool:
    """A number written with at most 4 decimals, like 1, 0.5 or 0.05: shown as it is."""
    return abs(v) < 1e6 and round(v, 4) == v


def shown(values, decimals: int = 3) -> Shown:
    """The way to show a block of numbers (an array or any iterable of floats)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        if np.all((np.abs(v) < 1e6) & (np.round(v, 4) == v)):  # every value is_short
            return Shown("general", 0)
    finite = np.abs(v[np.isfinite(v)])
    if finite.size and finite.max() >= MAX_FIXED:
        return Shown("sci")
    nonzero = finite[finite != 0]
    need = max(decimals, SIGNIFICANT - 1 - math.floor(math.log10(nonzero.min()))) if nonzero.size else decimals
    return Shown("fixed", need) if need <= max(decimals, MAX_DECIMALS) else Shown("sci")


# -- the arithmetic line ---------------------------------------------------------------------
def line_parts(name: str, op, shapes) -> list:
    """The arithmetic line of result ``name`` = ``op`` over operands of ``shapes`` (as shown),
    at the symbolic cell (I, J): literal strings, the indices ``I`` and ``J`` themselves (the
    focus row and column), and the ``Value`` of each cell read; it ends with " = "; the
    result follows (``line_values``)."""
    return [f"{name}[", I, ",", J, "] = "] + text(op.spell(I, J, shapes)) + [" = "]


def checkable(parts: list) -> bool:
    """Whether a learner can redo the line: it shows every term (no "…")."""
    return not any(isinstance(p, str) and "…" in p for p in parts)


@dataclass(frozen=True)
class Hand:
    """A result as a learner computes it from the line: ``value``, the line's operations on
    the operands as shown; ``operands``, per cell read (reading order, no repeats), its
    ``Cell`` (at the concrete focus), its value as shown and half a unit of its last shown
    digit (how far the true value may be from the shown one)."""

    value: float
    operands: tuple[tuple[Cell, float, float], ...]


def hand_value(op, i: int, j: int, shapes, values_of, shown_of) -> Hand:
    """The value of result cell (i, j) of ``op`` (0-based) computed by hand from its operands
    as the sheet shows them. ``shapes``: the operands' shapes as shown (``op.shown``);
    ``values_of(k)``: operand k's array as shown; ``shown_of(k)``: its ``Shown``.

    The arithmetic lines end with this value (rounded as the result shows), and exercise
    tolerances can be taken from it: a student who works honestly from the shown numbers
    gets ``value``. Where the spreadsheet's formula cannot be evaluated by hand (an overflow
    of EXP in the tutorial's sigmoid), ``value`` is nan."""
    t = op.spell(i, j, shapes)
    rounded = {}
    for c in _distinct_cells(t):
        v = float(values_of(c.k)[c.r, c.c])
        s = shown_of(c.k)
        rounded[c] = (s.rounded(v), s.tolerance(v))
    try:
        value = scalar(t, lambda c: rounded[c][0])
    except (OverflowError, ZeroDivisionError, ValueError):
        value = math.nan
    return Hand(value, tuple((c, r, tol) for c, (r, tol) in rounded.items()))


def line_extra(op, shapes, values_of, shown_of, cells: int = 400) -> int:
    """The fewest more digits (0 to ``MAX_EXTRA``) the operands of a result's arithmetic line
    need, so that at every cell of the result (the first ``cells`` of a large one) the line's
    operations on the operands so rounded round to what the cell shows; ``MAX_EXTRA`` when
    none does it everywhere. ``values_of(k)``/``shown_of(k)`` as in ``hand_value``; k = -1 is
    the result."""
    result, res = values_of(-1), shown_of(-1)
    at = [(i, j) for i in range(result.shape[0]) for j in range(result.shape[1])][:cells]
    for extra in range(MAX_EXTRA + 1):
        finer = lambda k: shown_of(k).finer(extra)  # noqa: E731
        if all(math.isnan(h) or res.rounded(h) == res.rounded(float(result[i, j])) for i, j in at
               for h in [hand_value(op, i, j, shapes, values_of, finer).value]):
            return extra
    return MAX_EXTRA


def _distinct_cells(t: Term) -> list[Cell]:
    from .terms import cells

    return list(dict.fromkeys(cells(t)))


@dataclass(frozen=True)
class LineValues:
    """What the line at one focus shows: each part's text, the learner's result and, when the
    cell shows otherwise, the cell's own (``unrounded``, else None)."""

    texts: list[str]
    result: str
    unrounded: str | None

    def line(self, note: str) -> str:
        """The line's text; ``note`` spells the cell's own value, e.g. " (unrounded: {value})"."""
        return "".join(self.texts) + self.result + ("" if self.unrounded is None else note.format(value=self.unrounded))


def line_values(parts: list, focus: tuple[int, int], op, shapes, shown_of, values_of) -> LineValues:
    """The texts of ``line_parts`` at ``focus`` (0-based, within the result's shape), each
    value spelled as its block shows it with the line's more digits (``line_extra``):
    ``shown_of(k)`` is operand k's ``Shown``, ``values_of(k)`` its array as shown (k = -1:
    the result's)."""
    at = lambda pos: focus[0] if pos is I else focus[1] if pos is J else pos  # noqa: E731
    extra = line_extra(op, shapes, values_of, shown_of) if checkable(parts) else 0
    result_shown, shown_of = shown_of(-1), lambda k, of=shown_of: of(k).finer(extra)
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Index):
            out.append(str(at(part) + 1))
        else:
            c = part.cell
            s = shown_of(c.k)
            r = s.rounded(float(values_of(c.k)[at(c.r), at(c.c)])) * (-1 if part.term is not c else 1)
            out.append(s.line_text(r, part.wrap, part.sup))
    cell = result_shown.rounded(float(values_of(-1)[focus]))
    hand = cell
    if checkable(parts):
        h = hand_value(op, *focus, shapes, values_of, shown_of).value
        hand = cell if math.isnan(h) else result_shown.rounded(h)
    note = None if hand == cell else result_shown.line_text(cell)
    return LineValues(out, result_shown.line_text(hand), note)


def plain(v: float, decimals: int) -> str:
    """A number for a terminal (``stepviz run``'s summary, ``stepviz show``): ``decimals``
    fixed decimals, or scientific notation where they would show no digit of a non-zero
    value (5e-324) or more than 15 digits before the point (1e25, 1.8e308)."""
    v = float(v)
    if v == 0 or not math.isfinite(v) or 10.0 ** -decimals <= abs(v) < MAX_FIXED:
        return f"{v:.{decimals}f}"
    return f"{v:.{max(decimals, 2)}e}"


def answer_tolerance(t, values, shown_of, answer: Shown) -> float:
    """How far an answer typed by hand may be from the exact value of the cell expression
    ``t`` (an op's spelling at one cell; ``values[k]`` operand k as shown, ``shown_of[k]``
    its ``Shown``) and still be right: the rounding of every operand as shown propagated
    through ``t``, plus half a unit of the answer's last shown digit, plus a margin for
    binary rounding. The rule is spelled once, as a cell expression, in stepviz.tolerance:
    a practice sheet's live check is the same expression as a formula."""
    from .tolerance import tolerance

    return tolerance(t, values, shown_of, answer)
