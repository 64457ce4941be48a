"""The ``stepviz`` command: a thin layer over the library that prints and never computes.

Arguments are parsed before anything heavy (numpy, pandas, XlsxWriter) is imported, so that
``stepviz --help`` starts faster than ``import numpy``; SIGINT, SIGTERM and SIGHUP are handled
from the first line of ``main`` on.
"""
from __future__ import annotations

import argparse
import math
import re
import signal
import sys
import warnings
from pathlib import Path

from . import interrupts
from .errors import StepvizError

SIGNALS = {"SIGINT": "interrupted", "SIGTERM": "terminated", "SIGHUP": "hung up"}
# a message is one line whatever text from a file it quotes: line breaks are shown escaped
ONE_LINE = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def say(kind: str, message) -> None:
    """``stepviz: <kind>: <message>`` on one line of stderr."""
    print(f"stepviz: {kind}: {str(message).translate(ONE_LINE)}", file=sys.stderr)


# bash's $'...' escapes: what a shell reads back as the same character
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v",
            "\f": "\\f", "\r": "\\r", "\x1b": "\\e"}


def shell_quoted(path: str) -> str:
    """A path printed on one line: as it is, or, when it holds a line break or another
    character a terminal does not show, in the shell's $'...' quoting (``$'a\\nb.xlsx'``),
    which bash and zsh read back as the same name."""
    if path.isprintable():
        return path

    def escaped(c: str) -> str:
        if c in _ESCAPES:
            return _ESCAPES[c]
        if c.isprintable() or c == " ":
            return c
        code = ord(c)
        return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return "$'" + "".join(map(escaped, path)) + "'"


RUN_EXAMPLES = """\
examples:
  stepviz run                                  # the tutorial's network -> output/seed-mlp.xlsx
  stepviz run seed-mlp --epochs 1000 --lr 0.5  # a preset with other settings
  stepviz run my.toml -o runs/my.xlsx          # your own config file (see README)
  stepviz run --hidden 8,4 --detail 1,last     # two hidden layers, first and last epoch in detail
  stepviz run --focus 2,1                      # highlight row 2, column 1 of every result
  stepviz run --optimizer adam --detail 1,2    # Adam's m, s and bias correction, live
  stepviz run --lang zh                        # the workbook in Chinese (or de: German)
  stepviz run --exercise -o student.xlsx       # a student copy: type each yellow cell, get ✓ or ✗
"""

PRESETS_EXAMPLES = """\
example:
  stepviz presets          # then: stepviz run NAME
"""


SHOW_EXAMPLES = """\
examples:
  stepviz show output/seed-mlp.xlsx --step 8                 # step 8 of the first detailed epoch
  stepviz show output/seed-mlp.xlsx --step 11 --name wh      # one matrix of a step
  stepviz show output/xor.xlsx --step 3 --epoch 10000 | less # pipes stay plain text
"""

