"""What the network learned, as pictures: the plane of two inputs coloured by the output.

The Map sheet (stepviz.workbook.map_sheet) and ``Run.show_map`` draw the same grids:
``GRID``×``GRID`` points over the range of two input columns plus a margin (the other inputs
held at their mean), each coloured by the network's output there, and one such grid per hidden
unit (its activation). The numbers come from the engine's forward pass
(``engine.forward_values``) with the parameters after a given epoch's update.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .axes import FLAT, GRID, MARGIN, STEPS, TINY, axis  # noqa: F401  (re-exported)
from .errors import StepvizError
from .ops import Activate, MatMul, Softmax

SNAPSHOTS = 5  # maps of the training's course: epochs 1, 10, 100, ... and the last
# the colour scale: low, middle and high values (TensorFlow Playground's orange and blue)
LOW, MID, HIGH = "F59322", "FFFFFF", "0877BD"


class MapError(StepvizError):
    """A map that cannot be drawn: the network has no map inputs, or the epoch was not recorded."""


@dataclass(frozen=True)
class Plane:
    """The grid a map covers. ``xs``: the values of input ``columns[0]`` from left to right;
    ``ys``: those of ``columns[1]`` from top to bottom (highest first, as a chart's y axis);
    ``means``: every input's mean over the samples, where the other inputs are held. All in
    the data's units (``Config.raw``): standardised inputs are the network's business."""

    columns: tuple[int, int]
    names: tuple[str, str]
    xs: np.ndarray
    ys: np.ndarray
    means: np.ndarray

    def points(self) -> np.ndarray:
        """The (GRID·GRID, d) inputs of the grid's cells, row by row from the top left."""
        a, b = self.columns
        X = np.tile(self.means, (len(self.ys) * len(self.xs), 1))
        X[:, a] = np.tile(self.xs, len(self.ys))
        X[:, b] = np.repeat(self.ys, len(self.xs))
        return X

    def nearest(self, X: np.ndarray) -> list[tuple[int, int]]:
        """For each sample, the (row, col) of the grid cell nearest to it."""
        a, b = self.columns
        return [(int(np.abs(self.ys - x[b]).argmin()), int(np.abs(self.xs - x[a]).argmin())) for x in X]






def plane(config) -> Plane | None:
    """The plane of ``config``'s map inputs, or None when it has no map."""
    if config.map_inputs is None:
        return None
    from .config import input_names

    a, b = config.map_inputs
    names = input_names(config.X.shape[1], config.x_labels)
    raw = config.raw  # the axes in the data's units, also when the network reads them standardised
    return Plane((a, b), (names[a], names[b]), axis(raw[:, a], name=names[a]),
                 axis(raw[:, b], descending=True, name=names[b]), raw.mean(axis=0))


def layers(steps) -> list[tuple[object, object]]:
    """The forward pass as (dense, activation) computes, from the first hidden layer to the
    output: ``hidden_layer_input = X · wh + bh`` and ``hiddenlayer_activations = sigmoid(…)``."""
    dense, out = {}, []
    for step in steps:
        for c in step.computes:
            if isinstance(c.op, MatMul) and not (c.op.flipped(0) or c.op.flipped(1) or c.op.scaled):
                dense[c.result] = c
            elif isinstance(c.op, (Activate, Softmax)):  # softmax: the output's, one map per class
                out.append((dense[c.operands[0]], c))
                if c.result == "output":
                    return out
    raise AssertionError("the step table has no output")


def grids(run, params: dict, where: Plane) -> dict[str, np.ndarray]:
    """Every value of the forward pass over the plane, by name, shaped (GRID, GRID, units)."""
    from .engine import forward_values

    values = forward_values(run.steps, params, run.config.prepare(where.points()))
    n = len(where.ys), len(where.xs)
    return {k: v.reshape(*n, v.shape[1]) for k, v in values.items() if k not in params and k != "X"}


def available(run) -> list[int]:
    """The epochs after whose update the parameters were recorded (0: the start): the training
    history's, the detailed updates that end an epoch, and the last."""
    nb = run.config.batches
    return sorted({int(e) - 1 for e in run.history_epochs} | {u // nb for u in run.detail if u % nb == 0}
                  | {run.config.epochs})


def update_of(run, epoch) -> int:
    """The update (counted from 1 over the run) that ``epoch`` names: an epoch's last update
    (its last batch), or with mini-batches a detailed update as ``"epoch.batch"`` (a MapError
    for one that was not detailed)."""
    cfg = run.config
    if isinstance(epoch, str) and "." in epoch:
        from .config import _update
        from .errors import ConfigError

        try:
            u = _update(epoch, cfg.epochs, cfg.batches, 0)
        except ConfigError as e:
            raise MapError(str(e).replace("workbook.detail: ", "")) from None
        if u not in run.detail:
            raise MapError(f"update {epoch} was not detailed; detailed: {', '.join(map(run.label, run.detail))} "
                           "(workbook.detail)")
        return u
    if isinstance(epoch, str) and not (epoch.isascii() and epoch.strip().isdigit() and len(epoch) < 20):
        from .errors import ArgumentError

        raise ArgumentError(f'show_map: expected an epoch (a whole number, "epoch.batch" or None), got {epoch[:40]!r}')
    return int(epoch) * cfg.batches


def parameters_after(run, epoch: int | str | None = None) -> dict[str, np.ndarray]:
    """The parameters after ``epoch``'s update (None or the last epoch: after training; 0: the
    start; with mini-batches after the epoch's last batch, or ``"epoch.batch"``: after that
    detailed update), from the detailed updates or the training history."""
    cfg = run.config
    if epoch is None or epoch == cfg.epochs:
        return run.params
    names = cfg.network.parameters()
    update = update_of(run, epoch)
    if update in run.detail:
        _, last = cfg.network.producers()
        return {p: run.value(update, last[p].number, p) for p in names}
    hit = np.flatnonzero(run.history_epochs == int(epoch) + 1)
    if hit.size:
        return {p: run.history_params[p][hit[0]] for p in names}
    shown = available(run)
    raise MapError(f"the parameters after epoch {epoch} were not recorded; recorded: "
                   f"{', '.join(map(str, shown[:8]))}{', …' if len(shown) > 8 else ''} (workbook.history_every)")


def output_activation(network) -> str:
    """The output layer's activation: ``network.output``, else the hidden layers'."""
    return network.output or network.activation


def unit_title(config, name: str, u: int, units: int) -> str:
    """A map's name: ``output``, ``output[·,2]``, or for class outputs the class's label."""
    if units == 1:
        return name
    if name == "output" and config.classes and config.y_labels and len(config.y_labels) == units:
        return f"output: {config.y_labels[u]}"
    return f"{name}[·,{u + 1}]"


def snapshots(run) -> list[int]:
    """The epochs of the training's course the Map sheet shows: the recorded ones nearest to
    1, 10, 100, … and the last."""
    epochs = run.config.epochs
    have = [e for e in available(run) if e >= 1]
    targets = [10 ** k for k in range(12) if 10 ** k < epochs][:SNAPSHOTS - 1] + [epochs]
    return sorted({min(have, key=lambda e: (abs(e - t), e)) for t in targets})


def value_range(activation: str, values: np.ndarray | None = None) -> tuple[float, float, float]:
    """(low, middle, high) of the colour scale: the activation's range (relu: the values')."""
    from .ops import ACTIVATIONS

    if activation == "softmax":  # a probability
        return 0.0, 0.5, 1.0
    fn = ACTIVATIONS[activation]
    if np.isfinite(fn.high):
        return fn.low, (fn.low + fn.high) / 2, fn.high
    top = float(values.max()) if values is not None and values.size and values.max() > 0 else 1.0
    return 0.0, top / 2, top


def figure(run, epoch: int | None = None, hidden: bool = True):
    """The maps of the network after ``epoch``'s update as a matplotlib figure: the output (one
    map per output column) and, with ``hidden``, each hidden unit, with the samples marked. Each
    map's numbers are its image's array (``ax.images[0].get_array()``), row 0 at the top."""
    where = plane(run.config)
    if where is None:
        raise MapError(f"this network has {run.config.X.shape[1]} inputs: name two with workbook.map "
                       "(--map a,b) to draw a map")
    try:
        from matplotlib.colors import LinearSegmentedColormap
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("run.show_map needs matplotlib: pip install 'stepviz[notebook]'") from None

    values = grids(run, parameters_after(run, epoch), where)
    shown = [("output", j) for j in range(values["output"].shape[2])]
    if hidden:
        shown += [(act.result, u) for _, act in layers(run.steps)[:-1] for u in range(values[act.result].shape[2])]
    cols = min(4, len(shown))
    rows = -(-len(shown) // cols)
    fig = Figure(figsize=(3.2 * cols, 3.0 * rows), layout="constrained")
    cmap = LinearSegmentedColormap.from_list("stepviz", ["#" + LOW, "#" + MID, "#" + HIGH])
    extent = (where.xs[0], where.xs[-1], where.ys[-1], where.ys[0])
    a, b = where.columns
    X, y = run.config.raw, run.config.y
    when = f"after epoch {epoch}" if epoch is not None else f"after training ({run.config.epochs} epochs)"
    if isinstance(epoch, str) and "." in epoch:
        when = f"after update {epoch} (epoch.batch)"
    for n, (name, u) in enumerate(shown):
        ax = fig.add_subplot(rows, cols, n + 1)
        grid = values[name][:, :, u]
        net = run.config.network
        low, _, high = value_range(output_activation(net) if name == "output" else net.activation, grid)
        ax.imshow(grid, cmap=cmap, vmin=low, vmax=high, extent=extent, origin="upper", aspect="auto",
                  interpolation="nearest")
        target = y[:, u] if name == "output" else y[:, 0]
        ax.scatter(X[:, a], X[:, b], c=target, cmap=cmap, edgecolors="black", s=40)
        ax.set_title(unit_title(run.config, name, u, values[name].shape[2]), fontsize=9)
        ax.set_xlabel(where.names[0])
        ax.set_ylabel(where.names[1])
    fig.suptitle(when)
    return fig
