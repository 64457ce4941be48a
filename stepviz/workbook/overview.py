"""The Overview: what the workbook holds, the settings (lr is edited here), which values are
live, the legend of every style, the training's results and the table of contents."""
from __future__ import annotations

from ..data import correct, one_hot_rows
from ..display import shown
from . import achieved, printing, validation
from .core import Cells, absolute
from .styles import ROLES
from .layout import text_width
from .inputs import has_inputs
from .inputs import sheet_name as inputs_name
from .map_sheet import has_map, sheet_name
from .network import first_update_text, write_network

LABEL, VALUE = 0, 1  # the columns of the settings table


def write_overview(book, ws) -> None:
    run, cfg, msg, st = book.run, book.config, book.msg, book.styles
    net = cfg.network
    cells = Cells()
    cells.text(0, 0, msg("overview.title", name=cfg.name), st.title)
    r = 1
    intro = "overview.intro_live" if not book.exercise else (
        "overview.intro_assessment" if book.assessment else "overview.intro_exercise")
    for key in ("overview.intro", intro):
        cells.text(r, 0, msg(key))
        r += 1
    if cfg.student:  # a class's workbook: whose it is (stepviz class)
        sid, name = cfg.student
        cells.text(r, 0, f"{msg('overview.student')}: " + (f"{name} ({sid})" if name else sid), st.bold)
        r += 1

    if cfg.about:
        r = _tutorial(book, cells, r + 1)
    r += 1
    cells.text(r, 0, msg("overview.settings"), st.bold)
    detail = run.detail
    chain = _chain(detail)
    bias = msg("overview.no_bias") if not net.bias else "" if net.train_bias else msg("overview.frozen_bias")
    rows = [
        ("network", " → ".join(str(s) for s in (net.inputs, *net.hidden, net.outputs)) + f", {net.activation}"
         + (", " + msg("overview.output_layer", name=net.output) if net.output else "") + (f", {bias}" if bias else "")),
        ("samples", len(cfg.X)),
        ("lr", cfg.lr),
        ("epochs", cfg.epochs),
        ("seed", cfg.seed if not cfg.init else msg("overview.seed_given", seed=cfg.seed, names=", ".join(cfg.init))),
        ("detail", ", ".join(map(cfg.label, detail))),
        ("history_every", cfg.history_every),
        ("loss", msg("overview.loss_" + net.loss)),
    ]
    if cfg.batches > 1:  # mini-batches: one update per batch
        order = msg("overview.shuffled" if cfg.shuffle else "overview.in_order")
        rows.insert(4, ("batch_size", msg("overview.batches", size=cfg.batch, batches=cfg.batches, order=order)))
    if has_inputs(book):  # standardised inputs: where they are computed
        rows.insert(2, ("inputs", msg("inputs.setting", sheet=inputs_name(book))))
    if net.optimizer != "gd":  # plain gradient descent: the tutorial's, nothing to add
        rows += [("optimizer", msg("overview.optimizer_" + net.optimizer)),
                 *((name, getattr(cfg, name)) for name in net.constants()[1:])]
    for key, value in rows:
        r += 1
        cells.text(r, LABEL, msg(f"overview.{key}"))
        if isinstance(value, str):
            cells.text(r, VALUE, value)
        elif key in net.constants():  # lr and the optimizer's: read by every step sheet
            cells.put(r, VALUE, "number", value, st.cell("input"))
            validation.number(ws, msg, (r, VALUE), name=key)
            book.constants[key] = (value, (r, VALUE))
            hint = ""
            if key == "lr":
                hint = "overview.lr_exercise" if book.exercise else (
                    ("overview.lr_chain" if len(chain) > 1 else "overview.lr_one")
                    + ("" if len(chain) == len(detail) else "_partial"))
                hint = msg(hint, chain=_epochs(chain, cfg.label), others=_epochs(detail[len(chain):], cfg.label))
            if hint:  # a pasted text (validation stops typing only) says why the sheets show #VALUE!
                cells.put(r, VALUE + 1, "formula", validation.hint_or_warning(
                    (r, VALUE), hint, msg("validation.warning", name=key)), st.words, hint)
        elif key not in net.constants() and not isinstance(value, str):
            cells.put(r, VALUE, "number", value, st.left)
    if achieved.enabled(book):  # the step of the gradient checks on the update sheets
        r += 1
        cells.text(r, LABEL, msg("check.h"))
        cells.put(r, VALUE, "number", achieved.H, st.cell("input"))
        validation.number(ws, msg, (r, VALUE), name="h")
        cells.put(r, VALUE + 1, "formula", validation.hint_or_warning(
            (r, VALUE), msg("check.h_hint"), msg("validation.warning", name="h")), st.words, msg("check.h_hint"))
        book.constants["h"] = (achieved.H, (r, VALUE))

    r += 2
    cells.text(r, 0, msg("overview.legend"), st.bold)
    for role in (r for r in ROLES if r != "answer" or book.exercise):  # each swatch shows a number the way that role shows it
        r += 1
        cells.put(r, LABEL, "number", 0.5, st.swatch(role))
        exercise = book.exercise and role == "focus"  # exercise sheets have no focus to move
        cells.text(r, VALUE, msg("legend.focus_exercise" if exercise else f"legend.{role}"))

    if not book.exercise:  # results would give the answers away
        r += 2
        cells.text(r, 0, msg("overview.live"), st.bold)
        loss_step = next(s for s in run.steps if "loss" in s.results)
        for e in detail:
            r += 1
            if cfg.batches > 1:  # an update is a batch: "loss in batch 1 of epoch 1"
                epoch, batch = cfg.label(e).split(".")
                cells.text(r, LABEL, msg("overview.live_loss_batch", epoch=epoch, batch=batch))
            else:
                cells.text(r, LABEL, msg("overview.live_loss", epoch=e))
            block = book.result_block(loss_step, "loss")
            value = float(run.value(e, loss_step.number, "loss")[0, 0])
            fmt = st.cell("link", shown([value], cfg.decimals + 2).num_format)
            cells.put(r, VALUE, "formula", "=" + absolute(book.sheet_name(e, loss_step), block.cell(0, 0)), fmt, value)
            if not achieved.enabled(book):
                continue
            r += 1  # and the loss the update of that epoch gives, from its last sheet
            cells.text(r, LABEL, msg("check.live_after", epoch=cfg.label(e)))
            after = achieved.after_value(book, e)
            cells.put(r, VALUE, "formula", "=" + absolute(book.sheet_name(e, run.steps[-1]), achieved.after_cell(book)),
                      st.cell("link", shown([after], cfg.decimals + 2).num_format), after)
        r += 2
        live = book.training is not None and book.training.epoch_row(cfg.epochs) is not None
        cells.text(r, 0, msg("overview.trained_live" if live else "overview.trained", epochs=cfg.epochs), st.bold)
        r += 1
        cells.text(r, LABEL, msg("overview.final_loss"))
        last = book.training.epoch_row(cfg.epochs) if book.training else None
        if last is None:
            cells.put(r, VALUE, "number", run.loss, st.cell("trained", shown([run.loss], cfg.decimals + 2).num_format))
        else:  # the Training sheet's last epoch: it follows an edit of lr
            cells.put(r, VALUE, "formula", book.training.link(last, "loss", 0, 0),
                      st.cell("link", shown([run.loss], cfg.decimals + 2).num_format), run.loss)
        r = _predictions(book, cells, r + 2)

    if has_map(book):  # the weights as pictures, beside the Map sheet
        r = write_network(book, ws, cells, r + 2)
    r += 2
    cells.text(r, 0, msg("overview.contents"), st.bold)
    for e in detail:
        for s in run.steps:
            r += 1
            name = book.sheet_name(e, s)
            cells.link(r, LABEL, name, "A1", name, st.link)
            cells.text(r, VALUE + 1, ";   ".join(c.words(msg) for c in s.computes))
    if not book.exercise:
        r += 2
        cells.link(r, LABEL, book.history, "A1", book.history, st.link)
        cells.text(r, VALUE + 1, msg("overview.history_about"))
        cells.link(r + 1, LABEL, "Trace", "A1", "Trace", st.link)
        cells.text(r + 1, VALUE + 1, msg("overview.trace_about"))
        if book.training:
            r += 1
            cells.link(r + 1, LABEL, book.training.name, "A1", book.training.name, st.link)
            cells.text(r + 1, VALUE + 1, _training_about(book))
        if has_map(book):
            cells.link(r + 2, LABEL, sheet_name(book), "A1", sheet_name(book), st.link)
            cells.text(r + 2, VALUE + 1, first_update_text(book, "map.map_about", detail[0]))
    elif not book.assessment:  # a practice workbook says where the whole training is
        r += 2
        cells.text(r, LABEL, msg("training.practice"), st.words)
    if has_inputs(book):  # the preprocessing step: the data as read, standardised
        r += 1 if book.exercise else 3 + has_map(book)
        cells.link(r, LABEL, inputs_name(book), "A1", inputs_name(book), st.link)
        cells.text(r, VALUE + 1, msg("inputs.about"))

    width = max([text_width(msg(f"overview.{k}")) for k, _ in rows]
                + [text_width(msg("check.h")), text_width(msg("check.live_after", epoch=detail[-1] if detail else 1))]) + 2
    ws.set_column(LABEL, LABEL, max(22, width))
    ws.set_column(VALUE, VALUE + 12, 14)
    # printed one page wide, its long texts wrapped, as far right as its texts run
    widths = lambda c: max(22, width) if c == LABEL else 14  # noqa: E731
    printing.wrap_long(ws, cells, widths, st)
    printing.page(ws, r + 2, printing.text_right(cells, widths))
    ws.protect()
    cells.flush(ws)


