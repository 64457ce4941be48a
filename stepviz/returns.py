"""Reading any returned student file safely: .xlsx, .xlsm, .ods and .xls, whatever it holds.

python-calamine reads the values of all four formats, but it materialises each sheet's used
range from A1: one typed cell at XFD1048576 asks for 550 GB and aborts the process (a Rust
allocation failure, not an exception). So every file is parsed in a forked worker process that
cannot allocate more than ``memory`` bytes beyond what it inherited (``RLIMIT_AS``) and is killed
after ``timeout`` seconds on a file (then replaced); the grading process only receives the
non-empty cells. Before
calamine runs, the child bounds what it is about to inflate (file size, zip directory, part
sizes and compression ratios, through ``stepviz.reader.check_workbook``), and before the cells
cross into Python, the sheets' used ranges. A file that breaks any of this is ``Unreadable``,
with a one-line reason; nothing else is raised.

calamine returns values only: the formulas (their count and places), the error values (which it
reads as empty) and the custom document properties are read here from the sheet XML
(xlsx/xlsm) or content.xml / meta.xml (ods), streamed with the same bounds, or the OLE
property set (xls). An .xls gives no formulas (unknown) and its error values read as empty.
"""
from __future__ import annotations

import array
import atexit
import codecs
import datetime
import functools
import io
import math
import numbers
import os
import pickle
import re
import select
import signal
import stat
import struct
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import StepvizError, expect, is_path

SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
# A stepviz exercise workbook is 30-200 KB (130 KB of XML inflated, under 1,000 cells); an old
# Excel's .xls of it under 1 MB. The bounds below leave a factor of 100 or more.
MAX_FILE_BYTES = 32 * 2**20
MAX_INFLATED = 128 * 2**20  # all zip parts together, as declared in the zip directory
MAX_PARTS = 10_000  # zip entries
MAX_SHEETS = 1_000
MAX_AREA = 4_000_000  # cells of the sheets' used ranges together (calamine fills them all)
MAX_CELLS = 200_000  # non-empty cells handed to the grading process (a default return has 550)
MAX_TEXT = 16 * 2**20  # characters of text in those cells (a stepviz workbook has about 10,000)
MAX_RESULT_BYTES = 64 * 2**20  # what the child may send back
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS = b"application/vnd.oasis.opendocument.spreadsheet"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class Unreadable(StepvizError):
    """A returned file cannot be read; the message is the reason, one line, safe to print."""

    def __init__(self, reason: str):
        super().__init__(_CONTROL.sub("?", str(reason)))


@dataclass(frozen=True)
class Error:
    """A cell's error value, as the spreadsheet shows it: ``Error("#DIV/0!")``."""

    text: str

    def __str__(self):
        return self.text


@dataclass(frozen=True)
class Return:
    """What a returned file holds. ``sheets``: sheet name -> {(row, col) 0-based: value}, only
    the non-empty cells; a value is a float or int, str, bool, datetime/date/time/timedelta or
    Error. ``properties``: the custom document properties named stepviz_*, without the prefix
    (xlsx/xlsm: docProps/custom.xml; ods: meta.xml's user-defined; xls: the OLE property set;
    {} when there are none or they are damaged).
    ``formulas``: formula cells in the whole file (None for .xls: unknown); ``formula_cells``:
    (sheet, row, col) of each of them, where known."""

    path: Path
    kind: str
    sheets: dict[str, dict[tuple[int, int], object]]
    properties: dict[str, str]
    formulas: int | None
    formula_cells: frozenset[tuple[str, int, int]]


# ---------------------------------------------------------------- finding the returns


