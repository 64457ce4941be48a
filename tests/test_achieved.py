"""What a step achieved (issue 17): the loss after the update on an epoch's last sheet and on
the Overview, and the finite-difference gradient check beside each trained parameter's
backprop direction; in the cached values and as LibreOffice recalculates them (lr edited,
focus moved, a reckless lr).

The expected numbers come from outside the workbook's own formulas: the engine's loss of the
next epoch (and the independent tutorial loop of tests/reference.py), a fresh training at
the edited lr, and an independent numpy forward pass over the parameters the sheets show.
"""
import re

import numpy as np
import openpyxl
import pytest

import stepviz
from book import focus_cells, step_sheets
from conftest import CASES, PRESETS, set_focus, set_lr


def _checked(name: str) -> bool:
    """Whether a case's workbook shows what the update achieved: not yet for classifiers and
    mini-batches (stepviz.workbook.achieved.enabled)."""
    source, overrides = CASES[name]
    cfg = stepviz.load_config(source, **overrides)
    return cfg.network.loss in ("error", "sse") and cfg.network.output != "softmax" and cfg.batches == 1


CHECKED = [n for n in PRESETS if _checked(n)]
from reference import ACTIVATIONS, seed_loop

RELATIVE = re.compile(r"^=IF\(MAX\(ABS\((\$?[A-Z]+\$?\d+)\),ABS\((\$?[A-Z]+\$?\d+)\)\)=0,0,")
ESTIMATE = re.compile(r"^=-\(([A-Z]+\d+)-([A-Z]+\d+)\)/\(2\*(.+)\)$")
AFTER_LABEL = re.compile(r"^loss after the update of epoch (\d+)$")
# a check cell stays empty where the focus selects nothing or an earlier cell holds an error
QUIET = re.compile(r'^=(?:IF\((?:ISNUMBER\(\$[A-Z]+\$\d+\)|AND\(ISNUMBER\(\$[A-Z]+\$\d+\),ISNUMBER\(\$[A-Z]+\$\d+\)\)),)?'
                   r'IFERROR\((.*?),""\)(?:,""\))?$')


def loud(formula: str) -> str:
    """A check cell's formula without what keeps it quiet (``QUIET``)."""
    m = QUIET.match(formula)
    return "=" + m.group(1) if m else formula


def reference_loss(net, values: dict) -> float:
    """½·ΣE² (or ΣE²) of the forward pass, written independently of stepviz's ops."""
    f, _ = ACTIVATIONS[net.activation]
    hidden = len(net.hidden)
    sfx = ["" if hidden == 1 else str(l + 1) for l in range(hidden)]
    a = values["X"]
    for w, b in [(f"wh{s}", f"bh{s}") for s in sfx] + [("wout", "bout")]:
        a = f(a @ values[w] + (values[b] if net.bias else 0.0))
    E = values["y"] - a
    return float(np.sum(E ** 2) * (0.5 if net.loss == "error" else 1.0))


def estimate_cells(path) -> set[tuple[str, str]]:
    """(sheet, cell) of every finite-difference estimate: (L(w+h) − L(w−h))/(2h) multiplies the
    losses' last-digit differences between engines by about loss/(h·|estimate|) (10⁶ here)."""
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if ESTIMATE.match(loud(str(c.value or "=")))}


def relative_cells(path) -> set[tuple[str, str]]:
    """(sheet, cell) of every relative difference of a gradient check: the difference of two
    numbers equal up to rounding, so its digits past the first few are rounding noise that
    differs between numpy and a spreadsheet."""
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if RELATIVE.match(loud(str(c.value or "=")))}