def _training_about(book) -> str:
    plan, msg = book.training, book.msg
    if plan.all_live:
        return msg("training.overview_all")
    return msg("training.overview_some", last=book.config.label(plan.live))


def _tutorial(book, cells, r) -> int:
    """The preset's tutorial: its title, its names against the sheets', what it reports
    against what this workbook shows, and why they differ."""
    run, cfg, msg, st = book.run, book.config, book.msg, book.styles
    about = cfg.about
    cells.text(r, 0, msg("tutorial.heading"), st.bold)
    if "tutorial" in about:
        r += 1
        cells.text(r, 0, msg(f"tutorials.{about['tutorial']}.title"))
    if "names" in about:
        r += 1
        cells.text(r, 0, msg("tutorial.names") if about["names"] else msg("tutorial.same_names"))
        for theirs, ours in about["names"].items():
            r += 1
            cells.text(r, LABEL, theirs, st.header)
            cells.text(r, VALUE, "→ " + ours)
    if "result" in about and not book.exercise:  # stepviz's results would give answers away
        values = dict(outputs=_numbers(run.output.ravel()), loss=f"{run.loss:.6g}", seed=cfg.seed,
                      epochs=cfg.epochs, weights=_numbers(run.params["wout"].ravel()),
                      labels=", ".join(cfg.x_labels or ()),
                      prediction=_numbers(run.predict(cfg.predict).ravel()) if cfg.predict is not None else "",
                      accuracy=_accuracy(cfg.y, run.output))
        for part in ("reported", "differs"):
            r += 1
            cells.text(r, 0, msg(f"results.{about['result']}.{part}", **values))
    return r + 1


