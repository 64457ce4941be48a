"""The workbook in the learner's language: every word from a catalog, the code's names kept,
the Trace contract kept, and each preset's tutorial on its Overview."""
import re
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import stepviz
from conftest import LIVE
from stepviz.text import catalog, languages, placeholders

LANG = Path(__file__).parent.parent / "templates" / "lang"
OTHERS = [lang for lang in languages() if lang != "en"]
STEP_SHEET = re.compile(r"^\d+\.\d\d ")


def test_every_catalog_has_every_english_key_with_the_same_placeholders():
    assert {"en", "zh", "de"} <= set(languages())
    english = catalog("en")
    for lang in OTHERS:
        other = catalog(lang)
        assert other.keys() == english.keys(), (lang, sorted(english.keys() ^ other.keys()))
        for key, text in english.items():
            assert placeholders(other[key]) == placeholders(text), (lang, key)
            assert other[key].strip(), (lang, key)


def test_a_catalog_is_one_toml_file_and_adding_one_adds_a_language(tmp_path, monkeypatch):
    import stepviz.text as text

    folder = tmp_path / "lang"
    folder.mkdir()
    for f in LANG.glob("*.toml"):
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "xx.toml").write_bytes((LANG / "en.toml").read_bytes())
    monkeypatch.setattr(text, "catalog_files", lambda: folder)
    text.catalog.cache_clear()
    try:
        assert "xx" in text.languages()
        assert stepviz.load_config("seed-mlp", lang="xx").lang == "xx"
    finally:
        text.catalog.cache_clear()


def test_an_unknown_language_is_one_line(tmp_path):
    with pytest.raises(stepviz.ConfigError, match=r"workbook.lang: expected one of de, en, zh, got 'fr'"):
        stepviz.load_config("seed-mlp", lang="fr")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("i18n")
    run = {lang: stepviz.train("seed-mlp", lang=lang, live_epochs=LIVE) for lang in ["en", *OTHERS]}
    return {lang: stepviz.write_workbook(r, d / f"{lang}.xlsx") for lang, r in run.items()}


def texts(path):
    """{(sheet index, cell): text} of every text a learner reads (constants and cached text)."""
    wf = openpyxl.load_workbook(path)
    wv = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for n, ws in enumerate(wf.worksheets):
        if ws.title in ("Trace",):
            continue
        hidden = {k for k, d in ws.column_dimensions.items() if d.hidden}  # the lines' helper cells
        for row in ws.iter_rows():
            for c in row:
                if type(c).__name__ == "MergedCell":  # the rest of a merged (wrapped) text: empty
                    continue
                if c.column_letter in hidden or any(d.hidden and d.min <= c.column <= d.max
                                                    for d in ws.column_dimensions.values()):
                    continue
                v = wv[ws.title][c.coordinate].value if isinstance(c.value, str) and c.value.startswith("=") else c.value
                if isinstance(v, str) and v.strip():
                    out[(n, c.coordinate)] = v
    return out


