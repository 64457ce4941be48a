"""Grading a class's returned workbooks, with error carried forward.

Nothing of a submission's formulas or cached values is trusted: its typed answers and given
values are read (python-calamine when installed, else openpyxl), its student found by the id in
its document properties (else its file name), and that student's key rebuilt from class.toml
with the engine; each answer is expected to follow from the student's own earlier answers
(stepviz.exercise.check). Tampering is flagged: given values changed, a file named for another
student, formulas replaced by constants, one id submitted twice, identical answers from two
students whose numbers differ.
"""
from __future__ import annotations

import csv
import dataclasses
import html
import re
import zipfile
from pathlib import Path

from .classroom import CLASS_FILE, load_course, safe_name
from .errors import StepvizError

FORMULA = re.compile(rb"<f[ >/]")


class GradeError(StepvizError):
    """Grading cannot run (no class folder, no submission)."""


def _files(submissions) -> list[Path]:
    out = []
    for s in submissions:
        p = Path(s)
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix.lower() == ".xlsx" and not q.name.startswith("~$"))
        elif p.exists():
            out.append(p)
        else:
            raise GradeError(f"{p}: no such file or folder")
    if not out:
        raise GradeError("no .xlsx submission found")
    return out


def _rows(path, sheets: set[str]) -> dict[str, list[list]]:
    """The values of some sheets, rows from A1 (python-calamine, else openpyxl)."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        return {n: [list(r) for r in wb[n].iter_rows(values_only=True)] for n in sheets if n in wb.sheetnames}
    wb = CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in sheets if n in wb.sheet_names}


def _at(rows, r, c):
    try:
        return rows[r][c]
    except (IndexError, TypeError):
        return None


def _formulas(path) -> int:
    with zipfile.ZipFile(path) as z:
        return sum(len(FORMULA.findall(z.read(n))) for n in z.namelist()
                   if n.startswith("xl/worksheets/") and n.endswith(".xml"))


class Key:
    """One student's key: the run rebuilt from class.toml, where each answer and given value
    is on the sheets, and the number of formulas the workbook was written with."""

    def __init__(self, course, base, student, folder):
        from .engine import train
        from .exercise import blank_run, questions
        from .text import Messages
        from .workbook.core import Book

        cfg = course.student_config(base, student)
        # the detailed updates do not depend on the epochs after them: train only up to there
        self.run = train(trained_to_detail(cfg))
        book = Book(blank_run(self.run), None)
        self.questions = questions(self.run)
        self.cells = {}
        for e, n, name in self.questions:
            block = book.result_block(book.steps[n], name)
            self.cells[(e, n, name)] = (book.sheet_name(e, book.steps[n]), block.cell(*book.focus(block)))
        self.given = []  # (what, sheet, (r, c), value)
        first = cfg.detail[0]
        for step in self.run.steps:
            if step.given:
                for block in book.layouts[step.number].blocks:
                    v = self.run.value(first, step.number, block.name)
                    for i in range(v.shape[0]):
                        for j in range(v.shape[1]):
                            self.given.append((block.name, book.sheet_name(first, step), block.cell(i, j), float(v[i, j])))
        self.overview, self.lr_label = book.overview, Messages(cfg.lang)("overview.lr")
        original = folder / student.file
        self.formulas = _formulas(original) if original.is_file() else None


def grade(folder, submissions, *, progress=None):
    """Grade ``submissions`` (.xlsx files or folders) of the class in ``folder``: a long pandas
    DataFrame (student, file, epoch, step, name, row, col, typed, expected, verdict), one row
    per question of each graded submission; ``.attrs["submissions"]`` holds one record per
    file (student, status, flags)."""
    import pandas as pd

    records, rows = _grade(folder, submissions, progress)
    frame = pd.DataFrame(rows, columns=["student", "file", "epoch", "step", "name", "row", "col", "typed",
                                        "expected", "verdict"])
    frame.attrs["submissions"] = records
    return frame


def _grade(folder, submissions, progress=None):
    from .exercise import check
    from .reader import NotAWorkbookError, properties

    folder = Path(folder)
    course = load_course(folder)
    files = _files(submissions)
    base = course.config()
    by_id = {s.id: s for s in course.students}
    by_file = {safe_name(s.id).lower(): s for s in course.students}
    records, rows, answers_of = [], [], {}
    for path in files:
        rec = {"file": path.name, "student": "", "name": "", "status": "graded", "flags": [], "verdicts": {}}
        records.append(rec)
        try:
            props = properties(path)
        except NotAWorkbookError:
            props = None
        except Exception:  # noqa: BLE001  (a corrupt file is reported on its row)
            props = None
        if not props or "version" not in props:
            rec["status"] = "not a stepviz workbook (or corrupt): skipped"
            if progress:
                progress(1)
            continue
        sid = props.get("student_id")
        student = by_id.get(sid) if sid else by_file.get(path.stem.lower())
        if student is None:
            rec["status"] = f"belongs to no student of the class (id {sid or path.stem!r}): skipped"
            if progress:
                progress(1)
            continue
        rec["student"], rec["name"] = student.id, student.name
        if safe_name(student.id).lower() != path.stem.lower():
            rec["flags"].append(f"file {path.name} holds the workbook of {student.id}")
        # built afresh for each file, not kept: a kept key per student would keep memory
        # growing with the class (about 190 KB per submission of a 300-student class)
        key = Key(course, base, student, folder)
        try:
            sheets = _rows(path, {s for s, _ in key.cells.values()} | {g[1] for g in key.given} | {key.overview})
        except Exception as e:  # noqa: BLE001
            rec["status"] = f"cannot be read ({type(e).__name__}): skipped"
            if progress:
                progress(1)
            continue
        changed = sorted({what for what, sheet, (r, c), v in key.given
                          if not _same(_at(sheets.get(sheet), r, c), v)})
        lr_row = next((row for row in sheets.get(key.overview, []) if row and row[0] == key.lr_label), None)
        if lr_row is None or not _same(lr_row[1] if len(lr_row) > 1 else None, key.run.config.lr):
            changed.append("lr")
        if changed:
            rec["flags"].append("given values changed: " + ", ".join(changed))
        if key.formulas is not None and _formulas(path) < 0.9 * key.formulas:
            rec["flags"].append("formulas replaced by constants")
        typed = {q: _at(sheets.get(sheet), *cell) for q, (sheet, cell) in key.cells.items()}
        typed = {q: (None if isinstance(v, str) or v == "" else v) for q, v in typed.items()}
        for (e, n, name), v, expected, verdict in check(key.run, typed):
            r, c = key.cells[(e, n, name)][1]
            focus = tuple(min(a, b) - 1 for a, b in zip(key.run.config.focus, key.run.value(e, n, name).shape))
            rows.append((student.id, path.name, e, n, name, focus[0], focus[1], v, expected, verdict))
            rec["verdicts"][(e, n, name)] = verdict
        rec["typed"] = typed
        answers_of.setdefault(student.id, []).append(rec)
        if progress:
            progress(1)
    for sid, recs in answers_of.items():
        if len(recs) > 1:
            for rec in recs:
                rec["flags"].append(f"{len(recs)} submissions of {sid}")
    seen = {}
    for rec in records:
        typed = rec.get("typed")
        if not typed or all(v is None for v in typed.values()):
            continue
        sig = tuple(round(v, 12) if v is not None else None for v in typed.values())
        other = seen.get(sig)
        if other is not None and other["student"] != rec["student"]:
            for a, b in ((rec, other), (other, rec)):
                a["flags"].append(f"same answers as {b['student']}")
        seen.setdefault(sig, rec)
    return records, rows


def _same(got, want) -> bool:
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    return abs(got - want) <= 1e-9 * max(1.0, abs(want))


def grade_folder(folder, submissions, *, quiet=False) -> str:
    """``stepviz grade``: grade, then write ``folder/grades.csv`` (one row per submission, a
    column per question, the score, the flags) and ``folder/feedback/<id>.html``; return a
    one-line summary per submission."""
    import sys

    from tqdm import tqdm

    folder = Path(folder)
    if not (folder / CLASS_FILE).is_file():
        raise GradeError(f"{folder}: not a class folder (no {CLASS_FILE}); make one with stepviz class")
    files = _files(submissions)
    with tqdm(total=len(files), desc="grading", unit="file", delay=0.5, leave=False, file=sys.stderr,
              disable=quiet or not sys.stderr.isatty()) as bar:
        records, rows = _grade(folder, submissions, bar.update)
    course = load_course(folder)
    base = course.config()
    questions = _question_names(course, base)
    with open(folder / "grades.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "file", "score", "max_score", "status", "flags"] + [q[1] for q in questions])
        for rec in records:
            v = rec["verdicts"]
            w.writerow([rec["student"], rec["name"], rec["file"], sum(x == "right" for x in v.values()) if v else "",
                        len(questions), rec["status"], "; ".join(rec["flags"])] + [v.get(q[0], "") for q in questions])
    (folder / "feedback").mkdir(exist_ok=True)
    by_student = {}
    for row in rows:
        by_student.setdefault((row[0], row[1]), []).append(row)
    for rec in records:
        mine = by_student.get((rec["student"], rec["file"]))
        if mine:
            name = safe_name(rec["student"]) + ("" if len(by_student) == len({k[0] for k in by_student}) else
                                                "-" + Path(rec["file"]).stem)
            (folder / "feedback" / f"{name}.html").write_text(_feedback(rec, mine, course, base), encoding="utf-8")
    out = []
    for rec in records:
        v = rec["verdicts"]
        score = f"{sum(x == 'right' for x in v.values())}/{len(questions)}" if v else "-"
        out.append(f"{rec['file']}: {rec['student'] or '?'} {score} {rec['status']}"
                   + (f" [{'; '.join(rec['flags'])}]" if rec["flags"] else ""))
    return "\n".join(out)


def _question_names(course, base):
    from .engine import train
    from .exercise import questions

    run = train(trained_to_detail(base))
    return [(q, f"{base.label(q[0])}.{q[1]:02d} {q[2]}") for q in questions(run)]


def trained_to_detail(cfg):
    """``cfg`` trained only up to the epoch of its last detailed update (``detail`` counts
    updates: with mini-batches an epoch holds ``cfg.batches`` of them)."""
    return dataclasses.replace(cfg, epochs=-(-max(cfg.detail) // cfg.batches), history_every=1)


def _feedback(rec, rows, course, base) -> str:
    """The feedback page of one submission: each question, typed, expected, verdict, a hint."""
    from .classroom import Student

    key = Key(course, base, Student(rec["student"], rec["name"]), Path("."))
    hints = {(e, n, name): hint(key.run, rec["typed"], (e, n, name), typed, expected)
             for _, _, e, n, name, _, _, typed, expected, verdict in rows if verdict == "wrong"}
    esc = html.escape
    right = sum(r[9] == "right" for r in rows)
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>stepviz feedback</title>",
           "<style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
           ".right{color:#080}.wrong{color:#c00}.empty{color:#888}</style></head><body>",
           f"<h1>{esc(rec['name'] or rec['student'])} ({esc(rec['student'])})</h1>",
           f"<p>{right} of {len(rows)} right. Each answer is checked against what follows from your own "
           "earlier answers.</p>"]
    if rec["flags"]:
        out.append("<p><b>Note:</b> " + esc("; ".join(rec["flags"])) + "</p>")
    out.append("<table><tr><th>sheet</th><th>question</th><th>your answer</th><th>expected</th><th></th><th>hint</th></tr>")
    for _, _, e, n, name, r, c, typed, expected, verdict in rows:
        out.append(f"<tr><td>{base.label(e)}.{n:02d}</td><td>{esc(name)}[{r + 1},{c + 1}]</td>"
                   f"<td>{'' if typed is None else f'{typed:.6g}'}</td><td>{expected:.6g}</td>"
                   f"<td class='{verdict}'>{verdict}</td><td>{esc(hints.get((e, n, name), ''))}</td></tr>")
    return "\n".join(out + ["</table></body></html>", ""])


def hint(run, typed_all, question, typed, expected) -> str:
    """The mistake a wrong answer shows, when it is recognised."""
    import numpy as np

    from .exercise import replay, tolerances

    values, _ = replay(run, typed_all)
    tol = tolerances(run, values)[question] * 2
    e, n, name = question
    step = next(s for s in run.steps if s.number == n)
    c = next(c for c in step.computes if c.result == name)
    slot = run.detail.index(e)
    first = run.config.network.producers()[0]
    near = lambda v: abs(typed - v) <= tol  # noqa: E731

    def at(o):
        a = values[(first[o].number if o not in step.results else n, o)][slot]
        return a, tuple(min(x, y) - 1 for x, y in zip(run.config.focus, a.shape))

    if near(-expected):
        return "the sign is flipped"
    if "lr" in c.operands and run.config.lr != 1 and near(expected / run.config.lr):
        return "lr is missing: the amount is lr times the gradient"
    kind = getattr(c.op, "key", "")
    if kind in ("ce_delta", "bce_delta"):
        a, f = at("output")
        if near(expected * a[f] * (1 - a[f])):
            return "no slope here: with cross-entropy d_output = E (the output's slope cancels)"
    if kind in ("ce", "bce") and near(expected / run.shapes["y"][0]):
        return "the loss is the sum over the samples, not their mean"
    for o in c.operands:
        if o.startswith("slope"):
            a, f = at(o)
            if a[f] and near(expected / a[f]):
                return f"the slope is missing: multiply by {o}"
    old = name if name.startswith(("v_", "m_", "s_")) else name.split("_", 1)[1] if name.startswith("update_") else None
    if old and old in first:
        a = values[(first[old].number, old)][slot]  # before this step's update
        f = tuple(min(x, y) - 1 for x, y in zip(run.config.focus, a.shape))
        if near(float(a[f])):
            return f"this is the old value of {old}: the question asks for the {'amount' if old != name else 'new value'}"
    mine = values[(n, name)][slot]
    f = tuple(min(x, y) - 1 for x, y in zip(run.config.focus, mine.shape))
    for i, j in np.ndindex(mine.shape):
        if (i, j) != f and near(float(mine[i, j])):
            return f"this is the value of {name}[{i + 1},{j + 1}], another cell"
    return ""
