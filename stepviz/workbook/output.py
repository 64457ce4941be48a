"""Where a workbook goes, and nothing else touched on the way.

The destination is checked before any work: a new file or an existing regular ``.xlsx`` file
that is none of the run's inputs. The workbook is then written in a private temporary folder
beside it (XlsxWriter's own temporary files included, through its ``tmpdir`` option), renamed
into place when complete (same file system, so the rename is atomic), and the folder is removed
whatever happens: success, error, or a signal turned into an exception by the CLI.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import stat
import tempfile
import threading
import zipfile
from pathlib import Path

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError, XlsxWriterException
from xlsxwriter.worksheet import Worksheet

from ..data import node_kind
from ..interrupts import raise_lost
from .core import WorkbookError

SUFFIX = ".xlsx"
# Measured (benchmarks/RESULTS.md): in memory, XlsxWriter needs about 290 bytes per cell and
# writes many small sheets up to 2x faster (no temporary file per sheet); constant-memory mode
# stays near 130 MB at 3 million cells. Below this size a workbook is assembled in memory.
IN_MEMORY_CELLS = 100_000
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_PRIVATE: set[str] = set()  # private folders not yet removed; removed at exit at the latest


def check_destination(path, inputs=(), *, make_folder: bool = False) -> Path:
    """The file to write a workbook to, or WorkbookError, before any work is done.

    ``path`` must name a new file or an existing regular file whose name ends in ``.xlsx``,
    and be none of ``inputs`` (compared by file identity: a hard link or a symbolic link to an
    input counts). Devices, FIFOs, sockets, directories and dangling links are refused. A link
    to a regular ``.xlsx`` file is followed: the returned path is its target, so the link stays.
    With ``make_folder`` a missing folder is allowed when its parent is writable (the caller
    makes it).
    """
    raw = os.fspath(path)
    path = Path(raw)
    if raw.endswith(os.sep) or (os.altsep and raw.endswith(os.altsep)):  # "-o runs/" names a folder
        if path.is_dir():
            raise WorkbookError(f"{raw}: is a directory; give a file name like {path / 'run.xlsx'}")
        raise WorkbookError(f"{raw}: no such folder; give a file name like {path / 'run.xlsx'} "
                            "in an existing folder")
    try:
        info = os.stat(path)  # follows links: what a write would replace
    except FileNotFoundError:
        info = None
        if os.path.islink(path):
            raise WorkbookError(f"{path}: is a symbolic link to {os.readlink(path)}, which does not "
                                "exist; give the file name itself") from None
    except OSError as e:  # a name too long, a file used as a folder, no permission, a link loop
        raise WorkbookError(f"{path}: cannot write there ({e.strerror})") from None
    if info is not None:
        for source in inputs:
            with contextlib.suppress(OSError):
                if os.path.samestat(info, os.stat(source)):
                    raise WorkbookError(f"{path}: is {source}, an input of this run; writing the workbook "
                                        "there would destroy it; choose another output file")
        if stat.S_ISDIR(info.st_mode):
            raise WorkbookError(f"{path}: is a directory; give a file name like {path / 'run.xlsx'}")
        if not stat.S_ISREG(info.st_mode):
            raise WorkbookError(f"{path}: is {node_kind(info.st_mode)}, not a regular file; the output "
                                "must be a new or an existing .xlsx file")
    target = Path(os.path.realpath(path)) if info is not None and os.path.islink(path) else path
    if not target.name.lower().endswith(SUFFIX):
        named = f"points to {target}, which is" if target is not path else "is"
        raise WorkbookError(f"{path}: {named} not an .xlsx file name; the output is a workbook, "
                            f"name it like {target.stem or 'run'}.xlsx")
    folder = target.parent
    if not folder.is_dir():
        if not (make_folder and folder.parent.is_dir()):
            raise WorkbookError(f"{folder}: no such folder for the output")
        folder = folder.parent
    try:  # the only sure test of "can we write here": do it (as root, os.access says yes to read-only mounts)
        with signals_deferred():
            os.rmdir(tempfile.mkdtemp(prefix=".stepviz-", dir=folder))
    except OSError as e:
        raise WorkbookError(f"{folder}: cannot write here ({e.strerror})") from None
    return target


def write_file(path, fill, options: dict, *, in_memory: bool, inputs=()) -> Path:
    """Create an XlsxWriter workbook in a private temporary folder beside ``path``, let
    ``fill(workbook)`` add its content, close it and rename the file to ``path``.

    ``in_memory`` assembles it in memory; otherwise in constant-memory mode, with at most two
    sheets' temporary files open at a time however many sheets there are. The private folder,
    which holds every temporary file, is removed on success, on any error and on any exception
    a signal handler raises; XlsxWriter's and the file system's errors become WorkbookError.
    """
    target = check_destination(path, inputs)
    private = None
    try:
        with signals_deferred():  # made and recorded at once: a signal cannot come in between
            try:
                private = tempfile.mkdtemp(prefix=".stepviz-", dir=target.parent)
            except OSError as e:
                raise WorkbookError(f"{target.parent}: cannot write here ({e.strerror})") from None
            _PRIVATE.add(private)
        tmp = os.path.join(private, "workbook.xlsx")
        mode = {"in_memory": True} if in_memory else {"constant_memory": True, "tmpdir": private}
        wb = _Workbook(tmp, {**options, **mode})
        fill(wb)
        wb.close()
        raise_lost()  # a signal that came while a temporary file was being closed
        check_destination(path, inputs)  # again: it may have changed while we worked
        os.replace(tmp, target)
    except FileCreateError as e:  # XlsxWriter wraps the OSError of its final write
        cause = e.args[0] if e.args and isinstance(e.args[0], OSError) else None
        raise WorkbookError(f"{path}: cannot write ({cause.strerror if cause else e})") from None
    except OSError as e:
        raise WorkbookError(f"{path}: cannot write ({e.strerror or e})") from None
    except XlsxWriterException as e:
        raise WorkbookError(f"{path}: cannot write ({e})") from None
    except Warning as e:  # XlsxWriter warns where Excel's limits are exceeded or content is left out;
        # the CLI (and pytest) make its warnings errors: nothing is written then
        what = str(e) if len(str(e)) <= 200 else str(e)[:199] + "…"
        raise WorkbookError(f"{path}: not written: XlsxWriter warns: {what}") from None
    finally:
        if private is not None:
            with signals_deferred():  # finish removing it even if a signal arrives now
                shutil.rmtree(private, ignore_errors=True)
                _PRIVATE.discard(private)
    return target


@atexit.register
def _remove_leftovers():
    """A signal handled just as the cleanup above began would skip it: remove what is left."""
    for private in list(_PRIVATE):
        shutil.rmtree(private, ignore_errors=True)


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT, SIGTERM and SIGHUP back for the duration: a Python-level handler that is
    installed (the CLI's, or Python's own for SIGINT) runs at its end instead.

    The handlers are swapped, not the signal mask: numpy's threads would still take the
    signal and Python would run the handler in the main thread at once. Outside the main
    thread handlers cannot be changed, and nothing is held back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending, held = [], {}

    def hold(signum, frame):
        pending.append((signum, frame))

    for sig in SIGNALS:
        handler = signal.getsignal(sig)
        if callable(handler):
            held[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in held.items():
            signal.signal(sig, handler)
        for signum, frame in pending:
            held[signum](signum, frame)  # raises, as it would have


class _CellsXml:
    """Cells of a row as finished XML (``_Sheet.write_cells_xml``)."""

    __slots__ = ("xml",)

    def __init__(self, xml: str):
        self.xml = xml


class _Sheet(Worksheet):
    """A worksheet whose constant-memory row file is open only while its rows are written.

    XlsxWriter opens one temporary file per sheet as the sheet is added and closes them all
    when the workbook is closed, so 600 sheets hold 600 files open. Here each sheet's file is
    closed as the sheet is added (``_Workbook.add_worksheet``) and reopened, closing the sheet
    written before it, when a row is flushed to it: the only place XlsxWriter writes that file.
    To assemble the workbook, XlsxWriter itself reopens each file in turn (``_opt_reopen``).
    """

    def _write_single_row(self, *args, **kwargs):
        if self.constant_memory and self.row_data_fh_closed:
            book = self._stepviz_book
            if book._stepviz_writing is not None:
                book._stepviz_writing._opt_close()
            self._opt_reopen()
            book._stepviz_writing = self
        return super()._write_single_row(*args, **kwargs)

    def write_cells_xml(self, row: int, first: int, last: int, xml: str) -> int:
        """Cells ``first``..``last`` of ``row`` given as their finished XML (``<c r=…>…</c>``
        each, in column order): the Training sheet's rows, hundreds of thousands of formula
        cells that XlsxWriter would otherwise check, store and render one by one. The caller
        escapes the XML and owns its formats' indices (``Format._get_xf_index()``)."""
        if self._check_dimensions(row, first) or self._check_dimensions(row, last):
            return -1
        if self.constant_memory and row > self.previous_row:
            self._write_single_row(row)
        self.table[row][first] = _CellsXml(xml)
        return 0

    def _write_cell(self, row, col, cell):
        if type(cell) is _CellsXml:
            self.fh.write(cell.xml)
        else:
            super()._write_cell(row, col, cell)

    def _prepare_formula(self, formula, expand_future_functions=False):
        """XlsxWriter's, without its rewrite of Excel's "future functions" (about 30 regular
        expressions per formula, two thirds of the time to write a formula; RECIPES.md): stepviz
        writes none of them (tests/test_training.py scans every formula for them)."""
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula


