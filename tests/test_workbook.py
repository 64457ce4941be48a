"""The workbook read back with openpyxl and pandas: values, formulas, layout, protection, bytes.
What a spreadsheet shows (colours, displayed text, recalculation) is tested through
LibreOffice in test_libreoffice.py and test_focus.py."""
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

import stepviz
from book import cell_name, focus_cells, refs, step_sheets
from conftest import LIVE, PRESETS

_sheets = {}


@pytest.fixture(params=PRESETS)
def preset(request, preset_books):
    """(run, step sheets, path) of each preset's workbook."""
    run, path = preset_books[request.param]
    if request.param not in _sheets:
        _sheets[request.param] = step_sheets(path)
    return run, _sheets[request.param], path


@pytest.fixture(scope="module")
def sheets(seed_book):
    return {s.title: s for s in step_sheets(seed_book)}


@pytest.mark.parametrize("engine", ["openpyxl", "calamine"])
def test_trace_read_by_pandas_equals_the_engine(seed_run, seed_book, engine):
    pytest.importorskip("python_calamine") if engine == "calamine" else None
    df = pd.read_excel(seed_book, sheet_name="Trace", engine=engine)
    want = seed_run.frame()
    assert list(df.columns) == ["epoch", "step", "name", "row", "col", "value"]
    assert df.notna().all().all()
    pd.testing.assert_frame_equal(df.drop(columns="value"), want.drop(columns="value"),
                                  check_dtype=False)
    # XlsxWriter stores 16 significant digits
    np.testing.assert_allclose(df.value, want.value, rtol=1e-15, atol=1e-15)


def test_read_trace_and_history(seed_run, seed_book):
    trace = stepviz.read_trace(seed_book)
    assert len(trace) == len(seed_run.frame())
    hist = stepviz.read_history(seed_book)
    pd.testing.assert_frame_equal(hist, seed_run.history(), check_exact=False, rtol=1e-15)
    assert hist.epoch.tolist() == seed_run.history_epochs.tolist()
    # 1-based headers, as the captions and --focus count
    np.testing.assert_allclose(hist["output[3,1]"], seed_run.history_output[:, 2, 0], rtol=1e-15)
    np.testing.assert_allclose(hist["wh[4,3]"], seed_run.history_params["wh"][:, 3, 2], rtol=1e-15)


def test_one_sheet_per_step_in_order(seed_book, seed_run):
    names = openpyxl.load_workbook(seed_book, read_only=True).sheetnames
    assert names[0] == "Overview" and names[-3:] == ["Training", "Training history", "Trace"]
    assert names[1:-3] == [f"1.{s.number:02d} {s.title}" for s in seed_run.steps]
    assert names[3] == "1.03 hidden input" and len(names[1:-3]) == 12
    assert all(len(n) <= 31 for n in names)


def test_every_formula_cell_has_a_cached_value_in_every_preset(preset):
    run, sheets, _ = preset
    for s in sheets:
        for rc, f in s.formulas.items():
            v = s.values[rc]
            if isinstance(v, str):  # the arithmetic lines: text formulas with their text
                if re.fullmatch(r"[-(−\d.,·⁰¹²³⁴⁵⁶⁷⁸⁹⁻)]*", v):
                    continue  # a line's hidden helper: the text of one number in it
                assert f.startswith(('="', '=IF(')) and v.startswith(tuple(b.name + "[" for b in s.blocks)), (s.title, v)
            else:
                assert isinstance(v, (int, float)) and np.isfinite(v), f"{s.title}!{cell_name(rc)} {f} -> {v!r}"


def test_the_default_workbook_counts(sheets):
    formulas = sum(len(s.formulas) for s in sheets.values())
    lines = sum(isinstance(s.values[rc], str) and "[" in s.values[rc] for s in sheets.values() for rc in s.formulas)
    assert lines == 19  # one arithmetic line per computed result
    # matrix formulas, links to where operands were made, the lines (283), the lines'
    # hidden helpers (219): each shown operand rounded and spelled, the results rounded and
    # spelled; a gradient check of 5 formulas per parameter (20) and the loss before and
    # after the update on step 12 (3); a data bar's cell linked to each weight a step makes,
    # beside its block: the 19 start values on step 2 and the 19 updated ones on steps 11-12
    assert formulas == 283 + 219 + 23 + 38