def find_returns(paths) -> list[Path]:
    """The returned files among ``paths`` (one path or an iterable of them): files as given,
    folders searched recursively (an LMS download is one folder per student) for the four
    suffixes, in any case, skipping hidden files and folders and Office's ``~$`` lock files.
    Symbolic links are not followed out of a folder tree (a link to a file inside it is kept).
    A path that does not exist is kept as given (``read_return`` says so). Sorted, each file
    once."""
    if is_path(paths):
        paths = [paths]
    expect(not isinstance(paths, (bytes, dict)) and hasattr(paths, "__iter__"), "find_returns",
           "a path or a list of paths", paths)
    paths = list(paths)
    for p in paths:
        expect(is_path(p), "find_returns", "file or folder names (str or pathlib.Path)", p)
    found = {}
    for p in map(Path, paths):
        try:
            folder = p.is_dir()
            real = os.path.realpath(p)
        except (OSError, ValueError):  # a NUL in the name, a loop of links: read_return says why
            found.setdefault(str(p), p)
            continue
        if folder:  # a folder named (even through a link) is searched; links inside it are not entered
            root = real
            for top, dirs, files in os.walk(p):  # followlinks=False
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if name.startswith((".", "~$")) or not name.lower().endswith(SUFFIXES):
                        continue
                    f = Path(top, name)
                    real = os.path.realpath(f)
                    if f.is_symlink() and os.path.commonpath([root, real]) != root:
                        continue  # a link out of the tree
                    found.setdefault(real, f)
        else:
            found.setdefault(real, p)
    return sorted(found.values(), key=lambda f: (str(f).casefold(), str(f)))


# ---------------------------------------------------------------- reading one return


def read_return(path, *, timeout: float = 10.0, memory: int = 400 * 2**20) -> Return:
    """Read a returned file (.xlsx, .xlsm, .ods or .xls, recognised by its content), parsed in a
    child process limited to ``memory`` bytes beyond the grading process's own and ``timeout``
    seconds. Raises Unreadable (the reason in one line) for anything it cannot read, and nothing
    else."""
    expect(is_path(path), "read_return", "a file name (str or pathlib.Path) as path", path)
    expect(isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and 0 < timeout < 1e6,
           "read_return", "a positive number of seconds as timeout", timeout)
    expect(isinstance(memory, int) and not isinstance(memory, bool) and memory >= 2**24,
           "read_return", "a number of bytes (at least 16 MiB) as memory", memory)
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise Unreadable("no such file") from None
    except (OSError, ValueError) as e:
        raise Unreadable(f"cannot be opened ({getattr(e, 'strerror', None) or type(e).__name__})") from None
    if not stat.S_ISREG(info.st_mode):
        from .data import node_kind

        raise Unreadable(f"is {node_kind(info.st_mode)}, not a file")
    if info.st_size == 0:
        raise Unreadable("an empty file (0 bytes)")
    if info.st_size > MAX_FILE_BYTES:
        raise Unreadable(f"{info.st_size:,} bytes, larger than a returned workbook can be "
                         f"({MAX_FILE_BYTES // 2**20} MiB); not read")
    from . import reader  # noqa: F401  (imported here, so the child finds it loaded)
    import python_calamine  # noqa: F401

    if hasattr(os, "fork"):
        what, value = _in_child(path, timeout, memory)
    else:  # no fork (Windows): the bounds checked before parsing only
        what, value = _outcome(path)
    if what == "timeout":
        raise Unreadable(f"took more than {timeout:g} s to read; not read")
    if what == "too big":
        raise Unreadable(f"holds more than {MAX_RESULT_BYTES // 2**20} MiB of values; not read")
    if what in ("died", "memory"):  # an abort: calamine could not allocate the sheet
        raise Unreadable(f"reading it needs more than {memory // 2**20} MiB of memory (a sheet's used range "
                         "is too large, or the file is damaged); not read")
    if what != "ok":
        raise Unreadable(value)
    kind, (sheets, properties, formulas, cells) = value
    return Return(path, kind, sheets, properties, formulas, frozenset(cells))


