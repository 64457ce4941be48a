"""The Training sheet: the whole training as live formulas, one row per update.

Its cached values are the engine's; LibreOffice recomputes a copy whose lr was edited to the
numbers ``stepviz.train`` gives with that lr (the Training sheet's loss, the Overview's outputs,
the History's chart data, the Map after training); IronCalc recomputes zeroed copies of full
default, xor, Adam and iris workbooks to their stored values.
"""
import dataclasses
import inspect
import re
import warnings
import zipfile

import ironcalc
import numpy as np
import openpyxl
import pytest
from openpyxl.utils.cell import coordinate_to_tuple
from xlsxwriter.worksheet import Worksheet

import stepviz
from stepviz.cli import main
from stepviz.config import ConfigError
from stepviz.workbook import training_sheet
from stepviz.workbook.training_sheet import FIRST, HEADER, LIVE_CELLS, live_updates
from test_excel import zeroed

AFTER = "after"


def sheet_rows(path, name="Training"):
    """The values of a sheet, row by row (read-only: fast on a long sheet)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
        wb.close()
    return rows


def table(path):
    """(header -> column index, the rows after the header) of the Training sheet."""
    rows = sheet_rows(path)
    return {h: k for k, h in enumerate(rows[HEADER]) if h}, rows[FIRST:]


def set_cell(src, dst, sheet_xml: str, cell: str, value: float):
    """A copy with one number cell's value rewritten in the sheet's XML (nothing else touched)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == sheet_xml:
                data, n = re.subn(rb'(<c r="%s"[^>]*>)<v>[^<]*</v>' % cell.encode(),
                                  rb"\g<1><v>%s</v>" % repr(value).encode(), data)
                assert n == 1
            zout.writestr(item, data)
    return dst


def lr_cell(path) -> str:
    rows = sheet_rows(path, "Overview")
    r = next(k for k, row in enumerate(rows) if row and row[0] == "lr (learning rate)")
    return f"B{r + 1}"


def params_of(cols, row, run):
    return {p: np.array([[row[cols[f"{p}[{i + 1},{j + 1}]"]] for j in range(a.shape[1])] for i in range(a.shape[0])])
            for p, a in run.params.items()}


# -- the cached values are the engine's -------------------------------------------------------
CASES = {
    "seed": ("seed-mlp", dict(epochs=60, history_every=1)),
    "deep-tanh-sse": ("seed-mlp", dict(hidden=[3, 2], activation="tanh", loss="sse", epochs=40, lr=0.05,
                                       history_every=1)),
    "relu-frozen": ("seed-mlp", dict(activation="relu", train_bias=False, epochs=30, lr=0.01, history_every=1)),
    "momentum": ("seed-mlp", dict(epochs=30, optimizer="momentum", history_every=1)),
    "adam": ("seed-mlp", dict(epochs=30, optimizer="adam", history_every=1)),
    "perceptron": ("or-gate", dict(epochs=40, history_every=1)),
    "no-bias": ("single-neuron", dict(epochs=40, history_every=1)),
    "bce": ("xor", dict(epochs=30, loss="bce", history_every=1)),
    "softmax-batches": ("iris", dict(epochs=3, history_every=1)),
}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("training")
    out = {}
    for name, (source, kw) in CASES.items():
        run = stepviz.train(source, **kw)
        out[name] = (run, stepviz.write_workbook(run, d / f"{name}.xlsx"))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_rows_hold_the_engines_numbers(books, name):
    run, path = books[name]
    cols, rows = table(path)
    nb = run.config.batches
    epoch_rows = [rows[(e - 1) * nb] for e in run.history_epochs]  # an epoch's first update
    after = next(r for r in rows if r[0] == AFTER)
    for p, a in run.history_params.items():  # the start values of each epoch
        got = np.array([params_of(cols, r, run)[p] for r in epoch_rows])
        np.testing.assert_allclose(got, a, rtol=1e-12, atol=1e-300)
    for p, a in params_of(cols, after, run).items():  # the parameters after training
        np.testing.assert_allclose(a, run.params[p], rtol=1e-12, atol=1e-300)
    if nb == 1:  # the loss of each epoch's forward pass (with batches: its batch's)
        np.testing.assert_allclose([r[cols["loss"]] for r in epoch_rows], run.history_loss, rtol=1e-12)
    assert len([r for r in rows if r[0] is not None]) == run.config.epochs * nb + 1