def test_produced_cells_are_formulas_over_the_same_sheet(preset):
    run, sheets, _ = preset
    for s in sheets:
        if s.step <= 2:
            continue  # data and initial values: the editable constants
        results = [b for b in s.blocks if not b.linked]
        assert results, s.title
        for b in results:
            for rc in b.cells():
                f = s.formulas.get(rc)
                assert f is not None and "!" not in f, f"{s.title}: {b.name} {rc} is not a same-sheet formula"
                assert refs(f) <= set(s.values), f"{s.title}!{cell_name(rc)} reads an empty cell"
        for b in s.blocks:  # operand copies: links to the sheet that made them
            if b.linked and b.name not in run.config.network.constants():
                assert all("!" in s.formulas[rc] for rc in b.cells()), (s.title, b.name)


def test_step_sheet_values_equal_the_trace(preset):
    run, sheets, _ = preset
    trace = run.frame()
    checked = 0
    for s in sheets:
        for b in s.blocks:
            if b.name in run.config.network.constants():  # lr, beta1, ...: links to the Overview
                assert s.matrix(b) == [[run.config.constants()[b.name]]]
                continue
            listed = trace[(trace.epoch == s.update(run.config)) & (trace.name == b.name)]
            # an updated parameter is the later listing; everything else the first
            step = listed.step.max() if b.updated or (not b.linked and s.step > 2) else listed.step.min()
            want = listed[listed.step == step].value.to_numpy()
            want = want.reshape((b.cols, b.rows) if b.transposed else (b.rows, b.cols))
            np.testing.assert_allclose(s.matrix(b), want.T if b.transposed else want, rtol=0, atol=1e-12,
                                       err_msg=f"{s.title}: {b.name}")
            checked += 1
    assert checked >= 10 * len(run.detail)


def test_transposed_operands_are_laid_out_transposed(sheets):
    s = sheets["1.09 hidden error"]
    w = s.block("wout", linked=True)
    assert w.transposed and (w.rows, w.cols) == (1, 3)  # woutᵀ: a row, (3×1)·(1×3) by hand
    out = s.block("Error_at_hidden_layer")
    d = s.block("d_output")
    # Error[i,j] = d_output[i,1]·woutᵀ[1,j]: row i of d_output times column j of woutᵀ
    (r, c) = out.top_left
    assert refs(s.formulas[(r + 2, c + 1)]) == {(d.top_left[0] + 2, d.top_left[1]), (w.top_left[0], w.top_left[1] + 1)}
    s = sheets["1.11 update weights"]
    for name, rows, cols in (("X", 4, 3), ("hiddenlayer_activations", 3, 3)):
        b = s.block(name, linked=True)
        assert b.transposed and (b.rows, b.cols) == (rows, cols)
        # each cell links to the transposed source cell
        for i in range(rows):
            for j in range(cols):
                f = s.formulas[(b.top_left[0] + i, b.top_left[1] + j)]
                sheet, cell = f[1:].split("!")
                origin = sheets[sheet.strip("'")].block(name)
                assert cell == cell_name((origin.top_left[0] + j, origin.top_left[1] + i)), (name, i, j, f)
    u = s.block("update_wh")  # update_wh[i,j] = (row i of Xᵀ · column j of d_hiddenlayer)·lr
    x, d = s.block("X", linked=True), s.block("d_hiddenlayer")
    lr = next(b for b in s.blocks if b.name == "lr" and b.top_left[0] == x.top_left[0])  # its band's copy
    read = refs(s.formulas[(u.top_left[0] + 1, u.top_left[1] + 2)])
    assert read == {(x.top_left[0] + 1, x.top_left[1] + k) for k in range(3)} | {
        (d.top_left[0] + k, d.top_left[1] + 2) for k in range(3)} | {lr.top_left}


