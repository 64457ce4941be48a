"""Where the eye is (issue 25): on the default and the Adam workbook, the gradient checks and
the loss after the update sit on the first screen of their sheet (a 1366-pixel-wide window at
100 %), no text runs past the sheet's printed content, and the weights' data bars sit in cells
of their own, never over a number or a highlight.

Pixels are counted from the column widths the file stores, as Excel draws them at Calibri 11
(a character 7 pixels, a column 5 more), independently of how stepviz chose them.
"""
import math
import re

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, range_boundaries

import stepviz
from book import STEP_SHEET

SCREEN = 1300  # the first screen: a 1366-pixel-wide window less its scroll bar and borders
ROW_HEADERS = 30  # the row numbers' column left of column A
CHAR, PAD = 7, 5


def text_px(text: str) -> int:
    """A generous width of a text: every character as wide as a digit, CJK ones twice."""
    import unicodedata
    return sum(2 * CHAR if unicodedata.east_asian_width(ch) in "WF" else CHAR for ch in text)


@pytest.fixture(scope="module", params=["seed-mlp", "seed-mlp-adam"])
def book(request, tmp_path_factory):
    path = stepviz.write_workbook(stepviz.train(request.param), tmp_path_factory.mktemp("screen") / "b.xlsx")
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def edges(ws):
    """edges[c]: the pixels left of column c (1-based), hidden columns 0 wide."""
    widths = {}
    for d in ws.column_dimensions.values():
        if d.min:
            for c in range(d.min, d.max + 1):
                widths[c] = 0 if d.hidden else int((d.width - 0.7109375) * CHAR + 0.5) + PAD
    out = [0, 0]
    for c in range(1, 400):
        out.append(out[-1] + widths.get(c, 64))
    return out


def printed_columns(ws) -> int:
    return column_index_from_string(re.findall(r"\$([A-Z]+)\$\d+", ws.print_area)[-1])


def step_sheets(wb):
    return [ws for ws in wb.worksheets if STEP_SHEET.match(ws.title)]


LABELS = re.compile(r"^(.+ \(backprop\)|loss\(\w+ [+−] h\)|finite differences|relative difference)$")
AFTER = ("loss before the update", "loss after the update", "change")


def test_gradient_checks_and_the_loss_after_the_update_are_on_the_first_screen(book):
    """Each number of a check (beside its label) and of the loss before and after the update
    (under its label) ends left of the first screen's right edge."""
    wb, values = book
    seen, epochs = 0, {ws.title.split(".")[0] for ws in step_sheets(wb)}
    for ws in step_sheets(wb):
        edge = edges(ws)
        for row in values[ws.title].iter_rows():
            for c in row:
                if not isinstance(c.value, str):
                    continue
                if LABELS.match(c.value):  # its number: the first value right of it
                    number = next(x for x in row[c.column:] if x.value is not None)
                elif c.value in AFTER:
                    number = values[ws.title].cell(c.row + 1, c.column)
                else:
                    continue
                assert isinstance(number.value, float), (ws.title, number.coordinate)
                seen += 1
                assert ROW_HEADERS + edge[number.column + 1] <= SCREEN, (ws.title, number.coordinate)
    assert seen == len(epochs) * (5 * 4 + 3)  # 4 parameters checked, 3 numbers of the loss


def test_no_text_runs_past_the_printed_content(book):
    """Every text (a line's too) ends inside the printed columns; a long one is wrapped in a
    merged cell of the content's width, its row tall enough for its lines."""
    wb, values = book
    for ws in step_sheets(wb):
        edge, right = edges(ws), printed_columns(ws)
        content = edge[right + 1]
        assert content <= 1400, (ws.title, content)  # one landscape page at 8 points or more
        merged = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges}
        hidden = [c for c in range(1, right + 1) if edge[c + 1] == edge[c]]
        assert not hidden, (ws.title, hidden)  # the lines' hidden helpers are not printed
        for row in values[ws.title].iter_rows():
            for c in row:
                if not isinstance(c.value, str) or not c.value.strip() or edge[c.column + 1] == edge[c.column]:
                    continue  # (a hidden helper of a line)
                m = merged.get((c.row, c.column))
                if m is None:
                    assert edge[c.column] + text_px(c.value) <= content, (ws.title, c.coordinate, c.value[:40])
                    continue
                assert m.max_col <= right and ws.cell(c.row, c.column).alignment.wrap_text in (True, None)
                width = edge[m.max_col + 1] - edge[m.min_col]
                if ws.cell(c.row, c.column).alignment.wrap_text:
                    lines = math.ceil(text_px(c.value) / width)
                    assert ws.row_dimensions[c.row].height >= 15 * lines, (ws.title, c.coordinate, lines)
                else:  # a label merged to sit beside its number
                    assert text_px(c.value) * 0.8 <= width, (ws.title, c.coordinate)


def test_data_bars_sit_beside_the_weights_never_over_a_number_or_a_highlight(book):
    wb, values = book
    sheets = 0
    for ws in step_sheets(wb):
        bars, highlights = [], set()
        for rng in ws.conditional_formatting:
            cells = set()
            for part in str(rng.sqref).split():
                c0, r0, c1, r1 = range_boundaries(part)
                cells |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
            for rule in rng.rules:
                if rule.type == "dataBar":
                    bars.append(cells)
                else:  # yellow, orange, gold
                    highlights |= cells
        for cells in bars:
            sheets += 1
            assert not cells & highlights, ws.title
            for r, c in cells:
                cell = ws.cell(r, c)
                assert cell.number_format == ";;;", (ws.title, cell.coordinate)  # the bar, no number
                # a link to the weight it draws, on the same row, left of it
                m = re.fullmatch(r"=([A-Z]+)(\d+)", str(cell.value))
                assert m and int(m.group(2)) == r and column_index_from_string(m.group(1)) < c, cell.value
                assert isinstance(values[ws.title].cell(r, c).value, float)
    assert sheets >= 5  # 1.02 (4 blocks), 1.11 (wout, wh), 1.12 (bh, bout)


def test_step_sheets_print_landscape_a4_one_page_wide_with_their_title(book):
    wb, _ = book
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == ("portrait" if ws.title == "Trace" else "landscape")
        assert ws.page_setup.paperSize == 9 and ws.print_area
        assert ws.page_setup.fitToWidth in (1, None) and ws.sheet_properties.pageSetUpPr.fitToPage
        if STEP_SHEET.match(ws.title):
            assert ws.print_title_rows == "$1:$1" and ws.page_setup.fitToHeight == 0
            assert ws.oddHeader.left.text == "&A"
