"""Op kinds: the one place where each computation is defined.

An op kind knows, about the matrix it produces:

* ``program(*operands, out=...)`` -- the numpy computation, as the list of calls
  ``(function, positional arguments)`` that write it into ``out`` (out passed positionally:
  it is measurably cheaper for small arrays); the engine binds them once and replays them
  every epoch, ``compute`` runs them once;
* ``shape(*shapes)`` -- the shape of its result from the shapes of its operands;
* ``transposed`` -- which operands it reads transposed: the sheet shows those transposed
  (``Xᵀ``), so that every product is a row times a column, as a learner computes by hand;
* ``spell(i, j, shapes)`` -- result cell (i, j) as a cell expression over the operands as
  shown (stepviz.terms). The Excel formula, the arithmetic line, the orange cells and the
  source pattern (the same spelling at symbolic (I, J)) are all read off it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from .terms import Dot, I, J, Term, Total, XLogY, compiled, fn, pattern, softmax, x


@dataclass(frozen=True)
class Activation:
    """An activation function and its slope written in terms of the activation a, each as
    numpy programs and as cell expressions."""

    name: str
    compute: Callable  # (z, out) -> program
    slope: Callable  # (a, out) -> program
    spell: Callable[[Term], Term]
    slope_spell: Callable[[Term], Term]
    slope_words: str
    low: float  # range of the activation, for target checks
    high: float
    # a form of ``spell`` that cannot overflow for very negative inputs, used only in the
    # cells whose recorded input needs it (EXP(700) is the largest a spreadsheet takes)
    safe_spell: Callable[[Term], Term] | None = None
    safe_below: float = -700.0


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
        lambda z: 1 / (1 + fn("EXP", -z)),  # the tutorial's 1/(1+e^-x)
        lambda a: a * (1 - a), "{0}·(1−{0})", 0.0, 1.0,
        safe_spell=lambda z: fn("EXP", z) / (1 + fn("EXP", z))),
    "tanh": Activation(
        "tanh", lambda z, out: [(np.tanh, (z, out))], _tanh_slope,
        lambda z: fn("TANH", z), lambda a: 1 - a ** 2, "1−{0}²", -1.0, 1.0),
    "relu": Activation(
        "relu", lambda z, out: [(partial(np.maximum, out=out), (z, 0.0))],  # out positional is deprecated here
        lambda a, out: [(np.greater, (a, 0.0, out))],
        lambda z: fn("MAX", 0, z), lambda a: fn("IF", a > 0, 1, 0), "1 if {0}>0 else 0", 0.0, np.inf),
}


def _t(flag: bool) -> str:
    return "ᵀ" if flag else ""


class Op:
    """Base class; subclasses are the op kinds of the step table."""

    words = ""  # the formula in words, "{0}", "{1}" ... are operand names
    transposed: tuple[bool, ...] = ()

    def compute(self, *operands, out):
        """Run the op's program once: the result is written into ``out``."""
        for f, args in self.program(*operands, out=out):
            f(*args)

    def describe(self, result: str, operands: tuple[str, ...], msg) -> str:
        return f"{result} = " + self.words.format(*operands)

    def flipped(self, k: int) -> bool:
        """Whether operand k is read (and shown) transposed."""
        return k < len(self.transposed) and self.transposed[k]

    def shown(self, shapes) -> list[tuple[int, int]]:
        """The operands' shapes as the sheet shows them (transposed ones flipped)."""
        return [(s[1], s[0]) if self.flipped(k) else tuple(s) for k, s in enumerate(shapes)]

    def cell_term(self, i, j, shapes, operands):
        """The spelling of cell (i, j) given the operands' recorded values (as shown)."""
        return self.spell(i, j, shapes)

    def form(self, i, j, operands) -> int:
        """Which spelling cell (i, j) needs for these values: 0 for ``spell``; another number
        for another form (the overflow-safe sigmoid). Cheap: decides without spelling."""
        return 0

    def pattern(self, shape, shapes):
        """Per operand, the cells that result cell (I, J) reads (stepviz.terms.Pattern);
        ``shape`` is the result's, ``shapes`` the operands' as shown."""
        return pattern(self.spell(I, J, shapes))


