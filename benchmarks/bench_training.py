"""The Training sheet (issue 24): the default workbook with its live Training sheet against the
same workbook with ``live_epochs = 0``, side by side, as whole processes:

* the default ``stepviz run`` (train, write): target ≤ 5× (3× the aim);
* LibreOffice headless opening it with a full recalculation and saving it: target ≤ 3×.

Median of interleaved runs. The LibreOffice part needs soffice (skipped without it)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import interleaved

RUN_TARGET, LO_TARGET = 5.0, 3.0
PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def _stepviz(*args):
    exe = shutil.which("stepviz")
    return [exe, *args] if exe else [sys.executable, "-m", "stepviz", *args]


def main(tiny=False):
    repeat = 1 if tiny else 5
    out = {}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        epochs = ["--epochs", "200"] if tiny else []
        live = _stepviz("run", *epochs, "-o", str(d / "live.xlsx"))
        off = _stepviz("run", *epochs, "--live-epochs", "0", "-o", str(d / "off.xlsx"))
        run = lambda cmd: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # noqa: E731
        run(live), run(off)  # warm the file cache
        base, ours = interleaved(lambda: run(off), lambda: run(live), repeat)
        out["stepviz run"] = {"stepviz_s": ours, "baseline_s": base, "ratio": ours / base, "target": RUN_TARGET}
        print(f"training sheet: stepviz run {ours:.2f} s, live_epochs = 0 {base:.2f} s, ratio {ours / base:.2f} "
              f"(target <= {RUN_TARGET})")
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if soffice is None:
            print("training sheet: LibreOffice not installed, recalculation not measured")
            return out
        profile = d / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(PROFILE)

        def recalc(name):
            subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
                            "--norestore", "--nologo", "--nodefault", "--nolockcheck", "--convert-to",
                            "xlsx:Calc MS Excel 2007 XML", "--outdir", str(d / "out"), str(d / name)],
                           check=True, capture_output=True, timeout=600)

        recalc("off.xlsx")  # the profile's first start
        base, ours = interleaved(lambda: recalc("off.xlsx"), lambda: recalc("live.xlsx"), max(1, repeat - 2))
        out["libreoffice"] = {"stepviz_s": ours, "baseline_s": base, "ratio": ours / base, "target": LO_TARGET}
        print(f"training sheet: LibreOffice open + recalculate + save {ours:.2f} s, live_epochs = 0 {base:.2f} s, "
              f"ratio {ours / base:.2f} (target <= {LO_TARGET})")
    return out


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
