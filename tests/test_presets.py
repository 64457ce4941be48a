"""Presets that teach (issue 25, item 6): iris standardises its inputs as a step the learner
can read (the Inputs sheet), its hidden units work in their responsive range, and every
preset is held to the same rule: at most 20 % of the hidden activations of the first detailed
update outside [0.05, 0.95] (the table in docs/learner.md, section Standardised inputs, is this test's output)."""
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import stepviz
from conftest import LIVE

DOCS = Path(__file__).resolve().parent.parent / "docs" / "learner.md"
LOW, HIGH, BAR = 0.05, 0.95, 0.20
IRIS = Path(__file__).resolve().parent.parent / "templates" / "iris.csv"


def load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl: "Conditional Formatting extension is not supported"
        return openpyxl.load_workbook(path, **kw)


def raw_iris() -> tuple[np.ndarray, list[str]]:
    """Fisher's measurements straight from the CSV, not through stepviz's reader."""
    lines = IRIS.read_text().split()
    return np.array([[float(v) for v in l.split(",")[:4]] for l in lines[1:]]), [l.split(",")[4] for l in lines[1:]]


def hidden_activations(run) -> np.ndarray:
    """Every hidden activation of the first detailed update, from the engine's record."""
    e = run.detail[0]
    out = [run.value(e, s.number, n).ravel() for s in run.steps for n in s.results
           if n.startswith("hiddenlayer_activations")]
    return np.concatenate(out) if out else np.array([])


def outside(a: np.ndarray) -> float:
    return float(np.mean((a < LOW) | (a > HIGH)))


REASONS = {  # presets without a hidden layer: nothing to saturate
    "or-gate": "no hidden layer (a perceptron)", "single-neuron": "no hidden layer (one neuron)",
    "virus": "no hidden layer (a perceptron)"}


def table() -> str:
    rows = ["| preset | hidden units | activations | outside [0.05, 0.95] | rule (≤ 20 %) |",
            "|---|---|---|---|---|"]
    for name in stepviz.presets():
        run = stepviz.train(name)
        a = hidden_activations(run)
        units = "–" if not run.config.network.hidden else " + ".join(map(str, run.config.network.hidden))
        if a.size == 0:
            rows.append(f"| {name} | {units} | 0 | – | {REASONS[name]} |")
            continue
        share = outside(a)
        rows.append(f"| {name} | {units} | {a.size} | {round(share * a.size)} ({share:.0%}) | "
                    f"{'passes' if share <= BAR else 'FAILS'} |")
    raw = stepviz.train("iris", standardize=False)
    a = hidden_activations(raw)
    rows.append(f"| iris, raw centimetres (standardize = false; before) | 8 | {a.size} | "
                f"{round(outside(a) * a.size)} ({outside(a):.0%}) | fails |")
    return "\n".join(rows) + "\n"


def test_every_preset_against_the_saturation_rule_and_the_documented_table():
    made = table()
    assert "FAILS" not in made, made
    text = DOCS.read_text(encoding="utf-8")
    start, end = "<!-- saturation table: tests/test_presets.py -->\n", "<!-- end of the table -->"
    documented = text[text.index(start) + len(start):text.index(end)]
    assert documented == made, "docs/learner.md's saturation table differs; it should read:\n" + made


# -- iris: the workbook ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    run = stepviz.train("iris", epochs=3)
    path = stepviz.write_workbook(run, tmp_path_factory.mktemp("iris") / "iris.xlsx")
    return run, path


def block(ws, caption: str) -> tuple[int, int]:
    """(row, col) of the first cell under the block captioned ``caption  (rows×cols)``."""
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and re.fullmatch(re.escape(caption) + r"  \(\d+×\d+\)", c.value):
                below = c.row + 1  # a row of column labels (the CSV's header) may come first
                return (below + 1, c.column) if isinstance(ws.cell(below, c.column).value, str) and \
                    not ws.cell(below, c.column).value.startswith("=") else (below, c.column)
    raise AssertionError(f"no caption {caption} on {ws.title}")


def read_block(ws, caption, shape) -> np.ndarray:
    r, c = block(ws, caption)
    return np.array([[ws.cell(r + i, c + j).value for j in range(shape[1])] for i in range(shape[0])], float)


def test_iris_hidden_activations_on_1_1_04_are_mostly_between_5_and_95_percent(iris):
    run, path = iris
    ws = load(path, data_only=True)["1.1.04 hidden activations"]
    a = read_block(ws, "hiddenlayer_activations", (16, 8))
    assert outside(a) <= BAR, outside(a)  # 87-91 % above 0.99 on raw centimetres
    np.testing.assert_allclose(a, run.value(run.detail[0], 4, "hiddenlayer_activations"), rtol=1e-12)


