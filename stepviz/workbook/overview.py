"""The Overview: settings, legend, predictions and the table of contents."""
from __future__ import annotations

from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from .core import Cells
from .layout import sheet_name


def write_overview(book, ws):
    run, cfg, sh = book.run, book.run.config, Cells()
    net = cfg.network
    sh.put(0, 0, "string", f"stepviz · {cfg.name}", book.f_title)
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
    sh.put(r, 0, "string", "Settings", book.f_bold)
    for key, value in rows:
        r += 1
        sh.put(r, 0, "string", key, None)
        if isinstance(value, str):
            sh.put(r, 1, "string", value, None)
        else:
            sh.put(r, 1, "number", value, book.f_left)
        if key == "lr":
            book.lr_cell = f"Overview!{xl_rowcol_to_cell(r, 1, row_abs=True, col_abs=True)}"
            sh.put(r, 2, "string", "← edit to recompute every detailed epoch", book.f_words)
    r += 2
    sh.put(r, 0, "string", "Colours", book.f_bold)
    sh.put(r + 1, 0, "blank", None, book.f_legend_focus)
    sh.put(r + 1, 1, "string", "the cell being computed (the focus of each result)", None)
    sh.put(r + 2, 0, "blank", None, book.f_legend_source)
    sh.put(r + 2, 1, "string", "the cells its formula reads", None)
    r += 4
    sh.put(r, 0, "string", "Predictions (last epoch) vs targets", book.f_bold)
    r += 1
    k = cfg.y.shape[1]
    ylab = cfg.y_labels or tuple(f"y{j + 1}" if k > 1 else "y" for j in range(k))
    sh.put(r, 0, "string", "sample", book.f_caption)
    for j in range(k):
        sh.put(r, 1 + j, "string", f"target {ylab[j]}", book.f_caption)
        sh.put(r, 1 + k + j, "string", f"output {ylab[j]}", book.f_caption)
    for i in range(len(cfg.X)):
        r += 1
        sh.put(r, 0, "number", i + 1, book.f_left)
        for j in range(k):
            sh.put(r, 1 + j, "number", float(cfg.y[i, j]), book.f_plain)
            sh.put(r, 1 + k + j, "number", float(run.output[i, j]), book.f_plain)
    if cfg.predict is not None:
        r += 2
        sh.put(r, 0, "string", "New inputs (data.predict) and their predictions after training", book.f_bold)
        pred = run.predict(cfg.predict)
        d = cfg.predict.shape[1]
        for i in range(len(cfg.predict)):
            r += 1
            for j in range(d):
                sh.put(r, j, "number", float(cfg.predict[i, j]), book.f_full)
            for j in range(k):
                sh.put(r, d + 1 + j, "number", float(pred[i, j]), book.f_full)
    r += 2
    sh.put(r, 0, "string", "Steps", book.f_bold)
    for e in run.detail:
        for s in run.steps:
            r += 1
            name = sheet_name(e, s)
            sh.put(r, 0, "url", f"internal:{quote_sheetname(name)}!A1", book.f_link, name)
            sh.put(r, 2, "string", ";   ".join(c.words for c in s.computes), None)
    r += 1
    sh.put(r + 1, 0, "url", "internal:History!A1", book.f_link, "History")
    sh.put(r + 1, 2, "string", "loss, outputs and parameters per recorded epoch, with a chart", None)
    sh.put(r + 2, 0, "url", "internal:Trace!A1", book.f_link, "Trace")
    sh.put(r + 2, 2, "string", "every value of the detailed epochs: epoch, step, name, row, col, value", None)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 12, 12)
    sh.put(0, 9, "string", " ", None)  # LibreOffice crops a one-page PDF to used cells
    sh.flush(ws)
