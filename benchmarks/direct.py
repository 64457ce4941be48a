"""The baseline of the end-to-end benchmark, and the pieces the others share: the tutorial's
training loop and writing a workbook's content directly with XlsxWriter. Imports nothing of
stepviz, so that a process running it pays only for numpy and XlsxWriter.

    python benchmarks/direct.py CONTENT.pickle OUT.xlsx

trains the seed network as the tutorial does (5000 epochs) and writes the workbook content
that bench_export.cells_of read from a stepviz workbook."""
from __future__ import annotations

import pickle
import sys

import numpy as np
import xlsxwriter


def seed_loop(X, y, wh, bh, wout, bout, lr, epochs):
    """The tutorial's loop (seed 003) with nothing recorded; any depth, like the engine."""
    Ws, bs = [w.copy() for w in (*wh, wout)], [b.copy() for b in (*bh, bout)]
    L = len(Ws) - 1
    for _ in range(epochs):
        acts = [X]
        for l in range(L + 1):
            acts.append(1 / (1 + np.exp(-(np.dot(acts[-1], Ws[l]) + bs[l]))))
        output = acts[-1]
        E = y - output
        d = E * (output * (1 - output))
        deltas = [d]
        for l in range(L, 0, -1):
            a = acts[l]
            d = d.dot(Ws[l].T) * (a * (1 - a))
            deltas.insert(0, d)
        for l in range(L + 1):
            Ws[l] += acts[l].T.dot(deltas[l]) * lr
            bs[l] += np.sum(deltas[l], axis=0, keepdims=True) * lr
    return Ws, bs



def write_direct(sheets, path, in_memory):
    wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False,
                                    **({"in_memory": True} if in_memory else {"constant_memory": True})})
    formats, fills = {}, {}
    for _, rows, _ in sheets:
        for *_, key in rows:
            if key not in formats:
                fill, num, bold, italic, font, border, locked = key
                spec = {"num_format": num, "bold": bold, "italic": italic, "locked": locked}
                if fill:
                    spec.update(bg_color="#" + fill, pattern=1)
                if font:
                    spec.update(font_color="#" + font)
                if border:
                    spec.update(border=1)
                formats[key] = wb.add_format(spec)
    for title, rows, extra in sheets:
        ws = wb.add_worksheet(title)
        for lo, hi, width in extra["widths"]:
            ws.set_column(lo - 1, hi - 1, width)
        for r, c, kind, content, value, key in rows:
            f = formats[key]
            if kind == "formula":
                ws.write_formula(r, c, content, f, value)
            elif kind == "array":
                ws.write_dynamic_array_formula(r, c, r, c, content, f, value)
            elif kind == "url":
                ws.write_url(r, c, content, f, value)
            elif kind == "string":
                ws.write_string(r, c, content, f)
            elif kind == "number":
                ws.write_number(r, c, content, f)
            else:
                ws.write_blank(r, c, None, f)
        for sqref, formula, fill in extra["cf"]:
            if formula == "dataBar":  # signed, as stepviz's on the weight blocks
                ws.conditional_format(sqref, {"type": "data_bar", "data_bar_2010": True, "bar_color": "#8DBDE3",
                                              "bar_negative_color": "#F08C96", "bar_axis_position": "middle"})
                continue
            if fill not in fills:
                fills[fill] = wb.add_format({"bg_color": "#" + (fill or "FFFFFF")})
            ws.conditional_format(sqref, {"type": "formula", "criteria": "=" + formula, "format": fills[fill]})
        for sqref, prompt in extra["dv"]:
            ws.data_validation(sqref, {"validate": "integer", "criteria": ">=", "value": 1, "input_message": prompt})
        for name, ref in extra["names"]:
            wb.define_name(f"'{title}'!{name}", "=" + ref)
        if extra["protect"]:
            ws.protect()
        if extra["chart"]:
            chart = wb.add_chart({"type": "scatter", "subtype": "straight"})
            chart.add_series({"values": [title, 20, 1, 20 + 1000, 1], "categories": [title, 20, 0, 20 + 1000, 0]})
            ws.insert_chart(1, 0, chart)
    wb.close()



def main(content, out):
    with open(content, "rb") as f:
        job = pickle.load(f)
    seed_loop(*job["training"])
    write_direct(job["sheets"], out, job["in_memory"])


if __name__ == "__main__":
    main(*sys.argv[1:3])
