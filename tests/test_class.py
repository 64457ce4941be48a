"""A class of 30 simulated end to end, as a teacher meets it: careful, slipped, blank and
text-typed returns, .ods and .xls saved by LibreOffice, an LMS folder tree, a copier, a file
handed in twice, another student's file, hostile files, a roster with Chinese ids, apostrophes
and formula-looking names. Every roster student gets the row they deserve in one run; the
gradebook shows no formula in LibreOffice; a late file updates its row only."""
import csv
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

import stepviz
from stepviz.classroom import load_course
from stepviz.gradebook import neutral
from stepviz.grading import Key
from test_exercise import honest
from test_returns import strings_bomb

EVIL_NAME = '=HYPERLINK("http://example.com","Click for grade")'
IDS = (["s2024001", "s2024002", "s2024003", "s2024004", "s2024005", "s2024006", "s2024007", "s2024008",
        "s2024009", "s2024010", "李四", "张三", "王五", "O'Brien", "D'Arcy", "-2+3", "Ωμέγα", "@home",
        "s2024019", "s2024020", "s2024021", "s2024022", "s2024023", "s2024024", "s2024025", "s2024026",
        "s2024027", "s2024028", "s2024029", "s2024030"])
NAMES = {"李四": "Li Si", "张三": "Zhang San", "王五": "Wang Wu", "-2+3": EVIL_NAME}


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "stepviz", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def soffice_convert(files, outdir, to, workdir):
    """Save ``files`` as ``to`` (ods, xls, xlsx) with LibreOffice: one soffice start."""
    from libreoffice import PROFILE, soffice

    profile = workdir / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE)
    filters = {"ods": "ods", "xls": "xls:MS Excel 97", "xlsx": "xlsx:Calc MS Excel 2007 XML"}
    outdir.mkdir(exist_ok=True)
    r = subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
                        "--norestore", "--nologo", "--nodefault", "--nolockcheck", "--convert-to", filters[to],
                        "--outdir", str(outdir), *map(str, files)], capture_output=True, text=True, timeout=600)
    done = [outdir / (f.stem + "." + to) for f in files]
    assert r.returncode == 0 and all(p.is_file() for p in done), r.stdout + r.stderr
    return done


def fill(path, out, key, answers):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path)
    for q, v in answers.items():
        sheet, (r, c) = key.cells[q]
        wb[sheet].cell(r + 1, c + 1).value = v
    wb.save(out)
    return out


