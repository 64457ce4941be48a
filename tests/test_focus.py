"""Exploring in the sheet: the focus moves live (LibreOffice recolours the cells and rewrites
the arithmetic), captions link where values come from and go, and exercise workbooks check
the learner's answers."""

import openpyxl
import pytest

import stepviz
from conftest import LIVE
from book import step_sheets
from test_libreoffice import formula_values, lines_check, yellow_and_orange


@pytest.mark.parametrize("name,focus", [("focus23", (2, 3)), ("focus99", (9, 9))])
def test_the_yellow_cell_follows_the_typed_focus_clamped_to_each_matrix(lo, name, focus):
    _, recalculated, shown = lo[name]
    moved = 0
    for s in step_sheets(recalculated):
        if s.step <= 2:
            continue
        yellow, _ = yellow_and_orange(shown[s.title])
        for b in (b for b in s.blocks if not b.linked):
            i, j = min(focus[0], b.rows) - 1, min(focus[1], b.cols) - 1
            cell = (b.top_left[0] + i - 1, b.top_left[1] + j - 1)  # 0-based, as in the HTML
            assert cell in yellow, (name, s.title, b.name)
            moved += (i, j) != (0, 0)
    assert moved > 10


@pytest.mark.parametrize("name", ["focus23", "focus99"])
def test_the_arithmetic_line_follows_the_focus(lo, name):
    assert lines_check(name, lo) == 19
    before, after = lo["seed-mlp"][2]["1.03 hidden input"], lo[name][2]["1.03 hidden input"]
    line = next(s.text for s in after.values() if s.text.startswith("hidden_layer_input["))
    assert line.startswith("hidden_layer_input[2,3] = " if name == "focus23" else "hidden_layer_input[3,3] = ")
    assert line not in {s.text for s in before.values()}


def test_orange_cells_in_words_for_the_moved_focus(lo):
    """hidden_layer_input[2,3] reads row 2 of X, column 3 of wh and bh's third cell."""
    _, recalculated, shown = lo["focus23"]
    s = {x.title: x for x in step_sheets(recalculated)}["1.03 hidden input"]
    _, orange = yellow_and_orange(shown[s.title])
    orange = {(r + 1, c + 1) for r, c in orange}
    x, wh, bh = (s.block(n, linked=True) for n in ("X", "wh", "bh"))
    want = {(x.top_left[0] + 1, x.top_left[1] + k) for k in range(4)}
    want |= {(wh.top_left[0] + k, wh.top_left[1] + 2) for k in range(4)} | {(bh.top_left[0], bh.top_left[1] + 2)}
    assert orange == want


def test_captions_link_where_values_were_made_and_where_they_go(tmp_path):
    run = stepviz.train(epochs=3, detail=[1, 2])
    path = stepviz.write_workbook(run, tmp_path / "p.xlsx")
    sheets = {s.title: s for s in step_sheets(path)}
    short = {t[:4]: t for t in sheets}
    backward = forward = 0
    for s in sheets.values():
        for b in s.blocks:
            link = s.links.get(b.caption)
            if b.linked and b.name != "lr":  # an operand: its caption leads to its maker
                sheet, cell = link.rsplit("!", 1)
                maker = sheets[sheet.strip("'")]
                origin = next(x for x in maker.blocks if x.caption == openpyxl.utils.cell.coordinate_to_tuple(cell))
                assert origin.name == b.name and not origin.linked, (s.title, b.name, link)
                backward += 1
            elif b.linked:
                assert link.startswith("Overview!")
            else:  # a result: "→ 1.05" links to the sheets that read it next
                r, c = b.caption
                captions = {x.caption for x in s.blocks}
                end = min([cc for rr, cc in captions if rr == r and cc > c], default=c + 30)
                targets = [s.links[(r, cc)] for cc in range(c + 1, end) if (r, cc) in s.links]
                texts = [s.values[(r, cc)] for cc in range(c + 1, end) if (r, cc) in s.links]
                for target, text in zip(targets, texts):
                    reader = sheets[target.rsplit("!", 1)[0].strip("'")]
                    assert text == "→ " + reader.title[:4] and short[reader.title[:4]] == reader.title
                    there = next(x for x in reader.blocks if x.name == b.name and x.caption ==
                                 openpyxl.utils.cell.coordinate_to_tuple(target.rsplit("!", 1)[1]))
                    if there.linked:  # and that copy's caption leads back here
                        assert s.links.get(b.caption) is None
                        back = reader.links[there.caption].rsplit("!", 1)[0].strip("'")
                        assert back == s.title or sheets[back].block(b.name).name == b.name
                    forward += 1
    assert backward > 30 and forward > 30
    # the updated weights lead to the next epoch's start values
    s = sheets["1.11 update weights"]
    b = s.block("wout", updated=True)
    r, c = b.caption
    assert any(v.startswith("'2.02 initialise'!") for (rr, cc), v in s.links.items() if rr == r and cc > c)


# -- exercise mode (the checks, error carried forward, assessment: tests/test_exercise.py) ----

@pytest.fixture(scope="module")
def exercise(tmp_path_factory):
    d = tmp_path_factory.mktemp("exercise")
    run = stepviz.train("seed-mlp", detail=[1, 2], epochs=5, exercise=True)
    return run, stepviz.write_workbook(run, d / "exercise.xlsx")


def test_the_ordinary_workbook_is_unchanged_by_the_exercise_option(tmp_path, seed_book):
    run = stepviz.train("seed-mlp", exercise=False, live_epochs=LIVE)
    assert stepviz.write_workbook(run, tmp_path / "o.xlsx").read_bytes() == seed_book.read_bytes()


def test_doctor_and_show_know_an_exercise_workbook(exercise, tmp_path):
    import subprocess
    import sys

    run, book, *_ = exercise
    cli = lambda *a: subprocess.run([sys.executable, "-m", "stepviz", *map(str, a)], capture_output=True,  # noqa: E731
                                    text=True, cwd=tmp_path)
    r = cli("doctor", book)
    assert r.returncode == 0 and "a valid stepviz workbook" in r.stdout, r.stdout  # verdicts are empty, not lost
    r = cli("show", book, "--step", "3")
    assert r.returncode == 2 and "an exercise workbook has no Trace sheet" in r.stderr


def test_step_sheets_carry_no_static_highlight(seed_book):
    """Yellow and orange are conditional formats only: nothing stays painted at an old focus."""
    wb = openpyxl.load_workbook(seed_book)
    for ws in wb.worksheets[1:13]:
        for row in ws.iter_rows():
            for c in row:
                fill = c.fill.fgColor.rgb[-6:] if c.fill and c.fill.fill_type == "solid" else None
                assert fill not in ("FFFF00", "FFC000"), (ws.title, c.coordinate)
        computed = ws.title[2:4] not in ("01", "02")  # steps 1-2 compute nothing: no highlight
        highlights = [r for cf in ws.conditional_formatting for r in cf.rules if r.type == "expression"]
        assert bool(highlights) == computed, ws.title  # (the weights' data bars are not highlights)
