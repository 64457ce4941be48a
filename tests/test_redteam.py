"""The red team's crashes (issue 20, items 3–7): each input ends in one line on stderr and an
exit status, or in a correct result, within bounded time and memory; never a traceback."""
import json
import random
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import pytest

import stepviz
from stepviz.reader import NotAWorkbookError
from test_faults import MEASURED, Box, medium_csv, tmpfs  # noqa: F401  (tmpfs is a fixture)

DATA = "[data]\nX = [[1, 0], [0, 1]]\ny = [1, 0]\n"


@pytest.fixture
def box(tmp_path):
    return Box(tmp_path)


# -- 3: many hidden layers -----------------------------------------------------------------

def test_a_thousand_hidden_layers_are_refused_at_once(box):
    t = time.perf_counter()
    box.check(["run", "--hidden", ",".join(["3"] * 1000)],
              "network.hidden: 1,000 hidden layers, stepviz draws at most 100 ")
    assert time.perf_counter() - t < 2  # the red team's run went on for minutes before any check


def test_a_million_hidden_layers_in_a_config_file_are_refused_at_once(box):
    (box.work / "deep.toml").write_text(DATA + "[network]\nhidden = [" + ", ".join(["1"] * 1_000_000) + "]\n")
    t = time.perf_counter()
    box.check(["run", "deep.toml"], "network.hidden: 1,000,000 hidden layers, stepviz draws at most 100 ")
    assert time.perf_counter() - t < 10  # reading 2 MB of TOML; 10⁶ layers ran past 350 s


def test_hidden_units_are_capped_by_excels_columns(box):
    box.check(["run", "--hidden", "10000,6385"], "network.hidden: 16,385 hidden units in all, at most 16,384 ")
    with pytest.raises(stepviz.ConfigError, match=r"hidden units in all, at most 16,384"):
        stepviz.load_config("seed-mlp", hidden=[10**40])
    with pytest.raises(stepviz.ConfigError, match=r"got \[3(, 3)+, … \(1,001 values\)$"):
        stepviz.load_config("seed-mlp", hidden=[3] * 1000 + [0])  # a long list is cut short in the message


def test_the_caps_are_where_a_learner_never_is():
    from stepviz.workbook.limits import MAX_COLS, MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS

    assert (MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS) == (100, MAX_COLS)
    config = stepviz.load_config("seed-mlp", hidden=[1] * 100, epochs=1)
    assert len(config.network.steps()) == 8 + 4 * 100
    with pytest.raises(stepviz.ConfigError, match="101 hidden layers"):
        stepviz.load_config("seed-mlp", hidden=[1] * 101)


def python_calls(work) -> int:
    """Python function calls made by work(), counted by the profiler hook: deterministic."""
    n = 0

    def count(frame, event, arg):
        nonlocal n
        n += event == "call"

    sys.setprofile(count)
    try:
        work()
    finally:
        sys.setprofile(None)
    return n


def test_the_checks_and_estimates_grow_linearly_with_depth():
    """Reading the config, the limit and time estimates, training and laying out the sheets
    cost in proportion to the depth: twice the layers, about twice the calls (they grew 3.75
    times from 40 to 80 layers when the shapes, the readers and the workspace were quadratic)."""
    from stepviz.workbook import estimate
    from stepviz.workbook.core import Book
    from stepviz.workbook.limits import check_training

    def work(layers):
        config = stepviz.load_config("seed-mlp", hidden=[2] * layers, epochs=1)
        estimate(config)
        check_training(config)
        Book(stepviz.train(config), None)

    work(3)  # catalogs and templates read once
    calls = {layers: python_calls(lambda: work(layers)) for layers in (40, 80)}
    assert calls[80] / calls[40] < 2.3, calls


# -- 4: deeply nested TOML ----------------------------------------------------------------

@pytest.mark.parametrize("nested", ["[" * 600 + "]" * 600, "{a = " * 600 + "1" + "}" * 600],
                         ids=["arrays", "inline-tables"])
def test_toml_nested_600_deep_is_one_line(box, nested):
    (box.work / "deep.toml").write_text(DATA + "[training]\nlr = " + nested + "\n")
    box.check(["run", "deep.toml"], "deep.toml: arrays or inline tables nested more than 32 deep (line 5)")


def test_brackets_in_strings_and_comments_are_not_nesting(tmp_path):
    deep = "[" * 600
    text = (DATA + f"# {deep}\n[about]\nnames = {{ 'k{deep}' = \"wh\", \"\\\"{deep}\" = \"wh\" }}\n"
            + f"[network]\nactivation = '''\n{deep}''' # {deep}\n")
    (tmp_path / "ok.toml").write_text(text)
    with pytest.raises(stepviz.ConfigError, match="network.activation: expected one of"):
        stepviz.load_config(tmp_path / "ok.toml")  # parsed: the activation is what is wrong


