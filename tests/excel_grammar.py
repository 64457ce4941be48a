"""Excel's documented limits and grammar, checked on every formula a workbook file holds.

Excel's specifications and limits (support.microsoft.com, "Excel specifications and
limits"; "Rename a worksheet"; "Names in formulas"):

- a formula has at most 8,192 characters, at most 64 levels of nested functions, and a
  function at most 255 arguments;
- a number literal is written as Excel writes it: digits, a point, and an upper-case
  exponent (``5E-05``; Excel's grammar, as Apache POI's parser implements it, has no ``5e-05``);
- a name in a formula is a function, a cell reference, a sheet name, TRUE/FALSE, or a name
  the workbook defines; a range of whole rows (``$1:$1``, a print title) lies within rows 1 to
  1,048,576;
- a sheet name has 1 to 31 characters, none of ``[ ] : * ? / \\``, does not begin or end
  with an apostrophe, is not "History" (reserved), and no two differ only in case;
- a text document property has at most 255 characters (UTF-16 code units);
- a defined name has at most 255 characters, begins with a letter, an underscore or a
  backslash, continues with letters, digits, underscores and periods, is not a cell
  reference (``A1``, ``R1C1``, ``R``, ``C``), and is unique in its scope (ignoring case).

The formulas read are the cells' (``<f>``), the conditional formats' and data
validations' (``<formula>``, ``<formula1>``), and the defined names'; the file is streamed,
so a workbook of millions of cells is scanned in constant memory.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree

MAX_CHARS, MAX_NESTING, MAX_ARGS, MAX_SHEET_NAME, MAX_NAME, MAX_PROPERTY = 8_192, 64, 255, 31, 255, 255
RESERVED_SHEETS = {"history"}
SHEET_FORBIDDEN = set("[]:*?/\\")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_FORMULA_TAGS = {_MAIN + t for t in ("f", "formula", "formula1", "formula2")}

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_IDENT = re.compile(r"(?:[^\W\d]|[\\$])[\w.$]*")  # Unicode letters: 概览!$B$5
_ROWS = re.compile(r"\$?(\d+):\$?(\d+)(?![\w.(])")  # whole rows: a print title's '1.03 …'!$1:$1
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
_NAME = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.]*")
_R1C1 = re.compile(r"[Rr]\d*[Cc]?\d*|[Cc]\d*")
_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


def strip_strings(formula: str) -> str:
    """The formula without the contents of its string literals and quoted sheet names."""
    return re.sub(r"'(?:[^']|'')*'", "''", re.sub(r'"(?:[^"]|"")*"', '""', formula))


def _column(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def is_cell_reference(text: str) -> bool:
    """A1-style within Excel's grid (XFD1048576), or R1C1-style."""
    m = _CELL.fullmatch(text)
    if m and _column(m.group(1)) <= 16_384 and 1 <= int(m.group(2)) <= 1_048_576:
        return True
    return bool(_R1C1.fullmatch(text))


@dataclass
class Formula:
    """What one formula measures: characters, deepest function nesting, most arguments."""

    chars: int
    nesting: int
    args: int
    problems: list[str]


def measure(formula: str, names: set[str] = frozenset()) -> Formula:
    """Check one formula (as stored in the file, without "=") against Excel's grammar.
    ``names``: the workbook's defined names and sheet names (lower case)."""
    text = formula[1:] if formula.startswith("=") else formula
    problems = []
    if len(text) > MAX_CHARS:
        problems.append(f"{len(text):,} characters (Excel allows {MAX_CHARS:,})")
    stack: list[list] = []  # ["fn", name, args] or ["group"]
    nesting = most_args = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':  # a string literal; "" is a quote inside it
            j = i + 1
            while j < n and not (text[j] == '"' and (j + 1 == n or text[j + 1] != '"')):
                j += 2 if text[j] == '"' else 1
            if j >= n:
                problems.append("an unterminated string literal")
            i = j + 1
        elif ch == "'":  # a quoted sheet name, then "!"
            j = i + 1
            while j < n and not (text[j] == "'" and (j + 1 == n or text[j + 1] != "'")):
                j += 2 if text[j] == "'" else 1
            if j + 1 >= n or text[j + 1] != "!":
                problems.append(f"a quoted name not followed by '!': {text[i:j + 2]!r}")
            i = j + 2
        elif ch == "#":
            err = next((e for e in _ERRORS if text.startswith(e, i)), None)
            if err is None:
                problems.append(f"an unknown error literal at {text[i:i + 8]!r}")
                break
            i += len(err)
        elif _ROWS.match(text, i) and (i == 0 or text[i - 1] in "!(,"):
            m = _ROWS.match(text, i)
            if not all(1 <= int(r) <= 1_048_576 for r in m.groups()):
                problems.append(f"a row range outside Excel's grid: {m.group(0)!r}")
            i += len(m.group(0))
        elif ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            literal = m.group(0)
            if m.group(2) and "e" in m.group(2):
                problems.append(f"the number literal {literal!r} has a lower-case exponent (Excel writes "
                                f"{literal.upper()!r})")
            if i + len(literal) < n and (text[i + len(literal)].isalpha() or text[i + len(literal)] == "_"):
                problems.append(f"a malformed number literal at {text[i:i + len(literal) + 4]!r}")
            i += len(literal)
        elif _IDENT.match(text, i):
            word = _IDENT.match(text, i).group(0)
            i += len(word)
            if i < n and text[i] == "(":
                stack.append(["fn", word, 0 if i + 1 < n and text[i + 1] == ")" else 1])
                nesting = max(nesting, sum(1 for s in stack if s[0] == "fn"))
                i += 1
            elif i < n and text[i] == "!":  # an unquoted sheet name
                if word.lower() not in names:
                    problems.append(f"a reference to an unknown sheet {word!r}")
                i += 1
            elif not (is_cell_reference(word) or word.upper() in ("TRUE", "FALSE") or word.lower() in names):
                problems.append(f"an unknown name {word!r}")
        elif ch == "(":
            stack.append(["group"])
            i += 1
        elif ch == ",":
            if stack and stack[-1][0] == "fn":
                stack[-1][2] += 1
            i += 1
        elif ch == ")":
            if not stack:
                problems.append("an unbalanced ')'")
                break
            top = stack.pop()
            if top[0] == "fn":
                most_args = max(most_args, top[2])
                if top[2] > MAX_ARGS:
                    problems.append(f"{top[1]} has {top[2]:,} arguments (Excel allows {MAX_ARGS})")
            i += 1
        elif ch in "+-*/^&=<>:%@ {};!":
            i += 1
        else:
            problems.append(f"an unexpected character {ch!r}")
            i += 1
    if stack:
        problems.append("an unbalanced '('")
    if nesting > MAX_NESTING:
        problems.append(f"{nesting} levels of nested functions (Excel allows {MAX_NESTING})")
    return Formula(len(text), nesting, most_args, problems)