def careful(key, slip=None, typed=None):
    """Honest answers computed from the numbers shown; ``slip``: a question answered 0.25 off."""
    typed = dict(typed or {})
    for q in key.questions:
        if q not in typed:
            typed[q] = honest(key.run, typed, q) + (0.25 if q == slip else 0)
    return typed


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    d = tmp_path_factory.mktemp("class30")
    with open(d / "roster.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "email"])
        for sid in IDS:
            w.writerow([sid, NAMES.get(sid, f"Student {sid}"), "x@y"])
    # the secret of a class where s2024002's slip at step 4 shifts the answers after it onto
    # O'Brien's numbers (7 of 15 within 2 %): an honest slip, not a copy (grading._integrity)
    r = cli("class", "roster.csv", "-o", "c", "-q", "--secret", "b5c03453a66bc7b444caa00277ea663b", cwd=d)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    folder = d / "c"
    course = load_course(folder)
    base = course.config()
    keys = {s.id: Key(course, base, s) for s in course.students}
    hand = folder / "handout"
    staged, back = d / "staged", d / "returns"
    staged.mkdir(), back.mkdir()
    n = len(keys["s2024001"].questions)
    slip = keys["s2024001"].questions[1]  # step 4
    expect = {}  # id -> (status, score or None, flag fragments)
    for sid in ("s2024001", "李四", "O'Brien", "-2+3", "@home"):  # careful
        fill(hand / keys[sid].student.file, back / keys[sid].student.file, keys[sid], careful(keys[sid]))
        expect[sid] = ("graded", n, [])
    fill(hand / "s2024002.xlsx", back / "s2024002.xlsx", keys["s2024002"], careful(keys["s2024002"], slip))
    expect["s2024002"] = ("graded", n - 1, [])
    shutil.copy(hand / "s2024003.xlsx", back / "s2024003.xlsx")  # returned blank
    expect["s2024003"] = ("graded", 0, [])
    for sid, text in (("s2024004", lambda v: f"{v}"), ("s2024005", lambda v: f"{v}".replace(".", ","))):
        fill(hand / f"{sid}.xlsx", back / f"{sid}.xlsx", keys[sid],
             {q: text(v) for q, v in careful(keys[sid]).items()})
        expect[sid] = ("graded", n, [f"{n} answers typed as text"])
    # .ods and .xls, saved by LibreOffice (the .xls in an LMS folder: no properties, found by its folder)
    fill(hand / "s2024006.xlsx", staged / "s2024006.xlsx", keys["s2024006"], careful(keys["s2024006"]))
    fill(hand / "张三.xlsx", staged / "张三.xlsx", keys["张三"], careful(keys["张三"]))
    fill(hand / "王五.xlsx", staged / "王五.xlsx", keys["王五"], careful(keys["王五"], slip))
    # s2024023 computes each answer with a formula (=value), saved by LibreOffice with its results
    fill(hand / "s2024023.xlsx", staged / "s2024023.xlsx", keys["s2024023"],
         {q: f"={v!r}" for q, v in careful(keys["s2024023"]).items()})
    soffice_convert([staged / "s2024006.xlsx", staged / "张三.xlsx", staged / "s2024023.xlsx"], back, "ods", d)
    expect["s2024023"] = ("graded", n, [f"formulas typed into {n} answer cells"])
    xls, = soffice_convert([staged / "王五.xlsx"], staged / "xls", "xls", d)
    lms = back / "lms" / "Wang Wu_4242_assignsubmission_file_"
    lms.mkdir(parents=True)
    xls.rename(lms / "homework.xls")
    expect["s2024006"] = expect["张三"] = ("graded", n, [])
    # a re-save that dropped the document properties, in an LMS folder named after the student
    fill(hand / "s2024026.xlsx", staged / "s2024026.xlsx", keys["s2024026"], careful(keys["s2024026"]))
    mine = back / "lms" / "Student s2024026_777_assignsubmission_file_"
    mine.mkdir(parents=True)
    with zipfile.ZipFile(staged / "s2024026.xlsx") as z, zipfile.ZipFile(mine / "Book1.xlsx", "w") as out:
        for item in z.infolist():
            if item.filename != "docProps/custom.xml":
                out.writestr(item, z.read(item.filename))
    expect["s2024026"] = ("graded", n, [])
    expect["王五"] = ("graded", n - 1, [])
    # a copier: s2024007 types s2024008's answers (one digit changed) into their own file
    other = careful(keys["s2024008"])  # as the classmate's sheets show them
    q0 = keys["s2024008"].questions[0]
    other[q0] = other[q0] + 0.1  # one digit changed
    fill(hand / "s2024007.xlsx", back / "s2024007.xlsx", keys["s2024007"], other)
    expect["s2024007"] = ("graded", None, ["answers fit s2024008's numbers: "])
    # two students hand in the same answers (s2024025's own)
    same = careful(keys["s2024025"])
    fill(hand / "s2024025.xlsx", back / "s2024025.xlsx", keys["s2024025"], same)
    fill(hand / "s2024024.xlsx", back / "s2024024.xlsx", keys["s2024024"], same)
    expect["s2024025"] = ("graded", n, ["same answers as s2024024"])
    expect["s2024024"] = ("graded", None, ["same answers as s2024025", "answers fit s2024025's numbers"])
    # a file handed in twice (the same bytes in two places)
    fill(hand / "s2024009.xlsx", back / "s2024009.xlsx", keys["s2024009"], careful(keys["s2024009"]))
    (back / "again").mkdir()
    shutil.copy(back / "s2024009.xlsx", back / "again" / "s2024009.xlsx")
    expect["s2024009"] = ("graded", n, ["handed in 2 times"])
    # s2024010 hands in D'Arcy's workbook under their own name: filed under both rows
    fill(hand / "D'Arcy.xlsx", back / "s2024010.xlsx", keys["D'Arcy"], careful(keys["D'Arcy"]))
    expect["D'Arcy"] = ("graded", n, ["file named for s2024010 holds the workbook of D'Arcy"])
    expect["s2024010"] = ("handed in the workbook of D'Arcy", None, ["holds the workbook of D'Arcy"])
    # hostile: a cell at XFD1048576 in a real return, a shared-strings bomb, a date answer
    fill(hand / "s2024019.xlsx", staged / "s2024019.xlsx", keys["s2024019"], careful(keys["s2024019"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(staged / "s2024019.xlsx")
    wb[wb.sheetnames[3]]["XFD1048576"] = 1
    wb.save(back / "s2024019.xlsx")
    expect["s2024019"] = ("unreadable", None, [])
    strings_bomb(back / "s2024020.xlsx")
    expect["s2024020"] = ("unreadable", None, [])
    dated = careful(keys["s2024021"])
    dated[slip] = datetime.date(2024, 1, 2)
    fill(hand / "s2024021.xlsx", back / "s2024021.xlsx", keys["s2024021"], dated)
    expect["s2024021"] = ("graded", n - 1, ["1 answer a date"])
    # given values changed and a renamed sheet
    typed = careful(keys["Ωμέγα"])
    fill(hand / "Ωμέγα.xlsx", staged / "Ωμέγα.xlsx", keys["Ωμέγα"], typed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(staged / "Ωμέγα.xlsx")
    wb["1.01 inputs"]["B10"] = 7
    wb["1.06 error"].title = "error sheet"
    lr = next(row[1] for row in wb["Overview"].iter_rows() if row[0].value == "lr (learning rate)")
    lr.value = 0.5
    wb.save(back / "Ωμέγα.xlsx")
    expect["Ωμέγα"] = ("graded", n, ["given values changed: X, lr", "sheet '1.06 error' renamed 'error sheet'"])
    (back / "notes.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    for sid in IDS:
        expect.setdefault(sid, ("missing", None, []))
    t = time.perf_counter()
    r = cli("grade", "c", "returns", cwd=d)
    seconds = time.perf_counter() - t
    assert r.returncode == 0, r.stderr
    with open(folder / "grades.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return d, folder, keys, rows, expect, r.stdout, seconds


def by_id(rows):
    return {r["id"]: r for r in rows if r["id"]}


def test_every_roster_student_has_the_row_they_deserve_in_one_run(klass):
    d, folder, keys, rows, expect, out, seconds = klass
    table = by_id(rows)
    assert len(table) == len(IDS) and set(table) == {neutral(i) for i in IDS}
    for sid, (status, score, flags) in expect.items():
        row = table[neutral(sid)]
        assert row["status"].startswith(status), (sid, row)
        if score is not None:
            assert row["score"] == str(score), (sid, row)
        for fragment in flags:
            assert fragment in row["flags"], (sid, fragment, row["flags"])
    fit = re.search(r"answers fit s2024008's numbers: (\d+) of (\d+)", table["s2024007"]["flags"])
    assert int(fit[2]) == len(keys["s2024001"].questions) and int(fit[1]) >= int(fit[2]) - 3  # one digit changed
    careful_rows = [table[s] for s in ("s2024001", "李四", "O'Brien", "s2024006", "张三", "s2024026", "s2024002", "王五")]
    assert all(r["flags"] == "" for r in careful_rows), careful_rows
    assert table["s2024002"]["1.04 hiddenlayer_activations"] == "wrong"
    assert "formula" not in table["s2024003"]["flags"]
    nobody = [r for r in rows if not r["id"]]
    assert [r["file"] for r in nobody] == ["notes.xlsx"] and nobody[0]["status"]
    assert "s2024019" in out and seconds < 120, seconds
    print(f"graded {len(rows)} rows in {seconds:.1f} s")


def test_the_gradebook_neutralises_every_formula_and_libreoffice_shows_none(klass, tmp_path):
    d, folder, keys, rows, expect, out, seconds = klass
    text = (folder / "grades.csv").read_text(encoding="utf-8")
    assert f'"\'{EVIL_NAME.replace(chr(34), chr(34) * 2)}"' in text and '"\'-2+3"' in text and '"\'@home"' in text
    for line in text.splitlines():
        assert line.startswith('"') and line.endswith('"')  # every field quoted
    shutil.copy(folder / "grades.csv", tmp_path / "grades.csv")
    book, = soffice_convert([tmp_path / "grades.csv"], tmp_path / "out", "xlsx", tmp_path)
    ws = openpyxl.load_workbook(book)["grades"]
    cells = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [v for v in cells if isinstance(v, str) and v.startswith("=")]
    assert any(isinstance(v, str) and "HYPERLINK" in v for v in cells)


def test_feedback_escapes_everything_and_hints_the_slip(klass):
    d, folder, keys, rows, expect, out, seconds = klass
    page = (folder / "feedback" / "-2+3.html").read_text(encoding="utf-8")
    assert "&quot;http://example.com&quot;" in page and "<a " not in page
    page = (folder / "feedback" / "s2024002.html").read_text(encoding="utf-8")
    assert "wrong" in page and "own earlier answers" in page
    assert not (folder / "feedback" / "s2024003.html").read_text(encoding="utf-8").count("right</td>")


def test_the_library_grade_agrees_with_grades_csv(klass):
    d, folder, keys, rows, expect, out, seconds = klass
    frame = stepviz.grade(folder, [d / "returns"])
    table = by_id(rows)
    records = {r["id"]: r for r in frame.attrs["submissions"] if r["id"]}
    for sid in ("s2024001", "s2024002", "王五"):
        got = frame[(frame.student == sid) & (frame.file == records[sid]["file"])]
        assert (got.verdict == "right").sum() == int(table[sid]["score"])


def test_the_teachers_file_grades_the_same_after_the_class_folder_moves(klass, tmp_path):
    d, folder, keys, rows, expect, out, seconds = klass
    moved = tmp_path / "moved"
    shutil.copytree(folder, moved)
    (moved / "grades.csv").unlink()
    r = cli("grade", moved, d / "returns" / "s2024002.xlsx", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with open(moved / "grades.csv", encoding="utf-8", newline="") as f:
        again = by_id(csv.DictReader(f))
    assert again["s2024002"] == by_id(rows)["s2024002"]


def test_a_late_file_updates_its_row_and_keeps_the_others(klass, tmp_path):
    d, folder, keys, rows, expect, out, seconds = klass
    late = tmp_path / "late"
    late.mkdir()
    fill(folder / "handout" / "s2024022.xlsx", late / "s2024022.xlsx", keys["s2024022"], careful(keys["s2024022"]))
    work = tmp_path / "c"
    shutil.copytree(folder, work)
    r = cli("grade", work, late, "-q", "--gradebook", "moodle", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with open(work / "grades.csv", encoding="utf-8", newline="") as f:
        after = list(csv.DictReader(f))
    before, now = by_id(rows), by_id(after)
    assert now["s2024022"]["status"] == "graded" and now["s2024022"]["score"] == now["s2024022"]["max_score"]
    assert {k: v for k, v in now.items() if k != "s2024022"} == {k: v for k, v in before.items() if k != "s2024022"}
    assert [r for r in after if not r["id"]] == [r for r in rows if not r["id"]]
    lms = (work / "gradebook-moodle.csv").read_text(encoding="utf-8")
    assert '"s2024022","15"' in lms and "-2+3" not in lms and "@home" not in lms  # left out, not altered
    assert '"李四","15"' in lms
    r = cli("grade", work, late, "-q", "--gradebook", "canvas", cwd=tmp_path)
    canvas = (work / "gradebook-canvas.csv").read_text(encoding="utf-8").splitlines()
    assert r.returncode == 0 and canvas[0] == '"Student","ID","SIS User ID","SIS Login ID","Section","stepviz"'
    assert '"Student s2024022","","s2024022","","","15"' in canvas


def test_sigterm_during_grade_and_links_leave_the_gradebook_as_it_was(klass, tmp_path):
    d, folder, keys, rows, expect, out, seconds = klass
    work = tmp_path / "c"
    shutil.copytree(folder, work)
    before = (work / "grades.csv").read_bytes()
    for k in range(3):  # enough work that the signal comes while grading (one run takes seconds)
        shutil.copytree(d / "returns", tmp_path / "many" / str(k))
    p = subprocess.Popen([sys.executable, "-m", "stepviz", "grade", str(work), str(tmp_path / "many"), "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 128 + signal.SIGTERM, err
    assert (work / "grades.csv").read_bytes() == before
    assert not [q for q in work.iterdir() if q.name.startswith(".")]
    (work / "grades.csv").unlink()
    os.symlink(tmp_path / "elsewhere.csv", work / "grades.csv")
    r = cli("grade", work, d / "returns" / "s2024001.xlsx", cwd=tmp_path)
    assert r.returncode == 2 and "symbolic link" in r.stderr and not (tmp_path / "elsewhere.csv").exists()


def test_control_characters_in_a_file_name_do_not_reach_the_terminal(klass, tmp_path):
    d, folder, keys, rows, expect, out, seconds = klass
    work = tmp_path / "c"
    shutil.copytree(folder, work)
    evil = tmp_path / "r" / "\x1b[2Jx\x07.xlsx"
    evil.parent.mkdir()
    shutil.copy(d / "returns" / "s2024001.xlsx", evil)
    r = cli("grade", work, evil.parent, cwd=tmp_path)
    assert r.returncode == 0 and "\x1b" not in r.stdout and "\x07" not in r.stdout and "\\x1b" in r.stdout


def test_a_class_of_three_on_iris_mini_batches_graded_with_error_carried_forward(tmp_path):
    """Softmax, cross-entropy and mini-batches (sheets e.b.ss): all right → full score, a slip
    at step 4 of batch 1.1 followed by answers computed from it → only that question wrong."""
    (tmp_path / "roster.csv").write_text("id,name\na1,Ann\na2,Bob\na3,Cy\n")
    r = cli("class", "roster.csv", "iris", "-o", "iris", "--vary-data", "-q", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    folder = tmp_path / "iris"
    course = load_course(folder)
    base = course.config()
    keys = {s.id: Key(course, base, s) for s in course.students}
    back = tmp_path / "back"
    back.mkdir()
    slip = (base.detail[0], 4, "hiddenlayer_activations")
    for sid in ("a1", "a2"):
        fill(folder / "handout" / f"{sid}.xlsx", back / f"{sid}.xlsx", keys[sid],
             careful(keys[sid], slip if sid == "a2" else None))
    r = cli("grade", folder, back, "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with open(folder / "grades.csv", encoding="utf-8") as f:
        table = by_id(csv.DictReader(f))
    n = len(keys["a1"].questions)
    assert n == len(base.detail) * 14
    assert table["a1"]["score"] == str(n) and table["a1"]["flags"] == "", table["a1"]
    wrong = [k for k, v in table["a2"].items() if v == "wrong"]
    assert wrong == ["1.1.04 hiddenlayer_activations"] and table["a2"]["score"] == str(n - 1)
    assert table["a3"]["status"] == "missing"


def test_a_blank_earlier_answer_carries_nothing_forward():
    """Today's rule of markers: a blank step is judged against nothing, later answers against
    the correct values; a later answer that follows from the correct numbers is right even
    after a slip."""
    course = type("C", (), {})
    run = stepviz.train("seed-mlp", epochs=1, exercise=True)
    from stepviz.exercise import questions

    key = object.__new__(Key)
    key.run, key.questions = run, questions(run)
    from stepviz.exercise import focus_of, tolerances

    key.true = {q: float((v := run.value(*q))[focus_of(run.config, v.shape)]) for q in key.questions}
    key.tol = tolerances(run)
    typed = {q: honest(run, {}, q) if k else None for k, q in enumerate(key.questions)}  # the first blank
    typed = {}
    for k, q in enumerate(key.questions):
        typed[q] = None if k == 0 else honest(run, {p: (v if v is not None else key.true[p]) for p, v in typed.items()}, q)
    verdicts = key.judge(typed)
    assert verdicts[key.questions[0]][2] == "empty"
    assert all(verdicts[q][2] == "right" for q in key.questions[1:]), verdicts
    assert course


def test_hints_name_the_mistake_a_grader_can_recognise():
    """Each typical mistake, computed here with numpy from the true operands, gets its hint."""
    import numpy as np

    from stepviz.exercise import questions, replay
    from stepviz.feedback import hint

    run = stepviz.train("seed-mlp", epochs=1, exercise=True)
    typed = {q: float(run.value(*q)[0, 0]) for q in questions(run)}  # right answers everywhere
    _, expected = replay(run, typed)
    v = lambda n, name: run.value(1, n, name)  # noqa: E731
    E, lr = v(6, "E"), run.config.lr
    cases = {
        (1, 11, "update_wout"): [(-expected[(1, 11, "update_wout")], "sign"),
                                 (expected[(1, 11, "update_wout")] / lr, "lr is missing")],
        (1, 6, "loss"): [(float((E ** 2).sum()), "½ is forgotten"), (float((E ** 2).sum() / 2 / 3), "not their mean")],
        (1, 8, "d_output"): [(expected[(1, 8, "d_output")] * lr, "lr belongs in the update")],
        (1, 4, "hiddenlayer_activations"): [(float(1 / (1 + np.exp(v(3, "hidden_layer_input")[0, 0]))), "1/(1+eˣ)")],
        (1, 12, "update_bh"): [(float(v(10, "d_hiddenlayer")[0, :].sum() * lr), "a row sum"),
                               (float(v(10, "d_hiddenlayer")[:, 0].mean() * lr), "the mean of the column")],
        (1, 5, "output"): [(round(expected[(1, 5, "output")], 1), "short in precision")],
    }
    for q, mistakes in cases.items():
        for value, words in mistakes:
            assert words in hint(run, typed, q, value, expected[q]), (q, words, value, expected[q])
    assert hint(run, typed, (1, 5, "output"), expected[(1, 5, "output")] + 0.3, expected[(1, 5, "output")]) == ""


def test_the_copy_check_accuses_no_one_by_chance_among_300(tmp_path):
    """Against 300 classmates: honest answers, honest answers with a slip (carried forward),
    answers all wrong in their own way, and a blank are never said to fit another student; a
    copy with two changed answers is."""
    import numpy as np

    from stepviz.classroom import Student, make_class
    from stepviz.grading import Layout, Submission, _integrity, true_answers

    (tmp_path / "r.csv").write_text("id\n" + "".join(f"x{k}\n" for k in range(3)))
    make_class(tmp_path / "r.csv", None, tmp_path / "c", secret="5eed")
    course = load_course(tmp_path / "c")
    base = course.config()
    keys = [Key(course, base, s) for s in course.students]
    layout = keys[0].layout
    answers = {s.id: (true_answers(course, base, s, layout.questions), None)
               for s in (Student(f"y{k}", "") for k in range(300))}
    answers.update({k.student.id: (k.true, k.tol) for k in keys})
    rng = np.random.default_rng(0)
    honest_, copier = careful(keys[0]), careful(keys[2])
    wrong = {q: v * rng.uniform(1.3, 3) for q, v in careful(keys[1]).items()}
    for q in layout.questions[:2]:
        copier[q] += 1.0
    # an honest slip: every answer after it follows from it (error carried forward), and some
    # land near a classmate's numbers by chance; none of them is another student's own
    slips = [careful(keys[0], q) for q in layout.questions[1:4]]
    subs = [Submission(Path(n), n, student=k.student, typed=t, verdicts=k.judge(t)) for n, k, t in
            [("a", keys[0], honest_), ("b", keys[1], wrong), ("c", keys[0], copier),
             *((f"s{i}", keys[0], t) for i, t in enumerate(slips))]]
    _integrity(subs, answers, layout)
    assert subs[0].flags == [] and subs[1].flags == [], (subs[0].flags, subs[1].flags)
    assert all(s.flags == [] for s in subs[3:]), [s.flags for s in subs[3:]]
    flag, = subs[2].flags  # 13 copied answers, one or two of them drifted from x2's exact numbers
    assert re.fullmatch(rf"answers fit x2's numbers: 1[123] of {len(layout.questions)}", flag), flag