DIFF_EXAMPLES = """\
examples:
  stepviz run -o a.xlsx && stepviz run --lr 0.5 -o b.xlsx
  stepviz diff a.xlsx b.xlsx               # which steps moved, largest first
  stepviz diff a.xlsx b.xlsx --tol 1e-12   # exit 1 if any value differs by more
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's usage block is noise here)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="stepviz", description="Backpropagation, step by step, as a live spreadsheet.",
                epilog=RUN_EXAMPLES + "\nRun 'stepviz COMMAND --help' for the options of a command.",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"stepviz {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="train a network and write its step-by-step workbook",
                         description="Train a network from a preset or a TOML config file and write "
                         "the workbook: one sheet per step of each detailed epoch, every computed cell "
                         "a live formula, the active cell yellow and its sources orange.",
                         epilog=RUN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("source", nargs="?", metavar="PRESET|CONFIG",
                     help="a preset name (see 'stepviz presets') or a .toml file (default: seed-mlp)")
    run.add_argument("-o", "--output", metavar="OUT.xlsx",
                     help="where to write the workbook: a new or an existing .xlsx file, never an "
                     "input of the run (default: output/<name>.xlsx, named after the config file, "
                     "preset or --csv file; a folder given here must exist)")
    run.add_argument("--epochs", type=int, help="training epochs (full-batch passes)")
    run.add_argument("--lr", type=float, help="learning rate")
    run.add_argument("--seed", type=int, help="seed of the uniform(0, 1) initial weights")
    run.add_argument("--hidden", type=_ints, metavar="H[,H...]",
                     help="hidden layer sizes: 3, or 8,4 for two layers, or 0 for none (a perceptron)")
    run.add_argument("--detail", type=_detail, metavar="E[,E...]",
                     help="epochs written step by step: 1,2,500 or last; with mini-batches "
                     "epoch.batch, like 1.1,1.2")
    run.add_argument("--focus", type=_ints, metavar="ROW,COL",
                     help="the active (yellow) cell of each result, counted from 1 (default 1,1)")
    run.add_argument("--activation", choices=["sigmoid", "tanh", "relu"], help="activation of every layer")
    run.add_argument("--loss", choices=["error", "sse", "ce", "bce"],
                     help="error: ½ΣE² (the tutorial), sse: ΣE², ce: cross-entropy (with a softmax output, "
                     "set in the config's [network] output), bce: binary cross-entropy (sigmoid output)")
    run.add_argument("--batch-size", type=int, metavar="B",
                     help="samples per update (mini-batches; default: all samples, one update per epoch)")
    run.add_argument("--optimizer", choices=["gd", "momentum", "adam"],
                     help="gd: the tutorial's plain updates (default); momentum or adam: their state on "
                     "the update sheets (momentum, beta1, beta2, eps in the config's [training])")
    run.add_argument("--history-every", type=int, metavar="K", help="History sheet: every K-th epoch")
    run.add_argument("--live-epochs", type=int, metavar="N",
                     help="Training sheet: the first N epochs as live formulas (0: no Training sheet; "
                          "default: every epoch, or as many as its budget allows)")
    run.add_argument("--csv", metavar="FILE.csv", help="training data from a CSV file with a header row")
    run.add_argument("--target", type=_names, metavar="COL[,COL...]", help="the CSV's target columns")
    run.add_argument("--max-detail", type=int, metavar="N", help="allow more than 50 detailed epochs")
    run.add_argument("--decimals", type=int, metavar="D",
                     help="fewest decimals shown in the sheets (default 3); small values get more")
    run.add_argument("--lang", metavar="LANG", help="language of the workbook's texts: en, zh or de (default en)")
    run.add_argument("--exercise", action="store_true", default=None,
                     help="a student copy: type the value of each yellow cell, the sheet says ✓ or ✗")
    run.add_argument("--map", type=_names, metavar="A,B",
                     help="the two input columns the Map sheet draws (default: both, when there are two; "
                     "other inputs are held at their mean)")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="print only the output path (no summary, warnings or progress bar)")

    sub.add_parser("presets", help="list the built-in networks", description="List the presets: "
                   "the networks of the tutorials stepviz is based on.", epilog=PRESETS_EXAMPLES,
                   formatter_class=argparse.RawDescriptionHelpFormatter)
    show = sub.add_parser("show", help="print the matrices of one step of a workbook",
                          description="Print the matrices a step produced, as aligned tables, "
                          "with the step's formula in words on top. Reads the workbook's Trace sheet.",
                          epilog=SHOW_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    show.add_argument("file", metavar="FILE.xlsx", help="a workbook written by stepviz")
    show.add_argument("--step", type=int, required=True, help="step number (see the Overview)")
    show.add_argument("--epoch", type=_epoch_name, help="an epoch (default: the first detailed); with "
                      "mini-batches an update, 3.2 (epoch 3, batch 2); one without step sheets prints its "
                      "row of the Training sheet")
    show.add_argument("--name", help="only this matrix, e.g. d_output")
    show.add_argument("--decimals", type=_whole(0, 17), default=6, help="decimals shown, 0 to 17 (default 6)")

    diff = sub.add_parser("diff", help="largest differences between two workbooks, per step and name",
                          description="Compare the Trace sheets of two workbooks: for each epoch, step "
                          "and name, the largest absolute difference, largest first. Exit 0, or with "
                          "--tol, exit 1 when any difference exceeds the tolerance.",
                          epilog=DIFF_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    diff.add_argument("a", metavar="A.xlsx")
    diff.add_argument("b", metavar="B.xlsx")
    diff.add_argument("--tol", type=_tolerance, help="exit 1 if any difference exceeds this (a number >= 0)")
    klass = sub.add_parser("class", help="a workbook per student of a roster, each with its own numbers",
                           description="Write DIR/handout/<id>.xlsx for each student of ROSTER.csv (a header "
                           "with an 'id' column, optionally 'name'; ',' or ';'), each with its own start values, and "
                           "DIR/class.toml, the teacher's SECRET file (every key follows from it: never hand it out). "
                           "Hand out DIR/handout as it is.",
                           epilog="example:\n  stepviz class roster.csv -o class1\n  stepviz grade class1 returned/",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    klass.add_argument("roster", metavar="ROSTER.csv")
    klass.add_argument("source", nargs="?", metavar="PRESET|CONFIG", help="default: seed-mlp")
    klass.add_argument("-o", "--output", required=True, metavar="DIR", help="the class folder")
    klass.add_argument("--mode", choices=("assessment", "practice"), default="assessment",
                       help="assessment: no check or answer in the files (default); practice: live ✓/✗")
    klass.add_argument("--lang", choices=("en", "zh", "de"))
    klass.add_argument("--vary-data", action="store_true", help="each student gets their own inputs X too")
    klass.add_argument("--secret", metavar="HEX", help="the course secret (default: a new random one)")
    klass.add_argument("-q", "--quiet", action="store_true")
    grade = sub.add_parser("grade", help="grade returned workbooks of a class, with error carried forward",
                           description="Grade each return (.xlsx, .xlsm, .ods, .xls; folders are searched, one "
                           "folder per student as LMSs download them) against its student's key, rebuilt from "
                           "DIR/class.toml; merge DIR/grades.csv (one row per roster student, one per file of no "
                           "student) and write DIR/feedback/<id>.html.",
                           epilog="examples:\n  stepviz grade class1 returned/     # a folder of returned workbooks\n"
                           "  stepviz grade class1 late/li.ods   # a late file: its student's row is updated\n"
                           "  stepviz grade class1 returned/ --gradebook moodle   # also DIR/gradebook-moodle.csv",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    grade.add_argument("folder", metavar="DIR")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION", help="returned files or folders of them")
    grade.add_argument("--gradebook", choices=("moodle", "canvas"),
                       help="also write DIR/gradebook-LMS.csv to import the scores into an LMS")
    grade.add_argument("-q", "--quiet", action="store_true")

    doctor = sub.add_parser("doctor", help="say whether a file is a valid stepviz workbook, and what it holds",
                            description="Check a workbook you received: was it written by stepviz, which "
                            "version and settings, are its sheets complete and its Trace all numbers. "
                            "Exit 0 if valid, 1 if damaged, 2 if not a stepviz workbook.",
                            epilog="example:\n  stepviz doctor output/seed-mlp.xlsx",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    doctor.add_argument("file", metavar="FILE.xlsx")
    return p


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None


def _whole(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {text!r}")
        return value
    return parse


def _epoch_name(text: str) -> str:
    """An epoch (3) or an update (3.2: epoch 3, batch 2), as the sheets name them."""
    if not re.fullmatch(r"\d{1,9}(\.\d{1,9})?", text):
        raise argparse.ArgumentTypeError(f"expected an epoch (3) or an update (3.2), got {text!r}")
    return ".".join(str(int(part)) for part in text.split("."))


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _detail(text: str) -> list:
    out = []
    for t in text.split(","):
        t = t.strip()
        if t == "last":
            out.append(t)
        elif t:
            try:
                out.append(int(t))
            except ValueError:
                if re.fullmatch(r"\d+\.\d+", t):  # epoch.batch
                    out.append(t)
                    continue
                raise argparse.ArgumentTypeError(f"expected epochs like 1,2,500 or last, got {text!r}") from None
    return out


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def cmd_class(args) -> int:
    from .classroom import make_class, read_roster

    n = len(read_roster(args.roster))
    with _progress(n, "writing", "student", args.quiet) as bar:
        written = make_class(args.roster, args.source, args.output, mode=args.mode, lang=args.lang,
                             vary_data=args.vary_data, secret=args.secret, progress=bar.update)
    if not args.quiet:
        print(f"{len(written)} workbooks in {shell_quoted(str(Path(args.output) / 'handout'))} (hand them out); "
              f"the teacher's secret file {shell_quoted(str(Path(args.output) / 'class.toml'))} (keep it to yourself)")
    return 0


def cmd_grade(args) -> int:
    from .gradebook import grade_folder

    table = grade_folder(args.folder, args.submissions, quiet=args.quiet, gradebook=args.gradebook)
    if not args.quiet:
        print(table)
    return 0


def cmd_run(args) -> int:
    from .config import display_name, load_config
    from .engine import train
    from .workbook import WARN_CELLS, WorkbookError, check_destination, estimate, write_workbook
    from .workbook.limits import check_training

    hidden = args.hidden
    if hidden == [0]:
        hidden = []
    config = load_config(args.source, epochs=args.epochs, lr=args.lr, seed=args.seed, hidden=hidden,
                         detail=args.detail, focus=args.focus, history_every=args.history_every,
                         live_epochs=args.live_epochs,
                         activation=args.activation, loss=args.loss, max_detail=args.max_detail,
                         batch_size=args.batch_size,
                         decimals=args.decimals, lang=args.lang, exercise=args.exercise, optimizer=args.optimizer,
                         csv=args.csv and str(Path(args.csv).resolve()), target=args.target,
                         map=args.map)
    default = args.output is None
    out = Path("output") / f"{config.name}.xlsx" if default else Path(args.output)
    # before any work: where the workbook goes, Excel's limits, the workbook's size and the
    # training time (each refusal names the option to change)
    check_destination(args.output or out, config.inputs, make_folder=default)
    size = estimate(config)
    check_training(config)
    for warning in () if args.quiet else config.warnings:
        say("warning", warning)
    if size.cells > WARN_CELLS and not args.quiet:
        say("warning", f"about {size.cells:,} cells in {size.sheets} sheets, ~{size.megabytes:.0f} MB, "
            f"~{size.seconds:.0f} s to write")
    with _progress(config.epochs, "training", "epoch", args.quiet) as bar:
        run = train(config, progress=bar.update)
    made = default and not out.parent.exists()
    try:
        try:
            out.parent.mkdir(exist_ok=True)
        except OSError as e:
            raise WorkbookError(f"{out.parent}: cannot make the output folder ({e.strerror})") from None
        with _progress(size.sheets - 3, "writing", "sheet", args.quiet) as bar:
            write_workbook(run, out, progress=bar.update)
    except BaseException:
        if made:  # the folder we made for it, now empty
            _remove_empty(out.parent)
        raise
    print(shell_quoted(display_name(str(out))))
    if args.quiet:
        return 0
    print(summary(run))
    return 0


SHOWN_SAMPLES = 10  # the summary lists this many samples, then says how many more


def summary(run) -> str:
    """What `stepviz run` prints after the path: the final loss, the first samples' targets
    and outputs, the accuracy when the targets are classes, and the predictions."""
    from .data import correct
    from .display import plain

    config = run.config
    y, out = config.y, run.output
    detailed = f"detailed batch(es) of {config.batch}" if config.batches > 1 else "detailed epoch(s)"
    lines = [f"{len(run.steps)} steps × {len(run.detail)} {detailed}; final loss {run.loss:.6g} "
             f"after {config.epochs} epochs"]
    k = y.shape[1]
    labels = config.y_labels or [f"y{j + 1}" if k > 1 else "y" for j in range(k)]
    named = config.classes or config.network.output == "softmax"  # one class per column: name the winner
    head = ["sample"] + [f"target {l}" for l in labels] + [f"output {l}" for l in labels] + (
        ["predicted"] if named else [])
    widths = [max(10, len(h)) for h in head]
    if named:
        widths[-1] = max(len(l) for l in labels) + 9
    lines.append("  ".join(f"{h:>{w}}" for h, w in zip(head, widths)))
    for i in range(min(len(y), SHOWN_SAMPLES)):
        cells = [f"{i + 1}"] + [f"{v:.4g}" for v in y[i]] + [plain(v, 4) for v in out[i]] + (
            [_winner(labels, out[i])] if named else [])
        lines.append("  ".join(f"{c:>{w}}" for c, w in zip(cells, widths)))
    if len(y) > SHOWN_SAMPLES:
        lines.append(f"{'…':>10}  {len(y) - SHOWN_SAMPLES} more samples: see the workbook's Overview")
    hits = correct(y, out)
    if hits is not None:  # classes: binary targets, or one-hot rows
        right = int(hits.sum())
        lines.append(f"accuracy {right / len(y):.0%} ({right} of {len(y)} samples)")
    if config.predict is not None:
        for row, p in zip(config.predict, run.predict(config.predict)):
            line = f"predict [{', '.join(f'{v:g}' for v in row)}] -> "
            if named:
                line += _winner(labels, p) + " (" + ", ".join(f"{l} {v:.4f}" for l, v in zip(labels, p)) + ")"
            else:
                line += ", ".join(f"{v:.8f}" for v in p)
            lines.append(line)
    return "\n".join(lines)


def _winner(labels, p) -> str:
    """The predicted class and its probability: ``setosa 0.8763``."""
    k = int(p.argmax())
    return f"{labels[k]} {p[k]:.4f}"


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _progress(total, desc, unit, quiet):
    """A progress bar on stderr, shown only on a terminal and only when the work lasts."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, delay=0.5, leave=False, file=sys.stderr,
                disable=quiet or not sys.stderr.isatty())


