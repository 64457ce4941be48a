"""Faults and hostile files (issue 12): nothing of the user's is destroyed, nothing is left
behind, resources stay bounded, and every case ends in one line on stderr with exit status 2
(or works), never a traceback. Each case runs the command as a user does, in a subprocess with
a private TMPDIR, and checks the inputs are unchanged and the folders hold nothing new."""
import contextlib
import hashlib
import os
import re
import resource
import signal
import socket
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import stepviz

LONG = ["--epochs", "5000000"]  # ~70 s of training: a refusal that came after it would time out
QUICK = 30  # seconds: a refusal before training takes well under one


class Box:
    """A working folder (the current folder of the command, holding its inputs) and a private
    TMPDIR, both under tmp_path."""

    def __init__(self, root: Path):
        self.work, self.tmp = root / "work", root / "tmp"
        self.work.mkdir()
        self.tmp.mkdir()

    def env(self, **extra):
        return {**os.environ, "TMPDIR": str(self.tmp), **extra}

    def run(self, *args, timeout=120, **kwargs):
        return subprocess.run([sys.executable, "-m", "stepviz", *map(str, args)], cwd=self.work,
                              env=self.env(), capture_output=True, text=True, timeout=timeout, **kwargs)

    def popen(self, *args):
        """Start the command with SIGHUP at its default (pytest may run under nohup)."""
        return subprocess.Popen([sys.executable, "-m", "stepviz", *map(str, args)], cwd=self.work,
                                env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))

    def state(self) -> dict:
        """Every entry under the working folder: its kind and content (or device number, or
        link target), read without following links."""
        out = {}
        for p in sorted(self.work.rglob("*")):
            st = p.lstat()
            if stat.S_ISREG(st.st_mode):
                what = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), st.st_ino)
            elif stat.S_ISLNK(st.st_mode):
                what = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                what = ("dir",)
            else:
                what = (stat.S_IFMT(st.st_mode), st.st_rdev, st.st_ino)
            out[str(p.relative_to(self.work))] = what
        return out

    def refused(self, r, message):
        """One line on stderr, exit 2, nothing on stdout, no traceback."""
        assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
        assert re.match(r"stepviz( \w+)?: error: ", r.stderr) and len(r.stderr.splitlines()) == 1, r.stderr
        assert message in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and r.stdout == ""

    def check(self, args, message, timeout=QUICK):
        """Run; expect the one-line refusal; the inputs unchanged, nothing new anywhere."""
        before = self.state()
        r = self.run(*args, timeout=timeout)
        self.refused(r, message)
        assert self.state() == before
        assert list(self.tmp.iterdir()) == []
        return r


@pytest.fixture
def box(tmp_path):
    return Box(tmp_path)


