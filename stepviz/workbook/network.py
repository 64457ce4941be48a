"""The weights as pictures: signed data bars beside every weight block of the step sheets, and the
Overview's "Network" section (written where there is a Map sheet): the weights after the first
detailed epoch's update as live links with the same bars beside them, and a diagram of the network whose
labels are those cells (a scatter chart, a series per weight: XlsxWriter draws no connectors)."""
from __future__ import annotations

import numpy as np
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell

from ..display import shown
from ..maps import HIGH
from .core import absolute

MAX_EDGES = 60  # the Overview's diagram draws at most this many weights (a series each)


BAR_POSITIVE, BAR_NEGATIVE = "8DBDE3", "F08C96"  # light: the number stays readable over its bar
LINE_POSITIVE, LINE_NEGATIVE = HIGH, "D7263D"


def data_bars(ws, r0, c0, r1, c1) -> None:
    """Signed data bars over cells that each link to a weight (and show no number): from the
    cell's middle, blue to the right for a positive value, red to the left for a negative one,
    none for zero; they follow the values live. They sit in cells of their own beside the
    weights, so a bar never covers a number or the focus's yellow and orange."""
    ws.conditional_format(r0, c0, r1, c1, {"type": "data_bar", "data_bar_2010": True,
                                           "bar_color": "#" + BAR_POSITIVE, "bar_negative_color": "#" + BAR_NEGATIVE,
                                           "bar_axis_position": "middle", "bar_axis_color": "#888888"})


def bar_cells(cells, fmt, r: int, c: int, value: float, bar_col: int) -> None:
    """The bar of the weight at (r, c): a cell at (r, bar_col) that links to it, its number hidden."""
    cells.put(r, bar_col, "formula", "=" + xl_rowcol_to_cell(r, c), fmt, value)


def weight_bars(sheet) -> None:
    """Signed data bars beside every weight (and bias) block a step sheet makes: a mini-block
    of the block's shape right of its values (``Block.bars``), each cell linked to its weight."""
    fmt = sheet.styles.bar
    for b in sheet.lay.blocks:
        if not b.bars:
            continue
        value = sheet.values[b]
        for i in range(b.shape[0]):
            for j in range(b.shape[1]):
                bar_cells(sheet.cells, fmt, *b.cell(i, j), float(value[i, j]), b.bars_col + j)
        data_bars(sheet.ws, b.row, b.bars_col, b.row + b.shape[0] - 1, b.bars_col + b.shape[1] - 1)


def write_network(book, ws, cells, r: int) -> int:
    """The Overview's "Network" section: the weights after the first detailed epoch's update as
    live links with signed data bars, and a diagram (a scatter chart: a series per weight, its
    label the weight's cell). Returns the last row used."""
    msg, st, net, run = book.msg, book.styles, book.config.network, book.run
    epoch = run.detail[0]
    cells.text(r, 0, msg("map.network"), st.bold)
    cells.text(r + 1, 0, first_update_text(book, "map.network_about", epoch), st.words)
    row = r + 2
    where = {}
    for name in net.parameters():
        value = run.value(epoch, book.last[name].number, name)
        fmt = st.cell("link", shown(value, book.config.decimals).num_format)
        top = row
        for i, j in np.ndindex(value.shape):
            cells.text(row, 0, f"{name}[{i + 1},{j + 1}]")
            cells.put(row, 1, "formula", book.link(epoch, book.last[name], name, i, j), fmt, float(value[i, j]))
            bar_cells(cells, st.bar, row, 1, float(value[i, j]), 2)  # the bar beside the number
            where[(name, i, j)] = (row, 1)
            row += 1
        data_bars(ws, top, 2, row - 1, 2)
    sizes = (net.inputs, *net.hidden, net.outputs)
    weights = [n for n in net.parameters() if n.startswith("w")]  # wh, wh1, ..., wout: input to output
    edges = sum(a * b for a, b in zip(sizes, sizes[1:]))
    if edges > MAX_EDGES:
        cells.text(row, 0, msg("map.network_large", edges=edges, most=MAX_EDGES), st.note)
        return row
    _diagram(book, ws, cells, r + 2, sizes, weights, where, epoch)
    return max(row, r + 2 + 16)


