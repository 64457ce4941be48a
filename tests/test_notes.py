"""The notes on the step sheets are true for their preset (issue 17.5): every sheet a note
names exists in that workbook, in every language; the note about lr in step 8 only where
the preset's tutorial (seed 003) multiplies by lr there; a start-value note says "the rest"
only where there is a rest; the last sheet leads on to the Overview."""
import re

import openpyxl
import pytest

import stepviz
from book import STEP_SHEET
from stepviz.text import languages
from stepviz.workbook.layout import NAV, NOTE

SHEET_REF = re.compile(r"(?<![\d.])(\d+)\.(\d\d)(?![\d])")


def notes(path):
    wb = openpyxl.load_workbook(path)
    return wb.sheetnames, {ws.title: ws.cell(NOTE + 1, 1).value or "" for ws in wb.worksheets if STEP_SHEET.match(ws.title)}, wb


@pytest.mark.parametrize("lang", languages())
@pytest.mark.parametrize("preset", sorted(stepviz.presets()))
def test_every_sheet_a_note_names_exists(tmp_path, preset, lang):
    run = stepviz.train(preset, epochs=5, lang=lang)
    names, by_sheet, wb = notes(stepviz.write_workbook(run, tmp_path / "n.xlsx"))
    prefixes = {n.split(" ")[0] for n in names if STEP_SHEET.match(n)}
    lr_notes = 0
    for sheet, text in by_sheet.items():
        for e, s in SHEET_REF.findall(text):
            assert f"{int(e)}.{s}" in prefixes, (preset, lang, sheet, text)
        lr_notes += "d_output = E × slope_output_layer × lr" in text
    tutorial = run.config.about.get("tutorial")
    assert lr_notes == (len(run.detail) if tutorial == "003" else 0), (preset, tutorial)
    if lang == "en":
        rest = [t for t in by_sheet.values() if "the rest drawn" in t]
        given = set(run.config.init or ())
        assert not rest or not set(run.config.network.parameters()) <= given, preset
    last = wb[names[-1]] if STEP_SHEET.match(names[-1]) else wb[[n for n in names if STEP_SHEET.match(n)][-1]]
    links = [c.hyperlink.location for c in last[NAV + 1] if c.hyperlink]
    assert any(loc.split("!")[0].strip("'") == names[0] for loc in links) and len(links) >= 2
