"""Whatever lands in a focus cell (data validation asks for a whole number from 1, but a
paste, a cleared cell or another program can put anything there), the sheet stays whole and
every part of it reads the focus the same way (issue 25.7, issue 20):

* a number is rounded to a whole one and clamped to each matrix (2.5 → 3, 0 → 1, −4 → 1):
  the yellow cell, the arithmetic line and the gradient check all take that cell, so the
  check never reports a false failure;
* no number (text, a cleared cell, an error) selects nothing: no cell is lit, the lines say
  what to type, the gradient checks stay empty; no cell shows an error.
"""
import math

import openpyxl
import pytest

from book import focus_cells, step_sheets
from stepviz.text import Messages
from stepviz.workbook.layout import FOCUS
from conftest import set_lr
from test_achieved import Book
from test_libreoffice import ERRORS, yellow_and_orange

NO_NUMBER = {"text": "two", "cleared": None, "error": "=NA()"}
ROUNDED = {"decimal": (2.5, 3), "small": (1.4, 1), "zero": (0, 1), "negative": (-4, 1), "huge": (1e9, 99)}


def with_focus_row(src, dst, value):
    wb = openpyxl.load_workbook(src)
    for ws in wb.worksheets:
        cells = focus_cells(ws)
        if cells:
            ws[cells[0]] = value
    wb.save(dst)
    return dst


@pytest.fixture(scope="module")
def garbage(preset_books, tmp_path_factory):
    """{kind: (file, LibreOffice's recalculated xlsx, its HTML as shown)}."""
    from libreoffice import convert, read_html

    d = tmp_path_factory.mktemp("garbage")
    seed = preset_books["seed-mlp"][1]
    kinds = {**NO_NUMBER, **{k: v for k, (v, _) in ROUNDED.items()}, "two": 2}  # two: the control
    files = [with_focus_row(seed, d / f"{k}.xlsx", v) for k, v in kinds.items()]
    files.append(set_lr(seed, d / "lr-text.xlsx", "abc"))  # a paste past the validation
    xlsx = convert(files, d, "xlsx")
    html = convert(files, d, "html")
    return {f.stem: (f, x, read_html(h)) for f, x, h in zip(files, xlsx, html)}


def no_error_shown(preset_books, shown, kind):
    for s in step_sheets(preset_books["seed-mlp"][1]):
        for rc, seen in shown[s.title].items():
            if kind == "error" and rc[0] == FOCUS:
                continue  # the focus cell itself holds the pasted error
            assert not seen.text.startswith(ERRORS), (kind, s.title, rc, seen.text)


@pytest.mark.parametrize("kind", list(NO_NUMBER))
def test_a_focus_that_is_no_number_selects_nothing_and_shows_no_error(preset_books, garbage, kind):
    message = Messages("en")("sheet.focus_garbage")
    original, recalculated, shown = garbage[kind]
    no_error_shown(preset_books, shown, kind)
    messages = 0
    for s in step_sheets(preset_books["seed-mlp"][1]):
        if s.step <= 2:
            continue
        cells = shown[s.title]
        yellow, _ = yellow_and_orange(cells)
        for b in (b for b in s.blocks if not b.linked):
            line = cells[(s.line_of(b)[0] - 1, s.line_of(b)[1] - 1)].text
            lit = {(r - 1, c - 1) for r, c in b.cells()} & yellow
            if b.rows == 1:  # the focus row selects nothing here: the line stays
                assert line.startswith(f"{b.name}[1,1] = ") and len(lit) == 1, (kind, s.title, line)
            else:
                assert line == message and not lit, (kind, s.title, b.name, line)
                messages += 1
    assert messages == 14  # every result of more than one row (not loss, bh, bout and their updates)
    checks = Book(original, recalculated).checks()
    assert len(checks) == 4  # wout, wh, bh (one row: checked), bout
    quiet = [c for c in checks if c["name"] in ("wout", "wh")]
    assert quiet and all(c[k] in (None, "") for c in quiet for k in ("backprop", "estimate", "relative"))
    assert all(c["relative"] < 1e-6 for c in checks if c["name"] in ("bh", "bout"))


@pytest.mark.parametrize("kind", list(ROUNDED))
def test_a_focus_number_is_rounded_and_clamped_the_same_way_everywhere(preset_books, garbage, kind):
    """The yellow cell, its line and its gradient check take the same cell: never a false failure."""
    typed, row = ROUNDED[kind]
    original, recalculated, shown = garbage[kind]
    no_error_shown(preset_books, shown, kind)
    lit_at = {}
    for s in step_sheets(preset_books["seed-mlp"][1]):
        if s.step <= 2:
            continue
        cells = shown[s.title]
        yellow, _ = yellow_and_orange(cells)
        for b in (b for b in s.blocks if not b.linked):
            i = min(row, b.rows)
            lit = {(r - 1, c - 1) for r, c in b.cells()} & yellow
            assert lit == {(b.top_left[0] + i - 2, b.top_left[1] - 1)}, (kind, s.title, b.name)
            line = cells[(s.line_of(b)[0] - 1, s.line_of(b)[1] - 1)].text
            assert line.startswith(f"{b.name}[{i},1] = "), (kind, s.title, line)
            lit_at[(s.title, b.name)] = cells[next(iter(lit))].value
    checks = Book(original, recalculated).checks()
    assert len(checks) == 4
    lr = 0.1
    for c in checks:
        assert c["relative"] < 1e-6, (kind, c)
        lit = lit_at[(c["sheet"], f"update_{c['name']}")]
        assert math.isclose(c["backprop"] * lr, lit, rel_tol=1e-9), (kind, c, lit)


def test_a_whole_number_typed_over_garbage_works_again(garbage):
    lines = [s.text for s in garbage["two"][2]["1.03 hidden input"].values() if s.text.startswith("hidden_layer_input[")]
    assert lines and lines[0].startswith("hidden_layer_input[2,1] = ")


def test_text_pasted_into_lr_is_named_beside_it(garbage):
    """Validation stops typing text into lr, not a paste: then the hint beside lr says why the
    updates show #VALUE! and what to type, and the gradient checks stay empty."""
    original, recalculated, shown = garbage["lr-text"]
    texts = [s.text for s in shown["Overview"].values()]
    assert "⚠ lr holds no number: every formula that reads it shows #VALUE! until you type one." in texts
    assert not any(t.startswith("← edit it") for t in texts)
    sheet = shown["1.11 update weights"]
    assert "#VALUE!" in {s.text for s in sheet.values()}  # what the warning names
    relative = [(r, c) for (r, c), s in sheet.items() if s.text == "relative difference"]
    # each check's number stands right of its label, in the label's row: shown blank
    right = [[s.text for (r2, c2), s in sheet.items() if r2 == r and c2 > c] for r, c in relative]
    assert len(relative) == 2 and all(cells and all(t == "" for t in cells) for cells in right), right
