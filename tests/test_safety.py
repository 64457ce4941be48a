"""Bad input, interruptions, hostile text and extreme numbers: a clear one-line error (exit 2)
or a valid workbook; never a traceback, a half-written file or an executable label."""
import json
import math
import os
import subprocess
import sys

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import stepviz
from stepviz import cli


def run_cli(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "stepviz", *map(str, args)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


CONFIGS = {  # name: (TOML text, expected message)
    "malformed": ("[data]\nX = [[1, 2]\n", "invalid TOML: "),
    "malformed-line": ("[training]\nlr = 0.1\nepochs = = 3\n", "(at line 6"),  # 3 lines of data come first
    "unknown-section": ("[trainig]\nlr = 0.1\n", "unknown key trainig; did you mean 'training'?"),
    "unknown-key": ("[network]\nhiden = [3]\n", "unknown key network.hiden; did you mean 'hidden'?"),
    "lr-type": ('[training]\nlr = "fast"\n', "training.lr: expected a finite number > 0, got 'fast'"),
    "lr-zero": ("[training]\nlr = 0\n", "training.lr: expected a finite number > 0, got 0"),
    "lr-inf": ("[training]\nlr = inf\n", "training.lr: expected a finite number > 0, got inf"),
    "epochs-float": ("[training]\nepochs = 2.5\n", "training.epochs: expected a whole number >= 1, got 2.5"),
    "hidden-type": ('[network]\nhidden = "3"\n', "network.hidden: expected a list of layer sizes"),
    "hidden-zero": ("[network]\nhidden = [0]\n", "network.hidden: layer sizes must be at least 1"),
    "bias-type": ('[network]\nbias = "yes"\n', "network.bias: expected true or false, got 'yes'"),
    "activation": ('[network]\nactivation = "softmax"\n', "network.activation: expected one of sigmoid, tanh, relu"),
    "empty-X": ("[data]\nX = []\ny = []\n", "data.X: expected a non-empty matrix"),
    "ragged": ("[data]\nX = [[1, 2], [3]]\ny = [1, 0]\n", "data.X: row 2 has 1 values, row 1 has 2"),
    "text-cell": ('[data]\nX = [[1, "a"]]\ny = [1]\n', "data.X: row 1, column 2: expected a number, got 'a'"),
    "nan": ("[data]\nX = [[1, nan]]\ny = [1]\n", "data.X: row 1, column 2: nan is not a finite number"),
    "inf": ("[data]\nX = [[1, 2]]\ny = [[inf]]\n", "data.y: row 1, column 1: inf is not a finite number"),
    "rows-X-y": ("[data]\nX = [[1, 2], [3, 4]]\ny = [1]\n", "data: X has 2 rows but y has 1"),
    "init-shape": ("[data]\nX = [[1, 2]]\ny = [1]\n[init]\nwh = [[1, 2]]\n", "init.wh: expected shape 2×3, got 1×2"),
    "init-unknown": ("[data]\nX = [[1, 2]]\ny = [1]\n[init]\nwhh = [[1]]\n", "unknown key init.whh; did you mean 'wh'?"),
    "predict-shape": ("[data]\nX = [[1, 2]]\ny = [1]\npredict = [[1, 2, 3]]\n", "data.predict has 3 columns, X has 2"),
    "detail": ("[training]\nepochs = 3\n[workbook]\ndetail = [4]\n", "workbook.detail: epoch 4 is beyond training.epochs = 3"),
    "detail-empty": ("[workbook]\ndetail = []\n", "workbook.detail: name at least one epoch"),
    "focus": ("[workbook]\nfocus = [0, 1]\n", "workbook.focus: expected [row, col] counted from 1"),
    "focus-outside": ("[workbook]\nfocus = [5, 1]\n", "workbook.focus: [5, 1] is outside every matrix of this network (at most [4, 4])"),
    "loss": ('[network]\nloss = "mse"\n', "network.loss: expected one of error, sse, ce, bce, got 'mse'"),
    "no-data": ("[training]\nlr = 0.1\n", "data: missing X and y"),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_each_bad_config_is_one_line_exit_2_and_nothing_left(tmp_path, case):
    text, message = CONFIGS[case]
    if case not in ("no-data",) and "[data]" not in text:
        text = "[data]\nX = [[1, 0, 1, 0], [1, 0, 1, 1], [0, 1, 0, 1]]\ny = [1, 1, 0]\n" + text
    (tmp_path / "c.toml").write_text(text)
    before = listing(tmp_path)
    r = run_cli(tmp_path, "run", "c.toml")
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr, r.stderr
    assert r.stderr.startswith("stepviz: error: ") and len(r.stderr.splitlines()) == 1
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert listing(tmp_path) == before


@pytest.mark.parametrize("args,message", [
    (["run", "-o", "/proc/stepviz.xlsx", "--epochs", "1"], "/proc: cannot write here"),
    (["run", "-o", "missing/x.xlsx"], "missing: no such folder for the output"),
    (["run", "-o", "sub"], "sub: is a directory"),
    (["run", "nope"], "unknown preset 'nope'; presets are: iris, or-gate, seed-mlp, seed-mlp-adam, seed-mlp-momentum, single-neuron, two-layer, virus, xor"),
])
def test_bad_output_paths_and_presets(tmp_path, args, message):
    (tmp_path / "sub").mkdir()
    before = listing(tmp_path)
    r = run_cli(tmp_path, *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    assert listing(tmp_path) == before


def test_targets_outside_the_activation_range_warn_but_run(tmp_path):
    (tmp_path / "c.toml").write_text("[data]\nX = [[1, 2], [0, 1]]\ny = [2, -1]\n[training]\nepochs = 3\n")
    r = run_cli(tmp_path, "run", "c.toml", "-o", "c.xlsx")
    assert r.returncode == 0
    assert r.stderr == ("stepviz: warning: data.y: 2 target(s) outside the range of sigmoid [0, 1] (e.g. 2); "
                        "the output can never reach them\n")
    tanh = run_cli(tmp_path, "run", "c.toml", "-o", "c.xlsx", "--activation", "tanh")
    assert "outside the range of tanh [-1, 1] (e.g. 2)" in tanh.stderr


def test_divergence_stops_naming_the_first_epoch_and_step(tmp_path):
    (tmp_path / "c.toml").write_text('[data]\nX = [[1, 2]]\ny = [[100]]\n[network]\nhidden = [3]\n'
                                     'activation = "relu"\n[training]\nlr = 1e300\nepochs = 5000\n')
    r = run_cli(tmp_path, "run", "c.toml")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
    # epoch 1's updates are finite (~1e302); epoch 2's product overflows: found although
    # History only checks every 5th epoch, because a failure is replayed epoch by epoch
    assert r.stderr.strip() == ("stepviz: error: training diverged: output_layer_input in step 5 "
                                "(output layer) of epoch 2 is inf (hiddenlayer_activations reaches 5.37e+302); "
                                "try a smaller training.lr")
    assert not (tmp_path / "output" / "c.xlsx").exists()


# -- hostile text --------------------------------------------------------------------------

HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1+1", "-2", "=1/0", "<b>&amp;"]


def hostile_book(tmp_path):
    header = ",".join('"' + h.replace('"', '""') + '"' for h in HOSTILE)
    rows = "\n".join(",".join(str((i * j) % 3) for j in range(len(HOSTILE))) for i in range(4))
    (tmp_path / "=cmd|' -C calc'!A0.csv").write_text(header + "\n" + rows + "\n")
    (tmp_path / "=evil.toml").write_text('[data]\ncsv = "=cmd|\' -C calc\'!A0.csv"\ntarget = ["<b>&amp;"]\n'
                                         "[training]\nepochs = 2\n")
    r = run_cli(tmp_path, "run", "=evil.toml", "-o", "h.xlsx")
    assert r.returncode == 0, r.stderr
    return tmp_path / "h.xlsx"


def texts(path):
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str)}


def test_hostile_labels_and_names_are_literal_text(tmp_path):
    book = hostile_book(tmp_path)
    cells = texts(book)
    found = {c.value for c in cells.values()}
    for label in HOSTILE:
        assert label in found, label
    for c in cells.values():
        if c.value in HOSTILE:
            assert c.data_type == "s"  # a string cell: shown, never evaluated
    assert "stepviz · =evil" in found  # the config's name, also as text
    wb = openpyxl.load_workbook(book)
    assert all(not any(ch in ws.title for ch in "[]:*?/\\") for ws in wb.worksheets)


def test_hostile_labels_stay_literal_after_libreoffice_recalculates(tmp_path):
    from libreoffice import recalculate

    book = hostile_book(tmp_path)
    (out,) = recalculate([book], tmp_path / "lo")
    values = {c.value for c in texts(out).values()}
    for label in HOSTILE:
        assert label in values, label


# -- extreme numbers -----------------------------------------------------------------------



# -- doctor ----------------------------------------------------------------------------------

def test_doctor_says_what_a_workbook_is(tmp_path, seed_book):
    r = run_cli(tmp_path, "doctor", seed_book)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{seed_book}: a valid stepviz workbook, written by stepviz {stepviz.__version__}")
    assert "4→3→1 sigmoid, loss error" in r.stdout and "12 (detailed epochs: 1)" in r.stdout
    assert "trace values 133" in r.stdout.replace("  ", " ").replace("  ", " ")


def test_doctor_on_files_that_are_not_stepviz_workbooks(tmp_path, seed_book):
    openpyxl.Workbook().save(tmp_path / "plain.xlsx")
    (tmp_path / "text.xlsx").write_text("hello")
    for name, message in (("plain.xlsx", "not written by stepviz"), ("text.xlsx", "not a readable .xlsx"),
                          ("missing.xlsx", "no such file")):
        r = run_cli(tmp_path, "doctor", name)
        assert r.returncode == 2 and message in r.stderr and len(r.stderr.splitlines()) == 1
    # a damaged one: a Trace value overwritten with text
    wb = openpyxl.load_workbook(seed_book)
    wb["Trace"]["F5"] = "oops"
    wb.save(tmp_path / "damaged.xlsx")
    r = run_cli(tmp_path, "doctor", "damaged.xlsx")
    assert r.returncode == 1 and "problem:" in r.stdout


# -- fuzzing ---------------------------------------------------------------------------------

def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    return "[" + ", ".join(toml_value(x) for x in v) + "]"


scalars = st.one_of(st.integers(-3, 6), st.floats(allow_nan=True, allow_infinity=True, width=32),
                    st.booleans(), st.text(max_size=5), st.sampled_from(["last", "sse", "tanh", "relu"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=12)
keys = {"data": ["X", "y", "predict", "target", "csv", "Xx"], "network": ["hidden", "bias", "train_bias", "loss",
        "activation", "hiden"], "training": ["lr", "epochs", "seed"], "workbook": ["detail", "focus",
        "history_every", "max_detail"], "init": ["wh", "bh", "wout", "bout", "w"]}


@st.composite
def documents(draw):
    lines = ["[data]", "X = [[1, 0], [0, 1], [1, 1]]", "y = [1, 0, 1]"] if draw(st.booleans()) else []
    for section, names in keys.items():
        if draw(st.booleans()):
            lines.append(f"[{section}]" if not (section == "data" and lines) else "")
            for k in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
                if section == "data" and lines[:1] == ["[data]"] and k in ("X", "y"):
                    continue
                v = draw(values)
                if k == "epochs" and isinstance(v, int):
                    v = min(v, 5)
                lines.append(f"{k} = {toml_value(v)}")
    if draw(st.integers(0, 9)) == 0:
        lines.append(draw(st.text(max_size=20)))  # garbage
    return "\n".join(lines) + "\n"


@settings(max_examples=int(os.environ.get("STEPVIZ_FUZZ_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents(), csv=st.text(alphabet="ab,.-1234567890\n\"\r e", max_size=60))
def test_fuzzed_configs_and_csvs_never_crash(tmp_path_factory, doc, csv):
    d = tmp_path_factory.mktemp("fuzz")
    (d / "c.toml").write_text(doc)
    (d / "d.csv").write_text(csv)
    (d / "e.toml").write_text('[data]\ncsv = "d.csv"\ntarget = ["a"]\n[training]\nepochs = 2\n')
    for config in ("c.toml", "e.toml"):
        cwd = os.getcwd()
        os.chdir(d)
        try:
            import contextlib
            import io

            err, out = io.StringIO(), io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                code = cli.main(["run", config, "-o", "w.xlsx", "-q"])
        finally:
            os.chdir(cwd)
        if code == 0:
            assert stepviz.read_trace(d / "w.xlsx").value.notna().all()
            (d / "w.xlsx").unlink()
        else:
            assert code == 2, err.getvalue()
            assert err.getvalue().startswith("stepviz: error: ") and len(err.getvalue().splitlines()) == 1
        assert sorted(p.name for p in d.iterdir()) == ["c.toml", "d.csv", "e.toml"]