def test_loss_and_update_amounts_are_live_blocks(sheets, seed_run):
    s = sheets["1.06 error"]
    loss = s.block("loss")
    e = s.block("E")
    f = s.formulas[loss.top_left]
    assert f == f"=SUMSQ({cell_name(e.top_left)}:{cell_name((e.top_left[0] + 2, e.top_left[1]))})/2"
    assert s.values[loss.top_left] == pytest.approx(seed_run.value(1, 6, "loss")[0, 0], abs=1e-15)
    s = sheets["1.11 update weights"]
    amount, updated = s.block("update_wout"), s.block("wout", updated=True)
    start = s.block("wout", updated=False)
    (r, c) = updated.top_left
    assert s.formulas[(r, c)] == f"={cell_name(start.top_left)}+{cell_name(amount.top_left)}"
    s = sheets["1.12 update biases"]
    amount, d = s.block("update_bout"), s.block("d_output")
    lr = next(b for b in s.blocks if b.name == "lr" and b.top_left[0] == amount.top_left[0])
    assert s.formulas[amount.top_left] == (f"=SUM({cell_name(d.top_left)}:{cell_name((d.top_left[0] + 2, d.top_left[1]))})"
                                           f"*{cell_name(lr.top_left)}")


def test_each_result_reads_its_operands_from_its_own_band(preset):
    """No two results of a step share an operand copy: each yellow cell's orange cells are
    its own (a result may read an earlier result of the same step, which is yellow)."""
    run, sheets, _ = preset
    for s in sheets:
        results = [b for b in s.blocks if not b.linked and s.step > 2]
        seen = {}
        for b in results:
            r, c = b.top_left
            for rc in refs(s.formulas[(r, c)]):
                owner = next((x for x in s.blocks if rc in x.cells()), None)
                if owner is not None and owner.linked:
                    assert seen.setdefault(owner.caption, b.name) == b.name, (s.title, owner.name)


def test_sigmoid_reads_as_the_tutorial_writes_it(sheets):
    s = sheets["1.04 hidden activations"]
    a, z = s.block("hiddenlayer_activations"), s.block("hidden_layer_input", linked=True)
    assert s.formulas[a.top_left] == f"=1/(1+EXP(-{cell_name(z.top_left)}))"


