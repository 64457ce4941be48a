"""Exercise workbooks with error carried forward: later sheets compute from the student's own
answers, an honest answer computed from the numbers shown is right, the typical mistakes are
wrong, and an assessment copy holds no answer anywhere."""
import dataclasses
import re
import zipfile

import numpy as np
import openpyxl
import pytest
from xlsxwriter.utility import xl_rowcol_to_cell

import stepviz
from stepviz.display import shown
from stepviz.exercise import check, questions, replay, tolerances
from stepviz.ops import Given
from stepviz.workbook.core import Book

PRESETS = ["seed-mlp", "seed-mlp-momentum", "seed-mlp-adam", "two-layer", "or-gate", "xor"]
_X6 = np.random.default_rng(1).uniform(-1, 1, size=(6, 3)).round(2).tolist()
# issue 19's networks: softmax + cross-entropy, sigmoid + binary cross-entropy, mini-batches
CLASSIFIERS = {
    "ce": ({"data": {"X": _X6, "y": np.eye(3)[[0, 1, 2, 2, 1, 0]].tolist()},
            "network": {"hidden": [4], "output": "softmax", "loss": "ce"},
            "training": {"epochs": 3, "lr": 0.5}, "workbook": {"detail": [1, 2]}}, {}),
    "ce-momentum": ({"data": {"X": _X6, "y": np.eye(3)[[0, 1, 2, 2, 1, 0]].tolist()},
                 "network": {"hidden": [4], "output": "softmax", "loss": "ce", "activation": "tanh"},
                 "training": {"epochs": 3, "optimizer": "momentum"}, "workbook": {"detail": [1, 2]}}, {}),
    "bce": ("xor", {"loss": "bce", "detail": [1, 2], "epochs": 3}),
    "batches": ("xor", {"batch_size": 2, "detail": ["1.1", "1.2", "2.1"], "epochs": 3}),
    "online": ("seed-mlp", {"batch_size": 1, "detail": ["1.1", "1.2", "1.3", "2.1"], "epochs": 2}),
    "iris": ("iris", {"detail": ["1.1", "1.2"], "epochs": 2}),
}


def classifier(name, **extra):
    source, kw = CLASSIFIERS[name]
    return stepviz.train(source, exercise=True, **kw, **extra)


def as_shown(a, fmt):
    """Every number of ``a`` as a reader reads it off the sheet."""
    return np.vectorize(lambda v: float(fmt.text(float(v))) if fmt.kind != "general" else float(v))(a)


def honest(run, typed, key):
    """What a learner computes for question ``key`` by hand: the step's numpy program (not the
    sheet's formula) over the operands rounded as the sheet shows them (the student's own
    earlier answers included), rounded to the answer's shown decimals."""
    values, _ = replay(run, typed)
    blank = run.values  # the true values set the decimals shown
    epoch, number, name = key
    step = next(s for s in run.steps if s.number == number)
    slot = run.detail.index(epoch)
    first = run.config.network.producers()[0]
    constants = run.config.constants()
    args, earlier = [], set()
    c = next(c for c in step.computes if c.result == name)
    for x in step.computes:
        if x is c:
            break
        earlier.add(x.result)
    for o in c.operands:
        if o in constants:
            args.append(constants[o])
            continue
        made = number if o in earlier else first[o].number
        args.append(as_shown(values[(made, o)][slot], shown(blank[(made, o)][slot], run.config.decimals)))
    out = np.empty(values[(number, name)][slot].shape)
    c.op.compute(*args, out=out)
    f = tuple(min(a, b) - 1 for a, b in zip(run.config.focus, out.shape))
    return float(as_shown(out[f], shown(blank[(number, name)][slot], run.config.decimals)))


