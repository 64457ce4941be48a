"""Excel's limits and stepviz's caps, checked from the configuration before any training: the
size of the workbook a configuration will produce, and how long its training will take."""
from __future__ import annotations

from dataclasses import dataclass

from ..limits import (MAX_CELLS, MAX_COLS, MAX_FORMULA, MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS,  # noqa: F401  (the numbers:
                      MAX_ROWS, MAX_TRAIN_SECONDS, WARN_CELLS, history_rows)  # stepviz.limits, below config; re-exported)
from .core import WorkbookError


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
    from ..display import MAX_EXTRA, Shown
    from ..terms import excel
    from ..tolerance import check_formula, tolerance_term
    from .core import Book
    from .lines import arithmetic

    net = config.network
    # the step sheets and the Trace hold one batch's rows (all samples without mini-batches);
    # the History and the Overview every sample's output
    plan = Plan(config, net.steps(), net.shapes(config.batch))
    book = Book(plan, None)
    n_detail = len(config.detail)
    cells = formulas = 0
    widest = Shown("sci").finer(MAX_EXTRA)  # the longest spelling of a value in an arithmetic line
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
    hist_cols = 2 + len(config.X) * shapes["output"][1] + sum(
        shapes[p][0] * shapes[p][1] for p in net.parameters())
    check_grid(20 + hist_rows, hist_cols, "the training history sheet",
               "raise workbook.history_every" if hist_rows >= MAX_ROWS else "use smaller layers or fewer samples")
    overview_rows = 60 + len(config.X) + (0 if config.predict is None else len(config.predict)) + n_detail * (
        len(plan.steps) + 1)
    check_grid(overview_rows, 2 * shapes["y"][1] + 2, "the Overview sheet", "use fewer samples")
    if not config.exercise:
        cells += 6 * (1 + n_detail * values) + (hist_rows + 1) * hist_cols  # and its header row
    cells += overview_rows * 3
    if config.raw_X is not None:  # the Inputs sheet: raw and standardised values, means and deviations
        cells += 2 * config.X.size + len(config.X) + 2 * config.X.shape[1]
        formulas += config.X.size + 2 * config.X.shape[1]
    if config.map_inputs is not None and not config.exercise:  # the Map sheet: two sections of formulas
        from ..maps import GRID, SNAPSHOTS
        maps = sum(net.hidden) + net.outputs
        formulas += 2 * maps * GRID * GRID
        _check_map_formula(config, plan)
        cells += (2 * maps + SNAPSHOTS * net.outputs) * (GRID + 1) ** 2
    from .training_sheet import estimate as training

    rows, more, more_formulas = training(config)
    check_grid(rows, 1, "the Training sheet", "lower workbook.live_epochs or raise workbook.history_every")
    cells += more
    formulas += more_formulas
    if cells > MAX_CELLS:
        raise WorkbookError(f"the workbook would have about {cells:,} cells, stepviz writes at most "
                            f"{MAX_CELLS:,}; raise workbook.history_every, detail fewer epochs or use "
                            "fewer samples")
    return Estimate(1 + n_detail * len(plan.steps) + (0 if config.exercise else 2) + (config.raw_X is not None)
                    + (1 if more else 0), cells, formulas,
                    train_seconds(config))


def _check_map_formula(config, plan) -> None:
    """The Map sheet's longest formula, its output's (a softmax spells every class's sum over
    the hidden units' cells, (classes + 1)² times), with the longest references it can hold
    (its columns end before DZ, its rows before 99999)."""
    from ..formulas import unit
    from ..maps import layers
    from ..terms import Ref, excel

    term = unit(layers(plan.steps)[-1], 0, plan.shapes, lambda n, i, j: Ref("$C$99999"), lambda c: Ref("DZ99999"))
    length = 1 + len(excel(term, None, None))
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


def train_seconds(config) -> float:
    """Training time from the network's size, measured on the project's 2-core machine: about
    0.7 µs per numpy call, 1.3 ns per recorded value (20 ns once an update's values outgrow the
    CPU caches) and 0.5 ns per multiply-add of the forward pass, per update. Mini-batches: an
    update computes one batch's rows, and a recorded epoch adds a forward pass over every sample
    (its loss for the History); copying a batch's rows of X and y costs about 35 µs."""
    net = config.network
    steps = net.steps()
    sizes = (net.inputs, *net.hidden, net.outputs)

    def one(rows: int, calls: int, record: bool) -> float:
        shapes = net.shapes(rows)
        values = sum(shapes[r][0] * shapes[r][1] for s in steps for r in s.results) if record else \
            rows * sum(sizes[1:])
        macs = sum(rows * a * b for a, b in zip(sizes, sizes[1:]))
        return 0.7e-6 * calls + (1.3e-9 if values < 1_000_000 else 20e-9) * values + 0.5e-9 * macs

    calls = sum(len(s.computes) for s in steps)
    epoch = config.batches * one(config.batch, calls, True)
    if config.batches > 1:  # each update copies its batch's rows of X and y; a recorded epoch
        epoch += config.batches * 35e-6  # computes the loss over all samples
        recorded = history_rows(config.epochs, config.history_every) / config.epochs
        epoch += recorded * one(len(config.X), calls // 2, False)
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
