"""The Map's small multiples (how the boundary formed) and the Overview's accuracy follow the
Training sheet (issue 24): a small multiple of an epoch whose row is live is one forward-pass
formula per cell of the parameters on that row, cached with the engine's value; the accuracy is
a formula of the Overview's targets and (live) outputs. LibreOffice recomputes an lr-edited copy
to the maps and accuracy that a training with that lr gives."""
import numpy as np
import openpyxl
import pytest

import stepviz
from stepviz.maps import parameters_after, snapshots
from stepviz.text import Messages
from stepviz.workbook.training_sheet import FIRST
from test_map import MOONS, expected, maps_of, sections, with_units
from test_training import lr_cell, set_cell, sheet_rows

XOR = dict(loss="bce", epochs=300)  # a sigmoid output with binary cross-entropy: a classifier
XOR_DATA = {"X": [[0, 0], [0, 1], [1, 0], [1, 1]]}
TWO = {"data": dict(XOR_DATA, y=[[0, 1], [1, 1], [1, 0], [0, 0]]), "network": {"hidden": [3]},
       "training": {"epochs": 40, "lr": 1.0}}  # two 0/1 targets per sample, not one class: each output's side
MOONS_SOFTMAX = {"data": {"csv": str(MOONS), "target": ["class"], "classes": True},
                 "network": {"hidden": [4], "output": "softmax", "loss": "ce"},
                 "training": {"epochs": 30, "lr": 0.05}}


def course(run, path):
    return with_units(run, sections(run, maps_of(path))[2])


def accuracy(path):
    """(the right/wrong column, the accuracy) read from the Overview (values as cached)."""
    rows = sheet_rows(path, "Overview")
    r = next(k for k, row in enumerate(rows) if row and row[0] == "sample")
    col = rows[r].index("right: 1, wrong: 0")
    end = next(k for k in range(r + 1, len(rows)) if rows[k][0] == "accuracy: the share of samples right")
    return np.array([rows[k][col] for k in range(r + 1, end)], float), rows[end][col]


def right(run):
    """Per sample: one-hot targets, the largest output is the target's class; else every output
    on its target's side of 0.5."""
    y, out = run.config.y, run.output
    if y.shape[1] > 1 and (y.sum(axis=1) == 1).all():
        return out.argmax(1) == y.argmax(1)
    return np.array([all((o >= 0.5) == (t == 1) for o, t in zip(orow, trow)) for orow, trow in zip(out, y)])


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("course")
    runs = {"xor": stepviz.train("xor", **XOR), "some": stepviz.train("xor", live_epochs=50, **XOR),
            "softmax": stepviz.train(MOONS_SOFTMAX), "two": stepviz.train(TWO)}
    return {name: (run, stepviz.write_workbook(run, d / f"{name}.xlsx")) for name, run in runs.items()}


@pytest.mark.parametrize("name", ["xor", "some", "softmax"])
def test_the_small_multiples_read_the_training_rows_and_cache_the_engines_values(books, name):
    run, path = books[name]
    maps = course(run, path)
    live = run.config.live_epochs or run.config.epochs
    assert sorted({m["epoch"] for m in maps}) == snapshots(run)
    for m in maps:
        np.testing.assert_allclose(m["values"], expected(run, parameters_after(run, m["epoch"]), m), rtol=0, atol=1e-12)
        cells = [f for row in m["formulas"] for f in row]
        if m["epoch"] <= live:  # the row the next epoch starts from: the parameters after this one
            row = FIRST + m["epoch"] + 1
            assert all(isinstance(f, str) and f.startswith("=") and f"Training!$C${row}" in f for f in cells)
            assert not any(f"${row + 1}" in f or f"${row - 1}" in f for f in cells)
        else:
            assert all(isinstance(f, float) for f in cells)
    headings = [c.value for row in openpyxl.load_workbook(path)["Map"].iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("How the boundary formed")]
    assert headings == [Messages("en")("map.course_some", last=10) if name == "some"
                        else Messages("en")("map.course_live")]


@pytest.mark.parametrize("name", ["xor", "softmax", "two"])
def test_the_accuracy_is_a_formula_of_the_overviews_table_cached_with_the_engines(books, name):
    run, path = books[name]
    column, share = accuracy(path)
    np.testing.assert_array_equal(column, right(run))
    assert share == pytest.approx(right(run).mean(), rel=1e-12)
    ws = openpyxl.load_workbook(path)["Overview"]
    rights = [c for row in ws.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith(("=IF(MATCH(", "=IF(IF(", "=IF(AND(", "=AVERAGE("))]
    assert len(rights) == len(run.config.X) + 1
    k = run.config.y.shape[1]
    for c in rights[:-1]:  # each reads its row's outputs, links to the Training sheet's last epoch
        outputs = [ws.cell(c.row, 2 + k + j).value for j in range(k)]
        assert all(f.startswith("=Training!") for f in outputs) and f"{c.offset(0, -1).coordinate}" in c.value


