"""Op kinds: the one place where each computation is defined.

An op kind knows three things about the matrix it produces:

* ``program(*operands, out=...)`` -- the numpy computation, as the list of calls
  ``(function, positional arguments)`` that write it into ``out`` (out passed positionally:
  it is measurably cheaper for small arrays); the engine binds them once and replays them
  every epoch, ``compute`` runs them once;
* ``shape(*shapes)`` -- the shape of its result from the shapes of its operands;
* ``formula(i, j, ref)`` -- the Excel formula of result cell (i, j), spelled with
  ``ref(k, r, c)`` (cell (r, c) of operand k) and ``ref.range(k, r0, c0, r1, c1)``.

The workbook calls ``formula`` with a recorder as ``ref``: the cells it was asked for
are exactly the cells the formula reads, and those are the cells it paints orange.
So the highlighting cannot disagree with the formula.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Activation:
    """An activation function, its slope written in terms of the activation a, and
    both as Excel formulas of one cell reference."""

    name: str
    compute: Callable  # (z, out) -> program
    slope: Callable  # (a, out) -> program
    formula: Callable[[str], str]
    slope_formula: Callable[[str], str]
    slope_words: str
    low: float  # range of the activation, for target checks
    high: float


def _sigmoid(z, out):
    # 1/(1+exp(-z)); exp overflows to inf for z < -709 and 1/inf == 0 is the right
    # answer, so the engine runs under np.errstate(over="ignore") instead of branching.
    return [(np.negative, (z, out)), (np.exp, (out, out)), (np.add, (out, 1.0, out)),
            (np.reciprocal, (out, out))]


def _sigmoid_slope(a, out):
    return [(np.subtract, (1.0, a, out)), (np.multiply, (out, a, out))]


def _tanh_slope(a, out):
    return [(np.multiply, (a, a, out)), (np.subtract, (1.0, out, out))]


ACTIVATIONS = {
    "sigmoid": Activation(
        "sigmoid", _sigmoid, _sigmoid_slope,
        # overflow-safe: EXP of a large positive number is never taken
        lambda x: f"IF({x}>=0,1/(1+EXP(-{x})),EXP({x})/(1+EXP({x})))",
        lambda a: f"{a}*(1-{a})", "{0}·(1−{0})", 0.0, 1.0),
    "tanh": Activation(
        "tanh", lambda z, out: [(np.tanh, (z, out))], _tanh_slope,
        lambda x: f"TANH({x})", lambda a: f"1-{a}^2", "1−{0}²", -1.0, 1.0),
    "relu": Activation(
        "relu", lambda z, out: [(partial(np.maximum, out=out), (z, 0.0))],  # out positional is deprecated here
        lambda a, out: [(np.greater, (a, 0.0, out))],
        lambda x: f"MAX(0,{x})", lambda a: f"IF({a}>0,1,0)", "1 if {0}>0 else 0", 0.0, np.inf),
}


MAX_TERMS = 10  # a sum of products is written out term by term up to this many terms;
# longer ones read whole ranges (MMULT / SUMPRODUCT): short, and far below Excel's
# 8,192-character formula limit for any size


def _sum(terms):
    return "+".join(terms)


class Op:
    """Base class; subclasses are the op kinds of the step table."""

    words = ""  # the formula in words, "{0}", "{1}" ... are operand names

    def compute(self, *operands, out):
        """Run the op's program once: the result is written into ``out``."""
        for fn, args in self.program(*operands, out=out):
            fn(*args)

    def describe(self, result: str, operands: tuple[str, ...]) -> str:
        return f"{result} = " + self.words.format(*operands)


@dataclass(frozen=True)
class Given(Op):
    """A matrix that is not computed by the step: data, initial or carried-over values."""

    what: str = "given"

    def describe(self, result, operands):
        return f"{result}: {self.what}"


@dataclass(frozen=True)
class Dense(Op):
    """a·w (+ b): the input of a layer. Operands (a, w) or (a, w, b)."""

    bias: bool

    @property
    def words(self):
        return "{0} · {1} + {2}" if self.bias else "{0} · {1}"

    def shape(self, a, w, b=None):
        return (a[0], w[1])

    def program(self, a, w, b=None, *, out):
        return [(np.dot, (a, w, out))] + ([(np.add, (out, b, out))] if self.bias else [])

    def formula(self, i, j, ref, shapes):
        n = shapes[0][1]
        if n > MAX_TERMS:
            f = f"MMULT({ref.range(0, i, 0, i, n - 1)},{ref.range(1, 0, j, n - 1, j)})"
        else:
            f = _sum(f"{ref(0, i, k)}*{ref(1, k, j)}" for k in range(n))
        return f + f"+{ref(2, 0, j)}" if self.bias else f


