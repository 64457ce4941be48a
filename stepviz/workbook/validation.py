"""Every cell a learner may type into asks for a number (issue 25.7): data validation with an
input message and an error message, in the workbook's language.

Validation stops typing, not a paste or another program. Where a pasted text would reach
the formulas anyway (lr, h and the optimizer's constants on the Overview, read by every
step sheet), the hint beside the cell turns into a warning that says why the sheets show
#VALUE! and what to type (``hint_or_warning``); the focus cells are read safely wherever
they are used (``lines.Focus``).
"""
from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell

# what a constant on the Overview may be: the kind of number, its message and its range
KINDS = {"lr": "positive", "h": "positive", "eps": "positive",
         "momentum": "fraction", "beta1": "fraction", "beta2": "fraction"}
RULES = {"positive": {"criteria": "greater than", "value": 0},
         "fraction": {"criteria": "between", "minimum": 0, "maximum": 1},
         # "any number": a data validation of kind decimal needs bounds (spelled as Excel does)
         "number": {"criteria": "between", "minimum": "=-1E+300", "maximum": "=1E+300"}}


def number(ws, msg, first: tuple[int, int], last: tuple[int, int] | None = None, name: str = "") -> None:
    """Cells ``first``..``last`` (0-based) accept only a number: any number, or for the
    Overview's constant ``name`` (lr, h, an optimizer's) a number in its range; the messages
    are ``validation.<kind>_message`` and ``validation.<kind>_error``."""
    kind = KINDS.get(name, "number")
    title = msg("validation.title")
    ws.data_validation(*first, *(last or first), {
        "validate": "decimal", **RULES[kind], "input_title": title, "error_title": title,
        "input_message": msg(f"validation.{kind}_message", name=name),
        "error_message": msg(f"validation.{kind}_error", name=name)})


def text_formula(text: str) -> str:
    """A text as a formula expression: string literals of at most 255 characters (Excel's
    limit), joined by &."""
    chunks = [text[k:k + 255] for k in range(0, len(text), 255)] or [""]
    return "&".join('"' + c.replace('"', '""') + '"' for c in chunks)


def hint_or_warning(cell: tuple[int, int], hint: str, warning: str) -> str:
    """The formula of the text beside an Overview constant: ``hint`` while ``cell`` holds a
    number, else ``warning``."""
    return f"=IF(ISNUMBER({xl_rowcol_to_cell(*cell, True, True)}),{text_formula(hint)},{text_formula(warning)})"
