import sys
from pathlib import Path

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
