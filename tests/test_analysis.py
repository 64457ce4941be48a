"""Comparing steps and runs: frames, matrices, compare, and the show/diff commands."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import stepviz
from stepviz.analysis import compare, matrix


@pytest.mark.parametrize("engine", ["openpyxl", "calamine"])
def test_read_trace_equals_the_runs_frame_with_either_engine(seed_run, seed_book, engine):
    pytest.importorskip("python_calamine")
    from stepviz.reader import read_history, read_trace

    t = read_trace(seed_book, engine=engine)
    f = seed_run.frame()
    pd.testing.assert_frame_equal(t.drop(columns="value"), f.drop(columns="value"))
    np.testing.assert_allclose(t.value, f.value, rtol=1e-15, atol=1e-15)
    h = read_history(seed_book, engine=engine)
    pd.testing.assert_frame_equal(h, seed_run.history(), rtol=1e-15)


def test_default_reader_is_calamine_when_installed():
    pytest.importorskip("python_calamine")
    from stepviz.reader import engine

    assert engine() == "calamine"


def test_matrix_gives_a_step_in_its_shape(seed_run, seed_book):
    m = matrix(seed_book, "d_output", epoch=1)
    assert m.shape == (3, 1)
    np.testing.assert_allclose(m.to_numpy(), seed_run.value(1, 8, "d_output"), rtol=1e-15)
    start, updated = matrix(seed_run, "wh"), matrix(seed_run, "wh", step=11)
    np.testing.assert_array_equal(start.to_numpy(), seed_run.value(1, 2, "wh"))
    np.testing.assert_array_equal(updated.to_numpy(), seed_run.value(1, 11, "wh"))
    with pytest.raises(stepviz.StepvizError, match="no matrix named 'nope'"):
        matrix(seed_run, "nope")
    with pytest.raises(stepviz.StepvizError, match="epoch 7 is not in the trace"):
        matrix(seed_run, "wh", epoch=7)


def test_compare_runs_that_differ_only_in_lr():
    a = stepviz.train("seed-mlp", epochs=3, detail=[1, 2])
    b = stepviz.train("seed-mlp", epochs=3, detail=[1, 2], lr=0.5)
    d = compare(a, b).set_index(["epoch", "step", "name"]).max_abs_diff
    assert (d.loc[1].loc[1:10] == 0).all()  # lr is used first in step 11
    assert (d.loc[(1, 11)] > 1e-3).all() and (d.loc[(1, 12)] > 1e-4).all()
    assert (d.loc[2].loc[3:] > 0).all()  # epoch 2 starts from other weights
    same = compare(a, stepviz.train("seed-mlp", epochs=3, detail=[1, 2]))
    assert (same.max_abs_diff == 0).all() and len(same) == len(d)


def test_compare_marks_values_missing_on_one_side_as_infinite():
    a = stepviz.train("seed-mlp", epochs=2, detail=[1, 2])
    b = stepviz.train("seed-mlp", epochs=2, detail=[1])
    d = compare(a, b)
    assert np.isinf(d[d.epoch == 2].max_abs_diff).all() and (d[d.epoch == 1].max_abs_diff == 0).all()


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "stepviz", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def two_books(tmp_path_factory):
    d = tmp_path_factory.mktemp("diff")
    for name, lr in (("a", 0.1), ("b", 0.5)):
        stepviz.write_workbook(stepviz.train("seed-mlp", lr=lr, epochs=2), d / f"{name}.xlsx")
    return d


def test_show_prints_the_formula_and_aligned_matrices(two_books):
    r = cli("show", "a.xlsx", "--step", "11", cwd=two_books)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("1.11 update weights: update_wout = hiddenlayer_activationsᵀ · d_output · lr;"
                               "   wout = wout + update_wout")
    assert "wout  (3×1)" in lines and "wh  (4×3)" in lines
    run = stepviz.train("seed-mlp", epochs=2)
    wh = lines[lines.index("wh  (4×3)") + 2:][:4]
    got = np.array([[float(v) for v in l.split()[1:]] for l in wh])
    np.testing.assert_allclose(got, run.value(1, 11, "wh"), atol=5e-7)
    assert len({len(l) for l in wh}) == 1  # aligned
    assert "\x1b[" not in r.stdout  # plain text when piped
    one = cli("show", "a.xlsx", "--step", "8", "--name", "d_output", "--epoch", "1", cwd=two_books)
    assert one.returncode == 0 and "d_output  (3×1)" in one.stdout and "wh" not in one.stdout


@pytest.mark.parametrize("args,message", [
    (["show", "missing.xlsx", "--step", "1"], "missing.xlsx: no such file"),
    (["show", "notes.txt", "--step", "1"], "notes.txt: not a readable .xlsx workbook"),
    (["show", "plain.xlsx", "--step", "1"], "plain.xlsx: no Trace sheet; not a stepviz workbook"),
    (["show", "a.xlsx", "--step", "13"], "no step 13 in a.xlsx; steps are 1 to 12"),
    (["show", "a.xlsx", "--step", "8", "--name", "wh"], "step 8 has no matrix 'wh'; it has: d_output"),
    # (an epoch that is not detailed but has a Training row shows that row: test_training)
    (["show", "a.xlsx", "--step", "8", "--epoch", "99999"], "epoch 99999 is not detailed in a.xlsx; detailed epochs: 1"),
    (["show", "a.xlsx"], "the following arguments are required: --step"),
    (["diff", "a.xlsx", "missing.xlsx"], "missing.xlsx: no such file"),
])
def test_show_and_diff_errors_are_one_line_exit_2(two_books, args, message):
    (two_books / "notes.txt").write_text("hello")
    import openpyxl

    openpyxl.Workbook().save(two_books / "plain.xlsx")
    r = cli(*args, cwd=two_books)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr


def test_diff_lists_largest_first_and_tol_sets_the_exit_status(two_books):
    r = cli("diff", "a.xlsx", "b.xlsx", cwd=two_books)
    assert r.returncode == 0, r.stderr
    rows = [l.split() for l in r.stdout.splitlines()[1:]]
    diffs = [float(x[-1]) for x in rows]
    assert diffs == sorted(diffs, reverse=True) and diffs[0] > 0 and diffs[-1] == 0
    assert rows[0][:2] == ["1", "12"] or rows[0][:2] == ["1", "11"]
    assert cli("diff", "a.xlsx", "b.xlsx", "--tol", "1", cwd=two_books).returncode == 0
    strict = cli("diff", "a.xlsx", "b.xlsx", "--tol", "1e-6", cwd=two_books)
    # the update amounts and the updated parameters of steps 11-12 differ, nothing before
    assert strict.returncode == 1 and "8 of 25 matrices differ by up to" in strict.stderr
    same = cli("diff", "a.xlsx", "a.xlsx", "--tol", "0", cwd=two_books)
    assert same.returncode == 0


def test_diff_of_different_networks_says_why_values_are_missing(two_books):
    stepviz.write_workbook(stepviz.train("xor", epochs=2), two_books / "xor.xlsx")
    r = cli("diff", "a.xlsx", "xor.xlsx", cwd=two_books)
    assert r.returncode == 0 and " inf" in r.stdout
    assert r.stderr.startswith("stepviz: note: ") and "in only one of the two workbooks" in r.stderr
    assert cli("diff", "a.xlsx", "xor.xlsx", "--tol", "1", cwd=two_books).returncode == 1
