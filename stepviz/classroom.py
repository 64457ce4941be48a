"""A class: one exercise workbook per student of a roster, each with its own numbers, and the
teacher's ``class.toml`` from which every workbook and every key can be rebuilt.

Each student's numbers derive from (course secret, student id) through
``numpy.random.SeedSequence``: their start values, and with ``vary_data`` their inputs X
(each moved by up to ±0.5, to one decimal; the targets are kept).
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import StepvizError

MODES = ("assessment", "practice")
CLASS_FILE = "class.toml"
MAX_ROSTER = 10_000
MAX_ROSTER_BYTES = 4 * 2**20


class ClassError(StepvizError):
    """A roster, a class folder or a class.toml cannot be used."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str

    @property
    def file(self) -> str:
        """The student's file name, made safe from the id (letters, digits, . _ - kept)."""
        return safe_name(self.id) + ".xlsx"


@dataclass(frozen=True)
class Course:
    """What class.toml holds: the preset or config, the options, the secret and the roster."""

    source: str
    mode: str
    lang: str | None
    vary_data: bool
    secret: str
    students: tuple[Student, ...]

    def text(self) -> str:
        q = json.dumps  # a JSON string is a TOML basic string
        lines = ["# stepviz class: the teacher's file. Keep it (and its secret) to rebuild the",
                 "# students' workbooks and to grade them: stepviz grade FOLDER SUBMISSIONS...",
                 f"source = {q(self.source)}", f"mode = {q(self.mode)}",
                 f"vary_data = {str(self.vary_data).lower()}", f"secret = {q(self.secret)}"]
        if self.lang:
            lines.append(f"lang = {q(self.lang)}")
        lines.append("students = [")
        lines += [f"  {{ id = {q(s.id)}, name = {q(s.name)} }}," for s in self.students]
        return "\n".join(lines + ["]", ""])

    def config(self):
        """The class's base configuration (an exercise), before any student's numbers."""
        from .config import load_config

        overrides = {"exercise": True} | ({"lang": self.lang} if self.lang else {})
        return load_config(self.source, **overrides)

    def student_config(self, base, student: Student):
        """The configuration of one student's workbook: their own start values (and X)."""
        import numpy as np

        from .engine import initial_parameters

        seq = np.random.SeedSequence([int(self.secret, 16), *_id_words(student.id)])
        rng = np.random.default_rng(seq)
        shapes = base.network.shapes(len(base.X))
        init = {p: rng.uniform(size=shapes[p]) for p in base.network.parameters()}
        init = {p: init[p] for p in initial_parameters(base)}  # the seed's order
        X = base.raw  # in the data's units (standardised again by with_inputs when the config is)
        if self.vary_data:
            X = np.round(base.raw + rng.uniform(-0.5, 0.5, size=base.X.shape), 1)
        return dataclasses.replace(base.with_inputs(X), init=init, exercise=True, assessment=self.mode == "assessment",
                                   student=(student.id, student.name), inputs=())


def _id_words(sid: str) -> list[int]:
    """A student id as four 32-bit words, stably (SHA-256 of its UTF-8)."""
    digest = hashlib.sha256(sid.encode("utf-8")).digest()
    return [int.from_bytes(digest[k:k + 4], "little") for k in range(0, 16, 4)]


