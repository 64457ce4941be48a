"""Reading a stepviz workbook the way a user's tools see it (openpyxl), for the tests."""
import re
from dataclasses import dataclass, field

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

YELLOW, ORANGE = "FFFF00", "FFC000"
# a same-sheet reference (not preceded by "Sheet!") and an optional range end
REF = re.compile(r"(?<![!\w$'.])\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?(?![\w(!])")
CAPTION = re.compile(r"^(\w+)( updated)?  \((\d+)×(\d+)\)$")
STEP_SHEET = re.compile(r"^(\d+)\.(\d{2,}) ")


def refs(formula: str) -> set[tuple[int, int]]:
    """(row, col) 1-based of every same-sheet cell a formula reads (ranges expanded)."""
    cells = set()
    for c0, r0, c1, r1 in REF.findall(formula):
        c0, r0 = column_index_from_string(c0), int(r0)
        c1, r1 = (column_index_from_string(c1), int(r1)) if c1 else (c0, r0)
        cells |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    return cells


def fill(cell) -> str | None:
    f = cell.fill
    if f is None or f.fill_type != "solid":
        return None
    return (f.fgColor.rgb or "")[-6:].upper()


@dataclass
class StepSheet:
    title: str
    epoch: int
    step: int
    formulas: dict = field(default_factory=dict)  # (r, c) -> formula text
    values: dict = field(default_factory=dict)  # (r, c) -> cached value
    fills: dict = field(default_factory=dict)  # (r, c) -> "FFFF00" / "FFC000"
    blocks: list = field(default_factory=list)  # (name, updated, top-left (r, c), rows, cols)

    def matrix(self, block):
        name, updated, (r, c), rows, cols = block
        return [[self.values[(r + i, c + j)] for j in range(cols)] for i in range(rows)]


def step_sheets(path):
    wf = openpyxl.load_workbook(path)  # formulas and styles
    wv = openpyxl.load_workbook(path, data_only=True)  # cached values
    out = []
    for ws in wf.worksheets:
        m = STEP_SHEET.match(ws.title)
        if not m:
            continue
        s = StepSheet(ws.title, int(m.group(1)), int(m.group(2)))
        vs = wv[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                key = (cell.row, cell.column)
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    s.formulas[key] = cell.value
                if cell.value is not None:
                    s.values[key] = vs.cell(*key).value
                if fill(cell):
                    s.fills[key] = fill(cell)
                cap = CAPTION.match(cell.value) if isinstance(cell.value, str) else None
                if cap:
                    # values start on the first row below the caption that holds a number
                    r = cell.row + 1
                    while not isinstance(vs.cell(r, cell.column).value, (int, float)):
                        r += 1
                    s.blocks.append((cap.group(1), bool(cap.group(2)), (r, cell.column),
                                     int(cap.group(3)), int(cap.group(4))))
        out.append(s)
    return out


def cell_name(rc):
    return f"{get_column_letter(rc[1])}{rc[0]}"