class _Worker:
    """A forked child that reads files one after another, limited to ``memory`` bytes beyond what
    it inherited (RLIMIT_AS): a fork per file cost 56 ms per default return against 15 ms read in
    the process (copy-on-write of the parent's pages). When it dies (calamine aborts on an
    allocation it cannot make) or overruns a file's time, the file is unreadable and the next one
    gets a new worker."""

    RECYCLE = 500  # files, against slow growth of a long-lived heap

    def __init__(self, memory: int):
        self.memory, self.served, self.owner = memory, 0, os.getpid()
        req_r, self.req = os.pipe()
        self.res, res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            code = 1
            try:
                keep = sorted((req_r, res_w))  # nothing else of the parent's stays open (no pipe kept from EOF)
                os.closerange(3, keep[0])
                os.closerange(keep[0] + 1, keep[1])
                os.closerange(keep[1] + 1, 1 << 16)
                code = _serve(req_r, res_w, memory)
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(res_w)

    def read(self, path: str, timeout: float):
        """("ok", result) | ("unreadable", reason) | ("memory", "") | ("died", "") | ("timeout", "")."""
        self.served += 1
        request = path.encode("utf-8", "surrogateescape")
        try:
            os.write(self.req, len(request).to_bytes(8, "little") + request)
        except OSError:
            return "died", ""
        deadline = time.monotonic() + timeout
        head = self._read(8, deadline)
        if not isinstance(head, bytes):
            return head, ""
        size = int.from_bytes(head, "little")
        if size > MAX_RESULT_BYTES:
            return "too big", ""
        body = self._read(size, deadline)
        if not isinstance(body, bytes):
            return body, ""
        try:
            return _Results(io.BytesIO(body)).load()
        except Exception:  # noqa: BLE001
            return "unreadable", "not a readable workbook (its reader failed)"

    def _read(self, n: int, deadline: float):
        chunks, left = [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.res], [], [], wait)[0]:
                return "timeout"
            chunk = os.read(self.res, min(left, 2**20))
            if not chunk:
                return "died"
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self):
        for fd in (self.req, self.res):
            try:
                os.close(fd)
            except OSError:
                pass
        _kill(self.pid)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _serve(req: int, res: int, memory: int) -> int:
    """The worker's loop: a request is a path (8-byte length, UTF-8), an answer a pickle."""
    import gc

    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # calamine's "memory allocation failed" is not for the terminal
        os.dup2(null, fd)
    import faulthandler

    faulthandler.disable()  # nor a traceback of the abort (pytest enables it on a copy of stderr)
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # the CLI's handlers raise into cleanup code: not here
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    gc.freeze()  # what the worker inherited is never scanned (scanning would copy every page)
    _limit(memory)
    with os.fdopen(req, "rb") as requests, os.fdopen(res, "wb") as answers:
        while True:
            head = requests.read(8)
            if len(head) < 8:
                return 0
            out = _outcome(Path(requests.read(int.from_bytes(head, "little")).decode("utf-8", "surrogateescape")))
            data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
            answers.write(len(data).to_bytes(8, "little") + data)
            answers.flush()
            if out[0] == "memory":
                return 0  # a heap that ran out is not reused


def _outcome(path: Path):
    """("ok", (kind, values…)) or ("unreadable", reason) or ("memory", "")."""
    try:
        return "ok", _parse(path)
    except Unreadable as e:
        return "unreadable", str(e)
    except MemoryError:
        return "memory", ""
    except RecursionError:
        return "unreadable", "not a readable workbook (nested too deeply)"
    except OSError as e:  # permissions, a file removed meanwhile, an I/O error
        return "unreadable", f"cannot be read ({e.strerror or type(e).__name__})"
    except Exception as e:  # noqa: BLE001  (any parser's error: the file is unreadable)
        return "unreadable", _reason(e)


_worker: _Worker | None = None
_worker_lock = threading.Lock()


def _in_child(path: Path, timeout: float, memory: int):
    global _worker
    with _worker_lock:
        if _worker is not None and _worker.owner != os.getpid():
            _worker = None  # this process was forked: the worker is its parent's
        if _worker is not None and (_worker.memory != memory or _worker.served >= _Worker.RECYCLE):
            _worker.close()
            _worker = None
        if _worker is None:
            try:
                _worker = _Worker(memory)
            except OSError as e:  # no process or pipe to be had (EAGAIN, EMFILE)
                return "unreadable", f"no process to read it in ({e.strerror}); not read"
        what, value = _worker.read(os.path.abspath(path), timeout)
        if what not in ("ok", "unreadable"):
            _worker.close()
            _worker = None
    return what, value


