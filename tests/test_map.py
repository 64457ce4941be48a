"""The Map sheet (issue 18): every map cell is the network's forward pass at its point, against an
independent numpy forward pass written here; LibreOffice recalculates the same numbers and redraws
the live maps after a start weight is edited; the pictures' colour scales and data bars; who gets
a Map; ``Run.show_map``."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import stepviz
from book import step_sheets

ROOT = Path(__file__).resolve().parent.parent
MOONS = ROOT / "examples" / "moons.csv"
CAPTION = re.compile(r"^(\w+)(?: · unit (\d+)|: (\S+))?   \((.+) →, (.+) ↑\)$")  # (output: setosa: a class)
AFTER = re.compile(r"^(output)(?:\[·,(\d+)\]|: (\S+))? after epoch (\d+)$")
ACT = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}

# networks with two inputs, one of each kind of forward pass the step table spells
CASES = {
    "xor": ("xor", dict(live_epochs=30)),  # the final maps stay values here (test_training: live)
    "or-gate": ("or-gate", dict(live_epochs=30)),  # a perceptron: no hidden layer
    "deep-tanh": ("xor", dict(hidden=[3, 2], activation="tanh", epochs=300, lr=0.1)),
    "relu": ("xor", dict(hidden=[4], activation="relu", epochs=300, lr=0.1)),
    "no-bias": ("two-layer", dict(map=["x1", "x3"], epochs=200)),  # 3 inputs, one held at its mean
    "four-inputs": ("seed-mlp", dict(map=["x2", "x4"], epochs=100)),
}


def reference(params: dict, X: np.ndarray, net) -> dict:
    """The forward pass, written out: each hidden layer's activations, then the output."""
    f = ACT[net.activation]
    n = len(net.hidden)
    names = [("wh", "bh")] if n == 1 else [(f"wh{l + 1}", f"bh{l + 1}") for l in range(n)]
    out, a = {}, X
    for w, b in names + [("wout", "bout")]:
        z = a @ params[w] + (params[b] if b in params else 0.0)
        if w == "wout" and net.output == "softmax":  # each row's exp, normalised
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            a = (ACT[net.output] if w == "wout" and net.output else f)(z)
        out[w] = a
    return out


def maps_of(path) -> list[dict]:
    """Every map on the Map sheet, top to bottom, left to right: caption, axes, formulas, values."""
    wf, wv = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    ws, vs = wf["Map"], wv["Map"]
    found = []
    for row in ws.iter_rows():
        for c in row:
            if not isinstance(c.value, str):
                continue
            m, after = CAPTION.match(c.value), AFTER.match(c.value)
            if not (m or after):
                continue
            r0, c0 = c.row, c.column
            xs = [ws.cell(r0 + 1, c0 + 1 + j).value for j in range(25)]
            ys = [ws.cell(r0 + 2 + i, c0).value for i in range(25)]
            cells = [[(r0 + 2 + i, c0 + 1 + j) for j in range(25)] for i in range(25)]
            found.append({"name": (m or after).group(1), "unit": int((m or after).group(2) or 1) - 1,
                          "label": (m or after).group(3),
                          "epoch": int(after.group(4)) if after else None, "at": (r0, c0),
                          "xs": np.array(xs, float), "ys": np.array(ys, float),
                          "formulas": [[ws.cell(*rc).value for rc in row] for row in cells],
                          "values": np.array([[vs.cell(*rc).value for rc in row] for row in cells], float)})
    return sorted(found, key=lambda m: m["at"])


def sections(run, maps):
    """(live maps, final maps, course maps): the first two sections hold a map per unit each."""
    units = sum(run.config.network.hidden) + run.config.network.outputs
    live = [m for m in maps if m["epoch"] is None]
    assert len(live) == 2 * units
    return live[:units], live[units:], [m for m in maps if m["epoch"] is not None]