def _accuracy(y, output) -> str:
    """The share of samples the output names right (stepviz.data.correct), as ``96% (144 of 150)``."""
    right = correct(y, output)
    return f"{right.mean():.0%} ({int(right.sum())} of {len(y)})" if right is not None else ""


def _accuracy_cells(book, cells, first: int, last: int) -> int:
    """Beside the targets and outputs of rows ``first``..``last`` (targets that are classes): a
    column saying whether each sample is right (1) or not (0), as stepviz.data.correct counts it,
    and under it the accuracy, their AVERAGE; formulas of the table, so they follow the outputs
    when those are live. Returns the last row written."""
    from xlsxwriter.utility import xl_range, xl_rowcol_to_cell

    run, cfg, st = book.run, book.config, book.styles
    k = cfg.y.shape[1]
    right = correct(cfg.y, run.output)
    if right is None:
        return last
    col = 1 + 2 * k
    cells.text(first - 1, col, book.msg("overview.right"), st.header)
    for i, r in enumerate(range(first, last + 1)):
        if one_hot_rows(cfg.y):  # the largest output is the target's class: MATCH finds the first, as argmax
            target, output = (xl_range(r, c0, r, c0 + k - 1) for c0 in (1, 1 + k))
            same = f"MATCH(MAX({output}),{output},0)=MATCH(MAX({target}),{target},0)"
        else:  # every output on its target's side of 0.5: its class (1 from 0.5 on) is the target
            sides = [f"IF({xl_rowcol_to_cell(r, 1 + k + j)}>=0.5,1,0)={xl_rowcol_to_cell(r, 1 + j)}" for j in range(k)]
            same = sides[0] if k == 1 else f"AND({','.join(sides)})"
        cells.put(r, col, "formula", f"=IF({same},1,0)", st.cell("value"), int(right[i]))
    cells.text(last + 1, LABEL, book.msg("overview.accuracy"))
    cells.put(last + 1, col, "formula", f"=AVERAGE({xl_range(first, col, last, col)})", st.cell("value", "0.0%"),
              float(right.mean()))
    return last + 1


