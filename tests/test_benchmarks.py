"""Each benchmark runs in its tiny mode, so the scripts cannot rot (no timing asserts)."""
import os
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))


def test_benchmarks_run_in_tiny_mode(monkeypatch):
    import run

    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    results = run.main(["--tiny"])
    for group in ("record", "export", "startup", "classify"):
        for label, r in results[group].items():
            assert r["ratio"] > 0 and r["target"] > 0, (group, label)
    assert results["record"]["seed-mlp"]["recorded_values"] == 20 * 133
    assert results["scale"]["scale"]["rc"] == 0 and results["scale"]["scale"]["file_mb"] > 0
    assert results["scale"]["default run"]["read_trace"]["openpyxl"]["rows"] == 133
    assert results["class"]["class per student"]["ratio"] > 0
    for n in (3, 6):  # every typed answer is the true one: every return is all right, but the hostile one
        r = results["class"][f"grade {n}"]
        assert r["submissions"] == n and r["all_right"] == n - 1 and r["unreadable"] == 1, r
    returns = results["returns"]  # every return read; every hostile file refused
    assert returns["read 300"]["read"] == returns["read 300"]["files"] == 6
    assert all(r["unreadable"] == 1 for r in returns["hostile"].values()) and len(returns["hostile"]) == 5