def _stop() -> None:
    """Stop the worker (at exit; the worker also stops when its requests pipe closes)."""
    global _worker
    with _worker_lock:
        if _worker is not None and _worker.owner == os.getpid():
            _worker.close()
        _worker = None


atexit.register(_stop)


def _limit(memory: int) -> None:
    """In the worker: address space = what it inherited + ``memory``."""
    import resource

    vm = 0
    try:
        with open("/proc/self/status") as f:
            vm = next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")), 0)
    except OSError:
        pass
    try:
        resource.setrlimit(resource.RLIMIT_AS, (vm + memory, vm + memory))
    except (ValueError, OSError):
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class _Results(pickle.Unpickler):
    """The child's answer: builtins, dates and Error only."""

    ALLOWED = {("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"), ("datetime", "timedelta"),
               ("stepviz.returns", "Error"), ("builtins", "frozenset"), ("builtins", "set")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name}")


def _reason(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e).strip() else ""
    if "password" in text.lower() or type(e).__name__ == "PasswordError":
        return "is password-protected (encrypted); not read"
    return f"not a readable workbook ({type(e).__name__}{': ' + text[:120] if text else ''})"


def _parse(path: Path):
    """(kind, (sheets, properties, formulas, formula cells)) of a file, bounds first."""
    with _open(path) as f:
        head = f.read(8)
    if head == _OLE:
        kind = "xls"
    elif head[:4] == b"PK\x03\x04":
        kind = _zip_kind(path)
    else:
        raise Unreadable("not a spreadsheet (neither an .xlsx/.xlsm/.ods zip nor an .xls file)")
    sheets = _values(path)
    properties, formulas, cells = {}, None, set()
    if kind == "ods":
        properties = _ods_properties(path)
        formulas, cells = _ods_scan(path, sheets)
    elif kind == "xls":
        with _open(path) as f:
            properties = _xls_properties(f.read(MAX_FILE_BYTES + 1))
    else:
        properties = _xlsx_properties(path)
        formulas, cells = _xlsx_scan(path, sheets)
    return kind, (sheets, properties, formulas, cells)


def _open(path: Path):
    """The file, opened without blocking (a file swapped for a FIFO since it was checked does not
    hang the worker) and checked again to be a regular file of at most MAX_FILE_BYTES."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
        os.close(fd)
        raise Unreadable("changed while it was read (no longer a regular file of at most "
                         f"{MAX_FILE_BYTES // 2**20} MiB); not read")
    return os.fdopen(fd, "rb")


def _zip_kind(path: Path) -> str:
    """xlsx, xlsm or ods from the archive's own parts; bounded by the zip directory first."""
    from .reader import NotAWorkbookError, check_workbook

    try:
        check_workbook(path)
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
            if len(parts) > MAX_PARTS:
                raise Unreadable(f"a zip of {len(parts):,} parts, more than a workbook has ({MAX_PARTS:,}); not read")
            total = sum(p.file_size for p in parts)
            if total > MAX_INFLATED:
                raise Unreadable(f"its parts would inflate to {total:,} bytes, more than a returned workbook "
                                 f"holds ({MAX_INFLATED // 2**20} MiB); not read")
            names = {p.filename for p in parts}
            if "mimetype" in names and _read_part(z, "mimetype", 100).strip() == _ODS:
                return "ods"
            if "xl/workbook.xml" not in names:
                raise Unreadable("a zip archive, but not an .xlsx, .xlsm or .ods workbook")
            types = _read_part(z, "[Content_Types].xml", 2**20) if "[Content_Types].xml" in names else b""
            return "xlsm" if b"macroEnabled" in types else "xlsx"
    except NotAWorkbookError as e:
        raise Unreadable(str(e).removeprefix(f"{path}: ")) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
        raise Unreadable(f"a damaged zip archive ({type(e).__name__})") from None


