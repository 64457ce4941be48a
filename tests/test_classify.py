"""Classification (issue 19): softmax with cross-entropy, sigmoid with binary cross-entropy,
class labels from a CSV, mini-batches. Checked against an independent numpy implementation
written here, finite differences, PyTorch's conventions written out as formulas, and
LibreOffice's recalculation."""
import subprocess
import sys

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import stepviz
from conftest import set_lr


# -- an independent implementation ---------------------------------------------------------
def act(name, z):
    return {"sigmoid": lambda: 1 / (1 + np.exp(-z)), "tanh": lambda: np.tanh(z),
            "relu": lambda: np.maximum(z, 0)}[name]()


def act_slope(name, a):
    return {"sigmoid": lambda: a * (1 - a), "tanh": lambda: 1 - a * a, "relu": lambda: (a > 0) * 1.0}[name]()


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(params, X, activation, loss):
    """Activations of every layer (X first) and the output."""
    acts = [X]
    for w, b in params[:-1]:
        acts.append(act(activation, acts[-1] @ w + b))
    w, b = params[-1]
    z = acts[-1] @ w + b
    return acts, z, softmax(z) if loss == "ce" else 1 / (1 + np.exp(-z))


def cross_entropy(y, p, loss):
    """Summed, a term with y = 0 (or 1 − y = 0) counting 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(y == 0, 0.0, y * np.log(p))
        if loss == "bce":
            t = t + np.where(y == 1, 0.0, (1 - y) * np.log(1 - p))
    return -t.sum()


def reference(X, y, sizes, activation, loss, lr, epochs, batch, shuffle, seed):
    """Plain mini-batch gradient descent, start values uniform(0, 1) from seed in the order
    w1, b1, ..., wout, bout; the batches' order drawn from the same generator afterwards."""
    rng = np.random.default_rng(seed)
    params = [(rng.uniform(size=(a, b)), rng.uniform(size=(1, b))) for a, b in zip(sizes, sizes[1:])]
    n = len(X)
    epoch_loss, updates = [], []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        _, _, p = forward(params, X, activation, loss)
        epoch_loss.append(cross_entropy(y, p, loss))
        for k in range(0, n, batch):
            rows = order[k:k + batch]
            xb, yb = X[rows], y[rows]
            acts, z, p = forward(params, xb, activation, loss)
            d = yb - p  # minus the gradient of the loss at z, for both losses
            new = []
            for layer in range(len(params) - 1, -1, -1):
                w, b = params[layer]
                grad_w, grad_b = acts[layer].T @ d, d.sum(axis=0, keepdims=True)
                if layer:
                    d = (d @ w.T) * act_slope(activation, acts[layer])
                new.insert(0, (w + grad_w * lr, b + grad_b * lr))
            updates.append({"rows": rows, "output": p, "loss": cross_entropy(yb, p, loss), "params": params})
            params = new
    return params, np.array(epoch_loss), updates


@st.composite
def problems(draw):
    loss = draw(st.sampled_from(["ce", "bce"]))
    n = draw(st.integers(2, 12))
    d = draw(st.integers(1, 4))
    k = draw(st.integers(2, 4)) if loss == "ce" else draw(st.integers(1, 3))
    hidden = draw(st.sampled_from([[], [3], [4, 2]]))
    seed = draw(st.integers(0, 2**32))
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, d))
    if loss == "ce":
        y = np.eye(k)[rng.integers(0, k, size=n)]
    else:
        y = rng.integers(0, 2, size=(n, k)) * 1.0
    batch = draw(st.sampled_from([1, n, draw(st.integers(1, n))]))
    return dict(X=X, y=y, hidden=hidden, loss=loss, batch=batch, seed=seed,
                shuffle=draw(st.booleans()), epochs=draw(st.integers(1, 4)),
                activation=draw(st.sampled_from(["sigmoid", "tanh", "relu"])), lr=draw(st.sampled_from([0.02, 0.2])))


