"""A class of students: their own numbers, rebuilt from class.toml, graded with error carried
forward from submissions filled with openpyxl and re-saved by LibreOffice."""
import csv
import subprocess
import sys
import zipfile

import numpy as np
import openpyxl
import pytest

import stepviz
from stepviz.classroom import load_course, read_roster
from stepviz.grading import Key
from test_exercise import honest


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "stepviz", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    d = tmp_path_factory.mktemp("class")
    roster = d / "roster.csv"
    roster.write_text("id,name,email\n" + "".join(f"s{k:03d},Student {k},x@y\n" for k in range(30)))
    r = cli("class", roster, "-o", d / "c1", "--vary-data", "-q", cwd=d)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return d, roster, d / "c1"


def given(path):
    wb = openpyxl.load_workbook(path)
    start = [c.value for row in wb["1.02 initialise"].iter_rows() for c in row if isinstance(c.value, float)]
    X = [c.value for row in wb["1.01 inputs"].iter_rows() for c in row if isinstance(c.value, (int, float))]
    return tuple(start), tuple(X), wb.properties, wb


def test_thirty_students_have_their_own_numbers_and_are_rebuilt_exactly(klass, tmp_path):
    d, roster, folder = klass
    seen = [given(folder / f"s{k:03d}.xlsx") for k in range(30)]
    assert len({s for s, _, _, _ in seen}) == 30 and len({x for _, x, _, _ in seen}) == 30
    course = load_course(folder)
    base = course.config()
    for k in (0, 17):
        student = course.students[k]
        key = Key(course, base, student, folder)
        start = [float(key.run.value(1, 2, p)[i, j]) for p in base.network.parameters()
                 for i, j in np.ndindex(key.run.value(1, 2, p).shape)]
        assert sorted(start) == pytest.approx(sorted(seen[k][0]), rel=1e-15)  # as the file stores them
        again = Key(course, base, student, folder)
        assert all(np.array_equal(again.run.values[v], key.run.values[v]) for v in key.run.values)  # bit for bit
        wb = seen[k][3]
        assert student.name in wb["Overview"]["A3"].value or any(
            student.name in str(c.value) for row in wb["Overview"].iter_rows(max_row=6) for c in row)
    with zipfile.ZipFile(folder / "s017.xlsx") as z:
        assert "s017" in z.read("docProps/custom.xml").decode()
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    r = cli("class", roster, "-o", folder, "--vary-data", "-q", cwd=d)  # again: the same bytes
    assert r.returncode == 0, r.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("roster,message", [
    ("id,name\na,A\na,B\n", "id 'a' is also on line 2"),
    ("id,name\n,A\n", "the id is empty"),
    ("name\nA\n", "no 'id' column"),
    ("", "the roster is empty"),
])
def test_roster_errors_are_one_line_and_nothing_is_written(tmp_path, roster, message):
    (tmp_path / "r.csv").write_text(roster)
    r = cli("class", "r.csv", "-o", "out", cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_with_other_files_is_refused(klass, tmp_path):
    d, roster, folder = klass
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "other.xlsx").write_text("x")
    r = cli("class", roster, "-o", tmp_path / "c", cwd=tmp_path)
    assert r.returncode == 2 and "holds other files" in r.stderr
    r = cli("class", roster, "-o", folder, "--secret", "abc", cwd=tmp_path)
    assert r.returncode == 2 and "holds another class" in r.stderr


