"""The Training sheet: the whole training as live formulas, one row per update.

Each row is one update of the step table (stepviz.formulas.Row): the parameters and the
optimizer's state it starts from, its loss, output and the values its formulas share; the
updated parameters are the next row's start values. The first row starts from step 2 of
the first detailed epoch (links) and every row reads lr on the Overview, so an edit there
recomputes the whole training. Its cached values are the engine's (stepviz.engine.training_values).

A run too large for a live sheet (``live_epochs``: at most LIVE_CELLS formula cells by
default) has its first updates live; later rows hold values from training, one per
recorded epoch, marked as such; the last row is the parameters after training.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape
from functools import cached_property

import numpy as np
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell

from ..display import shown
from ..formulas import Row
from . import printing
from .core import WorkbookError, absolute, check

TITLE, NOTE, DIVERGED, HEADER, FIRST = 0, 1, 2, 4, 5  # rows; FIRST: the first update's
EPOCH, LOSS = 0, 1  # columns
# The default budget of live formula cells, measured (benchmarks/RESULTS.md): the default
# workbook's 220,000 (5,000 epochs of 44) recompute in LibreOffice in about 2x the time of
# the workbook without them; xor's 460,000 in about 3x. A larger run is live for as many
# updates as fit.
LIVE_CELLS = 500_000
# and at most this many characters of formulas (LibreOffice's time grows with both): the
# Adam preset's 41 million (5,000 epochs of 83 cells) are the most a preset keeps live
LIVE_CHARS = 45_000_000
PRINT_ROWS = 45  # the first page: a long sheet prints only it


def row_columns(config) -> int:
    """Formula cells of one row of the Training sheet (one update)."""
    from ..formulas import kept

    net = config.network
    shapes = net.shapes(config.batch)
    names = {"loss", *net.parameters(), *net.state(), *kept(net, shapes)}
    return sum(shapes[n][0] * shapes[n][1] for n in names)


def live_updates(config) -> int:
    """How many updates the Training sheet writes as live formulas: ``live_epochs`` epochs
    (None: as many whole epochs as the budget allows, at least one), never more than the run
    has; 0 when there is no Training sheet (an exercise, live_epochs = 0, or by default a
    row beyond Excel's columns or formula length)."""
    live = config.live_epochs
    if config.exercise or live == 0:  # an exercise: its first row would show every answer of epoch 1
        return 0
    cells, chars, problem = row_size(config)
    if problem:
        if live is not None:
            raise WorkbookError(f"the Training sheet {problem}; set workbook.live_epochs = 0 (--live-epochs 0) "
                                "or use fewer samples or smaller layers")
        return 0
    if live is None:
        fit = min(LIVE_CELLS // (cells * config.batches), LIVE_CHARS // (chars * config.batches))
        live = config.epochs if fit >= config.epochs else max(1, fit)
    return min(config.epochs, live) * config.batches


def row_size(config) -> tuple[int, int, str]:
    """(formula cells, formula characters, problem) of one Training row: the problem that
    keeps it from fitting Excel's limits ("" when it fits), its columns (with the data block
    beside them) or its longest formula (row numbers up to 7 digits)."""
    from ..ops import Given
    from ..terms import cells as read_cells
    from ..limits import MAX_COLS, MAX_FORMULA

    cells = row_columns(config)
    cols = 1 + cells + 1 + config.X.shape[1] + config.y.shape[1]
    if cols > MAX_COLS:
        return cells, 0, f"would need {cols:,} columns, Excel allows {MAX_COLS:,}"
    net = config.network
    shapes = net.shapes(config.batch)
    reads = max(len(read_cells(c.op.spell(0, 0, c.op.shown([shapes[o] for o in c.operands]))))
                for s in net.steps() for c in s.computes if not isinstance(c.op, Given))
    if 8 * reads > MAX_FORMULA:  # a sum over every sample, written out: refused before it is built
        return cells, 0, f"would have formulas of about {8 * reads:,} characters, Excel allows {MAX_FORMULA:,}"
    row = Row(net, shapes, LOSS, lambda name: "Overview!$B$14",
              lambda name, i, j: None if config.batches > 1 else "$XFD$99")
    lengths = [len(c.template) + 5 * c.template.count("{") for c in row.build()]
    if max(lengths) + len("'Overview'!$XFD$1048576") > MAX_FORMULA:
        return cells, 0, f"would have formulas of {max(lengths):,} characters, Excel allows {MAX_FORMULA:,}"
    return cells, sum(lengths), ""


def enabled(config) -> bool:
    """A Training sheet is written unless live_epochs is 0, the workbook is an exercise (its
    first row would compute every answer of epoch 1 from the givens, in view: an assessment
    would hand them out, a practice sheet would show them beside the blanks) or, by default,
    its rows would not fit Excel's limits."""
    return live_updates(config) > 0


def estimate(config) -> tuple[int, int, int]:
    """(rows, cells, formula cells) of the Training sheet (0, 0, 0 without one); the caller
    (stepviz.workbook.limits) checks the rows against Excel's."""
    from ..limits import history_rows

    live = live_updates(config)
    if not live:
        return 0, 0, 0
    per_row = row_columns(config)
    values = 0 if live == config.epochs * config.batches else history_rows(config.epochs, config.history_every)
    rows = FIRST + live + 2 + values
    net = config.network
    shapes = net.shapes(1)  # once: one per parameter is quadratic in the depth
    params = sum(a * b for a, b in (shapes[p] for p in net.parameters()))
    data = config.X.size + config.y.size
    return rows, (live + 1) * (per_row + 1) + values * (params + 2) + data + 10, live * per_row + data


@dataclass
class Plan:
    """Where the Training sheet puts things (known before any sheet is written: the Overview,
    the History, the Map and later step sheets read it)."""

    book: object

    @cached_property
    def config(self):
        return self.book.config

    @cached_property
    def name(self) -> str:
        return self.book.msg("sheets.training")

    @cached_property
    def live(self) -> int:
        return live_updates(self.config)

    @cached_property
    def updates(self) -> int:
        return self.config.epochs * self.config.batches

    @property
    def all_live(self) -> bool:
        return self.live == self.updates

    @cached_property
    def row(self) -> Row:
        net, cfg = self.config.network, self.config
        return Row(net, net.shapes(cfg.batch), LOSS, self.constant, self.data)

    @cached_property
    def value_epochs(self) -> list[int]:
        """The recorded epochs written as values after the live rows (index into History)."""
        return self.book.run.later_epochs(self.live)

    @property
    def after(self) -> int:
        """The row (0-based) of the parameters after training."""
        return FIRST + self.live + (0 if self.all_live else 1 + len(self.value_epochs))

    def update_row(self, update: int) -> int:
        """The row (0-based) of a live update (1-based), or of the start of update ``update``
        when it is the one after the last live (live rows end with its start values)."""
        return FIRST + update - 1

    def cell(self, row: int, name: str, i: int, j: int) -> str:
        return absolute(self.name, (row, self.row.col[(name, i, j)]))

    def epoch_row(self, epoch: int) -> int | None:
        """The live row (0-based) whose loss, output and start values are epoch ``epoch``'s
        (a run without mini-batches), or None."""
        if self.config.batches > 1 or epoch > self.live:
            return None
        return FIRST + epoch - 1

    def start_row(self, update: int) -> int | None:
        """The row (0-based) holding the live start values of ``update`` (1-based), or None."""
        return FIRST + update - 1 if update <= self.live + 1 else None

    def link(self, row: int, name: str, i: int, j: int) -> str:
        """A formula reading cell (i, j) of ``name`` on a row of the sheet."""
        if name == "loss":
            return "=" + absolute(self.name, (row, LOSS))
        return "=" + self.cell(row, name, i, j)

    # -- data ---------------------------------------------------------------------------
    @cached_property
    def data_col(self) -> int:
        return LOSS + len(self.row.columns) + 1

    def data_cell(self, name: str, i: int, j: int) -> tuple[int, int]:
        """Sample i (0-based) of X or y in the data block."""
        d = self.config.X.shape[1]
        return FIRST + i, self.data_col + (j if name == "X" else d + j)

    def data(self, name: str, i: int, j: int) -> str | None:
        if self.config.batches > 1:
            return None  # the row's batch: passed when formatting
        return xl_rowcol_to_cell(*self.data_cell(name, i, j), True, True)

    def constant(self, name: str) -> str:
        return absolute(self.book.overview, self.book.constants[name][1])


def _remap(template: str, own: bool, n_slots: int) -> str:
    """A column's template (stepviz.formulas.Row: {0} its source row, {1} the next, {2}… the
    source row's data slots) for a row's arguments: {0} the previous row, {1} the row itself,
    {2} the next, then the previous row's data slots, then the row's own. A formula of the
    row's own values has the row as its source; an updated parameter, the previous row."""
    shift = 1 if own else 0

    def place(m):
        k = int(m.group(1))
        return "{%d}" % (k + shift if k < 2 else 3 + (n_slots if own else 0) + k - 2)

    return re.sub(r"\{(\d+)\}", place, template)


def write_training(book, ws) -> None:
    from ..engine import training_values

    plan, cfg, run, msg, st = book.training, book.config, book.run, book.msg, book.styles
    row, live, nb = plan.row, plan.live, cfg.batches
    columns = row.columns
    net = cfg.network
    full = {(c.name, c.i, c.j): c for c in row.build()}
    short = full
    if len(cfg.X) % cfg.batch and nb > 1:
        short = {(c.name, c.i, c.j): c for c in row.build(net.shapes(len(cfg.X) - (nb - 1) * cfg.batch))}

    _, V, rp = training_values(cfg, live)  # cached values: the engine's, per live row and column (NaN: no cell)
    fmts = []
    for k, c in enumerate(columns):
        col = V[:, k]
        fmts.append(st.cell("value", shown(col[np.isfinite(col)], cfg.decimals + 1).num_format))
    trained = [st.cell("trained", f.num_format) for f in fmts]

    # header
    all_live = plan.all_live
    first_label, last_label = cfg.label(1), cfg.label(live)
    check(ws, ws.write_string(TITLE, 0, msg("training.title"), st.title), TITLE, 0)
    note = msg("training.live_all") if all_live else msg("training.live_some", first=first_label, last=last_label,
                                                              n=live // nb)
    if nb > 1:
        note += " " + msg("training.batches_shuffled" if cfg.shuffle else "training.batches")
    ws.write_string(NOTE, 0, note, st.words)
    loss_col = xl_col_to_name(LOSS)
    last_live_row = FIRST + live  # 1-based number of the last live row
    ws.write_string(DIVERGED, 0, msg("training.diverged"), st.words)
    where = f"{loss_col}{FIRST + 1}:{loss_col}{last_live_row}"
    ws.write_formula(DIVERGED, 5, f"=ROWS({where})-COUNT({where})", st.cell("value"), 0)  # COUNT skips errors
    d = cfg.X.shape[1]
    xl = cfg.x_labels or tuple(f"X[·,{k + 1}]" for k in range(d))
    yl = cfg.y_labels or tuple(f"y[·,{k + 1}]" for k in range(cfg.y.shape[1]))
    ws.write_string(HEADER - 1, plan.data_col, msg("training.data"), st.caption)
    ws.write_string(HEADER, EPOCH, msg("training.update" if nb > 1 else "training.epoch"), st.header)
    for c in columns:
        ws.write_string(HEADER, row.col[(c.name, c.i, c.j)], c.header, st.header)
    for k, label in enumerate((*xl, *yl)):
        ws.write_string(HEADER, plan.data_col + k, label, st.header)

    # data block: links to the first inputs sheet (every epoch reads all samples), else numbers
    inputs = run.steps[0]
    data_rows = {}
    for i in range(len(cfg.X)):
        cells = []
        for name, a in (("X", cfg.X), ("y", cfg.y)):
            for j in range(a.shape[1]):
                r, c = plan.data_cell(name, i, j)
                if nb == 1:
                    cells.append((c, "formula", book.link(run.detail[0], inputs, name, i, j), st.cell("link"), float(a[i, j])))
                else:
                    cells.append((c, "number", float(a[i, j]), st.cell("input")))
        data_rows[FIRST + i] = cells
    data_addr = {name: [[xl_rowcol_to_cell(*plan.data_cell(name, i, j), True, True) for j in range(a.shape[1])]
                        for i in range(len(cfg.X))] for name, a in (("X", cfg.X), ("y", cfg.y))}

    n_slots = cfg.batch * (cfg.X.shape[1] + cfg.y.shape[1]) if nb > 1 else 0

    def slots(u, pad=False):
        if nb == 1:
            return ()
        rows = rp.rows[u]
        out = [a for name in ("X", "y") for i in rows for a in data_addr[name][i]]
        return out + [""] * (n_slots - len(out)) if pad else out

    def row_xml(prev, own, last):
        """One row's cells as XML with the row numbers ({0} the previous row, {1} its own, {2}
        the next), the data slots of the previous and its own batch, and its values (v)."""
        parts, cols = [], []
        for kcol, key in enumerate(keys):
            if key in row.carried_keys:
                tpl = _remap(prev[key].template, False, n_slots)
            elif last or key not in own:
                continue
            else:
                tpl = _remap(own[key].template, True, n_slots)
            cols.append(kcol + LOSS)
            parts.append(f'<c r="{xl_col_to_name(kcol + LOSS)}{{1}}" s="{fmts[kcol]._get_xf_index()}">'
                         f'<f>{escape(tpl[1:])}</f><v>{{v[{kcol}]}}</v></c>')
        return "".join(parts), cols[0], cols[-1]

    templates = {}

    step2 = run.steps[1]
    linked = run.detail[0] == 1
    keys = [(c.name, c.i, c.j) for c in columns]
    detail = set(run.detail)
    mark = st.cell("link")
    epoch_fmt = st.cell("value", "General")

    def flush_data(r):
        for c, kind, *args in data_rows.pop(r, ()):
            getattr(ws, "write_" + kind)(r, c, *args)

    # live rows
    for u in range(live + 1):
        r = FIRST + u
        last = u == live
        own = full if last or len(rp.rows[u]) == cfg.batch else short
        prev = full if u == 0 or len(rp.rows[u - 1]) == cfg.batch else short
        if last:
            label = msg("training.after") if all_live else cfg.label(u + 1)
            check(ws, ws.write_string(r, EPOCH, label, st.header), r, EPOCH)
        elif u + 1 in detail:
            sheet = book.sheet_name(u + 1, inputs)
            check(ws, ws.write_url(r, EPOCH, f"internal:{quote_sheetname(sheet)}!A1", mark, cfg.label(u + 1)), r, EPOCH)
        elif nb > 1:
            ws.write_string(r, EPOCH, cfg.label(u + 1))
        else:
            ws.write_number(r, EPOCH, u + 1, epoch_fmt)
        vals = V[u].tolist()
        if u == 0:  # the start values: links to step 2 (or numbers), then the row's formulas
            for kcol, key in enumerate(keys):
                c = kcol + LOSS
                if key in row.carried_keys:
                    if linked:
                        ws.write_formula(r, c, book.link(1, step2, *key), mark, vals[kcol])
                    else:
                        ws.write_number(r, c, vals[kcol], st.cell("input", fmts[kcol].num_format))
                elif key in own:
                    ws.write_formula(r, c, _remap(own[key].template, True, 0).format(r, r + 1, r + 2, *slots(u)),
                                     fmts[kcol], vals[kcol])
        else:
            kind = (prev is full, own is full, last)
            if kind not in templates:
                templates[kind] = row_xml(prev, own, last)
            xml, lo, hi = templates[kind]
            args = (r, r + 1, r + 2, *slots(u - 1, pad=True), *(() if last else slots(u, pad=True)))
            check(ws, ws.write_cells_xml(r, lo, hi, xml.format(*args, v=vals)), r, lo)
        flush_data(r)

    # values from training after the live rows: one row per recorded epoch, then the parameters after training
    r = FIRST + live
    if not all_live:
        r += 1
        for k in plan.value_epochs:
            e = int(run.history_epochs[k])
            ws.write_number(r, EPOCH, e, trained[0])
            ws.write_number(r, LOSS, float(run.history_loss[k]), trained[0])
            for name in net.parameters():
                a = run.history_params[name][k]
                for i in range(a.shape[0]):
                    for j in range(a.shape[1]):
                        c = row.col[(name, i, j)]
                        ws.write_number(r, c, float(a[i, j]), trained[c - LOSS])
            flush_data(r)
            r += 1
        ws.write_string(r, EPOCH, msg("training.after"), st.header)
        for name in net.parameters():
            a = run.params[name]
            for i in range(a.shape[0]):
                for j in range(a.shape[1]):
                    c = row.col[(name, i, j)]
                    ws.write_number(r, c, float(a[i, j]), trained[c - LOSS])
        flush_data(r)
    for r in sorted(data_rows):
        flush_data(r)

    ws.freeze_panes(FIRST, 1)
    ws.set_column(EPOCH, EPOCH, 8)
    ws.set_column(LOSS, plan.data_col + d + cfg.y.shape[1], 11)
    printing.page(ws, PRINT_ROWS - 1, min(plan.data_col - 1, 9), tall=1)  # its first page
    ws.protect()
