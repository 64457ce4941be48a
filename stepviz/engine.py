"""The step engine: trains the network by running the step table, recording as it goes.

Each op's numpy program is bound once to fixed buffers (views of one workspace array)
and replayed every epoch: nothing is allocated per epoch, and recording an epoch is a
single copy of the workspace.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from .config import Config, load_config
from .errors import StepvizError
from .ops import Given
from .steps import Step

if TYPE_CHECKING:
    import pandas as pd


class TrainingError(StepvizError):
    """Training produced a value that is not a finite number."""


def _drawing(module: str, name: str):
    """A function of a module above the engine (a picture: stepviz.notebook, stepviz.maps; the
    Training sheet's count of live rows), found by name when it is asked for, as pandas finds
    its plotting backend: the engine imports no sheet or picture module, and those modules may
    import the engine."""
    from importlib import import_module

    return getattr(import_module(f"{__package__}.{module}"), name)


@dataclass
class Run:
    """The record of one training run.

    ``values[(step, name)]`` has shape (len(detail), rows, cols): the value of ``name``
    produced by ``step`` in each detailed epoch. History arrays have one row per
    recorded epoch (``history_epochs``); ``history_params`` hold the parameters each
    of those epochs started from, ``history_output`` its output, ``history_loss`` its loss.
    """

    config: Config
    steps: tuple[Step, ...]
    shapes: dict[str, tuple[int, int]]
    values: dict[tuple[int, str], np.ndarray]
    history_epochs: np.ndarray
    history_loss: np.ndarray
    history_output: np.ndarray
    history_params: dict[str, np.ndarray]
    params: dict[str, np.ndarray]  # after the last update
    init: dict[str, np.ndarray]  # before the first epoch
    # mini-batches: the rows of the data (0-based) each detailed update read, by update
    batch_rows: dict[int, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def detail(self) -> tuple[int, ...]:
        """The detailed updates, counted from 1 over the run: the epochs, when every epoch is
        one batch; else update u is batch (u−1) mod batches + 1 of epoch (u−1) // batches + 1."""
        return self.config.detail

    def label(self, update: int) -> str:
        """An update's name on sheets: ``3`` (epoch 3), or ``1.2`` (epoch 1, batch 2)."""
        return self.config.label(update)

    @property
    def loss(self) -> float:
        """Loss of the last epoch's forward pass."""
        return float(self.history_loss[-1])

    @property
    def output(self) -> np.ndarray:
        """Output of the last epoch's forward pass (what the seed prints)."""
        return self.history_output[-1]

    def value(self, epoch: int, step: int, name: str) -> np.ndarray:
        """The (rows, cols) value of ``name`` as produced by ``step`` in a detailed epoch."""
        try:
            slot = self.detail.index(epoch)
        except ValueError:
            raise KeyError(f"epoch {epoch} is not detailed; detailed epochs: {self.detail}") from None
        return self.values[(step, name)][slot]

    def show_step(self, step: int, epoch: int | None = None, focus=None):
        """Step ``step`` (1, 2, ...) of a detailed epoch (default: the first) as its sheet shows
        it, for Jupyter (a ``stepviz.notebook.StepView``): operands and results under their
        captions, the focus cell (row, col, from 1; default ``config.focus``) yellow, its
        sources orange, and its arithmetic."""
        return _drawing("notebook", "StepView")(self, step, epoch, focus)

    def show_map(self, epoch: int | None = None, hidden: bool = True):
        """The Map sheet's picture of the network after ``epoch``'s update (default: after
        training) as a matplotlib figure: the output over the plane of the two map inputs and,
        with ``hidden``, each hidden unit's activation; the same numbers as the sheet's grids."""
        from .errors import expect

        expect(epoch is None or isinstance(epoch, (int, str)) and not isinstance(epoch, bool), "show_map",
               'an epoch (a whole number, "epoch.batch" or None) as epoch', epoch)
        expect(isinstance(hidden, bool), "show_map", "True or False as hidden", hidden)
        return _drawing("maps", "figure")(self, epoch, hidden)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Outputs of the trained network (parameters after the last update) for new inputs in
        the data's units (standardised as the training data was, with data.standardize): one
        row per sample, as many columns as the data's inputs (a single sample may be a flat
        list)."""
        from .errors import ArgumentError

        d = self.config.X.shape[1]
        try:
            A = np.array(X, dtype=np.float64, ndmin=2)
        except (TypeError, ValueError):
            raise ArgumentError(f"predict: expected rows of {d} numbers as X, got {type(X).__name__}") from None
        if A.ndim != 2 or A.shape[1] != d or not A.size:
            raise ArgumentError(f"predict: expected rows of {d} numbers as X, got shape {np.shape(X)}")
        return forward(self.steps, self.params, self.config.prepare(A))

    def records(self):
        """(epoch, step, name, array) in Trace order."""
        for slot, epoch in enumerate(self.detail):
            for step in self.steps:
                for name in step.results:
                    yield epoch, step.number, name, self.values[(step.number, name)][slot]

    def history_table(self) -> tuple[list[str], np.ndarray]:
        """(column names, rows): epoch, loss, ``output[i,j]``..., then each parameter's cells;
        i and j count from 1, as on the step sheets and in ``focus``."""
        m = len(self.history_epochs)
        parts = [("output", self.history_output), *self.history_params.items()]
        names = ["epoch", "loss"] + [f"{n}[{i + 1},{j + 1}]" for n, a in parts for i, j in np.ndindex(a.shape[1:])]
        data = np.hstack([self.history_epochs[:, None], self.history_loss[:, None]]
                         + [a.reshape(m, -1) for _, a in parts])
        return names, data

    def history(self) -> "pd.DataFrame":
        """One row per recorded epoch, the same table as the workbook's History sheet."""
        import pandas as pd

        names, data = self.history_table()
        return pd.DataFrame(data, columns=names).astype({"epoch": "int64"})

    def live_updates(self) -> int:
        """How many updates the Training sheet writes as live formulas (its own choice, found
        by name as the pictures are: the engine imports no sheet); every update when the
        workbook has no Training sheet."""
        live = _drawing("workbook.training_sheet", "live_updates")(self.config)
        return live or self.config.epochs * self.config.batches

    def later_epochs(self, live: int) -> list[int]:
        """The recorded epochs (indices into the history) the Training sheet gives as values
        after ``live`` live updates: those after the start of the next update's epoch."""
        if live == self.config.epochs * self.config.batches:
            return []
        done = live // self.config.batches  # whole epochs whose rows are live
        return [k for k, e in enumerate(self.history_epochs) if e > done + 1]

    def training(self) -> "pd.DataFrame":
        """The Training sheet's table, as ``stepviz.read_training`` reads it from the workbook
        written from this run: one row per update, labelled by its epoch (with mini-batches
        its update, ``"1.2"``), with the loss, the parameters and optimizer's state the update
        starts from and the values the row keeps (``output[1,1]``...); then, when only the
        first updates are live, the start of the next update and the recorded epochs' loss and
        parameters; last the row ``"after"``, the parameters after training. Cells the sheet
        leaves empty are NaN; without a Training sheet (live_epochs = 0, an exercise), every
        update. Computed by replaying the live updates (about the time of training them again,
        and one copy of an update's values per row)."""
        import pandas as pd

        from .table import AFTER, header, label

        cfg, live = self.config, self.live_updates()
        keys, V, _ = training_values(cfg, live)
        labels = [cfg.label(u + 1) for u in range(live)]
        if live < cfg.epochs * cfg.batches:  # values from training: the recorded epochs, then after training
            col = {key: k for k, key in enumerate(keys)}
            later = self.later_epochs(live)
            rows = np.full((len(later) + 1, len(keys)), np.nan)

            def put(r, params):
                for p, a in params.items():
                    for (i, j), v in np.ndenumerate(a):
                        rows[r, col[(p, i, j)]] = v

            labels.append(cfg.label(live + 1))
            for r, k in enumerate(later):
                labels.append(self.history_epochs[k])
                rows[r, col[("loss", 0, 0)]] = self.history_loss[k]
                put(r, {p: a[k] for p, a in self.history_params.items()})
            put(-1, self.params)
            V = np.vstack([V, rows])
        df = pd.DataFrame(V, columns=[header(*key) for key in keys])
        df.insert(0, "epoch", pd.Series([label(x) for x in (*labels, AFTER)], dtype=object))
        return df

    def frame(self) -> "pd.DataFrame":
        """The long table of every recorded value: epoch, step, name, row, col, value."""
        import pandas as pd

        parts = {k: [] for k in ("epoch", "step", "name", "row", "col", "value")}
        for epoch, step, name, a in self.records():
            r, c = np.indices(a.shape)
            parts["epoch"].append(np.full(a.size, epoch))
            parts["step"].append(np.full(a.size, step))
            parts["name"] += [name] * a.size
            parts["row"].append(r.ravel())
            parts["col"].append(c.ravel())
            parts["value"].append(a.ravel())
        cat = {k: (v if k == "name" else np.concatenate(v)) for k, v in parts.items()}
        return pd.DataFrame(cat).astype({"epoch": "int64", "step": "int64", "row": "int64", "col": "int64"})