def mistakes(run, typed, key, right):
    """The typical mistakes a learner makes on question ``key``: (what, the value typed)."""
    epoch, number, name = key
    step = next(s for s in run.steps if s.number == number)
    c = next(c for c in step.computes if c.result == name)
    values, _ = replay(run, typed)
    slot = run.detail.index(epoch)
    first = run.config.network.producers()[0]
    out = [("flipped sign", -right)]
    if getattr(c.op, "key", "") in ("ce_delta", "bce_delta"):  # d_output = E: the old habit keeps the output's slope
        p = values[(first["output"].number, "output")][slot]
        f = tuple(min(a, b) - 1 for a, b in zip(run.config.focus, p.shape))
        out.append(("kept slope", right * p[f] * (1 - p[f])))
    if getattr(c.op, "key", "") in ("ce", "bce"):  # the loss is a sum over the batch's samples, not a mean
        out.append(("mean, not sum", right / run.shapes["y"][0]))
    if "lr" in c.operands and run.config.lr != 1:
        out.append(("forgotten lr", right / run.config.lr))
    slopes = [o for o in c.operands if o.startswith("slope")]
    if slopes:
        s = values[(first[slopes[0]].number, slopes[0])][slot]
        f = tuple(min(a, b) - 1 for a, b in zip(run.config.focus, s.shape))
        if s[f]:
            out.append(("forgotten slope", right / s[f]))
    old = name.split("_", 1)[1] if name.startswith(("update_", "v_", "m_", "s_")) else None
    if name.startswith(("v_", "m_", "s_")):
        old = name  # the state before its update
    if old:
        a = values[(first[old].number, old)][slot]
        f = tuple(min(x, y) - 1 for x, y in zip(run.config.focus, a.shape))
        out.append(("old value", float(a[f])))
    return out


@pytest.mark.parametrize("preset", PRESETS)
def test_honest_answers_are_right_and_typical_mistakes_wrong_on_every_step(preset):
    honest_right_mistakes_wrong(stepviz.train(preset, detail=[1, 2], epochs=3, exercise=True), preset)


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_long_sums_too(optimizer):
    """64 samples: the sums over the samples read ranges, and so does their tolerance."""
    rng = np.random.default_rng(64)
    run = stepviz.train("seed-mlp", X=rng.uniform(0, 1, size=(64, 4)).round(2).tolist(),
                        y=[[k % 2] for k in range(64)], detail=[1, 2], epochs=3, exercise=True, optimizer=optimizer)
    honest_right_mistakes_wrong(run, "seed-mlp" if optimizer == "gd" else "")


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifiers_and_batches_honest_answers_right_typical_mistakes_wrong(name):
    run = classifier(name)
    kinds = honest_right_mistakes_wrong(run, name)
    want = {"kept slope", "mean, not sum", "forgotten lr", "forgotten slope", "old value"}
    if name in ("ce", "bce", "iris"):  # xor's lr is 1; iris's focus unit is saturated (its slope shows 0.000)
        assert want - {"bce": {"forgotten lr"}, "iris": {"forgotten slope"}}.get(name, set()) <= kinds, kinds
    if run.config.batches > 1:  # the answers of one batch carry into the next: replay follows the batches
        linked = [(a, b) for a, b in zip(run.detail, run.detail[1:]) if b == a + 1]
        assert linked
        values, _ = replay(run, {})
        net = run.config.network
        start, end = net.producers()[0], net.producers()[1]
        for a, b in linked:
            sa, sb = run.detail.index(a), run.detail.index(b)
            for p in net.parameters():
                assert np.array_equal(values[(start[p].number, p)][sb], values[(end[p].number, p)][sa])


def honest_right_mistakes_wrong(run, preset):
    typed, kinds = {}, set()
    asked = questions(run)
    assert asked and not any(n in run.config.network.parameters() for _, _, n in asked)  # amounts, not parameters
    for key in asked:
        right = honest(run, typed, key)
        for what, value in mistakes(run, typed, key, right):
            (_, _, expected, verdict), = [r for r in check(run, {**typed, key: value}) if r[0] == key]
            if abs(value - right) > 1e-12:
                assert verdict == "wrong", (key, what, value, expected)
                kinds.add(what)
        typed[key] = right  # answered honestly: the next questions follow from it
        (_, _, _, verdict), = [r for r in check(run, typed) if r[0] == key]
        assert verdict == "right", key
    assert "flipped sign" in kinds and ("forgotten lr" in kinds or run.config.network.optimizer != "gd" or run.config.lr == 1)
    if preset == "seed-mlp":
        assert kinds == {"flipped sign", "forgotten lr", "forgotten slope", "old value"}
    return kinds


