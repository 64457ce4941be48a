"""Write a Run as an .xlsx workbook (XlsxWriter, constant-memory mode).

Sheets: Overview, one sheet per step of each detailed epoch, History, Trace.
On a step sheet every produced cell is a formula over cells of the same sheet,
written together with the engine's value; the matrices a step reads are local cells
that link to the sheet which produced them. The formulas and the orange cells both
come from ``op.formula`` (see stepviz.ops), so they cannot disagree.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from .config import StepvizError, templates
from .ops import Given

FIXED_TIME = dt.datetime(2024, 1, 1)  # document properties: same run, same bytes
TOP = 5  # first row of the matrices on a step sheet
LEFT = 1  # first column (column A is a margin)


MAX_ROWS, MAX_COLS, MAX_FORMULA = 1_048_576, 16_384, 8_192  # Excel's limits per sheet / formula
WARN_CELLS = 2_000_000  # above this the CLI says how big and slow the workbook will be


class WorkbookError(StepvizError):
    """The workbook cannot be written (path, limits)."""


@dataclass(frozen=True)
class Estimate:
    """The size of a workbook, known from the configuration before any training."""

    sheets: int
    cells: int
    formulas: int

    @property
    def seconds(self) -> float:  # measured: ~25 µs per formula cell, ~4 µs per other cell
        return 25e-6 * self.formulas + 4e-6 * (self.cells - self.formulas)

    @property
    def megabytes(self) -> float:  # measured: ~40 bytes per formula cell, ~13 per number
        return (40 * self.formulas + 13 * (self.cells - self.formulas)) / 1e6


def check_grid(rows: int, cols: int, where: str, fix: str) -> None:
    """Refuse a sheet beyond Excel's grid, saying which option to change."""
    if rows > MAX_ROWS:
        raise WorkbookError(f"{where} would need {rows:,} rows, Excel allows {MAX_ROWS:,}; {fix}")
    if cols > MAX_COLS:
        raise WorkbookError(f"{where} would need {cols:,} columns, Excel allows {MAX_COLS:,}; {fix}")


def estimate(config) -> Estimate:
    """Check every sheet of the workbook of ``config`` against Excel's limits (raising
    WorkbookError with the option to change) and return its size."""
    net = config.network
    steps = net.steps()
    shapes = net.shapes(len(config.X))
    labels = {"X": config.x_labels, "y": config.y_labels}
    n_detail = len(config.detail)
    cells = formulas = 0
    for step in steps:
        lay = Layout(step, shapes, labels)
        right = max(b.col + b.shape[1] for b in lay.blocks.values())
        check_grid(lay.height, right, f"sheet {sheet_name(config.detail[-1], step)!r}",
                   "use fewer samples or smaller layers")
        size = sum(b.shape[0] * b.shape[1] for b in lay.blocks.values())
        computed = sum(b.shape[0] * b.shape[1] for (k, _), b in lay.blocks.items() if k == "out")
        cells += n_detail * size
        formulas += n_detail * (size - (computed if step.given else 0))
        for ci, c in enumerate(step.computes):  # the longest formula: the last cell of each result
            if isinstance(c.op, Given):
                continue
            block = lay.blocks[("out", c.result)]
            f = c.op.formula(block.shape[0] - 1, block.shape[1] - 1, Refs(lay.operands[ci]),
                             [b.shape for b in lay.operands[ci]])
            if len(f) + 1 > MAX_FORMULA:
                raise WorkbookError(f"a formula of {c.result} would have {len(f) + 1:,} characters, Excel "
                                    f"allows {MAX_FORMULA:,}; use smaller layers")
    values = sum(shapes[r][0] * shapes[r][1] for s in steps for r in s.results)
    check_grid(1 + n_detail * values, 6, "the Trace sheet", "detail fewer epochs (workbook.detail)")
    hist_rows = len({*range(1, config.epochs + 1, config.history_every), config.epochs})
    hist_cols = 2 + shapes["output"][0] * shapes["output"][1] + sum(
        shapes[p][0] * shapes[p][1] for p in net.parameters())
    check_grid(1 + hist_rows, hist_cols, "the History sheet",
               "raise workbook.history_every" if hist_rows >= MAX_ROWS else "use smaller layers or fewer samples")
    overview_rows = 40 + len(config.X) + (0 if config.predict is None else len(config.predict)) + n_detail * len(steps)
    check_grid(overview_rows, 2 * shapes["y"][1] + 2, "the Overview sheet", "use fewer samples")
    cells += 6 * (1 + n_detail * values) + hist_rows * hist_cols + overview_rows * 3
    return Estimate(2 + n_detail * len(steps) + 1, cells, formulas)


