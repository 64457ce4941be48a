"""End to end: the default `stepviz run` and reading its Trace back; and a scale scenario:
a 1,000-row CSV with 20 inputs, hidden = [16], 1,000 epochs, first and last epoch in detail.
Each run is a separate process, so its peak memory is its own."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# peak memory from /proc (VmHWM starts afresh at exec; getrusage's ru_maxrss may carry the
# parent's peak over a fork on Linux, which here would be the recording benchmark's)
CHILD = r"""
import json, sys, time
t = time.perf_counter()
from stepviz.cli import main
rc = main(sys.argv[2:])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
out = {"rc": rc, "seconds": time.perf_counter() - t, "peak_mb": int(hwm) / 1024}
with open(sys.argv[1], "w") as f:
    print(json.dumps(out), file=f)
"""


def stepviz_run(args, cwd):
    with tempfile.NamedTemporaryFile("r", suffix=".json") as f:
        subprocess.run([sys.executable, "-c", CHILD, f.name, "run", "-q", *args], cwd=cwd, check=True,
                       stdout=subprocess.DEVNULL)
        with open(f.name) as result:
            return json.load(result)


def read_back(path):
    import pandas as pd

    out = {}
    for engine in ("calamine", "openpyxl"):
        try:
            t = time.perf_counter()
            df = pd.read_excel(path, sheet_name="Trace", engine=engine)
            s = time.perf_counter() - t
        except ImportError:
            continue
        out[engine] = {"seconds": s, "cells_per_s": df.size / s, "rows": len(df)}
    return out


def default_run_ratio(tiny=False):
    """The default `stepviz run`, whole process, against a script that trains the same network
    as the tutorial does and writes the same workbook directly with XlsxWriter (direct.py)."""
    import pickle

    import stepviz
    from bench_export import cells_of
    from common import interleaved
    from stepviz.engine import initial_parameters
    from stepviz.workbook import IN_MEMORY_CELLS, estimate

    extra = ["--epochs", "50"] if tiny else []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        ours = [sys.executable, "-m", "stepviz", "run", "-q", "--live-epochs", "0", "-o", "ours.xlsx", *extra]
        subprocess.run(ours, cwd=d, check=True, stdout=subprocess.DEVNULL)
        config = stepviz.load_config("seed-mlp", epochs=50 if tiny else None, live_epochs=0)
        init = initial_parameters(config)
        job = {"training": (config.X, config.y, [init["wh"]], [init["bh"]], init["wout"], init["bout"], config.lr,
                            config.epochs),
               "sheets": cells_of(d / "ours.xlsx"), "in_memory": estimate(config).cells <= IN_MEMORY_CELLS}
        with open(d / "job.pickle", "wb") as f:
            pickle.dump(job, f)
        direct = [sys.executable, str(Path(__file__).with_name("direct.py")), "job.pickle", "base.xlsx"]
        run = lambda cmd: subprocess.run(cmd, cwd=d, check=True, stdout=subprocess.DEVNULL)  # noqa: E731
        base, mine = interleaved(lambda: run(direct), lambda: run(ours), 1 if tiny else 7)
    print(f"e2e  stepviz run (default) {mine:.2f} s, direct numpy + XlsxWriter script {base:.2f} s, "
          f"ratio {mine / base:.2f} (target <= 1.3)")
    return {"stepviz_s": mine, "baseline_s": base, "ratio": mine / base, "target": 1.3}


def main(tiny=False):
    results = {"default run ratio": default_run_ratio(tiny)}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stepviz", "run", "-q"] + (["--epochs", "50"] if tiny else []),
                       cwd=d, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        book = d / "output" / "seed-mlp.xlsx"
        results["default run"] = {"seconds": wall, "file_mb": book.stat().st_size / 2**20,
                                  "read_trace": read_back(book)}
        print(f"e2e  stepviz run (default): {wall:.2f} s whole process, {book.stat().st_size / 1024:.0f} KB")
        for engine, r in results["default run"]["read_trace"].items():
            print(f"e2e  read Trace with {engine}: {r['seconds'] * 1000:.0f} ms, {r['cells_per_s']:,.0f} cells/s")

        rows, inputs, hidden, epochs = (50, 20, [16], 20) if tiny else (1000, 20, [16], 1000)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(rows, inputs))
        y = (X[:, :3].sum(axis=1) > 0).astype(int)
        header = ",".join([f"x{j + 1}" for j in range(inputs)] + ["label"])
        body = "\n".join(",".join(f"{v:.6f}" for v in row) + f",{t}" for row, t in zip(X, y))
        (d / "scale.csv").write_text(header + "\n" + body + "\n")
        (d / "scale.toml").write_text(f'[data]\ncsv = "scale.csv"\ntarget = ["label"]\n'
                                      f"[network]\nhidden = {json.dumps(hidden)}\n"
                                      f'[training]\nepochs = {epochs}\nlr = 0.01\n[workbook]\ndetail = [1, "last"]\n')
        r = stepviz_run(["scale.toml", "-o", "scale.xlsx"], d)
        r["file_mb"] = (d / "scale.xlsx").stat().st_size / 2**20
        results["scale"] = r
        print(f"scale {rows} rows × {inputs} inputs → {hidden} → 1, {epochs} epochs, detail first+last: "
              f"{r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB, file {r['file_mb']:.1f} MB")
    return results


if __name__ == "__main__":
    main()
