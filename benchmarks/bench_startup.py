"""Start-up: `stepviz --help` and `python -c "import stepviz"` against `python -c "import numpy"`,
whole processes, median of repeated runs, interleaved. Arguments are parsed before numpy is
imported and every public name of the package is lazy, so both start faster than numpy alone."""
from __future__ import annotations

import shutil
import subprocess
import sys

from common import interleaved

TARGET = 0.6  # the spec's bar for `stepviz --help`; `import stepviz` is held to it too


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
        out[label] = {"stepviz_s": ours, "baseline_s": base, "ratio": ours / base, "target": TARGET}
        print(f"startup {label:<15} {ours * 1000:.0f} ms, python -c 'import numpy' {base * 1000:.0f} ms, "
              f"ratio {ours / base:.2f} (target <= {TARGET})")
    return out


if __name__ == "__main__":
    main()
