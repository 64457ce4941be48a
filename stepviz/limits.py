"""Excel's limits and stepviz's caps: plain numbers, below everything that reads them (the
configuration checks the caps as it is read; the workbook's size estimate,
stepviz.workbook.limits, checks Excel's limits before any training)."""

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


def history_rows(epochs: int, every: int) -> int:
    """Rows of the History sheet: every ``every``-th epoch from the first, and the last."""
    return (epochs - 1) // every + 1 + (1 if (epochs - 1) % every else 0)
