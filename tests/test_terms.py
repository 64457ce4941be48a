"""One spelling per op kind: the Excel formula, the arithmetic line and the source pattern
(which cells result cell (I, J) reads) all come from ``op.spell``. The pattern, evaluated
at a cell, must equal the references its formula actually holds, for every op kind and
every cell of random shapes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from openpyxl.utils import get_column_letter

from book import refs
from stepviz.display import Shown, shown
from stepviz.ops import (ACTIVATIONS, Activate, Add, ColumnSum, Elementwise, Loss, MatMul, Multiply, Slope,
                         Subtract)
from stepviz.terms import MAX_TERMS, Cell, Value, excel, number, text

ELEMENTWISE = Elementwise("{0}·{1} + {2}", lambda v, mu, g: mu * v + g, key="momentum")


def kinds():
    """(op, operand shapes as shown) builders: every op kind of the step table."""
    def mat(op, bias=False, scaled=False):
        def shapes(n, k, m):
            s = [(n, k), (k, m)] + ([(1, m)] if bias else []) + ([(1, 1)] if scaled else [])
            return s
        return op, shapes

    ew = lambda op, arity: (op, lambda n, k, m: [(n, m)] * arity)  # noqa: E731
    out = [mat(MatMul()), mat(MatMul(bias=True), bias=True), mat(MatMul(transposed=(False, True))),
           mat(MatMul(transposed=(True, False), scaled=True), scaled=True),
           ew(Subtract(), 2), ew(Add(), 2), ew(Multiply(), 2), ew(Multiply(2.0), 2),
           (Loss(True), lambda n, k, m: [(n, m)]), (Loss(False), lambda n, k, m: [(n, m)]),
           (ColumnSum(), lambda n, k, m: [(n, m)]), (ColumnSum(scaled=True), lambda n, k, m: [(n, m), (1, 1)]),
           (ELEMENTWISE, lambda n, k, m: [(n, m), (1, 1), (n, m)])]
    for fn in ACTIVATIONS.values():
        out += [ew(Activate(fn), 1), ew(Slope(fn), 1)]
    return out


KINDS = kinds()


def result_shape(op, shapes):
    actual = [(s[1], s[0]) if op.flipped(k) else s for k, s in enumerate(shapes)]
    return tuple(op.shape(*actual))


def where(k, r, c):
    """Operand k lives at rows 100k+1..., columns 1...: a cell address maps back to (k, r, c)."""
    return f"{get_column_letter(c + 1)}{100 * k + r + 1}"


def back(rc):
    row, col = rc
    return (row - 1) // 100, (row - 1) % 100, col - 1


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(range(len(KINDS))), n=st.integers(1, 4), k=st.integers(1, MAX_TERMS + 4),
       m=st.integers(1, 4))
def test_the_source_pattern_is_what_each_formula_reads(kind, n, k, m):
    op, shaping = KINDS[kind]
    shapes = shaping(n, k, m)
    rows, cols = result_shape(op, shapes)
    pattern = op.pattern((rows, cols), shapes)
    for i in range(rows):
        for j in range(cols):
            formula = excel(op.spell(i, j, shapes), lambda c: where(c.k, c.r, c.c),
                            lambda a, b: where(a.k, a.r, a.c) + ":" + where(b.k, b.r, b.c))
            read = {back(rc) for rc in refs("=" + formula)}
            assert read, formula
            expected = {(kk, r, c) for kk, p in pattern.items() for r, c in p.at(i, j)}
            assert read == expected, (op, shapes, i, j, formula)
            for kk, r, c in read:  # inside the operand
                assert 0 <= r < shapes[kk][0] and 0 <= c < shapes[kk][1]


def test_each_kind_reads_the_cells_a_learner_expects():
    """The pattern, in words: row i times column j, the bias's column j, the whole lr cell."""
    p = MatMul(bias=True).pattern((3, 3), [(3, 4), (4, 3), (1, 3)])
    assert p[0].at(1, 2) == {(1, c) for c in range(4)}  # row i of X
    assert p[1].at(1, 2) == {(r, 2) for r in range(4)}  # column j of wh
    assert p[2].at(1, 2) == {(0, 2)}  # element (1, j) of bh
    p = MatMul(transposed=(True, False), scaled=True).pattern((3, 1), [(3, 3), (3, 1), (1, 1)])
    assert p[2].at(2, 0) == {(0, 0)}  # the lr cell
    assert ColumnSum().pattern((1, 3), [(4, 3)])[0].at(0, 1) == {(r, 1) for r in range(4)}
    assert Loss().pattern((1, 1), [(3, 2)])[0].at(0, 0) == {(r, c) for r in range(3) for c in range(2)}


