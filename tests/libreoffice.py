"""Recalculate workbooks in LibreOffice headless (a throwaway profile that forces
recalculation on load; without it LibreOffice keeps the cached values)."""
import os
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
# LibreOffice 7.4's multi-threaded calculation of formula groups miscomputes long columns of
# the Training sheet of a mini-batch network (a cell becomes #VALUE!, see docs/learner.md);
# with this item LibreOffice calculates on one thread, as Tools ▸ Options ▸ Calc ▸ Calculate
# ▸ "Enable multi-threaded calculation" unticked does.
THREADS_OFF = ('<item oor:path="/org.openoffice.Office.Calc/Formula/Calculation">'
               '<prop oor:name="UseThreadedCalculationForFormulaGroups" oor:op="fuse"><value>false</value></prop></item>\n')


def _profile(workdir: Path, threaded: bool) -> Path:
    profile = workdir / ("profile" if threaded else "profile-one-thread")
    (profile / "user").mkdir(parents=True, exist_ok=True)
    text = PROFILE if threaded else PROFILE.replace("</oor:items>", THREADS_OFF + "</oor:items>")
    (profile / "user" / "registrymodifications.xcu").write_text(text)
    return profile


def soffice() -> str:
    """Path of soffice, or skip (fail under STEPVIZ_REQUIRE_LIBREOFFICE=1, as in CI)."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        if os.environ.get("STEPVIZ_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice (soffice) is required here but not installed")
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-calc-nogui)")
    return path


def recalculate(files: list[Path], workdir: Path, threaded: bool = True) -> list[Path]:
    """Open each file in LibreOffice, recalculate everything, save as xlsx; one soffice start.
    ``threaded=False``: with multi-threaded calculation off (``THREADS_OFF``)."""
    profile = _profile(workdir, threaded)
    out = workdir / ("recalculated" if threaded else "recalculated-one-thread")
    out.mkdir(exist_ok=True)
    result = subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--norestore", "--nologo", "--nodefault", "--nolockcheck",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), *map(str, files)],
        capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    # soffice exits 0 even when it could not load a file: check what it said and wrote
    assert result.returncode == 0 and "Error" not in log, log
    done = [out / f.name for f in files]
    assert all(p.is_file() and p.stat().st_size > 0 for p in done), log
    return done


def convert(files: list[Path], workdir: Path, to: str) -> list[Path]:
    """Open each file in LibreOffice, recalculate everything, and save it as ``to`` (xlsx,
    html, or pdf: printed as the workbook's page setup says), in one soffice start."""
    filters = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "html": "html", "pdf": "pdf:calc_pdf_Export"}
    profile = _profile(workdir, True)
    out = workdir / f"recalculated-{to}"
    out.mkdir(exist_ok=True)
    result = subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--norestore", "--nologo", "--nodefault", "--nolockcheck",
         "--convert-to", filters[to], "--outdir", str(out), *map(str, files)],
        capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0 and "Error" not in log, log
    done = [out / (f.stem + "." + to) for f in files]
    assert all(p.is_file() and p.stat().st_size > 0 for p in done), log
    return done


@dataclass
class Seen:
    """One cell as LibreOffice shows it: its text (number format applied), its background
    (conditional formats included), its value and its link."""

    text: str
    bg: str | None
    value: float | None
    href: str | None


class _Tables(HTMLParser):
    """LibreOffice's HTML export: one table per sheet, headed ``Sheet N: <em>name</em>``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sheets: dict[str, dict[tuple[int, int], Seen]] = {}
        self.name = None
        self._em = False
        self._cell = None
        self._h1 = ""
        self.row = -1
        self.col = 0
        self.taken: set[tuple[int, int]] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h1":
            self._h1 = ""
        elif tag == "em":
            self._em = True
        elif tag == "table" and self.name is not None:
            self.sheets[self.name] = {}
            self.row, self.taken = -1, set()
        elif tag == "tr":
            self.row += 1
            self.col = 0
        elif tag == "td" and self.name in self.sheets:
            while (self.row, self.col) in self.taken:
                self.col += 1
            span_r, span_c = int(a.get("rowspan", 1)), int(a.get("colspan", 1))
            for dr in range(span_r):
                for dc in range(span_c):
                    self.taken.add((self.row + dr, self.col + dc))
            value = a.get("sdval")
            self._cell = Seen("", (a.get("bgcolor") or "").upper().lstrip("#") or None,
                              float(value) if value not in (None, "") else None, None)
            self.sheets[self.name][(self.row, self.col)] = self._cell
            self.col += span_c
        elif tag == "a" and self._cell is not None and "href" in a:
            self._cell.href = a["href"]

    def handle_endtag(self, tag):
        if tag == "em":
            self._em = False
        elif tag == "td":
            self._cell = None
        elif tag == "table":
            self.name = None

    def handle_data(self, data):
        if self._em:
            self._h1 += data
            self.name = self._h1
        elif self._cell is not None:
            self._cell.text += data


def read_html(path: Path) -> dict[str, dict[tuple[int, int], Seen]]:
    """{sheet name: {(row, col) 0-based: Seen}} of a LibreOffice HTML export."""
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    for cells in parser.sheets.values():
        for seen in cells.values():
            seen.text = seen.text.strip("\n\t") if seen.text.strip() else ""
    return parser.sheets
