"""The notebook view (``Run.show_step``) shows what LibreOffice shows on the step sheet: the
same blocks under the same captions, the same numbers, the same yellow and orange cells
for the same focus, the same arithmetic line; and the example notebook runs."""
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import stepviz
from book import GOLD, ORANGE, YELLOW, step_sheets
from conftest import PRESETS

ROOT = Path(__file__).parent.parent
NOTEBOOK = ROOT / "examples" / "explore.ipynb"


class _View(HTMLParser):
    """A ``to_html`` fragment as a browser reads it: each matrix's caption, cell texts and
    background colours (from the Styler's CSS rules, by cell id), and the arithmetic lines."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.lines, self.css, self.caption = [], [], "", None
        self._into, self._text, self._cell = None, "", None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "style":
            self._into = "style"
        elif tag == "div" and a.get("class") in ("stepviz-caption", "stepviz-line"):
            self._into, self._text = a["class"], ""
        elif tag == "table":
            self.tables.append({"caption": self.caption, "id": a["id"][2:], "cells": {}})
        elif tag == "td":
            m = re.fullmatch(r"T_(\w+)_row(\d+)_col(\d+)", a["id"])
            self._cell = (m.group(1), int(m.group(2)), int(m.group(3)))
            self.tables[-1]["cells"][self._cell[1:]] = [self._cell[0], ""]

    def handle_endtag(self, tag):
        if tag == "style":
            self._into = None
        elif tag == "div" and self._into == "stepviz-caption":
            self.caption, self._into = self._text, None
        elif tag == "div" and self._into == "stepviz-line":
            self.lines.append(self._text)
            self._into = None
        elif tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._into == "style":
            self.css += data
        elif self._into:
            self._text += data
        elif self._cell is not None:
            self.tables[-1]["cells"][self._cell[1:]][1] += data


def parse(fragment: str):
    """(tables, lines): each table {"caption", "cells": {(i, j): (text, background)}}."""
    view = _View()
    view.feed(fragment)
    bg = {}
    for selectors, props in re.findall(r"([^{}]+)\{([^}]*)\}", view.css):
        colour = re.search(r"background-color:\s*#(\w+)", props)
        for sel in selectors.split(","):
            m = re.fullmatch(r"#T_(\w+)_row(\d+)_col(\d+)", sel.strip())
            if m and colour:
                bg[(m.group(1), int(m.group(2)), int(m.group(3)))] = colour.group(1).upper()
    for t in view.tables:
        t["cells"] = {ij: (text.strip(), bg.get((uid, *ij))) for ij, (uid, text) in t["cells"].items()}
    return view.tables, view.lines


def colour(bg):
    return {YELLOW: "yellow", ORANGE: "orange", GOLD: "gold"}.get(bg, "")


def same_as_libreoffice(run, name, lo, focus):
    """Every step sheet of the workbook ``lo[name]`` against ``run.show_step`` at ``focus``:
    block by block, cell by cell (text and colour), line by line. Returns cells compared."""
    _, recalculated, seen = lo[name]
    compared = 0
    for s in step_sheets(recalculated):
        view = run.show_step(s.step, epoch=s.update(run.config), focus=focus)
        cells = seen[s.title]
        assert cells[(0, 0)].text == view.title and cells[(1, 0)].text == view.words, s.title
        tables, lines = parse(view.to_html())
        assert [t["caption"] for t in tables] == [s.values[b.caption] for b in s.blocks], s.title
        for b, t in zip(s.blocks, tables):
            assert len(t["cells"]) == b.rows * b.cols
            for (i, j), (text, bg) in t["cells"].items():
                there = cells[(b.top_left[0] + i - 1, b.top_left[1] + j - 1)]
                assert text == there.text, (name, s.title, b.name, i, j)
                assert colour(bg) == colour(there.bg), (name, s.title, b.name, i, j, bg, there.bg)
                compared += 1
        results = [b for b in s.blocks if not b.linked] if s.step > 2 else []
        want = [cells[(s.line_of(b)[0] - 1, s.line_of(b)[1] - 1)].text for b in results]
        assert lines == want == view.lines, (name, s.title)
    return compared


@pytest.mark.parametrize("name,focus", [("seed-mlp", None), ("focus23", (2, 3)), ("focus99", (9, 9))])
def test_show_step_shows_what_libreoffice_shows_for_the_same_focus(preset_books, lo, name, focus):
    run = preset_books["seed-mlp"][0]
    assert same_as_libreoffice(run, name, lo, focus) > 250
    yellow = [t for s in range(3, 13) for t in parse(run.show_step(s, focus=focus).to_html())[0]
              if any(bg in (YELLOW, GOLD) for _, bg in t["cells"].values())]
    assert len(yellow) == 19  # one yellow (or gold) cell in each result of steps 3-12


@pytest.mark.parametrize("name", [p for p in PRESETS if p != "seed-mlp"] + ["chain"])
def test_show_step_agrees_with_libreoffice_on_every_network(preset_books, lo, name):
    """Perceptrons, two hidden layers, tanh and relu, labelled CSV columns, sums long enough
    to be abbreviated, and every detailed epoch of a run (epoch 2 starts from epoch 1's update)."""
    if name == "chain":
        run = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"])  # as conftest's lo makes it
    else:
        run = preset_books[name][0]
    assert same_as_libreoffice(run, name, lo, None) > 50


def test_steps_1_and_2_have_no_focus(seed_run):
    for step in (1, 2):
        view = seed_run.show_step(step, focus=(2, 3))
        tables, lines = parse(view.to_html())
        assert tables and not lines and not view.lines
        assert all(bg is None for t in tables for _, bg in t["cells"].values())


def test_repr_html_is_the_whole_picture_with_the_workbooks_captions(seed_run):
    view = seed_run.show_step(11, focus=(2, 1))
    fragment = view._repr_html_()
    assert fragment == view.to_html() == seed_run.show_step(11, focus=(2, 1)).to_html()  # deterministic
    for caption in ("hiddenlayer_activationsᵀ  (3×3)", "d_output  (3×1)", "lr  (1×1)", "update_wout  (3×1)",
                    "wout  (3×1)", "wout updated  (3×1)", "Xᵀ  (4×3)", "wh updated  (4×3)"):
        assert f">{caption}</div>" in fragment, caption
    # the operands with the digits it takes for the learner's result to be the cell's (issue 25)
    assert ("update_wout[2,1] = (0.7375×0.02644 + 0.8640×0.02210 + 0.8406×(−0.11454))×0.1 = −0.00577"
            in fragment)
    assert fragment.startswith("<div") and fragment.endswith("</div>")
    assert fragment.count("<div") == fragment.count("</div>")
    assert not re.search(r"<script|<link|src=|@import|url\(", fragment)  # self-contained
    # one notebook shows many views, and CSS rules apply page-wide: two tables share their
    # ids (and so their rules) only when they look the same
    tables = [t for s in range(1, 13) for f in ((1, 1), (2, 1), (3, 3))
              for t in parse(seed_run.show_step(s, focus=f).to_html())[0]]
    looks = {}
    for t in tables:
        looks.setdefault(t["id"], set()).add(repr(sorted(t["cells"].items())))
    assert all(len(v) == 1 for v in looks.values()) and len(looks) > 60


def test_without_jinja2_show_step_says_what_to_install(seed_run, monkeypatch):
    monkeypatch.setitem(sys.modules, "jinja2", None)  # import jinja2 fails
    with pytest.raises(ImportError, match=r"pip install 'stepviz\[notebook\]'"):
        seed_run.show_step(3)


def test_str_is_the_title_the_formula_and_the_arithmetic(seed_run):
    assert repr(seed_run.show_step(3, focus=(2, 3))).splitlines() == [
        "Epoch 1 · step 3 of 12 · hidden input",
        "hidden_layer_input = X · wh + bh",
        "hidden_layer_input[2,3] = 1×0.04097 + 0×0.91276 + 1×0.54362 + 1×0.00274 + 0.7297 = 1.317",
    ]


def test_labels_and_names_are_escaped(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text('"<b>x</b>",y\n1,0\n0,1\n')
    run = stepviz.train({"data": {"csv": str(csv), "target": ["y"]}, "training": {"epochs": 1}})
    fragment = run.show_step(1).to_html()
    assert "&lt;b&gt;x&lt;/b&gt;" in fragment and "<b>x</b>" not in fragment


@pytest.mark.parametrize("kwargs,valid", [
    (dict(step=0), "from 1 to 12"), (dict(step=13), "from 1 to 12"), (dict(step="3"), "from 1 to 12"),
    (dict(step=3.0), "from 1 to 12"), (dict(step=True), "from 1 to 12"),
    (dict(step=3, epoch=2), "detailed epoch of this run (1)"), (dict(step=3, epoch="1"), "(1)"),
    (dict(step=3, focus=(0, 1)), "counted from 1"), (dict(step=3, focus=(1,)), "(row, col)"),
    (dict(step=3, focus="2,3"), "(row, col)"), (dict(step=3, focus=(1.5, 2)), "whole numbers"),
    (dict(step=3, focus=(True, 1)), "whole numbers"),
])
def test_bad_arguments_say_what_is_valid(seed_run, kwargs, valid):
    with pytest.raises(stepviz.StepvizError) as e:
        seed_run.show_step(**kwargs)
    message = str(e.value)
    assert valid in message and "\n" not in message
    assert message.split(":")[0] in ("step", "epoch", "focus")


def test_another_epoch_and_numpy_integers(tmp_path):
    import numpy as np

    run = stepviz.train("seed-mlp", epochs=3, detail=[1, 3])
    assert run.show_step(3).title.startswith("Epoch 1 ")
    view = run.show_step(np.int64(3), epoch=np.int64(3), focus=(np.int64(2), 1))
    assert view.title.startswith("Epoch 3 ") and view.lines[0].startswith("hidden_layer_input[2,1] = ")


def test_import_stepviz_and_training_import_neither_pandas_nor_jinja2():
    code = ("import sys, stepviz; run = stepviz.train('seed-mlp', epochs=2); run.show_step; "
            "sys.exit(sorted({'pandas', 'jinja2'} & set(sys.modules)) or 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_readme_notebook_example_is_real():
    import doctest

    readme = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")  # the README's section moved there
    section = readme.split("### In a notebook", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert "examples/explore.ipynb" in section
    test = doctest.DocTestParser().get_doctest(block, {}, "reference: In a notebook", "docs/reference.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False) == (0, len(test.examples)) and test.examples


def test_the_example_notebook_runs(tmp_path, monkeypatch):
    import nbclient
    import nbformat

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # nothing written to $HOME
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)  # committed cleared
    assert any("run.show_step(3)" in c.source for c in code)
    # raises CellExecutionError on the first cell that fails
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [o["data"]["text/html"] for c in code for o in c.outputs if "text/html" in o.get("data", {})]
    views = [s for s in shown if 'class="stepviz-step"' in s]
    assert len(views) == 2 and all(f"#{YELLOW}" in v and f"#{ORANGE}" in v for v in views)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]


# -- the pandas tables are the workbook's ------------------------------------------------------
@pytest.mark.parametrize("name", PRESETS)
def test_history_and_training_are_what_the_workbook_holds(preset_books, name):
    """``Run.history()`` is ``read_history`` of the workbook written from the run, and
    ``Run.training()`` its ``read_training`` (the engine's numbers, the sheet's rows and columns)."""
    import pandas as pd

    run, path = preset_books[name]
    pd.testing.assert_frame_equal(run.history(), stepviz.read_history(path), rtol=1e-12, atol=1e-300)
    if not run.config.exercise and run.config.live_epochs != 0:
        pd.testing.assert_frame_equal(run.training(), stepviz.read_training(path), rtol=1e-12, atol=1e-300)