def test_a_detailed_update_reads_its_batch_and_matches_its_sheets(books):
    run, path = books["softmax-batches"]
    cols, rows = table(path)
    for update in run.detail:
        row = rows[update - 1]
        assert str(row[0]) == run.label(update)
        loss_step = next(s for s in run.steps if "loss" in s.results)
        assert row[cols["loss"]] == pytest.approx(run.value(update, loss_step.number, "loss")[0, 0], rel=1e-12)


def test_the_first_row_links_to_step_2_and_every_row_reads_lr_on_the_overview(books):
    run, path = books["seed"]
    ws = openpyxl.load_workbook(path)["Training"]
    first, second = FIRST + 1, FIRST + 2
    assert ws.cell(first, 3).value.startswith("='1.02 initialise'!")  # wh[1,1]'s start value
    assert ws.cell(HEADER + 1, 3).value == "wh[1,1]" and ws.cell(HEADER + 1, 2).value == "loss"
    assert "Overview!$B$" in ws.cell(second, 3).value  # wh[1,1] of epoch 2: its update reads lr
    assert ws.freeze_panes == f"B{FIRST + 1}"
    assert ws.print_area.endswith("$A$1:$J$45")  # a long sheet prints its first page only
    assert ws.cell(first, 1).hyperlink is not None  # epoch 1's row opens its detailed sheets