def layer_key(run, name: str) -> str:
    """The reference's key of a map's layer: wout for the output, wh / whN for a hidden layer."""
    if name == "output":
        return "wout"
    suffix = name.removeprefix("hiddenlayer_activations")
    return "wh" + suffix


def points(run, m) -> np.ndarray:
    """The inputs of each cell of a map, from its axes as the sheet shows them (in the data's
    units; with data.standardize as the network reads them: (x − mean) / sd of the data)."""
    cfg = run.config
    a, b = cfg.map_inputs
    raw = cfg.X if cfg.raw_X is None else cfg.raw_X
    X = np.tile(raw.mean(axis=0), (625, 1))
    X[:, a] = np.tile(m["xs"], 25)
    X[:, b] = np.repeat(m["ys"], 25)
    return X if cfg.raw_X is None else (X - raw.mean(axis=0)) / raw.std(axis=0)


def expected(run, params, m) -> np.ndarray:
    return reference(params, points(run, m), run.config.network)[layer_key(run, m["name"])][:, m["unit"]].reshape(25, 25)


def after_epoch_1(run) -> dict:
    last = run.config.network.producers()[1]
    return {p: run.value(1, last[p].number, p) for p in run.config.network.parameters()}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("maps")
    out = {}
    for name, (source, overrides) in CASES.items():
        run = stepviz.train(source, **overrides)
        out[name] = (run, stepviz.write_workbook(run, d / f"{name}.xlsx"))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_map_cell_is_the_forward_pass_at_its_point(books, name):
    run, path = books[name]
    live, final, course = sections(run, maps_of(path))
    cfg = run.config
    a, b = cfg.map_inputs
    for m in live + final + course:  # the grid covers the data plus a margin, highest row first
        assert m["xs"][0] < cfg.X[:, a].min() and m["xs"][-1] > cfg.X[:, a].max()
        assert m["ys"][0] > cfg.X[:, b].max() and m["ys"][-1] < cfg.X[:, b].min()
        assert (np.diff(m["xs"]) > 0).all() and (np.diff(m["ys"]) < 0).all()
    for maps, params in ((live, after_epoch_1(run)), (final, run.params)):
        assert {(m["name"], m["unit"]) for m in maps} == {("output", 0)} | {
            (f"hiddenlayer_activations{'' if len(cfg.network.hidden) == 1 else l + 1}", u)
            for l, h in enumerate(cfg.network.hidden) for u in range(h)}
        for m in maps:
            np.testing.assert_allclose(m["values"], expected(run, params, m), rtol=0, atol=1e-12, err_msg=m["name"])
            assert all(f.startswith("=") for row in m["formulas"] for f in row)
    epochs = sorted(m["epoch"] for m in course)
    assert epochs[-1] == cfg.epochs and epochs[0] == 1 and len(epochs) >= 3
    for m in course:  # the training's course: values from the recorded parameters
        params = stepviz.train(dict(_doc(run), training=dict(_doc(run)["training"], epochs=m["epoch"])),
                               ).params if m["epoch"] <= 300 else None
        if params is not None:  # a fresh training to that epoch: the same parameters
            np.testing.assert_allclose(m["values"], expected(run, params, m), rtol=0, atol=1e-12)


def _doc(run) -> dict:
    """A config document that trains ``run``'s network from its start values."""
    cfg, net = run.config, run.config.network
    return {"data": {"X": cfg.X.tolist(), "y": cfg.y.tolist()},
            "network": {"hidden": list(net.hidden), "activation": net.activation, "bias": net.bias,
                        "loss": net.loss},
            "training": {"lr": cfg.lr, "epochs": cfg.epochs},
            "init": {p: v.tolist() for p, v in run.init.items()}, "workbook": {"detail": [1]}}


