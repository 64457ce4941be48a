"""The workbook read back with openpyxl and pandas: values, formulas, highlighting, bytes."""
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

import stepviz
from book import ORANGE, YELLOW, cell_name, refs, step_sheets
from conftest import PRESETS

_sheets = {}


@pytest.fixture(params=PRESETS)
def preset(request, preset_books):
    """(run, step sheets) of each preset's workbook."""
    run, path = preset_books[request.param]
    if request.param not in _sheets:
        _sheets[request.param] = step_sheets(path)
    return run, _sheets[request.param]


@pytest.fixture(scope="module")
def sheets(seed_book):
    return step_sheets(seed_book)


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
    assert hist.epoch.tolist() == seed_run.history_epochs.tolist()
    np.testing.assert_allclose(hist.loss, seed_run.history_loss, rtol=1e-15)
    np.testing.assert_allclose(hist["output[2,0]"], seed_run.history_output[:, 2, 0], rtol=1e-15)
    np.testing.assert_allclose(hist["wh[3,2]"], seed_run.history_params["wh"][:, 3, 2], rtol=1e-15)


def test_one_sheet_per_step_in_order(seed_book, seed_run):
    names = openpyxl.load_workbook(seed_book, read_only=True).sheetnames
    assert names[0] == "Overview" and names[-2:] == ["History", "Trace"]
    assert names[1:-2] == [f"1.{s.number:02d} {s.title}" for s in seed_run.steps]
    assert names[3] == "1.03 hidden input" and len(names[1:-2]) == 12
    assert all(len(n) <= 31 for n in names)


def test_every_formula_cell_has_a_cached_number_in_every_preset(preset):
    run, sheets = preset
    for s in sheets:
        for rc, f in s.formulas.items():
            v = s.values[rc]
            assert isinstance(v, (int, float)) and np.isfinite(v), f"{s.title}!{cell_name(rc)} {f} -> {v!r}"


def test_every_formula_cell_has_a_cached_number(sheets):
    count = 0
    for s in sheets:
        for rc, f in s.formulas.items():
            v = s.values[rc]
            assert isinstance(v, (int, float)) and np.isfinite(v), f"{s.title}!{cell_name(rc)} {f} -> {v!r}"
            count += 1
    assert count == 242  # the 12 step sheets of seed-mlp


def test_produced_cells_are_formulas_over_the_same_sheet(preset):
    run, sheets = preset
    for s in sheets:
        if s.step <= 2:
            continue  # data and initial values: the editable constants
        for name, updated, (r, c), rows, cols in s.blocks:
            for i in range(rows):
                for j in range(cols):
                    f = s.formulas.get((r + i, c + j))
                    assert f is not None, f"{s.title}: {name}[{i},{j}] is not a formula"
        produced = [rc for rc, f in s.formulas.items() if "!" not in f]
        assert produced, s.title
        for rc in produced:
            assert refs(s.formulas[rc]) <= set(s.values), f"{s.title}!{cell_name(rc)} reads an empty cell"


def test_step_sheet_values_equal_the_trace(preset):
    seed_run, sheets = preset
    trace = seed_run.frame()
    checked = 0
    for s in sheets:
        for block in s.blocks:
            name, updated, _, rows, cols = block
            if name == "lr":  # a link to the Overview's lr, not a traced value
                assert s.matrix(block) == [[seed_run.config.lr]]
                continue
            listed = trace[(trace.epoch == s.epoch) & (trace.name == name)]
            # an updated parameter is the later listing; everything else the first
            step = listed.step.max() if updated else listed.step.min()
            want = listed[listed.step == step].value.to_numpy().reshape(rows, cols)
            np.testing.assert_allclose(s.matrix(block), want, rtol=0, atol=1e-12,
                                       err_msg=f"{s.title}: {name}")
            checked += 1
    assert checked >= 10 * len(seed_run.detail)


