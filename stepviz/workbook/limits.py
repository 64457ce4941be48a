"""Excel's limits, checked from the configuration before any training, and the size of
the workbook a configuration will produce."""
from __future__ import annotations

from dataclasses import dataclass

from .core import WorkbookError

MAX_ROWS, MAX_COLS, MAX_FORMULA = 1_048_576, 16_384, 8_192  # Excel's limits per sheet / formula
WARN_CELLS = 2_000_000  # above this the CLI says how big and slow the workbook will be


@dataclass(frozen=True)
class Estimate:
    """The size of a workbook, known from the configuration before any training."""

    sheets: int
    cells: int
    formulas: int

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
    from .core import Book
    from .step_sheet import arithmetic

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
            longest = [(len(excel(p.compute.op.spell(r - 1, c - 1, [b.shape for b in p.operands]), addr, span)) + 1,
                        p.result.name)]
            if not config.exercise:
                longest.append((len(arithmetic(p, lambda b: widest)[0]), f"the arithmetic line of {p.result.name}"))
            for length, what in longest:
                if length > MAX_FORMULA:
                    raise WorkbookError(f"a formula of {what} would have {length:,} characters, Excel "
                                        f"allows {MAX_FORMULA:,}; use smaller layers")
    shapes = plan.shapes
    values = sum(shapes[r][0] * shapes[r][1] for s in plan.steps for r in s.results)
    check_grid(1 + n_detail * values, 6, "the Trace sheet", "detail fewer epochs (workbook.detail)")
    hist_rows = len({*range(1, config.epochs + 1, config.history_every), config.epochs})
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
    return Estimate(1 + n_detail * len(plan.steps) + (0 if config.exercise else 2), cells, formulas)


@dataclass(frozen=True)
class Plan:
    """What a Book needs to lay out a workbook before there is a Run to fill it."""

    config: object
    steps: tuple
    shapes: dict

    @property
    def detail(self):
        return self.config.detail