@dataclass(frozen=True)
class Given(Op):
    """A matrix that is not computed by the step: data, initial or carried-over values.
    ``what`` is a message key (stepviz.text): data, start value, ..."""

    what: str = "given"

    def describe(self, result, operands, msg):
        return f"{result}: " + msg(f"given.{self.what}")


@dataclass(frozen=True)
class MatMul(Op):
    """a·b, optionally + a bias row and · a scalar. Operands (a, b[, bias][, scale]).

    The forward pass is ``X·wh + bh``; the error passed back is ``d_output·woutᵀ``; the
    weight update is ``hiddenlayer_activationsᵀ·d_output·lr``: one kind, three uses."""

    transposed: tuple[bool, ...] = (False, False)
    bias: bool = False
    scaled: bool = False

    @property
    def words(self):
        w = f"{{0}}{_t(self.flipped(0))} · {{1}}{_t(self.flipped(1))}"
        k = 2
        if self.bias:
            w, k = w + " + {2}", 3
        return w + f" · {{{k}}}" if self.scaled else w

    def shape(self, a, b, *rest):
        return (a[1] if self.flipped(0) else a[0], b[0] if self.flipped(1) else b[1])

    def program(self, a, b, *rest, out):
        calls = [(np.dot, (a.T if self.flipped(0) else a, b.T if self.flipped(1) else b, out))]
        if self.bias:
            calls.append((np.add, (out, rest[0], out)))
        if self.scaled:  # (aᵀ·d)·lr: the tutorial's order of operations, so results agree to the bit
            calls.append((np.multiply, (out, rest[-1], out)))
        return calls

    def spell(self, i, j, shapes):
        n = shapes[0][1]
        t = Dot(x.row(0, i, n), x.col(1, j, n))
        if self.bias:
            t = t + x(2, 0, j)
        return t * x(len(shapes) - 1, 0, 0) if self.scaled else t


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

    def spell(self, i, j, shapes):
        return self.fn.spell(x(0, i, j))

    def form(self, i, j, operands) -> int:
        return int(self.fn.safe_spell is not None and operands[0][i, j] < self.fn.safe_below)

    def cell_term(self, i, j, shapes, operands):
        if self.form(i, j, operands):
            return self.fn.safe_spell(x(0, i, j))  # EXP(-z) would overflow in the sheet
        return self.spell(i, j, shapes)


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

    def spell(self, i, j, shapes):
        return self.fn.slope_spell(x(0, i, j))


@dataclass(frozen=True)
class Subtract(Op):
    words = "{0} − {1}"

    def shape(self, a, b):
        return a

    def program(self, a, b, *, out):
        return [(np.subtract, (a, b, out))]

    def spell(self, i, j, shapes):
        return x(0, i, j) - x(1, i, j)


@dataclass(frozen=True)
class Add(Op):
    words = "{0} + {1}"

    def shape(self, a, b):
        return a

    def program(self, a, b, *, out):
        return [(np.add, (a, b, out))]

    def spell(self, i, j, shapes):
        return x(0, i, j) + x(1, i, j)


@dataclass(frozen=True)
class Multiply(Op):
    """Element-wise product, optionally times a constant factor (2 for the sse loss)."""

    factor: float = 1.0

    @property
    def words(self):
        return "{0} × {1}" if self.factor == 1 else f"{self.factor:g} × {{0}} × {{1}}"

    def shape(self, a, b):
        return a

    def program(self, a, b, *, out):
        return [(np.multiply, (a, b, out))] + ([(np.multiply, (out, self.factor, out))] if self.factor != 1 else [])

    def spell(self, i, j, shapes):
        t = x(0, i, j) * x(1, i, j)
        return t if self.factor == 1 else t * self.factor