def _diagram(book, ws, cells, r, sizes, weights, where, epoch):
    from ..config import input_names

    run, cfg = book.run, book.config
    at = lambda layer, k: (float(layer), (sizes[layer] - 1) / 2 - k)  # noqa: E731  (x, y) of a node
    col = 16  # the diagram's coordinates: hidden columns beside the section
    sheet = quote_sheetname(ws.name)
    chart = book.wb.add_chart({"type": "scatter", "subtype": "straight"})
    row = r
    largest = max(float(np.abs(run.value(epoch, book.last[w].number, w)).max()) for w in weights) or 1.0
    top = (max(sizes) - 1) / 2 + 0.5
    marks = label_points(sizes, at, top)
    for layer, w in enumerate(weights):
        value = run.value(epoch, book.last[w].number, w)
        for i, j in np.ndindex(value.shape):
            (x0, y0), (x1, y1) = at(layer, i), at(layer + 1, j)
            t = marks[(layer, i, j)]  # the label's point: where it is clear of the other labels and edges
            for k, (x, y) in enumerate(((x0, y0), (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t), (x1, y1))):
                cells.put(row + k, col, "number", x)
                cells.put(row + k, col + 1, "number", y)
            v = float(value[i, j])
            # the series' name is the live weight, as text: the label of the edge's middle point
            label = absolute(ws.name, where[(w, i, j)])
            cells.put(row, col + 2, "formula", f"=FIXED({label},2)", None, f"{v:.2f}")
            chart.add_series({
                "name": f"={sheet}!${_c(col + 2)}${row + 1}",
                "categories": f"={sheet}!${_c(col)}${row + 1}:${_c(col)}${row + 3}",
                "values": f"={sheet}!${_c(col + 1)}${row + 1}:${_c(col + 1)}${row + 3}",
                "line": {"color": "#" + (LINE_POSITIVE if v >= 0 else LINE_NEGATIVE),
                         "width": 0.75 + 3.0 * abs(v) / largest},
                "marker": {"type": "none"},
                "data_labels": {"series_name": True, "font": {"size": 7}, "position": "above",
                                "custom": [{"delete": True}, None, {"delete": True}]}})
            row += 3
    names = list(input_names(cfg.X.shape[1], cfg.x_labels))
    for layer in range(1, len(sizes) - 1):
        names += [f"h{'' if len(sizes) == 3 else layer}[{k + 1}]" for k in range(sizes[layer])]
    names += [f"output[{k + 1}]" if sizes[-1] > 1 else "output" for k in range(sizes[-1])]
    first = row
    for layer, n in enumerate(sizes):
        for k in range(n):
            x, y = at(layer, k)
            cells.put(row, col, "number", x)
            cells.put(row, col + 1, "number", y)
            row += 1
    chart.add_series({"categories": f"={sheet}!${_c(col)}${first + 1}:${_c(col)}${row}",
                      "values": f"={sheet}!${_c(col + 1)}${first + 1}:${_c(col + 1)}${row}",
                      "line": {"none": True},
                      "marker": {"type": "circle", "size": 9, "fill": {"color": "#FFFFFF"},
                                 "border": {"color": "#333333"}},
                      "data_labels": {"value": True, "position": "below", "font": {"size": 8, "bold": True},
                                      "custom": [{"value": n} for n in names]}})
    chart.set_title({"none": True})
    chart.set_legend({"none": True})
    chart.set_x_axis({"visible": False, "min": -0.3, "max": len(sizes) - 0.7, "major_gridlines": {"visible": False}})
    chart.set_y_axis({"visible": False, "min": -top, "max": top, "major_gridlines": {"visible": False}})
    chart.show_hidden_data()
    chart.set_size({"width": WIDTH, "height": HEIGHT})
    ws.set_column(col, col + 2, None, None, {"hidden": True})
    ws.insert_chart(r, 3, chart, {"x_offset": 8, "y_offset": 4})


WIDTH, HEIGHT = 520, 300  # the diagram, in pixels
LABEL_BOX = 30, 14  # a weight's label ("-0.10" in 7 pt) in pixels, drawn above its point
TRIES = tuple(k / 20 for k in range(3, 18))  # where along its edge a label may sit: 15 % … 85 %


def pixels(sizes, top):
    """(x, y) of the diagram in pixels of its plot area (about the chart less 20 px a side)."""
    w, h = WIDTH - 40, HEIGHT - 40
    return lambda x, y: ((x + 0.3) / (len(sizes) - 0.4) * w, (top - y) / (2 * top) * h)


def label_points(sizes, at, top) -> dict[tuple[int, int, int], float]:
    """For each edge (layer, i, j), how far along it (0: its source, 1: its target) its label
    sits: of TRIES, a point whose label box touches no label placed before it, then crosses the
    fewest other edges (a label on a crossing reads as the other edge's), then is farthest from
    them."""
    px = pixels(sizes, top)
    edges = [(layer, i, j) for layer in range(len(sizes) - 1) for i in range(sizes[layer]) for j in range(sizes[layer + 1])]
    ends = {e: (px(*at(e[0], e[1])), px(*at(e[0] + 1, e[2]))) for e in edges}
    placed, out = [], {}
    w, h = LABEL_BOX

    def on(e, t):
        (x0, y0), (x1, y1) = ends[e]
        return x0 + (x1 - x0) * t, y0 + (y1 - y0) * t - h / 2 - 2  # the box's middle, above the point

    def apart(p, q):  # > 1: the two boxes do not touch
        return max(abs(p[0] - q[0]) / w, abs(p[1] - q[1]) / h)

    def gap(p, e):  # pixels from the box's middle to edge e
        (x0, y0), (x1, y1) = ends[e]
        d = np.array([x1 - x0, y1 - y0])
        u = min(1.0, max(0.0, float(np.dot(np.array(p) - (x0, y0), d) / np.dot(d, d))))
        return float(np.hypot(*(np.array(p) - (x0 + u * d[0], y0 + u * d[1]))))

    def crossed(p, e):  # other edges through the box (a point every 2 px along each)
        (x0, y0), (x1, y1) = ends[e]
        t = np.linspace(0, 1, int(np.hypot(x1 - x0, y1 - y0) / 2) + 2)
        xs, ys = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
        return bool(np.any((np.abs(xs - p[0]) < w / 2 + 1) & (np.abs(ys - p[1]) < h / 2 + 1)))

    for e in edges:
        def score(t):
            p = on(e, t)
            clear = min([apart(p, q) for q in placed] + [2.0])
            hits = sum(crossed(p, f) for f in edges if f != e)
            return clear > 1.05, -hits, min(clear, 1.6), min([gap(p, f) for f in edges if f != e] + [h]), -abs(t - 0.3)
        out[e] = max(TRIES, key=score)
        placed.append(on(e, out[e]))
    return out


def first_update_text(book, key: str, update: int) -> str:
    """A message about the first detailed update: ``epoch 1``, or with mini-batches
    ``update 1.1 (epoch 1, batch 1)`` (the ``_batch`` variant of the key)."""
    label = book.label(update)
    if book.config.batches == 1:
        return book.msg(key, epoch=label)
    e, b = label.split(".")
    return book.msg(key + "_batch", epoch=e, batch=b, update=label)


def _c(col: int) -> str:
    return xl_col_to_name(col)