def cmd_presets(args) -> int:
    from .config import presets

    items = presets()
    width = max(map(len, items))
    for name, line in items.items():
        print(f"{name:<{width}}  {line}")
    return 0


def cmd_show(args) -> int:
    from .analysis import matrix
    from .reader import _batches, _label, properties, read_trace, step_sheet
    from .table import AFTER, label

    trace = read_trace(args.file)
    props = properties(args.file)
    batches = _batches(args.file, props.get("batches", 1))
    updates = sorted(trace.epoch.unique())  # the Trace counts updates over the run
    name = _label(updates[0], batches) if args.epoch is None else args.epoch
    epoch = _update_of(name, batches)
    if epoch not in updates:
        table = _training_table(args.file, props)
        at = table[table.epoch == label(name)] if table is not None else ()
        if not len(at):
            rows = [] if table is None else [e for e in table.epoch if e != AFTER]
            raise StepvizError(_no_epoch(args.file, name, batches, [_label(u, batches) for u in updates], rows))
        return _show_training_row(args, name, at.iloc[0])
    at = trace[(trace.epoch == epoch) & (trace.step == args.step)]
    if at.empty:
        raise StepvizError(f"no step {args.step} in {args.file}; steps are 1 to {trace.step.max()}")
    names = list(dict.fromkeys(at.name))
    if args.name is not None and args.name not in names:
        raise StepvizError(f"step {args.step} has no matrix {args.name!r}; it has: {', '.join(names)}")
    sheet = step_sheet(args.file, epoch, args.step)
    if sheet:
        print(f"{sheet[0]}: {sheet[1]}")
    from .display import plain

    fmt = lambda v: plain(v, args.decimals)  # noqa: E731
    for name in names if args.name is None else [args.name]:
        m = matrix(trace, name, epoch=epoch, step=args.step)
        print(f"\n{name}  ({m.shape[0]}×{m.shape[1]})")
        print(m.to_string(float_format=fmt))
    return 0


