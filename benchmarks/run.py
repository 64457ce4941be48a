"""Run every benchmark and print a summary: `python benchmarks/run.py [--tiny] [--json FILE]`.

Each benchmark reports a ratio against a baseline measured in the same run (median of
repeated, interleaved measurements); --tiny runs each in seconds (the tests use it)."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_class  # noqa: E402
import bench_classify  # noqa: E402
import bench_export  # noqa: E402
import bench_map  # noqa: E402
import bench_record  # noqa: E402
import bench_returns  # noqa: E402
import bench_scale  # noqa: E402
import bench_startup  # noqa: E402
import bench_training  # noqa: E402


def machine() -> str:
    import numpy

    cpu = platform.processor() or platform.machine()
    return (f"{os.cpu_count()} cores {cpu}, Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"{platform.system()} {platform.release()}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tiny", action="store_true", help="a few seconds in all; numbers mean nothing")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    print(f"machine: {machine()}")
    results = {"machine": machine(), "record": bench_record.main(args.tiny),
               "export": bench_export.main(args.tiny), "startup": bench_startup.main(args.tiny),
               "scale": bench_scale.main(args.tiny), "map": bench_map.main(args.tiny),
               "class": bench_class.main(args.tiny), "classify": bench_classify.main(args.tiny),
               "returns": bench_returns.main(args.tiny),
               "training": bench_training.main(args.tiny)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
