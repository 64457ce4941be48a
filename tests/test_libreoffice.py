"""LibreOffice recalculates the workbooks and gets the engine's numbers.

The poisoned copy has every cached formula value replaced by 12345: if LibreOffice did
not recalculate, it would hand back 12345 and the test would fail.
"""
import re
import zipfile

import numpy as np
import openpyxl
import pytest

import stepviz
from conftest import PRESETS
from libreoffice import recalculate

POISON = 12345.0


def poison(src, dst):
    """Copy an xlsx, replacing the cached value of every formula cell."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb"(</f><v>)[^<]*(</v>)", rb"\g<1>12345\g<2>", data)
            zout.writestr(item, data)


def formula_values(path):
    """{(sheet, cell): cached value} of every formula cell."""
    wf, wv = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): wv[ws.title][c.coordinate].value
            for ws in wf.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")}


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """The seed-mlp workbook (two detailed epochs), a poisoned copy, and a copy whose lr
    a learner edited to 0.5, all recalculated by LibreOffice in one start."""
    d = tmp_path_factory.mktemp("lo")
    run = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"])
    book = stepviz.write_workbook(run, d / "book.xlsx")
    poison(book, d / "poisoned.xlsx")
    edited = openpyxl.load_workbook(book)
    ov = edited["Overview"]
    lr_cell = next(row[1] for row in ov.iter_rows() if row[0].value == "lr")
    lr_cell.value = 0.5
    edited.save(d / "edited.xlsx")
    out = recalculate([book, d / "poisoned.xlsx", d / "edited.xlsx"], d)
    return run, book, dict(zip(["book", "poisoned", "edited"], out))


def test_libreoffice_recalculation_equals_the_cached_values(recalculated):
    run, book, out = recalculated
    cached = formula_values(book)
    assert len(cached) > 700
    for name in ("book", "poisoned"):
        recalc = formula_values(out[name])
        assert recalc.keys() == cached.keys()
        for key, want in cached.items():
            got = recalc[key]
            assert isinstance(got, (int, float)), f"{name} {key}: {got!r}"
            assert got == pytest.approx(want, abs=1e-9, rel=1e-9), f"{name} {key}"


def test_poisoned_cache_was_really_recalculated(recalculated):
    _, book, out = recalculated
    poisoned = formula_values(book.parent / "poisoned.xlsx")
    assert set(poisoned.values()) == {POISON}  # the control really was poisoned
    assert POISON not in set(formula_values(out["poisoned"]).values())


def test_editing_lr_recomputes_the_whole_chain(recalculated):
    run, _, out = recalculated
    again = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"], lr=0.5)
    wb = openpyxl.load_workbook(out["edited"], data_only=True)
    from book import step_sheets

    sheets = {s.title: s for s in step_sheets(out["edited"])}
    for epoch in (1, 2):  # epoch 2 starts from epoch 1's update: the change carries on
        for title, name, step in ((f"{epoch}.11 update weights", "wout", 11),
                                  (f"{epoch}.12 update biases", "bh", 12)):
            s = sheets[title]
            block = next(b for b in s.blocks if b[0] == name and b[1])
            np.testing.assert_allclose(s.matrix(block), again.value(epoch, step, name), atol=1e-9)
            assert not np.allclose(s.matrix(block), run.value(epoch, step, name), atol=1e-6)
    assert wb["1.11 update weights"] is not None


@pytest.fixture(scope="module")
def recalculated_presets(preset_books, tmp_path_factory):
    d = tmp_path_factory.mktemp("lo-presets")
    names = sorted(preset_books)
    out = recalculate([preset_books[n][1] for n in names], d)
    return {n: (preset_books[n][1], o) for n, o in zip(names, out)}


@pytest.mark.parametrize("name", PRESETS)
def test_libreoffice_recalculates_every_preset_to_the_cached_values(recalculated_presets, name):
    book, recalc = recalculated_presets[name]
    cached, fresh = formula_values(book), formula_values(recalc)
    assert cached.keys() == fresh.keys() and len(cached) > 50
    for key, want in cached.items():
        got = fresh[key]
        assert isinstance(got, (int, float)), f"{key}: {got!r}"
        assert got == pytest.approx(want, abs=1e-9, rel=1e-9), key
