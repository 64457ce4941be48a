"""Reading a stepviz workbook the way a user's tools see it (openpyxl), for the tests."""
import re
from dataclasses import dataclass, field

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

YELLOW, ORANGE = "FFFF00", "FFC000"
GOLD = "D883FF"  # both marks (violet since issue 25): a focus cell that another formula of its sheet reads
# a same-sheet reference (not preceded by "Sheet!") and an optional range end
REF = re.compile(r"(?<![!\w$'.])\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?(?![\w(!])")
CAPTION = re.compile(r"^(\w+?)(ᵀ)?( updated)?  \((\d+)×(\d+)\)$")
STEP_SHEET = re.compile(r"^(\d+)\.(?:(\d+)\.)?(\d{2,}) ")  # 1.03 ..., with mini-batches 1.2.03 ...


def refs(formula: str) -> set[tuple[int, int]]:
    """(row, col) 1-based of every same-sheet cell a formula reads (ranges expanded)."""
    cells = set()
    formula = re.sub(r'"[^"]*"', '""', formula)  # not inside string literals
    for c0, r0, c1, r1 in REF.findall(formula):
        c0, r0 = column_index_from_string(c0), int(r0)
        c1, r1 = (column_index_from_string(c1), int(r1)) if c1 else (c0, r0)
        cells |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    return cells


@dataclass(frozen=True)
class Block:
    name: str
    updated: bool
    transposed: bool
    top_left: tuple[int, int]  # 1-based (row, col) of the first value
    rows: int
    cols: int
    linked: bool  # an operand copy: its caption links to where it was made
    caption: tuple[int, int]

    def cells(self):
        r, c = self.top_left
        return [(r + i, c + j) for i in range(self.rows) for j in range(self.cols)]


@dataclass
class StepSheet:
    title: str
    epoch: int
    step: int
    formulas: dict = field(default_factory=dict)  # (r, c) -> formula text
    values: dict = field(default_factory=dict)  # (r, c) -> cached value
    blocks: list = field(default_factory=list)
    locked: dict = field(default_factory=dict)  # (r, c) -> bool
    protected: bool = False
    batch: int | None = None  # mini-batches: the batch of the epoch
    links: dict = field(default_factory=dict)  # (r, c) -> hyperlink location

    def update(self, config) -> int:
        """The sheet's update counted over the run (the epoch, when an epoch is one batch)."""
        return self.epoch if self.batch is None else (self.epoch - 1) * config.batches + self.batch

    def matrix(self, block):
        r, c = block.top_left
        return [[self.values[(r + i, c + j)] for j in range(block.cols)] for i in range(block.rows)]

    def block(self, name, updated=None, linked=None):
        return next(b for b in self.blocks if b.name == name and (updated is None or b.updated == updated)
                    and (linked is None or b.linked == linked))

    def line_of(self, block):
        """The arithmetic line of a result: the text formula cell at the left margin (column B)
        under its band's blocks, the first one below the result's values."""
        r, c = block.top_left
        row = r + block.rows
        while not ((row, 2) in self.formulas and isinstance(self.values.get((row, 2)), str)):
            row += 1
            assert row < r + block.rows + 100, f"no arithmetic line below {block.name}"
        return (row, 2)


def focus_cells(ws) -> list[str]:
    """The coordinates of a step sheet's two focus cells (row 6, unlocked, right of their
    label); [] on a sheet without a focus."""
    return [c.coordinate for c in ws[6] if c.column > 1 and c.protection.locked is False and c.value is not None]