def _read_part(z: zipfile.ZipFile, name: str, bound: int) -> bytes:
    info = z.getinfo(name)
    if info.file_size > bound:
        raise Unreadable(f"its part {name} would inflate to {info.file_size:,} bytes, more than {bound:,}; not read")
    with z.open(info) as f:
        return f.read(bound + 1)[:bound]  # the zip reader stops at the declared size anyway


def _values(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    """calamine's values, only the non-empty cells, the used ranges bounded before they reach Python."""
    from python_calamine import CalamineWorkbook

    with _open(path) as f:
        wb = CalamineWorkbook.from_filelike(f)
    names = wb.sheet_names
    if len(names) > MAX_SHEETS:
        raise Unreadable(f"{len(names):,} sheets, more than a returned workbook has ({MAX_SHEETS:,}); not read")
    sheets, area, count, text = {}, 0, 0, 0
    for name in names:
        sheet = wb.get_sheet_by_name(name)
        area += sheet.height * sheet.width
        if area > MAX_AREA:
            raise Unreadable(f"its sheets' used ranges cover more than {MAX_AREA:,} cells (sheet {name[:40]!r} "
                             f"reaches row {sheet.end[0] + 1:,}, column {sheet.end[1] + 1:,}); not read")
        r0, c0 = sheet.start if sheet.height else (0, 0)
        cells = {}
        for i, row in enumerate(sheet.to_python(skip_empty_area=True) if sheet.height else (), r0):
            cells.update(((i, j), v) for j, v in enumerate(row, c0) if v != "" and v is not None)
        text += sum(len(v) for v in cells.values() if type(v) is str)
        if text > MAX_TEXT:
            raise Unreadable(f"more than {MAX_TEXT:,} characters of text in its cells; not read")
        count += len(cells)
        if count > MAX_CELLS:
            raise Unreadable(f"more than {MAX_CELLS:,} non-empty cells; not read")
        sheets[name] = cells
    return sheets


# ---------------------------------------------------------------- xlsx/xlsm: formulas, errors, properties

_XLSX_ROOT = re.compile(rb"<(?:([\w.-]+):)?worksheet[\s>]")


@functools.lru_cache(maxsize=8)
def _xlsx_patterns(prefix: bytes):
    """Patterns for one namespace prefix of the sheet XML ("" or "x:"): a literal start keeps
    the regular expressions at memchr speed (14 MB in 10 ms, against 300 ms with any prefix)."""
    p = re.escape(prefix)
    cell = rb"<" + p + rb'c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*'
    return (re.compile(rb"<" + p + rb"f[\s>/]"),
            re.compile(cell + rb"(?<!/)>\s*<" + p + rb"f[\s>/]"),  # a cell's formula comes first (CT_Cell)
            re.compile(rb"<" + p + rb'c(?=\s)[^>]*?\st="e"[^>]*>'),
            re.compile(cell + rb">"),
            re.compile(rb"<" + p + rb"v>([^<]{0,40})<"))


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _xlsx_scan(path: Path, sheets: dict) -> tuple[int, set]:
    """Formula cells of every sheet (count and places), and each error value put in ``sheets``
    (calamine reads them as empty): one pass over each sheet's XML."""
    from .reader import _sheet_parts

    formulas, cells = 0, set()
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for name, part in _sheet_parts(z).items():
            if part not in names:
                continue
            xml = _read_part(z, part, MAX_INFLATED)
            root = _XLSX_ROOT.search(xml, 0, 4096)
            formula, formula_cell, error, cell, value = _xlsx_patterns(root.group(1) + b":" if root and root.group(1)
                                                                        else b"")
            formulas += len(formula.findall(xml))
            for m in formula_cell.finditer(xml):
                cells.add((name, int(m.group(2)) - 1, _column(m.group(1))))
            if b't="e"' in xml:
                for m in error.finditer(xml):
                    c, v = cell.match(m.group(0)), value.search(xml, m.end(), m.end() + 4000)
                    if c and v and not m.group(0).endswith(b"/>"):
                        text = v.group(1).decode("utf-8", "replace").strip()
                        sheets.setdefault(name, {})[(int(c.group(2)) - 1, _column(c.group(1)))] = Error(text)
    return formulas, cells


def _xlsx_properties(path: Path) -> dict[str, str]:
    from .reader import NotAWorkbookError, properties

    try:
        return properties(path)
    except NotAWorkbookError:
        return {}  # damaged properties: the values may still be read


# ---------------------------------------------------------------- ods: formulas, errors, properties

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
MAX_REPEAT = 1_048_576 * 16_384


def _ods_scan(path: Path, sheets: dict) -> tuple[int, set]:
    """content.xml streamed with expat: formula cells (a formula repeated over N cells counts N)
    and error values (LibreOffice's calcext:value-type="error")."""
    from xml.parsers import expat

    formulas, cells = 0, set()
    state = {"table": None, "row": -1, "col": 0, "rows": 1, "error": None, "text": []}
    pending = []  # (table, row, col, repeat-cols) of the current row's formula cells

    def start(tag, attrs):
        nonlocal formulas
        ns, _, local = tag.rpartition(" ")
        if ns == _TABLE and local == "table":
            state.update(table=attrs.get(f"{_TABLE} name", ""), row=-1)
        elif ns == _TABLE and local == "table-row":
            state["rows"] = _repeat(attrs.get(f"{_TABLE} number-rows-repeated"))
            state["row"] += 1
            state["col"] = 0
            pending.clear()
        elif ns == _TABLE and local in ("table-cell", "covered-table-cell"):
            cols = _repeat(attrs.get(f"{_TABLE} number-columns-repeated"))
            if f"{_TABLE} formula" in attrs:
                pending.append((state["col"], cols))
            if attrs.get(f"{_CALCEXT} value-type") == "error":
                state["error"] = (state["row"], state["col"], cols)
                state["text"] = []
            state["col"] += cols
        elif ns == _TEXT and local == "p" and state["error"] is not None:
            state["text"].append("")

    def end(tag):
        nonlocal formulas
        ns, _, local = tag.rpartition(" ")
        if ns == _TABLE and local == "table-row":
            rows = state["rows"]
            for col, cols in pending:
                formulas += rows * cols
                if formulas > MAX_CELLS:
                    raise Unreadable(f"more than {MAX_CELLS:,} formula cells; not read")
                cells.update((state["table"], state["row"] + i, col + j) for i in range(rows) for j in range(cols))
            state["row"] += rows - 1
        elif ns == _TABLE and local in ("table-cell", "covered-table-cell") and state["error"] is not None:
            row, col, cols = state["error"]
            text = "".join(state["text"]).strip()[:40]
            if state["rows"] * cols <= MAX_CELLS:
                values = sheets.setdefault(state["table"], {})
                for i in range(state["rows"]):
                    for j in range(cols):
                        values[(row + i, col + j)] = Error(text)
            state["error"] = None

    def data(text):
        if state["error"] is not None and state["text"]:
            state["text"][-1] += text

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, data
    with zipfile.ZipFile(path) as z:
        if "content.xml" not in z.namelist():
            raise Unreadable("an .ods archive without content.xml; not read")
        with z.open("content.xml") as f:
            parser.ParseFile(f)  # expat takes no external entities: no XXE, no entity expansion
    return formulas, cells


def _repeat(value) -> int:
    try:
        n = int(value) if value is not None else 1
    except ValueError:
        return 1
    return n if 1 <= n <= MAX_REPEAT else 1


def _ods_properties(path: Path) -> dict[str, str]:
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(path) as z:
            if "meta.xml" not in z.namelist():
                return {}
            root = ElementTree.fromstring(_read_part(z, "meta.xml", 2**20))
    except (ElementTree.ParseError, Unreadable):
        return {}
    out = {}
    for el in root.iter(f"{{{_META}}}user-defined"):
        name = el.get(f"{{{_META}}}name", "")
        if name.startswith("stepviz_"):
            out[name[len("stepviz_"):]] = el.text or ""
    return out


# ---------------------------------------------------------------- xls: properties
# python-calamine reads no document property. Excel and LibreOffice keep the custom ones of an
# .xls in the DocumentSummaryInformation stream of its OLE compound file ([MS-CFB], [MS-OLEPS]):
# read here, every count and chain bounded by the file's size.

_FREE_END = 0xFFFFFFFA  # sector numbers at or above are special (end of chain, free, FAT, DIFAT)
_USER = bytes.fromhex("05d5cdd59c2e1b10939708002b2cf9ae")  # FMTID_UserDefinedProperties, as stored


def _xls_properties(data: bytes) -> dict[str, str]:
    """stepviz_* custom document properties of an .xls (an OLE compound file): the
    DocumentSummaryInformation stream's user-defined section, where Excel and LibreOffice keep
    them. A damaged file gives {} (the values may still be read)."""
    try:
        stream = _ole_stream(data, "\x05DocumentSummaryInformation")
        return _user_properties(stream) if stream else {}
    except (struct.error, IndexError, ValueError, KeyError, LookupError, UnicodeError):
        return {}


def _words(raw: bytes):
    """Little-endian 32-bit words, as a compact array (a FAT of a 32 MiB file: 8 M entries)."""
    out = array.array("I")
    out.frombytes(raw[:len(raw) // 4 * 4])
    if sys.byteorder == "big":
        out.byteswap()
    return out


def _ole_stream(data: bytes, wanted: str) -> bytes | None:
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if not (7 <= shift <= 16 and mini_shift < shift):
        raise ValueError("sector size")
    size, mini = 1 << shift, 1 << mini_shift
    n_fat, first_dir, _, cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from(
        "<IIIIIIII", data, 0x2C)
    sectors = (len(data) - 512) // size + 1

    def sector(n):
        if n >= sectors:
            raise ValueError("sector")
        return data[512 + n * size: 512 + (n + 1) * size]

    fat_sectors = _words(data[0x4C:0x200])
    d, seen = first_difat, 0
    while d < _FREE_END and seen <= sectors:
        entries = _words(sector(d))
        fat_sectors += entries[:-1]
        d, seen = entries[-1], seen + 1
    fat = _words(b"".join(sector(s) for s in fat_sectors[:min(n_fat, sectors)]))

    def chain(start, table, limit):
        out, s = [], start
        while s < _FREE_END:
            if len(out) > limit or s >= len(table):
                raise ValueError("chain")
            out.append(s)
            s = table[s]
        return out

    directory = b"".join(sector(s) for s in chain(first_dir, fat, sectors))
    entries = []
    for k in range(len(directory) // 128):
        e = directory[k * 128:(k + 1) * 128]
        length = min(struct.unpack_from("<H", e, 64)[0], 64)
        entries.append((e[:max(length - 2, 0)].decode("utf-16-le", "replace"), e[66],
                        *struct.unpack_from("<II", e, 116)))
    root = entries[0]
    for name, kind, start, length in entries:
        if kind != 2 or name != wanted:
            continue
        if length > 2**20:
            raise ValueError("stream too long")
        if length < cutoff:
            minifat = _words(b"".join(sector(s) for s in chain(first_minifat, fat, sectors)))
            ministream = b"".join(sector(s) for s in chain(root[2], fat, sectors))
            out = b"".join(ministream[m * mini:(m + 1) * mini] for m in chain(start, minifat, len(minifat)))
        else:
            out = b"".join(sector(s) for s in chain(start, fat, sectors))
        return out[:length]
    return None


def _user_properties(stream: bytes) -> dict[str, str]:
    n_sections = struct.unpack_from("<I", stream, 24)[0]
    for k in range(min(n_sections, 4)):
        fmtid, offset = stream[28 + 20 * k: 44 + 20 * k], struct.unpack_from("<I", stream, 44 + 20 * k)[0]
        if fmtid != _USER:
            continue
        count = struct.unpack_from("<I", stream, offset + 4)[0]
        pairs = struct.unpack_from(f"<{2 * min(count, 1000)}I", stream, offset + 8)
        where = dict(zip(pairs[::2], pairs[1::2]))
        codepage = 1252
        if 1 in where:
            codepage = struct.unpack_from("<H", stream, offset + where[1] + 4)[0]
        encoding = "utf-16-le" if codepage == 1200 else ("utf-8" if codepage == 65001 else f"cp{codepage}")
        codecs.lookup(encoding)
        names, at = {}, offset + where[0]
        for _ in range(min(struct.unpack_from("<I", stream, at)[0], 1000)):
            pid, n = struct.unpack_from("<II", stream, at + 4)
            raw = stream[at + 12: at + 12 + n * (2 if codepage == 1200 else 1)]
            names[pid] = raw.decode(encoding, "replace").rstrip("\x00")
            at += 8 + len(raw) + ((-len(raw)) % 4 if codepage == 1200 else 0)
        out = {}
        for pid, name in names.items():
            if not name.startswith("stepviz_") or pid not in where:
                continue
            at = offset + where[pid]
            vt = struct.unpack_from("<H", stream, at)[0]
            if vt == 30:  # VT_LPSTR
                n = struct.unpack_from("<I", stream, at + 4)[0]
                out[name[8:]] = stream[at + 8: at + 8 + n].decode(encoding, "replace").split("\x00")[0]
            elif vt == 31:  # VT_LPWSTR
                n = struct.unpack_from("<I", stream, at + 4)[0]
                out[name[8:]] = stream[at + 8: at + 8 + 2 * n].decode("utf-16-le", "replace").split("\x00")[0]
        return out
    return {}


# ---------------------------------------------------------------- reading an answer as a number

_SPACES = "\u00a0\u202f\u2009\u2007 '\u2019"  # group separators: spaces (NBSP, thin, narrow) and apostrophes
_MINUS = {"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-", "\uff0b": "+"}
_EXP = r"(?:[eE][+-]?[0-9]{1,3})?"
_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)" + _EXP, re.ASCII)
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:(?P<g>[.,'\u2019 \u00a0\u202f\u2009\u2007])[0-9]{3})(?:(?P=g)[0-9]{3})*"
                      r"(?P<d>[.,][0-9]*)?" + _EXP, re.ASCII)


def number_of(value) -> tuple[float | None, str | None]:
    """What an answer cell holds, as a grader reads it: (number, flag). A number is itself,
    unflagged; a blank is (None, None). Text that is a number in either decimal convention
    (``0,637``, ``1 234,5``, ``1.234,5``, ``1,234.5``, ``−0.5``, ``2,1E-03``) is that number,
    flagged "typed as text". One comma or point followed by three digits (``1,234``) is a
    decimal separator: answers are mostly under 10 in magnitude, so 1.234. A date, a boolean,
    an error value, a formula's text or other text is no number, with a flag saying which."""
    if value is None:
        return None, None
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):  # numpy's too (numpy.bool)
        return None, "TRUE/FALSE, not a number"
    if isinstance(value, Error):
        return None, f"an error value ({value.text})"
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return None, "a date"
    if isinstance(value, numbers.Real):  # numpy's numbers too
        v = float(value)
        return (v, None) if math.isfinite(v) else (None, "not a finite number")
    if not isinstance(value, str):
        return None, "text, not a number"
    text = value.strip().strip("\u00a0\u202f\u2009\u200b\ufeff")
    if not text:
        return None, None
    if text[0] in "=+" and len(text) > 1 and not _number_text(text):
        return None, "a formula's text"
    v = _number_text(text)
    if v is None:
        return None, "text, not a number"
    return v, "typed as text"


def _number_text(text: str) -> float | None:
    for a, b in _MINUS.items():
        text = text.replace(a, b)
    if len(text) > 60:
        return None
    if _PLAIN.fullmatch(text):
        mantissa = re.split(r"[eE]", text)[0]
        if mantissa.count(",") + mantissa.count(".") > 1:
            return None
        v = float(text.replace(",", "."))
    else:
        m = _GROUPED.fullmatch(text)
        if not m:
            return None
        group, decimal = m.group("g"), m.group("d")
        if decimal and decimal[0] == group:
            return None  # 1.234.5: no convention writes that
        v = float(text.replace(group, "").replace(",", "."))
    return v if math.isfinite(v) else None
