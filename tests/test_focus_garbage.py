"""A focus cell holding anything but a whole number from 1 (text, a decimal, a cleared cell,
an error: data validation does not stop a paste or another program) puts no error into the
arithmetic lines and does not move the yellow cell silently: the lines say what to type,
and no cell that the focus selects is lit (issue 20, minor)."""
import openpyxl
import pytest

from book import step_sheets
from stepviz.text import Messages
from stepviz.workbook.layout import FOCUS
from test_libreoffice import ERRORS, yellow_and_orange

GARBAGE = {"text": "two", "decimal": 2.5, "cleared": None, "error": "=NA()", "zero": 0}


def with_focus_row(src, dst, value):
    wb = openpyxl.load_workbook(src)
    for ws in wb.worksheets:
        for name, defined in ws.defined_names.items():
            if name == "focus_row":
                ws[defined.attr_text.split("!")[1].replace("$", "")] = value
    wb.save(dst)
    return dst


@pytest.fixture(scope="module")
def garbage(preset_books, tmp_path_factory):
    from libreoffice import convert, read_html

    d = tmp_path_factory.mktemp("garbage")
    seed = preset_books["seed-mlp"][1]
    files = [with_focus_row(seed, d / f"{k}.xlsx", v) for k, v in GARBAGE.items()]
    files.append(with_focus_row(seed, d / "two.xlsx", 2))  # the control: a whole number works
    html = convert(files, d, "html")
    return {f.stem: read_html(h) for f, h in zip(files, html)}


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_a_focus_that_is_not_a_whole_number_shows_a_message_not_an_error(preset_books, garbage, kind):
    message = Messages("en")("sheet.focus_garbage")
    shown = garbage[kind]
    messages = 0
    for s in step_sheets(preset_books["seed-mlp"][1]):
        cells = shown[s.title]
        for rc, seen in cells.items():
            if kind == "error" and rc[0] == FOCUS:
                continue  # the focus cell itself holds the pasted error
            assert not seen.text.startswith(ERRORS), (kind, s.title, rc, seen.text)
        if s.step <= 2:
            continue
        yellow, _ = yellow_and_orange(cells)
        for b in (b for b in s.blocks if not b.linked):
            line = cells[(s.line_of(b)[0] - 1, s.line_of(b)[1] - 1)].text
            lit = {(r - 1, c - 1) for r, c in b.cells()} & yellow
            if b.rows == b.cols == 1:  # the focus selects nothing here: the line stays
                assert line.startswith(f"{b.name}[1,1] = ") and len(lit) == 1, (kind, s.title, line)
            else:
                assert line == message and not lit, (kind, s.title, b.name, line)
                messages += 1
    assert messages == 16  # every result of more than one cell (not loss, update_bout, bout)


def test_a_whole_number_typed_over_garbage_works_again(garbage):
    lines = [s.text for s in garbage["two"]["1.03 hidden input"].values() if s.text.startswith("hidden_layer_input[")]
    assert lines and lines[0].startswith("hidden_layer_input[2,1] = ")