def sheet_name_problems(names: list[str]) -> list[str]:
    out, seen = [], set()
    for name in names:
        if not 1 <= len(name) <= MAX_SHEET_NAME:
            out.append(f"sheet name {name!r} has {len(name)} characters (Excel allows 1 to {MAX_SHEET_NAME})")
        if set(name) & SHEET_FORBIDDEN:
            out.append(f"sheet name {name!r} holds one of []:*?/\\")
        if name.startswith("'") or name.endswith("'"):
            out.append(f"sheet name {name!r} begins or ends with an apostrophe")
        if name.lower() in RESERVED_SHEETS:
            out.append(f"sheet name {name!r} is reserved by Excel")
        if name.lower() in seen:
            out.append(f"sheet name {name!r} is used twice (Excel ignores case)")
        seen.add(name.lower())
    return out


def defined_name_problems(names: list[tuple[str, str | None]]) -> list[str]:
    """(name, scope) pairs: the scope is a sheet index, or None for the workbook."""
    out, seen = [], set()
    for name, scope in names:
        if name.startswith("_xlnm."):  # Excel's built-in names (Print_Area, ...)
            continue
        if len(name) > MAX_NAME or not _NAME.fullmatch(name):
            out.append(f"defined name {name!r} is not a valid Excel name")
        if is_cell_reference(name):
            out.append(f"defined name {name!r} is a cell reference")
        if (name.lower(), scope) in seen:
            out.append(f"defined name {name!r} is defined twice in one scope")
        seen.add((name.lower(), scope))
    return out


@dataclass
class Report:
    formulas: int = 0
    longest: int = 0
    deepest: int = 0
    most_args: int = 0
    problems: list[str] = field(default_factory=list)


def scan(path) -> Report:
    """Every formula, sheet name and defined name of an xlsx file against Excel's rules."""
    report = Report()
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        sheets = [(s.get("name"), s.get(_REL + "id")) for s in book.iter(_MAIN + "sheet")]
        report.problems += sheet_name_problems([name for name, _ in sheets])
        defined = [(d.get("name"), d.get("localSheetId"), d.text or "") for d in book.iter(_MAIN + "definedName")]
        report.problems += defined_name_problems([(name, scope) for name, scope, _ in defined])
        # portable: spreadsheets that import xlsx commonly drop sheet-scoped names (Google Sheets
        # has only workbook-wide ones); Excel's own print names (_xlnm.) aside
        scoped = {name.lower() for name, scope, _ in defined if scope is not None and not name.startswith("_xlnm.")}
        report.problems += [f"sheet-scoped defined name {name!r}" for name, scope, _ in defined
                            if name.lower() in scoped]
        names = {name.lower() for name, _ in sheets} | {name.lower() for name, _, _ in defined}
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels}

        def check(where: str, formula: str):
            m = measure(formula, names)
            used = {w.lower() for w in _IDENT.findall(strip_strings(formula))} & scoped
            report.problems += [f"{where}: reads the sheet-scoped name {w!r}" for w in sorted(used)]
            report.formulas += 1
            report.longest = max(report.longest, m.chars)
            report.deepest = max(report.deepest, m.nesting)
            report.most_args = max(report.most_args, m.args)
            report.problems += [f"{where}: {p}" for p in m.problems]

        if "docProps/custom.xml" in z.namelist():
            for prop in ElementTree.fromstring(z.read("docProps/custom.xml")):
                for value in prop:
                    units = len((value.text or "").encode("utf-16-le")) // 2
                    if units > MAX_PROPERTY:
                        report.problems.append(f"document property {prop.get('name')!r} has {units} characters "
                                               f"(Excel allows {MAX_PROPERTY})")
        for name, _, formula in defined:
            check(f"defined name {name}", formula)
        for name, rid in sheets:
            part = "xl/" + target[rid].lstrip("/").removeprefix("xl/")
            with z.open(part) as f:
                cell = None
                for event, el in ElementTree.iterparse(f, events=("start", "end")):
                    if event == "start":
                        if el.tag == _MAIN + "c":
                            cell = el.get("r")
                        continue
                    if el.tag in _FORMULA_TAGS and el.text:
                        check(f"{name}!{cell}" if el.tag == _MAIN + "f" else f"{name} ({el.tag[len(_MAIN):]})",
                              el.text)
                    elif el.tag in (_MAIN + "c", _MAIN + "row"):
                        el.clear()
    return report