def test_toml_number_too_long_to_read_is_one_line(box):
    (box.work / "big.toml").write_text(DATA + "[training]\nepochs = " + "1" * 5000 + "\n")
    box.check(["run", "big.toml"], "big.toml: invalid TOML: a number too long to read")


# -- 5: the readers bound every part before parsing it --------------------------------------

def with_part(seed_book, path: Path, name: str, write) -> Path:
    """A copy of the seed workbook whose part ``name`` is written by ``write(file)``."""
    with zipfile.ZipFile(seed_book) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != name:
                out.writestr(info, src.read(info.filename))
        with out.open(name, "w") as f:
            write(f)
    return path


def properties_xml(props: dict) -> bytes:
    items = "".join(f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" name="{k}">'
                    f"<vt:lpwstr>{v}</vt:lpwstr></property>" for i, (k, v) in enumerate(props.items(), 2))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas.'
            'openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.'
            f'org/officeDocument/2006/docPropsVTypes">{items}</Properties>').encode()


def test_a_custom_xml_bomb_is_refused_before_it_is_parsed(tmp_path):
    """The red team's file: custom.xml inflating to hundreds of MB from under a MB (7.8 s and
    1.9 GB before it was refused). Its base is the seed's workbook without a Training sheet
    (live_epochs=0): the bomb's premise is a small file, and the session's seed_book now holds
    a Training sheet's rows."""
    seed_book = stepviz.write_workbook(stepviz.train("seed-mlp", live_epochs=0), tmp_path / "seed.xlsx")
    head, tail = properties_xml({"stepviz_x": "0" * 200}).split(b"<property ")
    item = b"<property " + tail.removesuffix(b"</Properties>")

    def bomb(f):
        f.write(head)
        chunk = item * 10_000
        for _ in range(80):  # 800,000 properties, ~250 MB of XML
            f.write(chunk)
        f.write(b"</Properties>")

    path = with_part(seed_book, tmp_path / "bomb.xlsx", "docProps/custom.xml", bomb)
    assert path.stat().st_size < 2_000_000
    code = ("import sys, stepviz\nfrom stepviz.reader import NotAWorkbookError\n"
            "try:\n    stepviz.read_history(sys.argv[1])\nexcept NotAWorkbookError as e:\n    print(e)\n")
    m = subprocess.run([sys.executable, "-c", MEASURED, sys.executable, "-c", code, str(path)],
                       capture_output=True, text=True, timeout=60)
    m = json.loads(m.stdout)
    assert m["rc"] == 0 and m["err"] == "", m
    assert "its part docProps/custom.xml would inflate to " in m["out"], m
    assert m["seconds"] < 5 and m["peak_mb"] < 250, m


def test_a_custom_xml_over_its_bound_is_refused_whatever_its_ratio(seed_book, tmp_path):
    rng = random.Random(0)  # random text: it compresses less than 100:1, under the bomb check
    props = {f"stepviz_{i}": "".join(rng.choices("abcdef0123456789", k=250)) for i in range(5000)}
    path = with_part(seed_book, tmp_path / "big.xlsx", "docProps/custom.xml", lambda f: f.write(properties_xml(props)))
    for read in (stepviz.read_history, stepviz.read_trace, stepviz.reader.properties, stepviz.reader.inspect):
        with pytest.raises(NotAWorkbookError, match=r"its part docProps/custom.xml would inflate to [\d,]+ bytes, "
                                                     r"more than a stepviz workbook's \(1,048,576\)"):
            read(path)


@pytest.mark.parametrize("case", ["malformed", "header-text", "header-zero", "header-huge", "header-empty",
                                  "sheet-name", "lang"])