def safe_name(sid: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", sid).strip(".")[:100]
    return name or "student"


def read_roster(path) -> tuple[Student, ...]:
    """The roster: a CSV with a header, a required ``id`` column and an optional ``name``."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ClassError(f"{path}: the roster is not a file")
        if path.stat().st_size > MAX_ROSTER_BYTES:
            raise ClassError(f"{path}: the roster is larger than {MAX_ROSTER_BYTES // 2**20} MiB")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ClassError(f"{path}: the roster is not UTF-8 text") from None
    except OSError as e:
        raise ClassError(f"{path}: cannot read the roster ({e.strerror})") from None
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as e:
        raise ClassError(f"{path}: not a CSV file ({e})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ClassError(f"{path}: the roster is empty; expected a header with an 'id' column")
    header = [h.strip().lower() for h in rows[0]]
    if "id" not in header:
        raise ClassError(f"{path}: the roster's header has no 'id' column (it has {', '.join(rows[0])})")
    k, n = header.index("id"), header.index("name") if "name" in header else None
    students, seen, files = [], {}, {}
    for line, row in enumerate(rows[1:], 2):
        sid = row[k].strip() if k < len(row) else ""
        if not sid:
            raise ClassError(f"{path}: line {line}: the id is empty")
        if sid in seen:
            raise ClassError(f"{path}: line {line}: id {sid!r} is also on line {seen[sid]}")
        s = Student(sid, row[n].strip() if n is not None and n < len(row) else "")
        if s.file.lower() in files:
            raise ClassError(f"{path}: line {line}: id {sid!r} and {files[s.file.lower()]!r} make the "
                             f"same file name {s.file}")
        seen[sid], files[s.file.lower()] = line, sid
        students.append(s)
    if not students:
        raise ClassError(f"{path}: the roster lists no student")
    if len(students) > MAX_ROSTER:
        raise ClassError(f"{path}: {len(students):,} students; a class has at most {MAX_ROSTER:,}")
    return tuple(students)


def load_course(folder) -> Course:
    """The class.toml of a class folder."""
    path = Path(folder) / CLASS_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        students = tuple(Student(str(s["id"]), str(s.get("name", ""))) for s in doc["students"])
        course = Course(str(doc["source"]), str(doc["mode"]), doc.get("lang"), bool(doc.get("vary_data", False)),
                        str(doc["secret"]), students)
        int(course.secret, 16)
    except FileNotFoundError:
        raise ClassError(f"{folder}: not a class folder (no {CLASS_FILE}); make one with stepviz class") from None
    except OSError as e:
        raise ClassError(f"{path}: cannot read ({e.strerror})") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError) as e:
        raise ClassError(f"{path}: not a stepviz class file ({e})") from None
    if course.mode not in MODES:
        raise ClassError(f"{path}: mode {course.mode!r} is not one of {', '.join(MODES)}")
    return course


def make_class(roster, source: str | None, folder, *, mode: str = "assessment", lang: str | None = None,
               vary_data: bool = False, secret: str | None = None, progress=None) -> list[Path]:
    """Write one exercise workbook per student of ``roster`` into ``folder``, and
    ``folder/class.toml``. Everything is checked before anything is written; an existing class
    folder is written again only with the same class (same roster, source, options; its secret
    is kept), which gives the same files byte for byte."""
    from .engine import train
    from .workbook import estimate, write_workbook

    if mode not in MODES:
        raise ClassError(f"--mode: expected one of {', '.join(MODES)}, got {mode!r}")
    students = read_roster(roster)
    folder = Path(folder)
    source = source or "seed-mlp"
    if source.endswith(".toml"):  # a config file: found again from class.toml wherever grading runs
        source = str(Path(source).resolve())
    if secret is not None:
        try:
            int(secret, 16)
        except ValueError:
            raise ClassError(f"--secret: expected hexadecimal digits, got {secret!r}") from None
    existing = None
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            raise ClassError(f"{folder}: exists and is not a folder")
        if (folder / CLASS_FILE).exists():
            existing = load_course(folder)
    if existing is not None and secret is None:
        secret = existing.secret
    course = Course(source, mode, lang, vary_data, (secret or secrets.token_hex(16)).lower(), students)
    if existing is not None and existing != course:
        raise ClassError(f"{folder}: holds another class ({CLASS_FILE} differs: roster, preset, options or "
                         "secret); choose a new folder")
    if folder.is_dir():
        ours = {s.file for s in students} | {CLASS_FILE, "grades.csv", "feedback"}
        others = sorted(p.name for p in folder.iterdir() if p.name not in ours)
        if others:
            raise ClassError(f"{folder}: holds other files ({', '.join(others[:3])}"
                             f"{', …' if len(others) > 3 else ''}); choose a new or empty folder")
    base = course.config()
    estimate(base)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CLASS_FILE).write_text(course.text(), encoding="utf-8")
    except OSError as e:
        raise ClassError(f"{folder}: cannot write ({e.strerror})") from None
    written = []
    for s in students:
        run = train(course.student_config(base, s))
        written.append(write_workbook(run, folder / s.file))
        if progress:
            progress(1)
    return written