def test_formulas_read_as_the_tutorial_writes_them():
    addr = lambda c: "ABCDEFGH"[c.k] + str(c.r * 10 + c.c + 1)  # noqa: E731
    span = lambda a, b: addr(a) + ":" + addr(b)  # noqa: E731
    spell = lambda op, shapes, i=0, j=0: excel(op.spell(i, j, shapes), addr, span)  # noqa: E731
    assert spell(Activate(ACTIVATIONS["sigmoid"]), [(1, 1)]) == "1/(1+EXP(-A1))"
    assert spell(Slope(ACTIVATIONS["sigmoid"]), [(1, 1)]) == "A1*(1-A1)"
    assert spell(Slope(ACTIVATIONS["tanh"]), [(1, 1)]) == "1-A1^2"
    assert spell(Slope(ACTIVATIONS["relu"]), [(1, 1)]) == "IF(A1>0,1,0)"
    assert spell(MatMul(bias=True), [(1, 2), (2, 1), (1, 1)]) == "A1*B1+A2*B11+C1"
    assert spell(MatMul(transposed=(True, False), scaled=True), [(1, 2), (2, 1), (1, 1)]) == "(A1*B1+A2*B11)*C1"
    assert spell(Multiply(2.0), [(1, 1), (1, 1)]) == "A1*B1*2"
    assert spell(Loss(), [(2, 1)]) == "SUMSQ(A1:A11)/2"
    assert spell(ColumnSum(scaled=True), [(2, 1), (1, 1)]) == "SUM(A1:A11)*B1"
    long = spell(MatMul(), [(1, MAX_TERMS + 1), (MAX_TERMS + 1, 1)])
    assert long == "MMULT(A1:A11,B1:B101)"
    assert spell(Subtract(), [(1, 1), (1, 1)]) == "A1-B1"
    assert spell(ELEMENTWISE, [(1, 1), (1, 1), (1, 1)]) == "B1*A1+C1"


def test_the_arithmetic_spells_the_formula_with_values():
    parts = text(MatMul(bias=True).spell(0, 0, [(1, 2), (2, 1), (1, 1)]))
    values = [p for p in parts if isinstance(p, Value)]
    assert [v.cell for v in values] == [Cell(0, 0, 0), Cell(1, 0, 0), Cell(0, 0, 1), Cell(1, 1, 0), Cell(2, 0, 0)]
    glue = [p for p in parts if isinstance(p, str)]
    assert glue == ["×", " + ", "×", " + "]
    long = text(MatMul().spell(0, 0, [(1, 12), (12, 1)]))
    assert any("…" in p for p in long if isinstance(p, str)) and len([p for p in long if isinstance(p, Value)]) == 6
    sig = text(Activate(ACTIVATIONS["sigmoid"]).spell(0, 0, [(1, 1)]))
    assert sig[0] == "1/(1 + EXP(" and sig[1].term != Cell(0, 0, 0) and sig[2] == "))"  # the value of -x
    sq = text(Loss().spell(0, 0, [(2, 1)]))
    assert sq[0] == "(" and all(v.wrap for v in sq if isinstance(v, Value)) and sq[-1] == "²)/2"


def test_numpy_of_an_elementwise_op_is_its_formula_over_arrays():
    v, g = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0]])
    out = np.empty((1, 2))
    ELEMENTWISE.compute(v, np.array([[0.9]]), g, out=out)
    np.testing.assert_array_equal(out, 0.9 * v + g)


@pytest.mark.parametrize("values,kind,decimals", [
    ([1, 0, 0.5, 0.637], "general", 0), ([0.63696, 0.01653], "fixed", 4), ([0.63696, 0.000451], "fixed", 6),
    ([0.00123], "fixed", 5), ([4.5e-7, 0.3], "sci", 2), ([0.0, 0.1234567], "fixed", 3), ([0.0], "general", 0),
    ([0.6, 2.5e-7], "sci", 2),
])
def test_numbers_show_three_significant_digits_at_least(values, kind, decimals):
    s = shown(values, 3)
    assert (s.kind, s.decimals) == (kind, decimals)
    for v in values:
        t = s.text(v)
        assert t == "0" if v == 0 else float(t) == pytest.approx(v, rel=0.005)


def test_texts_round_as_spreadsheets_do():
    assert Shown("fixed", 2).text(2.675) == "2.68"  # half away from zero, on the decimal value
    assert Shown("fixed", 3).text(-0.0004) == "0.000" and Shown("fixed", 3).text(-0.0006) == "-0.001"
    assert Shown("sci").text(4.515e-7) == "4.52E-7" and Shown("sci").text(-1.2e-9) == "-1.20E-9"
    assert Shown("sci").text(9.996e-7) == "1.00E-6" and Shown("sci").line_text(-2.9e-6, wrap=True) == "(−2.90·10⁻⁶)"
    assert Shown("general").text(1.0) == "1" and Shown("general").text(0.05) == "0.05"
    assert Shown("fixed", 3).num_format == "0.000;-0.000;0" and Shown("sci").num_format == "0.00E+0;-0.00E+0;0"
    assert Shown("fixed", 3).finer(2) == Shown("fixed", 5) and Shown("general", 0).finer(3) == Shown("general", 0)
    assert Shown("sci").tolerance(4.52e-7) == pytest.approx(0.005e-7)
    assert number(2.0) == "2" and number(1e-8) == "1E-08" and number(0.9) == "0.9"