def test_no_accuracy_for_targets_that_are_not_classes(tmp_path):
    doc = {"data": dict(XOR_DATA, y=[0.1, 0.9, 0.9, 0.2]), "network": {"hidden": [3]}, "training": {"epochs": 20}}
    path = stepviz.write_workbook(stepviz.train(doc), tmp_path / "xor.xlsx")
    assert not any("accuracy" in str(v) for r in sheet_rows(path, "Overview") for v in r)


def test_libreoffice_redraws_the_small_multiples_and_recounts_the_accuracy_after_an_lr_edit(books, tmp_path):
    from libreoffice import recalculate

    edits = {"xor": 0.3, "softmax": 0.5}  # each changes the accuracy (xor: 100 % to 50 %)
    edited = [set_cell(books[n][1], tmp_path / f"{n}.xlsx", "xl/worksheets/sheet1.xml", lr_cell(books[n][1]), lr)
              for n, lr in edits.items()]
    *recalculated, two = recalculate(edited + [books["two"][1]], tmp_path)
    again = dict(zip(edits, recalculated))
    column, share = accuracy(two)  # AND of each output's side, as written
    np.testing.assert_array_equal(column, right(books["two"][0]))
    assert share == pytest.approx(right(books["two"][0]).mean(), rel=1e-12) and 0 < share < 1
    for name, lr in edits.items():
        run = books[name][0]
        want = stepviz.train(MOONS_SOFTMAX if name == "softmax" else "xor", lr=lr, **({} if name == "softmax" else XOR))
        fresh = stepviz.write_workbook(want, tmp_path / f"fresh-{name}.xlsx")
        maps, before = course(run, again[name]), course(run, books[name][1])
        for m, old, new in zip(maps, before, course(want, fresh)):
            np.testing.assert_allclose(m["values"], new["values"], rtol=1e-9, atol=1e-12, err_msg=f"{name} {m['epoch']}")
            np.testing.assert_allclose(m["values"], expected(want, parameters_after(want, m["epoch"]), m), rtol=1e-9,
                                       atol=1e-12)
            if m["epoch"] > 1:
                assert np.abs(m["values"] - old["values"]).max() > 1e-3  # really redrawn
        column, share = accuracy(again[name])
        np.testing.assert_array_equal(column, accuracy(fresh)[0])
        assert share == pytest.approx(accuracy(fresh)[1], rel=1e-9)
        assert share != pytest.approx(accuracy(books[name][1])[1])  # really recounted


IRONCALC = {  # mini-batches; inputs held at their mean; standardised inputs (read on the Inputs sheet)
    "batches": lambda: stepviz.train(__import__("test_map").SOFTMAX),
    "held": lambda: stepviz.train("seed-mlp", map=["x2", "x4"], epochs=100),
    "standardised": lambda: stepviz.train("seed-mlp", map=["x2", "x4"], epochs=100, standardize=True),
}


@pytest.mark.parametrize("name", sorted(IRONCALC))
def test_ironcalc_recomputes_the_small_multiples_from_the_rows_that_start_an_epoch(name, tmp_path):
    """The parameters after epoch e start update e·batches + 1: IronCalc recomputes a zeroed
    copy's maps to the engine's (LibreOffice 7.4 miscomputes a long mini-batch Training sheet,
    see docs/internals.md)."""
    import ironcalc

    from test_excel import zeroed

    run = IRONCALC[name]()
    path = stepviz.write_workbook(run, tmp_path / "book.xlsx")
    model = ironcalc.load_from_xlsx(str(zeroed(path, tmp_path / "zeroed.xlsx")), "en", "UTC")
    model.evaluate()
    sheet = [p["name"] for p in model.get_worksheets_properties()].index("Map")
    maps = course(run, path)
    assert len({m["epoch"] for m in maps}) >= 3
    for m in maps:
        (r0, c0), formulas = m["at"], m["formulas"]
        assert f"Training!$C${FIRST + m['epoch'] * run.config.batches + 1}" in formulas[0][0]
        got = np.array([[model.get_cell_value(sheet, r0 + 2 + i, c0 + 1 + j) for j in range(25)] for i in range(25)])
        np.testing.assert_allclose(got, expected(run, parameters_after(run, m["epoch"]), m), rtol=1e-9, atol=1e-12)


def test_a_small_multiple_too_long_for_excel_stays_values_and_says_so(tmp_path):
    """iris's softmax over 8 hidden units spells each hidden unit once per EXP: about 16,000
    characters, beyond Excel's 8,192 (each map of the course holds values, the heading says so)."""
    run = stepviz.train("iris", map=["petal_length", "petal_width"], epochs=20)
    path = stepviz.write_workbook(run, tmp_path / "iris.xlsx")
    maps = course(run, path)
    assert maps and all(isinstance(f, float) for m in maps for row in m["formulas"] for f in row)
    for m in maps:
        np.testing.assert_allclose(m["values"], expected(run, parameters_after(run, m["epoch"]), m), rtol=0, atol=1e-12)
    texts = [c.value for row in openpyxl.load_workbook(path)["Map"].iter_rows() for c in row if isinstance(c.value, str)]
    assert Messages("en")("map.course") in texts
