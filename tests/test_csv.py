"""A learner's own CSV: header names become labels, bad files get a one-line error."""
import subprocess
import sys

import numpy as np
import openpyxl
import pytest

import stepviz

CSV = 'hours,sleep,"=HYPERLINK(""http://x"",""y"")",passed\n1,8,0,0\n5,7,1,1\n9,5,1,1\n2,6,0,0\n'


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "stepviz", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_csv_round_trip_labels_are_the_csvs_names(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "exam.csv").write_text(CSV)
    (tmp_path / "exam.toml").write_text('[data]\ncsv = "data/exam.csv"\ntarget = ["passed"]\n'
                                        '[training]\nepochs = 30\n')
    r = cli("run", "exam.toml", "-o", "exam.xlsx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "target passed" in r.stdout
    run = stepviz.train(str(tmp_path / "exam.toml"))
    np.testing.assert_array_equal(run.config.X, [[1, 8, 0], [5, 7, 1], [9, 5, 1], [2, 6, 0]])
    np.testing.assert_array_equal(run.config.y, [[0], [1], [1], [0]])
    ws = openpyxl.load_workbook(tmp_path / "exam.xlsx")["1.01 inputs"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    # the labels, a hostile one included, are text cells, never formulas
    for label in ("hours", "sleep", '=HYPERLINK("http://x","y")', "passed"):
        assert label in cells and cells[label].data_type == "s", label
    assert stepviz.read_trace(tmp_path / "exam.xlsx").query("name == 'X'").value.tolist()[:3] == [1, 8, 0]


def test_csv_on_the_command_line_replaces_the_presets_data(tmp_path):
    (tmp_path / "exam.csv").write_text(CSV)
    r = cli("run", "--csv", "exam.csv", "--target", "passed", "--epochs", "5", "-o", "e.xlsx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # a file's own data, predictions included, gives way to the CSV
    (tmp_path / "p.toml").write_text("[data]\nX = [[1, 2]]\ny = [1]\npredict = [[3, 4]]\n")
    r = cli("run", "p.toml", "--csv", "exam.csv", "--target", "passed", "--epochs", "5", "-o", "o.xlsx", cwd=tmp_path)
    assert r.returncode == 0 and "predict" not in r.stdout, r.stderr
    assert len(r.stdout.splitlines()) == 3 + 4 + 1  # path, summary, header, 4 samples, accuracy


BAD = [
    ("missing", None, "no such CSV file"),
    ("target", "a,b\n1,2\n", "no target column 'passed'; columns are: a, b"),
    ("text", "a,passed\n1,0\n2,x\n", "line 3, column 'passed': 'x' is not a number"),
    ("nan", "a,passed\n1,0\nnan,1\n", "line 3, column 'a': nan is not a finite number"),
    ("empty", "", "empty file"),
    ("header-only", "a,passed\n", "no data rows after the header"),
    ("ragged", "a,passed\n1,0\n2\n", "line 3 has 1 fields, the header has 2"),
    ("binary", b"\xff\xfe\x00a,passed\n", "not UTF-8 text"),
    ("unnamed", "a,,passed\n1,2,0\n", "column 2 of the header is empty"),
    ("long-name", "a" * 300 + ",passed\n1,0\n", "column 1 of the header is longer than 255 characters"),
]


@pytest.mark.parametrize("case,content,message", BAD, ids=[b[0] for b in BAD])
def test_bad_csv_is_exit_2_naming_the_place(tmp_path, case, content, message):
    if content is not None:
        f = tmp_path / "d.csv"
        f.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "c.toml").write_text('[data]\ncsv = "d.csv"\ntarget = ["passed"]\n')
    before = sorted(tmp_path.iterdir())
    r = cli("run", "c.toml", cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert "d.csv" in r.stderr and len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    assert sorted(tmp_path.iterdir()) == before
