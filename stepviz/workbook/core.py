"""The shared core of the sheet writers: the workbook's formats, the cell collector, and
what every sheet needs to know about the run (layouts, sheet names, where values live)."""
from __future__ import annotations

import tomllib

from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ..config import templates
from ..errors import StepvizError
from .layout import Block, Layout, sheet_name


class WorkbookError(StepvizError):
    """The workbook cannot be written (path, limits)."""


def style() -> dict:
    """Colours, number format and widths from templates/style.toml."""
    return tomllib.loads(templates().joinpath("style.toml").read_text("utf-8"))


class Cells:
    """Cells of one sheet, collected and then written in row order (constant memory)."""

    def __init__(self):
        self.cells: dict[tuple[int, int], tuple] = {}

    def put(self, r, c, kind, *args):
        self.cells[(r, c)] = (kind, *args)

    def flush(self, ws):
        for (r, c) in sorted(self.cells):
            kind, *args = self.cells[(r, c)]
            check(ws, getattr(ws, "write_" + kind)(r, c, *args), r, c)


def check(ws, rc, r, c):
    """XlsxWriter returns -1 for a cell it dropped: never let that pass silently."""
    if rc not in (0, None):
        raise WorkbookError(f"sheet {ws.name!r}: cell {xl_rowcol_to_cell(r, c)} could not be "
                            f"written (XlsxWriter returned {rc})")


class Book:
    """One workbook being written: the run, the formats, and the step layouts."""

    def __init__(self, run, wb):
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
        self.sheet_names = [sheet_name(e, s) for e in run.detail for s in run.steps]
        self._formulas = {}  # step number -> (formulas, focus sources): the same in every epoch

    def link_prefix(self, epoch, step, name) -> tuple[str, Block]:
        """("='sheet'!", block): where ``name`` produced by ``step`` in ``epoch`` lives."""
        return "=" + quote_sheetname(sheet_name(epoch, step)) + "!", self.layouts[step.number].blocks[("out", name)]

    def focus(self, block) -> tuple[int, int]:
        """The yellow cell of a result: the configured focus, clamped to the matrix."""
        focus = self.run.config.focus
        return block.cell(min(focus[0], block.shape[0]) - 1, min(focus[1], block.shape[1]) - 1)