def test_an_earlier_slip_costs_only_its_own_step():
    run = stepviz.train("seed-mlp", epochs=3, exercise=True)
    typed = {}
    for key in questions(run):
        typed[key] = honest(run, typed, key) + (0.5 if key[1] == 4 else 0)  # slip at step 4, go on from it
    verdicts = {k: v for k, _, _, v in check(run, typed)}
    assert {k for k, v in verdicts.items() if v != "right"} == {(1, 4, "hiddenlayer_activations")}
    assert {v for _, _, _, v in check(run, {})} == {"empty"}
    text = {k: "0,5" for k in typed}  # text, as from a comma-decimal paste: not a number
    assert {v for _, _, _, v in check(run, text)} == {"empty"}


def cells_of(run):
    """{question: (sheet, answer cell, verdict cell)} from the layout."""
    book = Book(dataclasses.replace(run), None)
    out = {}
    for epoch, number, name in questions(run):
        step = book.steps[number]
        block = book.result_block(step, name)
        r, c = block.cell(*book.focus(block))
        out[(epoch, number, name)] = (book.sheet_name(epoch, step), xl_rowcol_to_cell(r, c),
                                      xl_rowcol_to_cell(r, block.col + block.shape[1]))
    return out


@pytest.fixture(scope="module")
def practice(tmp_path_factory):
    """A practice workbook answered right and wrong in turn, recalculated by LibreOffice."""
    from libreoffice import recalculate

    d = tmp_path_factory.mktemp("practice")
    run = stepviz.train("seed-mlp", detail=[1, 2], epochs=5, exercise=True)
    path = stepviz.write_workbook(run, d / "practice.xlsx")
    where = cells_of(run)
    typed, want = {}, {}
    wb = openpyxl.load_workbook(path)
    for n, key in enumerate(questions(run)):
        right = honest(run, typed, key)
        wrong = mistakes(run, typed, key, right)
        typed[key] = right if n % 2 == 0 else wrong[n // 2 % len(wrong)][1]
        want[key] = "✓" if n % 2 == 0 else "✗"
        sheet, cell, _ = where[key]
        wb[sheet][cell] = typed[key]
    wb[where[questions(run)[-1]][0]][where[questions(run)[-1]][1]] = "abc"  # text: "?", never an error
    want[questions(run)[-1]] = "?"
    wb.save(d / "answered.xlsx")
    blank, answered = recalculate([path, d / "answered.xlsx"], d)
    return run, path, where, typed, want, blank, answered


def test_practice_checks_follow_the_students_own_numbers_in_libreoffice(practice):
    from test_libreoffice import formula_values

    run, path, where, typed, want, blank, answered = practice
    got = formula_values(answered)
    for key, (sheet, _, verdict) in where.items():
        assert got[(sheet, verdict)] == want[key], (key, typed[key])
    assert all(formula_values(blank)[(s, v)] in ("", None) for s, _, v in where.values())
    # every later cell computes from the typed answers (text reads as 0), as replay says
    del typed[questions(run)[-1]]
    values, _ = replay(run, typed)
    book = Book(dataclasses.replace(run, values=values), None)
    checked = 0
    for epoch in run.detail:
        for step in run.steps:
            if step.given:
                continue
            sheet = book.sheet_name(epoch, step)
            for block in book.layouts[step.number].blocks:
                v = book.value(epoch, step, block)
                for i, j in np.ndindex(v.shape):
                    key = (sheet, xl_rowcol_to_cell(*block.cell(i, j)))
                    if key in got:
                        assert got[key] == pytest.approx(float(v[i, j]), rel=1e-9, abs=1e-9), key
                        checked += 1
    assert checked > 200
    cached = formula_values(path)  # the file as written: what LibreOffice computes with no answer
    for key, value in formula_values(blank).items():
        if isinstance(value, (int, float)):
            assert value == pytest.approx(cached[key], rel=1e-9, abs=1e-9), key


def test_no_formula_lists_cells_one_by_one_and_none_is_too_long(tmp_path):
    run = stepviz.train("seed-mlp", X=np.eye(4)[np.arange(256) % 4].tolist(), y=[[i % 2] for i in range(256)],
                        epochs=2, exercise=True)
    path = stepviz.write_workbook(run, tmp_path / "wide.xlsx")
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    formulas = re.findall(r"<f[^>]*>([^<]*)</f>", xml)
    assert max(map(len, formulas)) < 600  # the longest, a sigmoid's practice check, does not grow with the rows
    assert any("SUMIF(" in f for f in formulas)  # a long sum's tolerance reads its ranges
    assert any(re.search(r"SUMSQ\([A-Z]+\d+:[A-Z]+\d+\)", f) for f in formulas)


@pytest.mark.parametrize("name", ["seed-mlp", "ce", "iris"])  # (inputs of 0 would make answers equal given numbers)
def test_assessment_holds_no_answer_no_check_and_no_trace(tmp_path, name):
    run = stepviz.train("seed-mlp", detail=[1, 2], epochs=5, exercise=True) if name == "seed-mlp" else classifier(name)
    run = dataclasses.replace(run, config=dataclasses.replace(run.config, assessment=True))
    path = stepviz.write_workbook(run, tmp_path / "a.xlsx")
    focus = lambda v: v[tuple(min(a, b) - 1 for a, b in zip(run.config.focus, v.shape))]  # noqa: E731
    answers = np.array([float(focus(run.value(e, s, n))) for e, s, n in questions(run)])  # the key
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        text = {n: z.read(n).decode("utf-8", "replace") for n in names}
    assert not any("trace" in n.lower() for n in names)
    numbers = [float(x) for part in text.values() for x in re.findall(r"-?\d+\.\d+(?:[eE][-+]?\d+)?", part)]
    for x in numbers:
        assert not np.isclose(answers, x, rtol=1e-9, atol=0).any(), x
    wb = openpyxl.load_workbook(path)
    assert not {"Trace", "Training history"} & set(wb.sheetnames)
    for ws in wb.worksheets:
        assert not any(d.hidden for d in ws.column_dimensions.values())
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, str) and ("✓" in c.value or "ISBLANK" in c.value)), c.coordinate


