"""LibreOffice recalculates the workbooks and gets the engine's numbers and texts; what it
shows (number formats, conditional colours) is what a learner can read.

The poisoned copy has every cached formula value replaced by 12345: if LibreOffice did
not recalculate, it would hand back 12345 and the test would fail.
"""
import math
import re
import zipfile
from decimal import Decimal

import numpy as np
import openpyxl
import pytest

import stepviz
from book import GOLD, ORANGE, YELLOW, refs, step_sheets
from conftest import PRESETS

POISON = 12345.0
ERRORS = ("#NUM!", "#VALUE!", "#REF!", "#NAME?", "#DIV/0!", "Err:", "#N/A")


def poison(src, dst):
    """Copy an xlsx, replacing the cached value of every formula cell."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<c ([^>]*?) t="str">', rb'<c \1>', data)
                data = re.sub(rb"(</f><v>)[^<]*(</v>)", rb"\g<1>12345\g<2>", data)
            zout.writestr(item, data)
    return dst


def formula_values(path):
    """{(sheet, cell): cached value} of every formula cell."""
    wf, wv = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    out = {}
    for ws in wf.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if (isinstance(v, str) and v.startswith("=")) or type(v).__name__ == "ArrayFormula":
                    out[(ws.title, c.coordinate)] = wv[ws.title][c.coordinate].value
    return out


def same(got, want, where):
    if isinstance(want, str):
        assert got == want, where
    else:
        assert isinstance(got, (int, float)), f"{where}: {got!r}"
        assert got == pytest.approx(want, abs=1e-9, rel=1e-9), where


@pytest.mark.parametrize("name", PRESETS + ["chain", "poisoned", "momentum", "adam"])
def test_libreoffice_recalculates_to_the_cached_numbers_and_texts(lo, name):
    original, recalc, _ = lo[name]
    cached = formula_values(original if name != "poisoned" else lo["chain"][0])
    fresh = formula_values(recalc)
    assert cached.keys() == fresh.keys() and len(cached) > 50
    texts = 0
    from test_achieved import relative_cells

    noisy = relative_cells(original if name != "poisoned" else lo["chain"][0])  # gradient checks'
    for key, want in cached.items():
        if key in noisy:  # |g − est| / |g| of two equal numbers: rounding noise, below 1e-6 (test_achieved)
            assert isinstance(fresh[key], (int, float)) and abs(fresh[key] - want) < 1e-6, (name, key)
            continue
        same(fresh[key], want, f"{name} {key}")
        texts += isinstance(want, str)
    assert texts > 0  # the arithmetic lines were compared too


def test_poisoned_cache_was_really_recalculated(lo):
    original, recalc, _ = lo["poisoned"]
    poisoned = formula_values(original)
    assert set(poisoned.values()) == {POISON}  # the control really was poisoned
    assert POISON not in set(formula_values(recalc).values())


@pytest.mark.parametrize("name", PRESETS + ["chain", "edited", "last", "focus23", "focus99", "momentum", "adam",
                                  "adam-edited"])
def test_no_cell_shows_an_error(lo, name):
    for sheet, cells in lo[name][2].items():
        for rc, seen in cells.items():
            assert not seen.text.startswith(ERRORS), (name, sheet, rc, seen.text)


@pytest.mark.parametrize("name", ["seed-mlp", "last"])
def test_every_number_on_a_step_sheet_reads_within_5_percent(lo, name):
    """Two significant digits at least: 0.00045, not 0.000; zero reads 0. The one number shown
    as nothing is a data bar's, a link to the weight beside it (number format ``;;;``)."""
    checked = 0
    wb = openpyxl.load_workbook(lo[name][0])
    for sheet, cells in lo[name][2].items():
        if not re.match(r"^\d+\.\d\d ", sheet):
            continue
        for rc, seen in cells.items():
            if seen.value is None:
                continue
            if wb[sheet].cell(rc[0] + 1, rc[1] + 1).number_format == ";;;":
                assert seen.text == "", (sheet, rc, seen.text)
                continue
            shown = float(seen.text)
            if seen.value == 0:
                assert seen.text == "0", (sheet, rc, seen.text)
            else:
                assert shown == pytest.approx(seen.value, rel=0.05), (sheet, rc, seen.text, seen.value)
                checked += 1
    assert checked > 200


