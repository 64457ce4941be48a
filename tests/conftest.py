import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import stepviz  # noqa: E402


@pytest.fixture(scope="session")
def seed_run():
    return stepviz.train("seed-mlp")


@pytest.fixture(scope="session")
def seed_book(seed_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "seed-mlp.xlsx"
    stepviz.write_workbook(seed_run, path)
    return path


# every preset, plus variants for what no preset uses: depth 2, tanh, relu, frozen biases
CASES = {name: (name, {}) for name in stepviz.presets()}
CASES["deep-tanh-sse"] = ("seed-mlp", dict(hidden=[3, 2], activation="tanh", loss="sse", epochs=50,
                                           detail=[1, 2], lr=0.05))
CASES["relu-frozen-bias"] = ("seed-mlp", dict(activation="relu", train_bias=False, epochs=20, lr=0.01))
# more terms than ops.MAX_TERMS: the sums switch to MMULT / SUMPRODUCT over ranges
_rng = np.random.default_rng(5)
CASES["wide-ranges"] = ({"data": {"X": _rng.uniform(size=(12, 12)).tolist(),
                                  "y": _rng.uniform(size=(12, 11)).tolist()},
                         "network": {"hidden": [11]}, "training": {"epochs": 3, "lr": 0.5}}, {})
PRESETS = sorted(CASES)


@pytest.fixture(scope="session")
def preset_books(tmp_path_factory):
    """Every case's run and workbook (written once per test session)."""
    folder = tmp_path_factory.mktemp("presets")
    out = {}
    for name in PRESETS:
        source, overrides = CASES[name]
        run = stepviz.train(source, **overrides)
        out[name] = (run, stepviz.write_workbook(run, folder / f"{name}.xlsx"))
    return out