def _update_of(name: str, batches: int) -> int | None:
    """The update (counted over the run, as the Trace counts) an --epoch names: epoch E without
    mini-batches, E.B with them; None when the name is not an update of the workbook."""
    parts = [int(p) for p in name.split(".")]
    if len(parts) != (1 if batches == 1 else 2) or not all(parts) or parts[-1] > batches:
        return None
    return parts[0] if batches == 1 else (parts[0] - 1) * batches + parts[1]


def _no_epoch(path, name: str, batches: int, detailed: list[str], rows: list) -> str:
    """The one-line error for an --epoch that has neither step sheets nor a Training row
    (``rows``: the Training sheet's row labels, [] without one)."""
    parts = [int(p) for p in name.split(".")]
    ours = [r for r in rows if str(r).startswith(f"{name}.")]
    if batches > 1 and len(parts) == 1 and ours:
        return (f"{path} trains in {batches} mini-batches an epoch: epoch {name} is the updates {name}.1 to "
                f"{name}.{batches}; ask for one, e.g. --epoch {ours[min(1, len(ours) - 1)]}")
    if batches == 1 and len(parts) == 2:
        return f"{path} has no mini-batches: ask for a whole epoch, e.g. --epoch {parts[0]}"
    if batches > 1 and len(parts) == 2 and not 1 <= parts[1] <= batches:
        return f"an epoch of {path} has {batches} batches: ask for {parts[0]}.1 to {parts[0]}.{batches}"
    what, kind = "update" if len(parts) == 2 else "epoch", "update" if batches > 1 else "epoch"
    where = f"; the Training sheet has rows {_spans(rows, batches)}" if rows else ""
    return f"{what} {name} is not detailed in {path}; detailed {kind}s: {_spans(detailed, batches)}{where}"