def _sum_of_squares(a, factor, out):
    out[0, 0] = factor * np.vdot(a, a)


@dataclass(frozen=True)
class Loss(Op):
    """½·ΣE² (the tutorial's E=(Y−t)²/2 summed), or ΣE² for the sse loss: one number."""

    half: bool = True

    @property
    def words(self):
        return "½ · Σ{0}²" if self.half else "Σ{0}²"

    def shape(self, e):
        return (1, 1)

    def program(self, e, *, out):
        return [(_sum_of_squares, (e, 0.5 if self.half else 1.0, out))]

    def spell(self, i, j, shapes):
        t = Total(x.all(0, shapes[0]), squares=True)
        return t / 2 if self.half else t


@dataclass(frozen=True)
class ColumnSum(Op):
    """Σ_rows(d), optionally · a scalar: a bias's gradient or its update. Operands (d[, lr])."""

    scaled: bool = False

    @property
    def words(self):
        return "Σ_rows({0}) · {1}" if self.scaled else "Σ_rows({0})"

    def shape(self, d, *rest):
        return (1, d[1])

    def program(self, d, *rest, out):
        calls = [(np.add.reduce, (d, 0, None, out, True))]  # Σ over rows, keepdims
        return calls + [(np.multiply, (out, rest[0], out))] if self.scaled else calls

    def spell(self, i, j, shapes):
        t = Total(x.col(0, j, shapes[0][0]))
        return t * x(1, 0, 0) if self.scaled else t


def _assign(run, operands, out):
    out[...] = run(operands)


@dataclass(frozen=True)
class Elementwise(Op):
    """Any element-wise formula, declared once as a cell expression: the numpy program is
    the same expression evaluated over whole arrays (a 1×1 operand is a scalar).
    ``formula(*cells)`` gets one cell per operand; ``words`` uses {0}, {1}, ..."""

    words: str = ""
    formula: Callable[..., Term] = field(default=None, compare=False)
    key: str = ""  # identity for comparisons and caching (the formula is a lambda)

    def shape(self, *shapes):
        return next((tuple(s) for s in shapes if tuple(s) not in ((), (1, 1))), (1, 1))

    def program(self, *operands, out):
        # spelled and compiled once, as the engine binds the program to its buffers
        return [(_assign, (compiled(self.spell(I, J, [np.shape(o) for o in operands])), operands, out))]

    def spell(self, i, j, shapes):
        scalar = lambda s: tuple(s) in ((), (1, 1))  # noqa: E731  (lr, beta1, t: one cell)
        return self.formula(*(x(k, 0, 0) if scalar(s) else x(k, i, j) for k, s in enumerate(shapes)))


def _softmax(z, out):
    np.subtract(z, np.maximum.reduce(z, 1, None, None, True), out)  # z − max ≤ 0: exp never overflows
    np.exp(out, out)
    np.divide(out, np.add.reduce(out, 1, None, None, True), out)  # (reduce: keepdims, without a wrapper's cost)


@dataclass(frozen=True)
class Softmax(Op):
    """softmax of each row: EXP(z − MAX(row)) / Σ EXP(row − MAX(row)). Subtracting the row's
    maximum changes nothing in exact arithmetic and keeps every EXP at most 1, so no logit,
    however large (±1000), makes a cell overflow."""

    words = "softmax({0})"
    key = "softmax"  # its note on the sheet (stepviz.text)

    def shape(self, z):
        return z

    def program(self, z, *, out):
        return [(_softmax, (z, out))]

    def spell(self, i, j, shapes):
        return softmax(x(0, i, j), x.row(0, i, shapes[0][1]))


def _cross_entropy(y, p, binary, out):
    # a term whose y is 0 is 0 (PyTorch's convention), also where p is exactly 0: log(1) there.
    # (log(0) = -inf where y is not 0: the engine runs under np.errstate and reports it.)
    s = np.vdot(y, np.log(np.where(y == 0, 1.0, p)))
    if binary:
        s += np.vdot(1.0 - y, np.log(np.where(y == 1, 1.0, 1.0 - p)))
    out[0, 0] = -s


