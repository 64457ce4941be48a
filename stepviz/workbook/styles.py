"""The workbook's formats: one per role of a cell, created once per number format."""
from __future__ import annotations

import tomllib
from functools import cache

from ..text import templates

# every role a cell can have, in the order of the Overview's legend (answer: exercises only)
ROLES = ("focus", "source", "focus_source", "input", "value", "link", "trained", "answer")


@cache
def style() -> dict:
    """Colours and widths from templates/style.toml (read once; do not modify)."""
    return tomllib.loads(templates().joinpath("style.toml").read_text("utf-8"))


class Styles:
    """Formats of one workbook. ``cell(role, num_format)`` is the format of a matrix cell;
    the rest are text formats, the conditional highlights and the legend's swatches."""

    def __init__(self, wb):
        s = self.style = style()
        self.wb = wb
        add = wb.add_format
        self.title = add({"bold": True, "font_size": 14})
        self.bold = add({"bold": True})
        self.caption = add({"bold": True, "font_color": "#" + s["caption"]})
        self.label = add({"italic": True, "font_color": "#" + s["caption"], "align": "center"})
        self.header = add({"bold": True, "font_color": "#" + s["caption"], "align": "right"})
        self.words = add({"italic": True})
        self.note = add({"italic": True, "font_color": "#" + s["caption"]})
        self.link = add({"font_color": "blue", "underline": 1})
        self.caption_link = add({"bold": True, "font_color": "blue", "underline": 1})
        self.left = add({"align": "left"})
        self.verdict = add({"bold": True, "align": "center"})
        self.hidden = add({"hidden": True})  # a formula not shown on a protected sheet
        self.bar = add({"num_format": ";;;"})  # a data bar's cell: the bar without its number
        self.focus = add({"bg_color": "#" + s["focus"], "pattern": 1})  # conditional formats
        self.source = add({"bg_color": "#" + s["source"], "pattern": 1})
        self.focus_source = add(self._spec("focus_source"))  # yellow's place, an orange frame
        self._cells = {}

    def _spec(self, role: str) -> dict:
        s = self.style
        spec = {"border": 1, "border_color": "#" + s["border"]}
        if role in ("input", "answer"):  # the only cells a learner may type into
            spec.update(bg_color="#" + s["input_fill"], pattern=1, font_color="#" + s["input_font"], locked=False)
        elif role == "link":
            spec.update(font_color="#" + s["link_font"])
        elif role == "trained":
            spec.update(font_color="#" + s["trained_font"], italic=True)
        elif role in ("focus", "source"):
            spec.update(bg_color="#" + s[role], pattern=1)
        elif role == "focus_source":  # both marks: computed here, and read by another result here
            spec.update(bg_color="#" + s[role], pattern=1, border=2, border_color="#" + s["source"])
        return spec

    def wrapped(self, role: str):
        """A long text wrapped in a merged cell: "words" (italic), "note" (italic, grey), "plain"."""
        key = ("wrap", role)
        if key not in self._cells:
            spec = {"words": {"italic": True}, "note": {"italic": True, "font_color": "#" + self.style["caption"]},
                    "plain": {}}[role]
            self._cells[key] = self.wb.add_format({**spec, "text_wrap": True, "valign": "top"})
        return self._cells[key]

    def cell(self, role: str, num_format: str = "General"):
        key = (role, num_format)
        if key not in self._cells:
            self._cells[key] = self.wb.add_format({**self._spec(role), "num_format": num_format})
        return self._cells[key]

    def swatch(self, role: str):
        """The legend's sample of a role: looks like it, cannot be typed into."""
        key = ("swatch", role)
        if key not in self._cells:
            self._cells[key] = self.wb.add_format({**self._spec(role), "locked": True})
        return self._cells[key]