def mknod_copy(path: Path, major=1, minor=3):
    """A copy of /dev/null's device node (never the real one), or skip where not permitted."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except PermissionError as e:
        pytest.skip(f"mknod is not permitted here ({e.strerror})")


@pytest.fixture
def tmpfs():
    """Mount small tmpfs file systems (64 KiB unless told), or skip with the reason."""
    mounted = []

    def mount(folder: Path, options="size=64k"):
        folder.mkdir(exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", str(folder)], check=True)


CSV = "a,b,t\n1,0,1\n0,1,0\n1,1,1\n"
TOML = '[data]\ncsv = "d.csv"\ntarget = ["t"]\n[training]\nepochs = 3\n'


# -- 1, 2: the output is never a device, a FIFO, a socket, a directory or an input -------------

def make_output(box, kind) -> str:
    w = box.work
    if kind in ("device", "device-no-suffix"):
        name = "null.xlsx" if kind == "device" else "nulldev"  # the case had no suffix
        mknod_copy(w / name)
        return name
    if kind == "fifo":
        os.mkfifo(w / "pipe.xlsx")
        return "pipe.xlsx"
    if kind == "socket":  # bound by a relative name: a socket's path is limited to 107 bytes
        with socket.socket(socket.AF_UNIX) as s, contextlib.chdir(w):
            s.bind("sock.xlsx")
        return "sock.xlsx"
    if kind == "directory":
        (w / "dir.xlsx").mkdir()
        return "dir.xlsx"
    if kind == "dangling-link":
        (w / "gone.xlsx").symlink_to("missing.xlsx")
        return "gone.xlsx"
    if kind == "link-to-device":
        mknod_copy(w / "null.xlsx")
        (w / "link.xlsx").symlink_to("null.xlsx")
        return "link.xlsx"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind,message", [
    ("device", "null.xlsx: is a character device, not a regular file"),
    ("device-no-suffix", "nulldev: is a character device, not a regular file"),
    ("fifo", "pipe.xlsx: is a FIFO (named pipe), not a regular file"),
    ("socket", "sock.xlsx: is a socket, not a regular file"),
    ("directory", "dir.xlsx: is a directory; give a file name like dir.xlsx/run.xlsx"),
    ("dangling-link", "gone.xlsx: is a symbolic link to missing.xlsx, which does not exist"),
    ("link-to-device", "link.xlsx: is a character device, not a regular file"),
])
def test_output_that_is_not_a_regular_file_is_refused_and_untouched(box, kind, message):
    out = make_output(box, kind)
    box.check(["run", "-o", out, *LONG], message)


@pytest.mark.parametrize("case", ["csv", "config", "hard-link", "symlink"])
def test_output_that_is_an_input_is_refused_and_the_input_kept(box, case):
    (box.work / "d.csv").write_text(CSV)
    (box.work / "c.toml").write_text(TOML)
    args = {"csv": ["--csv", "d.csv", "--target", "t", "-o", "d.csv"],
            "config": ["c.toml", "-o", "c.toml"],
            "hard-link": ["c.toml", "-o", "out.xlsx"],
            "symlink": ["--csv", "d.csv", "--target", "t", "-o", "link.xlsx"]}[case]
    if case == "hard-link":
        os.link(box.work / "d.csv", box.work / "out.xlsx")  # the CSV that c.toml reads, under another name
    if case == "symlink":
        (box.work / "link.xlsx").symlink_to("d.csv")
    r = box.check(["run", *args, *LONG], f"{args[-1]}: is ")
    assert "an input of this run; writing the workbook there would destroy it" in r.stderr


def test_a_link_to_a_workbook_is_written_through_and_stays_a_link(box):
    (box.work / "real.xlsx").write_text("an old workbook")
    (box.work / "link.xlsx").symlink_to("real.xlsx")
    r = box.run("run", "-q", "--epochs", "3", "-o", "link.xlsx")
    assert r.returncode == 0, r.stderr
    assert (box.work / "link.xlsx").is_symlink() and zipfile.is_zipfile(box.work / "real.xlsx")
    assert sorted(p.name for p in box.work.iterdir()) == ["link.xlsx", "real.xlsx"]
    assert list(box.tmp.iterdir()) == []


# -- 3: nothing left behind on signals, at several moments of a larger run --------------------

def medium_csv(folder: Path) -> None:
    """100 samples × 10 inputs: with hidden 8 and two detailed epochs, about 300,000 cells,
    written in constant-memory mode (one temporary file per sheet) in a second or two."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 10))
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    lines = [",".join([f"x{j}" for j in range(10)] + ["label"])]
    lines += [",".join(f"{v:.6f}" for v in row) + f",{t}" for row, t in zip(X, y)]
    (folder / "m.csv").write_text("\n".join(lines) + "\n")


def main_started(pid) -> bool:
    """stepviz handles SIGHUP from the first line of main (Python alone does not catch it)."""
    with open(f"/proc/{pid}/status") as f:
        caught = next(int(l.split()[1], 16) for l in f if l.startswith("SigCgt:"))
    return bool(caught & (1 << (signal.SIGHUP - 1)))


def wait_for(p, condition, what, timeout=60):
    deadline = time.time() + timeout
    while not condition():
        assert p.poll() is None, f"finished before {what}: {p.communicate()}"
        assert time.time() < deadline, f"never reached {what}"
        time.sleep(0.002)


def private_folders(box):
    return [p for p in box.work.iterdir() if p.name.startswith(".stepviz-")]


def writing(box) -> bool:
    """A private folder holds temporary files (constant-memory mode: one per sheet)."""
    try:
        return any(any(f.iterdir()) for f in private_folders(box))
    except FileNotFoundError:  # removed as we looked
        return False