def yellow_and_orange(cells):
    """(the focus cells, the cells marked as sources): gold cells are both."""
    return ({rc for rc, s in cells.items() if s.bg in (YELLOW, GOLD)},
            {rc for rc, s in cells.items() if s.bg in (ORANGE, GOLD)})


@pytest.mark.parametrize("name", PRESETS + ["focus23", "focus99", "chain", "momentum", "adam"])
def test_orange_cells_are_exactly_what_the_yellow_formulas_read(lo, name):
    """As LibreOffice colours them: the conditional formats agree with the formulas."""
    _, recalculated, shown = lo[name]
    for s in step_sheets(recalculated):
        cells = shown[s.title]
        yellow, orange = yellow_and_orange(cells)
        yellow = {(r + 1, c + 1) for r, c in yellow}
        orange = {(r + 1, c + 1) for r, c in orange}
        if s.step <= 2:
            assert not yellow and not orange, s.title  # data and start values: inputs, not computed
            continue
        results = [b for b in s.blocks if not b.linked]
        # one yellow cell in each result
        for b in results:
            assert len(set(b.cells()) & yellow) == 1, (name, s.title, b.name)
        assert yellow <= {rc for b in results for rc in b.cells()}
        read = set().union(*(refs(s.formulas[rc]) for rc in yellow))
        assert orange == read, (name, s.title)  # every source marked, same-sheet results included
        assert orange, s.title


@pytest.mark.parametrize("name", ["seed-mlp", "focus23", "adam"])
def test_a_result_read_by_another_result_of_its_step_gets_both_marks(lo, name):
    """One colour rule without exceptions (issue 17.4): step 5's output reads a focus cell of
    output_layer_input, the loss reads E's; Adam's bias correction reads m_ and s_ made on
    its sheet. Such a cell is gold with an orange frame, and no other cell is."""
    _, recalculated, shown = lo[name]
    gold = 0
    for s in step_sheets(recalculated):
        cells = shown[s.title]
        yellow, orange = yellow_and_orange(cells)
        both = {(r + 1, c + 1) for r, c in yellow & orange}
        assert both == {(r + 1, c + 1) for r, c, in cells if cells[(r, c)].bg == GOLD}, s.title
        focus = {(r + 1, c + 1) for r, c in yellow}
        read = set().union(*(refs(s.formulas[rc]) for rc in focus))
        assert both == read & focus, (name, s.title)  # the focus cells that are read
        gold += len(both)
        if s.title.endswith("output layer"):
            out = s.block("output")
            focus = next(rc for rc in out.cells() if (rc[0] - 1, rc[1] - 1) in yellow)
            assert refs(s.formulas[focus]) <= both
    assert gold >= (10 if name == "adam" else 2)


def lines_check(name, lo, expect_values=None):
    """Every yellow cell's arithmetic line shows the cell's name and index, the value of
    every orange source (as shown, or with more digits that round to it), and ends with the
    yellow value as shown (or, where the learner's result from the numbers in the line
    differs, notes it: test_hand)."""
    from test_hand import NOTES, as_in_line, decimals, numbers_in, value

    _, recalculated, shown = lo[name]
    checked = 0
    for s in step_sheets(recalculated):
        if s.step <= 2:
            continue
        cells = shown[s.title]
        yellow, orange = yellow_and_orange(cells)
        for b in (b for b in s.blocks if not b.linked):
            (fr, fc), = {(r + 1, c + 1) for r, c in yellow} & set(b.cells())
            line = cells[(s.line_of(b)[0] - 1, s.line_of(b)[1] - 1)].text
            i, j = fr - b.top_left[0] + 1, fc - b.top_left[1] + 1
            assert line.startswith(f"{b.name}[{i},{j}] = "), (s.title, line)
            cell = as_in_line(cells[(fr - 1, fc - 1)].text)
            before, after = NOTES["en"]
            assert line.endswith(" = " + cell) or line.endswith(before + cell + after), (s.title, line)
            sources = refs(s.formulas[(fr, fc)]) - {(fr, fc)}
            shown_numbers = numbers_in(line.split("] = ", 1)[1])
            for r, c in sources:
                text = as_in_line(cells[(r - 1, c - 1)].text).lstrip("−")
                n = len(sources)
                if n <= 4 or (r, c) in (min(sources), max(sources)):  # long sums show ends only
                    sup = text.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))  # t as a power: 0.9²
                    digit = decimals(text)
                    # the line's number, with at least one more digit, is within 0.05 units of the
                    # cell's last digit of the true value, the cell within 0.5 (3.855·10⁻¹⁰ for 3.85E-10)
                    unit = Decimal(1).scaleb(digit)
                    rounds = any(abs(x - value(text)) <= Decimal("0.55") * unit for x in shown_numbers)
                    assert rounds or text in line or sup in line, (s.title, text, line)
            checked += 1
    return checked


