"""The teacher's files of a grading: ``grades.csv`` (one row per roster student and per file of
no student, merged with the last grading, every text cell neutralised against CSV injection,
written atomically and never through a link), an LMS import file, the feedback pages, and the
lines the terminal shows (control characters escaped)."""
from __future__ import annotations

import csv
import os
import shutil
import stat
import tempfile
from pathlib import Path

from .classroom import load_course, safe_name
from .grading import FEEDBACK, GradeError, _files, _grade, _record

GRADES = "grades.csv"
GRADEBOOKS = ("moodle", "canvas")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")  # a CSV cell beginning so runs as a formula (CWE-1236)


def neutral(text) -> str:
    """A CSV cell a spreadsheet shows as text: one beginning with = + - @ tab or CR gets a
    leading ' (OWASP's advice against CSV injection)."""
    text = str(text)
    return "'" + text if text.startswith(DANGEROUS) else text


def printable(text: str) -> str:
    """Text for the terminal: control characters (escape sequences) shown escaped."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(text))


def question_names(base, layout) -> list[str]:
    return [f"{base.label(e)}.{n:02d} {name}" for e, n, name in layout.questions]


def grade_folder(folder, submissions, *, quiet=False, gradebook: str | None = None) -> str:
    """``stepviz grade``: grade, then merge into ``folder/grades.csv`` (one row per roster
    student, one per file of no student), write ``folder/feedback/<id>.html`` and, with
    ``gradebook``, ``folder/gradebook-<lms>.csv``; return one line per row graded now."""
    import sys

    from tqdm import tqdm

    from .feedback import feedback_page
    from .workbook.output import _PRIVATE, signals_deferred

    if gradebook is not None and gradebook not in GRADEBOOKS:
        raise GradeError(f"--gradebook: expected one of {', '.join(GRADEBOOKS)}, got {gradebook!r}")
    folder = Path(folder)
    load_course(folder)  # a one-line error before any work
    targets = [folder / GRADES] + ([folder / f"gradebook-{gradebook}.csv"] if gradebook else [])
    for t in targets + [folder / FEEDBACK]:
        _writable(t, t.name == FEEDBACK)
    total = len(_files(submissions, [folder / "handout", folder / FEEDBACK]))
    with tqdm(total=total, desc="grading", unit="file", delay=0.5, leave=False, file=sys.stderr,
              disable=quiet or not sys.stderr.isatty()) as bar:
        course, base, layout, subs, rows = _grade(folder, submissions, bar.update)
    names = question_names(base, layout)
    header = ["id", "name", "status", "score", "max_score", "file", "flags"] + names
    table = _merge(folder / GRADES, header, course, rows, layout, names)
    pages = {}
    for k, sub in rows.items():
        if not isinstance(k, tuple) and sub is not None and sub.verdicts and sub.student.id == k:
            pages[safe_name(k) + ".html"] = feedback_page(sub, base, layout)
    private = None
    try:
        with signals_deferred():
            private = Path(tempfile.mkdtemp(prefix=".stepviz-grade-", dir=folder))
            _PRIVATE.add(str(private))
        _write_csv(private / GRADES, header, table)
        if gradebook:
            left_out = _write_lms(private / targets[1].name, gradebook, course, table)
        (private / FEEDBACK).mkdir()
        for name, text in pages.items():
            (private / FEEDBACK / name).write_text(text, encoding="utf-8")
        with signals_deferred():  # the files are replaced each at once; a signal waits for the end
            for t in targets + [folder / FEEDBACK]:
                _writable(t, t.name == FEEDBACK)
            (folder / FEEDBACK).mkdir(exist_ok=True)
            for name in pages:
                os.replace(private / FEEDBACK / name, folder / FEEDBACK / name)
            for t in targets:
                os.replace(private / t.name, t)
    except OSError as e:
        raise GradeError(f"{folder}: the grades were not written ({e.strerror or e}); {GRADES} is as it was") from None
    finally:
        if private is not None:
            with signals_deferred():
                shutil.rmtree(private, ignore_errors=True)
                _PRIVATE.discard(str(private))
    out = []
    for k, sub in rows.items():
        if sub is None:
            continue
        who = printable(sub.student.id) if sub.student else "?"
        score = f"{sub.score}/{len(names)}" if sub.verdicts else "-"
        out.append(f"{printable(sub.shown)}: {who} {score} {printable(sub.status)}"
                   + (f" [{printable('; '.join(sub.flags))}]" if sub.flags else ""))
    missing = [k for k, sub in rows.items() if sub is None and not table.get(k, {}).get("file")]
    if missing:
        out.append(f"missing ({len(missing)}): " + ", ".join(printable(m) for m in missing[:20])
                   + (", …" if len(missing) > 20 else ""))
    if gradebook and left_out:
        out.append(f"left out of gradebook-{gradebook}.csv (an id beginning with = + - @ cannot be written "
                   f"both exactly and safely): " + ", ".join(printable(i) for i in left_out))
    return "\n".join(out)


def _writable(path: Path, folder: bool = False) -> None:
    """Refuse to write through a link or onto a special file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise GradeError(f"{path}: is a symbolic link; stepviz writes its own file there, not through a link")
    if folder != stat.S_ISDIR(info.st_mode) or not (folder or stat.S_ISREG(info.st_mode)):
        raise GradeError(f"{path}: is not a {'folder' if folder else 'regular file'}; move it away")


