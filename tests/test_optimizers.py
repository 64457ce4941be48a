"""Momentum and Adam as live formulas: the state is recorded, carried from epoch to epoch by
links, and recomputed by a spreadsheet when lr is edited. (The engine against an
independent implementation: tests/test_networks.py.)"""
import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import stepviz
from conftest import LIVE
from book import dump, same_dump, step_sheets
from test_libreoffice import lines_check

GOLDEN = Path(__file__).parent / "golden" / "seed-mlp-gd.txt"


def test_gd_workbook_is_unchanged_by_the_optimizers(tmp_path, seed_book):
    """optimizer = "gd" (the default) writes the same bytes; its step sheets are the golden
    ones recorded before the optimizers existed (formulas, values, formats, locks)."""
    gd = stepviz.write_workbook(stepviz.train("seed-mlp", optimizer="gd", live_epochs=LIVE), tmp_path / "gd.xlsx")
    assert gd.read_bytes() == seed_book.read_bytes()
    chain = stepviz.write_workbook(stepviz.train("seed-mlp", detail=[1, 2, "last"], epochs=50), tmp_path / "c.xlsx")
    # numbers to 1e-12 relative: another CPU's numpy may round the last bits differently
    assert same_dump(dump(chain), GOLDEN.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_state_starts_at_zero_and_is_carried_by_links(tmp_path, optimizer):
    run = stepviz.train("seed-mlp", epochs=4, detail=[1, 2, 4], optimizer=optimizer)
    path = stepviz.write_workbook(run, tmp_path / "o.xlsx")
    state = run.config.network.state()
    assert state and all(np.all(run.value(1, 2, n) == 0) for n in state if n != "t")
    wb = openpyxl.load_workbook(path)
    sheets = {s.title: s for s in step_sheets(path)}
    init2 = sheets["2.02 initialise"]
    for name in state:
        b = init2.block(name)
        f = init2.formulas[b.top_left]
        if name == "t":  # the epoch counter: the previous epoch's, plus one
            assert f == "='1.02 initialise'!" + openpyxl.utils.get_column_letter(
                sheets["1.02 initialise"].block("t").top_left[1]) + str(sheets["1.02 initialise"].block("t").top_left[0]) + "+1"
        else:  # the previous epoch's update of the state
            assert re.match(r"^='1\.1[12] update (weights|biases)'!", f), (name, f)
    init4 = wb["4.02 initialise"]  # epoch 3 is not in the workbook: links to the Training sheet's row 4,
    # and the data bars' links to the weights beside them
    links = [c for row in init4.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    bars = [c for c in links if c.number_format == ";;;"]
    assert bars and all("!" not in c.value for c in bars)
    rest = [c.value for c in links if c.number_format != ";;;"]
    assert rest and all(v.startswith("=Training!$") for v in rest)
    if optimizer == "adam":
        assert run.value(4, 2, "t")[0, 0] == 4
        s = sheets["1.11 update weights"]
        assert s.block("t", linked=True).linked  # t is visible where the bias correction reads it


def test_editing_lr_recomputes_two_epochs_of_adam_with_the_state_carried_by_formulas(lo):
    again = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"], optimizer="adam", lr=0.05)
    before = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"], optimizer="adam")
    sheets = {s.title: s for s in step_sheets(lo["adam-edited"][1])}
    for epoch in (1, 2):
        for title, name, step in ((f"{epoch}.11 update weights", "wout", 11), (f"{epoch}.11 update weights", "m_wh", 11),
                                  (f"{epoch}.12 update biases", "s_bout", 12), (f"{epoch}.12 update biases", "bh", 12)):
            s = sheets[title]
            block = next(b for b in s.blocks if b.name == name and not b.linked)
            np.testing.assert_allclose(s.matrix(block), again.value(epoch, step, name), atol=1e-9)
        s = sheets[f"{epoch}.02 initialise"]
        np.testing.assert_allclose(s.matrix(s.block("m_wout")), again.value(epoch, 2, "m_wout"), atol=1e-9)
    # epoch 2 starts from epoch 1's weights, which moved with lr: so does its state's update
    assert not np.allclose(again.value(2, 11, "m_wout"), before.value(2, 11, "m_wout"), rtol=1e-6, atol=0)
    # every yellow cell's arithmetic, recomputed: 11 results of steps 3-10, 4 parameters × 6, 3 epochs
    assert lines_check("adam-edited", lo) == 3 * (11 + 4 * 6)
