"""Excel's limits and stepviz's caps, checked from the configuration before any training: the
size of the workbook a configuration will produce, and how long its training will take."""
from __future__ import annotations

from dataclasses import dataclass

from .core import WorkbookError

MAX_ROWS, MAX_COLS, MAX_FORMULA = 1_048_576, 16_384, 8_192  # Excel's limits per sheet / formula
WARN_CELLS = 2_000_000  # above this the CLI says how big and slow the workbook will be
MAX_CELLS = 20_000_000  # a bigger workbook is refused: minutes to write, hundreds of MB, slow to open
MAX_TRAIN_SECONDS = 3600  # a training estimated to take longer is refused
# Caps on the network, checked as the configuration is read, before anything grows with them.
# 100 hidden layers are 408 sheets per detailed epoch (the tutorial has 1 layer, 12 sheets).
MAX_HIDDEN_LAYERS = 100
# The training history has a column per parameter, at least one per hidden unit: a network
# with more hidden units could never be written within Excel's columns.
MAX_HIDDEN_UNITS = MAX_COLS


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
    from ..display import Shown
    from ..terms import excel
    from ..tolerance import check_formula, tolerance_term
    from .core import Book
    from .lines import arithmetic

    net = config.network
    plan = Plan(config, net.steps(), net.shapes(len(config.X)))
    book = Book(plan, None)
    n_detail = len(config.detail)
    cells = formulas = 0
    widest = Shown("sci")  # the longest spelling of a value in an arithmetic line
    for step in plan.steps:
        lay = book.layouts[step.number]
        check_grid(lay.height, lay.right, f"sheet {book.sheet_name(config.detail[-1], step)!r}",
                   "use fewer samples or smaller layers")
        size = sum(b.size for b in lay.blocks)
        computed = sum(p.result.size for p in lay.placed)
        cells += n_detail * (size + len(lay.placed) + 8)
        formulas += n_detail * (size - (computed if step.given else 0) + len(lay.placed))
        for p in lay.placed:  # the longest formulas: a result's last cell, its arithmetic line
            if step.given:
                continue
            addr = lambda c: "XFD1048576"  # noqa: E731  (the longest reference)
            span = lambda a, b: "XFD1048576:XFD1048576"  # noqa: E731
            r, c = p.result.shape
            formula = len(excel(p.compute.op.spell(r - 1, c - 1, [b.shape for b in p.operands]), addr, span)) + 1
            longest = [(formula, p.result.name)]
            if config.exercise:  # a practice check: the value and its tolerance, each answer read
                # safely, every number in scientific notation (the longest tolerance)
                safe = lambda c: "IF(ISNUMBER(XFD1048576),XFD1048576,0)"  # noqa: E731
                sci = [Shown("sci")] * len(p.operands)
                value, tol = tolerance_term(p.compute.op.spell(r - 1, c - 1, [b.shape for b in p.operands]), sci,
                                            Shown("sci"))
                check = check_formula("XFD1048576", excel(value, safe, span), excel(tol, safe, span))
                longest.append((len(check), f"the check of {p.result.name}"))
            if not config.exercise:
                line = arithmetic(p, lambda b: widest, first=MAX_COLS - 1)
                longest += [(max(len(f) for f in [line.formula] + [h[1] for h in line.helpers]),
                             f"the arithmetic line of {p.result.name}")]
            for length, what in longest:
                if length > MAX_FORMULA:
                    raise WorkbookError(f"a formula of {what} would have {length:,} characters, Excel "
                                        f"allows {MAX_FORMULA:,}; use smaller layers")
    from . import achieved

    if achieved.enabled(book):  # the loss after the update and the gradient checks
        more, more_formulas = achieved.cells(book)
        cells += n_detail * more
        formulas += n_detail * more_formulas
    shapes = plan.shapes
    values = sum(shapes[r][0] * shapes[r][1] for s in plan.steps for r in s.results)
    check_grid(1 + n_detail * values, 6, "the Trace sheet", "detail fewer epochs (workbook.detail)")
    hist_rows = history_rows(config.epochs, config.history_every)
    hist_cols = 2 + shapes["output"][0] * shapes["output"][1] + sum(
        shapes[p][0] * shapes[p][1] for p in net.parameters())
    check_grid(20 + hist_rows, hist_cols, "the training history sheet",
               "raise workbook.history_every" if hist_rows >= MAX_ROWS else "use smaller layers or fewer samples")
    overview_rows = 60 + len(config.X) + (0 if config.predict is None else len(config.predict)) + n_detail * (
        len(plan.steps) + 1)
    check_grid(overview_rows, 2 * shapes["y"][1] + 2, "the Overview sheet", "use fewer samples")
    if not config.exercise:
        cells += 6 * (1 + n_detail * values) + hist_rows * hist_cols
    cells += overview_rows * 3
    if config.map_inputs is not None and not config.exercise:  # the Map sheet: two sections of formulas
        from ..maps import GRID, SNAPSHOTS
        maps = sum(net.hidden) + net.outputs
        formulas += 2 * maps * GRID * GRID
        _check_map_formula(config, plan)
        cells += (2 * maps + SNAPSHOTS * net.outputs) * (GRID + 1) ** 2
    from .training_sheet import estimate as training

    more, more_formulas = training(config)
    cells += more
    formulas += more_formulas
    if cells > MAX_CELLS:
        raise WorkbookError(f"the workbook would have about {cells:,} cells, stepviz writes at most "
                            f"{MAX_CELLS:,}; raise workbook.history_every, detail fewer epochs or use "
                            "fewer samples")
    return Estimate(1 + n_detail * len(plan.steps) + (0 if config.exercise else 2) + (1 if more else 0), cells, formulas,
                    train_seconds(config))


def _check_map_formula(config, plan) -> None:
    """The Map sheet's longest formula, its output's (a softmax spells every class's sum over
    the hidden units' cells, (classes + 1)² times), with the longest references it can hold
    (its columns end before DZ, its rows before 99999)."""
    import numpy as np

    from ..maps import layers
    from .map_sheet import unit_formula

    dense, act = layers(plan.steps)[-1]
    z = np.zeros((1, plan.shapes["output"][1]))
    length = len(unit_formula(dense, act, 0, plan.shapes, z, lambda n, i, j: "$C$99999", lambda c: "DZ99999"))
    if length > MAX_FORMULA:
        raise WorkbookError(f"a formula of the Map sheet's output would have about {length:,} characters, Excel "
                            f"allows {MAX_FORMULA:,}; use smaller layers or no map (workbook.map = [])")


@dataclass(frozen=True)
class Plan:
    """What a Book needs to lay out a workbook before there is a Run to fill it."""

    config: object
    steps: tuple
    shapes: dict

    @property
    def detail(self):
        return self.config.detail


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
    # mini-batches: the calls run once per batch, and once more for the epoch's loss on all samples
    updates = config.batches + (1 if config.batches > 1 else 0)
    epoch = 0.7e-6 * calls * updates + (1.3e-9 if values < 1_000_000 else 20e-9) * values + 0.5e-9 * macs
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
