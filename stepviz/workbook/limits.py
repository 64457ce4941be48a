"""Excel's limits and stepviz's caps, checked from the configuration before any training: the
size of the workbook a configuration will produce, and how long its training will take."""
from __future__ import annotations

from dataclasses import dataclass

from ..ops import Given
from .core import WorkbookError
from .layout import Layout, Refs, sheet_name

MAX_ROWS, MAX_COLS, MAX_FORMULA = 1_048_576, 16_384, 8_192  # Excel's limits per sheet / formula
WARN_CELLS = 2_000_000  # above this the CLI says how big and slow the workbook will be
MAX_CELLS = 20_000_000  # a bigger workbook is refused: minutes to write, hundreds of MB, slow to open
MAX_TRAIN_SECONDS = 3600  # a training estimated to take longer is refused


@dataclass(frozen=True)
class Estimate:
    """The size of a workbook, known from the configuration before any training."""

    sheets: int
    cells: int
    formulas: int
    train_seconds: float = 0.0  # estimated from the network's size, within about 2x

    @property
    def seconds(self) -> float:  # measured: ~25 µs per formula cell, ~4 µs per other cell
        return 25e-6 * self.formulas + 4e-6 * (self.cells - self.formulas)

    @property
    def megabytes(self) -> float:  # measured: ~40 bytes per formula cell, ~13 per number
        return (40 * self.formulas + 13 * (self.cells - self.formulas)) / 1e6


def check_grid(rows: int, cols: int, where: str, fix: str) -> None:
    """Refuse a sheet beyond Excel's grid, saying which option to change."""
    if rows > MAX_ROWS:
        raise WorkbookError(f"{where} would need {rows:,} rows, Excel allows {MAX_ROWS:,}; {fix}")
    if cols > MAX_COLS:
        raise WorkbookError(f"{where} would need {cols:,} columns, Excel allows {MAX_COLS:,}; {fix}")


def estimate(config) -> Estimate:
    """Check every sheet of the workbook of ``config`` against Excel's limits (raising
    WorkbookError with the option to change) and return its size."""
    net = config.network
    steps = net.steps()
    shapes = net.shapes(len(config.X))
    labels = {"X": config.x_labels, "y": config.y_labels}
    n_detail = len(config.detail)
    cells = formulas = 0
    for step in steps:
        lay = Layout(step, shapes, labels)
        right = max(b.col + b.shape[1] for b in lay.blocks.values())
        check_grid(lay.height, right, f"sheet {sheet_name(config.detail[-1], step)!r}",
                   "use fewer samples or smaller layers")
        size = sum(b.shape[0] * b.shape[1] for b in lay.blocks.values())
        computed = sum(b.shape[0] * b.shape[1] for (k, _), b in lay.blocks.items() if k == "out")
        cells += n_detail * size
        formulas += n_detail * (size - (computed if step.given else 0))
        for ci, c in enumerate(step.computes):  # the longest formula: the last cell of each result
            if isinstance(c.op, Given):
                continue
            block = lay.blocks[("out", c.result)]
            f = c.op.formula(block.shape[0] - 1, block.shape[1] - 1, Refs(lay.operands[ci]),
                             [b.shape for b in lay.operands[ci]])
            if len(f) + 1 > MAX_FORMULA:
                raise WorkbookError(f"a formula of {c.result} would have {len(f) + 1:,} characters, Excel "
                                    f"allows {MAX_FORMULA:,}; use smaller layers")
    values = sum(shapes[r][0] * shapes[r][1] for s in steps for r in s.results)
    check_grid(1 + n_detail * values, 6, "the Trace sheet", "detail fewer epochs (workbook.detail)")
    hist_rows = history_rows(config.epochs, config.history_every)
    hist_cols = 2 + shapes["output"][0] * shapes["output"][1] + sum(
        shapes[p][0] * shapes[p][1] for p in net.parameters())
    check_grid(1 + hist_rows, hist_cols, "the History sheet",
               "raise workbook.history_every" if hist_rows >= MAX_ROWS else "use smaller layers or fewer samples")
    overview_rows = 40 + len(config.X) + (0 if config.predict is None else len(config.predict)) + n_detail * len(steps)
    check_grid(overview_rows, 2 * shapes["y"][1] + 2, "the Overview sheet", "use fewer samples")
    cells += 6 * (1 + n_detail * values) + hist_rows * hist_cols + overview_rows * 3
    if cells > MAX_CELLS:
        raise WorkbookError(f"the workbook would have about {cells:,} cells, stepviz writes at most "
                            f"{MAX_CELLS:,}; raise workbook.history_every, detail fewer epochs or use "
                            "fewer samples")
    return Estimate(2 + n_detail * len(steps) + 1, cells, formulas, train_seconds(config))


def history_rows(epochs: int, every: int) -> int:
    """Rows of the History sheet: every ``every``-th epoch from the first, and the last."""
    return (epochs - 1) // every + 1 + (1 if (epochs - 1) % every else 0)


def train_seconds(config) -> float:
    """Training time from the network's size, measured on the project's 2-core machine: about
    0.7 µs per numpy call, 1.3 ns per recorded value (20 ns once an epoch's values outgrow the
    CPU caches) and 0.5 ns per multiply-add of the forward pass, per epoch."""
    net = config.network
    steps = net.steps()
    shapes = net.shapes(len(config.X))
    values = sum(shapes[r][0] * shapes[r][1] for s in steps for r in s.results)
    sizes = (net.inputs, *net.hidden, net.outputs)
    macs = sum(len(config.X) * a * b for a, b in zip(sizes, sizes[1:]))
    calls = sum(len(s.computes) for s in steps)
    epoch = 0.7e-6 * calls + (1.3e-9 if values < 1_000_000 else 20e-9) * values + 0.5e-9 * macs
    return config.epochs * epoch


def check_training(config) -> float:
    """Refuse a training estimated to take longer than MAX_TRAIN_SECONDS; return the estimate."""
    seconds = train_seconds(config)
    if seconds > MAX_TRAIN_SECONDS:
        per_epoch = seconds / config.epochs
        raise WorkbookError(f"training would take about {_duration(seconds)} ({config.epochs:,} epochs of "
                            f"~{per_epoch * 1e6:,.0f} µs for this network), stepviz trains for at most "
                            f"{_duration(MAX_TRAIN_SECONDS)}; use fewer training.epochs, fewer samples "
                            "or smaller layers")
    return seconds


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or unit == "s":
            n = seconds / size
            return f"{n:,.0f} {unit}" if n >= 10 else f"{n:.1f}".removesuffix(".0") + f" {unit}"
