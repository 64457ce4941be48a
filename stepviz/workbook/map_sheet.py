"""The Map sheet: what the network learned, as live pictures.

A map is a GRID×GRID block of cells over the plane of two inputs (stepviz.maps), each cell
the network's output, or one hidden unit's activation, at one point, coloured by a colour
scale. Its formula is the forward pass at that point spelled by the step table's own op kinds
(the dense op's ``spell`` inside the activation's): a hidden unit's cell reads the two axis
cells of its map (and the mean of any other input), the next layer's cell reads the cells at
the same place in the previous layer's maps, and every weight is a cell of the parameter list
beside the maps. Three sections:

* epoch 1 (the first detailed epoch) after its update, live: the parameter list links to its
  step 11–12 results, so an edit of a start value, X, y or lr redraws every map;
* after training: the same maps over a list of the final parameters (links to the Training
  sheet's last row when it is live, else values from training);
* the training's course: the output map after a few epochs, each cell one formula of its point
  and the parameters the Training sheet's row after that epoch starts from (stepviz.formulas.forward),
  so an edit of lr redraws them; epochs beyond the live rows are values from the recorded history.

The weights as pictures (data bars, the Overview's Network section) are in ``network.py``.
"""
from __future__ import annotations

import numpy as np
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ..display import shown
from ..maps import (GRID, HIGH, LOW, MID, grids, layers, output_activation, parameters_after, plane, snapshots,
                    unit_title, value_range)
from ..formulas import unit
from ..terms import Ref, excel
from . import printing
from .inputs import has_inputs
from .inputs import link as inputs_link
from .inputs import stat as inputs_stat
from .core import Cells

LABEL, VALUE = 1, 2  # the parameter list's columns
FIRST_MAP = 4  # the column of the first map's row labels
PER_ROW = 4  # maps side by side
SPAN = GRID + 2  # columns a map takes: row labels, the grid, a gap
BAND = GRID + 4  # rows a band of maps takes: caption, axis, the grid, a gap


def has_map(book) -> bool:
    """A Map sheet is written for networks with map inputs, except in exercise workbooks (its
    live parameters are the answers of steps 11–12)."""
    return book.config.map_inputs is not None and not book.exercise


def sheet_name(book) -> str:
    return book.msg("sheets.map")