def fill(path, out, key, answers):
    wb = openpyxl.load_workbook(path)
    for q, v in answers.items():
        sheet, (r, c) = key.cells[q]
        wb[sheet].cell(r + 1, c + 1).value = v
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def graded(klass, tmp_path_factory):
    from libreoffice import recalculate

    d, roster, folder = klass
    course = load_course(folder)
    base = course.config()
    back = tmp_path_factory.mktemp("returned")
    keys = {s.id: Key(course, base, s, folder) for s in course.students[:6]}
    plans = {}
    # s000: all right; s001: nothing; s002: a slip at step 4, then honest from it; s003: X changed
    for sid in ("s000", "s002", "s003"):
        key, typed = keys[sid], {}
        for q in key.questions:
            typed[q] = honest(key.run, typed, q) + (0.25 if sid == "s002" and q[1] == 4 else 0)
        plans[sid] = typed
    staged = tmp_path_factory.mktemp("staged")
    for sid, typed in plans.items():
        fill(folder / f"{sid}.xlsx", staged / f"{sid}.xlsx", keys[sid], typed)
    wb = openpyxl.load_workbook(staged / "s003.xlsx")
    wb["1.01 inputs"]["B10"] = 7
    wb.save(staged / "s003.xlsx")
    saved = recalculate([staged / f"{s}.xlsx" for s in ("s000", "s002", "s003")], staged)  # LibreOffice re-saves
    for p in saved:
        p.rename(back / p.name)
    (back / "s001.xlsx").write_bytes((folder / "s001.xlsx").read_bytes())  # returned blank
    fill(folder / "s004.xlsx", back / "s005.xlsx", keys["s004"], {})  # s004's file named for s005 (no cached values)
    (back / "notes.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    r = cli("grade", folder, back, "-q", cwd=d)
    assert r.returncode == 0, r.stderr
    with open(folder / "grades.csv", encoding="utf-8") as f:
        table = {row["file"]: row for row in csv.DictReader(f)}
    return folder, back, keys, table


def test_grades(graded):
    folder, back, keys, table = graded
    n = len(keys["s000"].questions)
    assert table["s000.xlsx"]["score"] == str(n) and table["s000.xlsx"]["flags"] == ""
    assert table["s001.xlsx"]["score"] == "0"
    wrong = [k for k, v in table["s002.xlsx"].items() if v == "wrong"]
    assert wrong == ["1.04 hiddenlayer_activations"] and table["s002.xlsx"]["score"] == str(n - 1)
    assert "given values changed: X" in table["s003.xlsx"]["flags"]
    assert "holds the workbook of s004" in table["s005.xlsx"]["flags"]
    assert "not a stepviz workbook" in table["notes.xlsx"]["status"]


def test_the_library_grade_equals_grades_csv_and_feedback_hints(graded):
    folder, back, keys, table = graded
    frame = stepviz.grade(folder, [back])
    for file, rows in frame.groupby("file"):
        assert (rows.verdict == "right").sum() == int(table[file]["score"] or 0)
        for _, r in rows.iterrows():
            assert table[file][f"{r.epoch}.{r.step:02d} {r['name']}"] == r.verdict
    page = (folder / "feedback" / "s002.html").read_text()
    assert "wrong" in page and "s002" in page


def test_hints_name_the_mistake():
    from stepviz.exercise import replay
    from stepviz.grading import hint

    from stepviz.exercise import questions

    run = stepviz.train("seed-mlp", epochs=1, exercise=True)
    typed = {q: float(run.value(*q)[0, 0]) for q in questions(run)}  # right answers everywhere
    _, expected = replay(run, typed)
    q = (1, 11, "update_wout")
    assert "sign" in hint(run, typed, q, -expected[q], expected[q])
    assert "lr" in hint(run, typed, q, expected[q] / 0.1, expected[q])
    assert "old value" in hint(run, typed, q, float(run.value(1, 2, "wout")[0, 0]), expected[q])
    q = (1, 8, "d_output")
    slope = run.value(1, 7, "slope_output_layer")[0, 0]
    assert "slope" in hint(run, typed, q, expected[q] / slope, expected[q])
    run = stepviz.train("xor", loss="bce", epochs=1, exercise=True)  # cross-entropy's own mistakes
    typed = {q: float(run.value(*q)[0, 0]) for q in questions(run)}
    _, expected = replay(run, typed)
    q = (1, 8, "d_output")
    p = run.value(1, 5, "output")[0, 0]
    assert "no slope here" in hint(run, typed, q, expected[q] * p * (1 - p), expected[q])
    q = (1, 6, "loss")
    assert "not their mean" in hint(run, typed, q, expected[q] / 4, expected[q])


def test_a_class_of_three_on_iris_mini_batches_graded_with_error_carried_forward(tmp_path):
    """Softmax, cross-entropy and mini-batches (sheets e.b.ss): all right → full score, a slip at
    step 4 of batch 1.1 followed by answers computed from it → only that question wrong (also
    on batch 1.2, which starts from 1.1's updates), blank → zero; re-saved by LibreOffice."""
    from libreoffice import recalculate

    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\na1,Ann\na2,Bob\na3,Cy\n")
    folder = tmp_path / "iris"
    r = cli("class", roster, "iris", "-o", folder, "--vary-data", "-q", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    course = load_course(folder)
    base = course.config()
    assert base.batches > 1 and base.label(base.detail[1]) == "1.2"
    keys = {s.id: Key(course, base, s, folder) for s in course.students}
    staged, back = tmp_path / "staged", tmp_path / "back"
    staged.mkdir(), back.mkdir()
    slip = (base.detail[0], 4, "hiddenlayer_activations")
    for sid in ("a1", "a2"):
        key, typed = keys[sid], {}
        for q in key.questions:
            typed[q] = honest(key.run, typed, q) + (0.25 if sid == "a2" and q == slip else 0)
        fill(folder / f"{sid}.xlsx", staged / f"{sid}.xlsx", key, typed)
    for p in recalculate([staged / "a1.xlsx", staged / "a2.xlsx"], staged):
        p.rename(back / p.name)
    (back / "a3.xlsx").write_bytes((folder / "a3.xlsx").read_bytes())
    r = cli("grade", folder, back, "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with open(folder / "grades.csv", encoding="utf-8") as f:
        table = {row["file"]: row for row in csv.DictReader(f)}
    n = len(keys["a1"].questions)
    assert n == len(base.detail) * 14  # 14 questions per detailed batch (1.1, 1.2, the last)
    assert table["a1.xlsx"]["score"] == str(n) and table["a1.xlsx"]["flags"] == "", table["a1.xlsx"]
    wrong = [k for k, v in table["a2.xlsx"].items() if v == "wrong"]
    assert wrong == ["1.1.04 hiddenlayer_activations"] and table["a2.xlsx"]["score"] == str(n - 1)
    assert table["a3.xlsx"]["score"] == "0"
    assert {"1.2.05 output", "1.2.06 loss", "1.2.08 d_output"} <= set(table["a1.xlsx"])
    frame = stepviz.grade(folder, [back])
    for file, rows in frame.groupby("file"):
        for _, row in rows.iterrows():
            assert table[file][f"{base.label(row.epoch)}.{row.step:02d} {row['name']}"] == row.verdict