class _Workbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook whose sheets keep their temporary files closed when idle, and
    which closes its zip file quietly when writing it fails."""

    worksheet_class = _Sheet
    _stepviz_writing = None

    def _store_workbook(self):
        """XlsxWriter's, except that a failure (a full disk) does not leave its zip file open:
        Python would close it when collecting it, write to the full disk again and print
        ``Exception ignored in: <function ZipFile.__del__ …>`` after stepviz's own message."""
        try:
            super()._store_workbook()
        except BaseException as e:
            tb = e.__traceback__
            while tb is not None:
                for value in list(tb.tb_frame.f_locals.values()):
                    if isinstance(value, zipfile.ZipFile):
                        _abandon(value)
                tb = tb.tb_next
            raise

    def add_worksheet(self, name=None, worksheet_class=None):
        ws = super().add_worksheet(name, worksheet_class)
        if self.constant_memory and isinstance(ws, _Sheet):
            ws._stepviz_book = self
            ws._opt_close()
        return ws


def _abandon(z: zipfile.ZipFile) -> None:
    """Close the file under a zip being written without writing its directory (the file is
    unfinished and will be removed)."""
    fp, z.fp = z.fp, None  # ZipFile.close and __del__ do nothing once fp is None
    if fp is not None and not getattr(z, "_filePassed", False):
        with contextlib.suppress(OSError, ValueError):
            fp.close()
