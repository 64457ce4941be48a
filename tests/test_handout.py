"""`stepviz class`: any roster, the handout folder apart from the teacher's secret file, a
teacher's file that embeds its configuration and data, and nothing of the teacher's destroyed
or half-written (a foreign file, a link, a full disk, SIGTERM)."""
import re
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepviz
from stepviz.classroom import ClassError, Student, load_course, make_class, read_roster, safe_name
from stepviz.errors import ArgumentError


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "stepviz", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


ROSTER = "id,name\ns1,Ann\n李四,Li Si\n张三,Zhang San\n\"O'Brien, P\",Pat\nCON,Con\n"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("handout")
    (d / "r.csv").write_text(ROSTER, encoding="utf-8")
    r = cli("class", "r.csv", "-o", "c", "-q", cwd=d)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return d


def test_the_handout_folder_holds_the_workbooks_only_and_the_key_is_apart_and_secret(small):
    c = small / "c"
    assert sorted(p.name for p in c.iterdir()) == ["class.toml", "handout"]
    files = sorted(p.name for p in (c / "handout").iterdir())
    assert files == sorted(["s1.xlsx", "李四.xlsx", "张三.xlsx", "O'Brien, P.xlsx", "_CON.xlsx"])
    text = (c / "class.toml").read_text(encoding="utf-8")
    assert text.startswith("# SECRET") and "never hand it out" in text
    secret = load_course(c).secret
    for p in (c / "handout").iterdir():  # no workbook holds the secret or another student's id
        assert secret.encode() not in p.read_bytes()
    wb = openpyxl.load_workbook(c / "handout" / "李四.xlsx")
    assert wb.custom_doc_props["stepviz_student_id"].value == "李四"


def test_the_same_class_again_gives_the_same_bytes_and_leaves_the_teachers_other_files(small):
    c = small / "c"
    (c / "returns").mkdir()
    (c / "returns" / "mine.xlsx").write_bytes(b"the teacher's")
    before = snapshot(c)
    r = cli("class", "r.csv", "-o", "c", "-q", cwd=small)
    assert r.returncode == 0, r.stderr
    assert snapshot(c) == before
    assert not [p for p in small.iterdir() if p.name.startswith(".")]  # no private folder left


@pytest.mark.parametrize("roster,message", [
    ("id,name\na,A\na,B\n", "line 3: id 'a' is also on line 2"),
    ("id,name\n,A\n", "line 2: the id is empty"),
    ("name\nA\n", "no 'id' column"),
    ("", "the roster is empty"),
    ('id,name\na,"Ann\nb,Bob\n', "line 2: not valid CSV"),
    ("id,name\na,Ann,x\n", "line 2: 3 fields, the header has 2"),
    ("id,name\na\u2028b,Ann\n", "line 2: the id 'a\\u2028b' holds the control character"),
    ("id,name\na,A\fB\n", "line 2: the name 'A\\x0cB' holds"),
    ('id,name\na,"Ann\nBob"\n', "line 2: the name 'Ann\\nBob' holds"),
    ("id,name\na\x1b[31m,A\n", "line 2: the id"),
    ("id,name\nab,A\nAB,B\n", "line 3: id 'AB' and 'ab' make the same file name"),
    ("id,name\nx.,A\nx,B\n", "make the same file name x.xlsx"),
])
def test_roster_errors_name_the_line_and_nothing_is_written(tmp_path, roster, message):
    (tmp_path / "r.csv").write_text(roster, encoding="utf-8")
    r = cli("class", "r.csv", "-o", "out", cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "out").exists()


def test_a_roster_with_semicolons_a_bom_and_quoted_fields(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("\ufeffId;Name\n\"a;1\";\"Müller; Anna\"\nΔ-7;Δήμητρα\n".encode("utf-8"))
    assert read_roster(p) == (Student("a;1", "Müller; Anna"), Student("Δ-7", "Δήμητρα"))


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=150))
def test_a_file_name_made_from_any_id_is_safe_on_windows_and_posix(sid):
    name = safe_name(sid)
    assert name and len(name) <= 100 and name == name.strip(". ")
    assert not any(c in name for c in '<>:"/\\|?*') and all(ord(c) >= 32 and c != "\x7f" for c in name)
    assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", *(f"COM{k}" for k in range(10)),
                                              *(f"LPT{k}" for k in range(10))}