def test_live_formulas_read_the_first_epochs_updates_through_the_parameter_list(books):
    run, path = books["xor"]
    ws = openpyxl.load_workbook(path)["Map"]
    links = {c.value for row in ws.iter_rows(max_col=3) for c in row if isinstance(c.value, str)
             and c.value.startswith("='1.1")}
    assert len(links) == 13 and all(re.match(r"^='1\.1[12] update (weights|biases)'!\$?[A-Z]+\$?\d+$", f) for f in links)
    live = sections(run, maps_of(path))[0]
    out = next(m for m in live if m["name"] == "output")["formulas"][0][0]
    hidden = next(m for m in live if m["name"] != "output")["formulas"][0][0]
    # small formulas, as the step table spells them (stepviz.formulas.unit): the overflow-safe
    # sigmoid of a dot product plus a bias, one formula for every point of a map
    assert re.fullmatch(r"=1/\(1\+EXP\(MIN\(709,-\((\w+\*\$C\$\d+\+){3}\$C\$\d+\)\)\)\)", out), out
    assert re.fullmatch(r"=1/\(1\+EXP\(MIN\(709,-\(\w+\$\d+\*\$C\$\d+\+\$\w+\d+\*\$C\$\d+\+\$C\$\d+\)\)\)\)",
                        hidden), hidden


def nearest(m, X, columns):
    a, b = columns
    return [(int(np.abs(m["ys"] - x[b]).argmin()), int(np.abs(m["xs"] - x[a]).argmin())) for x in X]


def test_xor_final_map_classifies_the_four_points(books):
    run, path = books["xor"]
    final = next(m for m in sections(run, maps_of(path))[1] if m["name"] == "output")
    for (i, j), target in zip(nearest(final, run.config.X, (0, 1)), run.config.y[:, 0]):
        assert (final["values"][i, j] > 0.5) == (target == 1)
    wf = openpyxl.load_workbook(path)["Map"]  # the nearest cells show the targets, framed
    r0, c0 = final["at"]
    for (i, j), target in zip(nearest(final, run.config.X, (0, 1)), run.config.y[:, 0]):
        cell = wf.cell(r0 + 2 + i, c0 + 1 + j)
        assert cell.number_format == f'"{target:g}"' and cell.font.b and cell.border.left.style == "medium"


def crossings(m) -> np.ndarray:
    """Where the output crosses 0.5 along each row of a sigmoid map: the logit, linear between
    two cells, is zero there."""
    z = np.log(m["values"] / (1 - m["values"]))
    pts = []
    for i in range(25):
        for j in range(24):
            if z[i, j] * z[i, j + 1] < 0:
                t = z[i, j] / (z[i, j] - z[i, j + 1])
                pts.append((m["xs"][j] + t * (m["xs"][j + 1] - m["xs"][j]), m["ys"][i]))
    return np.array(pts)


def test_or_gate_boundary_is_a_straight_line_and_xors_is_not(books):
    run, path = books["or-gate"]
    final = sections(run, maps_of(path))[1][0]
    pts = crossings(final)
    assert len(pts) >= 5
    centred = pts - pts.mean(axis=0)
    normal = np.linalg.svd(centred)[2][-1]
    assert np.abs(centred @ normal).max() < 1e-9  # every crossing on one line
    run, path = books["xor"]
    pts = crossings(next(m for m in sections(run, maps_of(path))[1] if m["name"] == "output"))
    centred = pts - pts.mean(axis=0)
    assert np.abs(centred @ np.linalg.svd(centred)[2][-1]).max() > 0.05  # the control: xor's bends


def rules(ws, kind):
    return [(str(rng.sqref), r) for rng in ws.conditional_formatting for r in rng.rules if r.type == kind]


def test_colour_scales_on_the_maps_and_data_bars_on_the_weights(books, seed_book):
    run, path = books["xor"]
    wb = openpyxl.load_workbook(path)
    maps = maps_of(path)
    scales = rules(wb["Map"], "colorScale")
    assert len(scales) == len(maps) + 1  # each map and the legend
    for _, r in scales:
        assert [float(v.val) for v in r.colorScale.cfvo] == [0, 0.5, 1]  # sigmoid: 0 → 0.5 → 1
    bars = rules(wb["1.02 initialise"], "dataBar")
    assert len(bars) == len(run.config.network.parameters())
    assert len(rules(wb["1.11 update weights"], "dataBar")) == 2  # beside wout and wh updated, not their copies
    assert rules(wb["Overview"], "dataBar")
    assert not rules(openpyxl.load_workbook(seed_book)["Overview"], "dataBar")  # no map: no Network section
    assert rules(openpyxl.load_workbook(seed_book)["1.02 initialise"], "dataBar")