def step_sheets(path):
    wf = openpyxl.load_workbook(path)  # formulas and styles
    wv = openpyxl.load_workbook(path, data_only=True)  # cached values
    out = []
    for ws in wf.worksheets:
        m = STEP_SHEET.match(ws.title)
        if not m:
            continue
        s = StepSheet(ws.title, int(m.group(1)), int(m.group(3)), protected=bool(ws.protection.sheet),
                      batch=None if m.group(2) is None else int(m.group(2)))
        vs = wv[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                key = (cell.row, cell.column)
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    s.formulas[key] = cell.value
                elif cell.value is not None and type(cell.value).__name__ == "ArrayFormula":
                    s.formulas[key] = "=" + cell.value.text.lstrip("=")
                if cell.value is not None:
                    s.values[key] = vs.cell(*key).value
                    s.locked[key] = cell.protection.locked
                if cell.hyperlink:
                    s.links[key] = cell.hyperlink.location
        for key, text in list(s.values.items()):
            cap = CAPTION.match(text) if isinstance(text, str) else None
            if not cap or key in s.formulas:
                continue
            r, c = key
            # values start on the first row below the caption that holds a number, in the
            # caption's column or the next (a transposed block's row names come first)
            r += 1
            while not any(isinstance(s.values.get((r, cc)), (int, float)) for cc in (c, c + 1)):
                r += 1
                assert r < key[0] + 4, f"{ws.title}: no numbers under the caption {text!r} (no cached values?)"
            if not isinstance(s.values.get((r, c)), (int, float)):
                c += 1
            s.blocks.append(Block(cap.group(1), bool(cap.group(3)), bool(cap.group(2)), (r, c),
                                  int(cap.group(4)), int(cap.group(5)), key in s.links, key))
        out.append(s)
    return out


def cell_name(rc):
    return f"{get_column_letter(rc[1])}{rc[0]}"


def dump(path, pattern=STEP_SHEET) -> str:
    """A golden text of the sheets whose names match: every cell's formula (or value) and its
    cached value, numbers at full precision (``repr``), number format and protection, in order.
    Compare two with ``same_dump``: numbers to a tight relative tolerance, the rest exactly."""
    wf = openpyxl.load_workbook(path)
    wv = openpyxl.load_workbook(path, data_only=True)
    lines = []
    for ws in wf.worksheets:
        if not pattern.match(ws.title):
            continue
        lines.append(f"[{ws.title}]")
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None and not c.has_style:
                    continue
                if type(v).__name__ == "ArrayFormula":
                    v = "{" + v.text + "}"
                cached = wv[ws.title][c.coordinate].value
                if isinstance(v, float):
                    v = repr(v)
                if isinstance(cached, float):
                    cached = repr(cached)
                lock = "" if c.protection.locked else " unlocked"
                lines.append(f"{c.coordinate}\t{v}\t{cached}\t{c.number_format}{lock}")
    return "\n".join(lines) + "\n"


# numpy's SIMD kernels (AVX2, AVX-512, ...) may round the last bit differently on another
# CPU, and 50 epochs carry that to a few parts in 1e15; any real change is far above this
GOLDEN_REL = 1e-12


NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _number(s: str):
    return float(s) if NUMBER.fullmatch(s) else None


def same_dump(got: str, want: str, rel: float = GOLDEN_REL) -> list[str]:
    """The differences between two ``dump`` texts, [] when they are the same: every field
    equal, except that two numbers may differ by ``rel`` relative (a CPU's last bits)."""
    a, b = got.splitlines(), want.splitlines()
    out = [] if len(a) == len(b) else [f"{len(a)} lines, expected {len(b)}"]
    for n, (x, y) in enumerate(zip(a, b), 1):
        fx, fy = x.split("\t"), y.split("\t")
        if len(fx) != len(fy):
            out.append(f"line {n}: {x!r} != {y!r}")
            continue
        # a gradient check's estimate (L(w+h) − L(w−h))/(2h) and relative difference multiply the
        # losses' last bits by about 10⁶: noise, compared as test_achieved compares them
        noisy = "/MAX(ABS(" in x or "/(2*" in x
        for u, w in zip(fx, fy):
            if u == w:
                continue
            nu, nw = _number(u), _number(w)
            if nu is None or nw is None or abs(nu - nw) > (
                    max(1e-6 * max(abs(nu), abs(nw)), 1e-6 if "/MAX(ABS(" in x else 0) if noisy
                    else rel * max(abs(nu), abs(nw))):
                out.append(f"line {n}: {x!r} != {y!r}")
                break
    return out
