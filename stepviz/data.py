"""Training data: inline matrices of the config, or a CSV file with a header row."""
from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from pathlib import Path

import numpy as np

from .errors import ConfigError

# A data or config file larger than this cannot fill a workbook: the Trace sheet lists every value
# of X and y on one of Excel's 1,048,576 rows, and 64 bytes per value is generous. Reading stops here.
MAX_INPUT_BYTES = 64 * 2**20
# A number in a CSV cell: ASCII digits, an optional sign, point and exponent (float() also takes
# "1_000" and other scripts' digits, which a spreadsheet would not read as numbers), or nan/inf
# words, refused further on as not finite.
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?i:nan|inf|infinity)", re.ASCII)


def load_data(get, folder: Path | None):
    """Return (X, y, x_labels, y_labels, csv path, classes) from the [data] settings; labels
    and the path are None for inline data; ``classes``: y is one-hot, one column per label."""
    if get("csv") is not None:
        if get("X") is not None or get("y") is not None:
            raise ConfigError("data: give either csv or X and y, not both")
        return read_csv(get("csv"), get("target"), folder, bool(get("classes")))
    if get("target") is not None:
        raise ConfigError("data.target: only used with data.csv")
    if get("classes"):
        raise ConfigError("data.classes: only used with data.csv (a target column of class labels)")
    if get("X") is None or get("y") is None:
        raise ConfigError("data: missing X and y (or csv and target)")
    X = matrix(get("X"), "data.X")
    raw_y = get("y")
    if isinstance(raw_y, list) and raw_y and not any(isinstance(v, list) for v in raw_y):
        raw_y = [[v] for v in raw_y]  # one target per sample: a column
    y = matrix(raw_y, "data.y")
    if y.shape[0] != X.shape[0]:
        raise ConfigError(f"data: X has {X.shape[0]} rows but y has {y.shape[0]} (one target row per sample)")
    return X, y, None, None, None, False


def _shown(path: Path) -> Path:
    """The path as messages show it: relative to the current folder when it is inside it."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def read_csv(name, target, folder: Path | None, classes: bool = False):
    if not isinstance(name, str) or not name:
        raise ConfigError(f"data.csv: expected a file name, got {name!r}")
    if isinstance(target, str):
        target = [target]
    if not isinstance(target, list) or not target or not all(isinstance(t, str) for t in target):
        raise ConfigError("data.target: expected the target column names, like [\"label\"]")
    for t in target:
        if target.count(t) > 1:
            raise ConfigError(f"data.target: column {t!r} is named more than once")
    path = _shown(Path(name) if folder is None else folder / name)
    rows = _records(path, read_text(path, "CSV file", "a CSV file"))
    if not rows:
        raise ConfigError(f"{path}: empty file, expected a header row and data rows")
    header = [h.strip() for h in rows[0][1]]
    if len(rows) < 2:
        raise ConfigError(f"{path}: no data rows after the header")
    for t in target:
        if t not in header:
            raise ConfigError(f"{path}: no target column {t!r}; columns are: {', '.join(header)}")
    for j, h in enumerate(header, 1):
        if not h or len(h) > 255:
            raise ConfigError(f"{path}: column {j} of the header is {'empty' if not h else 'longer than 255 characters'}; "
                              "every column needs a name")
    first = {}
    for j, h in enumerate(header, 1):
        if h in first:
            raise ConfigError(f"{path}: column {j} of the header is named {h!r}, as column {first[h]} is; "
                              "every column needs its own name")
        first[h] = j
    if len(target) == len(header):
        raise ConfigError(f"{path}: every column is a target; at least one input column is needed")
    values = np.empty((len(rows) - 1, len(header)))
    ti = [header.index(t) for t in target]
    # a single target column of text labels (or of any labels, with data.classes) holds classes
    # (a column of numbers with a stray word is a typo, not classes: that stays an error)
    labelled = len(ti) == 1 and (classes or not any(len(row) == len(header) and NUMBER.fullmatch(row[ti[0]].strip())
                                                    for _, row in rows[1:]))
    labels: list[str] = []
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ConfigError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
        for j, cell in enumerate(row):
            if labelled and j == ti[0]:
                if not cell.strip():
                    raise ConfigError(f"{path}: line {line}, column {header[j]!r}: empty class label")
                labels.append(cell.strip())
                values[i, j] = 0.0
                continue
            if not NUMBER.fullmatch(cell.strip()):
                raise ConfigError(f"{path}: line {line}, column {header[j]!r}: {cell.strip()!r} is not a number")
            v = float(cell)
            if not math.isfinite(v):
                raise ConfigError(f"{path}: line {line}, column {header[j]!r}: {cell.strip()} is not a finite number")
            values[i, j] = v
    xi = [j for j in range(len(header)) if j not in ti]
    if labelled:
        y, names = one_hot(labels, f"{path}: column {target[0]!r}")
        return values[:, xi], y, tuple(header[j] for j in xi), names, path, True
    return (values[:, xi], values[:, ti], tuple(header[j] for j in xi), tuple(target), path, False)


def standardize(X: np.ndarray, names) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X − mean) / sd`` column by column, with each column's mean and (population) standard
    deviation: ``(standardised X, mean, sd)``, as the Inputs sheet computes them with AVERAGE
    and STDEVP. A constant column has no deviation to divide by: a ConfigError."""
    mean = X.mean(axis=0)
    sd = X.std(axis=0)
    for j, v in enumerate(sd):
        if not v > 0 or not np.isfinite(v):
            raise ConfigError(f"data.standardize: column {names[j]!r} has the same value in every sample, "
                              "no spread to divide by; remove it or set standardize = false")
    return (X - mean) / sd, mean, sd