def test_who_gets_a_map(books, tmp_path):
    for name in stepviz.presets():
        cfg = stepviz.load_config(name)
        assert (cfg.map_inputs is not None) == (cfg.X.shape[1] == 2), name
    run = stepviz.train("seed-mlp", epochs=5)
    names = openpyxl.load_workbook(stepviz.write_workbook(run, tmp_path / "a.xlsx"), read_only=True).sheetnames
    assert "Map" not in names
    run = stepviz.train("xor", epochs=5, exercise=True)  # its live parameters are the answers
    names = openpyxl.load_workbook(stepviz.write_workbook(run, tmp_path / "b.xlsx"), read_only=True).sheetnames
    assert "Map" not in names
    run = stepviz.train("xor", epochs=5, map=[])
    names = openpyxl.load_workbook(stepviz.write_workbook(run, tmp_path / "c.xlsx"), read_only=True).sheetnames
    assert "Map" not in names
    ws = openpyxl.load_workbook(books["four-inputs"][1])["Map"]
    assert ws["A3"].value == "The other inputs are held at their mean: x1, x3."
    assert ws["A1"].value.endswith("over the plane of x2 (across) and x4 (up)")


@pytest.mark.parametrize("args, message", [
    (["virus", "--map", "loss_of_smell,positive"], "'positive' is a target column"),
    (["virus", "--map", "loss_of_smell,smell"], "no input column 'smell'; input columns: loss_of_smell, "),
    (["virus", "--map", "loss_of_smell"], "expected two input column names"),
    (["seed-mlp", "--map", "x1,x1"], "name two different input columns"),
    (["seed-mlp", "--map", "x1,x5"], "no input column 'x5'; input columns: x1, x2, x3, x4"),
])
def test_bad_map_columns_are_one_line_and_exit_2(tmp_path, args, message):
    out = tmp_path / "out.xlsx"
    r = subprocess.run([sys.executable, "-m", "stepviz", "run", *args, "-o", str(out)], capture_output=True,
                       text=True, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("stepviz: error: workbook.map: ") and message in r.stderr
    assert not out.exists()


def test_map_option_on_the_command_line(tmp_path):
    out = tmp_path / "out.xlsx"
    r = subprocess.run([sys.executable, "-m", "stepviz", "run", "seed-mlp", "--epochs", "3", "--map", "x2,x4",
                        "-o", str(out), "-q"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ws = openpyxl.load_workbook(out)["Map"]
    assert ws["A1"].value.endswith("over the plane of x2 (across) and x4 (up)")


def test_a_two_column_csv_gets_a_map_named_by_its_header(tmp_path):
    run = stepviz.train(None, csv=str(MOONS), target=["class"], hidden=[6], epochs=300, lr=1.0)
    path = stepviz.write_workbook(run, tmp_path / "moons.xlsx")
    live, final, _ = sections(run, maps_of(path))
    assert openpyxl.load_workbook(path)["Map"]["A1"].value.endswith("plane of u (across) and v (up)")
    for m in final:
        np.testing.assert_allclose(m["values"], expected(run, run.params, m), rtol=0, atol=1e-12)


def test_show_map_is_the_sheets_numbers(books):
    run, path = books["deep-tanh"]
    live, final, _ = sections(run, maps_of(path))
    for epoch, maps in ((None, final), (1, live)):
        fig = run.show_map(epoch)
        assert len(fig.axes) == len(maps)
        shown = {ax.get_title(): np.asarray(ax.images[0].get_array()) for ax in fig.axes}
        for m in maps:
            title = m["name"] if m["name"] == "output" else f"{m['name']}[·,{m['unit'] + 1}]"
            np.testing.assert_allclose(shown[title], m["values"], rtol=0, atol=1e-12)
    only = run.show_map(hidden=False)
    assert len(only.axes) == 1
    with pytest.raises(stepviz.StepvizError, match="were not recorded"):
        stepviz.train("xor", epochs=100, history_every=10).show_map(5)
    with pytest.raises(stepviz.StepvizError, match="name two with workbook.map"):
        stepviz.train("seed-mlp", epochs=3).show_map()


def test_import_does_not_load_matplotlib():
    code = ("import sys, stepviz; stepviz.train; stepviz.Run.show_map; "
            "sys.exit(sorted({'matplotlib'} & set(sys.modules)) or 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- LibreOffice ----------------------------------------------------------------------------------
def edit_start_weight(src, dst, value):
    """A copy with wh[1,1] typed on the first epoch's step 2, as a learner would (openpyxl keeps
    the formulas; LibreOffice recalculates everything)."""
    sheet = next(s for s in step_sheets(src) if s.epoch == 1 and s.step == 2)
    r, c = sheet.block("wh").top_left
    wb = openpyxl.load_workbook(src)
    wb[sheet.title].cell(r, c).value = value
    wb.save(dst)
    return dst


def test_libreoffice_recalculates_every_map_and_redraws_after_an_edit(books, tmp_path):
    from libreoffice import convert

    names = ["xor", "deep-tanh", "relu", "no-bias", "four-inputs"]
    edited = edit_start_weight(books["xor"][1], tmp_path / "edited.xlsx", -2.5)
    files = [books[n][1] for n in names] + [edited]
    recalculated = dict(zip(names + ["edited"], convert(files, tmp_path, "xlsx")))
    for name in names:
        run = books[name][0]
        live, final, course = sections(run, maps_of(recalculated[name]))
        for maps, params in ((live, after_epoch_1(run)), (final, run.params)):
            for m in maps:
                np.testing.assert_allclose(m["values"], expected(run, params, m), rtol=1e-9, atol=1e-9,
                                           err_msg=f"{name} {m['name']}")
    # the edited copy: the live maps are those of a fresh training from the edited start
    run = books["xor"][0]
    doc = _doc(run)
    doc["init"]["wh"][0][0] = -2.5
    fresh = stepviz.train(dict(doc, training=dict(doc["training"], epochs=1)))
    live, final, _ = sections(run, maps_of(recalculated["edited"]))
    before = sections(run, maps_of(books["xor"][1]))[0]
    for m, old in zip(live, before):
        np.testing.assert_allclose(m["values"], expected(run, fresh.params, m), rtol=1e-9, atol=1e-9)
        if m["name"] != "hiddenlayer_activations" or m["unit"] == 0:
            assert np.abs(m["values"] - old["values"]).max() > 1e-3  # really redrawn
    for m in final:  # values from training do not change
        np.testing.assert_allclose(m["values"], expected(run, run.params, m), rtol=0, atol=1e-12)


# -- classification (issue 19): softmax outputs, class labels, mini-batches ------------------------
SOFTMAX = {"data": {"csv": str(MOONS), "target": ["class"], "classes": True},
           "network": {"hidden": [4], "output": "softmax", "loss": "ce"},
           "training": {"epochs": 50, "batch_size": 10, "lr": 0.5}}
BCE = {"data": {"csv": str(MOONS), "target": ["class"]},
       "network": {"hidden": [3], "activation": "tanh", "output": "sigmoid", "loss": "bce"},
       "training": {"epochs": 30, "lr": 0.05}}


def with_units(run, maps):
    """A class map's unit from its label (``output: 1`` is the probability of class ``1``)."""
    for m in maps:
        if m["label"] is not None:
            m["unit"] = run.config.y_labels.index(m["label"])
    return maps


def first_update(run) -> dict:
    """Batch 1.1 of the softmax network, written out: one step of gradient descent on the first
    batch's rows from the start values (d_output = y − softmax, the cross-entropy's direction)."""
    cfg, p = run.config, {k: v.copy() for k, v in run.init.items()}
    X, y = cfg.X[:cfg.batch_size], cfg.y[:cfg.batch_size]
    a = 1 / (1 + np.exp(-(X @ p["wh"] + p["bh"])))
    d_out = y - reference(p, X, cfg.network)["wout"]
    d_hid = (d_out @ p["wout"].T) * a * (1 - a)
    p["wout"] += a.T @ d_out * cfg.lr
    p["bout"] += d_out.sum(axis=0) * cfg.lr
    p["wh"] += X.T @ d_hid * cfg.lr
    p["bh"] += d_hid.sum(axis=0) * cfg.lr
    return p


@pytest.fixture(scope="module")
def classify_books(tmp_path_factory):
    d = tmp_path_factory.mktemp("classify_maps")
    out = {}
    for name, doc in (("softmax", SOFTMAX), ("bce", BCE)):
        # 3 live epochs: the maps' tests need no long Training sheet (with 200 live rows of
        # batches, LibreOffice's multi-threaded calculation miscomputes one: the test below)
        run = stepviz.train(doc, live_epochs=3)
        out[name] = (run, stepviz.write_workbook(run, d / f"{name}.xlsx"))
    return out


def test_softmax_maps_one_per_class_are_the_forward_pass(classify_books):
    run, path = classify_books["softmax"]
    assert run.config.batches == 4 and run.label(run.detail[0]) == "1.1"
    live, final, course = (with_units(run, s) for s in sections(run, maps_of(path)))
    for maps in (live, final):  # one map per class, named by its label, then the hidden units
        assert [m["label"] for m in maps if m["name"] == "output"] == ["0", "1"]
    start = first_update(run)  # the live maps: after batch 1.1, not after epoch 1
    for maps, params in ((live, start), (final, run.params)):
        for m in maps:
            np.testing.assert_allclose(m["values"], expected(run, params, m), rtol=0, atol=1e-12, err_msg=m["name"])
            assert all(f.startswith("=") for row in m["formulas"] for f in row)
    out = next(m for m in live if m["name"] == "output")
    assert out["formulas"][0][0].startswith("=EXP(") and "MAX(" in out["formulas"][0][0]
    np.testing.assert_allclose(sum(m["values"] for m in live if m["name"] == "output"), 1.0, rtol=0, atol=1e-12)
    # the colour scale of a probability: 0 → 1, also on the maps over training
    scales = rules(openpyxl.load_workbook(path)["Map"], "colorScale")
    assert len(scales) == 1 + len(live) + len(final) + len(course)  # the legend and each map
    for _, r in scales:
        assert [float(v.val) for v in r.colorScale.cfvo] == [0, 0.5, 1]
    assert sorted({m["epoch"] for m in course})[0] == 1 and max(m["epoch"] for m in course) == 50
    for m in course:  # after whole epochs (every batch), as a fresh training to that epoch
        if m["epoch"] <= 10:
            fresh = stepviz.train(dict(SOFTMAX, training=dict(SOFTMAX["training"], epochs=m["epoch"])))
            np.testing.assert_allclose(m["values"], expected(run, fresh.params, m), rtol=0, atol=1e-12)



def test_batched_links_point_at_the_first_updates_sheets(classify_books):
    run, path = classify_books["softmax"]
    wb = openpyxl.load_workbook(path)
    for sheet, cols in (("Map", 3), ("Overview", 2)):  # the live parameter list, the Network section
        links = {c.value for row in wb[sheet].iter_rows(max_col=cols) for c in row
                 if isinstance(c.value, str) and c.value.startswith("='")}
        links = {f for f in links if "update" in f}
        assert len(links) == 4 * 2 + 4 + 4 * 2 + 2, sheet  # wh, bh, wout, bout
        assert all(re.match(r"^='1\.1\.1[12] update (weights|biases)'!\$?[A-Z]+\$?\d+$", f) for f in links), links
    texts = [c.value for row in wb["Map"].iter_rows(max_row=20) for c in row if isinstance(c.value, str)]
    assert any(t.startswith("Update 1.1 (epoch 1, batch 1) after its update") for t in texts), texts
    assert any("parameters after update 1.1 (links to 1.1.11, 1.1.12)" == t for t in texts), texts
    overview = [c.value for row in wb["Overview"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("The weights after update 1.1 (epoch 1, batch 1), live") for t in overview)


def test_bce_sigmoid_output_under_tanh_hidden_units(classify_books):
    run, path = classify_books["bce"]
    live, final, _ = sections(run, maps_of(path))
    for maps, params in ((live, after_epoch_1(run)), (final, run.params)):
        for m in maps:
            np.testing.assert_allclose(m["values"], expected(run, params, m), rtol=0, atol=1e-12, err_msg=m["name"])
    ws = openpyxl.load_workbook(path)["Map"]
    scales = {ref: [float(v.val) for v in r.colorScale.cfvo] for ref, r in rules(ws, "colorScale")}
    out = next(m for m in final if m["name"] == "output")
    hidden = next(m for m in final if m["name"] != "output")
    at = lambda m: f"{openpyxl.utils.get_column_letter(m['at'][1] + 1)}{m['at'][0] + 2}"  # noqa: E731
    assert [v for ref, v in scales.items() if ref.startswith(at(out))] == [[0, 0.5, 1]]  # the sigmoid's
    assert [v for ref, v in scales.items() if ref.startswith(at(hidden))] == [[-1, 0, 1]]  # tanh's


def test_iris_map_of_two_named_columns_on_the_command_line(tmp_path):
    out = tmp_path / "iris.xlsx"
    proc = subprocess.run([sys.executable, "-m", "stepviz", "run", "iris", "--map", "petal_length,petal_width",
                           "-q", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    run = stepviz.train("iris", map=["petal_length", "petal_width"])
    assert run.config.map_inputs == (2, 3)
    live, final, course = (with_units(run, s) for s in sections(run, maps_of(out)))
    assert [m["label"] for m in final if m["name"] == "output"] == ["setosa", "versicolor", "virginica"]
    first = run.config.network.producers()[1]
    start = {p: run.value(run.detail[0], first[p].number, p) for p in run.config.network.parameters()}
    for maps, params in ((live, start), (final, run.params)):
        for m in maps:
            np.testing.assert_allclose(m["values"], expected(run, params, m), rtol=0, atol=1e-12, err_msg=m["name"])
    ws = openpyxl.load_workbook(out)["Map"]
    texts = [c.value for row in ws.iter_rows(max_row=4) for c in row if isinstance(c.value, str)]
    assert "The other inputs are held at their mean: sepal_length, sepal_width." in texts
    # small petals (the bottom left) are setosa's, large ones (the top right) virginica's
    probs = {m["label"]: m["values"] for m in final if m["name"] == "output"}
    assert probs["setosa"][-1, 0] > 0.5 and probs["virginica"][0, -1] > 0.5


def test_show_map_of_a_softmax_network(classify_books):
    run, path = classify_books["softmax"]
    live, final, _ = (with_units(run, s) for s in sections(run, maps_of(path)))
    for epoch, maps in ((None, final), ("1.1", live)):
        fig = run.show_map(epoch)
        assert len(fig.axes) == len(maps)
        shown = {ax.get_title(): np.asarray(ax.images[0].get_array()) for ax in fig.axes}
        for m in maps:
            title = f"output: {m['label']}" if m["name"] == "output" else f"{m['name']}[·,{m['unit'] + 1}]"
            np.testing.assert_allclose(shown[title], m["values"], rtol=0, atol=1e-12)
        assert [im.get_clim() for ax in fig.axes[:2] for im in ax.images] == [(0, 1), (0, 1)]
    # an int is an epoch: after its last batch, as a fresh training of one epoch
    fresh = stepviz.train(dict(SOFTMAX, training=dict(SOFTMAX["training"], epochs=1)))
    grid = np.asarray(run.show_map(1, hidden=False).axes[1].images[0].get_array())
    m = next(m for m in final if m["label"] == "1")
    np.testing.assert_allclose(grid, expected(run, fresh.params, m), rtol=0, atol=1e-12)
    with pytest.raises(stepviz.StepvizError, match="update 1.2 was not detailed"):
        run.show_map("1.2")


def test_libreoffice_recalculates_the_softmax_maps(classify_books, tmp_path):
    from libreoffice import convert

    run, path = classify_books["softmax"]
    (recalculated,) = convert([path], tmp_path, "xlsx")
    live, final, _ = (with_units(run, s) for s in sections(run, maps_of(recalculated)))
    for maps, params in ((live, first_update(run)), (final, run.params)):
        for m in maps:
            np.testing.assert_allclose(m["values"], expected(run, params, m), rtol=1e-9, atol=1e-9, err_msg=m["name"])


def test_a_softmax_map_formula_beyond_excels_limit_is_one_line_and_exit_2(tmp_path):
    """3 classes over 32 hidden units: each class's cell would spell 16 sums of 32 products."""
    rows = "".join(f"{x:.2f},{z:.2f},{'pqr'[i % 3]}\n" for i, (x, z) in enumerate(np.random.default_rng(1).normal(size=(30, 2))))
    (tmp_path / "c3.csv").write_text("a,b,label\n" + rows)
    config = tmp_path / "c3.toml"
    config.write_text('[data]\ncsv = "c3.csv"\ntarget = ["label"]\n[network]\nhidden = [32]\noutput = "softmax"\n'
                      'loss = "ce"\n')
    out = tmp_path / "c3.xlsx"
    proc = subprocess.run([sys.executable, "-m", "stepviz", "run", str(config), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.count("\n") == 1 and "Map sheet's output would have about" in proc.stderr, proc.stderr
    assert "workbook.map = []" in proc.stderr
    ok = subprocess.run([sys.executable, "-m", "stepviz", "run", str(config), "--hidden", "8", "-q", "-o", str(out)],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and out.exists(), ok.stderr  # 8 hidden units: a map


def test_libreoffice_threads_miscompute_long_batch_columns(tmp_path):
    """LibreOffice 7.4 with multi-threaded calculation (its default) recalculates one cell of a
    long Training sheet of mini-batches to #VALUE!, which every later row reads; calculating on
    one thread (docs/learner.md says where to untick it) gives the engine's numbers in every
    row. IronCalc recomputes the same workbook right (test_training)."""
    from libreoffice import recalculate

    run = stepviz.train(SOFTMAX)  # 50 epochs of 4 batches: 200 live rows
    path = stepviz.write_workbook(run, tmp_path / "softmax.xlsx")
    engine = stepviz.read_training(path)  # the cached values: the engine's (test_training)
    assert len(engine) == 201 and np.isfinite(engine["loss"].to_numpy(float)[:-1]).all()
    (one,) = recalculate([path], tmp_path, threaded=False)
    single = stepviz.read_training(one)
    for column in engine.columns[1:]:
        np.testing.assert_allclose(pd.to_numeric(single[column], errors="coerce"),
                                   engine[column].to_numpy(float), rtol=1e-9, atol=1e-12, err_msg=column)
    (threaded,) = recalculate([path], tmp_path)
    losses = pd.to_numeric(stepviz.read_training(threaded)["loss"], errors="coerce").to_numpy(float)
    assert not np.isfinite(losses[:-1]).all(), (
        "LibreOffice's threaded calculation got the long batch columns right: drop the paragraph on it "
        "in docs/learner.md and this test")
