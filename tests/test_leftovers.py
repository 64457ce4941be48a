"""The red team's leftovers and the smaller things (issue 25, item 9): each ends in one line and
exit status 2, or in the right result."""
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import openpyxl
import pytest

import stepviz
from stepviz.workbook import WARN_CELLS, estimate
from test_faults import Box
from test_redteam import properties_xml, with_part


@pytest.fixture
def box(tmp_path):
    return Box(tmp_path)


def big_csv(path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4))
    y = (X[:, :2].sum(axis=1) > 0).astype(int)
    path.write_text("a,b,c,d,label\n" + "".join(",".join(f"{v:.4f}" for v in r) + f",{t}\n" for r, t in zip(X, y)))


def cells_written(path) -> int:
    """Every cell of every sheet of a workbook, counted in its XML."""
    with zipfile.ZipFile(path) as z:
        return sum(len(re.findall(rb"<c ", z.read(n))) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


# -- size checks of mini-batch runs count the batch ------------------------------------------

def test_a_batched_run_of_ten_thousand_rows_is_sized_by_its_batch(box):
    """The red team's case: 10,000 rows, batches of 16, 5 detailed batches was refused ("Trace
    sheet would need 1,250,291 rows": 5 × the values of 10,000 rows); with 2 it warned of
    ~4.4 million cells and ~43 s to write a 150,000-cell workbook."""
    big_csv(box.work / "big.csv", 10_000)
    config = stepviz.load_config(None, csv=str(box.work / "big.csv"), target=["label"], batch_size=16,
                                 detail=["1.1", "1.2", "1.3", "1.4", "1.5"], epochs=2)
    size = estimate(config)
    assert size.cells < WARN_CELLS
    r = box.run("run", "--csv", "big.csv", "--target", "label", "--batch-size", "16", "--epochs", "2",
                "--detail", "1.1,1.2,1.3,1.4,1.5", "-o", "big.xlsx")
    assert r.returncode == 0 and r.stderr == "", r.stderr  # no refusal, no size warning
    written = cells_written(box.work / "big.xlsx")
    assert abs(size.cells - written) / written < 0.1, (size.cells, written)  # 160,672 of 162,175 at 10 epochs


@pytest.mark.parametrize("batch,detail", [(16, ["1.1", "1.2"]), (100, ["1.1"]), (None, [1])])
def test_the_cell_estimate_is_within_ten_percent_of_the_workbook(tmp_path, batch, detail):
    big_csv(tmp_path / "d.csv", 1_000)
    config = stepviz.load_config(None, csv=str(tmp_path / "d.csv"), target=["label"], batch_size=batch,
                                 detail=detail, epochs=3)
    path = stepviz.write_workbook(stepviz.train(config), tmp_path / "d.xlsx")
    written = cells_written(path)
    assert abs(estimate(config).cells - written) / written < 0.1, (estimate(config).cells, written)


def test_the_training_estimate_of_a_batched_run_counts_batches_not_rows():
    """Per update a batch's rows; per epoch the updates, their copies of X and y, and one pass
    over every sample. Twice the updates (half the batch) is about twice the time; the same
    updates over twice the rows cost only the extra forward pass."""
    from stepviz.workbook.limits import train_seconds

    X = np.random.default_rng(0).normal(size=(2_000, 4))
    y = (X[:, :1] > 0).astype(float)
    t = {b: train_seconds(stepviz.load_config({"data": {"X": X.tolist(), "y": y.tolist()}}, batch_size=b, epochs=10))
         for b in (8, 16)}
    assert 1.8 < t[8] / t[16] < 2.05
    per_update = t[16] / (10 * 125)
    assert 30e-6 < per_update < 100e-6  # measured about 60-120 µs on the 2-core machine under load


# -- --map with a class label named like an input ------------------------------------------

def test_map_columns_named_like_a_class_label_are_inputs(box):
    rows = ["a,b,kind"] + [f"{i % 2},{(i // 2) % 2},{'a' if i % 3 else 'b'}" for i in range(8)]
    (box.work / "k.csv").write_text("\n".join(rows) + "\n")
    r = box.run("run", "-q", "--csv", "k.csv", "--target", "kind", "--epochs", "3", "--map", "a,b", "-o", "k.xlsx")
    assert r.returncode == 0 and r.stderr == "", r
    assert "Map" in openpyxl.load_workbook(box.work / "k.xlsx", read_only=True).sheetnames
    (box.work / "t.csv").write_text("a,b,t\n0,1,1\n1,0,0\n")  # a target column is still no input
    box.check(["run", "--csv", "t.csv", "--target", "t", "--map", "a,t"],
              "workbook.map: 't' is a target column; name two input columns: a, b")


# -- a label nan: the class order --------------------------------------------------------

def test_numeric_class_labels_with_nan_sort_the_same_in_every_process():
    code = ("from stepviz.data import one_hot; "
            "print(one_hot(['2', 'nan', '10', '1', 'NaN', '-inf', '1.0', '3'] * 2, 'x')[1])")
    seen = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": str(seed)},
                           capture_output=True, text=True, check=True).stdout for seed in range(8)}
    assert seen == {"('-inf', '1', '1.0', '2', '3', '10', 'NaN', 'nan')\n"}


