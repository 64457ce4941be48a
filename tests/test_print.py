"""A workbook that prints (issue 25): the default workbook converted to PDF by LibreOffice, as
its page setup prints it, read back with poppler's ``pdftotext -bbox``: at most two pages per
sheet, and the step sheets' numbers at 8 points or more.

A word's box is as tall as its font's ascent plus descent: 1.30 times the font size for the
Calibri-compatible Carlito LibreOffice prints with (measured on its PDF of the Overview at 100 %:
its 14-point title 18.20 pt tall, its 11-point text 14.30 pt).
"""
import re
import shutil
import subprocess
from collections import defaultdict
from html.parser import HTMLParser

import openpyxl
import pytest

from book import STEP_SHEET
from libreoffice import convert, soffice

BOX = 1.30  # a word's box height over its font size (Carlito)
HEADER_PT = 40  # the page header (the sheet's name) sits above this, the sheet's rows below
NUMBER = re.compile(r"^[−-]?\d+(\.\d+)?(E[+-]\d+)?$")


class Words(HTMLParser):
    """Pages of ``pdftotext -bbox`` output: [[(text, x0, y0, x1, y1)]]."""

    def __init__(self):
        super().__init__()
        self.pages, self._word = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "page":
            self.pages.append([])
        elif tag == "word":
            self._word = [float(a[k]) for k in ("xmin", "ymin", "xmax", "ymax")]

    def handle_data(self, data):
        if self._word is not None:
            self.pages[-1].append((data, *self._word))

    def handle_endtag(self, tag):
        if tag == "word":
            self._word = None


@pytest.fixture(scope="module")
def printed(seed_book, tmp_path_factory):
    """{sheet: [pages, each a list of words]} of the default workbook printed by LibreOffice."""
    soffice()
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    pdf = convert([seed_book], tmp_path_factory.mktemp("print"), "pdf")[0]
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words = Words()
    words.feed(out)
    sheets = defaultdict(list)
    for page in words.pages:  # each page's header names its sheet
        name = " ".join(w[0] for w in sorted(page, key=lambda w: w[1]) if w[4] < HEADER_PT)
        sheets[name].append([w for w in page if w[2] >= HEADER_PT])
    return dict(sheets)


def test_every_sheet_prints_on_at_most_two_pages(printed, seed_book):
    names = openpyxl.load_workbook(seed_book, read_only=True).sheetnames
    assert sorted(printed) == sorted(names)
    pages = {name: len(p) for name, p in printed.items()}
    assert max(pages.values()) <= 2, pages
    assert sum(pages.values()) <= 2 * len(names)


def test_the_step_sheets_numbers_print_at_8_points_or_more(printed):
    sizes = {name: [(w[4] - w[2]) / BOX for page in pages for w in page if NUMBER.match(w[0])]
             for name, pages in printed.items() if STEP_SHEET.match(name)}
    assert len(sizes) == 12 and all(len(s) >= 2 for s in sizes.values()), sizes
    smallest = min(min(s) for s in sizes.values())
    assert smallest >= 8.0, {name: round(min(s), 2) for name, s in sizes.items()}
    # the reading is right: a narrow sheet prints at 100 %, its numbers at the sheet's 11 points
    assert min(sizes["1.01 inputs"]) == pytest.approx(11.0, abs=0.05)