class MapSheet:
    def __init__(self, book, ws):
        self.book, self.ws, self.run = book, ws, book.run
        self.cfg, self.msg, self.st = book.config, book.msg, book.styles
        self.plane = plane(self.cfg)
        self.layers = layers(self.run.steps)
        self.cells = Cells()
        self.net = self.cfg.network
        self.epoch = self.run.detail[0]  # the first detailed update (with mini-batches: 1.1)
        add = book.wb.add_format
        caption = "#" + self.st.style["caption"]
        self.hide = add({"num_format": ";;;"})  # the colour is the picture; the value is in the cell
        self.marks: dict[str, object] = {}  # a format per target shown
        self.samples: dict[tuple[int, int], int] = {}  # grid cell -> the first sample nearest to it
        for k, ij in enumerate(self.plane.nearest(self.cfg.raw)):
            self.samples.setdefault(ij, k)
        self.axis_top = add({"rotation": 90, "font_size": 8, "font_color": caption, "align": "center",
                             "num_format": shown(self.plane.xs, 2).num_format})
        self.axis_left = add({"font_size": 8, "font_color": caption, "align": "right",
                              "num_format": shown(self.plane.ys, 2).num_format})
        self.heading = add({"bold": True, "font_size": 12})
        self.bottom = 0
        self.widths: dict[int, float] = {}
        self.held: dict[int, str] = {}  # the cells of the inputs held at their mean (the last section's)

    # -- the sheet ---------------------------------------------------------------------------
    def write(self):
        msg, p, st = self.msg, self.plane, self.st
        self.cells.text(0, 0, msg("map.title", across=p.names[0], up=p.names[1]), st.title)
        self.cells.text(1, 0, msg("map.intro", across=p.names[0], up=p.names[1]))
        others = [n for j, n in enumerate(self._names()) if j not in p.columns]
        if others:
            self.cells.text(2, 0, msg("map.held", names=", ".join(others)), st.note)
        self.cells.link(3, 0, self.book.overview, "A1", "← " + self.book.overview, st.link)
        r = self.legend(5)
        label = self.book.label(self.epoch)
        sheets = sorted({f"{label}.{self.book.last[n].number:02d}" for n in self.net.parameters()})
        batch = "_batch" if self.cfg.batches > 1 else ""  # "update 1.1 (epoch 1, batch 1)"
        e, b = label.split(".") if batch else (label, "")
        live = {p: self.run.value(self.epoch, self.book.last[p].number, p) for p in self.net.parameters()}
        r = self.section(r + 1, msg("map.live" + batch, epoch=e, batch=b, update=label),
                         msg("map.live_params" + batch, epoch=e, batch=b, update=label, sheets=", ".join(sheets)),
                         live, live=True)
        plan = self.book.training
        final = (lambda name, i, j: plan.link(plan.after, name, i, j)) if plan and plan.all_live else None
        r = self.section(r + 1, msg("map.final_live" if final else "map.final", epochs=self.cfg.epochs), msg("map.final_params"),
                         self.run.params, live=False, links=final)
        self.course(r + 1)
        self.finish()

    def _names(self):
        from ..config import input_names

        return input_names(self.cfg.X.shape[1], self.cfg.x_labels)

    def legend(self, r: int) -> int:
        """The colour scale: five cells from its low to its high value, under the same scale."""
        self.cells.text(r, LABEL, self.msg("map.scale"), self.st.bold)
        low, mid, high = value_range(output_activation(self.net))
        values = [low, (low + mid) / 2, mid, (mid + high) / 2, high]
        fmt = self.book.wb.add_format({"align": "center", "num_format": shown(values, 2).num_format})
        for k, v in enumerate(values):
            self.cells.put(r + 1 + k, VALUE, "number", v, fmt)
        self.scale(r + 1, VALUE, r + len(values), VALUE, values[0], values[2], values[-1])
        return r + len(values) + 1

    def scale(self, r0, c0, r1, c1, low, mid, high, relu=False):
        spec = {"type": "3_color_scale", "min_color": "#" + LOW, "mid_color": "#" + MID, "max_color": "#" + HIGH,
                "min_type": "num", "min_value": low, "mid_type": "num", "mid_value": mid,
                "max_type": "num", "max_value": high}
        if relu:  # no upper bound: the map's own largest value is blue
            spec.update(mid_type="percentile", mid_value=50, max_type="max")
            del spec["max_value"]
        self.ws.conditional_format(r0, c0, r1, c1, spec)

    # -- a section: a parameter list and the maps of every unit -----------------------------
    def section(self, r, title, params_title, params, live, links=None) -> int:
        """``links``: (name, i, j) -> a formula reading the parameter elsewhere (the final
        parameters on the Training sheet), else the numbers of ``params``."""
        book, st, cells = self.book, self.st, self.cells
        cells.text(r, LABEL, title, self.heading)
        r += 1
        cells.text(r, LABEL, params_title, st.bold)
        where: dict[tuple[str, int, int], str] = {}
        row = r + 3  # beside the maps' grids, below their caption and (tall) axis row
        for name in self.net.parameters():
            value = params[name]
            fmt = st.cell("link" if live or links else "trained", shown(value, self.cfg.decimals).num_format)
            for i, j in np.ndindex(value.shape):
                cells.text(row, LABEL, f"{name}[{i + 1},{j + 1}]")
                v = float(value[i, j])
                if links:
                    cells.put(row, VALUE, "formula", links(name, i, j), fmt, v)
                elif live:
                    cells.put(row, VALUE, "formula", book.link(self.epoch, book.last[name], name, i, j), fmt, v)
                else:
                    cells.put(row, VALUE, "number", v, fmt)
                where[(name, i, j)] = xl_rowcol_to_cell(row, VALUE, True, True)
                row += 1
        means = self.held = self.means(row, live)
        row += len(means)
        self.bottom = max(self.bottom, row)

        values = grids(self.run, params, self.plane)
        # output first, then the hidden layers from the first
        order = [len(self.layers) - 1] + list(range(len(self.layers) - 1))
        maps = [(L, u) for L in order for u in range(values[self.layers[L][1].result].shape[2])]
        top = r + 1
        corner = {m: (top + BAND * (k // PER_ROW), FIRST_MAP + SPAN * (k % PER_ROW)) for k, m in enumerate(maps)}
        weight = lambda name, i, j: Ref(where[(name, i, j)])  # noqa: E731
        for (L, u), (mr, mc) in corner.items():
            act = self.layers[L][1]
            grid = values[act.result][:, :, u]
            self.axes(mr, mc, self._caption(act.result, u, values[act.result].shape[2]))
            # one formula for the whole map (overflow-safe), the previous layer's cells as {0}, {1}, ...
            template = "=" + excel(unit(self.layers[L], u, self.run.shapes, weight, lambda c: Ref("{%d}" % c)),
                                   None, None)
            for i in range(GRID):
                for j in range(GRID):
                    if L == 0:
                        prev = [self.input_cell(c, mr, mc, i, j, means) for c in range(self.cfg.X.shape[1])]
                    else:  # the same point on each map of the previous layer
                        prev = [xl_rowcol_to_cell(corner[(L - 1, c)][0] + 2 + i, corner[(L - 1, c)][1] + 1 + j)
                                for c in range(values[self.layers[L - 1][1].result].shape[2])]
                    self.cells.put(mr + 2 + i, mc + 1 + j, "formula", template.format(*prev),
                                   self.mark(act.result, u, i, j), float(grid[i, j]))
            self.colour(mr, mc, act, grid)
        bands = -(-len(maps) // PER_ROW)
        return max(row, top + BAND * bands)

    def means(self, row, live) -> dict[int, str]:
        """The cells of the other inputs' means (live: AVERAGE of X on step 1)."""
        out, cfg, book = {}, self.cfg, self.book
        names = self._names()
        for c in range(cfg.X.shape[1]):
            if c in self.plane.columns:
                continue
            self.cells.text(row, LABEL, self.msg("map.mean", name=names[c]))
            v = float(cfg.X[:, c].mean())  # in the units the network reads (standardised: about 0)
            fmt = self.st.cell("link" if live else "trained", shown([v], cfg.decimals).num_format)
            if live and has_inputs(book):  # the standardised column of every sample
                first, last = (inputs_link(book, k, c)[1:] for k in (0, len(cfg.X) - 1))
                self.cells.put(row, VALUE, "formula", f"=AVERAGE({first}:{last.split('!')[1]})", fmt, v)
            elif live:
                step = book.producer("X")
                block = book.result_block(step, "X")
                first, last = block.cell(0, c), block.cell(block.shape[0] - 1, c)
                rng = xl_rowcol_to_cell(*first) + ":" + xl_rowcol_to_cell(*last)
                formula = f"=AVERAGE({quote_sheetname(book.sheet_name(book.run.detail[0], step))}!{rng})"
                self.cells.put(row, VALUE, "formula", formula, fmt, v)
            else:
                self.cells.put(row, VALUE, "number", v, fmt)
            out[c] = xl_rowcol_to_cell(row, VALUE, True, True)
            row += 1
        return out

    def input_cell(self, c, mr, mc, i, j, means) -> str:
        """What the first layer reads of input c at the map's point (i, j): an axis cell (in the
        data's units; standardised there as the Inputs sheet does) or the input's mean."""
        a, b = self.plane.columns
        if c not in (a, b):
            return means[c]
        cell = xl_rowcol_to_cell(mr + 1, mc + 1 + j, True, False) if c == a else xl_rowcol_to_cell(mr + 2 + i, mc, False, True)
        if not has_inputs(self.book):
            return cell
        return f"(({cell}-{inputs_stat(self.book, 'mean', c)})/{inputs_stat(self.book, 'sd', c)})"

    def _caption(self, name, u, units) -> str:
        p = self.plane
        unit = name if units == 1 else self.msg("map.unit", name=name, unit=u + 1)
        if name == "output" and units > 1 and self.cfg.classes:  # a class's probability: its label
            unit = unit_title(self.cfg, name, u, units)
        return f"{unit}   ({p.names[0]} →, {p.names[1]} ↑)"

    def axes(self, mr, mc, caption):
        """A map's caption, its column labels (the first input, rotated) and row labels."""
        self.cells.text(mr, mc, caption, self.st.caption)
        for j, x in enumerate(self.plane.xs):
            self.cells.put(mr + 1, mc + 1 + j, "number", float(x), self.axis_top)
        for i, y in enumerate(self.plane.ys):
            self.cells.put(mr + 2 + i, mc, "number", float(y), self.axis_left)
        self.widths[mc] = 6
        for j in range(GRID):
            self.widths[mc + 1 + j] = 2.7
        self.widths[mc + GRID + 1] = 2
        self.ws.set_row(mr + 1, 32)

    def mark(self, name, u, i, j):
        """The cell nearest a sample shows that sample's target (the output's, or on a hidden
        unit's map the first output's), bold in a black frame; the others show only colour."""
        s = self.samples.get((i, j))
        if s is None:
            return self.hide
        k = u if name == "output" else 0
        label = f"{self.cfg.y[s, k]:g}"
        if label not in self.marks:
            self.marks[label] = self.book.wb.add_format(
                {"num_format": '"' + label + '"', "bold": True, "align": "center", "font_size": 9,
                 "border": 2, "border_color": "#000000"})
        return self.marks[label]

    def colour(self, mr, mc, act, grid):
        """A map's colour scale, from the activation of its layer (the output's may differ)."""
        fn = output_activation(self.net) if act.result == "output" else self.net.activation
        low, mid, high = value_range(fn, grid)
        self.scale(mr + 2, mc + 1, mr + 1 + GRID, mc + GRID, low, mid, high, relu=fn == "relu")

    # -- the training's course: output maps after a few epochs, live from the Training sheet ----
    def course(self, r):
        cells, msg = self.cells, self.msg
        k = self.run.shapes["output"][1]
        epochs = snapshots(self.run)
        rows = {e: self.after_row(e) for e in epochs}
        formulas = {(e, u): self.output_formula(rows[e], u) if rows[e] is not None else None
                    for e in epochs for u in range(k)}
        live = [e for e in epochs if all(formulas[(e, u)] for u in range(k))]
        heading = ("map.course" if not live else "map.course_live" if len(live) == len(epochs)
                   else "map.course_some")
        cells.text(r, LABEL, msg(heading, last=live[-1] if live else 0), self.heading)
        maps = [(e, u) for e in epochs for u in range(k)]
        for n, (e, u) in enumerate(maps):
            mr, mc = r + 1 + BAND * (n // PER_ROW), FIRST_MAP + SPAN * (n % PER_ROW)
            grid = grids(self.run, parameters_after(self.run, e), self.plane)["output"][:, :, u]
            name = unit_title(self.cfg, "output", u, k) if self.cfg.classes else (
                "output" if k == 1 else f"output[·,{u + 1}]")
            self.axes(mr, mc, msg("map.after", name=name, epoch=e))
            template = formulas[(e, u)] if e in live else None
            for i in range(GRID):
                for j in range(GRID):
                    at, fmt, v = (mr + 2 + i, mc + 1 + j), self.mark("output", u, i, j), float(grid[i, j])
                    if template is None:
                        cells.put(*at, "number", v, fmt)
                    else:
                        point = [self.input_cell(c, mr, mc, i, j, self.held) for c in range(self.cfg.X.shape[1])]
                        cells.put(*at, "formula", template.format(*point), fmt, v)
            self.colour(mr, mc, self.layers[-1][1], grid)
        self.bottom = max(self.bottom, r + 1 + BAND * -(-len(maps) // PER_ROW))

    def after_row(self, epoch: int) -> int | None:
        """The Training sheet's row whose start values are the parameters after ``epoch`` (the
        start of the next epoch's first update), or None when that row holds no live values."""
        plan = self.book.training
        return plan.start_row(epoch * self.cfg.batches + 1) if plan else None

    def output_formula(self, row: int, u: int) -> str | None:
        """Output unit ``u`` at a point as one formula of the parameters on the Training sheet's
        ``row`` (stepviz.formulas.forward), with input c's cell as ``{c}``; None when it would
        be longer than Excel allows."""
        from ..formulas import forward
        from ..limits import MAX_FORMULA
        from ..terms import Ref, excel

        plan = self.book.training

        def operand(name, i, j):
            return Ref("{%d}" % j) if name == "X" else Ref(plan.cell(row, name, i, j))

        f = "=" + excel(forward(self.net, self.net.shapes(1), operand)(0, u), None, None)
        return f if len(f) + 40 * f.count("{") <= MAX_FORMULA else None

    def finish(self):
        ws = self.ws
        ws.set_column(0, 0, 2)
        ws.set_column(LABEL, LABEL, 14)
        ws.set_column(VALUE, VALUE, 10)
        ws.set_column(VALUE + 1, VALUE + 1, 2)
        for c, w in sorted(self.widths.items()):
            ws.set_column(c, c, w)
        ws.protect()
        right = max(self.widths) if self.widths else VALUE
        self.cells.text(0, right, " ")  # LibreOffice crops a one-page PDF to used cells
        printing.page(ws, self.bottom, right, tall=1)  # its print area: one landscape A4 page
        self.cells.flush(ws)


def write_map(book, ws) -> None:
    MapSheet(book, ws).write()