def test_editable_cells_are_unlocked_and_everything_else_locked(tmp_path):
    run = stepviz.train(epochs=3, detail=[1, 2])
    path = stepviz.write_workbook(run, tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(path)
    assert all(ws.protection.sheet for ws in wb.worksheets)  # every sheet, no password
    assert not any(ws.protection.password for ws in wb.worksheets)
    unlocked = {ws.title: {c.coordinate for row in ws.iter_rows() for c in row
                           if c.value is not None and not c.protection.locked} for ws in wb.worksheets}
    sheets = {s.title: s for s in step_sheets(path)}
    first = {cell_name(rc) for b in sheets["1.01 inputs"].blocks for rc in b.cells()}
    starts = {cell_name(rc) for b in sheets["1.02 initialise"].blocks for rc in b.cells()}
    assert unlocked["1.01 inputs"] == first and unlocked["1.02 initialise"] == starts
    assert unlocked["2.01 inputs"] == set() and unlocked["2.02 initialise"] == set()  # links
    ov = wb["Overview"]
    lr = next(row[1] for row in ov.iter_rows() if row[0].value == "lr (learning rate)")
    h = next(row[1] for row in ov.iter_rows() if row[0].value == "h (gradient check)")
    assert unlocked["Overview"] == {lr.coordinate, h.coordinate}
    for title, s in sheets.items():
        if s.step > 2:  # only the focus row and column
            focus = {cell_name(rc) for rc in s.values if not s.locked[rc]}
            assert len(focus) == 2 and {c[:1] for c in focus} != set(), title
    assert unlocked["Training history"] == set() and unlocked["Trace"] == set()


def test_focus_cells_are_labelled_validated_set_from_focus_and_read_by_reference(tmp_path):
    """No defined name (spreadsheets that import xlsx drop sheet-scoped ones): the highlight
    and the lines read the focus cells as $E$6 and $F$6."""
    run = stepviz.train(epochs=2, focus=[2, 3])
    path = stepviz.write_workbook(run, tmp_path / "f.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["1.03 hidden input"]
    assert not ws.defined_names and not wb.defined_names
    assert ws["A6"].value == "Focus (row, column):"
    row, col = (ws[c] for c in focus_cells(ws))
    assert (row.value, col.value) == (2, 3) and not row.protection.locked
    dv = [d for d in ws.data_validations.dataValidation if str(d.sqref) in (row.coordinate, col.coordinate)]
    assert len(dv) == 2 and all(d.prompt and d.error for d in dv)
    absolute = {f"${c.column_letter}${c.row}" for c in (row, col)}
    rules = [r.formula[0] for cf in ws.conditional_formatting for r in cf.rules if r.type == "expression"]
    assert all(set(re.findall(r"\$[A-Z]+\$6\b", f)) <= absolute for f in rules)
    assert sum(any(a in f for a in absolute) for f in rules) >= 4  # 3 results, their sources
    lines = [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str) and c.value.startswith('=IF(')]
    assert any(all(a in f for a in absolute) for f in lines)
    assert not focus_cells(wb["1.02 initialise"])  # given steps have no focus


def test_every_cell_one_may_type_into_asks_for_a_number_with_messages(tmp_path):
    """Issue 25.7: lr, h, the optimizer's constants, X, y, the first start values and the
    focus cells carry a data validation (a number, an input and an error message)."""
    from openpyxl.worksheet.cell_range import CellRange

    for optimizer in ("gd", "adam"):
        run = stepviz.train(epochs=2, optimizer=optimizer, lang="de")
        wb = openpyxl.load_workbook(stepviz.write_workbook(run, tmp_path / f"{optimizer}.xlsx"))
        covered = 0
        for ws in wb.worksheets:
            validated = {}
            for d in ws.data_validations.dataValidation:
                assert d.type in ("decimal", "whole") and d.prompt and d.error and d.showErrorMessage, (ws.title, d)
                for rng in str(d.sqref).split():
                    validated.update({(r, c): d for r, c in CellRange(rng).cells})
            editable = {(c.row, c.column) for row in ws.iter_rows() for c in row
                        if c.protection.locked is False and c.value is not None}
            assert editable <= set(validated), (ws.title, sorted(editable - set(validated))[:5])
            covered += len(editable)
        overview = wb.worksheets[0]
        lr = next(r[1] for r in overview.iter_rows() if str(r[0].value).startswith("lr"))
        rule = next(d for d in overview.data_validations.dataValidation if lr.coordinate in str(d.sqref))
        assert rule.operator == "greaterThan" and rule.formula1 == "0" and "lr" in rule.prompt
        assert covered >= 12 + 3 + 19 + 2 + 2 * 10, covered  # X, y, wh bh wout bout, lr h, 10 focus pairs


def test_later_epochs_link_to_the_previous_update(tmp_path):
    run = stepviz.train(epochs=3, detail=[1, 2])
    path = stepviz.write_workbook(run, tmp_path / "two.xlsx")
    wb = openpyxl.load_workbook(path)
    init2 = wb["2.02 initialise"]
    formulas = [c.value for row in init2.iter_rows() for c in row if isinstance(c.value, str)
                and c.value.startswith("=")]
    assert any("'1.11 update weights'!" in f for f in formulas)
    assert any("'1.12 update biases'!" in f for f in formulas)
    first = wb["1.02 initialise"]  # numbers: its only formulas are its data bars' links to them
    bars = [c for row in first.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert len(bars) == 19 and all(isinstance(first[c.value[1:]].value, float) for c in bars)


def test_sheets_say_where_values_come_from_and_where_the_tutorial_differs(tmp_path):
    run = stepviz.train(epochs=20, detail=[1, 2, 20])
    path = stepviz.write_workbook(run, tmp_path / "n.xlsx")
    wb = openpyxl.load_workbook(path)
    text = lambda title: " ".join(str(c.value) for row in wb[title].iter_rows(max_row=6) for c in row  # noqa: E731
                                  if isinstance(c.value, str))
    assert "multiplies by lr already here" in text("1.08 output delta")
    assert "seed 0" in text("1.02 initialise") and "differ from the tutorial's pictures" in text("1.02 initialise")
    assert "updates of epoch 1, linked" in text("2.02 initialise")
    # epoch 19 is not detailed: epoch 20 starts from the Training sheet's row (live), or without
    # one from trained values
    assert "links to the Training sheet's row of epoch 20" in text("20.02 initialise") and "follow an edit of lr" in text(
        "20.02 initialise")
    plain = openpyxl.load_workbook(stepviz.write_workbook(stepviz.train(epochs=20, detail=[1, 2, 20], live_epochs=0),
                                                          tmp_path / "plain.xlsx"))
    words = " ".join(str(c.value) for row in plain["20.02 initialise"].iter_rows(max_row=6) for c in row
                     if isinstance(c.value, str))
    assert "after 19 epochs of training" in words and "not recomputed" in words
    ov = " ".join(str(c.value) for row in wb["Overview"].iter_rows() for c in row if isinstance(c.value, str))
    assert "epochs 1, 2 recompute, each starting from the one before" in ov
    assert "the other detailed epochs (20) start from trained values" in ov


def test_no_caption_is_cut_off_by_a_neighbour(preset):
    """A caption's text fits in the empty cells to its right, at the sheet's column widths."""
    from stepviz.workbook.layout import text_width

    run, sheets, path = preset
    wb = openpyxl.load_workbook(path)
    for s in sheets:
        ws = wb[s.title]
        widths = {c: d.width for d in ws.column_dimensions.values() if d.min for c in range(d.min, d.max + 1)}
        for b in s.blocks:
            r, c = b.caption
            text = ws.cell(r, c).value
            room, cc = 0.0, c
            while True:
                room += widths.get(cc, 8.43)
                cc += 1
                if ws.cell(r, cc).value is not None or room >= 1.1 * text_width(text):
                    break
            assert room >= text_width(text), (s.title, text)


def test_overview_settings_live_values_legend_and_links(seed_book, seed_run):
    ws = openpyxl.load_workbook(seed_book)["Overview"]
    text = {c.value for row in ws.iter_rows() for c in row if c.value is not None}
    assert "lr (learning rate)" in text and 0.1 in text and 5000 in text
    links = [c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink]
    assert "'1.01 inputs'!A1" in links and "'1.12 update biases'!A1" in links and len(links) == 15  # + Training
    formulas = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    hints = [f for f in formulas if f.startswith("=IF(ISNUMBER(")]  # beside lr and h: a warning if no number
    assert len(hints) == 2 and all("holds no number" in f for f in hints)
    right = [f for f in formulas if f.startswith(("=IF(IF(", "=AVERAGE("))]  # targets 0 or 1: the accuracy
    assert len(right) == len(seed_run.config.X) + 1
    formulas = [f for f in formulas if f not in hints + right]
    assert len(formulas) == 2 and formulas[0].startswith("='1.06 error'!$")  # the live loss
    assert formulas[1].startswith("='1.12 update biases'!$")  # and after the update
    assert any(isinstance(v, float) and abs(v - seed_run.loss) < 1e-15 for v in text)  # from training
    for key in ("the cell being computed", "the cells its formula reads", "a number you may edit",
                "a live formula", "a linked copy", "a value from training"):
        assert any(isinstance(v, str) and v.startswith(key) for v in text), key
    headers = [c for row in ws.iter_rows() for c in row if c.value in ("sample", "target y", "output y")]
    assert all(c.alignment.horizontal == "right" for c in headers)  # over right-aligned numbers


def test_history_chart_is_a_scatter_of_the_loss_at_the_top_left(seed_book):
    with zipfile.ZipFile(seed_book) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode()
        drawing = z.read("xl/drawings/drawing1.xml").decode()
    assert "<c:scatterChart>" in xml and "'Training history'!$B$20:$B$" in xml
    assert "'Training history'!$A$20:$A$" in xml  # numeric epochs on the x axis
    assert '<c:logBase val="10"/>' in xml  # the loss spans orders of magnitude
    assert "<xdr:from><xdr:col>0</xdr:col>" in drawing and "<xdr:row>1</xdr:row>" in drawing
    ws = openpyxl.load_workbook(seed_book)["Training history"]
    assert ws["A1"].hyperlink.location == "Overview!A1"
    assert [c.value for c in ws[19][:4]] == ["epoch", "loss", "output[1,1]", "output[2,1]"]


def test_same_config_same_bytes(tmp_path, seed_run):
    a = stepviz.write_workbook(seed_run, tmp_path / "a.xlsx")
    b = stepviz.write_workbook(stepviz.train("seed-mlp", live_epochs=LIVE), tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    c = stepviz.write_workbook(stepviz.train("seed-mlp", seed=1, live_epochs=LIVE), tmp_path / "c.xlsx")
    assert a.read_bytes() != c.read_bytes()


def test_nothing_left_behind_when_writing_fails(tmp_path, seed_run, monkeypatch):
    from stepviz import workbook

    def boom(run, wb, progress=None):
        raise RuntimeError("disk full")

    monkeypatch.setattr(workbook, "write_sheets", boom)
    with pytest.raises(RuntimeError):
        stepviz.write_workbook(seed_run, tmp_path / "x.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_constant_memory_mode_writes_the_same_cells_as_in_memory(tmp_path, seed_run, monkeypatch):
    """Small workbooks are assembled in memory, large ones streamed (constant memory, one
    temporary file per sheet, at most two open): the cells, formulas and formats agree, and
    each mode gives the same bytes for the same run."""
    from stepviz import workbook

    memory = stepviz.write_workbook(seed_run, tmp_path / "memory.xlsx")
    monkeypatch.setattr(workbook, "IN_MEMORY_CELLS", 0)
    streamed = stepviz.write_workbook(seed_run, tmp_path / "streamed.xlsx")
    again = stepviz.write_workbook(seed_run, tmp_path / "again.xlsx")
    assert streamed.read_bytes() == again.read_bytes()

    def cells(path):
        wb = openpyxl.load_workbook(path)
        value = lambda v: (v.ref, v.text) if type(v).__name__ == "ArrayFormula" else v  # noqa: E731
        return {ws.title: [(c.coordinate, value(c.value), c.number_format, c.fill.fgColor.rgb)
                           for row in ws.iter_rows() for c in row] for ws in wb.worksheets}

    assert cells(memory) == cells(streamed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.xlsx", "memory.xlsx", "streamed.xlsx"]


def test_long_products_are_one_cell_array_formulas(preset_books):
    """MMULT written as a one-cell array formula: Excel 365 shows it as written, without an
    implicit-intersection @ (LibreOffice recalculates it to the cached value: test_libreoffice)."""
    run, path = preset_books["wide-ranges"]
    ws = openpyxl.load_workbook(path)["1.03 hidden input"]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    mmult = [c for c in cells if "MMULT(" in str(getattr(c.value, "text", c.value))]
    assert mmult and all(type(c.value).__name__ == "ArrayFormula" and c.value.ref == c.coordinate for c in mmult)
    with zipfile.ZipFile(path) as z:
        assert "xl/metadata.xml" in z.namelist()  # dynamic-array metadata: no @ in Excel 365
