"""The engine against an independent implementation of the seed loop, finite differences,
and the tutorial's reported result."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import stepviz
from reference import seed_loop

# step that produces each name in the 12-step table; parameters are listed at step 2
# (value the epoch starts from) and again at step 11/12 (updated value)
STEP_OF = {"X": 1, "y": 1, "hidden_layer_input": 3, "hiddenlayer_activations": 4,
           "output_layer_input": 5, "output": 5, "E": 6, "loss": 6, "slope_output_layer": 7,
           "slope_hidden_layer": 7, "d_output": 8, "Error_at_hidden_layer": 9,
           "d_hiddenlayer": 10, "update_wout": 11, "update_wh": 11, "update_bh": 12,
           "update_bout": 12}


def unit(shape):
    return arrays(np.float64, shape, elements=st.floats(-1, 1, allow_nan=False, width=64))


@st.composite
def problems(draw):
    n, d, h, k = (draw(st.integers(1, 5)) for _ in range(4))
    X = draw(arrays(np.float64, (n, d), elements=st.floats(-3, 3, width=64)))
    y = draw(arrays(np.float64, (n, k), elements=st.floats(0, 1, width=64)))
    init = {"wh": draw(unit((d, h))), "bh": draw(unit((1, h))),
            "wout": draw(unit((h, k))), "bout": draw(unit((1, k)))}
    lr = draw(st.floats(0.01, 2))
    epochs = draw(st.integers(1, 4))
    return X, y, init, lr, epochs


def config_dict(X, y, init, lr, epochs, detail):
    return {"data": {"X": X.tolist(), "y": y.tolist()},
            "network": {"hidden": [init["wh"].shape[1]]},
            "training": {"lr": lr, "epochs": epochs},
            "init": {k: v.tolist() for k, v in init.items()},
            "workbook": {"detail": detail}}


@settings(max_examples=60, deadline=None)
@given(problems())
def test_engine_equals_the_seed_loop_for_every_recorded_value(problem):
    X, y, init, lr, epochs = problem
    run = stepviz.train(config_dict(X, y, init, lr, epochs, list(range(1, epochs + 1))))
    expected = seed_loop(X, y, init["wh"], init["bh"], init["wout"], init["bout"], lr, epochs)
    checked = 0
    for epoch, rec in enumerate(expected, 1):
        for key, want in rec.items():
            name, _, step = key.partition("@")
            step = int(step) if step else STEP_OF[name]
            np.testing.assert_allclose(run.value(epoch, step, name), want, rtol=0, atol=1e-12,
                                       err_msg=f"epoch {epoch} step {step} {name}")
            checked += 1
    assert checked == epochs * 25  # every one of the 25 recorded (step, name) pairs
    # the history's last row is the last epoch's forward pass
    np.testing.assert_allclose(run.output, expected[-1]["output"], atol=1e-12)
    np.testing.assert_allclose(run.loss, 0.5 * np.sum(expected[-1]["E"] ** 2), atol=1e-12)


def test_trace_lists_each_name_at_its_step_and_parameters_twice(seed_run):
    f = seed_run.frame()
    assert list(f.columns) == ["epoch", "step", "name", "row", "col", "value"]
    listed = f.groupby("name")["step"].unique().map(sorted).to_dict()
    for name, step in STEP_OF.items():
        assert listed[name] == [step]
    assert listed["wh"] == [2, 11] and listed["wout"] == [2, 11]
    assert listed["bh"] == [2, 12] and listed["bout"] == [2, 12]
    # X 12, y 3, 4 parameters 19 twice, 12 intermediates 60, the loss 1, the update
    # amounts 19: 133 values
    assert len(f) == 133 and f.value.notna().all()


def test_seed_mlp_learns_the_targets_as_the_tutorial_reports(seed_run):
    # seed 003 reports [[0.98], [0.97], [0.05]] after 5000 epochs from its own random start;
    # any uniform(0, 1) start gets within 0.1 of the targets, and the loss falls throughout
    out = seed_run.output.ravel()
    assert np.all(np.abs(out - seed_run.config.y.ravel()) < 0.1), out
    assert out[0] > 0.9 and out[1] > 0.9 and out[2] < 0.1
    loss = seed_run.history_loss
    assert loss[0] > 10 * loss[-1]
    assert np.all(np.diff(loss) < 0)


def test_same_seed_same_run_and_other_seed_other_run():
    a, b, c = stepviz.train(epochs=3), stepviz.train(epochs=3), stepviz.train(epochs=3, seed=1)
    assert np.array_equal(a.value(1, 2, "wh"), b.value(1, 2, "wh"))
    assert not np.array_equal(a.value(1, 2, "wh"), c.value(1, 2, "wh"))


def test_given_initial_values_are_used_and_shapes_checked():
    run = stepviz.train({"data": {"X": [[1, 0]], "y": [[1]]}, "network": {"hidden": [1]},
                         "init": {"wh": [[0.5], [0.25]]}, "training": {"epochs": 1}})
    assert run.value(1, 2, "wh").tolist() == [[0.5], [0.25]]
    with pytest.raises(stepviz.ConfigError, match=r"init.wh: expected shape 2×1, got 1×2"):
        stepviz.load_config({"data": {"X": [[1, 0]], "y": [[1]]}, "network": {"hidden": [1]},
                             "init": {"wh": [[0.5, 0.25]]}})


def test_history_every_subsamples_and_keeps_the_last_epoch():
    run = stepviz.train(epochs=10, history_every=4)
    assert run.history_epochs.tolist() == [1, 5, 9, 10]
    full = stepviz.train(epochs=10, history_every=1)
    np.testing.assert_array_equal(full.history_loss[[0, 4, 8, 9]], run.history_loss)
    # the default keeps History near 1000 rows
    assert len(stepviz.train(epochs=5000).history_epochs) == 1001


def test_sigmoid_does_not_overflow_or_warn():
    import warnings
    from stepviz.ops import ACTIVATIONS, Activate

    z = np.array([[-1e6, -1e3, -710.0, 0.0, 710.0, 1e3, 1e6]])
    out = np.empty_like(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):  # as in the engine
            Activate(ACTIVATIONS["sigmoid"]).compute(z, out=out)
    assert np.all(np.isfinite(out))
    assert out[0, 0] == 0.0 and out[0, 3] == 0.5 and out[0, -1] == 1.0


def test_every_public_name_is_there_after_import():
    for name in stepviz.__all__:
        assert getattr(stepviz, name) is not None, name
    assert stepviz.Run is stepviz.engine.Run and stepviz.TrainingError.__mro__[1] is stepviz.StepvizError
    assert set(stepviz.__all__) <= set(dir(stepviz))


def test_import_and_help_import_nothing_heavy():
    import subprocess
    import sys

    # import stepviz: every public name is lazy, numpy included
    code = "import sys, stepviz; sys.exit(sorted({'numpy', 'pandas'} & set(sys.modules)) or 0)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # --help neither: nor numpy, the writer, the reader or the progress bar
    code = ("import sys, contextlib, io\nfrom stepviz import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    cli.main(['--help'])\n"
            "sys.exit(sorted({'numpy', 'pandas', 'xlsxwriter', 'openpyxl', 'tqdm'} & set(sys.modules)) or 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