# -- Run.training() is the table read_training reads -------------------------------------------
def assert_same_table(got, want, rtol):
    """The same columns and row labels, empty cells (NaN) in the same places, and each value
    within ``rtol`` of ``want``'s (a value near 0, a difference of larger ones: of its column's
    largest, as the engine's and a spreadsheet's rounding differ there)."""
    assert list(got.columns) == list(want.columns)
    assert got.epoch.tolist() == want.epoch.tolist()
    a, b = got.iloc[:, 1:].to_numpy(float), want.iloc[:, 1:].to_numpy(float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    scale = np.nanmax(np.abs(b), axis=0, initial=0.0)
    bad = np.abs(a - b) > rtol * np.maximum(np.abs(b), 1e-6 * scale)
    assert not bad.any(), [(want.epoch[r], want.columns[c + 1], a[r, c], b[r, c]) for r, c in np.argwhere(bad)[:5]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_training_is_read_training_of_its_workbook(books, name):
    run, path = books[name]
    got, read = run.training(), stepviz.read_training(path)
    assert_same_table(got, read, rtol=1e-12)
    assert got.epoch.iloc[-1] == AFTER and len(got) == run.config.epochs * run.config.batches + 1
    nb = run.config.batches
    assert got.epoch.tolist()[:-1] == [u if nb == 1 else run.label(u) for u in range(1, len(got))]


@pytest.mark.parametrize("source,kw", [
    ("seed-mlp", dict(epochs=30, live_epochs=10, history_every=4)),  # live, the next start, recorded epochs
    ("iris", dict(epochs=6, live_epochs=2, history_every=2)),  # the same with mini-batches
    ("seed-mlp", dict(epochs=6, lang="de")),  # "danach" is read as "after"
])
def test_run_training_of_a_partly_live_or_translated_sheet(tmp_path, source, kw):
    run = stepviz.train(source, **kw)
    read = stepviz.read_training(stepviz.write_workbook(run, tmp_path / "w.xlsx"))
    got = run.training()
    assert_same_table(got, read, rtol=1e-12)
    if run.config.live_epochs:
        later = run.history_epochs[run.history_epochs > run.config.live_epochs + 1]
        assert got.epoch.tolist()[-len(later) - 1:] == [*later, AFTER]
        assert got.loss.iloc[-len(later) - 1:-1].tolist() == run.history_loss[-len(later):].tolist()
    for p, a in run.params.items():  # the after row
        assert got.filter(like=f"{p}[").iloc[-1].tolist() == a.ravel().tolist()


# -- live_epochs -------------------------------------------------------------------------------
def test_later_rows_are_values_from_training_and_the_sheet_and_overview_say_so(tmp_path):
    run = stepviz.train("seed-mlp", epochs=300, live_epochs=100)
    path = stepviz.write_workbook(run, tmp_path / "part.xlsx")
    rows = sheet_rows(path)
    assert "Rows 1 to 100 are live formulas" in rows[1][0]
    wf = openpyxl.load_workbook(path)["Training"]
    assert str(wf.cell(FIRST + 100, 2).value).startswith("=")  # epoch 100: live
    value_row = FIRST + 102  # after the start of epoch 101: values from the History
    assert isinstance(wf.cell(value_row, 2).value, float) and wf.cell(value_row, 2).font.i
    overview = [r[2] for r in sheet_rows(path, "Overview") if r and r[0] == "Training"]
    assert overview and "live up to 100" in overview[0]
    cols, body = table(path)
    after = next(r for r in body if r[0] == AFTER)
    for p, a in params_of(cols, after, run).items():
        np.testing.assert_allclose(a, run.params[p], rtol=1e-15)


def test_the_default_budget_keeps_the_presets_live_and_bounds_iris():
    for name in ("seed-mlp", "or-gate", "single-neuron", "two-layer", "virus", "xor", "seed-mlp-momentum",
                 "seed-mlp-adam"):
        cfg = stepviz.load_config(name)
        assert live_updates(cfg) == cfg.epochs * cfg.batches, name
    iris = stepviz.load_config("iris")
    live = live_updates(iris)
    assert 0 < live < iris.epochs * iris.batches and live % iris.batches == 0
    assert live * training_sheet.row_columns(iris) <= LIVE_CELLS


def test_live_epochs_zero_and_assessments_have_no_training_sheet(tmp_path):
    off = stepviz.write_workbook(stepviz.train("seed-mlp", epochs=5, live_epochs=0), tmp_path / "off.xlsx")
    assert "Training" not in openpyxl.load_workbook(off, read_only=True).sheetnames
    cfg = stepviz.load_config("seed-mlp", exercise=True)
    assert live_updates(dataclasses.replace(cfg, assessment=True)) == 0  # would compute every answer
    assert live_updates(cfg) == 0  # practice: its first row would show the answers beside the blanks
    practice = stepviz.write_workbook(stepviz.train("seed-mlp", epochs=5, exercise=True), tmp_path / "p.xlsx")
    assert "Training" not in openpyxl.load_workbook(practice, read_only=True).sheetnames
    assert any(r and str(r[0]).startswith("The whole training, live") for r in sheet_rows(practice, "Overview"))


@pytest.mark.parametrize("bad", [-1, 1.5, "all", True])
def test_live_epochs_must_be_a_whole_number(bad):
    with pytest.raises(ConfigError, match="workbook.live_epochs"):
        stepviz.load_config("seed-mlp", live_epochs=bad)


def test_the_cli_option(tmp_path, capsys):
    assert main(["run", "--epochs", "30", "--live-epochs", "10", "-o", str(tmp_path / "a.xlsx")]) == 0
    assert "Rows 1 to 10 are live" in sheet_rows(tmp_path / "a.xlsx")[1][0]
    capsys.readouterr()
    assert main(["run", "--live-epochs", "-2", "-o", str(tmp_path / "b.xlsx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "workbook.live_epochs" in err[0]
    assert not (tmp_path / "b.xlsx").exists()
    assert "--live-epochs" in _help(capsys)


def _help(capsys):
    try:
        main(["run", "--help"])
    except SystemExit:
        pass
    return capsys.readouterr().out


# -- XlsxWriter's future functions -------------------------------------------------------------
def future_functions() -> set[str]:
    """The functions XlsxWriter would prefix with _xlfn. (read from its own source)."""
    source = inspect.getsource(Worksheet._prepare_formula)
    return set(re.findall(r'\\b([A-Z][A-Z0-9.]*)\\\(', source))


def test_no_workbook_formula_uses_a_future_function(books, preset_books):
    names = future_functions()
    assert {"XLOOKUP", "SEQUENCE", "STDEV.S"} <= names  # the list was really read
    paths = [p for _, p in books.values()] + [p for _, p in preset_books.values()]
    for path in paths:
        with zipfile.ZipFile(path) as z:
            for item in z.namelist():
                if item.startswith("xl/worksheets/sheet"):
                    text = z.read(item).decode("utf-8")
                    for f in re.findall(r"<(?:f|formula|formula1)[^>]*>([^<]*)<", text):
                        used = set(re.findall(r"\b([A-Z][A-Z0-9.]*)\(", f))
                        assert not used & names, (path.name, item, used & names)


# -- recomputed outside: LibreOffice and IronCalc ---------------------------------------------
@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Full-length workbooks of the default, xor, Adam and iris presets."""
    d = tmp_path_factory.mktemp("full")
    return {name: (run, stepviz.write_workbook(run, d / f"{name}.xlsx"))
            for name, run in ((n, stepviz.train(n)) for n in ("seed-mlp", "xor", "seed-mlp-adam", "iris"))}


def test_libreoffice_follows_an_lr_edit_through_the_whole_training(full, tmp_path):
    from libreoffice import recalculate

    seed, xor = full["seed-mlp"][1], full["xor"][1]
    edited = [set_cell(seed, tmp_path / "seed.xlsx", "xl/worksheets/sheet1.xml", lr_cell(seed), 0.5),
              set_cell(xor, tmp_path / "xor.xlsx", "xl/worksheets/sheet1.xml", lr_cell(xor), 2.0)]
    seed_again, xor_again = recalculate(edited, tmp_path)
    want = stepviz.train("seed-mlp", lr=0.5)
    cols, rows = table(seed_again)
    last = rows[want.config.epochs - 1]
    assert last[0] == want.config.epochs
    assert last[cols["loss"]] == pytest.approx(want.loss, rel=1e-9)
    assert want.loss < 0.5 * full["seed-mlp"][0].loss  # really another training
    # the Overview's outputs and final loss
    overview = sheet_rows(seed_again, "Overview")
    final = next(r for r in overview if r and r[0] == "loss of the last epoch")
    assert final[1] == pytest.approx(want.loss, rel=1e-9)
    k = next(i for i, r in enumerate(overview) if r and r[0] == "sample")
    outputs = np.array([[r[2]] for r in overview[k + 1:k + 4]])
    np.testing.assert_allclose(outputs, want.output, rtol=1e-9)
    # the History's table, which its chart plots
    history = sheet_rows(seed_again, "Training history")[19:]
    np.testing.assert_allclose([r[1] for r in history], want.history_loss, rtol=1e-9)
    # the whole sheet, read in pandas, is the engine's training with lr 0.5
    assert_same_table(stepviz.read_training(seed_again), want.training(), rtol=1e-9)
    # xor: the Map after training is a forward pass of the parameters training with lr 2 gives
    want = stepviz.train("xor", lr=2.0)
    cols, rows = table(xor_again)
    after = next(r for r in rows if r[0] == AFTER)
    for p, a in params_of(cols, after, want).items():
        np.testing.assert_allclose(a, want.params[p], rtol=1e-9)
    assert_same_table(stepviz.read_training(xor_again), want.training(), rtol=1e-9)
    from stepviz.maps import grids

    grid = grids(want, want.params, _plane(want))["output"][:, :, 0]
    shown = _final_map(xor_again)
    np.testing.assert_allclose(shown, grid, rtol=1e-9, atol=1e-12)


def _plane(run):
    from stepviz.maps import plane

    return plane(run.config)


def _final_map(path):
    """The output map of the Map sheet's "after training" section (the second output map)."""
    from stepviz.maps import GRID

    wf = openpyxl.load_workbook(path, data_only=True)["Map"]
    starts = [(c.row, c.column) for row in wf.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith("output")]
    r, c = starts[1]
    return np.array([[wf.cell(r + 2 + i, c + 1 + j).value for j in range(GRID)] for i in range(GRID)])


def test_an_lr_of_100_shows_no_error_value(full, tmp_path):
    from libreoffice import recalculate

    path = stepviz.write_workbook(stepviz.train("seed-mlp", epochs=300), tmp_path / "w.xlsx")
    edited = set_cell(path, tmp_path / "e.xlsx", "xl/worksheets/sheet1.xml", lr_cell(path), 100.0)
    (again,) = recalculate([edited], tmp_path)
    rows = sheet_rows(again)
    assert rows[2][5] == 0  # no row's loss is an error
    assert all(isinstance(v, (int, float)) for r in rows[FIRST:FIRST + 300] for v in r[1:40] if v is not None)


def _training_formulas(path):
    """{cell: cached value} of the Training sheet's formula cells, read from its XML."""
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    k = names.index("Training") + 1
    with zipfile.ZipFile(path) as z:
        text = z.read(f"xl/worksheets/sheet{k}.xml").decode()
    return {m[0]: float(m[1]) for m in re.findall(r'<c r="([A-Z]+\d+)"[^>]*><f>[^<]*</f><v>([^<]*)</v>', text)}


@pytest.mark.parametrize("name", ["seed-mlp", "xor", "seed-mlp-adam", "iris"])
def test_ironcalc_recomputes_the_training_to_its_stored_values(full, name, tmp_path):
    path = full[name][1]
    stored = _training_formulas(path)
    assert len(stored) > 50_000
    model = ironcalc.load_from_xlsx(str(zeroed(path, tmp_path / "z.xlsx")), "en", "UTC")
    sheet = [p["name"] for p in model.get_worksheets_properties()].index("Training")
    where = {cell: coordinate_to_tuple(cell) for cell in stored}
    assert all(model.get_cell_value(sheet, *where[c]) == 0 for c in list(stored)[:1000])
    model.evaluate()
    # a value that is a difference of much larger ones (a gradient near 0) carries their
    # rounding: each column is compared to 1e-9 of its own largest value
    scale = {}
    for cell, want in stored.items():
        col = cell.rstrip("0123456789")
        scale[col] = max(scale.get(col, 0.0), abs(want))
    for cell, want in stored.items():
        got = model.get_cell_value(sheet, *where[cell])
        tol = 1e-9 * max(abs(want), 1e-3 * scale[cell.rstrip("0123456789")])
        assert isinstance(got, float) and abs(got - want) <= tol, (name, cell, got, want)


# -- the notebook and the CLI read it ----------------------------------------------------------
def test_read_training_and_show_a_non_detailed_epoch(full, capsys):
    run, path = full["seed-mlp"]
    df = stepviz.read_training(path)
    assert list(df.columns[:3]) == ["epoch", "loss", "wh[1,1]"] and len(df) == run.config.epochs + 1
    k = list(run.history_epochs).index(2501)
    assert df.loc[2500, "loss"] == pytest.approx(run.history_loss[k], rel=1e-12)  # epoch 2501's row
    assert main(["show", str(path), "--step", "3", "--epoch", "2501", "--name", "wh", "--decimals", "12"]) == 0
    shown = capsys.readouterr().out.split("wh  (4×3)")[1].split()
    got = np.array([float(v) for v in shown[3:]]).reshape(4, 4)[:, 1:]  # row labels, then 3 columns
    np.testing.assert_allclose(got, run.history_params["wh"][k], atol=1e-12)
