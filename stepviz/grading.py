"""Grading a class's returned workbooks: every roster student gets one row and every file is
graded on its own (the files a grading writes: stepviz.gradebook; the feedback page and the
hints: stepviz.feedback).

Each return is read by :mod:`stepviz.returns` (``.xlsx``, ``.xlsm``, ``.ods``, ``.xls``;
bounded, a hostile file becomes ``Unreadable``). Nothing of a submission's formulas or cached
results is trusted: its typed answers and given values are read where the student's key puts
them, its student found by the id in its document properties (else its file or folder name),
and that student's key rebuilt from class.toml with the engine.

What is right (as exam markers do): an answer within its tolerance of what follows from the
student's own earlier answers, or of the correct value. A blank or non-number answer carries
nothing forward. Integrity signals, each a flag on the row: given values changed, formulas
typed into answer cells or replaced by constants, a file named for one student holding
another's workbook (filed under both), answers that fit another student's numbers better than
the student's own, identical answer sets.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .classroom import CLASS_FILE, Student, handout_folder, load_course, safe_name, trained_to_detail
from .errors import StepvizError, expect, is_path

FEEDBACK = "feedback"
FIT_MIN = 3  # answers that must fit another student's numbers before it is said
FIT_RTOL = 0.02  # how near an answer is to a student's number to fit it


class GradeError(StepvizError):
    """Grading cannot run (no class folder, no submission)."""


# -- the key -------------------------------------------------------------------------------


@dataclass
class Layout:
    """Where the answers and given values are: the same for every student of a class."""

    questions: list
    cells: dict  # question -> (sheet, (row, col)), 0-based
    given: list  # (what, sheet, (row, col), step, name, i, j); step 0: the Inputs sheet's raw data
    overview: str
    lr_label: str
    order: list = field(default_factory=list)  # the handout's sheet names, in order
    texts: dict = field(default_factory=dict)  # sheet -> its text cells in the handout (to find a renamed sheet)
    formulas: int | None = None  # formulas of a handout workbook

    @classmethod
    def of(cls, run):
        from .exercise import blank_run, questions
        from .text import Messages
        from .workbook.core import Book

        book = Book(blank_run(run), None)
        qs = questions(run)
        cells = {}
        for e, n, name in qs:
            block = book.result_block(book.steps[n], name)
            cells[(e, n, name)] = (book.sheet_name(e, book.steps[n]), block.cell(*book.focus(block)))
        given, first, raw = [], run.config.detail[0], run.config.raw_X
        if raw is not None:  # standardised: X is typed on the Inputs sheet, step 1's X links to it
            from .workbook import inputs

            given += [("X", inputs.sheet_name(book), (inputs.FIRST + i, inputs.RAW + j), 0, "X", i, j)
                      for i in range(raw.shape[0]) for j in range(raw.shape[1])]
        for step in run.steps:
            if step.given:
                for block in book.layouts[step.number].blocks:
                    if raw is not None and block.name == "X":
                        continue
                    v = run.value(first, step.number, block.name)
                    given += [(block.name, book.sheet_name(first, step), block.cell(i, j), step.number, block.name, i, j)
                              for i in range(v.shape[0]) for j in range(v.shape[1])]
        return cls(qs, cells, given, book.overview, Messages(run.config.lang)("overview.lr"))


class Key:
    """One student's key: the run rebuilt from class.toml, the true answers and their
    tolerances; where each answer and given value is (``layout``, shared by the class)."""

    def __init__(self, course, base, student, folder=None, layout: Layout | None = None):
        from .engine import train
        from .exercise import focus_of, tolerances

        self.student = student
        self.run = train(trained_to_detail(course.student_config(base, student)))
        self.layout = layout or Layout.of(self.run)
        self.questions, self.cells = self.layout.questions, self.layout.cells
        self.true = {q: float((v := self.run.value(*q))[focus_of(base, v.shape)]) for q in self.questions}
        self.tol = tolerances(self.run)
        self.given = [(what, sheet, rc, float(self.run.config.raw_X[i, j] if n == 0 else  # step 0: the raw data
                                              self.run.value(base.detail[0], n, name)[i, j]))
                      for what, sheet, rc, n, name, i, j in self.layout.given]

    def judge(self, typed: dict) -> dict:
        """question -> (typed, expected, verdict): right when within tolerance of what follows
        from the student's own earlier answers or of the correct value; a blank or non-number
        answer is "empty" and carries nothing forward."""
        from .exercise import replay, tolerances

        values, expected = replay(self.run, typed, blank_as_zero=False)
        tol = tolerances(self.run, values)
        out = {}
        for q in self.questions:
            v = typed.get(q)
            if v is None:
                verdict = "empty"
            elif abs(v - expected[q]) <= tol[q] or abs(v - self.true[q]) <= self.tol[q]:
                verdict = "right"
            else:
                verdict = "wrong"
            out[q] = (v, expected[q], verdict, tol[q])
        return out


def true_answers(course, base, student, questions) -> dict:
    """A student's correct answers, without the rest of a key."""
    from .engine import train
    from .exercise import focus_of

    run = train(trained_to_detail(course.student_config(base, student)))
    return {q: float((v := run.value(*q))[focus_of(base, v.shape)]) for q in questions}