def config(p, **workbook):
    network = {"hidden": p["hidden"], "loss": p["loss"], "activation": p["activation"]}
    network["output"] = "softmax" if p["loss"] == "ce" else "sigmoid"
    return {"data": {"X": p["X"].tolist(), "y": p["y"].tolist()}, "network": network,
            "training": {"lr": p["lr"], "epochs": p["epochs"], "seed": p["seed"], "batch_size": p["batch"],
                         "shuffle": p["shuffle"]}, "workbook": workbook}


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_engine_equals_an_independent_implementation(p, data):
    n, b = len(p["X"]), p["batch"]
    batches = -(-n // b)
    full = batches - (1 if n % b else 0)  # batches with batch_size rows: the detailable ones
    e, k = data.draw(st.integers(1, p["epochs"])), data.draw(st.integers(1, full))
    sizes = [p["X"].shape[1], *p["hidden"], p["y"].shape[1]]
    # one batch is all the samples, in the data's order: shuffling has nothing to change
    with np.errstate(all="ignore"):
        params, epoch_loss, updates = reference(p["X"], p["y"], sizes, p["activation"], p["loss"], p["lr"],
                                                p["epochs"], b, p["shuffle"] and batches > 1, p["seed"])
    assume(all(np.isfinite(w).all() and np.isfinite(b).all() for w, b in params) and np.isfinite(epoch_loss).all())
    run = stepviz.train(config(p, detail=[f"{e}.{k}"]))
    close(run.params["wout"], params[-1][0])
    close(run.params["bout"], params[-1][1])
    if p["hidden"]:
        close(run.params["wh" if len(p["hidden"]) == 1 else "wh1"], params[0][0])
    close(run.history_loss, epoch_loss)
    u = (e - 1) * batches + k
    ref = updates[u - 1]
    np.testing.assert_array_equal(run.batch_rows.get(u, np.arange(n)), ref["rows"])
    first, _ = run.config.network.producers()
    value = lambda name: run.value(u, first[name].number, name)  # noqa: E731
    np.testing.assert_array_equal(value("X"), p["X"][ref["rows"]])
    close(value("output"), ref["output"])
    close(value("loss")[0, 0], ref["loss"])
    close(value("d_output"), p["y"][ref["rows"]] - ref["output"])
    close(value("wout"), ref["params"][-1][0])


def test_batch_size_1_is_online_gradient_descent():
    """One update per sample, in the data's order: fast.ai's spreadsheet."""
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    p = dict(X=X, y=y, hidden=[2], loss="ce", batch=1, seed=3, shuffle=False, epochs=2, activation="sigmoid", lr=0.5)
    run = stepviz.train(config(p, detail=["1.1", "1.2", "1.3", "2.1"]))
    assert run.config.batches == 3 and run.detail == (1, 2, 3, 4)
    params, _, updates = reference(X, y, [2, 2, 2], "sigmoid", "ce", 0.5, 2, 1, False, 3)
    for u in range(1, 5):
        np.testing.assert_array_equal(run.value(u, 1, "X"), X[[(u - 1) % 3]])
        close(run.value(u, 2, "wout"), updates[u - 1]["params"][-1][0])
    close(run.params["wh"], params[0][0])


# -- gradients --------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["ce", "bce"])
def test_updates_are_minus_lr_times_the_finite_difference_gradient(loss):
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, size=(5, 3))
    y = np.eye(3)[[0, 1, 2, 1, 0]] if loss == "ce" else rng.integers(0, 2, size=(5, 2)) * 1.0
    p = dict(X=X, y=y, hidden=[4], loss=loss, batch=5, seed=2, shuffle=False, epochs=1, activation="tanh", lr=0.1)
    run = stepviz.train(config(p))
    start = run.init
    names = ["wh", "bh", "wout", "bout"]

    def loss_at(values):
        params = [(values["wh"], values["bh"]), (values["wout"], values["bout"])]
        return cross_entropy(y, forward(params, X, "tanh", loss)[2], loss)

    h = 1e-6
    _, last = run.config.network.producers()
    for name in names:
        grad = np.empty_like(start[name])
        for idx in np.ndindex(grad.shape):
            plus, minus = ({k: v.copy() for k, v in start.items()} for _ in range(2))
            plus[name][idx] += h
            minus[name][idx] -= h
            grad[idx] = (loss_at(plus) - loss_at(minus)) / (2 * h)
        update = run.value(1, last[name].number, f"update_{name}")
        np.testing.assert_allclose(update, -0.1 * grad, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", ["ce", "bce"])
def test_pytorch_conventions_same_loss_and_gradient(loss):
    """CrossEntropyLoss(reduction="sum") on the logits with one-hot targets, BCELoss(reduction=
    "sum") on the sigmoid's outputs: their loss, and their gradient at the logits chained as
    autograd would, written as formulas (no torch needed)."""
    rng = np.random.default_rng(4)
    X = rng.uniform(-3, 3, size=(6, 2))
    y = np.eye(4)[[0, 3, 2, 1, 1, 0]] if loss == "ce" else rng.integers(0, 2, size=(6, 3)) * 1.0
    p = dict(X=X, y=y, hidden=[5], loss=loss, batch=6, seed=9, shuffle=False, epochs=1, activation="sigmoid", lr=1.0)
    run = stepviz.train(config(p))
    first, _ = run.config.network.producers()
    z = run.value(1, first["output_layer_input"].number, "output_layer_input")
    if loss == "ce":
        target = y.argmax(axis=1)
        m = z.max(axis=1)
        logsumexp = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
        torch_loss = (logsumexp - z[np.arange(len(z)), target]).sum()
        torch_grad = np.exp(z - logsumexp[:, None]) - y  # ∂loss/∂z
    else:
        prob = 1 / (1 + np.exp(-z))
        torch_loss = -(y * np.log(prob) + (1 - y) * np.log(1 - prob)).sum()
        torch_grad = (prob - y) / (prob * (1 - prob)) * (prob * (1 - prob))  # BCELoss's gradient × sigmoid's
    close(run.value(1, first["loss"].number, "loss")[0, 0], torch_loss)
    close(-run.value(1, first["d_output"].number, "d_output"), torch_grad)


def test_softmax_and_cross_entropy_take_extreme_logits():
    X = [[1.0], [-1.0]]
    y = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    run = stepviz.train({"data": {"X": X, "y": y}, "network": {"hidden": [], "output": "softmax", "loss": "ce"},
                         "training": {"epochs": 1}, "init": {"wout": [[1000.0, -1000.0, 0.0]], "bout": [[0, 0, 0]]}})
    out = run.value(1, 3, "output")
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 1, 0]])
    assert run.value(1, 4, "loss")[0, 0] == 0


