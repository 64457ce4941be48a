"""A class: one exercise workbook per student of a roster, each with its own numbers, and the
teacher's secret ``class.toml`` from which every workbook and every key can be rebuilt.

``stepviz class ROSTER -o DIR`` writes ``DIR/handout/<id>.xlsx`` (a folder holding nothing
else: hand it out as it is) and ``DIR/class.toml`` beside it. The teacher's file embeds the
whole configuration (the preset's or config file's tables, its CSV's text) and a check of the
numerics (the answers of a reference student, with the stepviz version), so grading months
later, after the config was edited or moved, rebuilds the same keys or refuses saying why.

Each student's numbers derive from (course secret, student id) through
``numpy.random.SeedSequence``: their start values, and with ``vary_data`` their inputs X
(each moved by up to ±0.5, to one decimal; the targets are kept).

Nothing is half-written: the class is written into a private folder beside ``DIR`` and renamed
into place (a class written again replaces only its own files, with the same bytes); a file
of someone else's in ``DIR`` is never overwritten, links and special files are refused.
"""
from __future__ import annotations

import copy
import csv
import dataclasses
import hashlib
import io
import math
import os
import re
import secrets
import shutil
import stat
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import StepvizError, expect, is_path

MODES = ("assessment", "practice")
LANGS = ("en", "zh", "de")
CLASS_FILE = "class.toml"
HANDOUT = "handout"
FORMAT = 2
MAX_ROSTER = 10_000
MAX_ROSTER_BYTES = 4 * 2**20
MAX_NAME = 100  # characters of a file name made from an id (file systems allow 255 bytes)
REFERENCE_ID = "stepviz reference student"  # whose answers check the numerics (no roster id can be it)
CHECK_RTOL = 1e-9  # how far a rebuilt reference answer may move (BLAS kernels differ at 1e-15)
# Windows' reserved device names, with or without an extension
RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.IGNORECASE)
UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# characters that would make a phantom line or row: control characters (a line break inside a
# quoted field, a tab) and the Unicode line and paragraph separators
PHANTOM = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class ClassError(StepvizError):
    """A roster, a class folder or a class.toml cannot be used."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str

    @property
    def file(self) -> str:
        """The student's handout file name, made safe from the id (see :func:`safe_name`)."""
        return safe_name(self.id) + ".xlsx"


def safe_name(sid: str) -> str:
    """A file name from an id in any script, safe on Windows and POSIX: NFC, no separators,
    no control or reserved characters (each becomes ``_``), no leading or trailing dot or
    space, no reserved device name (``CON`` becomes ``_CON``), at most MAX_NAME characters."""
    name = UNSAFE.sub("_", unicodedata.normalize("NFC", sid))[:MAX_NAME].strip(". ")
    if RESERVED.fullmatch(name):
        name = "_" + name
    return name or "student"


