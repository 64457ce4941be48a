"""Excel's grammar and semantics, checked outside LibreOffice.

IronCalc (a spreadsheet engine that follows Excel 365) recomputes copies of every kind of
workbook whose cached formula values were all zeroed, and must get the values stepviz stored
(1e-9 relative, texts to the character) and show no formula with an implicit-intersection
``@`` stepviz did not write. ``excel_grammar.scan`` checks every written formula against
Excel's documented limits, on the same workbooks and on the largest one stepviz allows.
"""
import re
import zipfile

import ironcalc
import numpy as np
import openpyxl
import pytest
from openpyxl.utils.cell import coordinate_to_tuple

import stepviz
from conftest import LIVE, PRESETS
from excel_grammar import scan, strip_strings
from test_libreoffice import formula_values
from test_achieved import estimate_cells, relative_cells

EXTRA = {  # beyond the presets and conftest's cases (deep, relu, MMULT: "wide-ranges")
    "momentum": ("seed-mlp", dict(epochs=20, detail=[1, 2, "last"], optimizer="momentum")),
    "adam": ("seed-mlp", dict(epochs=20, detail=[1, 2, "last"], optimizer="adam")),
    "exercise": ("seed-mlp", dict(epochs=5, detail=[1, 2], exercise=True)),
    "zh": ("seed-mlp", dict(detail=[1, 2], lang="zh", live_epochs=LIVE)),
    "de": ("seed-mlp", dict(detail=[1, 2], lang="de", live_epochs=LIVE)),
}
KINDS = PRESETS + sorted(EXTRA)


@pytest.fixture(scope="module")
def books(preset_books, tmp_path_factory):
    folder = tmp_path_factory.mktemp("excel")
    out = {name: path for name, (_, path) in preset_books.items()}
    for name, (source, overrides) in EXTRA.items():
        out[name] = stepviz.write_workbook(stepviz.train(source, **overrides), folder / f"{name}.xlsx")
    return out


def zeroed(src, dst):
    """A copy whose every formula cell's cached value is 0 (a text result loses its t="str")."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<c ([^>]*?) t="str">', rb"<c \1>", data)
                data = re.sub(rb"(</f><v>)[^<]*(</v>)", rb"\g<1>0\g<2>", data)
            zout.writestr(item, data)
    return dst


def test_ironcalc_recomputes_every_kind_of_workbook_to_the_stored_values(books, tmp_path):
    for kind in KINDS:
        original = books[kind]
        stored = formula_values(original)
        written = {key: f for key, f in _formulas(original).items()}
        model = ironcalc.load_from_xlsx(str(zeroed(original, tmp_path / f"{kind}.xlsx")), "en", "UTC")
        sheets = {p["name"]: i for i, p in enumerate(model.get_worksheets_properties())}
        where = {key: (sheets[key[0]], *coordinate_to_tuple(key[1])) for key in stored}
        # the copy really holds zeros: what follows was computed by IronCalc
        assert all(model.get_cell_value(*where[key]) == 0 for key in stored), kind
        model.evaluate()
        texts = numbers = 0
        noisy, amplified = relative_cells(original), estimate_cells(original)
        for key, want in stored.items():
            got = model.get_cell_value(*where[key])
            if key in noisy:  # a gradient check's |g − est| / |g|: rounding noise (test_achieved)
                assert isinstance(got, float) and abs(got - want) < 1e-6, (kind, key, got, want)
            elif key in amplified:  # its estimate: the losses' last digits times about 10⁶
                assert isinstance(got, float) and got == pytest.approx(want, rel=1e-6), (kind, key, got, want)
            elif want is None or isinstance(want, str):  # a text (an empty verdict reads None)
                assert got == (want or ""), (kind, key, got, want)
                texts += 1
            else:
                assert isinstance(got, float) and got == pytest.approx(want, rel=1e-9, abs=0), (kind, key, got, want)
                numbers += 1
            shown = model.get_cell_formula(*where[key])
            # no implicit-intersection @ that stepviz did not write (Excel 365 would show it)
            assert strip_strings(shown).count("@") == strip_strings(written[key]).count("@"), (kind, key, shown)
        assert numbers > 50 and (texts > 0 or kind == "exercise"), kind


def test_the_copies_compared_hold_every_kind_of_formula(books):
    """What the recomputation above covers: MMULT, lines, verdicts, links, optimizers, languages."""
    every = {kind: "\n".join(_formulas(books[kind]).values()) for kind in KINDS}
    assert "MMULT(" in every["wide-ranges"] and "FIXED(" in every["seed-mlp"]
    assert "IF(ISBLANK(" in every["exercise"] and "SQRT(" in every["adam"]
    assert "TANH(" in every["deep-tanh-sse"] and "hidden_layer_input2[" in every["deep-tanh-sse"]
    assert re.search(r"'\d\.\d\d [^']*[\u4e00-\u9fff]", every["zh"])  # links to Chinese sheet names


def test_ironcalc_catches_a_wrong_stored_value(books, tmp_path):
    """The comparison can fail: a workbook whose one formula computes something else."""
    src = books["seed-mlp"]
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if b"<f>1/(1+EXP(-" in data:
                data = data.replace(b"<f>1/(1+EXP(-", b"<f>1/(1.0001+EXP(-", 1)
            zout.writestr(item, data)
    stored = formula_values(src)
    model = ironcalc.load_from_xlsx(str(zeroed(bad, tmp_path / "z.xlsx")), "en", "UTC")
    model.evaluate()
    sheets = {p["name"]: i for i, p in enumerate(model.get_worksheets_properties())}
    off = [key for key, want in stored.items() if isinstance(want, float)
           and model.get_cell_value(sheets[key[0]], *coordinate_to_tuple(key[1])) != pytest.approx(want, rel=1e-9)]
    assert off


def _formulas(path) -> dict:
    """{(sheet, cell): formula as written} of every formula cell."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if type(v).__name__ == "ArrayFormula":
                    out[(ws.title, c.coordinate)] = v.text
                elif isinstance(v, str) and v.startswith("="):
                    out[(ws.title, c.coordinate)] = v
    return out


