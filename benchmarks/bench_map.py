"""The Map sheet's cost where it is paid: LibreOffice opening the `xor` workbook and recalculating
every formula (a throwaway profile that forces recalculation on load, then saved as xlsx), with
the Map sheet (and the Overview's Network section and the weight bars) against the same workbook
written with `map = []`, whole soffice processes, median of interleaved runs.

`python benchmarks/bench_map.py`; skipped (no numbers) where soffice is not installed."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import interleaved

TARGET = 1.5  # the bar: the map may make opening and recalculating at most 1.5x slower

PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculate(soffice: str, book: Path, work: Path) -> None:
    profile = work / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE)
    out = work / "out"
    result = subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
                             "--norestore", "--nologo", "--nodefault", "--nolockcheck", "--convert-to",
                             "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(book)],
                            capture_output=True, text=True, timeout=600)
    if result.returncode or "Error" in result.stdout + result.stderr or not (out / book.name).is_file():
        raise RuntimeError(result.stdout + result.stderr)


def main(tiny=False):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("map: soffice not installed, skipped")
        return {}
    import stepviz

    repeat = 1 if tiny else 5
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        options = dict(epochs=20, live_epochs=0) if tiny else dict(live_epochs=0)  # the map alone (bench_training)
        without = stepviz.write_workbook(stepviz.train("xor", map=[], **options), d / "without.xlsx")
        with_map = stepviz.write_workbook(stepviz.train("xor", **options), d / "with.xlsx")
        recalculate(soffice, without, d / "warm")  # the profile's first start is slower
        base, ours = interleaved(lambda: recalculate(soffice, without, d / "a"),
                                 lambda: recalculate(soffice, with_map, d / "b"), repeat)
    out = {"xor": {"stepviz_s": ours, "baseline_s": base, "ratio": ours / base, "target": TARGET}}
    print(f"map     LibreOffice opens and recalculates xor with its Map sheet in {ours:.2f} s, without "
          f"{base:.2f} s, ratio {ours / base:.2f} (target <= {TARGET})")
    return out


if __name__ == "__main__":
    main("--tiny" in sys.argv)