def initial_parameters(config: Config) -> dict[str, np.ndarray]:
    """Given [init] values, else uniform(0, 1) from the seed, in the seed's order."""
    rng = np.random.default_rng(config.seed)
    shapes = config.network.shapes(len(config.X))
    out = {}
    for name in config.network.parameters():
        drawn = rng.uniform(size=shapes[name])  # drawn even when given: others stay the same
        out[name] = config.init.get(name, drawn).astype(np.float64, copy=True)
    return out


def forward(steps, params: dict, X: np.ndarray) -> np.ndarray:
    """Run the forward part of the step table (up to ``output``) on inputs X."""
    return forward_values(steps, params, X)["output"]


def forward_values(steps, params: dict, X: np.ndarray, until: str = "output") -> dict[str, np.ndarray]:
    """Every value of the forward part of the step table (up to ``until``: ``output``, or
    ``loss`` with y among ``params``) on inputs X, by name: ``hidden_layer_input``,
    ``hiddenlayer_activations``, ..., ``output``."""
    cur = dict(params, X=np.asarray(X, dtype=np.float64))
    with np.errstate(all="ignore"):
        for step in steps:
            for c in step.computes:
                if isinstance(c.op, Given):
                    continue
                args = [cur[o] for o in c.operands]
                out = np.empty(c.op.shape(*(a.shape for a in args)))
                c.op.compute(*args, out=out)
                cur[c.result] = out
                if c.result == until:
                    return cur
    raise AssertionError(f"the step table has no {until}")