def test_every_yellow_cell_has_its_arithmetic_on_the_sheet(lo):
    assert lines_check("seed-mlp", lo) == 19


def test_editing_lr_recomputes_the_chain_and_its_arithmetic(lo):
    edited, _, shown = lo["edited"]
    run = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"])
    again = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"], lr=0.5)
    sheets = {s.title: s for s in step_sheets(lo["edited"][1])}
    for epoch in (1, 2):  # epoch 2 starts from epoch 1's update: the change carries on
        for title, name, step in ((f"{epoch}.11 update weights", "wout", 11),
                                  (f"{epoch}.11 update weights", "update_wh", 11),
                                  (f"{epoch}.12 update biases", "bh", 12)):
            s = sheets[title]
            block = next(b for b in s.blocks if b.name == name and not b.linked)
            np.testing.assert_allclose(s.matrix(block), again.value(epoch, step, name), atol=1e-9)
            assert not np.allclose(s.matrix(block), run.value(epoch, step, name), atol=1e-6)
    loss2 = sheets["2.06 error"].block("loss")
    assert sheets["2.06 error"].matrix(loss2)[0][0] == pytest.approx(again.value(2, 6, "loss")[0, 0], abs=1e-12)
    # the lines show the new numbers
    assert lines_check("edited", lo) == 19 * 3
    before = lo["chain"][2]["1.11 update weights"]
    after = shown["1.11 update weights"]
    changed = [rc for rc, s in after.items() if s.text.startswith("update_wout[") and s.text != before[rc].text]
    assert changed
    # epoch 20 starts from the Training sheet's row 20: its start values follow the edit too
    s20 = sheets["20.02 initialise"]
    np.testing.assert_allclose(s20.matrix(s20.block("wh")), again.value(20, 2, "wh"), rtol=1e-9)
    assert not np.allclose(s20.matrix(s20.block("wh")), run.value(20, 2, "wh"), atol=1e-6)


def test_the_overview_shows_the_live_loss_after_an_lr_edit(lo):
    again = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"], lr=0.5)
    cells = lo["edited"][2]["Overview"]
    live = {s.text: cells[(r, c + 1)] for (r, c), s in cells.items() if s.text.startswith("loss in epoch ")}
    assert live["loss in epoch 2"].value == pytest.approx(again.value(2, 6, "loss")[0, 0], rel=1e-9)


def test_extreme_inputs_never_show_num_errors(tmp_path):
    import warnings

    from libreoffice import recalculate

    doc = {"data": {"X": [[1e3, -1e3], [1e6, -1e6], [-1e6, 1e6]], "y": [1, 0, 1]},
           "network": {"hidden": [2]}, "training": {"epochs": 2}, "init": {"wh": [[1, -1], [-1, 1]]}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = stepviz.train(doc)
    z = run.value(1, 3, "hidden_layer_input")
    assert np.abs(z).max() >= 1e6
    a = run.value(1, 4, "hiddenlayer_activations")
    assert np.all(np.isfinite(a)) and set(np.unique(a)) <= {0.0, 1.0}
    book = stepviz.write_workbook(run, tmp_path / "x.xlsx")
    formulas = {f for s in step_sheets(book) for f in s.formulas.values()}
    assert any(f.startswith("=EXP(") for f in formulas)  # the overflow-safe form, where needed
    assert any(f.startswith("=1/(1+EXP(-") for f in formulas)  # the tutorial's, elsewhere
    (out,) = recalculate([book], tmp_path / "lo")
    cached, fresh = formula_values(book), formula_values(out)
    for key, want in cached.items():
        got = fresh[key]
        if isinstance(want, str):
            assert got == want, key
            continue
        assert isinstance(got, (int, float)) and math.isfinite(got), f"{key}: {got!r}"  # no #NUM!
        assert got == pytest.approx(want, rel=1e-12, abs=1e-9), key  # LibreOffice keeps 15 digits
