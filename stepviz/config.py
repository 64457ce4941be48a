"""Configuration: TOML files and presets, validated into a :class:`Config`.

Every problem raises :class:`ConfigError` with a message that names the place at fault
(file, line, key or value) and says what is expected.
"""
from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import is_number, load_data, matrix, read_text, standardize
from .errors import ConfigError, StepvizError  # noqa: F401  (re-exported)
from .steps import Network
from .text import templates  # noqa: F401  (re-exported: presets and catalogs share it)


# key -> default; "..." marks keys without a default
SCHEMA: dict[str, dict] = {
    "data": {"X": None, "y": None, "csv": None, "target": None, "predict": None, "classes": None,
             "standardize": False},
    "network": {"hidden": [3], "bias": True, "train_bias": True, "loss": "error",
                "activation": "sigmoid", "output": None},
    "training": {"lr": 0.1, "epochs": 5000, "seed": 0, "optimizer": "gd", "momentum": 0.9,
                 "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "batch_size": None, "shuffle": False},
    "init": {},  # parameter names, checked against the network
    "about": {"tutorial": None, "result": None, "names": None},  # a preset's tutorial (Overview)
    "workbook": {"detail": [1], "focus": [1, 1], "history_every": None, "max_detail": 50,
                 "decimals": 3, "lang": "en", "exercise": False, "map": None, "live_epochs": None},
}
LOSSES = ("error", "sse", "ce", "bce")
OUTPUTS = ("sigmoid", "tanh", "relu", "softmax")
MAX_CLASSES = 20  # a softmax cell spells its row's EXP terms: 20 classes stay far below Excel's limits
MAX_SEED = 2**53 - 1  # the Overview shows the seed as a number: a spreadsheet holds it exactly


@dataclass(frozen=True)
class Config:
    """A validated run configuration. Arrays are float64, 2-D."""

    X: np.ndarray
    y: np.ndarray
    network: Network
    lr: float = 0.1
    momentum: float = 0.9  # optimizer = "momentum": v = momentum·v + g
    beta1: float = 0.9  # optimizer = "adam": m = beta1·m + (1 − beta1)·g
    beta2: float = 0.999  # s = beta2·s + (1 − beta2)·g²
    eps: float = 1e-8  # w += lr·m̂/(√ŝ + eps)
    epochs: int = 5000
    seed: int = 0
    init: dict[str, np.ndarray] = field(default_factory=dict)
    detail: tuple[int, ...] = (1,)
    focus: tuple[int, int] = (1, 1)
    history_every: int = 1
    decimals: int = 3  # fewest decimals shown; more where a value needs them
    lang: str = "en"
    exercise: bool = False
    about: dict = field(default_factory=dict)  # tutorial, result, names: shown on the Overview
    predict: np.ndarray | None = None
    name: str = "stepviz"
    x_labels: tuple[str, ...] | None = None
    y_labels: tuple[str, ...] | None = None
    classes: bool = False  # the targets are one-hot classes named by y_labels (text labels in a CSV)
    batch_size: int | None = None  # None: every sample in one batch, one update per epoch
    shuffle: bool = False  # draw each epoch's batches in a new order (from seed)
    warnings: tuple[str, ...] = ()  # valid but probably not what was meant
    inputs: tuple[Path, ...] = ()  # the files read (config, CSV): never overwritten by the output
    # the two input columns of the Map sheet (0-based), or None: no Map sheet
    map_inputs: tuple[int, int] | None = None
    assessment: bool = False  # with exercise: no check and no answer in the file (stepviz class)
    student: tuple[str, str] | None = None  # (id, name) of a class's workbook (stepviz class)
    # data.standardize: X is (raw − mean) / sd column by column; raw_X the data as read (None:
    # not standardised), mean and sd per column. predict stays in the data's units.
    raw_X: np.ndarray | None = None
    mean: np.ndarray | None = None
    sd: np.ndarray | None = None

    @property
    def raw(self) -> np.ndarray:
        """The inputs in the data's own units (what the learner reads): X unless standardised."""
        return self.X if self.raw_X is None else self.raw_X

    def with_inputs(self, raw: np.ndarray) -> "Config":
        """This configuration with other inputs in the data's units (standardised again, with
        their own means and deviations, when this one is)."""
        import dataclasses

        if self.raw_X is None:
            return dataclasses.replace(self, X=raw)
        X, mean, sd = standardize(raw, input_names(raw.shape[1], self.x_labels))
        return dataclasses.replace(self, X=X, raw_X=raw, mean=mean, sd=sd)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Inputs in the data's units as the network reads them (standardised when it is)."""
        return X if self.raw_X is None else (X - self.mean) / self.sd
    # epochs the Training sheet writes as live formulas: None, as many as its budget allows
    # (stepviz.workbook.training_sheet.LIVE_CELLS); 0, no Training sheet
    live_epochs: int | None = None

    @property
    def batch(self) -> int:
        """Rows of one batch (the step sheets' rows of X and y)."""
        return self.batch_size or len(self.X)

    @property
    def batches(self) -> int:
        """Updates per epoch: ⌈n / batch_size⌉ (the last batch may be shorter)."""
        return -(-len(self.X) // self.batch)

    def label(self, update: int) -> str:
        """The name of an update (1-based over the run): the epoch, or ``epoch.batch``."""
        if self.batches == 1:
            return str(update)
        return f"{(update - 1) // self.batches + 1}.{(update - 1) % self.batches + 1}"

    def constants(self) -> dict[str, float]:
        """The values the steps read besides matrices: lr and the optimizer's hyperparameters."""
        return {name: getattr(self, name) for name in self.network.constants()}


def presets() -> dict[str, str]:
    """Preset name -> one-line description (the first comment line of its file)."""
    out = {}
    for f in sorted(templates().iterdir(), key=lambda f: f.name.removesuffix(".toml")):
        if f.name.endswith(".toml") and f.name != "style.toml":
            first = f.read_text(encoding="utf-8").splitlines()[0]
            out[f.name[:-5]] = first.lstrip("# ").strip()
    return out


def read_source(source: str | Path | None) -> tuple[dict, str, Path | None, Path | None]:
    """Parse a preset name or a TOML file into (document, name, folder of the file, the file
    itself when it is not a preset)."""
    source = "seed-mlp" if source is None else str(source)
    if source in presets():
        text = templates().joinpath(source + ".toml").read_text("utf-8")
        return _parse(text, f"preset {source}"), source, Path(templates()), None
    path = Path(source)
    if not source.endswith(".toml") and not path.exists():
        raise ConfigError(f"unknown preset {source!r}; presets are: {', '.join(presets())} "
                          "(or give a .toml config file)")
    text = read_text(path, "config file", "a .toml config file")
    return _parse(text, source), display_name(path.stem), path.resolve().parent, path


def display_name(name: str) -> str:
    """A file name as text a workbook can hold: bytes that are not UTF-8 (kept by Python as
    lone surrogates) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")



def _parse(text: str, where: str) -> dict:
    nesting(text, where)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: invalid TOML: {e}") from None
    except ValueError as e:  # an integer of more digits than Python converts (4,300)
        raise ConfigError(f"{where}: invalid TOML: a number too long to read ({str(e).split(':')[0]})") from None
    except RecursionError:  # nesting() bounds it first; a last resort
        raise ConfigError(f"{where}: invalid TOML: nested too deeply") from None


MAX_NESTING = 32  # arrays and inline tables inside one another; stepviz reads 2 (a matrix)
_NEXT = re.compile(r"""[\[\]{}"'#]""")  # where nesting changes, or a string or comment starts
_STRING_END = {'"""': re.compile(r'(?:[^\\"]|\\[\s\S]|"(?!""))*"""'), "'''": re.compile(r"[\s\S]*?'''"),
               '"': re.compile(r'(?:[^\\"\n]|\\.)*"'), "'": re.compile(r"[^'\n]*'")}


def nesting(text: str, where: str) -> None:
    """Refuse TOML whose arrays and inline tables nest deeper than MAX_NESTING, in one pass over
    the text before parsing it (Python's parser recurses once per level and fails at a few
    hundred). Brackets in strings and comments do not count; at a string that does not end,
    the scan stops and the parser reports it."""
    depth, pos = 0, 0
    while (m := _NEXT.search(text, pos)) is not None:
        c, pos = m.group(), m.end()
        if c in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise ConfigError(f"{where}: arrays or inline tables nested more than {MAX_NESTING} deep "
                                  f"(line {text.count(chr(10), 0, m.start()) + 1}); a config needs 2 (a matrix)")
        elif c in "]}":
            depth -= 1
        elif c == "#":
            pos = text.find("\n", pos) % (len(text) + 1)
        else:
            quote = c * 3 if text.startswith(c * 3, m.start()) else c
            end = _STRING_END[quote].match(text, m.start() + len(quote))
            if end is None:
                return
            pos = end.end()
            while len(quote) == 3 and pos < len(text) and text[pos] == c and pos - end.end() < 2:
                pos += 1  # a multi-line string's text may end in one or two quotes: """a""""


def load_config(source: str | Path | dict | None = None, **overrides) -> Config:
    """Build a Config from a preset name, a TOML path or a dict, then apply overrides.

    Overrides use the key names of the file (``epochs=10``, ``hidden=[8, 4]``,
    ``detail=["last"]``) and replace the file's values.
    """
    from .errors import expect, is_path

    expect(source is None or isinstance(source, dict) or is_path(source), "load_config",
           "a preset name, a .toml path or a dict as source", source)
    if isinstance(source, dict):
        doc, name, folder, path = source, "stepviz", None, None
    else:
        doc, name, folder, path = read_source(source)
    if source is None and isinstance(overrides.get("csv"), str):  # only a CSV: named after it
        name = display_name(Path(overrides["csv"]).stem)
    return validate(doc, name=name, folder=folder, overrides=overrides, inputs=() if path is None else (path,))


def _check_keys(doc: dict, where: str, allowed) -> None:
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a table")
    for key in doc:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(allowed)}"
            raise ConfigError(f"unknown key {where + '.' if where else ''}{key}{hint}")


def validate(doc: dict, *, name: str = "stepviz", folder: Path | None = None,
             overrides: dict | None = None, inputs: tuple[Path, ...] = ()) -> Config:
    _check_keys(doc, "", SCHEMA)
    flat: dict[str, tuple[str, object]] = {}  # key -> (section, value)
    for section, keys in SCHEMA.items():
        table = doc.get(section, {})
        if section == "init":
            if not isinstance(table, dict):
                raise ConfigError("[init]: expected a table of matrices")
            continue
        _check_keys(table, section, keys)
        for key, default in keys.items():
            flat[key] = (section, table.get(key, default))
    overrides = overrides or {}
    if overrides.get("csv") is not None:  # a CSV given on top of a file replaces its data
        for key in ("X", "y", "target", "predict"):
            flat[key] = ("data", None)
    for key, value in overrides.items():
        if key not in flat:
            raise ConfigError(f"unknown option {key}")
        if value is not None:
            flat[key] = (flat[key][0], value)
    get = lambda key: flat[key][1]  # noqa: E731

    classes = get("classes")
    if classes is not None:
        _bool(classes, "data.classes")
    X, y, x_labels, y_labels, csv_path, classes = load_data(get, folder)
    if csv_path is not None:
        inputs = (*inputs, csv_path)
    scaled = {}
    if _bool(get("standardize"), "data.standardize"):
        X_std, mean, sd = standardize(X, input_names(X.shape[1], x_labels))
        scaled = {"raw_X": X, "mean": mean, "sd": sd}
    predict = None
    if get("predict") is not None:
        predict = matrix(get("predict"), "data.predict")
        if predict.shape[1] != X.shape[1]:
            raise ConfigError(f"data.predict has {predict.shape[1]} columns, X has {X.shape[1]}")

    hidden = get("hidden")
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = [hidden]
    if not isinstance(hidden, list) or not all(_is_int(h) for h in hidden):
        raise ConfigError(f"network.hidden: expected a list of layer sizes like [3] or [8, 4], got {_brief(hidden)}")
    if any(h < 1 for h in hidden):
        raise ConfigError(f"network.hidden: layer sizes must be at least 1, got {_brief(hidden)}")
    from .limits import MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS  # before any work that grows with them
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise ConfigError(f"network.hidden: {len(hidden):,} hidden layers, stepviz draws at most {MAX_HIDDEN_LAYERS} "
                          "(each adds 4 sheets per detailed epoch); use fewer layers")
    if sum(hidden) > MAX_HIDDEN_UNITS:
        raise ConfigError(f"network.hidden: {_count(sum(hidden))} hidden units in all, at most {MAX_HIDDEN_UNITS:,} "
                          "(the training history has a column per weight and bias, Excel has 16,384 columns); "
                          "use smaller layers")
    loss, activation, output = get("loss"), get("activation"), get("output")
    from .ops import ACTIVATIONS
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ConfigError(f"network.loss: expected one of {', '.join(LOSSES)}, got {loss!r}")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ConfigError(f"network.activation: expected one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if output is not None and (not isinstance(output, str) or output not in OUTPUTS):
        raise ConfigError(f"network.output: expected one of {', '.join(OUTPUTS)}, got {output!r}")
    shown_output = output or activation
    if (shown_output == "softmax") != (loss == "ce"):
        raise ConfigError("network.loss: \"ce\" (cross-entropy) goes with output = \"softmax\", and softmax "
                          f"with loss = \"ce\"; got output = {shown_output!r}, loss = {loss!r}")
    if loss == "bce" and shown_output != "sigmoid":
        raise ConfigError(f"network.loss: \"bce\" needs a sigmoid output, got output = {shown_output!r}")
    if shown_output == "softmax" and not 2 <= y.shape[1] <= MAX_CLASSES:
        raise ConfigError(f"network.output: softmax needs from 2 to {MAX_CLASSES} target columns (one per "
                          f"class), got {y.shape[1]}")
    output = "" if output in (None, activation) else output
    bias, train_bias = _bool(get("bias"), "network.bias"), _bool(get("train_bias"), "network.train_bias")
    from .steps import OPTIMIZERS
    optimizer = get("optimizer")
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ConfigError(f"training.optimizer: expected one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    from .steps import HYPERPARAMETERS
    for key in ("momentum", "beta1", "beta2", "eps"):
        # set but unused: refused, unless the file's value lost its optimizer to an override
        # (`stepviz run seed-mlp-adam --optimizer gd`)
        given = overrides.get(key) is not None or (key in doc.get("training", {}) and overrides.get("optimizer") is None)
        if given and key not in HYPERPARAMETERS[optimizer]:
            user = next(o for o, keys in HYPERPARAMETERS.items() if key in keys)
            raise ConfigError(f'training.{key}: used only with optimizer = "{user}", and this run uses "{optimizer}"; '
                              f'remove {key} or set training.optimizer = "{user}"')
    hyper = {}
    for key, low, high in (("momentum", 0.0, 1.0), ("beta1", 0.0, 1.0), ("beta2", 0.0, 1.0), ("eps", 0.0, math.inf)):
        v = get(key)
        if not is_number(v) or not math.isfinite(v) or not low <= v < high or (key == "eps" and v <= 0):
            what = "> 0" if key == "eps" else "from 0 up to (not including) 1"
            raise ConfigError(f"training.{key}: expected a finite number {what}, got {v!r}")
        hyper[key] = float(v)
    network = Network(X.shape[1], tuple(hidden), y.shape[1], bias, train_bias, loss, activation, optimizer, output)
    batch_size = get("batch_size")
    if batch_size is not None and (not _is_int(batch_size) or not 1 <= batch_size <= len(X)):
        raise ConfigError(f"training.batch_size: expected a whole number from 1 to the {len(X)} samples, "
                          f"got {batch_size!r}")
    batch_size = None if batch_size in (None, len(X)) else batch_size
    shuffle = _bool(get("shuffle"), "training.shuffle")
    batch = batch_size or len(X)
    batches = -(-len(X) // batch)

    lr = get("lr")
    if not is_number(lr) or not math.isfinite(lr) or lr <= 0:
        raise ConfigError(f"training.lr: expected a finite number > 0, got {lr!r}")
    epochs = get("epochs")
    if not _is_int(epochs) or epochs < 1:
        raise ConfigError(f"training.epochs: expected a whole number >= 1, got {epochs!r}")
    seed = get("seed")
    if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        shown = f"a {len(str(seed))}-digit number" if _is_int(seed) and len(str(seed)) > 30 else repr(seed)
        raise ConfigError(f"training.seed: expected a whole number from 0 to {MAX_SEED} (2**53 - 1), got {shown}")

    shapes = network.shapes(batch)
    init = {}
    for key, value in doc.get("init", {}).items():
        if key not in network.parameters():
            close = difflib.get_close_matches(key, network.parameters(), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "parameters of this network: " + ", ".join(network.parameters())
            raise ConfigError(f"unknown key init.{key}; {hint}")
        init[key] = matrix(value, f"init.{key}")
        if init[key].shape != shapes[key]:
            raise ConfigError(f"init.{key}: expected shape {_shape(shapes[key])}, got {_shape(init[key].shape)}")

    detail = get("detail")
    detail = [detail] if isinstance(detail, (int, str)) else detail
    if not isinstance(detail, list):
        raise ConfigError(f"workbook.detail: expected a list of epochs like [1, 2] or [\"last\"], got {detail!r}")
    epochs_detailed = [_update(e, epochs, batches, len(X) % batch) for e in detail]
    epochs_detailed = tuple(sorted(set(epochs_detailed)))
    if not epochs_detailed:
        raise ConfigError("workbook.detail: name at least one epoch to write step by step, like [1] or [\"last\"]")
    max_detail = get("max_detail")
    if not _is_int(max_detail) or max_detail < 1:
        raise ConfigError(f"workbook.max_detail: expected a whole number >= 1, got {max_detail!r}")
    if len(epochs_detailed) > max_detail:
        raise ConfigError(f"workbook.detail: {len(epochs_detailed)} epochs in detail, at most "
                          f"{max_detail} (each adds {len(network.steps())} sheets); detail fewer "
                          "epochs or raise workbook.max_detail")

    focus = get("focus")
    if not (isinstance(focus, list) and len(focus) == 2 and all(_is_int(f) and f >= 1 for f in focus)):
        raise ConfigError(f"workbook.focus: expected [row, col] counted from 1, got {focus!r}")
    results = [shapes[r] for s in network.steps() for r in s.results]
    if not any(focus[0] <= r and focus[1] <= c for r, c in results):
        largest = max(r for r, _ in results), max(c for _, c in results)
        raise ConfigError(f"workbook.focus: {focus} is outside every matrix of this network "
                          f"(at most [{largest[0]}, {largest[1]}])")

    every = get("history_every")
    if every is None:
        every = max(1, epochs // 1000)
    if not _is_int(every) or every < 1:
        raise ConfigError(f"workbook.history_every: expected a whole number >= 1, got {every!r}")

    live = get("live_epochs")
    if live is not None and (not _is_int(live) or live < 0):
        raise ConfigError(f"workbook.live_epochs: expected a whole number >= 0 (0: no Training sheet), got {live!r}")
    decimals = get("decimals")
    if not _is_int(decimals) or not 0 <= decimals <= 10:
        raise ConfigError(f"workbook.decimals: expected a whole number from 0 to 10, got {decimals!r}")
    lang = get("lang")
    from .text import catalog, languages
    if not isinstance(lang, str) or lang not in languages():
        raise ConfigError(f"workbook.lang: expected one of {', '.join(languages())}, got {lang!r}")
    catalog(lang)
    exercise = _bool(get("exercise"), "workbook.exercise")
    about = _about(get, network)
    map_inputs = _map(get("map"), X.shape[1], x_labels, y_labels, classes)
    if map_inputs is not None:  # its axes can be drawn (a ConfigError before any training)
        from .axes import axis
        for c in map_inputs:
            axis(X[:, c], name=f"column {input_names(X.shape[1], x_labels)[c]!r}")

    warnings = []
    fn = ACTIVATIONS["sigmoid" if shown_output == "softmax" else shown_output]  # softmax's range is sigmoid's
    if y.min() < fn.low or y.max() > fn.high:
        outside = y[(y < fn.low) | (y > fn.high)]
        warnings.append(f"data.y: {outside.size} target(s) outside the range of {activation} "
                        f"[{fn.low:g}, {fn.high:g}] (e.g. {outside.flat[0]:g}); the output can never reach them")
    return Config(X=X if not scaled else X_std, y=y, network=network, lr=float(lr), epochs=int(epochs), seed=int(seed),
                  init=init, detail=epochs_detailed, focus=(focus[0], focus[1]),
                  history_every=int(every), decimals=decimals, lang=lang, exercise=exercise, about=about,
                  **hyper,
                  predict=predict, name=name,
                  x_labels=x_labels, y_labels=y_labels, classes=classes, batch_size=batch_size, shuffle=shuffle,
                  warnings=tuple(warnings), inputs=inputs,
                  map_inputs=map_inputs, live_epochs=None if live is None else min(int(live), int(epochs)), **scaled)



def _update(entry, epochs: int, batches: int, short: int) -> int:
    """A ``workbook.detail`` entry as the number of its update, counted from 1 over the run:
    an epoch (its first batch), ``"epoch.batch"``, or ``"last"`` (the last update whose batch
    is full: a step sheet shows batch_size rows, and a shorter last batch has fewer)."""
    last = epochs * batches - (1 if short else 0)
    if entry == "last":
        return last
    if isinstance(entry, str) and re.fullmatch(r"\d+\.\d+", entry.strip()):
        e, b = map(int, entry.strip().split("."))
        if not 1 <= b <= batches:
            raise ConfigError(f"workbook.detail: {entry!r}: an epoch has {batches} batch(es), batch {b} is not one")
        if short and b == batches:
            raise ConfigError(f"workbook.detail: {entry!r}: the last batch of an epoch has {short} rows, not "
                              "batch_size; detail a full batch (step sheets show batch_size rows)")
    elif _is_int(entry):
        e, b = entry, 1
    else:
        raise ConfigError(f"workbook.detail: expected epochs >= 1, \"epoch.batch\" or \"last\", got {entry!r}")
    if e < 1:
        raise ConfigError(f"workbook.detail: expected epochs >= 1 or \"last\", got {entry!r}")
    if e > epochs:
        raise ConfigError(f"workbook.detail: epoch {e} is beyond training.epochs = {epochs}")
    return (e - 1) * batches + b


def _brief(value) -> str:
    """A value for a message, cut short when long: [3, 3, 3, 3, … (1,000 values)."""
    try:
        text = repr(value)
    except ValueError:  # an int of more digits than Python converts
        text = f"<a {type(value).__name__} too large to show>"
    if len(text) <= 80:
        return text
    cut = text.rfind(", ", 0, 60)
    return text[:cut if cut > 0 else 60] + ", …" + (f" ({len(value):,} values)" if isinstance(value, (list, tuple, str)) else "")


def _count(n: int) -> str:
    """A whole number for a message, or its order when it has too many digits to read."""
    return f"{n:,}" if abs(n) < 10**30 else "more than 10^30"


def _shape(s) -> str:
    return f"{s[0]}×{s[1]}"


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _bool(v, where: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(f"{where}: expected true or false, got {v!r}")
    return v


def input_names(d: int, x_labels) -> tuple[str, ...]:
    """The input columns' names: the CSV's header, or x1, x2, ... for inline data."""
    return tuple(x_labels) if x_labels else tuple(f"x{j + 1}" for j in range(d))


def _map(value, d: int, x_labels, y_labels, classes: bool = False) -> tuple[int, int] | None:
    """workbook.map: the two input columns the Map sheet draws. Two inputs: both, by default;
    more: only when named; ``[]`` turns the map off."""
    if value is None:
        return (0, 1) if d == 2 else None
    names = input_names(d, x_labels)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) not in (0, 2):
        raise ConfigError(f"workbook.map: expected two input column names like [{', '.join(map(repr, names[:2]))}] "
                          f"(or [] for no map), got {value!r}")
    if not value:
        return None
    for v in value:
        if v not in names and y_labels and v in y_labels and not classes:  # not a class label named like it
            raise ConfigError(f"workbook.map: {v!r} is a target column; name two input columns: {', '.join(names)}")
        if v not in names:
            raise ConfigError(f"workbook.map: no input column {v!r}; input columns: {', '.join(names)}")
    if value[0] == value[1]:
        raise ConfigError(f"workbook.map: name two different input columns, got {value[0]!r} twice")
    return names.index(value[0]), names.index(value[1])


def _about(get, network) -> dict:
    """[about]: which tutorial a preset reproduces (a key of the catalogs' ``tutorials``), the
    key of its result text (``results``), and its variable names mapped to the sheets'."""
    from .text import catalog

    about = {k: get(k) for k in ("tutorial", "result", "names") if get(k) is not None}
    english = catalog("en")
    for key, table in (("tutorial", "tutorials"), ("result", "results")):
        if key in about and (not isinstance(about[key], str) or f"{table}.{about[key]}.title" not in english
                             and f"{table}.{about[key]}.reported" not in english):
            raise ConfigError(f"about.{key}: no such {key} {about[key]!r}")
    names = about.get("names", {})
    known = set(network.names()) | {"X", "y", "lr"}
    if not isinstance(names, dict) or not all(isinstance(k, str) and v in known for k, v in names.items()):
        raise ConfigError(f"about.names: expected a table of the tutorial's names and the names of this "
                          f"network ({', '.join(sorted(known))}), got {names!r}")
    return about