# -- finding who handed in what ------------------------------------------------------------


def _norm(s: str) -> str:
    return unicodedata.normalize("NFC", s).casefold().strip()


class Roster:
    """Students found by id, by their file name, or by an LMS folder name (name or id first)."""

    def __init__(self, students):
        self.by_id = {s.id: s for s in students}
        self.by_key = {}
        names = {}
        for s in students:
            names.setdefault(_norm(s.name), []).append(s)
        for s in students:
            for k in (s.id, safe_name(s.id)):
                self.by_key.setdefault(_norm(k), s)
        for name, group in names.items():
            if name and len(group) == 1:
                self.by_key.setdefault(name, group[0])

    def named(self, path: Path, root: Path | None):
        """The student a file's name (or a folder above it, up to the submission's root) names."""
        parts = [path.stem]
        if root is not None:
            try:
                parts += list(reversed(path.parent.relative_to(root).parts))
            except ValueError:
                pass
        for p in parts:
            for k in (p, p.split("_")[0], p.split(" - ")[0]):
                s = self.by_key.get(_norm(k))
                if s is not None:
                    return s
        return None


def _files(submissions, skip=()) -> list[tuple[Path, Path | None]]:
    """(file, the folder it was found in) of every return among ``submissions``, except those
    in the folders ``skip`` (the class's own handout and feedback)."""
    from .returns import find_returns

    skip = [os.path.realpath(p) for p in skip]
    out = []
    for s in submissions:
        p = Path(s)
        if not os.path.lexists(p):
            raise GradeError(f"{p}: no such file or folder")
        found = find_returns([p])
        out += [(f, p if p.is_dir() else None) for f in found]
    seen, unique = set(), []
    for f, root in out:
        k = os.path.realpath(f)
        if any(os.path.commonpath([k, s]) == s for s in skip):
            continue
        if k not in seen:
            seen.add(k)
            unique.append((f, root))
    if not unique:
        raise GradeError("no returned workbook found (.xlsx, .xlsm, .ods or .xls) in " +
                         ", ".join(map(str, submissions)))
    return unique


# -- grading -------------------------------------------------------------------------------


@dataclass
class Submission:
    """One file: whose it is, what was read, how it was graded."""

    file: Path
    shown: str  # the file as the gradebook names it (relative to the folder it was found in)
    student: Student | None = None
    status: str = "graded"
    flags: list = field(default_factory=list)
    typed: dict = field(default_factory=dict)  # question -> number or None
    verdicts: dict = field(default_factory=dict)  # question -> (typed, expected, verdict, tol)
    notes: dict = field(default_factory=dict)  # question -> flag ("typed as text", "a date")
    hints: dict = field(default_factory=dict)  # question -> the mistake a wrong answer shows
    focus: dict = field(default_factory=dict)  # question -> (row, col) of the asked cell, 0-based
    digest: str = ""
    mtime: float = 0.0
    named: Student | None = None  # the student the file's name says

    @property
    def score(self) -> int:
        return sum(v[2] == "right" for v in self.verdicts.values())


