"""A step sheet: the matrices a step reads and produces, their formulas, the arithmetic
line of each result, and the highlighting.

Every produced cell is a formula over cells of the same sheet, spelled by its op kind
(``op.spell``) and stored with the engine's value. The yellow cell of each result and its
orange sources are conditional formats driven by the sheet's two focus cells (read as
``lines.Focus`` spells them: same-sheet absolute references, no defined name), built from the
same spelling at the symbolic cell (I, J): the source pattern.
"""
from __future__ import annotations

import math

from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from ..display import shown
from ..terms import I, J, Cell, Index, excel, is_array
from ..tolerance import check_formula, tolerance_term
from . import achieved, printing, validation
from .inputs import has_inputs
from .inputs import link as inputs_link
from .inputs import sheet_name as inputs_sheet
from .core import Cells, absolute
from .network import weight_bars
from .layout import (FOCUS, LEFT, LEGEND, NAV, NOTE, TITLE, WORDS, Block, column_px, columns_for, text_px,
                     text_width)
from .lines import Focus, arithmetic

TOC = FOCUS + 1  # the empty row above the first band: the table of contents of a long sheet
TOC_BANDS = 4  # more bands than this (gd has at most 4) get one


MIN_CONTENT_PX = 900  # a text wider than the sheet's content wraps in a merged cell at least this wide

FREEZE_ROWS = 10  # step sheets of batches with more rows than this freeze their header rows (the presets of
# the seeds, 8 rows at most, are as they were)


def write_step(book, ws, epoch: int, step) -> None:
    StepSheet(book, ws, epoch, step).write()