# -- Excel's documented limits -------------------------------------------------------------
def test_every_formula_of_every_kind_of_workbook_is_within_excels_limits(books):
    for kind in KINDS:
        report = scan(books[kind])
        assert report.problems == [], (kind, report.problems[:5])
        assert report.formulas > 50, kind


def test_the_largest_workbook_stepviz_allows_is_within_excels_limits(tmp_path):
    """At stepviz's caps where they shape what is written: more detailed epochs than the
    default cap (max_detail raised), so sheet names and document properties are longest,
    in German (the longest step titles), with two hidden layers ("versteckter Fehler 2").
    (The largest workbook the caps allow for a 12→12→11→12→11 network in German, 218 detailed
    epochs, where the Trace's rows bind: 8.96 million cells, 4,363 sheets, 2.5 million
    formulas; the scan found nothing beyond Excel's limits there either: measured once, too
    slow for the suite, see the README's Tests section.)"""
    epochs = 120
    run = stepviz.train("seed-mlp", hidden=[3, 2], epochs=epochs, detail=list(range(1, epochs + 1)),
                        max_detail=epochs, lang="de")
    path = stepviz.write_workbook(run, tmp_path / "large.xlsx")
    report = scan(path)
    assert report.problems == [], report.problems[:5]
    assert report.formulas > 50_000
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert len(names) == 1 + epochs * 16 + 3 and max(map(len, names)) >= 24  # + Training, History, Trace


