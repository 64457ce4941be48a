"""Classification (issue 19): the iris preset, softmax + cross-entropy in mini-batches of 16.

* record: stepviz.train with every full batch of every epoch recorded, against a plain numpy
  mini-batch loop over the same batches (direct_batches.batch_loop), in the same process;
* e2e: `stepviz run iris`, whole process, against a script that trains the same way and writes
  the same workbook content directly with XlsxWriter (direct_batches.py)."""
from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import stepviz
from common import interleaved
from direct_batches import batch_loop


def _args(config):
    init = stepviz.engine.initial_parameters(config)
    return (config.X, config.y, init["wh"], init["bh"], init["wout"], init["bout"], config.lr, config.epochs,
            config.batch, config.shuffle, config.seed)


def record_ratio(tiny=False):
    epochs = 10 if tiny else 200
    config = stepviz.load_config("iris", epochs=epochs, detail=[1])
    full = [u for u in range(1, epochs * config.batches + 1) if config.label(u).split(".")[1] != str(config.batches)]
    config = dataclasses.replace(config, detail=tuple(full))  # every full batch of every epoch
    args = _args(config)
    batch_loop(*args)  # warm up
    stepviz.train(config)
    base, ours = interleaved(lambda: batch_loop(*args), lambda: stepviz.train(config), 1 if tiny else 5)
    run = stepviz.train(config)
    wout, _ = batch_loop(*args)
    assert np.allclose(run.params["wout"], wout, atol=1e-9), "benchmark baseline disagrees"
    mb = sum(v.size for v in run.values.values()) * 8 / 2**20
    print(f"record iris {epochs} epochs × {config.batches} batches, every full batch recorded: stepviz {ours:.3f} s, "
          f"plain mini-batch loop {base:.3f} s, ratio {ours / base:.2f} (target <= 1.5); {mb:.1f} MB recorded")
    return {"stepviz_s": ours, "baseline_s": base, "ratio": ours / base, "recorded_mb": mb, "target": 1.5}


def e2e_ratio(tiny=False):
    from bench_export import cells_of
    from stepviz.workbook import IN_MEMORY_CELLS, estimate

    extra = ["--epochs", "10", "--detail", "1.1,1.2"] if tiny else []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        ours = [sys.executable, "-m", "stepviz", "run", "iris", "-q", "-o", "ours.xlsx", *extra]
        subprocess.run(ours, cwd=d, check=True, stdout=subprocess.DEVNULL)
        config = stepviz.load_config("iris", **({"epochs": 10, "detail": ["1.1", "1.2"]} if tiny else {}))
        job = {"training": _args(config), "sheets": cells_of(d / "ours.xlsx"),
               "in_memory": estimate(config).cells <= IN_MEMORY_CELLS}
        with open(d / "job.pickle", "wb") as f:
            pickle.dump(job, f)
        direct = [sys.executable, str(Path(__file__).with_name("direct_batches.py")), "job.pickle", "base.xlsx"]
        run = lambda cmd: subprocess.run(cmd, cwd=d, check=True, stdout=subprocess.DEVNULL)  # noqa: E731
        base, mine = interleaved(lambda: run(direct), lambda: run(ours), 1 if tiny else 7)
    print(f"e2e  stepviz run iris {mine:.2f} s, direct numpy + XlsxWriter script {base:.2f} s, "
          f"ratio {mine / base:.2f} (target <= 2)")
    return {"stepviz_s": mine, "baseline_s": base, "ratio": mine / base, "target": 2.0}


def main(tiny=False):
    return {"record iris": record_ratio(tiny), "e2e iris": e2e_ratio(tiny)}


if __name__ == "__main__":
    main()