def test_crafted_document_properties_are_not_a_workbook(seed_book, tmp_path, box, case):
    from stepviz.reader import properties

    props = properties(seed_book)
    good = {f"stepviz_{k}": v for k, v in props.items()}
    xml = {"malformed": properties_xml(good)[:-20],
           "header-text": properties_xml({**good, "stepviz_history_header": "twenty"}),
           "header-zero": properties_xml({**good, "stepviz_history_header": "0"}),
           "header-huge": properties_xml({**good, "stepviz_history_header": "9" * 5000}),
           "header-empty": properties_xml({**good, "stepviz_history_header": ""}),
           "sheet-name": properties_xml({**good, "stepviz_history_sheet": "H" * 5000}),
           "lang": properties_xml({**good, "stepviz_lang": "../../x"})}[case]
    path = with_part(seed_book, box.work / "c.xlsx", "docProps/custom.xml", lambda f: f.write(xml))
    message = {"malformed": "not a readable .xlsx workbook (docProps/custom.xml: ParseError)",
               "sheet-name": "stepviz_history_sheet is not a sheet name (5,000 characters)",
               "lang": None}.get(case, "stepviz_history_header is ")
    if message is None:  # doctor reads the language to name the sheets; an unknown one is English
        r = box.run("doctor", path.name)
        assert r.returncode in (0, 1) and r.stderr == "" and "a valid stepviz workbook" in r.stdout, r
        return
    with pytest.raises(NotAWorkbookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        stepviz.read_history(path)
    assert len(str(pytest.raises(NotAWorkbookError, stepviz.read_history, path).value)) < 300
    if case == "malformed":
        for command in (["doctor", path.name], ["show", path.name, "--step", "3"]):
            r = box.run(*command)
            assert r.returncode in (1, 2) and len(r.stderr.splitlines()) <= 1 and "Traceback" not in r.stderr, r


# -- 6: a full disk -------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["4k", "16k"])
@pytest.mark.parametrize("mode", ["in memory", "constant memory"])
def test_full_disk_says_one_line_and_nothing_after(box, tmpfs, mode, size):  # noqa: F811
    """At these sizes the disk fills while XlsxWriter zips the workbook: its zip file was left
    open, and Python printed `Exception ignored in: <function ZipFile.__del__ …>` on exit."""
    disk = tmpfs(box.work / "disk", f"size={size}")
    code = ("import sys, stepviz.workbook as w; w.IN_MEMORY_CELLS = "
            f"{0 if mode == 'constant memory' else 100_000}; from stepviz.cli import main; sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, "run", "--epochs", "3", "-o", "disk/out.xlsx"], cwd=box.work,
                       env=box.env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r
    assert r.stderr == "stepviz: error: disk/out.xlsx: cannot write (No space left on device)\n", r.stderr
    assert r.stdout == "" and list(disk.iterdir()) == [] and list(box.tmp.iterdir()) == []


# -- 7: the minor ones ------------------------------------------------------------------------

def late_epochs():
    return ["run", "-q", "--epochs", "10050", "--detail", ",".join(map(str, range(10001, 10051))),
            "-o", "late.xlsx"]


def test_a_property_beyond_excels_255_characters_is_cut_and_q_stays_quiet(box):
    """50 detailed epochs of 5 digits: the `detail` property is 348 characters. XlsxWriter
    warned on stderr, under -q too, and wrote it beyond Excel's limit of 255."""
    from stepviz.reader import properties

    r = box.run(*late_epochs())
    assert (r.returncode, r.stdout, r.stderr) == (0, "late.xlsx\n", "")
    detail = properties(box.work / "late.xlsx")["detail"]
    assert len(detail) == 255 and detail.startswith("10001, 10002, ") and detail.endswith(", 10049, 10050")
    assert "…" in detail


def test_a_warning_of_xlsxwriter_is_an_error_never_a_dropped_value(box, tmp_path, monkeypatch):
    """Where XlsxWriter would leave something out, the CLI says so in one line and writes
    nothing; the library raises WorkbookError (with the warning ignored, as a user may)."""
    import stepviz.workbook as w

    code = ("import sys, stepviz.workbook as w; w.fit_property = lambda v: v\n"
            "from stepviz.cli import main; sys.exit(main(sys.argv[1:]))")
    before = box.state()
    r = subprocess.run([sys.executable, "-c", code, *late_epochs()], cwd=box.work, env=box.env(),
                       capture_output=True, text=True, timeout=120)
    box.refused(r, "late.xlsx: not written: XlsxWriter warns: Length of 'value' parameter "
                   "exceeds Excel's limit of 255 characters in set_custom_property()")
    assert box.state() == before and list(box.tmp.iterdir()) == []

    monkeypatch.setattr(w, "fit_property", lambda v: v)
    run = stepviz.train("seed-mlp", epochs=3)
    monkeypatch.setattr(w, "settings", lambda run: {"name": "x" * 300})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(w.WorkbookError, match="lib.xlsx: not written: XlsxWriter warns: Length of 'value'"):
            stepviz.write_workbook(run, tmp_path / "lib.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp", "work"]  # the box's: no workbook, no private folder


def test_property_values_fit_excels_limit_in_utf16_units():
    from stepviz.workbook import fit_property

    assert fit_property("x" * 255) == "x" * 255
    for long in ("1, " * 200, "😀" * 200, "é" * 256):
        fitted = fit_property(long)
        assert len(fitted.encode("utf-16-le")) in (508, 510) and "…" in fitted and fitted[:3] == long[:3]


def test_an_output_name_with_a_line_break_is_printed_on_one_line(box):
    r = box.run("run", "-q", "--epochs", "3", "-o", "a\nb\t'c'.xlsx")
    assert r.returncode == 0 and r.stderr == "", r
    assert r.stdout == "$'a\\nb\\t\\'c\\'.xlsx'\n"
    back = subprocess.run(["bash", "-c", 'test -f ' + r.stdout.strip() + ' && echo found'], cwd=box.work,
                          capture_output=True, text=True)
    assert back.stdout == "found\n"  # the shell reads the printed name back as the file's


def test_printed_paths_are_quoted_only_when_needed():
    from stepviz.cli import shell_quoted

    assert shell_quoted("output/my run é.xlsx") == "output/my run é.xlsx"
    assert shell_quoted("a\x1b[31m\u202e.xlsx") == "$'a\\e[31m\\u202e.xlsx'"


API_CASES = {  # call -> what the message names
    "write_workbook(None, path)": (lambda run, p: stepviz.write_workbook(None, p), "write_workbook: expected a Run"),
    "write_workbook(preset, path)": (lambda run, p: stepviz.write_workbook("seed-mlp", p), "got str"),
    "write_workbook(run, None)": (lambda run, p: stepviz.write_workbook(run, None), "expected a file name"),
    "write_workbook(run, 5)": (lambda run, p: stepviz.write_workbook(run, 5), "got int"),
    "write_workbook(progress=5)": (lambda run, p: stepviz.write_workbook(run, p, progress=5), "as progress"),
    "train(5)": (lambda run, p: stepviz.train(5), "train: expected a preset name"),
    "train([1])": (lambda run, p: stepviz.train([1]), "got list"),
    "train(progress=5)": (lambda run, p: stepviz.train("seed-mlp", epochs=2, progress=5), "as progress"),
    "load_config(b'')": (lambda run, p: stepviz.load_config(b"seed-mlp"), "load_config: expected"),
    "read_trace(None)": (lambda run, p: stepviz.read_trace(None), "expected a file name"),
    "read_history(5)": (lambda run, p: stepviz.read_history(5), "got int"),
    "read_trace(engine=5)": (lambda run, p: stepviz.read_trace(p.parent / "ok.xlsx", engine=5), "as engine"),
    "compare(None, run)": (lambda run, p: stepviz.compare(None, run), "a Run, a workbook path or a Trace"),
    "matrix(5, name)": (lambda run, p: stepviz.matrix(5, "wh"), "got int"),
    "StepView(None, 1)": (lambda run, p: stepviz.StepView(None, 1), "StepView: expected a Run"),
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    run = stepviz.train("seed-mlp", epochs=2)
    folder = tmp_path_factory.mktemp("api")
    stepviz.write_workbook(run, folder / "ok.xlsx")
    return run, folder


@pytest.mark.parametrize("case", sorted(API_CASES))
def test_wrong_argument_types_raise_argument_error(small, case):
    run, folder = small
    call, message = API_CASES[case]
    with pytest.raises(stepviz.ArgumentError, match=message.replace("(", r"\(")) as e:
        call(run, folder / "new.xlsx")
    assert isinstance(e.value, stepviz.StepvizError) and isinstance(e.value, TypeError)
    assert sorted(p.name for p in folder.iterdir()) == ["ok.xlsx"]


def test_duplicate_csv_header_names_the_column(box):
    (box.work / "d.csv").write_text("a,b, a,t\n1,2,3,1\n")
    box.check(["run", "--csv", "d.csv", "--target", "t"],
              "d.csv: column 3 of the header is named 'a', as column 1 is; every column needs its own name")


@pytest.mark.parametrize("key,value,optimizer,user", [
    ("momentum", 0.5, "gd", "momentum"), ("beta1", 0.8, "gd", "adam"), ("beta2", 0.99, "momentum", "adam"),
    ("eps", 1e-6, "momentum", "adam"), ("momentum", 0.5, "adam", "momentum")])
def test_a_hyperparameter_of_another_optimizer_is_refused(box, key, value, optimizer, user):
    (box.work / "h.toml").write_text(DATA + f'[training]\noptimizer = "{optimizer}"\n{key} = {value}\n')
    box.check(["run", "h.toml"], f'training.{key}: used only with optimizer = "{user}", and this run uses '
                                 f'"{optimizer}"; remove {key} or set training.optimizer = "{user}"')
    with pytest.raises(stepviz.ConfigError, match=f"training.{key}: used only with"):
        stepviz.load_config("seed-mlp", optimizer=optimizer, **{key: value})


def test_an_optimizer_chosen_on_the_command_line_overrides_the_files_hyperparameters():
    """`stepviz run seed-mlp-adam --optimizer gd`: the preset's betas belong to the optimizer the
    option replaced; the option's own choice is what counts."""
    assert stepviz.load_config("seed-mlp-adam", optimizer="gd").network.optimizer == "gd"
    assert stepviz.load_config("seed-mlp-momentum", optimizer="adam").momentum == 0.9
    with pytest.raises(stepviz.ConfigError, match="training.momentum: used only with"):
        stepviz.load_config("seed-mlp-adam", optimizer="gd", momentum=0.5)
