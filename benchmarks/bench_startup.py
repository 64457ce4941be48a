"""Start-up: `stepviz --help` and `python -c "import stepviz"` against `python -c "import numpy"`,
whole processes, median of repeated runs, interleaved."""
from __future__ import annotations

import shutil
import subprocess
import sys

from common import interleaved


def main(tiny=False):
    repeat = 1 if tiny else 11
    stepviz_exe = shutil.which("stepviz") or None
    help_cmd = [stepviz_exe, "--help"] if stepviz_exe else [sys.executable, "-m", "stepviz", "--help"]
    numpy = [sys.executable, "-c", "import numpy"]
    cases = {"stepviz --help": help_cmd, "import stepviz": [sys.executable, "-c", "import stepviz"]}
    run = lambda cmd: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # noqa: E731
    out = {}
    for label, cmd in cases.items():
        run(cmd), run(numpy)  # warm the file cache
        base, ours = interleaved(lambda: run(numpy), lambda: run(cmd), repeat)
        out[label] = {"stepviz_s": ours, "baseline_s": base, "ratio": ours / base, "target": 1.5}
        print(f"startup {label:<15} {ours * 1000:.0f} ms, python -c 'import numpy' {base * 1000:.0f} ms, "
              f"ratio {ours / base:.2f} (target <= 1.5)")
    return out


if __name__ == "__main__":
    main()