@dataclass(frozen=True)
class CrossEntropy(Op):
    """The cross-entropy of the targets y and the outputs p, summed over samples like the
    other losses: −Σ y·ln(p) (softmax outputs), or ``binary`` −Σ [y·ln(p) + (1−y)·ln(1−p)]
    (sigmoid outputs). Operands (y, output); one number."""

    binary: bool = False

    @property
    def key(self):  # its note on the sheet (stepviz.text)
        return "bce" if self.binary else "ce"

    @property
    def words(self):
        return "−Σ [{0}·ln({1}) + (1−{0})·ln(1−{1})]" if self.binary else "−Σ {0}·ln({1})"

    def shape(self, y, p):
        return (1, 1)

    def program(self, y, p, *, out):
        return [(_cross_entropy, (y, p, self.binary, out))]

    def form(self, i, j, operands) -> int:
        """1 where an output is exactly 0 (or 1, binary): LN(0) would be an error value even
        where y makes the term 0, so that form adds 1 inside LN where y is 0 (or 1)."""
        p = operands[1]
        return int(bool((p == 0).any() or (self.binary and (p == 1).any())))

    def spell(self, i, j, shapes, guard=False):
        y, p = x.all(0, shapes[0]), x.all(1, shapes[1])
        t = XLogY(y, p, guard=guard)
        return -(t + XLogY(y, p, complement=True, guard=guard)) if self.binary else -t

    def cell_term(self, i, j, shapes, operands):
        return self.spell(i, j, shapes, guard=bool(self.form(i, j, operands)))


# The optimizers' element-wise updates (issue 13), each declared once as a cell expression.
# Conventions: g = aᵀ·d is the tutorial's update direction (minus the loss's gradient), so a
# step adds to the weights; momentum as PyTorch's SGD (dampening 0, no Nesterov); Adam as
# Kingma & Ba with bias correction, t the epoch.
MOMENTUM_BUFFER = Elementwise("{1} · {0} + {2}", lambda v, mu, g: mu * v + g, key="v")  # (v, momentum, g)
STEP = Elementwise("{0} + {1} · {2}", lambda w, lr, v: w + lr * v, key="step")  # (w, lr, v)
ADAM_M = Elementwise("{1} · {0} + (1 − {1}) · {2}", lambda m, b1, g: b1 * m + (1 - b1) * g, key="m")  # (m, beta1, g)
ADAM_S = Elementwise("{1} · {0} + (1 − {1}) · {2}²", lambda s, b2, g: b2 * s + (1 - b2) * g ** 2, key="s")
BIAS_CORRECTION = Elementwise("{0} / (1 − {1}^{2})", lambda m, b, t: m / (1 - b ** t), key="hat")  # (m, beta, t)
ADAM_STEP = Elementwise("{0} + {1} · {2} / (√{3} + {4})",
                        lambda w, lr, mh, sh, eps: w + lr * mh / (fn("SQRT", sh) + eps), key="adam")

# d_output for a cross-entropy loss: the output's slope cancels against the loss's derivative,
# ∂loss/∂output_layer_input = output − y = −E, so the tutorial's direction is E itself. One op per
# loss so that step 8's note (keyed by the op) can show that loss's derivation.
@dataclass(frozen=True)
class Same(Op):
    """A copy of its operand under another name (a numpy copy, a formula reading one cell).
    ``key`` names its note on the sheet (stepviz.text)."""

    key: str = ""
    words = "{0}"

    def shape(self, a):
        return a

    def program(self, a, *, out):
        return [(np.copyto, (out, a))]

    def spell(self, i, j, shapes):
        return x(0, i, j)


CE_DELTA = Same("ce_delta")
BCE_DELTA = Same("bce_delta")