@dataclass(frozen=True)
class Activate(Op):
    """The activation function applied element-wise."""

    fn: Activation

    @property
    def words(self):
        return f"{self.fn.name}({{0}})"

    def shape(self, z):
        return z

    def program(self, z, *, out):
        return self.fn.compute(z, out)

    def formula(self, i, j, ref, shapes):
        return self.fn.formula(ref(0, i, j))


@dataclass(frozen=True)
class Slope(Op):
    """The activation's slope, written in terms of the activation itself."""

    fn: Activation

    @property
    def words(self):
        return self.fn.slope_words

    def shape(self, a):
        return a

    def program(self, a, *, out):
        return self.fn.slope(a, out)

    def formula(self, i, j, ref, shapes):
        return self.fn.slope_formula(ref(0, i, j))


@dataclass(frozen=True)
class Subtract(Op):
    words = "{0} − {1}"

    def shape(self, a, b):
        return a

    def program(self, a, b, *, out):
        return [(np.subtract, (a, b, out))]

    def formula(self, i, j, ref, shapes):
        return f"{ref(0, i, j)}-{ref(1, i, j)}"


@dataclass(frozen=True)
class Multiply(Op):
    """Element-wise product, optionally times a constant factor (2 for the sse loss)."""

    factor: float = 1.0

    @property
    def words(self):
        return ("{0} × {1}" if self.factor == 1 else f"{self.factor:g} × {{0}} × {{1}}")

    def shape(self, a, b):
        return a

    def program(self, a, b, *, out):
        return [(np.multiply, (a, b, out))] + ([(np.multiply, (out, self.factor, out))] if self.factor != 1 else [])

    def formula(self, i, j, ref, shapes):
        f = f"{ref(0, i, j)}*{ref(1, i, j)}"
        return f if self.factor == 1 else f"{f}*{self.factor:g}"


@dataclass(frozen=True)
class MatmulT(Op):
    """d·wᵀ: the error passed back through the weights w."""

    words = "{0} · {1}ᵀ"

    def shape(self, d, w):
        return (d[0], w[0])

    def program(self, d, w, *, out):
        return [(np.dot, (d, w.T, out))]

    def formula(self, i, j, ref, shapes):
        n = shapes[0][1]
        if n > MAX_TERMS:
            return f"SUMPRODUCT({ref.range(0, i, 0, i, n - 1)},{ref.range(1, j, 0, j, n - 1)})"
        return _sum(f"{ref(0, i, k)}*{ref(1, j, k)}" for k in range(n))


@dataclass(frozen=True)
class UpdateWeights(Op):
    """w + aᵀ·d·lr. Operands (w, a, d, lr)."""

    words = "{0} + {1}ᵀ · {2} · {3}"

    def shape(self, w, a, d, lr):
        return w

    def program(self, w, a, d, lr, *, out):
        # (aᵀ·d)·lr + w: the tutorial's order of operations, so results agree to the bit
        return [(np.dot, (a.T, d, out)), (np.multiply, (out, lr, out)), (np.add, (out, w, out))]

    def formula(self, i, j, ref, shapes):
        n = shapes[1][0]
        if n > MAX_TERMS:
            s = f"SUMPRODUCT({ref.range(1, 0, i, n - 1, i)},{ref.range(2, 0, j, n - 1, j)})"
        else:
            s = "(" + _sum(f"{ref(1, k, i)}*{ref(2, k, j)}" for k in range(n)) + ")"
        return f"{ref(0, i, j)}+{s}*{ref(3, 0, 0)}"


@dataclass(frozen=True)
class UpdateBias(Op):
    """b + Σ_rows(d)·lr. Operands (b, d, lr)."""

    words = "{0} + Σ_rows({1}) · {2}"

    def shape(self, b, d, lr):
        return b

    def program(self, b, d, lr, *, out):
        return [(np.add.reduce, (d, 0, None, out, True)),  # Σ over rows, keepdims
                (np.multiply, (out, lr, out)), (np.add, (out, b, out))]

    def formula(self, i, j, ref, shapes):
        n = shapes[1][0]
        return f"{ref(0, i, j)}+SUM({ref.range(1, 0, j, n - 1, j)})*{ref(2, 0, 0)}"