# -- the step table --------------------------------------------------------------------------
def test_the_steps_say_what_changes():
    net = stepviz.load_config("iris").network
    steps = {s.key: s for s in net.steps()}
    assert len(steps) == 12
    assert [c.words() for c in steps["output_layer"].computes][1] == "output = softmax(output_layer_input)"
    assert [c.words() for c in steps["error"].computes] == ["E = y − output", "loss = −Σ y·ln(output)"]
    assert steps["slopes"].results == ("slope_hidden_layer",)
    assert steps["output_delta"].computes[0].words() == "d_output = E"
    perceptron = stepviz.load_config("iris", hidden=[]).network.steps()
    assert "slopes" not in [s.key for s in perceptron] and len(perceptron) == 7


@pytest.mark.parametrize("overrides, message", [
    (dict(loss="ce"), 'network.loss: "ce" (cross-entropy) goes with output = "softmax"'),
    (dict(output="softmax"), 'network.loss: "ce" (cross-entropy) goes with output = "softmax"'),
    (dict(loss="bce", activation="tanh"), 'network.loss: "bce" needs a sigmoid output'),
    (dict(batch_size=0), "training.batch_size: expected a whole number from 1 to the 3 samples"),
    (dict(batch_size=2, detail=["1.2"]), "the last batch of an epoch has 1 rows"),
    (dict(batch_size=2, detail=["1.3"]), "an epoch has 2 batch(es), batch 3 is not one"),
    (dict(detail=["x"]), 'workbook.detail: expected epochs >= 1, "epoch.batch" or "last"'),
])
def test_bad_classification_settings(overrides, message):
    with pytest.raises(stepviz.ConfigError, match=None) as e:
        stepviz.load_config("seed-mlp", **overrides)
    assert message in str(e.value)