class Book:
    """A workbook's numbers as one file holds them (cached by stepviz, or LibreOffice's)."""

    def __init__(self, original, values_from=None):
        self.formulas = openpyxl.load_workbook(original)
        self.values = openpyxl.load_workbook(values_from or original, data_only=True)
        self.sheets = {s.title: s for s in step_sheets(values_from or original)}

    def formula(self, sheet, cell):
        """A cell's formula, without what keeps a garbage focus quiet (``loud``)."""
        v = self.formulas[sheet][cell].value
        f = "=" + v.text.lstrip("=") if type(v).__name__ == "ArrayFormula" else v
        return loud(f) if isinstance(f, str) else f

    def value(self, sheet, cell):
        return self.values[sheet][cell.replace("$", "")].value

    def ref(self, text):
        """The value a reference like ``Overview!$B$20`` or ``'1.12 update biases'!$I$32`` reads."""
        sheet, cell = text.rsplit("!", 1)
        return self.value(sheet.strip("'"), cell)

    def epoch_values(self, epoch):
        """X, y and the start values of an epoch, as its sheets 1 and 2 show them."""
        out = {}
        for step in (1, 2):
            s = next(s for s in self.sheets.values() if s.epoch == epoch and s.step == step)
            for b in s.blocks:
                out[b.name] = np.array(s.matrix(b), dtype=float)
        return out

    def focus(self, sheet):
        ws = self.formulas[sheet]
        row, col = focus_cells(ws)
        return int(self.value(sheet, row)), int(self.value(sheet, col))

    def checks(self):
        """Every gradient check: sheet, epoch, parameter, backprop, L(w+h), L(w−h), estimate,
        relative difference and h."""
        out = []
        for sheet, s in self.sheets.items():
            ws = self.formulas[sheet]
            for row in ws.iter_rows():
                for c in row:
                    m = RELATIVE.match(str(self.formula(sheet, c.coordinate) or ""))
                    if not m:
                        continue
                    backprop, estimate = m.groups()
                    plus, minus, h = ESTIMATE.match(self.formula(sheet, estimate)).groups()
                    label = ws.cell(ws[plus].row, 2).value  # "loss(wh + h)", beside its number
                    out.append(dict(sheet=sheet, epoch=s.epoch, name=re.search(r"\((\w+) \+ h\)$", label).group(1),
                                    backprop=self.value(sheet, backprop), plus=self.value(sheet, plus),
                                    minus=self.value(sheet, minus), estimate=self.value(sheet, estimate),
                                    relative=self.value(sheet, c.coordinate), h=self.ref(h),
                                    backprop_formula=self.formula(sheet, backprop)))
        return out

    def after(self):
        """{epoch: (the Overview's loss after its update, the cell it links to, the loss
        before the update beside that cell)}."""
        ov = self.formulas["Overview"]
        out = {}
        for row in ov.iter_rows():
            m = AFTER_LABEL.match(str(row[0].value or ""))
            if m:
                link = row[1].value
                sheet, cell = link[1:].rsplit("!", 1)
                sheet = sheet.strip("'")
                out[int(m.group(1))] = (self.value("Overview", row[1].coordinate), self.ref(link[1:]),
                                        self.formula(sheet, cell.replace("$", "")))
        return out


def check_gradients(book: Book, net, expect_count: int):
    """Each check: the relative difference below 1e-6, the backprop value that of the sheet's
    yellow cell, and L(w ± h) the loss of the sheets' parameters with the focus cell moved."""
    checks = book.checks()
    assert len(checks) == expect_count
    worst = 0.0
    for c in checks:
        assert 0 <= c["relative"] < 1e-6, c
        worst = max(worst, c["relative"])
        values = book.epoch_values(c["epoch"])
        p = values[c["name"]]
        fr, fc = book.focus(c["sheet"])
        i, j = min(fr, p.shape[0]) - 1, min(fc, p.shape[1]) - 1
        for sign, key in ((1, "plus"), (-1, "minus")):
            moved = p.copy()
            moved[i, j] += sign * c["h"]
            assert c[key] == pytest.approx(reference_loss(net, {**values, c["name"]: moved}), rel=1e-12, abs=1e-13), c
        # (a spreadsheet's file keeps 15 digits of each loss: their difference keeps fewer)
        assert c["estimate"] == pytest.approx(-(c["plus"] - c["minus"]) / (2 * c["h"]), rel=1e-9,
                                              abs=1e-14 * max(1.0, abs(c["plus"])) / c["h"])
        # the backprop value is the direction at the yellow cell of the update's sheet
        s = book.sheets[c["sheet"]]
        block = s.block(("update_" if net.optimizer == "gd" else "g_") + c["name"])
        yellow = np.array(s.matrix(block))[i, j]
        lr = book.ref(c["backprop_formula"].rsplit("/", 1)[1]) if net.optimizer == "gd" else 1  # ".../Overview!$B$14"
        assert c["backprop"] == pytest.approx(yellow / lr, rel=1e-12, abs=1e-300), c
    return worst


@pytest.mark.parametrize("name", CHECKED)
def test_every_preset_checks_every_trained_parameter_below_1e_6_in_the_cached_values(preset_books, name):
    run, path = preset_books[name]
    net = run.config.network
    check_gradients(Book(path), net, len(net.trained()) * len(run.detail))