def _spans(labels: list, batches: int) -> str:
    """Row labels in short: runs of consecutive epochs (updates) as "1 to 62", at most six parts."""
    def update(x):
        e, _, b = str(x).partition(".")
        return (int(e) - 1) * batches + (int(b) if b else 1)  # a whole epoch: its start

    runs: list[list] = []
    for x in labels:
        if runs and update(x) == update(runs[-1][-1]) + 1:
            runs[-1][1:] = [x]
        else:
            runs.append([x])
    parts = [" to ".join(map(str, r)) for r in runs]
    return ", ".join(parts if len(parts) <= 6 else [*parts[:3], "…", *parts[-2:]])


def _training_table(path, props: dict):
    """The workbook's Training table (stepviz.read_training), or None without one."""
    from .reader import NotAWorkbookError, read_training

    if "training_sheet" not in props:
        return None
    try:
        return read_training(path)
    except NotAWorkbookError:
        return None


def _show_training_row(args, name: str, row) -> int:
    """The values the Training sheet holds for an epoch (an update) that has no step sheets:
    its loss, the parameters and state it started from and the values its row keeps, as
    matrices."""
    import numpy as np
    import pandas as pd

    from .display import plain

    if "." in name:
        e, b = name.split(".")
        what, kind = f"update {name} (epoch {e}, batch {b}; the loss is its batch's)", "update"
    else:
        what, kind = f"epoch {name}", "epoch"
    print(f"{what} from the Training sheet (no step sheets: --step is not used); parameters as the {kind} started")
    groups: dict[str, dict] = {}
    for col, v in row.items():
        m = re.fullmatch(r"(.+)\[(\d+),(\d+)\]", str(col))
        if m and (args.name is None or m.group(1) == args.name) and pd.notna(v):
            groups.setdefault(m.group(1), {})[(int(m.group(2)), int(m.group(3)))] = float(v)
    if args.name is None:
        print(f"\nloss  {plain(float(row['loss']), args.decimals)}")
    elif not groups:
        raise StepvizError(f"the Training sheet has no matrix {args.name!r}")
    for name, cells in groups.items():
        rows, cols = max(i for i, _ in cells), max(j for _, j in cells)
        a = np.full((rows, cols), np.nan)
        for (i, j), v in cells.items():
            a[i - 1, j - 1] = v
        frame = pd.DataFrame(a, index=range(1, rows + 1), columns=range(1, cols + 1))
        print(f"\n{name}  ({rows}×{cols})")
        print(frame.to_string(float_format=lambda v: plain(v, args.decimals)))
    return 0


