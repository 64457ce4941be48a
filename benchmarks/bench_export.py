"""Export: stepviz.write_workbook against writing the very same workbook directly with
XlsxWriter: the same cells (formulas with their cached values, numbers, strings, links),
the same formats, conditional formats, validations, names, protection and chart, in the
mode stepviz picks for the workbook's size (in memory when small, else constant memory)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import openpyxl
import xlsxwriter

import stepviz
from common import interleaved
from stepviz.workbook import IN_MEMORY_CELLS, estimate


def _key(c):
    fill = c.fill.fgColor.rgb[-6:] if c.fill and c.fill.fill_type == "solid" else None
    font = c.font.color.rgb[-6:] if c.font and c.font.color is not None and isinstance(c.font.color.rgb, str) else None
    return (fill, c.number_format, bool(c.font and c.font.b), bool(c.font and c.font.i), font,
            bool(c.border and c.border.left.style), c.protection.locked)


def cells_of(path):
    """Everything of a workbook that the baseline writes again: per sheet, its cells
    (row, col, kind, content, cached value, format key) and its sheet-wide settings."""
    wf, wv = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in wf.worksheets:
        rows = []
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                v, key = c.value, _key(c)
                at = (c.row - 1, c.column - 1)
                if type(v).__name__ == "ArrayFormula":
                    rows.append((*at, "array", v.text, wv[ws.title][c.coordinate].value, key))
                elif isinstance(v, str) and v.startswith("="):
                    rows.append((*at, "formula", v, wv[ws.title][c.coordinate].value, key))
                elif c.hyperlink is not None:
                    rows.append((*at, "url", "internal:" + c.hyperlink.location, v, key))
                elif isinstance(v, str):
                    rows.append((*at, "string", v, None, key))
                elif v is None:
                    rows.append((*at, "blank", None, None, key))
                else:
                    rows.append((*at, "number", v, None, key))
        cf = [(str(r.sqref), rule.formula[0], rule.dxf.fill.fgColor.rgb[-6:] if rule.dxf and rule.dxf.fill else None)
              for r in ws.conditional_formatting for rule in r.rules]
        dv = [(str(d.sqref), d.prompt) for d in ws.data_validations.dataValidation]
        names = [(n, d.attr_text) for n, d in ws.defined_names.items()]
        widths = [(d.min, d.max, d.width) for d in ws.column_dimensions.values() if d.min and d.width]
        sheets.append((ws.title, rows, {"cf": cf, "dv": dv, "names": names, "widths": widths,
                                        "protect": bool(ws.protection.sheet), "chart": bool(ws._charts)}))
    return sheets


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
            n_cells = sum(len(r) for _, r, _ in sheets)
            n_formulas = sum(1 for _, rows, _ in sheets for x in rows if x[2] in ("formula", "array"))
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
