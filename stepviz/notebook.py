"""A step sheet's picture in a notebook: ``Run.show_step(step, epoch, focus)``.

A ``StepView`` shows what the step sheet shows, read from the same declarations, never
recomputed another way: the workbook's layout of the step (stepviz.workbook.layout: one
band per result, with its own copies of its operands; an operand that an earlier result of
the step produced is read in place) and its captions; the numbers as ``display.shown``
spells them; the focus cell of each result yellow and the cells its formula reads orange,
from the op's source pattern (``op.pattern``), as the workbook's conditional formats; and
the arithmetic line (``display.line_values``), the text the workbook caches for that focus.
Jupyter renders it as HTML (``_repr_html_``): one pandas Styler table per matrix.
"""
from __future__ import annotations

import hashlib
import html
from numbers import Integral

import numpy as np

from .display import line_parts, line_values, shown
from .errors import StepvizError


class ViewError(StepvizError, ValueError):
    """A step, epoch or focus that the run cannot show."""


def _whole(v) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


class StepView:
    """Step ``step`` (its number) of detailed epoch ``epoch`` (default: the first) at
    ``focus`` (row, col counted from 1, clamped to each result's shape; default: the run's
    ``config.focus``). ``lines`` are the arithmetic lines; ``str`` gives the title, the
    formula in words and the lines; ``to_html`` the whole picture."""

    def __init__(self, run, step: int, epoch: int | None = None, focus=None):
        from .engine import Run
        from .errors import expect
        from .workbook.core import Book
        from .workbook.styles import style

        expect(isinstance(run, Run), "StepView", "a Run (from stepviz.train) as run", run)
        n = len(run.steps)
        if not _whole(step) or not 1 <= step <= n:
            raise ViewError(f"step: expected a step number from 1 to {n}, got {step!r}")
        if not run.detail:
            raise ViewError("this run records no epoch step by step; train it with detail=[1]")
        epoch = run.detail[0] if epoch is None else epoch
        if not _whole(epoch) or epoch not in run.detail:
            raise ViewError(f"epoch: expected a detailed epoch of this run ({', '.join(map(str, run.detail))}), "
                            f"got {epoch!r}; train with detail=[...] to see another")
        focus = run.config.focus if focus is None else focus
        if not (isinstance(focus, (tuple, list)) and len(focus) == 2 and all(_whole(f) and f >= 1 for f in focus)):
            raise ViewError(f"focus: expected (row, col), whole numbers counted from 1, got {focus!r}")
        try:
            import jinja2  # noqa: F401  (pandas' Styler writes its HTML with it)
        except ImportError:
            raise ImportError("run.show_step needs jinja2 for pandas' Styler: "
                              "pip install 'stepviz[notebook]'") from None

        book = Book(run, None)
        self.step, self.epoch, self.focus = book.steps[int(step)], int(epoch), (int(focus[0]), int(focus[1]))
        self.style = style()
        msg = book.msg
        self.title = book.sheet_title(self.epoch, self.step)
        self.words = ";   ".join(c.words(msg) for c in self.step.computes)
        self.focus_label = msg("sheet.focus")
        self.layout = lay = book.layouts[self.step.number]

        self.values = {b: book.value(self.epoch, self.step, b) for b in lay.blocks}
        self.shown = {b: shown(v, run.config.decimals) for b, v in self.values.items()}
        self.colours = {b: np.full(b.shape, "", dtype=object) for b in lay.blocks}
        self.lines: list[str] = []
        if self.step.given:  # data and start values: nothing is computed, nothing lit
            return
        for p in lay.placed:  # orange first, then yellow: a yellow cell stays yellow
            at = self.at(p.result)
            for k, pattern in p.compute.op.pattern(p.result.shape, [b.shape for b in p.operands]).items():
                for cell in pattern.at(*at):
                    self.colours[p.operands[k]][cell] = "source"
        for p in lay.placed:
            at = self.at(p.result)
            # a focus cell that another result of the step reads: both marks
            self.colours[p.result][at] = "focus_source" if self.colours[p.result][at] == "source" else "focus"
            blocks = {-1: p.result, **dict(enumerate(p.operands))}  # k = -1: the result
            shapes = [b.shape for b in p.operands]
            parts = line_parts(p.result.name, p.compute.op, shapes)
            line = line_values(parts, at, p.compute.op, shapes, lambda k: self.shown[blocks[k]],
                               lambda k: self.values[blocks[k]])
            self.lines.append(line.line(msg("sheet.line_unrounded", value="{value}")))

    def at(self, block) -> tuple[int, int]:
        """The focus within a result, 0-based: clamped to its shape, as in the workbook."""
        return min(self.focus[0], block.shape[0]) - 1, min(self.focus[1], block.shape[1]) - 1

    # -- HTML ---------------------------------------------------------------------------
    def table(self, block) -> str:
        """One matrix under its caption: a pandas Styler table, numbers as the workbook
        shows them, the focus cell yellow and the sources orange."""
        import pandas as pd

        s = self.style
        css = {"": "", "focus": f"background-color: #{s['focus']}; color: black",
               "focus_source": f"background-color: #{s['focus_source']}; color: black; border: 2px solid #{s['source']}",
               "source": f"background-color: #{s['source']}; color: black"}
        colours = np.vectorize(css.get, otypes=[object])(self.colours[block])
        rows, cols = block.shape
        names = [html.escape(label) for label in block.labels or ()]  # a CSV's column names
        row_names = names if names and block.transposed else [str(i + 1) for i in range(rows)]
        col_names = names if names and not block.transposed else [str(j + 1) for j in range(cols)]
        text = self.shown[block].text
        # ids unique to the content: two different tables in one notebook never share CSS
        uid = hashlib.sha1(repr((row_names, col_names, self.values[block].tolist(), text(1 / 3),
                                 colours.tolist())).encode()).hexdigest()[:12]
        styler = (pd.DataFrame(self.values[block]).style
                  .apply(lambda _: colours, axis=None)
                  .format(lambda v: text(float(v)))
                  .format_index(row_names.__getitem__, axis=0)
                  .format_index(col_names.__getitem__, axis=1)
                  .set_uuid(uid)
                  .set_table_styles([
                      {"selector": "td", "props": f"border: 1px solid #{s['border']}; text-align: right; "
                                                  "padding: 1px 6px; font-variant-numeric: tabular-nums"},
                      {"selector": "th", "props": f"font-weight: normal; font-style: italic; color: #{s['caption']}"}]))
        # the caption sits above the table, in a box as wide as the wider of the two
        return (f'<div><div class="stepviz-caption" style="font-weight: bold; white-space: nowrap; '
                f'color: #{s["caption"]}">{html.escape(block.caption)}</div>{styler.to_html()}</div>')

    def to_html(self) -> str:
        """The picture as one self-contained HTML fragment (styles inline, no scripts)."""
        row = '<div style="display: flex; gap: 1.5em; align-items: flex-start">{}</div>'
        out = [f'<div class="stepviz-step"><p><b>{html.escape(self.title)}</b><br>'
               f'<i>{html.escape(self.words)}</i>']
        if not self.step.given:
            out.append(f"<br>{html.escape(self.focus_label)} {self.focus[0]}, {self.focus[1]}")
        out.append("</p>")
        if self.step.given:
            out.append(row.format("".join(self.table(p.result) for p in self.layout.placed)))
        else:  # one band per result: its operand copies, then the result and its line
            out.append('<div style="display: grid; grid-template-columns: auto auto; gap: 0.5em 3em; '
                       'justify-content: start; align-items: start">')
            for p, line in zip(self.layout.placed, self.lines):
                copies = [self.table(b) for b in p.operands if b.role == "in"]
                out.append(row.format("".join(copies)))
                out.append(f'<div>{self.table(p.result)}<div class="stepviz-line" style="font-style: italic; '
                           f'white-space: nowrap">{html.escape(line)}</div></div>')
            out.append("</div>")
        return "".join(out) + "</div>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return "\n".join([self.title, self.words, *self.lines])