@pytest.mark.parametrize("name", CHECKED)
def test_the_loss_after_the_update_is_the_next_epochs_loss(preset_books, name):
    run, path = preset_books[name]
    source, overrides = CASES[name]
    after = Book(path).after()
    assert sorted(after) == list(run.detail)
    loss_step = next(s.number for s in run.steps if "loss" in s.results)
    for epoch, (overview, cell, formula) in after.items():
        nxt = stepviz.train(source, **{**overrides, "epochs": epoch + 1, "detail": [epoch + 1]})
        assert cell == overview  # the Overview links to the last step sheet's cell
        assert cell == pytest.approx(nxt.value(epoch + 1, loss_step, "loss")[0, 0], rel=1e-12, abs=1e-15), epoch
        assert formula.startswith("=SUMSQ(") and "!" in formula  # one live forward pass over the sheets


def test_the_loss_after_the_update_is_the_independent_tutorial_loops(seed_book):
    run = stepviz.train("seed-mlp", epochs=2)
    p = run.init
    loop = seed_loop(run.config.X, run.config.y, p["wh"], p["bh"], p["wout"], p["bout"], 0.1, 2)
    (overview, cell, _), = Book(seed_book).after().values()
    assert cell == pytest.approx(loop[1]["loss"][0, 0], rel=1e-12)
    assert cell < loop[0]["loss"][0, 0]  # the step helped


# -- LibreOffice ------------------------------------------------------------------------------
LO_BOOKS = CHECKED + ["chain", "edited", "focus23", "focus99", "momentum", "adam", "adam-edited", "zh", "de"]


@pytest.mark.parametrize("name", LO_BOOKS)
def test_libreoffice_recalculates_the_gradient_checks_below_1e_6(lo, name):
    original, recalculated, _ = lo[name]
    config = stepviz.load_config("seed-mlp") if name not in PRESETS else None
    net = (config or stepviz.train(*CASES[name][:1], **{**CASES[name][1], "epochs": 1, "detail": [1]}).config).network
    if name in ("momentum", "adam", "adam-edited"):
        net = stepviz.load_config("seed-mlp", optimizer=name.split("-")[0]).network
    detail = len({s.epoch for s in step_sheets(recalculated)})
    check_gradients(Book(original, recalculated), net, len(net.trained()) * detail)


def test_editing_lr_changes_the_loss_after_the_update_as_a_fresh_training(lo):
    for name, lr, optimizer in (("edited", 0.5, "gd"), ("adam-edited", 0.05, "adam")):
        original, recalculated, _ = lo[name]
        again = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, 3], lr=lr, optimizer=optimizer)
        before = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, 3], optimizer=optimizer)
        after = Book(original, recalculated).after()
        for epoch in (1, 2):  # both start from the chain of live formulas
            overview, cell, _ = after[epoch]
            assert overview == cell == pytest.approx(again.value(epoch + 1, 6, "loss")[0, 0], rel=1e-9), (name, epoch)
            assert cell != pytest.approx(before.value(epoch + 1, 6, "loss")[0, 0], rel=1e-6)


@pytest.fixture(scope="module")
def reckless(tmp_path_factory, seed_book):
    """Copies a learner made: lr 20 on the default workbook; momentum and Adam with the focus
    moved; all recalculated by LibreOffice in one start."""
    from libreoffice import convert

    d = tmp_path_factory.mktemp("achieved")
    books = {"lr20": set_lr(seed_book, d / "lr20.xlsx", 20)}
    for optimizer in ("momentum", "adam"):
        path = stepviz.write_workbook(stepviz.train("seed-mlp", epochs=3, detail=[1, 2], optimizer=optimizer),
                                      d / f"{optimizer}.xlsx")
        books[optimizer] = set_focus(path, d / f"{optimizer}-focus.xlsx", 3, 2)
    names = sorted(books)
    return {n: (books[n], out) for n, out in zip(names, convert([books[n] for n in names], d, "xlsx"))}