def _clash_key(file: str) -> str:
    """Two names the same on a case-insensitive file system (Windows, macOS) give one key."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", file).casefold())


def check_students(students, where: str, lines=None) -> tuple[Student, ...]:
    """Refuse empty, repeated, line-breaking ids and names, and ids that make one file name."""
    seen, files = {}, {}
    for k, s in enumerate(students):
        at = f"{where}: line {lines[k]}" if lines else f"{where}: student {k + 1}"
        if not s.id:
            raise ClassError(f"{at}: the id is empty")
        for what, text in (("id", s.id), ("name", s.name)):
            m = PHANTOM.search(text)
            if m:
                raise ClassError(f"{at}: the {what} {text!r} holds the control character {m.group()!r} "
                                 "(a line break in a field: an unclosed quote?)")
        if s.id in seen:
            raise ClassError(f"{at}: id {s.id!r} is also on {seen[s.id]}")
        key = _clash_key(s.file)
        if key in files:
            raise ClassError(f"{at}: id {s.id!r} and {files[key]!r} make the same file name {s.file} "
                             "(on Windows and macOS, where case does not count)")
        seen[s.id] = f"line {lines[k]}" if lines else f"student {k + 1}"
        files[key] = s.id
    if not students:
        raise ClassError(f"{where}: the roster lists no student")
    if len(students) > MAX_ROSTER:
        raise ClassError(f"{where}: {len(students):,} students; a class has at most {MAX_ROSTER:,}")
    return tuple(students)


def read_roster(path) -> tuple[Student, ...]:
    """The roster: a CSV (``,`` or ``;``, UTF-8 with or without BOM, quoted fields) with a
    header, a required ``id`` column and an optional ``name``."""
    from .data import read_text
    from .errors import ConfigError

    expect(is_path(path), "read_roster", "a file name (str or pathlib.Path) as roster", path)
    path = Path(path)
    try:
        if os.path.getsize(path) > MAX_ROSTER_BYTES:
            raise ClassError(f"{path}: the roster is larger than {MAX_ROSTER_BYTES // 2**20} MiB")
    except OSError:
        pass  # read_text says what is wrong
    try:
        text = read_text(path, "roster", "a CSV roster")
    except ConfigError as e:
        raise ClassError(str(e)) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, lines = [], []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise ClassError(f"{path}: line {start}: not valid CSV ({e}; an unclosed quote?)") from None
        if any(c.strip() for c in row):
            rows.append(row)
            lines.append(start)
    if not rows:
        raise ClassError(f"{path}: the roster is empty; expected a header with an 'id' column")
    header = [h.strip().lower() for h in rows[0]]
    if "id" not in header:
        raise ClassError(f"{path}: the roster's header has no 'id' column (it has {', '.join(rows[0])})")
    k, n = header.index("id"), header.index("name") if "name" in header else None
    students = []
    for line, row in zip(lines[1:], rows[1:]):
        if len(row) > len(header):
            raise ClassError(f"{path}: line {line}: {len(row)} fields, the header has {len(header)} "
                             "(an unquoted separator in a name?)")
        students.append(Student(row[k].strip() if k < len(row) else "",
                                row[n].strip() if n is not None and n < len(row) else ""))
    return check_students(students, str(path), lines[1:])


# -- the teacher's file --------------------------------------------------------------------


def _toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml(v) -> str:
    """A value as TOML (the few types a config holds)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return ("nan" if math.isnan(v) else "inf" if v > 0 else "-inf") if not math.isfinite(v) else repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(map(_toml, v)) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_str(k)} = {_toml(x)}" for k, x in v.items()) + " }"
    raise ClassError(f"the configuration holds a {type(v).__name__} ({v!r}), which a class file cannot embed")


@dataclass(frozen=True)
class Course:
    """What class.toml holds: the configuration's document and data files (embedded), the
    options, the secret, the roster and the check of the numerics."""

    doc: dict  # the config's tables as parsed; data.csv names an entry of ``files``
    files: dict  # file name -> text (the config's CSV)
    name: str  # the configuration's name (workbook titles)
    mode: str
    lang: str | None
    vary_data: bool
    secret: str
    students: tuple[Student, ...]
    check: tuple = ()  # the reference student's answers, as the stepviz that made the class computed them
    version: str = ""
    source: str = ""  # where the configuration came from (said, never read again)
    legacy: bool = False  # a format-1 class.toml: the config is read again from ``source``

    def text(self) -> str:
        lines = ["# SECRET: the teacher's file of a stepviz class. It holds the course secret, from which every",
                 "# answer of every student follows: never hand it out, never put it in the handout folder or an",
                 "# LMS. Keep it to grade: stepviz grade FOLDER RETURNS... (it embeds the whole configuration and",
                 "# its data: editing or moving the original config or CSV changes nothing here).",
                 f"format = {FORMAT}", f"stepviz = {_toml_str(self.version)}", f"name = {_toml_str(self.name)}",
                 f"source = {_toml_str(self.source)}", f"mode = {_toml_str(self.mode)}",
                 f"vary_data = {_toml(self.vary_data)}", f"secret = {_toml_str(self.secret)}"]
        if self.lang:
            lines.append(f"lang = {_toml_str(self.lang)}")
        lines.append("# the answers of a reference student, as this stepviz computed them: grading checks it gets the same")
        lines.append(f"check = {_toml(list(self.check))}")
        lines.append("students = [")
        lines += [f"  {{ id = {_toml_str(s.id)}, name = {_toml_str(s.name)} }}," for s in self.students]
        lines.append("]")
        for section, table in self.doc.items():
            lines.append(f"\n[config.{_toml_str(section)}]")
            lines += [f"{_toml_str(k)} = {_toml(v)}" for k, v in table.items()]
        if self.files:
            lines.append("\n[files]")
            lines += [f"{_toml_str(k)} = {_toml_str(v)}" for k, v in self.files.items()]
        return "\n".join(lines + [""])

    def config(self):
        """The class's base configuration (an exercise), before any student's numbers."""
        from .config import load_config, validate

        overrides = {"exercise": True} | ({"lang": self.lang} if self.lang else {})
        if self.legacy:
            return load_config(self.source, **overrides)
        with tempfile.TemporaryDirectory(prefix="stepviz-class-") as d:
            for name, text in self.files.items():
                Path(d, name).write_text(text, encoding="utf-8")
            cfg = validate(copy.deepcopy(self.doc), name=self.name, folder=Path(d), overrides=overrides)
        return dataclasses.replace(cfg, inputs=())

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

    def reference(self, base) -> tuple[float, ...]:
        """The answers of the reference student: what ``check`` holds."""
        from .engine import train
        from .exercise import focus_of, questions

        run = train(trained_to_detail(self.student_config(base, Student(REFERENCE_ID, ""))))
        return tuple(float((v := run.value(*q))[focus_of(base, v.shape)]) for q in questions(run))

    def verify(self, base, where) -> None:
        """Refuse to grade when this stepviz rebuilds other numbers than the one that made the class."""
        if self.legacy or not self.check:
            return
        from . import __version__

        now = self.reference(base)
        if len(now) != len(self.check) or any(abs(a - b) > CHECK_RTOL * max(1.0, abs(b))
                                              for a, b in zip(now, self.check)):
            raise ClassError(f"{where}: this stepviz ({__version__}) computes other numbers for this class than "
                             f"stepviz {self.version} did when it was made; grade it with stepviz {self.version}")


