"""Exercise workbooks: which cells are asked, and what every sheet computes from the answers.

An exercise asks the focus cell of every computed result except an updated parameter (an
update is asked as its amount, ``update_wout``, or for momentum and Adam as the direction and
the state; the parameter is then computed from the student's amount). Later cells compute
from the student's own answers (error carried forward): a sheet reads an answer where it
was typed, and a blank answer, or one that is not a number, reads as 0, so no cell shows an
error value. ``replay`` computes, with the engine's ops, what every sheet shows for given
answers, and what each answer should be given the earlier ones: the cached values of an
exercise workbook (all answers blank) and the key of grading are both this one function.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .display import answer_tolerance, shown
from .ops import Given


def asked(step, parameters) -> list:
    """The computes of ``step`` whose focus cell is a question."""
    if step.given:
        return []
    return [c for c in step.computes if c.result not in parameters]


def focus_of(config, shape) -> tuple[int, int]:
    """The focus (0-based) of a result of ``shape``: the configured focus, clamped."""
    return min(config.focus[0], shape[0]) - 1, min(config.focus[1], shape[1]) - 1


def questions(run) -> list[tuple[int, int, str]]:
    """(epoch, step, name) of every question, in the order of the sheets."""
    params = set(run.config.network.parameters())
    return [(e, s.number, c.result) for e in run.detail for s in run.steps for c in asked(s, params)]


def number(v) -> float | None:
    """A typed answer as a number, or None (blank, text, an error, not finite)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def replay(run, answers: dict | None = None, *, blank_as_zero: bool = True):
    """(values, expected): ``values[(step, name)]`` arrays shaped like ``run.values`` holding
    what the exercise sheets compute when the answers are ``answers`` ({(epoch, step, name):
    typed value}; missing, blank or not a number reads as 0), and ``expected[(epoch, step,
    name)]`` the value each answer should have, computed from the earlier answers.

    ``blank_as_zero=False`` is grading's rule: an answer that is blank or not a number carries
    nothing forward (the step keeps the value it should have, given the earlier answers)."""
    cfg, answers = run.config, answers or {}
    net = cfg.network
    params = set(net.parameters())
    carried = params | set(net.state()) - {"t"}
    last = {name: s.number for name, s in net.producers()[1].items()}
    constants = cfg.constants()
    values = {k: np.array(v, dtype=np.float64) for k, v in run.values.items()}
    expected = {}
    with np.errstate(all="ignore"):
        for slot, epoch in enumerate(run.detail):
            linked = slot > 0 and run.detail[slot - 1] == epoch - 1
            current = {}
            for step in run.steps:
                questions_here = {c.result for c in asked(step, params)}
                for c in step.computes:
                    key = (step.number, c.result)
                    out = values[key][slot]
                    if isinstance(c.op, Given):
                        if linked and c.result in carried:
                            out[...] = values[(last[c.result], c.result)][slot - 1]
                        current[c.result] = out
                        continue
                    args = [constants[o] if o in constants else current[o] for o in c.operands]
                    c.op.compute(*args, out=out)
                    if c.result in questions_here:
                        f = focus_of(cfg, out.shape)
                        expected[(epoch, step.number, c.result)] = float(out[f])
                        typed = number(answers.get((epoch, step.number, c.result)))
                        if typed is not None or blank_as_zero:
                            out[f] = 0.0 if typed is None else typed
                    current[c.result] = out
    return values, expected


def blank_run(run):
    """The run as an exercise workbook shows it before any answer is typed."""
    return dataclasses.replace(run, values=replay(run)[0])


def operands_as_shown(run, values, epoch: int, step, compute) -> list[np.ndarray]:
    """The operands of ``compute`` as its sheet shows them (transposed where it is)."""
    constants = run.config.constants()
    slot = run.detail.index(epoch)
    first = run.config.network.producers()[0]
    earlier = set()
    for c in step.computes:
        if c is compute:
            break
        earlier.add(c.result)
    arrays = []
    for k, o in enumerate(compute.operands):
        if o in constants:
            arrays.append(np.array([[constants[o]]]))
        else:
            a = values[(step.number if o in earlier else first[o].number, o)][slot]
            arrays.append(a.T if compute.op.flipped(k) else a)
    return arrays


def tolerances(run, values=None) -> dict[tuple[int, int, str], float]:
    """The tolerance of every question (display.answer_tolerance) for the operands
    ``values`` (default: the true values of ``run``; grading passes what the student's
    sheets show), each shown with the decimals the true values set."""
    cfg = run.config
    values = run.values if values is None else values
    out = {}
    params = set(cfg.network.parameters())
    for epoch in run.detail:
        slot = run.detail.index(epoch)
        for step in run.steps:
            for c in asked(step, params):
                arrays = operands_as_shown(run, values, epoch, step, c)
                formats = [shown(a, cfg.decimals) for a in operands_as_shown(run, run.values, epoch, step, c)]
                shapes = [a.shape for a in arrays]
                result = run.values[(step.number, c.result)][slot]
                i, j = focus_of(cfg, result.shape)
                t = c.op.cell_term(i, j, shapes, arrays)
                out[(epoch, step.number, c.result)] = answer_tolerance(t, arrays, formats,
                                                                       shown(result, cfg.decimals))
    return out


def check(run, typed: dict, tolerance: dict | None = None) -> list[tuple]:
    """Grade typed answers with error carried forward: for every question, (key, typed,
    expected, verdict), ``expected`` computed from the student's own earlier answers and
    ``verdict`` "right" (within the question's tolerance), "wrong" or "empty" (blank, text or
    an error: not a number)."""
    values, expected = replay(run, typed)
    tolerance = tolerance if tolerance is not None else tolerances(run, values)
    out = []
    for key in questions(run):
        v = number(typed.get(key))
        verdict = "empty" if v is None else "right" if abs(v - expected[key]) <= tolerance[key] else "wrong"
        out.append((key, v, expected[key], verdict))
    return out