def style() -> dict:
    """Colours, number format and widths from templates/style.toml."""
    return tomllib.loads(templates().joinpath("style.toml").read_text("utf-8"))


def sheet_name(epoch: int, step) -> str:
    """``1.03 hidden input``: the name of a step sheet (at most 31 characters)."""
    return f"{epoch}.{step.number:02d} {step.title}"[:31]


@dataclass(frozen=True)
class Block:
    """A matrix on a sheet: values start at (row, col); caption one row above."""

    name: str
    caption: str
    top: int  # the caption's row
    row: int
    col: int
    shape: tuple[int, int]

    def cell(self, i: int, j: int) -> tuple[int, int]:
        return self.row + i, self.col + j


class Refs:
    """``ref`` for ``op.formula``: spells A1 references and records the cells read."""

    def __init__(self, blocks: list[Block]):
        self.blocks = blocks
        self.cells: set[tuple[int, int]] = set()

    def __call__(self, k: int, r: int, c: int) -> str:
        cell = self.blocks[k].cell(r, c)
        self.cells.add(cell)
        return xl_rowcol_to_cell(*cell)

    def range(self, k: int, r0: int, c0: int, r1: int, c1: int) -> str:
        b = self.blocks[k]
        self.cells.update(b.cell(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
        return f"{xl_rowcol_to_cell(*b.cell(r0, c0))}:{xl_rowcol_to_cell(*b.cell(r1, c1))}"


class Layout:
    """Where each matrix of a step goes: one band of rows per result, its operands side
    by side on the left, the results aligned in one column on the right."""

    def __init__(self, step, shapes: dict, labels: dict):
        self.blocks: dict[tuple[str, str], Block] = {}
        row = TOP
        # a band per result: ("in", name) blocks not yet on the sheet, then ("out", result);
        # an operand that an earlier result of the step produced is read from that result
        bands, reads = [], []
        if step.given:
            bands.append([("out", r) for r in step.results])
        else:
            produced: set[str] = set()
            placed: set[tuple[str, str]] = set()
            for c in step.computes:
                keys = [("out", o) if o in produced else ("in", o) for o in c.operands]
                reads.append(keys)
                band = [k for k in dict.fromkeys(keys) if k not in placed and k[0] == "in"]
                placed.update(band)
                bands.append(band + [("out", c.result)])
                produced.add(c.result)
        width = lambda keys: sum(shapes[n][1] + 1 for _, n in keys)  # noqa: E731
        result_col = LEFT + max((width(b[:-1]) for b in bands), default=0) if not step.given else LEFT
        for band in bands:
            col = LEFT
            label_row = any(labels.get(n) for _, n in band)
            for kind, name in band:
                if kind == "out" and not step.given:
                    col = result_col
                shape = shapes[name]
                caption = f"{name}  ({shape[0]}×{shape[1]})"
                if kind == "out" and any(k == ("in", name) for b in bands for k in b):
                    caption = f"{name} updated  ({shape[0]}×{shape[1]})"
                self.blocks[(kind, name)] = Block(name, caption, row, row + 1 + label_row, col, shape)
                col += shape[1] + 1
            row += 1 + label_row + max(shapes[n][0] for _, n in band) + 1
        self.height = row
        self.operands = [[self.blocks[k] for k in keys] for keys in reads]  # per compute


class _Sheet:
    """Cells of one sheet, collected and then written in row order (constant memory)."""

    def __init__(self):
        self.cells: dict[tuple[int, int], tuple] = {}

    def put(self, r, c, kind, *args):
        self.cells[(r, c)] = (kind, *args)

    def flush(self, ws):
        for (r, c) in sorted(self.cells):
            kind, *args = self.cells[(r, c)]
            rc = getattr(ws, "write_" + kind)(r, c, *args)
            if rc not in (0, None):
                raise WorkbookError(f"sheet {ws.name!r}: cell {xl_rowcol_to_cell(r, c)} could not be "
                                    f"written (XlsxWriter returned {rc})")


class _Writer:
    def __init__(self, run, wb: xlsxwriter.Workbook):
        self.run, self.wb = run, wb
        s = style()
        self.style = s
        box = {"border": 1, "border_color": s["border"], "num_format": s["number_format"]}
        self.f_num = wb.add_format(box)
        self.f_focus = wb.add_format({**box, "bg_color": "#" + s["focus"], "pattern": 1})
        self.f_source = wb.add_format({**box, "bg_color": "#" + s["source"], "pattern": 1})
        self.f_plain = wb.add_format({"num_format": s["number_format"]})
        self.f_full = wb.add_format({"num_format": "General"})
        self.f_left = wb.add_format({"num_format": "General", "align": "left"})
        self.f_title = wb.add_format({"bold": True, "font_size": 14})
        self.f_bold = wb.add_format({"bold": True})
        self.f_caption = wb.add_format({"bold": True, "font_color": s["caption"]})
        self.f_label = wb.add_format({"italic": True, "font_color": s["caption"], "align": "center"})
        self.f_words = wb.add_format({"italic": True})
        self.f_link = wb.add_format({"font_color": "blue", "underline": 1})
        self.f_legend_focus = wb.add_format({"bg_color": "#" + s["focus"], "pattern": 1, "border": 1})
        self.f_legend_source = wb.add_format({"bg_color": "#" + s["source"], "pattern": 1, "border": 1})
        cfg = run.config
        self.labels = {"X": cfg.x_labels, "y": cfg.y_labels}
        self.layouts = {s.number: Layout(s, run.shapes, self.labels) for s in run.steps}
        self.lr_cell = None  # set by the overview
        self.parameters = set(cfg.network.parameters())
        self.first, self.last = cfg.network.producers()
        self._formulas = {}

    # -- helpers -----------------------------------------------------------------
    def link_prefix(self, epoch, step, name) -> tuple[str, Block]:
        """("='sheet'!", block): where ``name`` produced by ``step`` in ``epoch`` lives."""
        return "=" + quote_sheetname(sheet_name(epoch, step)) + "!", self.layouts[step.number].blocks[("out", name)]

    def focus(self, block) -> tuple[int, int]:
        """The yellow cell of a result: the configured focus, clamped to the matrix."""
        focus = self.run.config.focus
        return block.cell(min(focus[0], block.shape[0]) - 1, min(focus[1], block.shape[1]) - 1)

    @staticmethod
    def put_block(cells, block, value, link):
        """A matrix of numbers, or of links to the same matrix on another sheet."""
        rows = value.tolist()
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                f = None if link is None else link[0] + xl_rowcol_to_cell(*link[1].cell(i, j))
                cells[block.cell(i, j)] = (f, v)

    def formulas(self, step):
        """{cell: formula} of a step's computed results, and the cells the focus cells read.
        Computed once per step: the layout, and so every reference, is the same in each epoch."""
        if step.number in self._formulas:
            return self._formulas[step.number]
        lay = self.layouts[step.number]
        formulas, sources = {}, set()
        for ci, c in enumerate(step.computes):
            if isinstance(c.op, Given):
                continue
            block = lay.blocks[("out", c.result)]
            operands = lay.operands[ci]
            shapes = [b.shape for b in operands]
            for i in range(block.shape[0]):
                for j in range(block.shape[1]):
                    ref = Refs(operands)
                    formulas[block.cell(i, j)] = "=" + c.op.formula(i, j, ref, shapes)
                    if block.cell(i, j) == self.focus(block):
                        sources |= ref.cells
        self._formulas[step.number] = formulas, sources
        return formulas, sources

    # -- sheets --------------------------------------------------------------------
    def write(self, progress=None):
        run, wb = self.run, self.wb
        overview = wb.add_worksheet("Overview")
        sheets = [(e, s, wb.add_worksheet(sheet_name(e, s))) for e in run.detail for s in run.steps]
        self.sheet_names = [ws.name for _, _, ws in sheets]  # in order, for the navigation links
        history = wb.add_worksheet("History")
        trace = wb.add_worksheet("Trace")
        self.write_overview(overview)
        for e, s, ws in sheets:
            self.write_step(ws, e, s)
            if progress:
                progress(1)
        self.write_history(history)
        self.write_trace(trace)

    def write_step(self, ws, epoch, step):
        run, lay, sh = self.run, self.layouts[step.number], _Sheet()
        detail = run.detail
        n_steps = len(run.steps)
        sh.put(0, 0, "string", f"Epoch {epoch} · step {step.number} of {n_steps} · {step.title}", self.f_title)
        sh.put(1, 0, "string", ";   ".join(c.words for c in step.computes), self.f_words)
        sh.put(2, 0, "string", "yellow: the cell being computed · orange: the cells its formula reads · "
               "inputs link to the sheet that produced them; edit lr on Overview", None)
        nav = [("Overview", "Overview")]
        names = self.sheet_names
        k = detail.index(epoch) * n_steps + step.number - 1
        if k > 0:
            nav.insert(0, ("← " + names[k - 1], names[k - 1]))
        if k + 1 < len(names):
            nav.append((names[k + 1] + " →", names[k + 1]))
        for col, (text, target) in enumerate(nav):
            sh.put(3, 1 + 4 * col, "url", f"internal:{quote_sheetname(target)}!A1", self.f_link, text)

        focus_cells = set()
        for (kind, name), block in lay.blocks.items():
            sh.put(block.top, block.col, "string", block.caption, self.f_caption)
            for j, label in enumerate(self.labels.get(name) or ()):
                sh.put(block.row - 1, block.col + j, "string", label, self.f_label)
            if kind == "out":
                focus_cells.add(self.focus(block))

        cells = {}  # (r, c) -> (formula or None, value)
        # inputs: links to the producing sheet (lr: to the Overview)
        for (kind, name), block in lay.blocks.items():
            if kind != "in":
                continue
            if name == "lr":
                cells[block.cell(0, 0)] = (f"={self.lr_cell}", run.config.lr)
                continue
            producer = self.first[name]
            self.put_block(cells, block, run.value(epoch, producer.number, name),
                           self.link_prefix(epoch, producer, name))
        # results
        first = epoch == detail[0]
        formulas, source_cells = self.formulas(step)  # the same in every epoch
        for c in step.computes:
            block = lay.blocks[("out", c.result)]
            value = run.value(epoch, step.number, c.result)
            if isinstance(c.op, Given):
                # editable numbers in the first detailed epoch; later, links: the data to the
                # first epoch's, a parameter to the previous epoch's update when it is detailed
                src = None
                if c.result in self.parameters:
                    if epoch - 1 in detail:
                        src = (epoch - 1, self.last[c.result])
                elif not first:
                    src = (detail[0], step)
                self.put_block(cells, block, value, src and self.link_prefix(*src, c.result))
                continue
            for i, row in enumerate(value.tolist()):
                for j, v in enumerate(row):
                    rc = block.cell(i, j)
                    cells[rc] = (formulas[rc], v)
        source_cells = source_cells - focus_cells
        for rc, (formula, value) in cells.items():
            fmt = self.f_focus if rc in focus_cells else self.f_source if rc in source_cells else self.f_num
            if formula is None:
                sh.put(*rc, "number", value, fmt)
            else:
                sh.put(*rc, "formula", formula, fmt, value)
        ws.set_column(0, 0, 2)
        ws.set_column(1, 60, self.style["column_width"])
        for block in lay.blocks.values():  # columns under a long label get wider
            for j, label in enumerate(self.labels.get(block.name) or ()):
                if len(label) + 1 > self.style["column_width"]:
                    ws.set_column(block.col + j, block.col + j, min(len(label) + 1, 40))
        # print (and PDF-render) the whole step, captions and the long text lines included
        chars = lambda text: 1 + len(text) // self.style["column_width"]  # noqa: E731
        right = max([b.col + max(b.shape[1], chars(b.caption)) for b in lay.blocks.values()]
                    + [chars(v[1]) for (r, _), v in sh.cells.items() if r < 3])
        ws.print_area(0, 0, lay.height, right)
        sh.put(0, right, "string", " ", None)  # LibreOffice crops a one-page PDF to used cells
        ws.fit_to_pages(1, 1)
        ws.set_landscape()
        sh.flush(ws)

    def write_overview(self, ws):
        run, cfg, sh = self.run, self.run.config, _Sheet()
        net = cfg.network
        sh.put(0, 0, "string", f"stepviz · {cfg.name}", self.f_title)
        sh.put(1, 0, "string", "Backpropagation step by step: one sheet per step of each detailed epoch.", None)
        sh.put(2, 0, "string", "Every computed cell is a live formula: edit lr below, or X, y and the start "
               "values on the first epoch's sheets, and the whole chain recomputes.", None)
        rows = [
            ("network", net.describe()),
            ("layers", "inputs " + " → ".join(str(s) for s in (net.inputs, *net.hidden, net.outputs)) + " outputs"),
            ("samples", len(cfg.X)),
            ("lr", cfg.lr),
            ("epochs", cfg.epochs),
            ("seed", cfg.seed if not cfg.init else f"{cfg.seed} (given: {', '.join(cfg.init)})"),
            ("detailed epochs", ", ".join(map(str, cfg.detail))),
            ("history every", f"{cfg.history_every} epoch(s)"),
            ("loss", "½·ΣE²" if net.loss == "error" else "ΣE² (gradient 2E)"),
            ("final loss", run.loss),
        ]
        r = 4
        sh.put(r, 0, "string", "Settings", self.f_bold)
        for key, value in rows:
            r += 1
            sh.put(r, 0, "string", key, None)
            if isinstance(value, str):
                sh.put(r, 1, "string", value, None)
            else:
                sh.put(r, 1, "number", value, self.f_left)
            if key == "lr":
                self.lr_cell = f"Overview!{xl_rowcol_to_cell(r, 1, row_abs=True, col_abs=True)}"
                sh.put(r, 2, "string", "← edit to recompute every detailed epoch", self.f_words)
        r += 2
        sh.put(r, 0, "string", "Colours", self.f_bold)
        sh.put(r + 1, 0, "blank", None, self.f_legend_focus)
        sh.put(r + 1, 1, "string", "the cell being computed (the focus of each result)", None)
        sh.put(r + 2, 0, "blank", None, self.f_legend_source)
        sh.put(r + 2, 1, "string", "the cells its formula reads", None)
        r += 4
        sh.put(r, 0, "string", "Predictions (last epoch) vs targets", self.f_bold)
        r += 1
        k = cfg.y.shape[1]
        ylab = cfg.y_labels or tuple(f"y{j + 1}" if k > 1 else "y" for j in range(k))
        sh.put(r, 0, "string", "sample", self.f_caption)
        for j in range(k):
            sh.put(r, 1 + j, "string", f"target {ylab[j]}", self.f_caption)
            sh.put(r, 1 + k + j, "string", f"output {ylab[j]}", self.f_caption)
        for i in range(len(cfg.X)):
            r += 1
            sh.put(r, 0, "number", i + 1, self.f_left)
            for j in range(k):
                sh.put(r, 1 + j, "number", float(cfg.y[i, j]), self.f_plain)
                sh.put(r, 1 + k + j, "number", float(run.output[i, j]), self.f_plain)
        if cfg.predict is not None:
            r += 2
            sh.put(r, 0, "string", "New inputs (data.predict) and their predictions after training", self.f_bold)
            pred = run.predict(cfg.predict)
            d = cfg.predict.shape[1]
            for i in range(len(cfg.predict)):
                r += 1
                for j in range(d):
                    sh.put(r, j, "number", float(cfg.predict[i, j]), self.f_full)
                for j in range(k):
                    sh.put(r, d + 1 + j, "number", float(pred[i, j]), self.f_full)
        r += 2
        sh.put(r, 0, "string", "Steps", self.f_bold)
        for e in run.detail:
            for s in run.steps:
                r += 1
                name = sheet_name(e, s)
                sh.put(r, 0, "url", f"internal:{quote_sheetname(name)}!A1", self.f_link, name)
                sh.put(r, 2, "string", ";   ".join(c.words for c in s.computes), None)
        r += 1
        sh.put(r + 1, 0, "url", "internal:History!A1", self.f_link, "History")
        sh.put(r + 1, 2, "string", "loss, outputs and parameters per recorded epoch, with a chart", None)
        sh.put(r + 2, 0, "url", "internal:Trace!A1", self.f_link, "Trace")
        sh.put(r + 2, 2, "string", "every value of the detailed epochs: epoch, step, name, row, col, value", None)
        ws.set_column(0, 0, 22)
        ws.set_column(1, 1, 16)
        ws.set_column(2, 12, 12)
        sh.put(0, 9, "string", " ", None)  # LibreOffice crops a one-page PDF to used cells
        sh.flush(ws)

    def write_history(self, ws):
        header, data = self.run.history_table()
        check = _checker(ws)
        for j, h in enumerate(header):
            check(ws.write_string(0, j, h, self.f_bold), 0, j)
        table = data.tolist()
        for i, row in enumerate(table, 1):
            check(ws.write_number(i, 0, row[0]), i, 0)
            for j in range(1, len(row)):
                check(ws.write_number(i, j, row[j], self.f_full), i, j)
        m = len(table)
        chart = self.wb.add_chart({"type": "line"})
        chart.add_series({"name": "loss", "categories": ["History", 1, 0, m, 0],
                          "values": ["History", 1, 1, m, 1]})
        chart.set_title({"name": "Loss per epoch"})
        chart.set_x_axis({"name": "epoch"})
        chart.set_y_axis({"name": "loss"})
        chart.set_legend({"none": True})
        ws.insert_chart(1, len(header) + 1, chart)
        ws.freeze_panes(1, 1)

    def write_trace(self, ws):
        check = _checker(ws)
        for j, h in enumerate(("epoch", "step", "name", "row", "col", "value")):
            check(ws.write_string(0, j, h, self.f_bold), 0, j)
        r = 1
        for epoch, step, name, a in self.run.records():
            for (i, j), v in zip(_indices(a.shape), a.ravel().tolist()):
                check(ws.write_number(r, 0, epoch), r, 0)
                ws.write_number(r, 1, step)
                ws.write_string(r, 2, name)
                ws.write_number(r, 3, i)
                ws.write_number(r, 4, j)
                ws.write_number(r, 5, v, self.f_full)
                r += 1
        ws.freeze_panes(1, 0)


def _indices(shape):
    return [(i, j) for i in range(shape[0]) for j in range(shape[1])]


def _checker(ws):
    def check(rc, r, c):
        if rc not in (0, None):
            raise WorkbookError(f"sheet {ws.name!r}: cell {xl_rowcol_to_cell(r, c)} could not be "
                                f"written (XlsxWriter returned {rc})")
    return check


def check_destination(path) -> Path:
    """Refuse an output path that cannot be written, before any work is done."""
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise WorkbookError(f"{path}: is a directory; give a file name like {path / 'run.xlsx'}")
    if not folder.is_dir():
        raise WorkbookError(f"{folder}: no such folder for the output")
    if not os.access(folder, os.W_OK):
        raise WorkbookError(f"{folder}: folder is not writable")
    return path


def write_workbook(run, path, *, progress=None) -> Path:
    """Write ``run`` to ``path`` through a temporary file in the same folder, then rename.

    Excel's limits are checked first (WorkbookError names the option to change); nothing
    is left at ``path`` or beside it if writing fails or is interrupted. ``progress`` is
    called with 1 after each step sheet.
    """
    path = check_destination(path)
    estimate(run.config)
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise WorkbookError(f"{folder}: cannot write here ({e.strerror})") from None
    os.close(fd)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a workbook is an ordinary file
        wb = xlsxwriter.Workbook(tmp, {"constant_memory": True, "strings_to_formulas": False,
                                       "strings_to_urls": False})
        wb.set_properties({"title": f"stepviz · {run.config.name}", "author": "stepviz",
                           "created": FIXED_TIME, "comments": "generated by stepviz"})
        for key, value in settings(run).items():  # read back by `stepviz doctor`
            wb.set_custom_property(f"stepviz_{key}", value)
        _Writer(run, wb).write(progress)
        wb.close()
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise WorkbookError(f"{path}: cannot write ({e.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def settings(run) -> dict[str, str]:
    """What a workbook was made from, stored in its document properties."""
    from . import __version__

    cfg = run.config
    return {"version": __version__, "name": cfg.name, "network": cfg.network.describe(),
            "samples": str(len(cfg.X)), "lr": repr(cfg.lr), "epochs": str(cfg.epochs),
            "seed": str(cfg.seed), "detail": ", ".join(map(str, cfg.detail)),
            "final_loss": repr(run.loss)}