def cmd_diff(args) -> int:
    import math

    import numpy as np

    from .analysis import compare

    d = compare(args.a, args.b).sort_values("max_abs_diff", ascending=False, kind="stable")
    print(d.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    missing = int(np.isinf(d.max_abs_diff).sum())
    if missing:
        print(f"stepviz: note: {missing} matrices are in only one of the two workbooks (shown as inf): "
              "other networks or other detailed epochs", file=sys.stderr)
    if args.tol is None:
        return 0
    over = d[d.max_abs_diff > args.tol]
    worst = d.max_abs_diff.max() if len(d) else 0.0
    if len(over):
        what = "differ or are missing" if math.isinf(worst) else f"differ by up to {worst:.3g}"
        print(f"{len(over)} of {len(d)} matrices {what} (> tol {args.tol:g})", file=sys.stderr)
        return 1
    return 0


def cmd_doctor(args) -> int:
    from .reader import inspect

    info = inspect(args.file)
    s = info["settings"]
    status = "a valid stepviz workbook" if not info["problems"] else "a damaged stepviz workbook"
    print(f"{args.file}: {status}, written by stepviz {s.get('version', '?')}")
    rows = [("name", s.get("name")), ("network", s.get("network")), ("samples", s.get("samples")),
            ("lr", s.get("lr")), ("epochs", s.get("epochs")), ("seed", s.get("seed")),
            ("final loss", s.get("final_loss")),
            ("step sheets", f"{info['step_sheets']} (detailed epochs: {', '.join(map(str, info['epochs']))})"
             if "batches" not in info["settings"] else
             f"{info['step_sheets']} (detailed batches: {info['settings'].get('detail', '')}; the Trace counts them "
             f"as updates {', '.join(map(str, info['epochs']))})"),
            ("trace values", info["trace_values"])]
    for key, value in rows:
        print(f"  {key:<13}{value}")
    for problem in info["problems"]:
        print(f"  problem: {problem}")
    return 1 if info["problems"] else 0


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP, raised where the program was, so every cleanup runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame):
    for name in SIGNALS:  # a second signal must not interrupt the cleanup of the first
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Interrupted(signum)