def train(config: Config | str | dict | None = None, *, progress=None, **overrides) -> Run:
    """Train the network of ``config`` (a Config, preset name, TOML path or dict) and record it.

    ``progress``, if given, is called with a number of epochs done, about 100 times in all.
    """
    from .errors import expect, is_path

    expect(config is None or isinstance(config, (Config, dict)) or is_path(config), "train",
           "a preset name, a .toml path, a dict or a Config as config", config)
    expect(progress is None or callable(progress), "train", "a function or None as progress", progress)
    if not isinstance(config, Config):
        config = load_config(config, **overrides)
    elif overrides:
        raise TypeError("overrides apply to a preset, path or dict, not to a Config")
    net = config.network
    steps = net.steps()
    shapes = net.shapes(len(config.X))
    params = initial_parameters(config)
    # the optimizer's state starts at zero; t (Adam) counts the epochs, from 1
    carried = {**params, **{n: np.zeros(shapes[n]) for n in net.state()}}

    if config.batches > 1:
        return _train_batches(config, progress, steps, params, carried)
    p = _bind(config, steps, net.shapes(len(config.X)), carried)
    ws, buf, offsets, total, first, current, calls = p.ws, p.buf, p.offsets, p.total, p.first, p.current, p.calls
    start, end = p.start, p.end
    buf[first["X"]][...] = config.X
    buf[first["y"]][...] = config.y

    detail = config.detail
    record = np.empty((len(detail), total))
    every = config.history_every
    hist_epochs = np.array(sorted({*range(1, config.epochs + 1, every), config.epochs}))
    m = len(hist_epochs)
    hist_loss = np.empty(m)
    hist_out = np.empty((m, *shapes["output"]))
    hist_params = {p: np.empty((m, *shapes[p])) for p in params}
    loss, output = buf[current["loss"]], buf[current["output"]]
    next_hist, h = int(hist_epochs[0]), 0
    next_detail, d = (detail[0] if detail else 0), 0
    tick = max(1, config.epochs // 100)
    next_tick = tick if progress else 0

    with np.errstate(all="ignore"):
        for epoch in range(1, config.epochs + 1):
            for call in calls:
                call()
            if epoch == next_hist:
                hist_loss[h] = loss[0, 0]
                hist_out[h] = output
                for p, store in hist_params.items():
                    store[h] = buf[first[p]]
                if not (np.isfinite(hist_loss[h]) and np.isfinite(ws).all()):
                    if every > 1:  # find the first epoch that went wrong: replay, checking each
                        train(dataclasses.replace(config, epochs=epoch, history_every=1, detail=()))
                    raise TrainingError(_non_finite(epoch, steps, buf, hist_loss[h], config))
                h += 1
                next_hist = int(hist_epochs[h]) if h < m else 0
            if epoch == next_detail:
                record[d] = ws
                d += 1
                next_detail = detail[d] if d < len(detail) else 0
            start[...] = end
            if epoch == next_tick:
                progress(tick)
                next_tick += tick
    n = len(detail)
    values = {k: record[:, o:o + buf[k].size].reshape(n, *buf[k].shape) for k, o in offsets.items()}
    final = {p: buf[first[p]].copy() for p in params}
    return Run(config, steps, shapes, values, hist_epochs, hist_loss, hist_out, hist_params,
               final, {p: v.copy() for p, v in params.items()})


@dataclass
class _Program:
    """The numpy programs of one epoch (or batch) bound to one workspace."""

    ws: np.ndarray
    buf: dict
    offsets: dict
    total: int
    first: dict
    current: dict
    calls: list
    start: np.ndarray
    end: np.ndarray
    counter: int = 0  # calls[:counter] count the updates (Adam's t)
    forward: int = 0  # calls[counter:forward] compute the output and the loss


def _bind(config: Config, steps, shapes, carried) -> _Program:
    net = config.network
    # One contiguous workspace holds every value of an epoch, each (step, name) a fixed
    # view of it: recording a detailed epoch is one copy, and the parameters' updates are
    # laid out in the order of their start values, so one copy starts the next epoch.
    keys = [(s.number, r) for s in steps for r in s.results]
    first, last = ({r: (s.number, r) for r, s in d.items()} for d in net.producers())
    updated = [p for p in carried if last[p] != first[p]]
    moved = {*map(first.get, updated), *map(last.get, updated)}
    order = [first[p] for p in updated] + [last[p] for p in updated] + [k for k in keys if k not in moved]
    offsets, total = {}, 0
    for key in order:
        offsets[key] = total
        total += shapes[key[1]][0] * shapes[key[1]][1]
    ws = np.zeros(total)  # zeros: a batch program is checked before its first run
    buf = {k: ws[o:o + shapes[k[1]][0] * shapes[k[1]][1]].reshape(shapes[k[1]]) for k, o in offsets.items()}
    split = sum(buf[first[p]].size for p in updated)
    start, end = ws[:split], ws[split:2 * split]
    for p, value in carried.items():
        buf[first[p]][...] = value

    # bind each op's program to the buffers it reads and writes, once
    constants = config.constants()
    calls, current, forward = [], {}, 0
    if "t" in carried:
        calls.append(partial(np.add, buf[first["t"]], 1.0, buf[first["t"]]))
    counter = len(calls)
    for s in steps:
        for c in s.computes:
            key = (s.number, c.result)
            if not isinstance(c.op, Given):
                args = [constants[o] if o in constants else buf[current[o]] for o in c.operands]
                out = buf[key]
                calls += [partial(fn, *a) for fn, a in c.op.program(*args, out=out)]
            current[c.result] = key
            if c.result == "loss":
                forward = len(calls)
    return _Program(ws, buf, offsets, total, first, current, calls, start, end, counter, forward)


def _train_batches(config: Config, progress, steps, params, carried) -> Run:
    """Mini-batch training: each epoch visits the samples in batches of ``config.batch`` rows
    (in a new order each epoch when ``shuffle``), one update per batch. The workspace of a
    batch is bound once (and once more for a shorter last batch); the History records, per
    epoch, the parameters it started from and the output and loss they give on all samples."""
    net = config.network
    n, b, nb = len(config.X), config.batch, config.batches
    full = _bind(config, steps, net.shapes(b), carried)
    short = _bind(config, steps, net.shapes(n - (nb - 1) * b), carried) if n % b else full
    whole = _bind(config, steps, net.shapes(n), carried)  # the epoch's loss over all samples
    whole.buf[whole.first["X"]][...] = config.X
    whole.buf[whole.first["y"]][...] = config.y
    orders = batch_orders(config)

    detail = config.detail
    record = np.empty((len(detail), full.total))
    rows_of: dict[int, np.ndarray] = {}
    every = config.history_every
    hist_epochs = np.array(sorted({*range(1, config.epochs + 1, every), config.epochs}))
    m = len(hist_epochs)
    hist_loss = np.empty(m)
    hist_out = np.empty((m, *whole.buf[whole.current["output"]].shape))
    hist_params = {p: np.empty((m, *full.buf[full.first[p]].shape)) for p in params}
    next_hist, h = int(hist_epochs[0]), 0
    next_detail, d = (detail[0] if detail else 0), 0
    tick = max(1, config.epochs // 100)
    next_tick = tick if progress else 0
    take_X, take_y, cur, update = config.X.take, config.y.take, full, 0
    t = full.first.get("t")
    with np.errstate(all="ignore"):
        for epoch in range(1, config.epochs + 1):
            order = next(orders)
            if epoch == next_hist:
                whole.start[...] = cur.start
                for call in whole.calls[whole.counter:whole.forward]:
                    call()
                hist_loss[h] = whole.buf[whole.current["loss"]][0, 0]
                hist_out[h] = whole.buf[whole.current["output"]]
                for p, store in hist_params.items():
                    store[h] = whole.buf[whole.first[p]]
                if not (np.isfinite(hist_loss[h]) and np.isfinite(cur.ws).all()):
                    raise TrainingError(_non_finite(epoch, steps, cur.buf, hist_loss[h], config))
                h += 1
                next_hist = int(hist_epochs[h]) if h < m else 0
            for k in range(nb):
                update += 1
                rows = order[k * b:(k + 1) * b]
                prog = full if len(rows) == b else short
                if prog is not cur:
                    prog.start[...] = cur.start
                    if t is not None:
                        prog.buf[t][...] = cur.buf[t]
                    cur = prog
                take_X(rows, 0, prog.buf[prog.first["X"]])
                take_y(rows, 0, prog.buf[prog.first["y"]])
                for call in prog.calls:
                    call()
                if update == next_detail:
                    record[d] = prog.ws
                    rows_of[update] = rows.copy()
                    d += 1
                    next_detail = detail[d] if d < len(detail) else 0
                prog.start[...] = prog.end
            if epoch == next_tick:
                progress(tick)
                next_tick += tick
    buf, offsets = full.buf, full.offsets
    values = {k: record[:, o:o + buf[k].size].reshape(len(detail), *buf[k].shape) for k, o in offsets.items()}
    final = {p: cur.buf[cur.first[p]].copy() for p in params}
    return Run(config, steps, net.shapes(b), values, hist_epochs, hist_loss, hist_out, hist_params,
               final, {p: v.copy() for p, v in params.items()}, rows_of)


def batch_orders(config: Config):
    """The order in which each epoch visits the samples (an endless generator): the rows'
    order, or with ``shuffle`` a new permutation each epoch, drawn from the seed after the
    start values' draws (initial_parameters)."""
    rng = np.random.default_rng(config.seed)
    shapes = config.network.shapes(len(config.X))
    for name in config.network.parameters():
        rng.uniform(size=shapes[name])
    n = len(config.X)
    while True:
        yield rng.permutation(n) if config.shuffle else np.arange(n)


@dataclass
class Replay:
    """Every value of the first updates of a run, as the engine computes them: per update
    (0-based), the rows of the data it read (``rows``); ``value(u, name)`` is the value of
    ``name`` in update u: a parameter's or a state's where the update started from, with
    ``updated``, where it left it."""

    rows: list
    carried: frozenset
    _records: list  # per update: (program, workspace copy)

    def _get(self, u: int, key) -> np.ndarray:
        prog, ws = self._records[u]
        o = prog.offsets[key]
        return ws[o:o + prog.buf[key].size].reshape(prog.buf[key].shape)

    def value(self, u: int, name: str, updated: bool = False) -> np.ndarray:
        prog = self._records[u][0]
        return self._get(u, prog.first[name] if name in self.carried and not updated else prog.current[name])


def replay(config: Config, updates: int) -> Replay:
    """Train again for ``updates`` updates, keeping every value of each (the live Training
    sheet's cached values). The same programs as ``train``: the same numbers to the bit."""
    net = config.network
    steps = net.steps()
    params = initial_parameters(config)
    shapes = net.shapes(len(config.X))
    carried = {**params, **{n: np.zeros(shapes[n]) for n in net.state()}}
    n, b = len(config.X), config.batch
    progs = {}

    def program(size):
        if size not in progs:
            progs[size] = _bind(config, steps, net.shapes(size), carried)
        return progs[size]

    orders = batch_orders(config)
    rows, records, cur, u = [], [], None, 0
    with np.errstate(all="ignore"):
        while u < updates:
            order = next(orders)
            for k in range(config.batches):
                if u == updates:
                    break
                r = order[k * b:(k + 1) * b]
                prog = program(len(r))
                if cur is not None and prog is not cur:
                    prog.start[...] = cur.start
                    if "t" in carried:
                        prog.buf[prog.first["t"]][...] = cur.buf[cur.first["t"]]
                cur = prog
                config.X.take(r, 0, prog.buf[prog.first["X"]])
                config.y.take(r, 0, prog.buf[prog.first["y"]])
                for call in prog.calls:
                    call()
                rows.append(r.copy())
                records.append((prog, prog.ws.copy()))
                prog.start[...] = prog.end
                u += 1
    return Replay(rows, frozenset(carried), records)


def training_values(config: Config, live: int) -> tuple[list, np.ndarray, "Replay"]:
    """(columns, values, replay) of the Training sheet's live rows (stepviz.table.columns): row u
    (0-based, u < live) is update u + 1 as the engine computes it (its start values, loss and
    kept values), row ``live`` the parameters and state the last live update leaves (Adam's t
    counted on); NaN where a row has no cell (a shorter batch's missing samples, the values
    of the row after the last update)."""
    from .table import columns

    net = config.network
    shapes = net.shapes(config.batch)
    keys = columns(net, shapes)
    rp = replay(config, live)
    V = np.full((live + 1, len(keys)), np.nan)
    starts = {}
    for k, (name, _, _) in enumerate(keys):
        starts.setdefault(name, k)
    for u in range(live + 1):
        last = u == live
        for name, k0 in starts.items():
            if last and name not in rp.carried:
                continue
            a = rp.value(u - 1 if last else u, name, updated=last)
            rows, cols = shapes[name]
            V[u, k0:k0 + rows * cols].reshape(rows, cols)[:a.shape[0]] = a  # a shorter batch: its rows only
    if "t" in starts:  # Adam's counter is a row's update number: the row after the last counts on
        V[live, starts["t"]] = V[live - 1, starts["t"]] + 1
    return keys, V, rp


def _non_finite(epoch, steps, buf, loss, config) -> str:
    """Say where an epoch first produced a value that is not a finite number: the first result in
    step order (then the loss, when the step table does not list it), the value, its largest
    operand, and the cause: lr only when lr had a part in it, else the data or start values."""
    params = set(config.network.parameters())
    current, roots, given, found = {}, {}, {}, None  # roots: the given names a value comes from
    for s in steps:
        for c in s.computes:
            key = (s.number, c.result)
            if isinstance(c.op, Given):  # from epoch 2 on, start values come from lr's updates
                roots[c.result] = {c.result} | ({"lr"} if epoch > 1 and c.result in params else set())
                given.setdefault(c.result, buf[key])
            else:
                roots[c.result] = set().union(*(roots.get(o, {o}) for o in c.operands))
            if found is None and not np.all(np.isfinite(buf[key])):
                found = s, c, buf[key], {o: config.lr if o == "lr" else buf[current[o]] for o in c.operands}
            current[c.result] = key
    if found is None and "loss" not in current and not np.isfinite(loss) and "E" in current:
        producer = next(s for s in steps if "E" in s.results)  # the loss is ½·ΣE² (or ΣE²)
        found = producer, None, np.array([[loss]]), {"E": buf[current["E"]]}
        roots["loss"] = roots["E"]
    if found is None:
        return f"training diverged in epoch {epoch}; try a smaller training.lr"
    step, c, value, operands = found
    name = "loss" if c is None else c.result
    where = tuple(np.argwhere(~np.isfinite(value))[0])
    what = name if value.size == 1 else f"{name}[{where[0] + 1},{where[1] + 1}]"
    head = f"training diverged: {what} in step {step.number} ({step.title}) of epoch {epoch} is {value[where]}"
    if operands:
        size, operand = max((float(np.abs(v).max()), o) for o, v in operands.items())
        head += f" ({operand} reaches {size:.3g})"
    lr_fault = "lr" in roots[name]
    if lr_fault and epoch == 1 and "lr" in c.operands:  # would it overflow without lr's step?
        trial = np.empty_like(value)
        with np.errstate(all="ignore"):
            c.op.compute(*(0.0 if o == "lr" else operands[o] for o in c.operands), out=trial)
        lr_fault = bool(np.all(np.isfinite(trial)))
    if lr_fault:
        return head + "; try a smaller training.lr"
    size, source = max((float(np.abs(given[r]).max()), r) for r in roots[name] if r in given)
    label = {"X": "data.X", "y": "data.y"}.get(source) or (
        f"init.{source}" if source in config.init else f"the start values of {source}")
    return (head + f", and lr is not the cause: {label} reaches {size:.3g}, too large for "
            "floating-point arithmetic; scale it down")