def test_a_reckless_lr_makes_the_loss_go_up(reckless):
    original, recalculated = reckless["lr20"]
    (overview, cell, _), = Book(original, recalculated).after().values()
    again = stepviz.train("seed-mlp", epochs=2, lr=20, detail=[2])
    assert cell == pytest.approx(again.value(2, 6, "loss")[0, 0], rel=1e-9)
    before = Book(original, recalculated).sheets["1.06 error"]
    loss = before.matrix(before.block("loss"))[0][0]
    assert cell > loss + 0.4  # 0.379 before the update, 0.866 after it
    book = Book(original, recalculated)
    check_gradients(book, stepviz.load_config("seed-mlp").network, 4)  # the gradient does not depend on lr


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_the_check_follows_a_moved_focus_with_momentum_and_adam(reckless, optimizer):
    original, recalculated = reckless[optimizer]
    book = Book(original, recalculated)
    net = stepviz.load_config("seed-mlp", optimizer=optimizer).network
    assert {book.focus(c["sheet"]) for c in book.checks()} == {(3, 2)}
    check_gradients(book, net, 8)
    assert all(c["backprop_formula"].startswith("=INDEX(") or "$" in c["backprop_formula"] for c in book.checks())


def test_h_is_a_blue_cell_on_the_overview_and_every_check_reads_it(seed_book):
    wb = openpyxl.load_workbook(seed_book)
    ov = wb["Overview"]
    row = next(r for r in ov.iter_rows() if r[0].value == "h (gradient check)")
    assert row[1].value == 5e-5 and not row[1].protection.locked
    assert row[1].fill.fgColor.rgb.endswith("DDEBF7")  # the input style
    book = Book(seed_book)
    assert {c["h"] for c in book.checks()} == {5e-5}


def test_exercise_workbooks_have_no_check_and_no_h(tmp_path):
    path = stepviz.write_workbook(stepviz.train("seed-mlp", epochs=2, exercise=True), tmp_path / "e.xlsx")
    wb = openpyxl.load_workbook(path)
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any("SUMSQ(" in t and "MMULT(" in t for t in texts)
    assert "h (gradient check)" not in texts


def test_the_readme_quotes_the_real_formula_and_numbers(seed_book):
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "docs" / "learner.md").read_text(encoding="utf-8")  # moved there
    (overview, cell, formula), = Book(seed_book).after().values()
    assert "```\n" + formula + "\n```" in readme
    assert f"| 0.1 | 0.37891 | {cell:.5f} |" in readme
    for lr in (1, 5, 20):
        after = stepviz.train("seed-mlp", epochs=2, lr=lr, detail=[2]).value(2, 6, "loss")[0, 0]
        assert f"| {lr} | 0.37891 | {after:.5f}" in readme, lr
    wout = next(c for c in Book(seed_book).checks() if c["name"] == "wout")
    assert (f"backprop {wout['backprop']:.7f}".replace("-", "−") in readme
            and f"loss(wout + h)\n{wout['plus']:.10f}" in readme.replace("loss(wout + h) ", "loss(wout + h)\n"))


def test_a_forward_pass_too_long_for_one_formula_leaves_the_checks_out(tmp_path):
    """ReLU reads each layer's input twice (IF(z>0,z,0)), so the one-formula pass doubles per
    hidden layer: at six layers it passes Excel's 8,192 characters, and the workbook is
    written without the checks rather than refused."""
    from stepviz.workbook import MAX_FORMULA, estimate

    short = stepviz.load_config("seed-mlp", hidden=[3] * 3, activation="relu", epochs=2)
    long = stepviz.load_config("seed-mlp", hidden=[3] * 6, activation="relu", epochs=2)
    estimate(long)  # accepted
    books = {n: stepviz.write_workbook(stepviz.train(c), tmp_path / f"{n}.xlsx") for n, c in (("short", short), ("long", long))}
    assert len(Book(books["short"]).checks()) == 2 * 3 + 2
    formulas = [f for s in step_sheets(books["long"]) for f in s.formulas.values()]
    assert not Book(books["long"]).checks() and not any(f.startswith("=SUMSQ(") and "MMULT" in f for f in formulas)
    assert all(len(f) <= MAX_FORMULA for s in step_sheets(books["short"]) for f in s.formulas.values())


@pytest.mark.parametrize("name", sorted(set(PRESETS) - set(CHECKED)))
def test_classifiers_and_batches_have_no_checks_yet(preset_books, name):
    """iris (softmax, cross-entropy, mini-batches): no loss-after row, no h, no check columns."""
    run, path = preset_books[name]
    assert Book(path).after() == {}
    wb = openpyxl.load_workbook(path, read_only=True)  # read_only keeps the file open until close()
    try:
        texts = {c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    finally:
        wb.close()
    assert not any(t.startswith("h (gradient check)") or t.startswith("Gradient check of") for t in texts)