def test_the_first_update_changes_a_shown_digit_of_wh(iris):
    """wh before (1.1.02) and after (1.1.11) the first update, as the cells show them (their
    number format's decimals): on raw centimetres no shown digit moved (changes of E-5…E-7)."""
    run, path = iris
    wb = load(path)
    before_ws, after_ws = wb["1.1.02 initialise"], wb["1.1.11 update weights"]
    values = load(path, data_only=True)
    r0, c0 = block(before_ws, "wh")
    # the updated wh: "wh updated" on step 11
    r1, c1 = [(c.row + 1, c.column) for row in after_ws.iter_rows() for c in row
              if isinstance(c.value, str) and re.match(r"wh updated  ", c.value)][-1]
    changed = 0
    for i in range(4):
        for j in range(8):
            fmt = before_ws.cell(r0 + i, c0 + j).number_format
            decimals = len(fmt.split(".")[1]) if "." in fmt else 0
            old = values["1.1.02 initialise"].cell(r0 + i, c0 + j).value
            new = values["1.1.11 update weights"].cell(r1 + i, c1 + j).value
            changed += f"{old:.{decimals}f}" != f"{new:.{decimals}f}"
    assert changed >= 16, changed  # 29 of 32 at seed 0


def test_the_inputs_sheet_is_the_standardisation_as_live_formulas(iris):
    run, path = iris
    raw, _ = raw_iris()
    mean, sd = raw.mean(axis=0), np.sqrt(((raw - raw.mean(axis=0)) ** 2).mean(axis=0))
    np.testing.assert_allclose(run.config.X, (raw - mean) / sd, rtol=1e-13, atol=1e-15)
    wb, cached = load(path), load(path, data_only=True)
    ws, values = wb["Inputs"], cached["Inputs"]
    assert [ws.cell(6, c).value for c in range(2, 6)] == [f"=AVERAGE({x}10:{x}159)" for x in "BCDE"]
    assert [ws.cell(7, c).value for c in range(2, 6)] == [f"=STDEVP({x}10:{x}159)" for x in "BCDE"]
    np.testing.assert_allclose([values.cell(6, c).value for c in range(2, 6)], mean, rtol=1e-14)
    np.testing.assert_allclose([values.cell(7, c).value for c in range(2, 6)], sd, rtol=1e-14)
    for i in (0, 77, 149):
        assert [ws.cell(10 + i, c).value for c in range(2, 6)] == raw[i].tolist()
        assert ws.cell(10 + i, 7).value == f"=(B{10 + i}-B$6)/B$7"
        np.testing.assert_allclose([values.cell(10 + i, c).value for c in range(7, 11)], (raw[i] - mean) / sd,
                                   rtol=1e-13, atol=1e-15)
    # step 1's X of each detailed batch: links to the Inputs rows that batch read
    for update in run.detail:
        name = f"{run.label(update)}.01 inputs"
        r, c = block(wb[name], "X")
        rows = run.batch_rows[update]
        for i in (0, 15):
            assert wb[name].cell(r + i, c + 2).value == f"=Inputs!$I${10 + rows[i]}"
            assert cached[name].cell(r + i, c + 2).value == pytest.approx(run.config.X[rows[i], 2], rel=1e-15)
    trace = stepviz.read_trace(path)
    x = trace[(trace.name == "X") & (trace.epoch == 1)]
    np.testing.assert_allclose(x.value.to_numpy().reshape(16, 4), run.config.X[run.batch_rows[1]], rtol=1e-15)


def test_predict_stays_in_centimetres(iris, tmp_path):
    run, _ = iris
    flower = [[5.0, 3.4, 1.5, 0.2]]
    from stepviz.engine import forward

    want = forward(run.steps, run.params, (np.array(flower) - run.config.mean) / run.config.sd)
    np.testing.assert_allclose(run.predict(flower), want, rtol=1e-15)
    r = subprocess.run([sys.executable, "-m", "stepviz", "run", "iris", "-o", str(tmp_path / "i.xlsx")],
                       capture_output=True, text=True)
    assert "predict [5, 3.4, 1.5, 0.2] -> setosa 0.9" in r.stdout, r.stdout + r.stderr  # 0.87 on raw cm


def test_the_iris_map_reads_centimetres_on_its_axes(tmp_path):
    run = stepviz.train("iris", epochs=2, map=["petal_length", "petal_width"])
    path = stepviz.write_workbook(run, tmp_path / "m.xlsx")
    wb, cached = load(path), load(path, data_only=True)
    ws = wb["Map"]
    axis = [c for row in ws.iter_rows(max_row=60) for c in row
            if isinstance(c.value, str) and c.value.startswith("output: setosa")][0]
    xs = np.array([cached["Map"].cell(axis.row + 1, axis.column + 1 + j).value for j in range(25)], float)
    raw, _ = raw_iris()
    lo, hi = raw[:, 2].min(), raw[:, 2].max()
    assert xs[0] <= lo - 0.1 * (hi - lo) + 1e-9 and xs[-1] >= hi + 0.1 * (hi - lo) - 1e-9
    assert xs[0] >= 0 and xs[-1] < 8  # centimetres: no negative petals (they ran -2.5…9.5)
    # each hidden unit's cell standardises its point as the Inputs sheet does: (x − mean) / sd
    formulas = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    petal = [f for f in formulas if "-Inputs!$D$6)/Inputs!$D$7)" in f and "-Inputs!$E$6)/Inputs!$E$7)" in f]
    assert len(petal) == 2 * 8 * 25 * 25  # live and after training, 8 hidden units, 25 × 25 points