def test_the_scan_finds_what_breaks_excels_rules():
    """Each rule can fail: the formulas and names a careless writer would produce."""
    from excel_grammar import defined_name_problems, measure, sheet_name_problems

    assert measure("IF(A1<=MAX(5e-05,1),1,0)").problems  # the exercise verdicts' old spelling
    assert measure("IF(A1<=MAX(5E-05,1),1,0)").problems == []
    assert measure("A1+" * 3000 + "1").problems  # longer than 8,192 characters
    assert measure("SUM(" + ",".join(["A1"] * 256) + ")").problems
    assert measure("SUM(" + ",".join(["A1"] * 255) + ")").problems == []
    assert measure("ABS(" * 65 + "1" + ")" * 65).problems and not measure("ABS(" * 64 + "1" + ")" * 64).problems
    assert measure("nan+1").problems and measure("focus_row+1", {"focus_row"}).problems == []
    assert measure('"a"&概览!$B$5', {"概览"}).problems == []
    assert sheet_name_problems(["History"]) and sheet_name_problems(["a" * 32]) and sheet_name_problems(["a:b"])
    assert sheet_name_problems(["Abc", "abc"]) and sheet_name_problems(["'quoted"])
    assert sheet_name_problems(["1.03 versteckte Eingabe", "概览"]) == []
    assert defined_name_problems([("A1", None)]) and defined_name_problems([("R1C1", None)])
    assert defined_name_problems([("1x", None)]) and defined_name_problems([("a", "1"), ("A", "1")])
    assert defined_name_problems([("focus_row", "1"), ("focus_row", "2"), ("_xlnm.Print_Area", "1")]) == []


def test_no_workbook_has_a_sheet_scoped_name(books):
    """Portable by construction (issue 25.8): xl/workbook.xml holds no <definedName
    localSheetId=…> but Excel's own print names; so no formula, conditional format or data
    validation can read one (the scan also flags any that does)."""
    for kind in KINDS:
        with zipfile.ZipFile(books[kind]) as z:
            xml = z.read("xl/workbook.xml").decode()
        scoped = re.findall(r'<definedName name="([^"]+)" localSheetId=', xml)
        assert all(n.startswith("_xlnm.") for n in scoped), (kind, scoped)
        assert not any("sheet-scoped" in p for p in scan(books[kind]).problems), kind


def test_the_scan_finds_a_sheet_scoped_name_read_by_a_conditional_format(tmp_path):
    """The portability rule can fail: a workbook as stepviz wrote it before issue 25."""
    import xlsxwriter

    path = tmp_path / "scoped.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("1.03 hidden input")
        ws.write_number("E6", 1)
        wb.define_name("'1.03 hidden input'!focus_row", "='1.03 hidden input'!$E$6")
        ws.conditional_format("B8:B9", {"type": "formula", "criteria": "=ROW(B8)=7+focus_row",
                                        "format": wb.add_format({"bg_color": "#FFFF00"})})
        ws.data_validation("F6", {"validate": "integer", "criteria": "<=", "value": "=focus_row"})
    problems = scan(path).problems
    assert "sheet-scoped defined name 'focus_row'" in problems
    assert sum("reads the sheet-scoped name 'focus_row'" in p for p in problems) == 2, problems


def test_the_scan_finds_a_lower_case_exponent_in_a_written_workbook(tmp_path, monkeypatch):
    """The verdicts as stepviz wrote them before (``repr``: 5e-05) fail the scan."""
    import stepviz.terms as terms

    run = stepviz.train("seed-mlp", epochs=5, exercise=True)
    assert scan(stepviz.write_workbook(run, tmp_path / "ok.xlsx")).problems == []
    monkeypatch.setattr(terms, "number", repr)
    problems = scan(stepviz.write_workbook(run, tmp_path / "old.xlsx")).problems
    assert problems and all("lower-case exponent" in p for p in problems), problems[:3]


# -- how far the spreadsheets agree: a saturated network ----------------------------------------
SATURATED = {"data": {"X": [[1, 0], [0, 1], [1, 1]], "y": [1, 1, 0]},
             "network": {"hidden": [3]}, "training": {"epochs": 2, "lr": 0.1},
             # hidden activations ≈ 1 - 2e-9, output_layer_input ≈ 33.9: output = 1 - 1.9e-15
             "init": {"wh": [[20, 20, 20], [20, 20, 20]], "bh": [[0, 0, 0]], "wout": [[11.3], [11.3], [11.3]],
                      "bout": [[0]]}}


@pytest.fixture(scope="module")
def saturated(tmp_path_factory):
    run = stepviz.train(SATURATED)
    assert 0 < 1 - run.value(1, 5, "output").max() < 3e-15
    return stepviz.write_workbook(run, tmp_path_factory.mktemp("saturated") / "saturated.xlsx")


