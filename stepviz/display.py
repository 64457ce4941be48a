"""How numbers are shown: readable, and the same in a cell, in the arithmetic line and in
Python.

A block of numbers gets one ``Shown``: plain (``General``) for short numbers such as data
and learning rates, fixed decimals (at least ``decimals``, more when needed so that every
non-zero value shows two significant digits), or scientific notation for tiny values.
Each ``Shown`` gives the cell's number format, the spreadsheet expression that spells a
value the same way (``FIXED`` and ``&""``, which follow the reader's locale, unlike
``TEXT`` with a format code), and that text computed in Python for the cached value.

The arithmetic line (``hidden_layer_input[1,1] = 1×0.637 + … + 0.857 = 2.101``) is spelled
once, by ``line_parts``; ``line_text`` reads it at a focus. The workbook caches that text
under its live formula, and the notebook view shows it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from .terms import I, J, Cell, Index, Value, text

MAX_DECIMALS = 6  # beyond this, scientific notation: 4.5E-7 reads better than 0.00000045


@dataclass(frozen=True)
class Shown:
    kind: str  # "general", "fixed" or "sci"
    decimals: int = 0

    @property
    def num_format(self) -> str:
        if self.kind == "general":
            return "General"
        if self.kind == "sci":
            return "0.0E+0;-0.0E+0;0"
        zeros = "0." + "0" * self.decimals if self.decimals else "0"
        return f"{zeros};-{zeros};0"  # zero shows as 0

    def excel(self, v: str) -> str:
        """A spreadsheet expression giving the text of the value expression ``v``."""
        if self.kind == "general":
            return f'{v}&""'
        if self.kind == "sci":
            e = f"INT(LOG10(ABS({v})))"
            return f'IF({v}=0,"0",FIXED({v}/10^{e},1,1)&"E"&{e})'
        return f'IF({v}=0,"0",FIXED({v},{self.decimals},1))'

    def text(self, v: float) -> str:
        """What ``excel`` computes, in Python (spreadsheets round half away from zero)."""
        if v == 0:
            return "0"
        if self.kind == "general":
            return f"{v:.15g}"
        if self.kind == "sci":
            e = math.floor(math.log10(abs(v)))
            return f"{_fixed(v / 10 ** e, 1)}E{e}"
        return _fixed(v, self.decimals)

    def cell_text(self, v: float) -> str:
        """What the cell's number format shows: as ``text``, except that a scientific mantissa
        rounding up to 10 moves to the next power (``1.0E-5``, where the arithmetic line's
        ``FIXED`` spelling reads ``10.0E-6``)."""
        if self.kind == "sci" and v != 0:
            e = math.floor(math.log10(abs(v)))
            if abs(float(_fixed(v / 10 ** e, 1))) >= 10:
                return f"{_fixed(v / 10 ** (e + 1), 1)}E{e + 1}"
        return self.text(v)

    def tolerance(self, v: float) -> float:
        """Half a unit of the last digit shown for ``v``."""
        if self.kind == "sci":
            return 0.05 * 10 ** math.floor(math.log10(abs(v))) if v else 0.0
        return 0.5 * 10 ** -(self.decimals if self.kind == "fixed" else 4)


def _fixed(v: float, decimals: int) -> str:
    q = Decimal(repr(v)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    s = f"{q:f}"
    return s.lstrip("-") if q == 0 else s


def is_short(v: float) -> bool:
    """A number written with at most 4 decimals, like 1, 0.5 or 0.05: shown as it is."""
    return abs(v) < 1e6 and round(v, 4) == v


def shown(values, decimals: int = 3) -> Shown:
    """The way to show a block of numbers (an array or any iterable of floats)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if np.all((np.abs(v) < 1e6) & (np.round(v, 4) == v)):  # every value is_short
        return Shown("general")
    nonzero = np.abs(v[(v != 0) & np.isfinite(v)])
    need = max(decimals, 1 - math.floor(math.log10(nonzero.min()))) if nonzero.size else decimals
    return Shown("fixed", need) if need <= max(decimals, MAX_DECIMALS) else Shown("sci")


def line_parts(name: str, op, shapes) -> list:
    """The arithmetic line of result ``name`` = ``op`` over operands of ``shapes`` (as shown),
    at the symbolic cell (I, J): literal strings, the indices ``I`` and ``J`` themselves (the
    focus row and column), and the ``Value`` of each cell read (k = -1: the result)."""
    return ([f"{name}[", I, ",", J, "] = "] + text(op.spell(I, J, shapes))
            + [" = ", Value(Cell(-1, I, J))])


def line_text(parts: list, focus: tuple[int, int], shown_of, values_of) -> str:
    """The text of ``line_parts`` at ``focus`` (0-based, within the result's shape), each
    value spelled as its block shows it: ``shown_of(k)`` is operand k's ``Shown``,
    ``values_of(k)`` its array as shown (k = -1: the result's)."""
    at = lambda pos: focus[0] if pos is I else focus[1] if pos is J else pos  # noqa: E731
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Index):
            out.append(str(at(part) + 1))
        else:
            c = part.cell
            value = float(values_of(c.k)[at(c.r), at(c.c)]) * (-1 if part.term is not c else 1)
            s = shown_of(c.k).text(value)
            out.append(f"({s})" if part.wrap and value < 0 else s)
    return "".join(out)


def answer_tolerance(t, values, shown_of, answer: Shown) -> float:
    """How far an answer typed by hand may be from the exact value of the cell expression
    ``t`` (an op's spelling at one cell; ``values[k]`` operand k as shown, ``shown_of[k]``
    its ``Shown``) and still be right: the rounding of every operand as shown propagated
    through ``t``, plus half a unit of the answer's last shown digit, plus a margin for
    binary rounding. The rule is spelled once, as a cell expression, in stepviz.tolerance:
    a practice sheet's live check is the same expression as a formula."""
    from .tolerance import tolerance

    return tolerance(t, values, shown_of, answer)
