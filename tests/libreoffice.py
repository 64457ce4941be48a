"""Recalculate workbooks in LibreOffice headless (a throwaway profile that forces
recalculation on load; without it LibreOffice keeps the cached values)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str:
    """Path of soffice, or skip (fail under STEPVIZ_REQUIRE_LIBREOFFICE=1, as in CI)."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        if os.environ.get("STEPVIZ_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice (soffice) is required here but not installed")
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-calc-nogui)")
    return path


def recalculate(files: list[Path], workdir: Path) -> list[Path]:
    """Open each file in LibreOffice, recalculate everything, save as xlsx; one soffice start."""
    profile = workdir / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE)
    out = workdir / "recalculated"
    out.mkdir(exist_ok=True)
    result = subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--norestore", "--nologo", "--nodefault", "--nolockcheck",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), *map(str, files)],
        capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    # soffice exits 0 even when it could not load a file: check what it said and wrote
    assert result.returncode == 0 and "Error" not in log, log
    done = [out / f.name for f in files]
    assert all(p.is_file() and p.stat().st_size > 0 for p in done), log
    return done