class StepSheet:
    def __init__(self, book, ws, epoch: int, step):
        self.book, self.ws, self.epoch, self.step = book, ws, epoch, step
        self.lay = book.layouts[step.number]
        self.cells = Cells()
        self.msg, self.styles = book.msg, book.styles
        self.values = {b: book.value(epoch, step, b) for b in self.lay.blocks}
        self.shown = {b: shown(book.value(epoch, step, b, key=True), book.config.decimals) for b in self.lay.blocks}
        self.right = self.lay.right  # grows with the texts written
        self.lines = []  # results whose arithmetic line is written last, its helpers right of all text
        self.height = self.lay.height  # grows with what achieved.write adds below the bands
        self.wide: set[int] = set()  # the columns achieved.write asks to be wider (its numbers)
        self.wraps: list[tuple] = []  # (row, col, text, format name): wrapped at the content's width
        self.focus = self.focus_at()
        self.extra = {}  # the digits each result's line adds to its operands' (display.line_extra)

    def focus_at(self) -> Focus:
        """Where the focus cells are (row FOCUS, right of their label); an exercise's focus is
        fixed: its numbers."""
        if self.book.exercise:
            return Focus(*map(str, self.book.config.focus))
        width = self.book.width[self.step.number]
        col = 1 + math.ceil(max(0.0, 1.1 * text_width(self.msg("sheet.focus")) - 2) / width)
        return Focus(*(xl_rowcol_to_cell(FOCUS, col + k, True, True) for k in range(2)))

    # -- values ------------------------------------------------------------------------
    def where(self, block: Block, i: int, j: int) -> str:
        """The formula that links cell (i, j) of an operand copy to where it was made."""
        if block.name in self.book.constants:
            return "=" + absolute(self.book.overview, self.book.constants[block.name][1])
        if block.transposed:
            i, j = j, i
        return self.book.link(self.epoch, self.book.producer(block.name), block.name, i, j)

    # -- the sheet -----------------------------------------------------------------------
    def write(self):
        self.header()
        if self.step.given:
            self.given()
        else:
            self.computed()
            if achieved.enabled(self.book):  # loss after the update, gradient checks
                achieved.write(self)
        self.captions()
        weight_bars(self)
        self.finish()
        if self.book.config.batch > FREEZE_ROWS:  # a tall sheet keeps its title, notes and focus in view
            self.ws.freeze_panes(FOCUS + 1, 0)

    def put_text(self, r, c, text, fmt=None):
        self.cells.text(r, c, text, fmt)
        self.right = max(self.right, c + columns_for(text, self.book.width[self.step.number]))

    def wrap_text(self, r, c, text, fmt: str):
        """A text that may be longer than the sheet is wide: written by ``finish``, wrapped in a
        cell merged up to the content's right edge when it is wider than that room. ``fmt``:
        "words", "note" or "plain"."""
        self.wraps.append((r, c, text, fmt))

    def header(self):
        book, step, msg, st = self.book, self.step, self.msg, self.styles
        title = book.sheet_title(self.epoch, step)
        self.put_text(TITLE, 0, title, st.title)
        if text_width(title) > len(title):  # CJK glyphs are taller: a row sized to the 14 pt font
            self.ws.set_row(TITLE, 24)
        # all the step's formulas, the legend and the notes: wrapped at the content's width
        self.wrap_text(WORDS, 0, ";   ".join(c.words(msg) for c in step.computes), "words")
        legend = "sheet.legend_given" if step.given else ("sheet.legend_exercise" if book.exercise else "sheet.legend")
        bars = " · " + msg("sheet.legend_bars") if any(b.bars for b in self.lay.blocks) else ""
        self.wrap_text(LEGEND, 0, msg(legend) + bars, "plain")
        notes = self.notes()
        if notes:
            self.wrap_text(NOTE, 0, "  ".join(notes), "note")
        names = book.sheet_names
        k = names.index(self.ws.name)
        nav = [(msg("sheet.previous", sheet=names[k - 1]), names[k - 1])] if k else []
        nav.append((book.overview, book.overview))
        if k + 1 < len(names):
            nav.append((msg("sheet.next", sheet=names[k + 1]), names[k + 1]))
        else:  # the last step of the last detailed epoch leads on to the results
            nav.append((msg("sheet.next", sheet=book.overview), book.overview))
        col = LEFT
        for label, target in nav:
            self.cells.link(NAV, col, target, "A1", label, st.link)
            col += columns_for(label, book.width[step.number]) + 1
        if not step.given and len(self.lay.placed) > TOC_BANDS:  # a long sheet (momentum, Adam): a link to each band
            col = LEFT
            for p in self.lay.placed:
                label = f"↓ {p.result.name}"
                self.cells.link(TOC, col, self.ws.name, xl_rowcol_to_cell(p.words_row, 0), label, st.link)
                col += columns_for(label, book.width[step.number])

    def notes(self) -> list[str]:
        """What the sheet says about itself: where the tutorial differs, where values come from."""
        book, msg, cfg = self.book, self.msg, self.book.config
        keys = dict.fromkeys(f"notes.{k}" for c in self.step.computes for k in (c.result, getattr(c.op, "key", "")))
        out = [msg(k) for k in keys if msg.get(k) and k != "notes.d_output"]
        if "notes.d_output" in keys and cfg.about.get("tutorial") == "003":
            # only seed 003's text multiplies by lr in its step 8; its updates are on these sheets
            trained = set(cfg.network.trained())
            updates = [s for s in book.run.steps if not s.given and trained & set(s.results)]
            if updates:
                sheets = [f"{book.label(self.epoch)}.{s.number:02d}" for s in (updates[0], updates[-1])]
                out.insert(0, msg("notes.d_output", sheets="–".join(dict.fromkeys(sheets))))
        detail, label = book.run.detail, book.label
        batched = "_batch" if cfg.batches > 1 else ""
        if any(c.op.what == "state_start" for c in self.step.computes if self.step.given):
            out.append(msg("notes.state_start"))
        if any(c.op.what == "epoch" for c in self.step.computes if self.step.given):
            out.append(msg("notes.epoch_counter"))
        training = book.training.start_row(self.epoch) if book.training and self.epoch > 1 else None
        if any(c.op.what == "start_value" for c in self.step.computes if self.step.given):
            if training is not None and self.epoch - 1 not in detail:  # links to the Training sheet
                out.append(msg("notes.start_training_live", sheet=book.training.name, update=label(self.epoch)))
            elif self.epoch == detail[0]:
                if self.epoch > 1:
                    out.append(msg("notes.start_first_trained" + batched, previous=self.epoch - 1))
                elif cfg.init and set(cfg.network.parameters()) <= set(cfg.init):  # no rest to draw
                    out.append(msg("notes.start_init_all", names=", ".join(cfg.init)))
                elif cfg.init:
                    out.append(msg("notes.start_init", names=", ".join(cfg.init), seed=cfg.seed))
                else:
                    out.append(msg("notes.start_seed", seed=cfg.seed))
            elif self.epoch - 1 in detail:
                out.append(msg("notes.start_previous" + batched, previous=label(self.epoch - 1)))
            else:
                out.append(msg("notes.start_training" + batched, previous=self.epoch - 1, first=label(detail[0])))
        elif self.step.given and batched and "X" in self.step.results:  # each batch has its own rows
            rows = book.run.batch_rows[self.epoch] + 1
            out.append(msg("notes.batch_rows", rows=", ".join(map(str, rows)),
                           order=msg("overview.shuffled" if cfg.shuffle else "overview.in_order")))
        elif self.step.given and self.epoch != detail[0]:
            out.append(msg("notes.data_later", first=label(detail[0])))
        if self.step.given and "X" in self.step.results and has_inputs(book):  # standardised on the Inputs sheet
            out.append(msg("inputs.note", sheet=inputs_sheet(book)))
        if self.book.exercise and not self.step.given:  # first: what to do, and that a blank counts as 0
            out.insert(0, msg("notes.assessment" if self.book.assessment else "notes.exercise"))
        if self.book.assessment and not self.step.given:  # the rules of an answer, and what is not shown
            out.insert(1, self.how_to_answer())
            for block in self.lay.blocks:
                twins = self.twins(block)
                if twins:
                    out.append(msg("notes.twin_hidden", cells=", ".join(
                        f"{block.name}[{i + 1},{j + 1}]" for i, j in twins)))
        return out

    def how_to_answer(self) -> str:
        """An assessment sheet's rules: the decimals its answers show, the sign, an update's units."""
        asked = [b for b in self.lay.blocks if self.book.answer_at(self.step, b) is not None]
        if not asked:
            return ""
        how = self.shown[asked[0]]
        text = self.msg(f"notes.how_{how.kind}", decimals=how.decimals)
        if any(b.name.startswith("update_") for b in asked):
            text += " " + self.msg("notes.how_update")
        return text

    def twins(self, block) -> list[tuple[int, int]]:
        """In an assessment, the cells of a result whose value equals its asked cell's (the
        default preset's X has two equal columns): not shown, they would give the answer away."""
        q = self.book.answer_at(self.step, block) if self.book.assessment else None
        if q is None:
            return []
        true = self.book.value(self.epoch, self.step, block, key=True)
        v = float(true[q])
        return [(i, j) for i in range(true.shape[0]) for j in range(true.shape[1])
                if (i, j) != q and abs(float(true[i, j]) - v) <= 1e-12 * max(1.0, abs(v))]

    def given(self):
        """Steps 1-2: numbers in the first detailed epoch (inputs to edit); later, links to
        the first epoch's data and to the previous epoch's updates, or values from training."""
        book, st, detail = self.book, self.styles, self.book.run.detail
        first = self.epoch == detail[0]
        # a later epoch's start values: the Training sheet's row of that update, where it is live
        row = book.training.start_row(self.epoch) if book.training and self.epoch > 1 else None
        for p in self.lay.placed:
            block, name = p.result, p.result.name
            fmt_role, link, plus, training = "input", None, "", None
            if name in book.carried or p.compute.op.what == "epoch":
                if self.epoch - 1 in detail:
                    if name in book.carried:
                        link = (self.epoch - 1, book.last[name])
                    else:  # t: the previous epoch's, plus one
                        link, plus = (self.epoch - 1, self.step), "+1"
                elif row is not None:
                    training = lambda i, j, name=name: book.training.link(row, name, i, j)  # noqa: E731
                elif not first:
                    fmt_role = "trained"
            elif name == "X" and has_inputs(book):  # standardised: the Inputs sheet's rows of this batch
                link = book.run.batch_rows.get(self.epoch, range(block.shape[0]))
            elif not first and book.config.batches == 1:  # a batch has its own rows: numbers
                link = (detail[0], self.step)
            fmt = st.cell("link" if link is not None or training else fmt_role, self.shown[block].num_format)
            if fmt_role == "input" and link is None and training is None:  # X, y, the first start values
                validation.number(self.ws, self.msg, block.cell(0, 0), block.cell(*(n - 1 for n in block.shape)))
            value = self.values[block]
            for i in range(block.shape[0]):
                for j in range(block.shape[1]):
                    v = float(value[i, j])
                    if training:
                        self.cells.put(*block.cell(i, j), "formula", training(i, j), fmt, v)
                    elif name == "X" and has_inputs(book):
                        self.cells.put(*block.cell(i, j), "formula", inputs_link(book, int(link[i]), j), fmt, v)
                    elif link:
                        self.cells.put(*block.cell(i, j), "formula", book.link(*link, name, i, j) + plus, fmt, v)
                    else:
                        self.cells.put(*block.cell(i, j), "number", v, fmt)

    def computed(self):
        book, st = self.book, self.styles
        for p in self.lay.placed:
            for b in p.operands:  # copies of operands: links to where they were made
                if b.role != "in":
                    continue
                fmt = st.cell("link", self.shown[b].num_format)
                for i in range(b.shape[0]):
                    for j in range(b.shape[1]):
                        self.cells.put(*b.cell(i, j), "formula", self.where(b, i, j), fmt, float(self.values[b][i, j]))
            self.wrap_text(p.words_row, LEFT, p.compute.words(self.msg), "words")
            self.results(p)
        self.highlight()
        if not book.exercise:  # an exercise's focus is fixed: the answer cells are where it is
            self.focus_cells()

    def results(self, p):
        """The formulas of one result, with their values; in an exercise the question cell is
        an empty answer cell (in practice mode with its check beside it)."""
        book, st, step = self.book, self.styles, self.step
        block, shapes = p.result, [b.shape for b in p.operands]
        fmt = st.cell("value", self.shown[block].num_format)
        values = self.values[block]
        operand_values = [self.values[b] for b in p.operands]

        def addr(c: Cell) -> str:
            return book.address(step, p.operands[c.k], c.r, c.c)

        def span(c0: Cell, c1: Cell) -> str:  # SUM and SUMSQ skip a blank or text answer
            b = p.operands[c0.k]
            return xl_rowcol_to_cell(*b.cell(c0.r, c0.c)) + ":" + xl_rowcol_to_cell(*b.cell(c1.r, c1.c))

        question = book.answer_at(step, block)
        hidden = set(self.twins(block))  # computed, but shown as nothing (number format ;;;)
        cache = book.formulas  # the same layout in every epoch: spelled once per cell and form
        op = p.compute.op
        for i in range(block.shape[0]):
            for j in range(block.shape[1]):
                key = (step.number, block.row, block.col, i, j, op.form(i, j, operand_values))
                if key not in cache:
                    t = op.cell_term(i, j, shapes, operand_values)
                    cache[key] = ("=" + excel(t, addr, span), "dynamic_array_formula" if is_array(t) else "formula")
                (formula, kind), v = cache[key], float(values[i, j])
                if (i, j) == question:
                    self.cells.put(*block.cell(i, j), "blank", None, st.cell("answer", self.shown[block].num_format))
                    if not book.assessment:
                        t = op.cell_term(i, j, shapes, operand_values)
                        value, tol = tolerance_term(t, [self.shown[b] for b in p.operands], self.shown[block])
                        self.verdict(block, check_formula(xl_rowcol_to_cell(*block.cell(i, j)),
                                                          excel(value, addr, span), excel(tol, addr, span)), kind)
                else:
                    self.cells.put(*block.cell(i, j), kind, formula, st.cell("value", ";;;") if (i, j) in hidden else fmt, v)
        if p.line_row is not None and not book.exercise:
            self.line(p)

    def verdict(self, block: Block, check: str, kind: str):
        """Beside a practice answer, its live check (``check_formula``)."""
        r, c = block.cell(*self.book.focus(block))
        self.cells.put(r, block.col + block.shape[1], kind, check, self.styles.verdict, "")

    # -- the arithmetic line ------------------------------------------------------------
    def line(self, p):
        """``hidden_layer_input[1,1] = 1×0.637 + … + 0.857 = 2.101``: a live text formula that
        follows the focus (stepviz.workbook.lines); here only its width is taken, it is
        written by ``finish`` with its helper cells right of every text of the sheet."""
        line = self.arithmetic(p, 0)
        self.lines.append(p)
        self.right = max(self.right, LEFT + columns_for(line.cached, self.book.width[self.step.number]))

    def arithmetic(self, p, first: int):
        line = arithmetic(p, self.shown.__getitem__, self.values.__getitem__, self.book.focus(p.result), first, self.msg,
                          self.focus, self.extra.get(p.result))
        self.extra[p.result] = line.extra
        return line

    # -- highlighting ---------------------------------------------------------------------
    def highlight(self):
        """Yellow: each result's focus cell. Orange: exactly the cells its formula reads, from
        the op's source pattern. A focus cell that another result's formula on the sheet reads
        (step 5's ``output`` reads ``output_layer_input``) gets both marks: violet with an orange
        frame. The rules are tried in that order, and the first that applies wins."""
        ws, st = self.ws, self.styles
        focus = {p.result: self.focus_rule(p.result) for p in self.lay.placed}
        sources = []  # (block, condition) for every operand block of every result
        for p in self.lay.placed:
            pattern = p.compute.op.pattern(p.result.shape, [b.shape for b in p.operands])
            for k, pat in pattern.items():
                b = p.operands[k]
                if pat.product:
                    cond = _and([_or([self.match(b, "ROW", r, p.result) for r in _distinct(pat.rows, b.shape[0])]),
                                 _or([self.match(b, "COLUMN", c, p.result) for c in _distinct(pat.cols, b.shape[1])])])
                else:
                    cond = "=" + _or([_and([self.match(b, "ROW", r, p.result), self.match(b, "COLUMN", c, p.result)])
                                      for r, c in pat.cells])
                sources.append((b, cond))
        for b, cond in sources:
            if b in focus:  # a result of this sheet, read by another result's formula
                both = _and([focus[b].lstrip("="), cond.lstrip("=")])
                ws.conditional_format(b.range.replace("$", ""), {"type": "formula", "criteria": both,
                                                                 "format": st.focus_source, "stop_if_true": True})
        for b, cond in focus.items():
            ws.conditional_format(b.range.replace("$", ""), {"type": "formula", "criteria": cond,
                                                             "format": st.focus, "stop_if_true": True})
        for b, cond in sources:
            ws.conditional_format(b.range.replace("$", ""), {"type": "formula", "criteria": cond,
                                                             "format": st.source})

    def focus_rule(self, b: Block) -> str:
        """The condition "this cell of result b is its focus cell"."""
        return _and([self.match(b, "ROW", I, b), self.match(b, "COLUMN", J, b)])

    def match(self, b: Block, axis: str, pos, result: Block) -> str:
        """The condition "this cell of block b is at row (or column) ``pos``" for a
        conditional format on b's range; "" when always true."""
        n = b.shape[0] if axis == "ROW" else b.shape[1]
        if n == 1 or pos is None:
            return ""
        first = xl_rowcol_to_cell(b.row, b.col)  # relative: the rule moves with the cell
        start = b.row if axis == "ROW" else b.col  # 0-based: 1-based index k is start + k
        if isinstance(pos, Index):
            limit = result.shape[0] if pos is I else result.shape[1]
            return f"{axis}({first})={start}+{self.focus.index(pos, limit, '0')}"
        return f"{axis}({first})={start + pos + 1}"

    def focus_cells(self):
        """The two cells that move the focus (``focus_at``)."""
        book, ws, msg = self.book, self.ws, self.msg
        self.put_text(FOCUS, 0, msg("sheet.focus"), self.styles.bold)
        col = xl_cell_to_rowcol(self.focus.row)[1]
        fmt = self.styles.cell("input")
        validation = {"validate": "integer", "criteria": ">=", "value": 1,
                      "input_title": msg("sheet.focus_title"), "input_message": msg("sheet.focus_message"),
                      "error_title": msg("sheet.focus_title"), "error_message": msg("sheet.focus_error")}
        for k in range(2):
            self.cells.put(FOCUS, col + k, "number", book.config.focus[k], fmt)
            ws.data_validation(FOCUS, col + k, FOCUS, col + k, validation)

    # -- captions, provenance, finishing ----------------------------------------------------
    def captions(self):
        book, st, step = self.book, self.styles, self.step
        short = lambda e, s: f"{book.label(e)}.{s.number:02d}"  # noqa: E731
        for b in self.lay.blocks:
            if b.role == "in" and not step.given:
                if b.name in book.constants:
                    target = (book.overview, xl_rowcol_to_cell(*book.constants[b.name][1]))
                else:
                    producer = book.producer(b.name)
                    origin = book.result_block(producer, b.name)
                    target = (book.sheet_name(self.epoch, producer), xl_rowcol_to_cell(origin.top, origin.left))
                self.cells.link(b.top, b.left, *target, b.caption, st.caption_link)
            elif b.name == "X" and step.given and has_inputs(book):  # X comes from the Inputs sheet
                self.put_text(b.top, b.left, b.caption, st.caption)
                self.cells.link(b.top, b.left, inputs_sheet(book), "A1", b.caption, st.caption_link)
            else:
                self.put_text(b.top, b.left, b.caption, st.caption)
                if b.role == "out":
                    col = b.left + columns_for(b.caption, book.width[step.number])
                    for e, s in book.readers(self.epoch, step, b.name):
                        there = next(x for x in book.layouts[s.number].blocks if x.name == b.name)
                        cell = xl_rowcol_to_cell(there.top, there.left)
                        self.cells.link(b.top, col, book.sheet_name(e, s), cell,
                                        self.msg("sheet.read_by", sheet=short(e, s)), st.link)
                        col += 1
                        self.right = max(self.right, col)
            for j, label in enumerate(b.labels or ()):
                if b.transposed:
                    self.cells.text(b.row + j, b.left, label, st.label)
                else:
                    self.cells.text(b.row - 1, b.col + j, label, st.label)

    def finish(self):
        ws, book = self.ws, self.book
        width = book.width[self.step.number]
        # the widest number of a block is its largest or its most negative one
        longest = max([len(self.shown[b].text(float(v))) for b in self.lay.blocks
                       for v in (self.values[b].max(), self.values[b].min())], default=0)
        width = max(width, longest + 2)
        px = lambda c: column_px(2 if c == 0 else max(width, achieved.WIDTH) if c in self.wide else width)  # noqa: E731
        edge = [0]  # edge[c]: the pixels left of column c
        while len(edge) <= self.right or edge[-1] < MIN_CONTENT_PX:  # the content, at least MIN_CONTENT_PX
            edge.append(edge[-1] + px(len(edge) - 1))
        self.right = len(edge) - 1
        ws.set_column(0, 0, 2)
        ws.set_column(LEFT, self.right + 1, width)
        for c in sorted(self.wide):  # the gradient checks' column holds long numbers (achieved.py)
            ws.set_column(c, c, max(width, achieved.WIDTH))
        for r, c, text, fmt in self.wraps:
            self.wrapped(r, c, text, fmt, edge[self.right] - edge[c])
        first = self.right + 2  # the lines' helper cells: hidden, right of every text
        helpers = 0
        # a helper reading the focus (INDEX) is a one-cell dynamic array: Excel 365 would show an
        # ordinary formula from a file with an implicit-intersection @ before INDEX. Those cache
        # numbers; a text is cached in an ordinary formula, which XlsxWriter marks as text (an
        # array formula's "1" would be stored as the number 1)
        kind = lambda value: "formula" if isinstance(value, str) else "dynamic_array_formula"  # noqa: E731
        for p in self.lines:  # under the band's blocks, from the left margin
            line = self.arithmetic(p, first)
            self.cells.put(p.line_row, LEFT, kind(line.cached), line.formula, self.styles.words, line.cached)
            for col, formula, value in line.helpers:
                self.cells.put(p.line_row, col, kind(value), formula, None, value)
            helpers = max(helpers, len(line.helpers))
        if helpers:
            ws.set_column(first, first + helpers - 1, None, None, {"hidden": True})
        ws.protect()
        self.print_setup(ws)
        self.cells.flush(ws)

    def wrapped(self, r, c, text, fmt: str, room: int):
        """``text`` at (r, c): as it is when it fits in ``room`` pixels, else wrapped in a cell
        merged up to the content's last column, its row as tall as its lines."""
        st = self.styles
        plain = {"words": st.words, "note": st.note, "plain": None}[fmt]
        need = text_px(text)
        if need <= room or c >= self.right - 1:
            self.cells.text(r, c, text, plain)
            return
        lines = math.ceil(need / room)
        self.cells.merge(r, c, self.right - 1, text, st.wrapped(fmt))
        self.ws.set_row(r, printing.rows_pt(text, lines))

    def print_setup(self, ws):
        """Landscape A4, one page wide at the content's width (11-point numbers print at 8
        points or more on the sheets of the presets), as many pages tall as the sheet needs,
        each with the sheet's title row; the hidden helpers of the lines are not printed."""
        printing.page(ws, self.height, self.right - 1, repeat=TITLE)


def _distinct(positions, n):
    """Row (or column) positions of a pattern; None when they cover the whole block."""
    ints = {p for p in positions if not isinstance(p, Index)}
    if len(ints) == n and len(ints) == len(positions):
        return [None]
    return list(positions)


def _and(conds: list[str]) -> str:
    conds = [c for c in conds if c and c != "TRUE"]
    if not conds:
        return "=TRUE"
    return "=" + (conds[0] if len(conds) == 1 else "AND(" + ",".join(conds) + ")")


def _or(conds: list[str]) -> str:
    conds = [c.lstrip("=") for c in conds]
    if any(c in ("", "TRUE") for c in conds):
        return ""
    return conds[0] if len(conds) == 1 else "OR(" + ",".join(conds) + ")"
