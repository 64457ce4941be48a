import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import stepviz  # noqa: E402

_found = {}  # what TMPDIR was before the session, and the private folder the session uses


def pytest_configure(config):
    """Run the session in a private temporary folder (its subprocesses too), so that what the
    tests or stepviz leave behind is seen, whoever else uses the system's temporary folder."""
    _found["TMPDIR"] = os.environ.get("TMPDIR")
    _found["private"] = Path(tempfile.mkdtemp(prefix="stepviz-tests-"))
    os.environ["TMPDIR"] = str(_found["private"])
    tempfile.tempdir = None  # read TMPDIR again


def pytest_unconfigure(config):
    """Give TMPDIR back; remove the private folder when nothing but pytest's own emptied
    tmp_path root is in it (after a failure pytest keeps the failed tests' folders there)."""
    if _found.get("TMPDIR") is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = _found["TMPDIR"]
    tempfile.tempdir = None
    private = _found.get("private")
    if private is not None:
        for root in private.glob("pytest-of-*"):
            try:
                root.rmdir()
            except OSError:
                pass
        try:
            private.rmdir()
        except OSError:
            print(f"\ntemporary files of this session are kept in {private}", file=sys.stderr)


@pytest.fixture(scope="session", autouse=True)
def nothing_left_in_tmpdir():
    """The suite leaves the temporary folder as it found it: every temporary file the tests
    and stepviz make is removed (pytest's tmp_path folders aside: pytest removes them)."""
    private = _found["private"]
    yield
    left = sorted(p.name for p in private.iterdir() if not p.name.startswith("pytest-of-"))
    assert not left, f"temporary files left behind in {private}: {left[:10]}"


# The session's shared workbooks keep a short Training sheet (its first LIVE epochs live, then
# values): they are read by openpyxl and LibreOffice many times, and a full one holds 220,000
# formulas. tests/test_training.py writes and checks the full-length ones.
LIVE = 30


@pytest.fixture(scope="session")
def seed_run():
    return stepviz.train("seed-mlp", live_epochs=LIVE)


@pytest.fixture(scope="session")
def seed_book(seed_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "seed-mlp.xlsx"
    stepviz.write_workbook(seed_run, path)
    return path


# every preset, plus variants for what no preset uses: depth 2, tanh, relu, frozen biases
CASES = {name: (name, {"live_epochs": LIVE}) for name in stepviz.presets()}
CASES["deep-tanh-sse"] = ("seed-mlp", dict(hidden=[3, 2], activation="tanh", loss="sse", epochs=50,
                                           detail=[1, 2], lr=0.05))
CASES["relu-frozen-bias"] = ("seed-mlp", dict(activation="relu", train_bias=False, epochs=20, lr=0.01))
# more terms than ops.MAX_TERMS: the sums switch to MMULT / SUMPRODUCT over ranges
_rng = np.random.default_rng(5)
CASES["wide-ranges"] = ({"data": {"X": _rng.uniform(size=(12, 12)).tolist(),
                                  "y": _rng.uniform(size=(12, 11)).tolist()},
                         "network": {"hidden": [11]}, "training": {"epochs": 3, "lr": 0.5}}, {})
PRESETS = sorted(CASES)


@pytest.fixture(scope="session")
def preset_books(tmp_path_factory):
    """Every case's run and workbook (written once per test session)."""
    folder = tmp_path_factory.mktemp("presets")
    out = {}
    for name in PRESETS:
        source, overrides = CASES[name]
        run = stepviz.train(source, **overrides)
        out[name] = (run, stepviz.write_workbook(run, folder / f"{name}.xlsx"))
    return out


def set_focus(src, dst, row, col):
    """A copy of a workbook whose every focus row and column cell is set, as a learner types."""
    import openpyxl

    from book import focus_cells

    wb = openpyxl.load_workbook(src)
    for ws in wb.worksheets:
        for ref, value in zip(focus_cells(ws), (row, col)):
            ws[ref] = value
    wb.save(dst)
    return dst


def set_lr(src, dst, lr):
    """A copy of a workbook with lr edited on the Overview."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ov = wb["Overview"]
    next(r[1] for r in ov.iter_rows() if r[0].value == "lr (learning rate)").value = lr
    wb.save(dst)
    return dst


@pytest.fixture(scope="session")
def lo(preset_books, tmp_path_factory):
    """Workbooks as LibreOffice recalculates and shows them: {name: (original, recalculated
    xlsx, {sheet: {(row, col): Seen}})}, from two soffice starts for all of them."""
    from libreoffice import convert, read_html
    from test_libreoffice import poison

    d = tmp_path_factory.mktemp("lo")
    books = {name: path for name, (_, path) in preset_books.items()}
    chain = stepviz.write_workbook(stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"]), d / "chain.xlsx")
    books["chain"] = chain
    books["poisoned"] = poison(chain, d / "poisoned.xlsx")
    books["edited"] = set_lr(chain, d / "edited.xlsx", 0.5)
    books["last"] = stepviz.write_workbook(stepviz.train("seed-mlp", detail=[1, "last"], live_epochs=LIVE),
                                           d / "last.xlsx")
    for optimizer in ("momentum", "adam"):
        run = stepviz.train("seed-mlp", epochs=20, detail=[1, 2, "last"], optimizer=optimizer)
        books[optimizer] = stepviz.write_workbook(run, d / f"{optimizer}.xlsx")
    books["adam-edited"] = set_lr(books["adam"], d / "adam-edited.xlsx", 0.05)
    from stepviz.text import languages

    for lang in languages():
        if lang != "en":  # the other languages, recalculated too (CJK fonts in CI for the renders)
            books[lang] = stepviz.write_workbook(stepviz.train("seed-mlp", lang=lang, detail=[1, 2], live_epochs=LIVE),
                                                 d / f"{lang}.xlsx")
    seed = books["seed-mlp"]
    books["focus23"] = set_focus(seed, d / "focus23.xlsx", 2, 3)
    books["focus99"] = set_focus(seed, d / "focus99.xlsx", 9, 9)
    names = sorted(books)
    files = [books[n] for n in names]
    xlsx = convert(files, d, "xlsx")
    html = convert(files, d, "html")
    return {n: (books[n], x, read_html(h)) for n, x, h in zip(names, xlsx, html)}
