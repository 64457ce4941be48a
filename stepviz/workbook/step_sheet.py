"""A step sheet: the matrices a step reads and produces, its formulas and highlighting."""
from __future__ import annotations

from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ..ops import Given
from .core import Cells
from .layout import Refs


def put_block(cells, block, value, link):
    """A matrix of numbers, or of links to the same matrix on another sheet."""
    rows = value.tolist()
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            f = None if link is None else link[0] + xl_rowcol_to_cell(*link[1].cell(i, j))
            cells[block.cell(i, j)] = (f, v)


def step_formulas(book, step):
    """{cell: formula} of a step's computed results, and the cells the focus cells read.
    Computed once per step: the layout, and so every reference, is the same in each epoch."""
    if step.number in book._formulas:
        return book._formulas[step.number]
    lay = book.layouts[step.number]
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
                if block.cell(i, j) == book.focus(block):
                    sources |= ref.cells
    book._formulas[step.number] = formulas, sources
    return formulas, sources

# -- sheets --------------------------------------------------------------------
def write(self, progress=None):
    run, wb = book.run, book.wb
    overview = wb.add_worksheet("Overview")
    sheets = [(e, s, wb.add_worksheet(sheet_name(e, s))) for e in run.detail for s in run.steps]
    book.sheet_names = [ws.name for _, _, ws in sheets]  # in order, for the navigation links
    history = wb.add_worksheet("History")
    trace = wb.add_worksheet("Trace")
    book.write_overview(overview)
    for e, s, ws in sheets:
        book.write_step(ws, e, s)
        if progress:
            progress(1)
    book.write_history(history)
    book.write_trace(trace)


def write_step(book, ws, epoch, step):
    run, lay, sh = book.run, book.layouts[step.number], Cells()
    detail = run.detail
    n_steps = len(run.steps)
    sh.put(0, 0, "string", f"Epoch {epoch} · step {step.number} of {n_steps} · {step.title}", book.f_title)
    sh.put(1, 0, "string", ";   ".join(c.words for c in step.computes), book.f_words)
    sh.put(2, 0, "string", "yellow: the cell being computed · orange: the cells its formula reads · "
           "inputs link to the sheet that produced them; edit lr on Overview", None)
    nav = [("Overview", "Overview")]
    names = book.sheet_names
    k = detail.index(epoch) * n_steps + step.number - 1
    if k > 0:
        nav.insert(0, ("← " + names[k - 1], names[k - 1]))
    if k + 1 < len(names):
        nav.append((names[k + 1] + " →", names[k + 1]))
    for col, (text, target) in enumerate(nav):
        sh.put(3, 1 + 4 * col, "url", f"internal:{quote_sheetname(target)}!A1", book.f_link, text)

    focus_cells = set()
    for (kind, name), block in lay.blocks.items():
        sh.put(block.top, block.col, "string", block.caption, book.f_caption)
        for j, label in enumerate(book.labels.get(name) or ()):
            sh.put(block.row - 1, block.col + j, "string", label, book.f_label)
        if kind == "out":
            focus_cells.add(book.focus(block))

    cells = {}  # (r, c) -> (formula or None, value)
    # inputs: links to the producing sheet (lr: to the Overview)
    for (kind, name), block in lay.blocks.items():
        if kind != "in":
            continue
        if name == "lr":
            cells[block.cell(0, 0)] = (f"={book.lr_cell}", run.config.lr)
            continue
        producer = book.first[name]
        put_block(cells, block, run.value(epoch, producer.number, name),
                       book.link_prefix(epoch, producer, name))
    # results
    first = epoch == detail[0]
    formulas, source_cells = step_formulas(book, step)  # the same in every epoch
    for c in step.computes:
        block = lay.blocks[("out", c.result)]
        value = run.value(epoch, step.number, c.result)
        if isinstance(c.op, Given):
            # editable numbers in the first detailed epoch; later, links: the data to the
            # first epoch's, a parameter to the previous epoch's update when it is detailed
            src = None
            if c.result in book.parameters:
                if epoch - 1 in detail:
                    src = (epoch - 1, book.last[c.result])
            elif not first:
                src = (detail[0], step)
            put_block(cells, block, value, src and book.link_prefix(*src, c.result))
            continue
        for i, row in enumerate(value.tolist()):
            for j, v in enumerate(row):
                rc = block.cell(i, j)
                cells[rc] = (formulas[rc], v)
    source_cells = source_cells - focus_cells
    for rc, (formula, value) in cells.items():
        fmt = book.f_focus if rc in focus_cells else book.f_source if rc in source_cells else book.f_num
        if formula is None:
            sh.put(*rc, "number", value, fmt)
        else:
            sh.put(*rc, "formula", formula, fmt, value)
    ws.set_column(0, 0, 2)
    ws.set_column(1, 60, book.style["column_width"])
    for block in lay.blocks.values():  # columns under a long label get wider
        for j, label in enumerate(book.labels.get(block.name) or ()):
            if len(label) + 1 > book.style["column_width"]:
                ws.set_column(block.col + j, block.col + j, min(len(label) + 1, 40))
    # print (and PDF-render) the whole step, captions and the long text lines included
    chars = lambda text: 1 + len(text) // book.style["column_width"]  # noqa: E731
    right = max([b.col + max(b.shape[1], chars(b.caption)) for b in lay.blocks.values()]
                + [chars(v[1]) for (r, _), v in sh.cells.items() if r < 3])
    ws.print_area(0, 0, lay.height, right)
    sh.put(0, right, "string", " ", None)  # LibreOffice crops a one-page PDF to used cells
    ws.fit_to_pages(1, 1)
    ws.set_landscape()
    sh.flush(ws)