def _sheet(ret, name: str, layout: Layout, flags: list):
    """The sheet ``name`` of a return; a renamed one found by its place, else its text (flagged)."""
    if name in ret.sheets:
        return ret.sheets[name]
    names = list(ret.sheets)
    strangers = [n for n in names if n not in layout.order]
    found = None
    if layout.order and name in layout.order:
        k = layout.order.index(name)
        if k < len(names) and names[k] in strangers:
            found = names[k]
    if found is None and strangers and layout.texts.get(name):
        want = layout.texts[name]
        score = {n: sum(ret.sheets[n].get(rc) == v for rc, v in want.items()) for n in strangers}
        best = max(score, key=score.get)
        if score[best] >= max(1, len(want) // 2):
            found = best
    if found is None:
        return {}
    flags.append(f"sheet {name!r} renamed {found!r}")
    return ret.sheets[found]


def _grade_one(sub: Submission, ret, key: Key, layout: Layout) -> None:
    from .exercise import focus_of
    from .feedback import hint
    from .returns import number_of

    sheets = {}
    renamed = []

    def sheet(name):
        if name not in sheets:
            sheets[name] = _sheet(ret, name, layout, renamed)
        return sheets[name]

    changed = sorted({what for what, s, rc, v in key.given if not _same(sheet(s).get(rc), v)})
    ov = sheet(layout.overview)
    lr = next((ov.get((r, 1)) for (r, c), v in ov.items() if c == 0 and v == layout.lr_label), None)
    if not _same(lr, key.run.config.lr):
        changed.append("lr")
    formulas_in = []
    for q in layout.questions:
        s, rc = layout.cells[q]
        raw = sheet(s).get(rc)
        v, flag = number_of(raw) if raw is not None else (None, None)
        if v is not None and not math.isfinite(v):
            v, flag = None, flag or "not a finite number"
        sub.typed[q] = v
        if flag:
            sub.notes[q] = flag
        found = next((n for n in ret.sheets if ret.sheets[n] is sheet(s)), s)
        if (found, *rc) in ret.formula_cells:
            formulas_in.append(q)
    sub.verdicts = key.judge(sub.typed)
    for q, flag in sub.notes.items():
        v, expected, verdict, tol = sub.verdicts[q]
        if sub.typed[q] is None:  # a date, a boolean, an error, a formula's text: wrong, not empty
            sub.verdicts[q] = (None, expected, "wrong", tol)
    for q, (v, expected, verdict, tol) in sub.verdicts.items():
        sub.focus[q] = focus_of(key.run.config, key.run.value(*q).shape)
        if verdict == "wrong" and v is not None:
            sub.hints[q] = hint(key.run, sub.typed, q, v, expected, tol)
    sub.flags += sorted(set(renamed))
    if changed:
        sub.flags.append("given values changed: " + ", ".join(changed))
    kinds = sorted(set(sub.notes.values()))
    for kind in kinds:
        n = sum(f == kind for f in sub.notes.values())
        sub.flags.append(f"{n} answer{'s' * (n != 1)} {kind}")
    if formulas_in:
        sub.flags.append(f"formulas typed into {len(formulas_in)} answer cell{'s' * (len(formulas_in) != 1)}")
    if layout.formulas and ret.formulas is not None and ret.formulas < 0.9 * layout.formulas:
        sub.flags.append("formulas replaced by constants")


def _same(got, want) -> bool:
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    return abs(got - want) <= 1e-9 * max(1.0, abs(want))


def _grade(folder, submissions, progress=None):
    """(course, base, layout, submissions graded, rows per roster student)."""
    expect(is_path(folder), "grade", "a class folder name (str or pathlib.Path)", folder)
    expect(not isinstance(submissions, (str, bytes, os.PathLike)) and hasattr(submissions, "__iter__"), "grade",
           "a list of files or folders as submissions (a single path: put it in a list)", submissions)
    submissions = list(submissions)
    for s in submissions:
        expect(is_path(s), "grade", "file or folder names (str or pathlib.Path) in submissions", s)
    from .returns import Unreadable, read_return

    folder = Path(folder)
    course = load_course(folder)
    base = course.config()
    course.verify(base, folder / CLASS_FILE)
    handout = handout_folder(folder, course)
    files = _files(submissions, [] if course.legacy else [handout, folder / FEEDBACK])
    roster = Roster(course.students)
    answers = {}  # student id -> (true answers, tolerances) of every student: the integrity check

    layout = None
    subs = []
    for path, root in files:
        sub = Submission(path, _shown(path, root))
        subs.append(sub)
        sub.digest, sub.mtime = _digest(path)
        sub.named = roster.named(path, root)
        try:
            ret = read_return(path)
        except Unreadable as e:
            sub.student, sub.status = sub.named, f"unreadable: {e}"
            if progress:
                progress(1)
            continue
        sid = ret.properties.get("student_id")
        student = roster.by_id.get(sid) if sid else sub.named
        if student is None:
            sub.status = ("not a stepviz workbook of this class" if not ret.properties or sid is None
                          else f"belongs to no student of the class (id {sid!r})")
            sub.student = sub.named
            if sub.named is not None:
                sub.status = "not this class's workbook: " + sub.status
            if progress:
                progress(1)
            continue
        sub.student = student
        key = Key(course, base, student, layout=layout)  # not kept: memory stays flat with the class's size
        if layout is None:
            layout = key.layout
            _describe_handout(layout, handout, course)
        answers[student.id] = (key.true, key.tol)
        try:
            _grade_one(sub, ret, key, layout)
        except Exception as e:  # noqa: BLE001  (one file never stops the class: its row says why)
            sub.status, sub.verdicts = f"could not be graded ({type(e).__name__}: {e})", {}
        if sub.named is not None and sub.named != student:
            sub.flags.append(f"file named for {sub.named.id} holds the workbook of {student.id}")
        if progress:
            progress(1)
    if layout is None:  # nothing readable: the questions still name the columns
        layout = Layout.of(Key(course, base, course.students[0]).run)
    for s in course.students:  # the others' numbers, for the integrity check (no tolerances: cheap)
        if s.id not in answers:
            answers[s.id] = (true_answers(course, base, s, layout.questions), None)
    _integrity(subs, answers, layout)
    return course, base, layout, subs, _rows_per_student(course, subs)


def _digest(path: Path) -> tuple[str, float]:
    """(SHA-256, modification time) of a regular file small enough to be a return; ("", 0)
    for anything else (a FIFO is never opened: reading it would wait for a writer)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > 32 * 2**20:
            return "", info.st_mtime
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest(), info.st_mtime
    except OSError:
        return "", 0.0


def _describe_handout(layout: Layout, handout: Path, course) -> None:
    """The handout's sheet order, text cells and formula count (the same for every student)."""
    from .returns import Unreadable, read_return

    first = handout / course.students[0].file
    try:
        ret = read_return(first)
    except (Unreadable, OSError):
        return
    layout.order = list(ret.sheets)
    layout.texts = {n: {rc: v for rc, v in cells.items() if isinstance(v, str)} for n, cells in ret.sheets.items()}
    layout.formulas = ret.formulas


def _shown(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return path.name


def _own(sub, q) -> bool:
    """Whether the student's own numbers explain answer ``q``: it follows, within tolerance,
    from the student's earlier answers and givens (error carried forward)."""
    if q not in sub.verdicts:
        return False
    v, expected, _, tol = sub.verdicts[q]
    return v is not None and abs(v - expected) <= tol


def _integrity(subs, answers, layout) -> None:
    """Answers that fit another student's numbers better than the student's own, and
    identical answer sets of two students.

    A slip early in the chain shifts every answer after it together, and such shifted answers
    can land near a classmate's numbers by chance; but each of them follows from the student's
    own earlier answers. Copied answers do not all follow: where a step reads a given (the
    student's own weights), the copied number is the classmate's. So a fit is said only when
    at least one fitting answer is not explained by the student's own numbers."""
    qs = layout.questions
    for sub in subs:
        if sub.student is None or not sub.verdicts:
            continue
        typed = [(q, sub.typed.get(q)) for q in qs if sub.typed.get(q) is not None]
        if len(typed) < FIT_MIN:
            continue

        own, tol = answers[sub.student.id]

        def near(v, x, q):
            # lenient: a hand computation from rounded numbers drifts past the tolerance of
            # the exact chain; counted only where the two students' numbers are far apart
            return abs(v - x) <= max(tol[q], FIT_RTOL * abs(x))

        best, best_k, best_all = None, 0, 0
        for sid, (other, _) in answers.items():
            if sid == sub.student.id:
                continue
            apart = [(q, v) for q, v in typed
                     if abs(own[q] - other[q]) > 2 * max(tol[q], FIT_RTOL * abs(own[q]), FIT_RTOL * abs(other[q]))]
            k = sum(near(v, other[q], q) for q, v in apart)
            foreign = any(near(v, other[q], q) and not _own(sub, q) for q, v in apart)
            if foreign and k > best_k and k > sum(near(v, own[q], q) for q, v in apart) and k >= max(FIT_MIN, len(apart) / 2):
                best, best_k, best_all = sid, k, sum(near(v, other[q], q) for q, v in typed)
        if best is not None:
            sub.flags.append(f"answers fit {best}'s numbers: {best_all} of {len(qs)}")
    seen = {}
    for sub in subs:
        if sub.student is None or not sub.verdicts or sum(v is not None for v in sub.typed.values()) < FIT_MIN:
            continue
        sig = tuple(None if v is None else round(v, 12) for v in sub.typed.values())
        other = seen.setdefault(sig, sub)
        if other is not sub and other.student != sub.student:
            for a, b in ((sub, other), (other, sub)):
                a.flags.append(f"same answers as {b.student.id}")


def _rows_per_student(course, subs) -> dict:
    """student id -> the submission that grades them (None: missing), flags of the others added;
    a file that belongs to no student under the key ``("file", shown)``."""
    rows = {s.id: None for s in course.students}
    mine = {}
    for sub in subs:
        if sub.student is not None:
            mine.setdefault(sub.student.id, []).append(sub)
        else:
            rows[("file", sub.shown)] = sub
    for sid, group in mine.items():
        # the student's own files first (named for them), graded ones, then the latest
        group.sort(key=lambda s: (s.named in (None, s.student), bool(s.verdicts), s.mtime, s.shown))
        chosen = group[-1]
        twins = [s for s in group if s is not chosen and s.digest == chosen.digest and s.digest]
        if twins:
            chosen.flags.append(f"handed in {len(twins) + 1} times (the same file: {', '.join(s.shown for s in twins)})")
        others = [s for s in group if s is not chosen and s not in twins]
        if others:
            chosen.flags.append(f"{len(others) + 1} different submissions; graded {chosen.shown}, not "
                                + ", ".join(s.shown for s in others))
        rows[sid] = chosen
    for sub in subs:  # a file named for one student holding another's workbook: on both rows
        named = sub.named
        if sub.student is None or named is None or named == sub.student:
            continue
        if rows.get(named.id) is None:
            rows[named.id] = dataclasses.replace(
                sub, student=named, status=f"handed in the workbook of {sub.student.id}", verdicts={},
                flags=[f"file {sub.shown} holds the workbook of {sub.student.id}"])
        elif rows[named.id] is not sub:
            rows[named.id].flags.append(f"also handed in the workbook of {sub.student.id} ({sub.shown})")
    return rows


# -- the library's answer ------------------------------------------------------------------


def grade(folder, submissions, *, progress=None):
    """Grade ``submissions`` (a list of returned files or folders) of the class in ``folder``:
    a long pandas DataFrame (student, file, epoch, step, name, row, col, typed, expected,
    verdict), one row per question of each graded file; ``.attrs["submissions"]`` holds one
    record per roster student and per file that belongs to no student (id, name, file,
    status, score, flags)."""
    import pandas as pd

    course, base, layout, subs, rows = _grade(folder, submissions, progress)
    out = []
    for sub in subs:
        if sub.student is None or not sub.verdicts:
            continue
        for q, (v, expected, verdict, _) in sub.verdicts.items():
            e, n, name = q
            r, c = sub.focus[q]
            out.append((sub.student.id, sub.shown, e, n, name, r, c, v, expected, verdict))
    frame = pd.DataFrame(out, columns=["student", "file", "epoch", "step", "name", "row", "col", "typed",
                                       "expected", "verdict"])
    frame.attrs["submissions"] = [_record(k, sub, layout) for k, sub in rows.items()]
    return frame


def _record(k, sub, layout) -> dict:
    if isinstance(k, tuple):  # a file of no student
        return {"id": "", "name": "", "file": sub.shown, "status": sub.status, "score": "",
                "max_score": len(layout.questions), "flags": "; ".join(sub.flags), "verdicts": {}}
    if sub is None:
        return {"id": k, "name": "", "file": "", "status": "missing", "score": "",
                "max_score": len(layout.questions), "flags": "", "verdicts": {}}
    return {"id": sub.student.id, "name": sub.student.name, "file": sub.shown, "status": sub.status,
            "score": sub.score if sub.verdicts else "", "max_score": len(layout.questions),
            "flags": "; ".join(sub.flags), "verdicts": {q: v[2] for q, v in sub.verdicts.items()}}