def trained_to_detail(cfg):
    """``cfg`` trained only up to the epoch of its last detailed update (``detail`` counts
    updates: with mini-batches an epoch holds ``cfg.batches`` of them)."""
    return dataclasses.replace(cfg, epochs=-(-max(cfg.detail) // cfg.batches), history_every=1)


def _id_words(sid: str) -> list[int]:
    """A student id as four 32-bit words, stably (SHA-256 of its UTF-8)."""
    digest = hashlib.sha256(sid.encode("utf-8", "surrogatepass")).digest()
    return [int.from_bytes(digest[k:k + 4], "little") for k in range(0, 16, 4)]


def _embedded(source: str, lang):
    """(document, files, name, source) of a preset or config file, self-contained: the CSV
    it names is embedded as text."""
    from .config import read_source
    from .data import read_text
    from .errors import ConfigError

    doc, name, folder, path = read_source(source)
    doc = copy.deepcopy(doc)
    files = {}
    csv_name = doc.get("data", {}).get("csv") if isinstance(doc.get("data"), dict) else None
    if isinstance(csv_name, str) and csv_name:
        csv_path = Path(csv_name) if folder is None else Path(folder) / csv_name
        try:
            text = read_text(csv_path, "CSV file", "a CSV data file")
        except ConfigError as e:
            raise ClassError(str(e)) from None
        base = safe_name(Path(csv_name).stem) + ".csv"
        files[base] = text
        doc["data"]["csv"] = base
    for section, table in doc.items():
        if not isinstance(table, dict):
            raise ClassError(f"{source}: {section} is not a table; a class embeds a configuration's tables")
        _toml(table)  # every value can be written
    return doc, files, name, str(path.resolve()) if path is not None else source


def _regular(path: Path, what: str) -> None:
    """Refuse a link or a special file where stepviz reads or writes its own file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise ClassError(f"{path}: cannot read ({e.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise ClassError(f"{path}: is a symbolic link; {what} must be a file of its own")
    if not stat.S_ISREG(info.st_mode):
        from .data import node_kind

        raise ClassError(f"{path}: is {node_kind(info.st_mode)}, not a regular file; {what} must be a file")


def load_course(folder) -> Course:
    """The class.toml of a class folder, every option checked with its type."""
    from .data import read_text
    from .errors import ConfigError

    expect(is_path(folder), "load_course", "a folder name (str or pathlib.Path)", folder)
    path = Path(folder) / CLASS_FILE
    if not os.path.lexists(path):
        raise ClassError(f"{folder}: not a class folder (no {CLASS_FILE}); make one with stepviz class")
    _regular(path, "the teacher's file")
    try:
        doc = tomllib.loads(read_text(path, "class file", "a stepviz class.toml"))
    except ConfigError as e:
        raise ClassError(str(e)) from None
    except tomllib.TOMLDecodeError as e:
        raise ClassError(f"{path}: not a stepviz class file ({e})") from None

    def get(key, kind, what, default=...):
        v = doc.get(key, default)
        if v is ... or not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
            raise ClassError(f"{path}: {key}: expected {what}, got {v!r}" if v is not ... else
                             f"{path}: {key} is missing; not a stepviz class file")
        return v

    legacy = "format" not in doc
    if not legacy and get("format", int, "a whole number") > FORMAT:
        raise ClassError(f"{path}: made by a newer stepviz (format {doc['format']}); update stepviz to grade it")
    mode = get("mode", str, f"one of {', '.join(MODES)}")
    if mode not in MODES:
        raise ClassError(f"{path}: mode: expected one of {', '.join(MODES)}, got {mode!r}")
    vary = get("vary_data", bool, "true or false", False)
    lang = get("lang", str, f"one of {', '.join(LANGS)}", None) if "lang" in doc else None
    if lang is not None and lang not in LANGS:
        raise ClassError(f"{path}: lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    secret = get("secret", str, "hexadecimal digits")
    if not re.fullmatch(r"[0-9a-fA-F]{1,256}", secret):
        raise ClassError(f"{path}: secret: expected hexadecimal digits, got {secret!r}")
    raw = get("students", list, "a list of { id, name } tables")
    if not all(isinstance(s, dict) and isinstance(s.get("id"), str) and isinstance(s.get("name", ""), str)
               for s in raw):
        raise ClassError(f"{path}: students: expected {{ id = \"...\", name = \"...\" }} tables of text")
    students = check_students([Student(s["id"], s.get("name", "")) for s in raw], str(path))
    if legacy:
        return Course({}, {}, "", mode, lang, vary, secret.lower(), students,
                      source=get("source", str, "a preset or config file"), legacy=True)
    config = get("config", dict, "the configuration's tables")
    files = get("files", dict, "the embedded data files", {})
    if not all(isinstance(v, str) for v in files.values()) or any(safe_name(k) != k for k in files):
        raise ClassError(f"{path}: files: expected file names and their text")
    check = get("check", list, "a list of numbers", [])
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in check):
        raise ClassError(f"{path}: check: expected a list of numbers")
    return Course(config, files, get("name", str, "text"), mode, lang, vary, secret.lower(), students,
                  tuple(float(v) for v in check), get("stepviz", str, "a version"),
                  get("source", str, "text", ""))


def handout_folder(folder, course: Course) -> Path:
    """Where a class's workbooks are (a format-1 class kept them beside class.toml)."""
    return Path(folder) if course.legacy else Path(folder) / HANDOUT


def make_class(roster, source: str | None, folder, *, mode: str = "assessment", lang: str | None = None,
               vary_data: bool = False, secret: str | None = None, progress=None) -> list[Path]:
    """Write one exercise workbook per student of ``roster`` into ``folder/handout/`` and the
    teacher's ``folder/class.toml``. Everything is checked before anything is written, and
    the whole is written in a private folder beside ``folder`` then renamed into place. An
    existing class folder is written again only with the same class (same roster,
    configuration, options; its secret is kept), which gives the same files byte for byte."""
    from . import __version__
    from .engine import train
    from .workbook import WorkbookError, estimate, write_workbook
    from .workbook.limits import check_training
    from .workbook.output import _PRIVATE, signals_deferred

    f = "make_class"
    expect(is_path(roster), f, "a file name (str or pathlib.Path) as roster", roster)
    expect(source is None or isinstance(source, str) or isinstance(source, os.PathLike), f,
           "a preset name or a .toml path as source", source)
    expect(is_path(folder), f, "a folder name (str or pathlib.Path)", folder)
    expect(isinstance(mode, str), f, "a str as mode", mode)
    expect(lang is None or isinstance(lang, str), f, "a str or None as lang", lang)
    expect(isinstance(vary_data, bool), f, "True or False as vary_data", vary_data)
    expect(secret is None or isinstance(secret, str), f, "a str of hexadecimal digits or None as secret", secret)
    expect(progress is None or callable(progress), f, "a function or None as progress", progress)
    if mode not in MODES:
        raise ClassError(f"--mode: expected one of {', '.join(MODES)}, got {mode!r}")
    if lang is not None and lang not in LANGS:
        raise ClassError(f"--lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    if secret is not None and not re.fullmatch(r"[0-9a-fA-F]{1,256}", secret):
        raise ClassError(f"--secret: expected hexadecimal digits, got {secret!r}")
    students = read_roster(roster)
    folder = Path(folder)
    existing = _check_folder(folder, students)
    if existing is not None and secret is None:
        secret = existing.secret
    doc, files, name, where = _embedded(os.fspath(source or "seed-mlp"), lang)
    course = Course(doc, files, name, mode, lang, vary_data, (secret or secrets.token_hex(16)).lower(), students,
                    version=__version__, source=where)
    base = course.config()
    estimate(base)
    check_training(base)
    course = dataclasses.replace(course, check=course.reference(base))
    if existing is not None and dataclasses.replace(existing, check=(), version="", source="") != \
            dataclasses.replace(course, check=(), version="", source=""):
        raise ClassError(f"{folder}: holds another class ({CLASS_FILE} differs: roster, configuration, options or "
                         "secret); choose a new folder")
    if existing is not None:  # the same class: the same file, whatever path or version wrote it
        existing.verify(base, folder / CLASS_FILE)  # and the same numbers, or no workbook is rewritten
        course = dataclasses.replace(course, source=existing.source, version=existing.version or __version__,
                                     check=existing.check or course.check)
    where = Path(os.path.abspath(folder))  # "-o ." names the current folder: its real name and parent
    parent = where.parent
    if not parent.is_dir():
        raise ClassError(f"{parent}: no such folder for the class")
    private = None
    try:
        with signals_deferred():  # made and recorded at once
            try:
                private = Path(tempfile.mkdtemp(prefix=f".{where.name}.stepviz-", dir=parent))
            except OSError as e:
                raise ClassError(f"{parent}: cannot write here ({e.strerror})") from None
            _PRIVATE.add(str(private))
        (private / HANDOUT).mkdir()
        (private / CLASS_FILE).write_text(course.text(), encoding="utf-8")
        written = []
        for s in students:
            run = train(course.student_config(base, s))
            write_workbook(run, private / HANDOUT / s.file)
            written.append(folder / HANDOUT / s.file)
            if progress:
                progress(1)
        with signals_deferred():  # all of it, or (a signal waits) nothing
            _check_folder(folder, students)  # again: it may have changed while we worked
            if existing is None and not folder.is_dir():
                os.rename(private, where)
            elif existing is None:  # an empty folder (checked), perhaps the current one: filled, kept
                os.rename(private / HANDOUT, where / HANDOUT)
                os.rename(private / CLASS_FILE, where / CLASS_FILE)
            else:
                (folder / HANDOUT).mkdir(exist_ok=True)
                for s in students:
                    os.replace(private / HANDOUT / s.file, folder / HANDOUT / s.file)
                os.replace(private / CLASS_FILE, folder / CLASS_FILE)
        return written
    except (OSError, WorkbookError) as e:
        why = e.strerror if isinstance(e, OSError) else str(e)
        raise ClassError(f"{folder}: the class was not written ({why}); the folder is as it was") from None
    finally:
        if private is not None:
            with signals_deferred():
                shutil.rmtree(private, ignore_errors=True)
                _PRIVATE.discard(str(private))


def _check_folder(folder: Path, students) -> Course | None:
    """The class already in ``folder`` (None: no folder, or an empty one), or ClassError when
    writing the class there could touch anything not its own."""
    if os.path.islink(folder):
        raise ClassError(f"{folder}: is a symbolic link; give the class folder itself")
    if not folder.exists():
        return None
    if not folder.is_dir():
        raise ClassError(f"{folder}: exists and is not a folder")
    entries = sorted(p.name for p in folder.iterdir())
    if not entries:
        return None
    if CLASS_FILE not in entries:
        raise ClassError(f"{folder}: holds other files ({', '.join(entries[:3])}{', …' if len(entries) > 3 else ''}) "
                         "and no class; choose a new or empty folder")
    _regular(folder / CLASS_FILE, "the teacher's file")
    course = load_course(folder)
    handout = folder / HANDOUT
    if os.path.lexists(handout):
        if os.path.islink(handout) or not handout.is_dir():
            raise ClassError(f"{handout}: is not a folder of its own (a link or a file); move it away")
        ours = {s.file for s in students}
        others = sorted(p.name for p in handout.iterdir() if p.name not in ours)
        if others:
            raise ClassError(f"{handout}: holds files that are not this class's ({', '.join(others[:3])}"
                             f"{', …' if len(others) > 3 else ''}); the handout folder holds the workbooks only")
        for s in students:
            _regular(handout / s.file, "a student's workbook")
    return course