def test_standardize_is_validated(tmp_path):
    with pytest.raises(stepviz.ConfigError, match=r"^data.standardize: expected true or false, got 'yes'$"):
        stepviz.load_config("iris", standardize="yes")
    (tmp_path / "c.csv").write_text("a,b,t\n1,5,0\n2,5,1\n3,5,1\n")
    (tmp_path / "c.toml").write_text('[data]\ncsv = "c.csv"\ntarget = "t"\nstandardize = true\n')
    r = subprocess.run([sys.executable, "-m", "stepviz", "run", "c.toml"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and r.stderr == (
        "stepviz: error: data.standardize: column 'b' has the same value in every sample, no spread to divide by; "
        "remove it or set standardize = false\n"), r
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.toml"]


def test_standardize_off_writes_the_same_workbook_as_before(preset_books, tmp_path):
    run, path = preset_books["xor"]
    again = stepviz.train("xor", standardize=False, live_epochs=LIVE)
    assert stepviz.write_workbook(again, tmp_path / "x.xlsx").read_bytes() == path.read_bytes()


# -- LibreOffice: the preprocessing recalculates, and an edit of a raw value reaches step 1 ---

def test_libreoffice_recomputes_the_inputs_and_follows_an_edit(iris, tmp_path):
    from libreoffice import recalculate

    run, path = iris
    edited = tmp_path / "edited.xlsx"
    wb = load(path)
    rows = run.batch_rows[run.detail[0]]
    first = int(rows[0])
    wb["Inputs"].cell(10 + first, 4).value = 10.0  # sample's petal length: 10 cm
    wb.save(edited)
    same, moved = recalculate([path, edited], tmp_path)
    raw, _ = raw_iris()
    values = load(same, data_only=True)
    r, c = block(load(path)["1.1.01 inputs"], "X")
    got = np.array([[values["1.1.01 inputs"].cell(r + i, c + j).value for j in range(4)] for i in range(16)])
    np.testing.assert_allclose(got, run.config.X[rows], rtol=1e-12, atol=1e-14)
    a = read_block(values["1.1.04 hidden activations"], "hiddenlayer_activations", (16, 8))
    np.testing.assert_allclose(a, run.value(run.detail[0], 4, "hiddenlayer_activations"), rtol=1e-12)
    raw[first, 2] = 10.0
    mean, sd = raw.mean(axis=0), raw.std(axis=0)
    after = load(moved, data_only=True)
    got = np.array([[after["1.1.01 inputs"].cell(r + i, c + j).value for j in range(4)] for i in range(16)])
    np.testing.assert_allclose(got, ((raw - mean) / sd)[rows], rtol=1e-12, atol=1e-14)


def test_libreoffice_recomputes_the_centimetre_map_of_standardised_iris(tmp_path):
    """Every Map cell of a standardised iris, recomputed by LibreOffice from the axis cells in
    centimetres and the Inputs sheet's means and deviations, equals the engine's forward pass."""
    from libreoffice import recalculate

    run = stepviz.train("iris", epochs=2, map=["petal_length", "petal_width"], detail=["1.1"])
    path = stepviz.write_workbook(run, tmp_path / "m.xlsx")
    (again,) = recalculate([path], tmp_path)
    want, got = load(path, data_only=True)["Map"], load(again, data_only=True)["Map"]
    compared = 0
    for a, b in zip(want.iter_rows(values_only=True), got.iter_rows(values_only=True)):
        for x, y in zip(a, b):
            if isinstance(x, float):
                assert isinstance(y, (int, float)) and y == pytest.approx(x, rel=1e-9, abs=1e-12), (x, y)
                compared += 1
    assert compared > 2 * 11 * 625  # the live and the after-training maps: 11 each (3 outputs, 8 hidden units)


def test_a_class_with_varied_data_varies_the_centimetres_and_standardises_them_again():
    """stepviz class --vary-data adds ±0.5 to each value in the data's units (as it did on raw
    iris) and each student's inputs are standardised with their own means and deviations."""
    from stepviz.classroom import Course, Student, _embedded

    def course_of(source, vary, students):  # what stepviz class keeps in class.toml
        doc, files, name, _ = _embedded(source, None)
        return Course(doc, files, name, "practice", None, vary, "ab" * 16, students)

    course = course_of("iris", True, (Student("s1", "A"), Student("s2", "B")))
    base = course.config()
    raw, _ = raw_iris()
    for student in course.students:
        cfg = course.student_config(base, student)
        assert np.abs(cfg.raw - raw).max() <= 0.5 + 1e-9 and not np.array_equal(cfg.raw, raw)
        assert np.array_equal(cfg.raw, np.round(cfg.raw, 1))
        np.testing.assert_allclose(cfg.X, (cfg.raw - cfg.raw.mean(axis=0)) / cfg.raw.std(axis=0), rtol=1e-13,
                                   atol=1e-15)
    plain = course_of("xor", False, (Student("s1", "A"),))
    assert np.array_equal(plain.student_config(plain.config(), plain.students[0]).X, plain.config().X)