def zipping(box) -> bool:
    """The workbook's zip file is being written in a private folder."""
    return any((f / "workbook.xlsx").exists() for f in private_folders(box))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to see a process start")
@pytest.mark.parametrize("moment", ["start-up", "training", "writing sheets", "writing sheets in memory",
                                    "assembling the zip"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_signals_leave_nothing_behind(box, moment, sig):
    medium_csv(box.work)
    before = box.state()
    if moment in ("start-up", "training"):
        args = ["run", "--epochs", "3000000", "-o", "big.xlsx"]
    elif moment == "writing sheets in memory":  # 480 small sheets, no temporary file but ours
        args = ["run", "--epochs", "40", "--detail", ",".join(map(str, range(1, 41))), "-o", "big.xlsx"]
    else:  # constant-memory mode: the private folder fills with XlsxWriter's temporary files
        args = ["run", "--csv", "m.csv", "--target", "label", "--hidden", "8", "--epochs", "5",
                "--detail", "1,2", "-o", "big.xlsx"]
    p = box.popen(*args)
    try:
        if moment == "start-up":  # while numpy and the config load
            wait_for(p, lambda: main_started(p.pid), "main")
        elif moment == "training":
            wait_for(p, lambda: main_started(p.pid), "main")
            time.sleep(1.5)
        elif moment == "writing sheets":
            wait_for(p, lambda: writing(box), "the sheets")
            time.sleep(0.1)
            assert not zipping(box), "too late"
        elif moment == "writing sheets in memory":
            wait_for(p, lambda: private_folders(box), "the private folder")
        else:
            wait_for(p, lambda: zipping(box), "the zip")
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 128 + sig, (p.returncode, err)
    assert err == {signal.SIGINT: "stepviz: interrupted\n", signal.SIGTERM: "stepviz: terminated\n",
                   signal.SIGHUP: "stepviz: hung up\n"}[sig]
    assert box.state() == before  # no workbook, no partial file, no private folder
    assert list(box.tmp.iterdir()) == []


# -- 4: a full disk --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["in memory", "constant memory"])
def test_full_disk_is_one_line_and_leaves_the_disk_empty(box, tmpfs, mode):
    disk = tmpfs(box.work / "disk")
    medium_csv(box.work)
    args = ["run", "--live-epochs", "0"] if mode == "in memory" else ["run", "--csv", "m.csv", "--target", "label", "--hidden", "8",
                                                "--epochs", "5", "--detail", "1,2"]
    r = box.check([*args, "-o", "disk/out.xlsx"], "disk/out.xlsx: cannot write (No space left on device)",
                  timeout=120)
    assert list(disk.iterdir()) == []


# -- 5: open files do not grow with the number of sheets -----------------------------------

@pytest.mark.parametrize("mode", ["in memory", "constant memory"])
def test_many_sheets_under_ulimit_256(box, mode):
    """macOS's default `ulimit -n 256`: 25 detailed epochs (303 sheets) are written. In
    constant-memory mode (forced here; by size it starts at 100,000 cells) at most two sheets'
    temporary files are open at a time."""
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    code = ("import sys, stepviz.workbook as w; w.IN_MEMORY_CELLS = "
            f"{0 if mode == 'constant memory' else 100_000}; from stepviz.cli import main; sys.exit(main(sys.argv[1:]))")
    args = ["run", "-q", "--epochs", "25", "--detail", ",".join(map(str, range(1, 26))), "-o", "many.xlsx"]
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=box.work, env=box.env(), capture_output=True,
                       text=True, timeout=120, preexec_fn=limit)
    assert r.returncode == 0, r.stderr
    assert len(openpyxl.load_workbook(box.work / "many.xlsx", read_only=True).sheetnames) == 304  # + Training
    assert list(box.tmp.iterdir()) == []


# -- 6: readers bound what they inflate ------------------------------------------------------

def bomb(seed_book, path: Path, rows=1_400_000):
    """The seed workbook with its Trace replaced by `rows` copies of one row: ~300 MB of XML
    in ~1 MB of zip, as in the issue (1.6 MB inflating to 379 MB)."""
    from stepviz.reader import check_workbook

    trace = check_workbook(seed_book)["Trace"]
    with zipfile.ZipFile(seed_book) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != trace:
                out.writestr(info, src.read(info.filename))
                continue
            xml = src.read(trace).decode()
            head, rest = xml.split("<sheetData>", 1)
            body, tail = rest.split("</sheetData>", 1)
            row = body.split("</row>")[5] + "</row>"
            with out.open(trace, "w") as f:
                f.write((head + "<sheetData>").encode())
                chunk = (row * 10_000).encode()
                for _ in range(rows // 10_000):
                    f.write(chunk)
                f.write(("</sheetData>" + tail).encode())


@pytest.fixture(scope="module")
def bomb_book(seed_book, tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    bomb(seed_book, path)
    return path


# runs a command and reports its exit status, output, time and peak memory (its own children only)
MEASURED = ("import json, resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "print(json.dumps({'rc': r.returncode, 'out': r.stdout, 'err': r.stderr, 'seconds': time.perf_counter() - t,"
            " 'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))")


@pytest.mark.parametrize("command", [["show", "bomb.xlsx", "--step", "3"], ["doctor", "bomb.xlsx"],
                                     ["diff", "bomb.xlsx", "bomb.xlsx"]], ids=lambda c: c[0])
def test_decompression_bomb_is_refused_within_seconds_and_bounded_memory(box, bomb_book, command):
    import json

    os.link(bomb_book, box.work / "bomb.xlsx")
    before = box.state()
    m = subprocess.run([sys.executable, "-c", MEASURED, sys.executable, "-m", "stepviz", *command],
                       cwd=box.work, env=box.env(), capture_output=True, text=True, timeout=60)
    m = json.loads(m.stdout)
    box.refused(subprocess.CompletedProcess(command, m["rc"], m["out"], m["err"]),
                "bomb.xlsx: its part xl/worksheets/sheet16.xml would inflate ")  # Trace, after Training
    assert "a stepviz workbook compresses at most 100:1; not read (a damaged file or a decompression bomb)" in m["err"]
    assert m["seconds"] < 5 and m["peak_mb"] < 300, m  # inflated, it is 300 MB of XML
    assert box.state() == before and list(box.tmp.iterdir()) == []


def test_decompression_bomb_in_the_library_memory_bound(bomb_book):
    code = ("import resource, sys, stepviz\n"
            "from stepviz.reader import NotAWorkbookError\n"
            "for read in (stepviz.read_trace, stepviz.read_history):\n"
            "    try:\n        read(sys.argv[1])\n    except NotAWorkbookError as e:\n        print(e)\n"
            # this process's own peak: Linux's ru_maxrss also counts the parent's peak when the
            # child was vforked from it (a large test session), VmHWM does not
            "import pathlib\n"
            "status = pathlib.Path('/proc/self/status')\n"
            "hwm = [l.split()[1] for l in status.read_text().splitlines() if l.startswith('VmHWM:')] "
            "if status.exists() else []\n"
            "print(int(hwm[0]) // 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)")
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, str(bomb_book)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and all("decompression bomb" in l for l in lines[:2])
    assert int(lines[2]) < 300, f"peak {lines[2]} MB"  # the bomb would take gigabytes
    assert time.perf_counter() - t < 10


@pytest.mark.parametrize("limit,message", [
    ("MAX_TRACE_BYTES", "its Trace sheet would inflate to "),
    ("MAX_INFLATED", "its parts would inflate to "),
    ("MAX_OTHER_PART", r"its part \[Content_Types\].xml would inflate to "),
])
def test_each_reading_bound_refuses_before_reading(seed_book, monkeypatch, limit, message):
    from stepviz import reader

    monkeypatch.setattr(reader, limit, 1000)  # the seed workbook, as if it were that big
    for read in (stepviz.read_trace, stepviz.read_history, reader.inspect):
        with pytest.raises(reader.NotAWorkbookError, match=message):
            read(seed_book)


# -- 7: divergence names epoch, step and value, and blames lr only when lr is the cause ---------

def test_divergence_of_the_loss_alone_names_it(box):
    """A relu perceptron with loss sse: the loss overflows while every matrix is still finite."""
    (box.work / "c.toml").write_text('[data]\nX = [[2, 3], [-3, -2]]\ny = [3, 3]\n[network]\nhidden = []\n'
                                     'bias = false\nactivation = "relu"\nloss = "sse"\n'
                                     '[training]\nlr = 0.269\nepochs = 2000\n')
    r = box.check(["run", "c.toml"], "training diverged: loss in step 4 (error) of epoch 214 is inf (E reaches ")
    assert r.stderr.rstrip().endswith("; try a smaller training.lr")


def test_divergence_from_huge_targets_does_not_blame_lr(box):
    (box.work / "c.toml").write_text("[data]\nX = [[1, 0], [0, 1]]\ny = [1e200, 0]\n[training]\nepochs = 10\n")
    r = box.check(["run", "c.toml", "-q"], "training diverged: loss in step 6 (error) of epoch 1 is inf "
                  "(E reaches 1e+200), and lr is not the cause: data.y reaches 1e+200, too large for "
                  "floating-point arithmetic; scale it down")
    assert "training.lr" not in r.stderr


def test_divergence_of_an_update_from_huge_inputs_does_not_blame_lr(box):
    (box.work / "c.toml").write_text('[data]\nX = [[1e300, 1e300]]\ny = [1]\n[network]\nactivation = "relu"\n'
                                     "[training]\nepochs = 10\n")
    r = box.check(["run", "c.toml"], "training diverged: ")  # the loss, or wout's update in step 11
    assert " of epoch 1 is " in r.stderr and "lr is not the cause: data.X reaches 1e+300" in r.stderr


# -- 8: tracebacks before; one line now, before training where the input decides ---------------

def test_epochs_beyond_history_and_training_caps(box):
    (box.work / "c.toml").write_text("[data]\nX = [[1, 0]]\ny = [1]\n[training]\nepochs = 10000000000\n"
                                     "[workbook]\nhistory_every = 1\n")
    r = box.check(["run", "c.toml"], " rows, Excel allows 1,048,576; raise workbook.history_every")
    assert "would need 10,000,000,0" in r.stderr  # a row per epoch (and a header)
    r = box.check(["run", "c.toml", "--history-every", "1000000"],
                  "stepviz trains for at most 1 h; use fewer training.epochs")
    # the estimate, from the network's size: a day or two (it depends on the step table)
    assert re.search(r"training would take about [\d.]+ days \(10,000,000,000 epochs of ~\d+ µs", r.stderr)


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "directory", "too-big"])
def test_csv_that_is_not_a_regular_file_or_too_big_is_refused_without_reading(box, kind):
    name = {"/dev/zero": "/dev/zero", "fifo": "pipe.csv", "directory": "dir.csv", "too-big": "big.csv"}[kind]
    if kind == "fifo":
        os.mkfifo(box.work / name)  # a read would block for ever: no writer
    if kind == "directory":
        (box.work / name).mkdir()
    if kind == "too-big":
        with open(box.work / name, "wb") as f:
            f.truncate(65 * 2**20)  # sparse: 65 MiB of nothing
    (box.work / "c.toml").write_text(f'[data]\ncsv = "{name}"\ntarget = ["t"]\n')
    message = {"/dev/zero": "/dev/zero: is a character device, not a regular file; expected a CSV file",
               "fifo": "pipe.csv: is a FIFO (named pipe), not a regular file; expected a CSV file",
               "directory": "dir.csv: is a directory, expected a CSV file",
               "too-big": "big.csv: 65 MiB, more than a workbook can hold (at most 64 MiB)"}[kind]
    box.check(["run", "c.toml", *LONG], message)


def test_config_that_is_a_fifo_is_refused(box):
    os.mkfifo(box.work / "c.toml")
    box.check(["run", "c.toml", *LONG], "c.toml: is a FIFO (named pipe), not a regular file; expected a .toml config file")


def test_csv_field_over_the_csv_modules_limit(box):
    (box.work / "d.csv").write_text("a,t\n" + "1" * 131_073 + ",1\n")
    box.check(["run", "--csv", "d.csv", "--target", "t", *LONG],
              "d.csv: line 2: field larger than field limit (131072)")


def test_config_file_named_with_a_non_utf8_byte_works(box):
    name = os.fsdecode(b"c\xff.toml")
    (box.work / name).write_text("[data]\nX = [[1, 0]]\ny = [1]\n[training]\nepochs = 3\n")
    r = box.run("run", name)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.splitlines()[0] == os.path.join("output", "c\ufffd.xlsx")
    assert (box.work / "output" / "c\ufffd.xlsx").is_file() and list(box.tmp.iterdir()) == []


def test_seed_of_400_digits(box):
    box.check(["run", "--seed", "9" * 400, *LONG], "training.seed: expected a whole number from 0 to "
              "9007199254740991 (2**53 - 1), got a 400-digit number")


def test_read_only_folder_without_output_option(box, tmpfs):
    ro = tmpfs(box.work / "ro", "ro,size=64k")
    before = box.state()
    r = subprocess.run([sys.executable, "-m", "stepviz", "run", *LONG], cwd=ro, env=box.env(),
                       capture_output=True, text=True, timeout=QUICK)
    box.refused(r, ": cannot write here (Read-only file system)")
    assert box.state() == before and list(box.tmp.iterdir()) == []


def test_show_with_negative_decimals(box, seed_book):
    os.link(seed_book, box.work / "s.xlsx")
    box.check(["show", "s.xlsx", "--step", "3", "--decimals", "-1"],
              "argument --decimals: expected a whole number from 0 to 17, got '-1'")


# -- 9: CSV lines are counted as an editor counts them; quoted line breaks are not merged -------

@pytest.mark.parametrize("text,message", [
    ("a,b,t\n\n1,0,1\n\n\n0,x,0\n", "d.csv: line 6, column 'b': 'x' is not a number"),
    ("a,b,t\r\n\r\n1,0,1\r\n0,x,0\r\n", "d.csv: line 4, column 'b': 'x' is not a number"),
    ('a,b,t\n"1\n5",0,1\n0,1,0\n', "d.csv: line 2, column 'a': '1\\n5' is not a number"),
    ('"a\nb",c,t\n1,0,1\n0,x,0\n', "d.csv: line 4, column 'c': 'x' is not a number"),
    ("a,b,t\n1_000,0,1\n", "d.csv: line 2, column 'a': '1_000' is not a number"),
    ("a,b,t\n\u0661\u0662,0,1\n", "d.csv: line 2, column 'a': '\u0661\u0662' is not a number"),
    ("a,b,t\n1,0,1\n0,1,1,1\n", "d.csv: line 3 has 4 fields, the header has 3"),
], ids=["blank-lines", "crlf", "quoted-line-break", "after-a-quoted-line-break", "underscore",
        "arabic-indic-digits", "ragged"])
def test_csv_errors_name_the_real_line(box, text, message):
    (box.work / "d.csv").write_text(text, newline="")
    box.check(["run", "--csv", "d.csv", "--target", "t", *LONG], message)


def test_csv_values_with_quotes_spaces_and_exponents_are_read(box):
    (box.work / "d.csv").write_text('a,b,t\n"1", 2.5e-1 ,1\n\n+.5,-0,0\n')
    config = stepviz.load_config(None, csv=str(box.work / "d.csv"), target=["t"])
    np.testing.assert_array_equal(config.X, [[1, 0.25], [0.5, 0]])


# -- 10: the longest file name works (the temporary name is not longer) ---------------------

def test_255_character_output_name_works_and_256_is_refused_up_front(box):
    name = "n" * 250 + ".xlsx"
    r = box.run("run", "-q", "--epochs", "3", "-o", name)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in box.work.iterdir()) == [name]
    (box.work / name).unlink()
    box.check(["run", *LONG, "-o", "n" * 251 + ".xlsx"], "cannot write there (File name too long)")


# -- 11: the smaller ones --------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    ([], "stepviz: error: a command is needed: run, presets, show, diff, doctor, class or grade"),
    (["diff", "a.xlsx", "a.xlsx", "--tol", "nan"], "argument --tol: expected a finite number >= 0, got 'nan'"),
    (["diff", "a.xlsx", "a.xlsx", "--tol", "-1"], "argument --tol: expected a finite number >= 0, got '-1'"),
    (["run", "--csv", "d.csv", "--target", "t,t", *LONG], "data.target: column 't' is named more than once"),
    (["run", "--hidden", "", *LONG], "argument --hidden: expected whole numbers separated by commas, got ''"),
    (["run", "x.toml", *LONG], "data.X: row 1 is empty; expected a non-empty matrix"),
    (["run", "-o", "newdir/", *LONG], "newdir/: no such folder; give a file name like newdir/run.xlsx"),
    (["run", "-o", "out.csv", *LONG], "out.csv: is not an .xlsx file name; the output is a workbook, name it like out.xlsx"),
], ids=["no-command", "tol-nan", "tol-negative", "target-twice", "hidden-empty", "empty-rows",
        "missing-folder", "not-xlsx"])
def test_small_cases_are_one_line(box, args, message):
    (box.work / "d.csv").write_text(CSV)
    (box.work / "x.toml").write_text("[data]\nX = [[], []]\ny = [1, 0]\n")
    openpyxl.Workbook().save(box.work / "a.xlsx")
    box.check(args, message)


def test_csv_without_config_is_named_after_the_csv(box):
    (box.work / "exam.csv").write_text(CSV)
    r = box.run("run", "--csv", "exam.csv", "--target", "t", "--epochs", "3", "-q")
    assert r.returncode == 0 and r.stdout == os.path.join("output", "exam.xlsx") + "\n", r.stderr
    assert stepviz.read_trace(box.work / "output" / "exam.xlsx").query("name == 'X'").value.tolist()[:2] == [1, 0]


def test_doctor_sees_values_dropped_by_a_resave(box, seed_book):
    wb = openpyxl.load_workbook(seed_book)  # keeps formulas, drops their stored values
    wb.save(box.work / "resaved.xlsx")
    before = box.state()
    r = box.run("doctor", "resaved.xlsx")
    assert r.returncode == 1 and "a damaged stepviz workbook" in r.stdout, r.stdout + r.stderr
    assert re.search(r"problem: (\d+) of the step sheets' \1 formulas have lost the value stepviz stored", r.stdout)
    assert box.state() == before and list(box.tmp.iterdir()) == []


def test_show_refuses_a_trace_with_an_empty_cell(box, seed_book):
    wb = openpyxl.load_workbook(seed_book)
    wb["Trace"]["F5"] = None
    wb.save(box.work / "damaged.xlsx")
    box.check(["show", "damaged.xlsx", "--step", "1"], "damaged.xlsx: its Trace sheet has 1 empty cells")


def test_messages_stay_on_one_line_whatever_the_file_says(box):
    (box.work / "d.csv").write_text('"a\nb",t\n1,0\n')  # a header name with a line break
    box.check(["run", "--csv", "d.csv", "--target", "x", *LONG], "no target column 'x'; columns are: a\\nb, t")


# -- a signal that lands in a finalizer ------------------------------------------------------

class _Swallowed:
    """An object whose finalizer is interrupted by a signal, as XlsxWriter's temporary files
    were once while the zip was assembled (CI: "Exception ignored in: <_io.FileIO …>" and the
    workbook written anyway)."""

    def __del__(self):
        from stepviz.cli import Interrupted

        raise Interrupted(signal.SIGINT)


def test_a_signal_swallowed_by_a_finalizer_still_stops_the_command(capsys):
    from stepviz import interrupts

    with pytest.raises(KeyboardInterrupt) as e:
        with interrupts.kept():
            _Swallowed()  # its finalizer runs here; Python cannot raise its exception
    assert e.value.signum == signal.SIGINT
    assert "Exception ignored" not in capsys.readouterr().err


def test_a_signal_swallowed_while_closing_writes_no_workbook(tmp_path, capsys):
    from stepviz import interrupts
    from stepviz.workbook.output import write_file

    def fill(wb):
        wb.add_worksheet().write(0, 0, 1)
        _Swallowed()

    with pytest.raises(KeyboardInterrupt):
        with interrupts.kept():
            write_file(tmp_path / "w.xlsx", fill, {}, in_memory=False)
    assert list(tmp_path.iterdir()) == []  # neither the workbook nor the private folder
    assert "Exception ignored" not in capsys.readouterr().err