def test_detail_addresses_batches():
    cfg = stepviz.load_config("iris", detail=[1, "2.3", "last"], epochs=3)
    assert cfg.batches == 10
    assert cfg.detail == (1, 13, 29)  # 'last': batch 10 has 6 rows, so the last full batch
    assert [cfg.label(u) for u in cfg.detail] == ["1.1", "2.3", "3.9"]
    assert stepviz.load_config("seed-mlp", detail=["2.1"]).detail == (2,)


# -- class labels -------------------------------------------------------------------------------
def test_text_labels_become_one_hot_columns_named_by_label(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,kind\n1,2,zebra\n3,4,ant\n5,6,moth\n7,8,ant\n")
    cfg = stepviz.load_config({"data": {"csv": str(tmp_path / "d.csv"), "target": "kind"},
                               "network": {"output": "softmax", "loss": "ce"}})
    assert cfg.y_labels == ("ant", "moth", "zebra") and cfg.classes
    np.testing.assert_array_equal(cfg.y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    iris = stepviz.load_config("iris")
    assert iris.y_labels == ("setosa", "versicolor", "virginica") and iris.y.sum(axis=0).tolist() == [50, 50, 50]
    numbers = tmp_path / "n.csv"
    numbers.write_text("a,grade\n1,10\n2,9\n3,10\n")
    cfg = stepviz.load_config({"data": {"csv": str(numbers), "target": "grade", "classes": True}})
    assert cfg.y_labels == ("9", "10")  # numbers sort by value


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stepviz", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_cli_prints_class_names_probabilities_and_accuracy(tmp_path):
    r = cli("run", "iris", "-o", str(tmp_path / "iris.xlsx"))
    assert r.returncode == 0, r.stderr
    assert "detailed batch(es) of 16" in r.stdout
    assert " setosa 0." in r.stdout.splitlines()[3]  # sample 1's predicted class and probability
    assert "accuracy " in r.stdout
    assert "predict [6.7, 3, 5.6, 2.2] -> virginica 0." in r.stdout


@pytest.mark.parametrize("csv, message", [
    ("a,kind\n1,x\n2,x\n", "every sample has the class 'x'; a classifier needs at least two classes"),
    ("a,kind\n1,x\n2,\n3,y\n", "line 3, column 'kind': empty class label"),
])
def test_bad_labels_are_one_line_and_exit_2(tmp_path, csv, message):
    (tmp_path / "d.csv").write_text(csv)
    r = cli("run", "--csv", "d.csv", "--target", "kind", "-o", "out.xlsx", cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "out.xlsx").exists()


# -- the workbook ------------------------------------------------------------------------------
def test_batch_sheets_are_named_epoch_batch_step_and_chained(tmp_path):
    run = stepviz.train("iris", epochs=2)
    path = stepviz.write_workbook(run, tmp_path / "iris.xlsx")
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    assert "1.1.01 inputs" in names and "1.2.12 update biases" in names and "2.9.05 output layer" in names
    assert all(len(n) <= 31 for n in names)
    start = wb["1.2.02 initialise"]
    links = [c.value for row in start.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert any("'1.1.11 update weights'!" in f for f in links)  # batch 2 starts from batch 1's updates
    assert not any("1.2." in f for f in (c.value for row in wb["2.9.02 initialise"].iter_rows() for c in row
                                         if isinstance(c.value, str)))  # from training, not linked
    assert wb["1.1.05 output layer"].freeze_panes == "A7"  # 16 rows: the header stays in view
    x = wb["1.2.01 inputs"]
    assert any("samples " in str(c.value) for row in x.iter_rows(max_row=6) for c in row)


# The classification keys at their defaults (one batch of every sample, no shuffling) write the
# same bytes as leaving them out: the existing presets take the full-batch path they always took.
# (Their content is pinned by the golden text of test_optimizers and the reference tests; a
# stored hash of the file would also pin every last bit of numpy's SIMD kernels, which differ
# between CPUs.)
@pytest.mark.parametrize("name", sorted(n for n in stepviz.presets() if n != "iris"))
def test_existing_presets_are_unchanged_by_the_batch_keys(preset_books, tmp_path, name):
    run, path = preset_books[name]
    explicit = stepviz.train(name, batch_size=len(run.config.X), shuffle=False, live_epochs=run.config.live_epochs)
    assert explicit.config.batches == 1
    assert stepviz.write_workbook(explicit, tmp_path / "explicit.xlsx").read_bytes() == path.read_bytes()


# -- LibreOffice -----------------------------------------------------------------------------
ERRORS = ("#NUM!", "#VALUE!", "#REF!", "#NAME?", "#DIV/0!", "Err:", "#N/A")


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    from libreoffice import recalculate

    d = tmp_path_factory.mktemp("classify-lo")
    books = {}
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(6, 3)).tolist()
    books["ce"] = stepviz.train({"data": {"X": X, "y": np.eye(3)[[0, 1, 2, 2, 1, 0]].tolist()},
                                 "network": {"hidden": [4], "output": "softmax", "loss": "ce", "activation": "tanh"},
                                 "training": {"epochs": 3, "optimizer": "adam"}, "workbook": {"detail": [1, 2]}})
    books["bce"] = stepviz.train({"data": {"X": X, "y": [[1, 0], [0, 0], [1, 1], [0, 1], [1, 0], [0, 1]]},
                                  "network": {"hidden": [3], "loss": "bce"}, "training": {"epochs": 3}})
    books["extreme-ce"] = stepviz.train({"data": {"X": [[1.0], [-1.0]], "y": [[1, 0, 0], [0, 1, 0]]},
                                         "network": {"hidden": [], "output": "softmax", "loss": "ce"},
                                         "training": {"epochs": 1},
                                         "init": {"wout": [[1000.0, -1000.0, 0.0]], "bout": [[0, 0, 0]]}})
    books["extreme-bce"] = stepviz.train({"data": {"X": [[1.0], [-1.0]], "y": [[1], [0]]},
                                          "network": {"hidden": [], "loss": "bce"}, "training": {"epochs": 1},
                                          "init": {"wout": [[1000.0]], "bout": [[0]]}})
    books["batches"] = stepviz.train("iris", epochs=3, detail=["1.1", "1.2", "1.3"])
    paths = {k: stepviz.write_workbook(r, d / f"{k}.xlsx") for k, r in books.items()}
    paths["batches-edited"] = set_lr(paths["batches"], d / "batches-edited.xlsx", 0.05)
    names = sorted(paths)
    out = recalculate([paths[n] for n in names], d)
    return {n: (books.get(n), paths[n], o) for n, o in zip(names, out)}


def formulas(path):
    wf, wv = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): wv[ws.title][c.coordinate].value
            for ws in wf.worksheets for row in ws.iter_rows() for c in row
            if (isinstance(c.value, str) and c.value.startswith("=")) or type(c.value).__name__ == "ArrayFormula"}