def test_the_teachers_file_embeds_its_config_and_data_edited_or_moved_after(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "d.csv").write_text("a,b,t\n0,1,1\n1,0,1\n1,1,0\n0,0,0\n")
    (src / "my.toml").write_text('[data]\ncsv = "d.csv"\ntarget = "t"\n[training]\nepochs = 20\n'
                                 '[workbook]\ndetail = [1, 2]\nfocus = [2, 1]\n')
    (tmp_path / "r.csv").write_text("id\nk1\nk2\n")
    make_class(tmp_path / "r.csv", str(src / "my.toml"), tmp_path / "c", secret="abc")
    course = load_course(tmp_path / "c")
    base = course.config()
    key = {s.id: stepviz.train(course.student_config(base, s)).values for s in course.students}
    (src / "my.toml").write_text('[data]\ncsv = "d.csv"\ntarget = "t"\n[workbook]\nfocus = [1, 1]\n')
    (src / "d.csv").rename(tmp_path / "moved.csv")
    course = load_course(tmp_path / "c")
    again = course.config()
    assert again.focus == (2, 1) and np.array_equal(again.X, base.X)
    for s in course.students:
        values = stepviz.train(course.student_config(again, s)).values
        assert all(np.array_equal(values[k], key[s.id][k]) for k in values)
    course.verify(again, "c")  # the numerics check agrees


def test_a_stepviz_computing_other_numbers_refuses_to_grade(small, tmp_path):
    text = (small / "c" / "class.toml").read_text(encoding="utf-8")
    # the reference student's first answer as another stepviz would compute it: 1 more (the
    # answers depend on the class's random secret, so their first digit may be any)
    first = re.search(r"^check = \[([^,\]]+)", text, re.M)
    changed = text[:first.start(1)] + repr(float(first.group(1)) + 1) + text[first.end(1):]
    assert changed != text
    (tmp_path / "class.toml").write_text(changed, encoding="utf-8")
    course = load_course(tmp_path)
    with pytest.raises(ClassError, match="computes other numbers for this class"):
        course.verify(course.config(), "x")


