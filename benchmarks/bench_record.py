"""Recording: stepviz.train with every step of every epoch recorded, against the plain
seed loop (the tutorial's numpy code, in direct.py), in the same process."""
from __future__ import annotations

import dataclasses

import numpy as np

import stepviz
from common import interleaved
from direct import seed_loop


def net_150(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(150, 4))
    y = rng.uniform(size=(150, 3))
    return {"data": {"X": X.tolist(), "y": y.tolist()}, "network": {"hidden": [16]},
            "training": {"lr": 0.01}}


def measure(source, epochs, repeat=5):
    config = stepviz.load_config(source, epochs=epochs, detail=[1])
    config = dataclasses.replace(config, detail=tuple(range(1, epochs + 1)))  # every epoch
    init = stepviz.engine.initial_parameters(config)
    hidden = [k for k in init if k.startswith("wh")]
    args = (config.X, config.y, [init[k] for k in hidden], [init[k.replace("w", "b", 1)] for k in hidden],
            init["wout"], init["bout"], config.lr, epochs)
    seed_loop(*args)  # warm up
    stepviz.train(config)
    base, ours = interleaved(lambda: seed_loop(*args), lambda: stepviz.train(config), repeat)
    run = stepviz.train(config)
    Ws, _ = seed_loop(*args)
    assert np.allclose(run.params["wout"], Ws[-1], atol=1e-9), "benchmark baseline disagrees"
    values = sum(v.size for v in run.values.values())
    return {"baseline_s": base, "stepviz_s": ours, "ratio": ours / base,
            "recorded_values": values, "recorded_mb": values * 8 / 2**20}


def main(tiny=False):
    epochs = 20 if tiny else 5000
    repeat = 1 if tiny else 5
    out = {}
    for label, source, target in (("seed-mlp", "seed-mlp", 1.2), ("150x4-16-3", net_150(), 1.5)):
        r = measure(source, epochs, repeat)
        r["target"] = target
        out[label] = r
        print(f"record {label:<11} {epochs} epochs, every step recorded: stepviz {r['stepviz_s']:.3f} s, "
              f"plain seed loop {r['baseline_s']:.3f} s, ratio {r['ratio']:.2f} (target <= {target}); "
              f"{r['recorded_mb']:.1f} MB recorded")
    return out


if __name__ == "__main__":
    main()
