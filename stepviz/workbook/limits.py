"""Excel's limits, checked from the configuration before any training, and the size of
the workbook a configuration will produce."""
from __future__ import annotations

from dataclasses import dataclass

from ..ops import Given
from .core import WorkbookError
from .layout import Layout, Refs, sheet_name

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
    hist_rows = len({*range(1, config.epochs + 1, config.history_every), config.epochs})
    hist_cols = 2 + shapes["output"][0] * shapes["output"][1] + sum(
        shapes[p][0] * shapes[p][1] for p in net.parameters())
    check_grid(1 + hist_rows, hist_cols, "the History sheet",
               "raise workbook.history_every" if hist_rows >= MAX_ROWS else "use smaller layers or fewer samples")
    overview_rows = 40 + len(config.X) + (0 if config.predict is None else len(config.predict)) + n_detail * len(steps)
    check_grid(overview_rows, 2 * shapes["y"][1] + 2, "the Overview sheet", "use fewer samples")
    cells += 6 * (1 + n_detail * values) + hist_rows * hist_cols + overview_rows * 3
    return Estimate(2 + n_detail * len(steps) + 1, cells, formulas)