def _numbers(values) -> str:
    return ", ".join(f"{v:.8g}" for v in values[:12]) + (", …" if len(values) > 12 else "")


def _predictions(book, cells, r) -> int:
    """Targets against the outputs of the last epoch, and the predictions for new inputs."""
    run, cfg, msg, st = book.run, book.config, book.msg, book.styles
    k = cfg.y.shape[1]
    ylab = cfg.y_labels or tuple(f"y{j + 1}" if k > 1 else "y" for j in range(k))
    cells.text(r, 0, msg("overview.predictions"), st.bold)
    r += 1
    cells.text(r, LABEL, msg("overview.sample"), st.header)
    for j in range(k):
        cells.text(r, 1 + j, msg("overview.target", label=ylab[j]), st.header)
        cells.text(r, 1 + k + j, msg("overview.output", label=ylab[j]), st.header)
    target_fmt = [st.cell("trained", shown(cfg.y[:, j], cfg.decimals).num_format) for j in range(k)]
    last = book.training.epoch_row(cfg.epochs) if book.training else None  # live: links to it
    output_fmt = [st.cell("trained" if last is None else "link", shown(run.output[:, j], cfg.decimals).num_format)
                  for j in range(k)]
    for i in range(len(cfg.X)):
        r += 1
        cells.put(r, LABEL, "number", i + 1)
        for j in range(k):
            cells.put(r, 1 + j, "number", float(cfg.y[i, j]), target_fmt[j])
            if last is None:
                cells.put(r, 1 + k + j, "number", float(run.output[i, j]), output_fmt[j])
            else:
                cells.put(r, 1 + k + j, "formula", book.training.link(last, "output", i, j), output_fmt[j],
                          float(run.output[i, j]))
    r = _accuracy_cells(book, cells, r - len(cfg.X) + 1, r)
    if cfg.predict is None:
        return r
    r += 2
    cells.text(r, 0, msg("overview.predict"), st.bold)
    r += 1
    d = cfg.predict.shape[1]
    xlab = cfg.x_labels or tuple(f"x{j + 1}" for j in range(d))
    for j in range(d):
        cells.text(r, j, xlab[j], st.header)
    for j in range(k):
        cells.text(r, d + j, msg("overview.prediction", label=ylab[j]), st.header)
    pred = run.predict(cfg.predict)
    x_fmt = [st.cell("trained", shown(cfg.predict[:, j], cfg.decimals).num_format) for j in range(d)]
    formula = _prediction(book, r + 1, d)  # live: the forward pass of the Training sheet's last parameters
    p_fmt = [st.cell("trained" if formula is None else "value", shown(pred[:, j], cfg.decimals + 3).num_format)
             for j in range(k)]
    for i in range(len(cfg.predict)):
        r += 1
        for j in range(d):
            cells.put(r, j, "number", float(cfg.predict[i, j]), x_fmt[j])
        for j in range(k):
            f = formula(i, j) if formula else None
            if f is None:
                cells.put(r, d + j, "number", float(pred[i, j]), p_fmt[j])
            else:
                cells.put(r, d + j, "formula", f, p_fmt[j], float(pred[i, j]))
    return r


def _prediction(book, first: int, d: int):
    """(i, j) -> the formula of new input i's prediction j from the parameters after training
    on the Training sheet (None: a formula too long for Excel), or None when those are not live."""
    plan = book.training
    if plan is None or not plan.all_live:
        return None
    from xlsxwriter.utility import xl_rowcol_to_cell

    from ..formulas import forward
    from ..terms import Ref, excel
    from .limits import MAX_FORMULA

    net, m = book.config.network, len(book.config.predict)

    def operand(name, i, j):
        if name == "X":
            return Ref(xl_rowcol_to_cell(first + i, j, True, True))
        return Ref(plan.cell(plan.after, name, i, j))

    out = forward(net, net.shapes(m), operand)

    def formula(i, j):
        f = "=" + excel(out(i, j), None, None)
        return f if len(f) <= MAX_FORMULA else None

    return formula


def _chain(detail) -> tuple[int, ...]:
    """The detailed epochs linked to the first one: consecutive from it."""
    n = 1
    while n < len(detail) and detail[n] == detail[n - 1] + 1:
        n += 1
    return tuple(detail[:n])


def _epochs(epochs, label=str) -> str:
    if not epochs:
        return ""
    if len(epochs) > 2 and epochs[-1] - epochs[0] == len(epochs) - 1:
        return f"{label(epochs[0])}–{label(epochs[-1])}"
    return ", ".join(map(label, epochs))
