"""Export: stepviz.write_workbook against writing the very same workbook directly with
XlsxWriter: the same cells (formulas with their cached values, numbers, strings, links),
the same formats, conditional formats, validations, names, protection and chart, in the
mode stepviz picks for the workbook's size (in memory when small, else constant memory)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import openpyxl

import stepviz
from common import interleaved
from direct import write_direct
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
              if rule.type == "expression" else (str(r.sqref), rule.type, None)  # the weights' data bars
              for r in ws.conditional_formatting for rule in r.rules]
        dv = [(str(d.sqref), d.prompt) for d in ws.data_validations.dataValidation]
        names = [(n, d.attr_text) for n, d in ws.defined_names.items()]
        widths = [(d.min, d.max, d.width) for d in ws.column_dimensions.values() if d.min and d.width]
        sheets.append((ws.title, rows, {"cf": cf, "dv": dv, "names": names, "widths": widths,
                                        "protect": bool(ws.protection.sheet), "chart": bool(ws._charts)}))
    return sheets


def main(tiny=False):
    repeat = 1 if tiny else 7
    cases = [("seed-mlp", {})] if tiny else [("seed-mlp", {}), ("seed-mlp", {"detail": list(range(1, 21))}),
                                                ("two-layer", {})]
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for name, kw in cases:
            label = name + (f" detail {len(kw['detail'])} epochs" if kw else "")
            run = stepviz.train(name, live_epochs=0, **kw)  # the Training sheet: bench_training
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