# -- a Map column spanning 5e-324, or 2e308 ------------------------------------------------

def test_a_map_column_of_no_width_is_drawn_as_constant_and_one_too_wide_is_refused(box):
    (box.work / "tiny.csv").write_text("a,b,t\n0,0,0\n5e-324,1,1\n0,1,1\n5e-324,0,0\n")
    r = box.run("run", "-q", "--csv", "tiny.csv", "--target", "t", "--epochs", "3", "-o", "tiny.xlsx")
    assert r.returncode == 0 and r.stderr == "", r
    from stepviz.maps import axis

    xs = axis(np.array([0.0, 5e-324]))
    assert (xs[0], xs[-1]) == (-0.6, 0.6) and (np.diff(xs) > 0).all()
    (box.work / "huge.csv").write_text("a,b,t\n-1e308,0,0\n1e308,1,1\n0,1,1\n5,0,0\n")
    box.check(["run", "--csv", "huge.csv", "--target", "t"],
              "workbook.map: column 'a' spans -1e+308 to 1e+308, too wide a range to draw a map of")


@pytest.mark.parametrize("values", [[1.0, 6.9], [0.1, 2.5], [4.3, 7.9], [2.0, 4.4], [0, 1], [-3, 250], [1e-7, 3e-7]])
def test_map_axes_are_the_data_range_plus_ten_percent_in_round_steps(values):
    """Iris's petal length (1.0-6.9 cm) ran over -2.5…9.5: a step of 0.5 where 0.3 does."""
    from stepviz.maps import axis

    lo, hi = values
    xs = axis(np.array(values, float))
    span = hi - lo
    assert xs[0] <= lo - 0.1 * span + 1e-12 * span and xs[-1] >= hi + 0.1 * span - 1e-12 * span
    assert xs[-1] - xs[0] <= 1.2 * span * 1.4  # the round step adds at most about a third
    step = xs[1] - xs[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert min(abs(mantissa - m) for m in (1, 1.2, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8)) < 1e-6


# -- stepviz doctor on crafted workbooks ---------------------------------------------------

def test_doctor_on_a_non_numeric_batches_property_says_one_line(seed_book, box):
    from stepviz.reader import properties

    good = {f"stepviz_{k}": v for k, v in properties(seed_book).items()}
    for bad in ("many", "0", "9" * 5000, ""):
        xml = properties_xml({**good, "stepviz_batches": bad})
        with_part(seed_book, box.work / "b.xlsx", "docProps/custom.xml", lambda f: f.write(xml))
        for command in (["doctor", "b.xlsx"], ["show", "b.xlsx", "--step", "3"]):
            r = box.run(*command)
            box.refused(r, "b.xlsx: its document property stepviz_batches is ")
            assert "not a whole number of batches; the workbook was edited or damaged" in r.stderr


def test_doctor_on_a_sheet_name_with_a_five_thousand_digit_epoch(seed_book, box):
    with zipfile.ZipFile(seed_book) as z:
        xml = z.read("xl/workbook.xml").decode()
    name = re.search(r'<sheet name="(1\.03 [^"]*)"', xml).group(1)
    crafted = xml.replace(f'name="{name}"', 'name="' + "9" * 5000 + '.03 x"')
    with_part(seed_book, box.work / "d.xlsx", "xl/workbook.xml", lambda f: f.write(crafted.encode()))
    r = box.run("doctor", "d.xlsx")
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr and len(r.stderr.splitlines()) <= 1, r
    assert r.returncode == 2 or "problem:" in r.stdout, r


# -- the API's arguments -------------------------------------------------------------------

@pytest.fixture(scope="module")
def xor_run():
    return stepviz.train("xor", epochs=3)


@pytest.mark.parametrize("call,message", [
    (lambda r: r.show_map("abc"), 'show_map: expected an epoch (a whole number, "epoch.batch" or None), got \'abc\''),
    (lambda r: r.show_map(1.5), "show_map: expected an epoch (a whole number, \"epoch.batch\" or None) as epoch, got float"),
    (lambda r: r.show_map([1]), "as epoch, got list"),
    (lambda r: r.show_map(True), "as epoch, got bool"),
    (lambda r: r.show_map(1, hidden="no"), "show_map: expected True or False as hidden, got str"),
    (lambda r: r.predict("abc"), "predict: expected rows of 2 numbers as X, got str"),
    (lambda r: r.predict([[1, 2, 3]]), "predict: expected rows of 2 numbers as X, got shape (1, 3)"),
    (lambda r: stepviz.train("seed-mlp", epochs=2, progress=5), "train: expected a function or None as progress"),
])
def test_wrong_arguments_raise_argument_error(xor_run, call, message):
    with pytest.raises(stepviz.ArgumentError) as e:
        call(xor_run)
    assert str(e.value) == message or message in str(e.value), str(e.value)
    assert isinstance(e.value, stepviz.StepvizError)


def test_predict_takes_one_sample_as_a_flat_list(xor_run):
    assert np.array_equal(xor_run.predict([1, 0]), xor_run.predict([[1, 0]]))


# -- words and links on the sheets ---------------------------------------------------------

def test_a_batch_is_called_a_batch_on_the_overview(tmp_path):
    run = stepviz.train("iris", epochs=2, detail=["1.1", "1.2"])
    ws = openpyxl.load_workbook(stepviz.write_workbook(run, tmp_path / "i.xlsx"), read_only=True)["Overview"]
    words = [c for row in ws.iter_rows(max_col=1, values_only=True) for c in row if isinstance(c, str)]
    assert "loss in batch 1 of epoch 1" in words and "loss in batch 2 of epoch 1" in words
    assert not any("epoch 1.1" in w or "epoch 1.2" in w for w in words)


def test_the_loss_before_the_update_links_to_its_sheet(seed_book):
    wb = openpyxl.load_workbook(seed_book)
    ws = wb[next(n for n in wb.sheetnames if n.startswith("1.12 "))]
    caption = next(c for row in ws.iter_rows() for c in row if c.value == "loss before the update")
    below = ws.cell(caption.row + 1, caption.column)
    assert below.value.startswith("='1.06 error'!")  # B32 reads step 6's loss
    loss = wb["1.06 error"]
    assert caption.hyperlink is not None and caption.hyperlink.location.startswith("'1.06 error'!")
    target = caption.hyperlink.location.split("!")[1]
    assert loss[target].value.startswith("loss ")  # the caption of the loss it reads, as the other captions link


def test_the_xor_diagrams_weight_labels_do_not_overlap(tmp_path):
    """Each weight's label is drawn above the middle point of its series (the chart's cached
    numbers); in the plot's pixels no two labels' boxes (30 × 14 px for "-0.10" in 7 pt) touch.
    They stood in one column a quarter of the way along each edge, 0.25 units apart."""
    from stepviz.workbook.network import HEIGHT, LABEL_BOX, WIDTH

    run = stepviz.train("xor", epochs=3)
    path = stepviz.write_workbook(run, tmp_path / "x.xlsx")
    with zipfile.ZipFile(path) as z:
        chart = z.read(next(n for n in z.namelist() if n.startswith("xl/charts/chart"))).decode()
    (xmin, xmax), (ymin, ymax) = [(float(re.search(r'<c:min val="([^"]+)"', ax).group(1)),
                                   float(re.search(r'<c:max val="([^"]+)"', ax).group(1)))
                                  for ax in re.findall(r"<c:valAx>.*?</c:valAx>", chart, re.S)]
    points, segments = [], []
    px = lambda x, y: ((x - xmin) / (xmax - xmin) * (WIDTH - 40), (ymax - y) / (ymax - ymin) * (HEIGHT - 40))  # noqa: E731
    for ser in re.findall(r"<c:ser>.*?</c:ser>", chart, re.S):
        xs, ys = ([float(v) for v in re.findall(r"<c:v>([^<]+)</c:v>", part)]
                  for part in re.findall(r"<c:(?:xVal|yVal)>.*?</c:(?:xVal|yVal)>", ser, re.S))
        if len(xs) == 3:  # an edge: its middle point carries the label
            points.append(px(xs[1], ys[1]))
            segments.append((px(xs[0], ys[0]), px(xs[2], ys[2])))
    assert len(points) == 2 * 3 + 3 * 1
    w, h = LABEL_BOX
    for k, p in enumerate(points):
        for q in points[:k]:
            assert abs(p[0] - q[0]) >= w or abs(p[1] - q[1]) >= h, (p, q)
    # and no label sits on another edge's line (a label on a crossing reads as the other edge's)
    boxes = [(x - w / 2, y - h - 2, x + w / 2, y - 2) for x, y in points]  # above its point
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        for m, seg in enumerate(segments):
            if m == k:
                continue
            (ax, ay), (bx, by) = seg
            for t in np.linspace(0, 1, 200):
                x, y = ax + (bx - ax) * t, ay + (by - ay) * t
                assert not (x0 < x < x1 and y0 < y < y1), (k, m, points[k])