def code_free(text, names):
    """The words of a text that are not code: variable and function names, numbers, symbols."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return [w for w in re.findall(r"[A-Za-z]{3,}", text)]


@pytest.mark.parametrize("lang", OTHERS)
def test_no_english_prose_is_left_on_the_step_sheets_and_the_overview(books, lang):
    net = stepviz.load_config("seed-mlp").network
    code = set(net.names()) | {"lr", "sigmoid", "EXP", "SQRT", "TANH", "MAX", "IF", "Σ_rows", "stepviz", "seed-mlp",
                               "Trace", "epoch", "step", "name", "row", "col", "value", "uniform", "init"}
    # the navigation row (row 5) links to sheets whose names are checked below; its links sit
    # where their translated labels leave room, so they are left out of the cell-by-cell check
    nav = re.compile(r"[A-Z]+5$")
    en, other = ({k: v for k, v in texts(books[x]).items() if not (k[0] and nav.match(k[1]))} for x in ("en", lang))
    assert en.keys() == other.keys()
    checked = 0
    for key, english in en.items():
        words = code_free(english, code)
        if len(words) < 1:
            continue  # names, numbers and symbols only: the same in every language
        assert other[key] != english, (lang, key, english)
        if lang == "zh":
            assert re.search(r"[\u4e00-\u9fff]", other[key]), (key, other[key])
        checked += 1
    assert checked > 40


@pytest.mark.parametrize("lang", OTHERS)
def test_sheet_names_and_step_titles_are_translated(books, lang):
    en = openpyxl.load_workbook(books["en"], read_only=True).sheetnames
    names = openpyxl.load_workbook(books[lang], read_only=True).sheetnames
    steps = [n for n in names if STEP_SHEET.match(n)]
    assert len(steps) == 12 and names[-1] == "Trace"
    for ours, theirs in zip(names[:-1], en[:-1]):
        assert ours != theirs and len(ours) <= 31 and not set(ours) & set("[]:*?/\\")
        assert ours != "History"  # Excel reserves it
    if lang == "zh":  # the 003 tutorial's own headings
        assert steps[0] == "1.01 读取输入和输出" and "隐层输入" in steps[2]
        assert not any("细胞" in t for t in texts(books[lang]).values())  # a cell is 单元格


@pytest.mark.parametrize("lang", OTHERS)
def test_the_trace_contract_and_the_numbers_do_not_change_with_the_language(books, lang):
    pd.testing.assert_frame_equal(stepviz.read_trace(books[lang]), stepviz.read_trace(books["en"]))
    pd.testing.assert_frame_equal(stepviz.read_history(books[lang]), stepviz.read_history(books["en"]))
    again = stepviz.write_workbook(stepviz.train("seed-mlp", lang=lang, live_epochs=LIVE),
                                   books[lang].parent / f"again-{lang}.xlsx")
    assert again.read_bytes() == books[lang].read_bytes()
    from stepviz.reader import inspect

    assert inspect(books[lang])["problems"] == []  # doctor finds every sheet, whatever its name


def test_libreoffice_recalculates_other_languages_to_the_same_numbers_and_texts(lo):
    from test_libreoffice import formula_values, same

    for lang in OTHERS:
        original, recalc, shown = lo[lang]
        cached, fresh = formula_values(original), formula_values(recalc)
        for key, want in cached.items():
            same(fresh[key], want, f"{lang} {key}")
        for sheet, cells in shown.items():
            assert not any(s.text.startswith(("#", "Err:")) for s in cells.values()), (lang, sheet)


# -- each preset's tutorial ------------------------------------------------------------------

def overview_text(path):
    ws = openpyxl.load_workbook(path)[openpyxl.load_workbook(path, read_only=True).sheetnames[0]]
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str))


@pytest.mark.parametrize("preset,expect", [
    ("seed-mlp", ["Seed 003", "tutorial's own names", "0.98497471, 0.96956956, 0.0416628"]),
    ("two-layer", ["Seeds 001/002", "weights1\n→ wh", "weights2\n→ wout", "layer1\n→ hiddenlayer_activations"]),
    ("or-gate", ["Seed 000", "weights\n→ wout", "bias\n→ bout", "sigmoid twice"]),
    ("virus", ["Seed 000", "weights\n→ wout", "loss_of_smell"]),
    ("single-neuron", ["Seed 004", "weights\n→ wout", "0.99993704", "predicts 0.99993704"]),
])
def test_each_preset_overview_names_its_seed_maps_its_names_and_quotes_its_result(preset_books, preset, expect):
    run, path = preset_books[preset]
    text = overview_text(path)
    for piece in expect:
        assert piece in text, (preset, piece)
    if preset == "single-neuron":  # reproduced: the same number on both sides
        assert f"this workbook predicts {run.predict(run.config.predict)[0, 0]:.8g}" in text


def test_the_tutorial_texts_are_translated_too(tmp_path):
    path = stepviz.write_workbook(stepviz.train("two-layer", epochs=5, lang="de", detail=["last"]), tmp_path / "d.xlsx")
    text = overview_text(path)
    de = tomllib.loads((LANG / "de.toml").read_text(encoding="utf-8"))
    assert de["tutorials"]["001"]["title"] in text and "weights1" in text
