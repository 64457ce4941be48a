"""Tests that pass on any CPU: numpy's SIMD kernels (AVX2, AVX-512, ...) may round the last
bit of a sum or a product differently from one CPU to another, so golden numbers are compared
to a tight relative tolerance; any real change is still caught. (Byte-identical output is a
guarantee on one machine: tests/test_workbook.py writes the same run twice.)"""
import re
from pathlib import Path

import numpy as np

from book import GOLDEN_REL, same_dump

GOLDEN = Path(__file__).parent / "golden" / "seed-mlp-gd.txt"


def _numbers(text):
    """(line index, field index, value) of every field of a dump that is a decimal number
    with a fractional part (a computed value, not a count or an index)."""
    for n, line in enumerate(text.splitlines()):
        for k, field in enumerate(line.split("\t")):
            if k and re.fullmatch(r"-?\d*\.\d{6,}(e-?\d+)?", field):
                yield n, k, float(field)


def _replace(text, n, k, new):
    lines = text.splitlines()
    fields = lines[n].split("\t")
    fields[k] = new
    lines[n] = "\t".join(fields)
    return "\n".join(lines) + "\n"


def test_the_golden_text_holds_full_precision_numbers():
    golden = GOLDEN.read_text(encoding="utf-8")
    values = [v for _, _, v in _numbers(golden)]
    assert len(values) > 500
    assert sum(len(repr(v).lstrip("-0.").split("e")[0]) >= 15 for v in values) > len(values) / 2


def test_last_bits_differences_pass():
    """What another CPU does: every number of the golden text a few dozen ulps away."""
    golden = GOLDEN.read_text(encoding="utf-8")
    moved = golden
    for n, k, v in _numbers(golden):
        moved = _replace(moved, n, k, repr(float(np.nextafter(v, np.inf) + 30 * np.spacing(v))))
    assert moved != golden
    assert same_dump(moved, golden) == []


def test_a_real_change_fails():
    golden = GOLDEN.read_text(encoding="utf-8")
    n, k, v = next(_numbers(golden))
    assert same_dump(_replace(golden, n, k, repr(v * (1 + 100 * GOLDEN_REL))), golden)  # a value
    assert same_dump(_replace(golden, n, k, repr(-v)), golden)  # a sign
    formula = next(i for i, line in enumerate(golden.splitlines()) if "\t=" in line)
    assert same_dump(_replace(golden, formula, 1, "=B10*G10"), golden)  # a formula
    assert same_dump(_replace(golden, 3, 3, "0.000"), golden)  # a number format
    assert same_dump(golden + "Z99\t1\t1\tGeneral\n", golden)  # a cell more
