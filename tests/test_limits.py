"""Excel's limits are checked before any work, at the boundary, with the option to change."""
import subprocess
import sys

import pytest

import stepviz
from stepviz.workbook import MAX_COLS, MAX_ROWS, WorkbookError, check_grid, estimate


def test_grid_boundary_last_valid_size_passes_one_more_is_refused():
    check_grid(MAX_ROWS, MAX_COLS, "sheet", "fix")
    with pytest.raises(WorkbookError, match=r"sheet would need 1,048,577 rows, Excel allows 1,048,576; fix"):
        check_grid(MAX_ROWS + 1, 1, "sheet", "fix")
    with pytest.raises(WorkbookError, match=r"16,385 columns, Excel allows 16,384"):
        check_grid(1, MAX_COLS + 1, "sheet", "fix")


def perceptron(n, epochs=1, detail=(1,)):
    """A perceptron on n samples, 1 input, no bias: per detailed epoch its Trace holds 7n + 4
    values (X, y, output_layer_input, output, E, slope_output_layer, d_output; the loss,
    update_wout, and wout twice) and its History 2 + n + 1 columns (epoch, loss, n outputs, wout)."""
    return {"data": {"X": [[0.5]] * n, "y": [[1.0]] * n},
            "network": {"hidden": [], "bias": False}, "training": {"epochs": epochs},
            "workbook": {"detail": list(detail), "max_detail": 1000}}


def test_trace_rows_at_the_boundary():
    n = 1000
    d = (MAX_ROWS - 1) // (7 * n + 4)  # the most detailed epochs whose Trace fits
    assert 1 + d * (7 * n + 4) <= MAX_ROWS < 1 + (d + 1) * (7 * n + 4)
    estimate(stepviz.load_config(perceptron(n, epochs=d + 1, detail=range(1, d + 1))))
    with pytest.raises(WorkbookError, match=rf"the Trace sheet would need {1 + (d + 1) * (7 * n + 4):,} rows.*detail fewer"):
        estimate(stepviz.load_config(perceptron(n, epochs=d + 1, detail=range(1, d + 2))))


def test_history_columns_at_the_boundary():
    def wide(k):  # 128 samples, k outputs: epoch, loss, 128·k outputs, wout's k weights
        return {"data": {"X": [[0.5]] * 128, "y": [[1.0] * k] * 128}, "network": {"hidden": [], "bias": False},
                "training": {"epochs": 1}}
    assert 2 + 128 * 127 + 127 == MAX_COLS + 1
    estimate(stepviz.load_config(wide(126)))
    with pytest.raises(WorkbookError, match=r"the training history sheet would need 16,385 columns.*fewer samples"):
        estimate(stepviz.load_config(wide(127)))


def test_long_sums_stay_far_below_the_formula_limit():
    doc = {"data": {"X": [[0.1] * 300] * 5, "y": [[1.0]] * 5}, "network": {"hidden": [2]},
           "training": {"epochs": 1}}
    config = stepviz.load_config(doc)
    estimate(config)  # 300-term products read ranges: accepted
    from stepviz.terms import excel

    step = config.network.steps()[2]  # hidden input: X (5×300) · wh (300×2)
    t = step.computes[0].op.spell(0, 0, [(5, 300), (300, 2), (1, 2)])
    f = excel(t, lambda c: "XFD1048576", lambda a, b: "XFD1048576:XFD1048576")
    assert f.startswith("MMULT(") and len(f) < 80


def test_detail_cap_is_explicit_and_overridable(tmp_path):
    with pytest.raises(stepviz.ConfigError, match=r"51 epochs in detail, at most 50 .*raise workbook.max_detail"):
        stepviz.load_config("seed-mlp", epochs=60, detail=list(range(1, 52)))
    assert len(stepviz.load_config("seed-mlp", epochs=60, detail=list(range(1, 51))).detail) == 50
    assert len(stepviz.load_config("seed-mlp", epochs=60, detail=list(range(1, 52)), max_detail=60).detail) == 51


def test_cli_refuses_before_any_work_and_leaves_nothing(tmp_path):
    import json

    doc = perceptron(1000)
    lines = ["[data]", f"X = {json.dumps(doc['data']['X'])}", f"y = {json.dumps(doc['data']['y'])}",
             "[network]", "hidden = []", "bias = false", "[training]", "epochs = 100000000",
             "[workbook]", "max_detail = 1000", f"detail = {list(range(1, 151))}"]
    (tmp_path / "big.toml").write_text("\n".join(lines))
    r = subprocess.run([sys.executable, "-m", "stepviz", "run", "big.toml"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    # 10^8 epochs would take minutes: a quick exit shows the check came first
    assert r.returncode == 2 and "the Trace sheet would need" in r.stderr
    assert len(r.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.toml"]  # not even output/


def test_cli_warns_about_a_large_workbook_with_its_size_and_time(tmp_path, monkeypatch, capsys):
    from stepviz import cli, workbook

    monkeypatch.setattr(workbook, "WARN_CELLS", 1000)  # the default run has ~25,000 cells
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "--epochs", "10"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("stepviz: warning: about ") and " cells in 16 sheets, ~" in err and " s to write" in err  # + Training
    assert cli.main(["run", "--epochs", "10", "-q"]) == 0
    assert capsys.readouterr().err == ""