@pytest.mark.parametrize("name", ["ce", "bce", "extreme-ce", "extreme-bce", "batches"])
def test_libreoffice_recalculates_to_the_cached_values(recalculated, name):
    _, original, fresh = recalculated[name]
    want, got = formulas(original), formulas(fresh)
    assert want.keys() == got.keys() and len(want) > 20
    for key, v in want.items():
        assert not (isinstance(got[key], str) and got[key].startswith(ERRORS)), (name, key, got[key])
        if isinstance(v, str):
            assert got[key] == v, (name, key)
        else:
            assert got[key] == pytest.approx(v, abs=1e-9, rel=1e-9), (name, key)


def test_an_lr_edit_recomputes_the_chain_across_batches(recalculated):
    _, _, fresh = recalculated["batches-edited"]
    wb = openpyxl.load_workbook(fresh, data_only=True)
    want = stepviz.train("iris", epochs=3, detail=["1.1", "1.2", "1.3"], lr=0.05)
    before = stepviz.train("iris", epochs=3, detail=["1.1", "1.2", "1.3"])
    ws = wb["1.3.12 update biases"]
    got = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, float)]
    for u in (1, 2, 3):
        bout = want.value(u, 12, "bout").ravel()
        old = before.value(u, 12, "bout").ravel()
        assert not np.allclose(bout, old)
    # batch 3's updated bout, as the engine computes it with lr 0.05 from batch 2's, is on the sheet
    for v in want.value(3, 12, "bout").ravel():
        assert any(abs(g - v) <= 1e-9 for g in got), v