def test_orange_cells_are_exactly_what_the_yellow_cells_read(preset):
    run, sheets = preset
    for s in sheets:
        yellow = {rc for rc, f in s.fills.items() if f == YELLOW}
        orange = {rc for rc, f in s.fills.items() if f == ORANGE}
        assert set(s.fills.values()) <= {YELLOW, ORANGE}
        read = set().union(*(refs(s.formulas.get(rc, "")) for rc in yellow))
        assert orange == read - yellow, s.title
        # one yellow cell in each result: the data and initial values on steps 1-2, the
        # computed matrices (formulas over this sheet) elsewhere
        results = [b for b in s.blocks if s.step <= 2 or "!" not in s.formulas.get(b[2], "!")]
        assert len(yellow) == len(results), s.title
        for name, _, (r, c), rows, cols in results:
            assert len({(r + i, c + j) for i in range(rows) for j in range(cols)} & yellow) == 1
        if s.step > 2:
            assert orange, f"{s.title} highlights no source"
    # output reads output_layer_input, another result of its step: that one stays yellow
    layer = next(s for s in sheets if s.title.endswith("output layer"))
    out = next(b for b in layer.blocks if b[0] == "output")
    assert refs(layer.formulas[out[2]]) <= {rc for rc, f in layer.fills.items() if f == YELLOW}


def test_focus_is_the_requested_cell_clamped_to_each_matrix(tmp_path):
    run = stepviz.train(epochs=2, focus=[2, 3])
    path = stepviz.write_workbook(run, tmp_path / "f.xlsx")
    s = {x.title: x for x in step_sheets(path)}["1.03 hidden input"]
    (r, c) = next(rc for rc, f in s.fills.items() if f == YELLOW)
    block = next(b for b in s.blocks if b[0] == "hidden_layer_input")
    assert (r - block[2][0], c - block[2][1]) == (1, 2)
    s = {x.title: x for x in step_sheets(path)}["1.08 output delta"]
    block = next(b for b in s.blocks if b[0] == "d_output")  # 3×1: column clamped to 1
    assert {rc for rc, f in s.fills.items() if f == YELLOW} == {(block[2][0] + 1, block[2][1])}


def test_later_epochs_link_to_the_previous_update(tmp_path):
    run = stepviz.train(epochs=3, detail=[1, 2])
    path = stepviz.write_workbook(run, tmp_path / "two.xlsx")
    wb = openpyxl.load_workbook(path)
    init2 = wb["2.02 initialise"]
    formulas = [c.value for row in init2.iter_rows() for c in row if isinstance(c.value, str)
                and c.value.startswith("=")]
    assert any("'1.11 update weights'!" in f for f in formulas)
    assert any("'1.12 update biases'!" in f for f in formulas)
    first = wb["1.02 initialise"]
    assert not any(isinstance(c.value, str) and c.value.startswith("=")
                   for row in first.iter_rows() for c in row)


def test_overview_settings_predictions_and_links(seed_book, seed_run):
    ws = openpyxl.load_workbook(seed_book)["Overview"]
    text = {c.value for row in ws.iter_rows() for c in row if c.value is not None}
    assert "lr" in text and 0.1 in text and 5000 in text
    links = [c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink]
    assert "'1.01 inputs'!A1" in links and "'1.12 update biases'!A1" in links and len(links) == 14
    assert any(isinstance(v, float) and abs(v - seed_run.loss) < 1e-15 for v in text)


def test_history_has_a_line_chart_of_the_loss(seed_book):
    with zipfile.ZipFile(seed_book) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode()
    assert "<c:lineChart>" in xml and "History!$B$2:$B$" in xml


def test_same_config_same_bytes(tmp_path, seed_run):
    a = stepviz.write_workbook(seed_run, tmp_path / "a.xlsx")
    b = stepviz.write_workbook(stepviz.train("seed-mlp"), tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    c = stepviz.write_workbook(stepviz.train("seed-mlp", seed=1), tmp_path / "c.xlsx")
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
        return {ws.title: [(c.coordinate, c.value, c.number_format, c.fill.fgColor.rgb)
                           for row in ws.iter_rows() for c in row] for ws in wb.worksheets}

    assert cells(memory) == cells(streamed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.xlsx", "memory.xlsx", "streamed.xlsx"]