def _numbers_off(stored, got, rel=1e-9, skip=frozenset()):
    """{key: |difference|} of the numbers not within ``rel`` relative (``skip``: keys left out)."""
    return {key: abs(got[key] - want) for key, want in stored.items()
            if isinstance(want, float) and key not in skip and not abs(got[key] - want) <= rel * abs(want)}


def _aside(path) -> set[tuple[str, str]]:
    """What these tests leave aside in a saturated network: the gradient checks' relative
    differences (two losses equal to 1e-16: the quotient is noise) and the hidden helper cells
    of the arithmetic lines (each operand rounded for the line: the lines are compared as texts)."""
    wb = openpyxl.load_workbook(path)
    hidden = set()
    for ws in wb.worksheets:
        cols = {c for d in ws.column_dimensions.values() if d.hidden for c in range(d.min, d.max + 1)}
        hidden |= {(ws.title, c.coordinate) for row in ws.iter_rows() for c in row if c.column in cols}
    return hidden | relative_cells(path)


def test_a_saturated_network_in_libreoffice_agrees_in_absolute_terms_only(saturated, tmp_path):
    """LibreOffice rounds a subtraction of nearly equal numbers to 0 (1 - output, when output
    is within about 3.6e-15 of 1), as Excel documents for 15 digits; numpy keeps 1.9e-15. What
    follows from it is off by far less than 1e-13, but not within 1e-9 relative."""
    from libreoffice import recalculate

    (out,) = recalculate([saturated], tmp_path)
    stored, fresh = formula_values(saturated), formula_values(out)
    off = _numbers_off(stored, fresh, skip=_aside(saturated))
    assert off, "LibreOffice kept the tiny differences: the README's caveat is out of date"
    assert max(off.values()) < 1e-13, max(off.values())
    assert any(fresh[key] == 0 and stored[key] != 0 for key in off)
    aside = _aside(saturated)
    assert all(abs(fresh[key] - want) <= max(1e-9, 1e-9 * abs(want))  # what test_libreoffice asserts
               for key, want in stored.items() if isinstance(want, float) and key not in aside)


def test_a_saturated_network_in_ironcalc_agrees_to_1e_9_relative(saturated, tmp_path):
    """IronCalc keeps numpy's tiny values (1e-9 relative everywhere); only the lines differ:
    its ``=`` counts numbers within about 1e-15 as equal, so ``IF(v=0,"0",…)`` spells 4.0E-30
    as 0."""
    stored = formula_values(saturated)
    model = ironcalc.load_from_xlsx(str(zeroed(saturated, tmp_path / "z.xlsx")), "en", "UTC")
    model.evaluate()
    sheets = {p["name"]: i for i, p in enumerate(model.get_worksheets_properties())}
    got = {key: model.get_cell_value(sheets[key[0]], *coordinate_to_tuple(key[1])) for key in stored}
    assert _numbers_off(stored, got, skip=_aside(saturated)) == {}
    texts = [key for key, want in stored.items() if isinstance(want, str) and got[key] != want]
    assert texts and all("·10⁻" in stored[key] for key in texts)


def test_number_constants_are_spelled_as_excel_writes_them():
    from excel_grammar import measure
    from stepviz.terms import number

    for v in (5e-05, 1e-08, 5e-324, 1.5e300, 0.1, 2.0, -3.25e-07, 0.005, 1e15, 123456.789):
        s = number(v)
        assert float(s) == v and "e" not in s and measure(s.lstrip("-")).problems == [], s


def test_without_the_array_form_excel_365_would_show_an_at(books, tmp_path):
    """The same lines and their helpers written as ordinary formulas (t="array" and cm="1" removed): IronCalc,
    as Excel 365, shows ``@INDEX``. The array form is what keeps them as written."""
    plain = tmp_path / "plain.xlsx"
    with zipfile.ZipFile(books["seed-mlp"]) as zin, zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb' cm="1"', b"", data)
                data = re.sub(rb'<f t="array" ref="[A-Z]+\d+">', b"<f>", data)
            zout.writestr(item, data)
    model = ironcalc.load_from_xlsx(str(plain), "en", "UTC")
    shown = [model.get_cell_formula(*cell) or "" for cell in model.get_all_cells()]
    assert any("@INDEX(" in strip_strings(f) for f in shown)