AGREE = {"seed-mlp": {}, "seed-mlp-adam": {},
         "sixteen": {"X": (np.eye(4)[np.arange(16) % 4] * 0.9 + 0.05).tolist(), "y": [[k % 2] for k in range(16)]},
         "ce": None, "bce": None, "batches": None}  # None: CLASSIFIERS[name]


@pytest.fixture(scope="module")
def borderline(tmp_path_factory):
    """Practice workbooks answered after a large slip at step 3, every later answer just
    inside (✓) or just outside (✗) the grader's tolerance at the student's own numbers,
    recalculated by LibreOffice."""
    from libreoffice import recalculate

    d = tmp_path_factory.mktemp("borderline")
    cases, files = {}, []
    for name, extra in AGREE.items():
        if extra is None:
            run = classifier(name)
        else:
            run = stepviz.train("seed-mlp" if name == "sixteen" else name, detail=[1], epochs=2, exercise=True,
                                **extra)
        path = stepviz.write_workbook(run, d / f"{name}.xlsx")
        where, typed, want = cells_of(run), {}, {}
        wb = openpyxl.load_workbook(path)
        for n, key in enumerate(questions(run)):
            if key[1] == 3:
                typed[key] = honest(run, typed, key) * 3 + 2  # a slip: every later number moves
                continue
            (_, _, expected, _), = [r for r in check(run, typed) if r[0] == key]
            tol = tolerances(run, replay(run, typed)[0])[key]
            inside = n % 2 == 0
            typed[key] = expected + (-1) ** (n // 2) * tol * (0.99 if inside else 1.01)
            want[key] = "✓" if inside else "✗"
        for key, v in typed.items():
            sheet, cell, _ = where[key]
            wb[sheet][cell] = v
        wb.save(d / f"{name}-answered.xlsx")
        files.append(d / f"{name}-answered.xlsx")
        cases[name] = (run, where, typed, want)
    return cases, dict(zip(AGREE, recalculate(files, d)))


@pytest.mark.parametrize("name", list(AGREE))
def test_the_practice_check_agrees_with_the_grader_after_a_slip(borderline, name):
    from test_libreoffice import formula_values

    cases, recalculated = borderline
    run, where, typed, want = cases[name]
    got = formula_values(recalculated[name])
    assert {k: v for k, _, _, v in check(run, typed) if k in want} == {
        k: "right" if w == "✓" else "wrong" for k, w in want.items()}  # the grader, as built
    for key, w in want.items():
        sheet, _, verdict = where[key]
        assert got[(sheet, verdict)] == w, (key, typed[key])
    assert len(want) >= 12
