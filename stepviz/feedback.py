"""What a graded student reads: the feedback page (every answer, what was expected, the verdict,
a hint), with every text escaped, and the mistakes a grader can recognise in a wrong answer."""
from __future__ import annotations

import html
import math


def feedback_page(sub, base, layout) -> str:
    """The feedback page of one student: each question, typed, expected, verdict, a hint;
    every text escaped."""
    esc = html.escape
    rows = []
    names = layout.questions
    for q in layout.questions:
        v, expected, verdict, tol = sub.verdicts[q]
        note = sub.notes.get(q, "")
        tip = sub.hints.get(q, "")
        r, c = sub.focus[q]
        rows.append(f"<tr><td>{esc(base.label(q[0]))}.{q[1]:02d}</td><td>{esc(q[2])}[{r + 1},{c + 1}]</td>"
                    f"<td>{'' if v is None else esc(f'{v:.6g}')}</td>"
                    f"<td>{esc(f'{expected:.6g}')}</td><td class='{esc(verdict)}'>{esc(verdict)}</td>"
                    f"<td>{esc('; '.join(x for x in (note, tip) if x))}</td></tr>")
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>stepviz feedback</title>",
           "<style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
           ".right{color:#080}.wrong{color:#c00}.empty{color:#888}</style></head><body>",
           f"<h1>{esc(sub.student.name or sub.student.id)} ({esc(sub.student.id)})</h1>",
           f"<p>{sub.score} of {len(names)} right. Each answer is right when it follows from your own earlier "
           "answers or from the correct ones; a blank answer carries nothing forward.</p>"]
    if sub.flags:
        out.append("<p><b>Note:</b> " + esc("; ".join(sub.flags)) + "</p>")
    out.append("<table><tr><th>sheet</th><th>question</th><th>your answer</th><th>expected</th><th></th>"
               "<th>hint</th></tr>")
    return "\n".join(out + rows + ["</table></body></html>", ""])


def hint(run, typed_all, question, typed, expected, tol=None) -> str:
    """The mistake a wrong answer shows, when it is recognised."""
    import numpy as np

    from .exercise import replay, tolerances

    values, _ = replay(run, typed_all, blank_as_zero=False)
    if tol is None:
        tol = tolerances(run, values)[question]
    tol = tol * 2
    e, n, name = question
    step = next(s for s in run.steps if s.number == n)
    c = next(c for c in step.computes if c.result == name)
    slot = run.detail.index(e)
    first = run.config.network.producers()[0]
    near = lambda v: abs(typed - v) <= tol  # noqa: E731

    def at(o):
        a = values[(first[o].number if o not in step.results else n, o)][slot]
        return a, tuple(min(x, y) - 1 for x, y in zip(run.config.focus, a.shape))

    short = _short(typed, expected, tol / 2)
    if short:
        return short
    if near(-expected):
        return "the sign is flipped"
    if "lr" in c.operands and run.config.lr != 1 and near(expected / run.config.lr):
        return "lr is missing: the amount is lr times the gradient"
    kind = getattr(c.op, "key", "")
    if kind in ("ce_delta", "bce_delta"):
        a, f = at("output")
        if near(expected * a[f] * (1 - a[f])):
            return "no slope here: with cross-entropy d_output = E (the output's slope cancels)"
    n_rows = run.shapes["y"][0]
    if type(c.op).__name__ == "Loss":
        if getattr(c.op, "half", False) and near(2 * expected):
            return "the ½ is forgotten: the loss is ½·ΣE²"
        if n_rows > 1 and near(expected / n_rows):
            return "the loss is the sum over the samples, not their mean"
    if kind in ("ce", "bce") and near(expected / n_rows):
        return "the loss is the sum over the samples, not their mean"
    if name == "d_output" and run.config.lr != 1 and near(expected * run.config.lr):
        return "lr belongs in the update, not in d_output"
    if type(c.op).__name__ == "Activate" and near(1 - expected) and 0 < expected < 1:
        return "1/(1+eˣ) instead of 1/(1+e⁻ˣ): the sign of the exponent is flipped"
    if type(c.op).__name__ == "ColumnSum":
        d, _ = at(c.operands[0])
        i, j = tuple(min(x, y) - 1 for x, y in zip(run.config.focus, d.shape))
        scale = run.config.lr if getattr(c.op, "scaled", False) else 1.0
        if d.shape[0] > 1 and near(float(d[i, :].sum()) * scale):
            return "a row sum: a bias's gradient sums its column (over the samples)"
        if d.shape[0] > 1 and near(float(d[:, j].mean()) * scale):
            return "the mean of the column: a bias's gradient is its sum"
    for o in c.operands:
        if o.startswith("slope"):
            a, f = at(o)
            if a[f] and near(expected / a[f]):
                return f"the slope is missing: multiply by {o}"
    old = name if name.startswith(("v_", "m_", "s_")) else name.split("_", 1)[1] if name.startswith("update_") else None
    if old and old in first:
        a = values[(first[old].number, old)][slot]  # before this step's update
        f = tuple(min(x, y) - 1 for x, y in zip(run.config.focus, a.shape))
        if near(float(a[f])):
            return f"this is the old value of {old}: the question asks for the {'amount' if old != name else 'new value'}"
    mine = values[(n, name)][slot]
    f = tuple(min(x, y) - 1 for x, y in zip(run.config.focus, mine.shape))
    for i, j in np.ndindex(mine.shape):
        if (i, j) != f and near(float(mine[i, j])):
            return f"this is the value of {name}[{i + 1},{j + 1}], another cell"
    return ""


def _short(typed: float, expected: float, tol: float) -> str:
    """Right in method, short in precision: the answer is the expected value rounded to
    fewer decimals than the tolerance asks."""
    text = repr(float(typed))
    if "e" in text:
        return ""
    decimals = len(text.split(".")[1].rstrip("0")) if "." in text else 0
    if abs(typed - expected) <= 0.5 * 10 ** -decimals + tol and 0.5 * 10 ** -decimals > tol:
        need = max(0, math.ceil(-math.log10(2 * tol))) if tol > 0 else decimals + 1
        return f"right in method, short in precision: give {need} decimals or more (you gave {decimals})"
    return ""
