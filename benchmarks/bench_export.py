"""Export: stepviz.write_workbook against writing the very same cells (formulas with their
cached values, numbers, strings, fills and number formats) directly with XlsxWriter, in the
mode stepviz picks for the workbook's size (in memory when small, else constant memory)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import openpyxl
import xlsxwriter

import stepviz
from common import interleaved
from stepviz.workbook import IN_MEMORY_CELLS, estimate


def cells_of(path):
    """Every cell of a workbook: (sheet, [(row, col, kind, content, value, format key)])."""
    wf, wv = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in wf.worksheets:
        rows = []
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not (c.fill and c.fill.fill_type):
                    continue
                fill = c.fill.fgColor.rgb[-6:] if c.fill and c.fill.fill_type == "solid" else None
                key = (fill, c.number_format, bool(c.font and c.font.b), bool(c.border and c.border.left.style))
                v = c.value
                if isinstance(v, str) and v.startswith("="):
                    rows.append((c.row - 1, c.column - 1, "formula", v, wv[ws.title][c.coordinate].value, key))
                elif isinstance(v, str):
                    rows.append((c.row - 1, c.column - 1, "string", v, None, key))
                elif v is None:
                    rows.append((c.row - 1, c.column - 1, "blank", None, None, key))
                else:
                    rows.append((c.row - 1, c.column - 1, "number", v, None, key))
        sheets.append((ws.title, rows))
    return sheets


def write_direct(sheets, path, in_memory):
    wb = xlsxwriter.Workbook(path, {"in_memory": True} if in_memory else {"constant_memory": True})
    formats = {}
    for _, rows in sheets:
        for *_, key in rows:
            if key not in formats:
                fill, num, bold, border = key
                spec = {"num_format": num, "bold": bold}
                if fill:
                    spec.update(bg_color="#" + fill, pattern=1)
                if border:
                    spec.update(border=1)
                formats[key] = wb.add_format(spec)
    for title, rows in sheets:
        ws = wb.add_worksheet(title)
        for r, c, kind, content, value, key in rows:
            if kind == "formula":
                ws.write_formula(r, c, content, formats[key], value)
            elif kind == "string":
                ws.write_string(r, c, content, formats[key])
            elif kind == "number":
                ws.write_number(r, c, content, formats[key])
            else:
                ws.write_blank(r, c, None, formats[key])
    wb.close()


def main(tiny=False):
    repeat = 1 if tiny else 7
    cases = [("seed-mlp", {})] if tiny else [("seed-mlp", {}), ("seed-mlp", {"detail": list(range(1, 21))}),
                                                ("two-layer", {})]
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for name, kw in cases:
            label = name + (f" detail {len(kw['detail'])} epochs" if kw else "")
            run = stepviz.train(name, **kw)
            ours_path, base_path = Path(d) / "ours.xlsx", Path(d) / "base.xlsx"
            stepviz.write_workbook(run, ours_path)
            sheets = cells_of(ours_path)
            n_cells = sum(len(r) for _, r in sheets)
            n_formulas = sum(1 for _, rows in sheets for x in rows if x[2] == "formula")
            in_memory = estimate(run.config).cells <= IN_MEMORY_CELLS
            base, ours = interleaved(lambda: write_direct(sheets, base_path, in_memory),
                                     lambda: stepviz.write_workbook(run, ours_path), repeat)
            out[label] = {"stepviz_s": ours, "baseline_s": base, "ratio": ours / base, "cells": n_cells,
                          "formulas": n_formulas, "target": 1.2}
            print(f"export {label:<28} {n_cells} cells ({n_formulas} formulas): stepviz {ours:.3f} s, "
                  f"XlsxWriter direct {base:.3f} s, ratio {ours / base:.2f} (target <= 1.2)")
    return out


if __name__ == "__main__":
    main()
