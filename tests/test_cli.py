"""The stepviz command, run as a user runs it: in a subprocess."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import stepviz


def stepviz_cli(*args, cwd, input=None):
    return subprocess.run([sys.executable, "-m", "stepviz", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, input=input, timeout=120)


def files(folder: Path):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_default_run_writes_output_seed_mlp(tmp_path):
    r = stepviz_cli("run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == os.path.join("output", "seed-mlp.xlsx")
    assert "final loss 0.00288159 after 5000 epochs" in lines[1]
    assert lines[2].split() == ["sample", "target", "y", "output", "y"]
    assert [l.split()[:2] for l in lines[3:6]] == [["1", "1"], ["2", "1"], ["3", "0"]]
    assert float(lines[3].split()[2]) > 0.9 and float(lines[5].split()[2]) < 0.1
    assert r.stderr == ""
    assert files(tmp_path) == ["output", "output/seed-mlp.xlsx"]
    df = stepviz.read_trace(tmp_path / "output" / "seed-mlp.xlsx")
    assert df.value.notna().all() and len(df) == 133
    assert lines[6] == "accuracy 100% (3 of 3 samples)"


def test_the_summary_lists_at_most_ten_samples_then_how_many_more(tmp_path):
    rows = "\n".join(f"{i % 3},{(i * 7) % 5},{i % 2}" for i in range(150))
    (tmp_path / "d.csv").write_text("a,b,t\n" + rows + "\n")
    r = stepviz_cli("run", "--csv", "d.csv", "--target", "t", "--epochs", "3", "-o", "d.xlsx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1 + 2 + 10 + 2  # path, loss, header, ten samples, "… 140 more", accuracy
    assert lines[13].split()[:2] == ["…", "140"] and lines[14].startswith("accuracy ")
    assert "final loss" in lines[1]


def test_config_file_run_with_overrides(tmp_path):
    (tmp_path / "tiny.toml").write_text(
        '[data]\nX = [[0, 1], [1, 0]]\ny = [[1], [0]]\n[network]\nhidden = [2]\n'
        '[training]\nepochs = 10\nlr = 0.5\n[workbook]\ndetail = ["last"]\n')
    r = stepviz_cli("run", "tiny.toml", "-o", "t.xlsx", "--epochs", "20", "--seed", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "t.xlsx" and "after 20 epochs" in r.stdout
    import openpyxl

    names = openpyxl.load_workbook(tmp_path / "t.xlsx", read_only=True).sheetnames
    assert "20.01 inputs" in names and "20.12 update biases" in names


def test_presets_lists_each_preset_with_a_description(tmp_path):
    r = stepviz_cli("presets", cwd=tmp_path)
    assert r.returncode == 0
    lines = dict(l.split(None, 1) for l in r.stdout.splitlines())
    assert set(lines) == set(stepviz.presets()) and "seed-mlp" in lines
    assert all(len(d) > 20 for d in lines.values())


def commands():
    from stepviz.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


def test_every_command_is_tested_for_help():
    assert commands() == ["class", "diff", "doctor", "grade", "presets", "run", "show"]


@pytest.mark.parametrize("command", [[]] + [[c] for c in commands()], ids=lambda c: " ".join(c) or "stepviz")
def test_help_teaches_with_examples(tmp_path, command):
    r = stepviz_cli(*command, "--help", cwd=tmp_path)
    assert r.returncode == 0 and "example" in r.stdout and "usage: stepviz" in r.stdout
    assert "stepviz " + " ".join(command) in r.stdout.split("example", 1)[1]  # an example of it


BAD = [
    (["run", "--epochs", "0"], "training.epochs: expected a whole number >= 1, got 0"),
    (["run", "--epochs", "x"], "argument --epochs: invalid int value: 'x'"),
    (["run", "--lr", "-1"], "training.lr: expected a finite number > 0, got -1.0"),
    (["run", "--lr", "nan"], "training.lr: expected a finite number > 0"),
    (["run", "--hidden", "3,-1"], "network.hidden: layer sizes must be at least 1"),
    (["run", "--detail", "9", "--epochs", "5"], "workbook.detail: epoch 9 is beyond training.epochs = 5"),
    (["run", "--focus", "9,9"], "workbook.focus: [9, 9] is outside every matrix of this network"),
    (["run", "nope"], "unknown preset 'nope'; presets are: "),
    (["run", "missing.toml"], "missing.toml: no such config file"),
    (["run", "bad.toml"], "bad.toml: invalid TOML: "),
    (["run", "typo.toml"], "unknown key training.epoch; did you mean 'epochs'?"),
    (["run", "ragged.toml"], "data.X: row 2 has 1 values, row 1 has 2"),
    (["run", "-o", "no/such/dir/out.xlsx"], "no/such/dir: no such folder for the output"),
    (["run", "-o", "."], ".: is a directory"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, args, message):
    (tmp_path / "bad.toml").write_text("[data\nX = 1\n")
    (tmp_path / "typo.toml").write_text("[training]\nepoch = 3\n")
    (tmp_path / "ragged.toml").write_text("[data]\nX = [[1, 2], [3]]\ny = [[1], [0]]\n")
    before = files(tmp_path)
    r = stepviz_cli(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert r.stdout == ""
    assert files(tmp_path) == before


def test_progress_bar_on_a_terminal_only_and_quiet_silences_it(tmp_path):
    import pty

    def on_tty(*args):
        import fcntl
        import struct
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        p = subprocess.Popen([sys.executable, "-m", "stepviz", "run", *args], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
        out = p.communicate()[0]
        os.close(master)
        return p.returncode, out.decode(), err.decode(errors="replace")

    rc, out, err = on_tty("--epochs", "150000", "-o", "long.xlsx")
    assert rc == 0 and "training" in err and "epoch" in err
    assert out.startswith("long.xlsx\n") and "training" not in out  # stdout: results only
    rc, out, err = on_tty("--epochs", "150000", "-o", "long.xlsx", "--quiet")
    assert rc == 0 and err == "" and out == "long.xlsx\n"
    piped = stepviz_cli("run", "--epochs", "150000", "-o", "long.xlsx", cwd=tmp_path)
    assert piped.stderr == ""  # not a terminal: no bar


# -- show --epoch: a step sheet, or the Training sheet's row ------------------------------------
@pytest.fixture(scope="module")
def training_books(tmp_path_factory):
    d = tmp_path_factory.mktemp("show")
    runs = {"plain": stepviz.train("seed-mlp", epochs=20),
            "batches": stepviz.train("iris", epochs=4, live_epochs=2, history_every=3)}
    for name, run in runs.items():
        stepviz.write_workbook(run, d / f"{name}.xlsx")
    return d, runs


def shown_matrix(out: str, name: str):
    """The numbers of matrix ``name`` as show prints them (row labels dropped)."""
    block = out.split(f"\n{name}  (")[1].split("\n\n")[0].splitlines()[2:]
    return [[float(v) for v in line.split()[1:]] for line in block]


@pytest.mark.parametrize("book,epoch,name", [("plain", "7", "wout"), ("batches", "2.3", "bout"),
                                             ("batches", "3.1", "wout"),  # the start of the first update not live
                                             ("batches", "4", "bout")])  # a recorded epoch's values
def test_show_prints_any_training_row(training_books, book, epoch, name):
    d, runs = training_books
    r = stepviz_cli("show", f"{book}.xlsx", "--step", "3", "--epoch", epoch, "--name", name, "--decimals", "15", cwd=d)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(("update " if "." in epoch else "epoch ") + epoch)
    table = runs[book].training()
    row = table[table.epoch == (epoch if "." in epoch else int(epoch))].iloc[0]
    want = runs[book].params[name]
    got = shown_matrix(r.stdout, name)
    np.testing.assert_allclose(got, [[row[f"{name}[{i + 1},{j + 1}]"] for j in range(want.shape[1])]
                                     for i in range(want.shape[0])], rtol=1e-13)


@pytest.mark.parametrize("book,epoch,message", [
    ("batches", "2", "batches.xlsx trains in 10 mini-batches an epoch: epoch 2 is the updates 2.1 to 2.10; "
                     "ask for one, e.g. --epoch 2.2"),
    ("batches", "2.11", "an epoch of batches.xlsx has 10 batches: ask for 2.1 to 2.10"),
    ("batches", "3.2", "update 3.2 is not detailed in batches.xlsx; detailed updates: 1.1 to 1.2, 4.9; "
                       "the Training sheet has rows 1.1 to 3.1, 4"),
    ("batches", "9", "epoch 9 is not detailed in batches.xlsx"),
    ("plain", "21", "epoch 21 is not detailed in plain.xlsx; detailed epochs: 1; the Training sheet has rows 1 to 20"),
    ("plain", "0", "epoch 0 is not detailed in plain.xlsx"),
    ("plain", "3.2", "plain.xlsx has no mini-batches: ask for a whole epoch, e.g. --epoch 3"),
    ("plain", "-3", "expected an epoch (3) or an update (3.2), got '-3'"),
    ("plain", "after", "expected an epoch (3) or an update (3.2), got 'after'"),
])
def test_show_an_epoch_without_a_row_is_one_line_exit_2(training_books, book, epoch, message):
    r = stepviz_cli("show", f"{book}.xlsx", "--step", "3", f"--epoch={epoch}", cwd=training_books[0])
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