@pytest.mark.parametrize("edit,message", [
    (('vary_data = false', 'vary_data = "false"'), "vary_data: expected true or false, got 'false'"),
    (('mode = "assessment"', 'mode = 3'), "mode: expected one of assessment, practice, got 3"),
    (('secret = "', 'secret = "zz'), "secret: expected hexadecimal digits"),
    (('format = 2', 'format = 9'), "made by a newer stepviz"),
])
def test_the_teachers_file_is_checked_with_types(small, tmp_path, edit, message):
    text = (small / "c" / "class.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    (tmp_path / "class.toml").write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(ClassError, match=message):
        load_course(tmp_path)


def test_a_fifo_or_a_device_as_the_teachers_file_is_refused_without_reading(tmp_path):
    os.mkfifo(tmp_path / "class.toml")
    with pytest.raises(ClassError, match="FIFO"):
        load_course(tmp_path)
    (tmp_path / "class.toml").unlink()
    os.symlink("/dev/zero", tmp_path / "class.toml")
    with pytest.raises(ClassError, match="symbolic link"):
        load_course(tmp_path)
    r = cli("grade", tmp_path, tmp_path, cwd=tmp_path)
    assert r.returncode == 2 and "symbolic link" in r.stderr


def test_foreign_files_links_and_other_classes_are_never_overwritten(small, tmp_path):
    (tmp_path / "r.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "s1.xlsx").write_bytes(b"the teacher's own")
    r = cli("class", "r.csv", "-o", "mine", cwd=tmp_path)
    assert r.returncode == 2 and "holds other files (s1.xlsx)" in r.stderr
    assert (tmp_path / "mine" / "s1.xlsx").read_bytes() == b"the teacher's own"
    os.symlink(small / "c", tmp_path / "link")
    r = cli("class", "r.csv", "-o", "link", cwd=tmp_path)
    assert r.returncode == 2 and "symbolic link" in r.stderr
    c = tmp_path / "c"
    assert cli("class", "r.csv", "-o", "c", "-q", cwd=tmp_path).returncode == 0
    (c / "handout" / "extra.xlsx").write_bytes(b"x")
    r = cli("class", "r.csv", "-o", "c", cwd=tmp_path)
    assert r.returncode == 2 and "holds files that are not this class's (extra.xlsx)" in r.stderr
    (c / "handout" / "extra.xlsx").unlink()
    (c / "handout" / "s1.xlsx").unlink()
    os.symlink(tmp_path / "mine" / "s1.xlsx", c / "handout" / "s1.xlsx")
    r = cli("class", "r.csv", "-o", "c", cwd=tmp_path)
    assert r.returncode == 2 and "symbolic link" in r.stderr
    assert (tmp_path / "mine" / "s1.xlsx").read_bytes() == b"the teacher's own"
    (c / "handout" / "s1.xlsx").unlink()
    r = cli("class", "r.csv", "-o", "c", "--secret", "abc", cwd=tmp_path)
    assert r.returncode == 2 and "holds another class" in r.stderr


def test_the_training_cap_of_run_applies_before_anything_is_written(tmp_path):
    (tmp_path / "r.csv").write_text("id\na\n")
    (tmp_path / "big.toml").write_text("[data]\nX = [[0, 1], [1, 0]]\ny = [[1], [0]]\n[training]\nepochs = 1000000000\n")
    t = time.perf_counter()
    r = cli("class", "r.csv", "big.toml", "-o", "c", cwd=tmp_path)
    assert r.returncode == 2 and "stepviz trains for at most" in r.stderr and time.perf_counter() - t < 20
    assert not (tmp_path / "c").exists()


def test_wrong_argument_types_are_stepviz_errors(tmp_path):
    (tmp_path / "r.csv").write_text("id\na\n")
    with pytest.raises(ArgumentError, match="vary_data"):
        make_class(tmp_path / "r.csv", None, tmp_path / "c", vary_data="false")
    with pytest.raises(ArgumentError, match="roster"):
        make_class(["a"], None, tmp_path / "c")
    with pytest.raises(ArgumentError, match="a list of files or folders"):
        stepviz.grade(tmp_path, "returns/a.xlsx")
    assert not (tmp_path / "c").exists()


def test_a_full_disk_leaves_the_folder_as_it_was(small, tmp_path, monkeypatch):
    import stepviz.workbook

    real, calls = stepviz.workbook.write_workbook, []

    def full(run, path, *a, **k):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(run, path, *a, **k)

    monkeypatch.setattr(stepviz.workbook, "write_workbook", full)
    (tmp_path / "r.csv").write_text(ROSTER, encoding="utf-8")
    with pytest.raises(ClassError, match="No space left on device.*the folder is as it was"):
        make_class(tmp_path / "r.csv", None, tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]
    before = snapshot(small / "c")
    calls.clear()
    with pytest.raises(ClassError, match="No space left"):
        make_class(small / "r.csv", None, small / "c")
    assert snapshot(small / "c") == before


def test_sigterm_during_class_leaves_nothing(tmp_path):
    (tmp_path / "r.csv").write_text("id\n" + "".join(f"s{k}\n" for k in range(60)))
    p = subprocess.Popen([sys.executable, "-m", "stepviz", "class", "r.csv", "-o", "c", "-q"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:  # until a few workbooks are in the private folder
        private = [q for q in tmp_path.iterdir() if q.name.startswith(".c.stepviz-")]
        if private and len(list((private[0] / "handout").glob("*.xlsx"))) >= 3:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the class was never under way")
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM and "terminated" in err
    assert sorted(q.name for q in tmp_path.iterdir()) == ["r.csv"]


def test_no_answer_can_be_read_from_the_handout_and_the_twin_is_not_shown(small):
    """Every cached number of every handout workbook (what a spreadsheet shows before an answer
    is typed) differs from every answer of every student; the default preset's twin of the
    asked update_wh[1,1] (X's columns 1 and 3 are equal) is computed but shown as nothing."""
    import warnings

    from stepviz.grading import Key

    c = small / "c"
    course = load_course(c)
    base = course.config()
    answers = [v for s in course.students for v in Key(course, base, s).true.values()]
    for p in (c / "handout").iterdir():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(p, data_only=True)
        shown = [cell.value for ws in wb for row in ws.iter_rows() for cell in row
                 if isinstance(cell.value, float) and cell.number_format != ";;;"]
        assert shown and not [a for a in answers if any(abs(a - v) <= 1e-9 * max(1, abs(a)) for v in shown)], p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = openpyxl.load_workbook(c / "handout" / "s1.xlsx")["1.11 update weights"]
    import re

    def bar(cell):  # a data bar's cell (also ';;;'): a bare link to a weight on its own row
        m = re.fullmatch(r"=\$?([A-Z]+)\$?(\d+)", str(cell.value))
        return m is not None and int(m[2]) == cell.row
    hidden = [cell for row in ws.iter_rows() for cell in row if cell.number_format == ";;;"]
    twins = [cell for cell in hidden if not bar(cell)]
    assert len(twins) == 1 and str(twins[0].value).startswith("=") and len(hidden) > 1
    notes = ws["A4"].value
    # three significant digits (the display branch): a small update shows more than the 3 fewest decimals
    n = re.search(r"type a number with (\d+) decimals or more", notes)
    assert "Not shown: update_wh[3,1]" in notes and n and int(n[1]) >= base.decimals and "amount" in notes


def test_a_class_made_before_the_teachers_file_embedded_its_config_still_grades(tmp_path):
    """A format-1 class.toml (the config's path, the workbooks beside it) rebuilds the same
    numbers as a class of today with the same secret."""
    from stepviz.grading import Key

    (tmp_path / "r.csv").write_text("id\na\n")
    make_class(tmp_path / "r.csv", None, tmp_path / "new", secret="5eed")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "class.toml").write_text('source = "seed-mlp"\nmode = "assessment"\nvary_data = false\n'
                                                 'secret = "5eed"\nstudents = [\n  { id = "a", name = "" },\n]\n')
    old, new = load_course(tmp_path / "old"), load_course(tmp_path / "new")
    assert old.legacy and not new.legacy
    a, b = Key(old, old.config(), old.students[0]), Key(new, new.config(), new.students[0])
    assert a.true == b.true


def test_a_fifo_among_the_returns_gets_its_row_and_never_hangs(small, tmp_path):
    import shutil

    work = tmp_path / "c"
    shutil.copytree(small / "c", work)
    (tmp_path / "r").mkdir()
    os.mkfifo(tmp_path / "r" / "s1.xlsx")
    r = subprocess.run([sys.executable, "-m", "stepviz", "grade", str(work), str(tmp_path / "r"), "-q"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    text = (work / "grades.csv").read_text(encoding="utf-8")
    assert '"s1","Ann","unreadable: is a FIFO' in text and text.count('"missing"') == 4


def test_a_full_disk_while_grading_leaves_the_gradebook_as_it_was(small, tmp_path, monkeypatch):
    import shutil

    import stepviz.gradebook as grading

    work = tmp_path / "c"
    shutil.copytree(small / "c", work)
    (tmp_path / "r").mkdir()
    shutil.copy(work / "handout" / "s1.xlsx", tmp_path / "r" / "s1.xlsx")
    grading.grade_folder(work, [tmp_path / "r"], quiet=True)
    before = snapshot(work)
    real = grading._write_csv

    def full(path, *a):
        real(path, *a)
        if path.name == "grades.csv":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(grading, "_write_csv", full)
    shutil.copy(work / "handout" / "李四.xlsx", tmp_path / "r" / "李四.xlsx")
    with pytest.raises(grading.GradeError, match="No space left on device.*grades.csv is as it was"):
        grading.grade_folder(work, [tmp_path / "r"], quiet=True)
    assert snapshot(work) == before


def test_the_current_empty_folder_as_the_class_folder(tmp_path):
    (tmp_path / "r.csv").write_text("id\na\n")
    (tmp_path / "here").mkdir()
    r = cli("class", "../r.csv", "-o", ".", "-q", cwd=tmp_path / "here")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "here").iterdir()) == ["class.toml", "handout"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "r.csv"]