def _merge(path: Path, header, course, rows, layout, names) -> dict:
    """The rows of grades.csv: those graded now, over the rows of the last grading (a late
    file updates its student's row, the others stay)."""
    old = {}
    if path.is_file():
        try:
            with open(path, encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    ident = row.get("id", "")
                    k = _unneutral(ident) if ident else ("file", _unneutral(row.get("file", "")))
                    old[k] = {h: row.get(h, "") for h in header}
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise GradeError(f"{path}: cannot read the last grades to merge ({e}); move it away") from None
    table = {}
    for s in course.students:
        sub = rows.get(s.id)
        if sub is None and s.id in old and old[s.id].get("status") not in ("", "missing"):
            table[s.id] = old[s.id]
        else:
            rec = _record(s.id, sub, layout)
            if sub is None:
                rec["name"] = s.name
            table[s.id] = _csv_row(rec, names, layout)
    graded_files = {k[1] for k in rows if isinstance(k, tuple)} | {
        sub.shown for sub in rows.values() if sub is not None}
    for k, row in old.items():
        if isinstance(k, tuple) and k[1] not in graded_files:
            table[k] = row
    for k, sub in rows.items():
        if isinstance(k, tuple):
            table[k] = _csv_row(_record(k, sub, layout), names, layout)
    return table


def _unneutral(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(DANGEROUS) else text


def _csv_row(rec, names, layout) -> dict:
    row = {h: rec[h] for h in ("id", "name", "status", "score", "max_score", "file", "flags")}
    for q, name in zip(layout.questions, names):
        row[name] = rec["verdicts"].get(q, "")
    return row


def _write_csv(path: Path, header, table) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(header)
        for row in table.values():
            w.writerow([neutral(row.get(h, "")) for h in header])


def _write_lms(path: Path, lms: str, course, table) -> list[str]:
    """An LMS import file: ids written exactly (every field quoted); an id that would run as a
    formula is left out, and said, rather than changed (the LMS would not match it)."""
    left_out = []
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["ID number", "Grade"] if lms == "moodle" else
                   ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "stepviz"])
        for s in course.students:
            row = table.get(s.id, {})
            if s.id.startswith(DANGEROUS):
                left_out.append(s.id)
                continue
            score = row.get("score", "")
            if lms == "moodle":
                w.writerow([s.id, score])
            else:
                w.writerow([neutral(s.name), "", s.id, "", "", score])
    return left_out