def _handle_signals() -> dict:
    """Install the handler for SIGINT, SIGTERM and SIGHUP, except where a signal is ignored
    (``nohup`` ignores SIGHUP); return the handlers it replaced."""
    previous = {}
    for name in SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None or signal.getsignal(sig) == signal.SIG_IGN:
            continue
        try:
            previous[name] = signal.signal(sig, _on_signal)
        except ValueError:  # not the main thread: leave signals alone
            break
    return previous


def main(argv=None) -> int:
    previous = _handle_signals()  # first: Ctrl-C during start-up is handled too
    try:
        with interrupts.kept(), warnings.catch_warnings():
            # XlsxWriter warns where it leaves content out: an error here, never a second line
            # of stderr under -q, never a workbook missing a cell
            warnings.filterwarnings("error", module=r"xlsxwriter(\.|$)")
            return _main(argv)
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        print(f"stepviz: {SIGNALS.get(signal.Signals(signum).name, 'interrupted')}", file=sys.stderr)
        return 128 + signum
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler if handler is not None else signal.SIG_DFL)


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("a command is needed: run, presets, show, diff, doctor, class or grade")
    commands = {"run": cmd_run, "presets": cmd_presets, "show": cmd_show, "diff": cmd_diff,
                "doctor": cmd_doctor, "class": cmd_class, "grade": cmd_grade}
    try:
        return commands[args.command](args)
    except StepvizError as e:
        say("error", e)
        return 2
    except BrokenPipeError:
        return 0
    except MemoryError:
        say("error", "out of memory; use a smaller configuration")
        return 2
    except OSError as e:  # the library reports its own; this is a last resort, still one line
        where = f"{e.filename}: " if e.filename else ""
        say("error", f"{where}{e.strerror or e}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