def one_hot(labels: list[str], where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class labels as one-hot rows, one column per class in sorted order (numbers by value
    when every label is a number, else as text): ``(y, class names)``."""
    names = sorted(set(labels), key=_by_value if all(NUMBER.fullmatch(l) for l in set(labels)) else None)
    if len(names) < 2:
        raise ConfigError(f"{where}: every sample has the class {names[0]!r}; a classifier needs at least two classes")
    if len(names) > 255:
        raise ConfigError(f"{where}: {len(names)} different labels; a class column has at most 255")
    index = {n: k for k, n in enumerate(names)}
    y = np.zeros((len(labels), len(names)))
    y[np.arange(len(labels)), [index[l] for l in labels]] = 1.0
    return y, tuple(names)


def one_hot_rows(y: np.ndarray) -> bool:
    """Targets of one class per row: several columns, one 1 and the rest 0 in each row."""
    return y.shape[1] > 1 and bool(np.isin(y, (0.0, 1.0)).all() and (y.sum(axis=1) == 1).all())


def correct(y: np.ndarray, output: np.ndarray) -> np.ndarray | None:
    """Per sample, whether the output names its target (the accuracy is their mean), or None
    when the targets are not classes (every target 0 or 1): with one-hot rows, the largest
    output is the target's class; else every output is on its target's side of 0.5."""
    if not np.isin(y, (0.0, 1.0)).all():
        return None
    if one_hot_rows(y):
        return output.argmax(axis=1) == y.argmax(axis=1)
    return ((output >= 0.5) == (y == 1)).all(axis=1)


def _by_value(label: str) -> tuple[bool, float, str]:
    """The sort key of a numeric class label: by value, labels of no value (nan) last, ties
    (1 and 1.0) by their text. float('nan') compares false with everything: sorted by it, the
    classes' order would follow the set's, which changes from one process to the next."""
    v = float(label)
    return (math.isnan(v), 0.0 if math.isnan(v) else v, label)


def _records(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank record. Lines are counted as an editor counts
    them, blank ones included; a quoted cell may span lines (its record has the first line's
    number, and its newline stays in the cell)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out, line = [], 1
    try:
        for row in reader:
            if any(c.strip() for c in row):
                out.append((line, row))
            line = reader.line_num + 1
    except csv.Error as e:
        raise ConfigError(f"{path}: line {reader.line_num}: {e}") from None
    return out


def read_text(path: Path, kind: str, expected: str) -> str:
    """A UTF-8 text file (a byte-order mark is dropped), or ConfigError saying what is wrong.

    Only a regular file of at most MAX_INPUT_BYTES is read: a device, a FIFO or a directory is
    refused without reading (opened non-blocking, so a FIFO without a writer cannot hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {kind}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{path}: is a directory, expected {expected}")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: is {node_kind(info.st_mode)}, not a regular file; expected {expected}")
        if info.st_size > MAX_INPUT_BYTES:
            raise ConfigError(f"{path}: {info.st_size / 2**20:,.0f} MiB, more than a workbook can hold "
                              f"(at most {MAX_INPUT_BYTES // 2**20} MiB); expected {expected}")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        try:
            data = f.read(MAX_INPUT_BYTES + 1)
        except OSError as e:
            raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    if len(data) > MAX_INPUT_BYTES:  # it grew while we read it
        raise ConfigError(f"{path}: more than {MAX_INPUT_BYTES // 2**20} MiB, more than a workbook can hold")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def node_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words (for messages)."""
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                        (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return words
    return "not a regular file"


def matrix(value, where: str) -> np.ndarray:
    """A TOML list (of lists) of numbers as a finite 2-D float array; a flat list is a column
    when it is a target (one value per sample) -- callers decide; here it becomes one row."""
    if isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
        raise ConfigError(f"{where}: expected a non-empty matrix like [[1, 0], [0, 1]]")
    width = len(value[0])
    for i, row in enumerate(value, 1):
        if not row:
            raise ConfigError(f"{where}: row {i} is empty; expected a non-empty matrix like [[1, 0], [0, 1]]")
        if len(row) != width:
            raise ConfigError(f"{where}: row {i} has {len(row)} values, row 1 has {width} (rows must all have the same length)")
        for j, v in enumerate(row, 1):
            if not is_number(v):
                raise ConfigError(f"{where}: row {i}, column {j}: expected a number, got {v!r}")
            if not math.isfinite(v):
                raise ConfigError(f"{where}: row {i}, column {j}: {v} is not a finite number")
    return np.array(value, dtype=np.float64)


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
