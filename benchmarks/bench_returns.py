"""Reading returned files (issue 23): 300 returns of mixed formats (the class's .xlsx as written,
LibreOffice's .ods and .xls of them) in an LMS download tree (one folder per student), each read
by ``stepviz.returns.read_return`` in its limited child process, in a fresh process: the total
time and that process's peak memory (VmHWM), its children's peak (ru_maxrss), against reading
the same files with python-calamine in the process itself (values only, no bound: what a
hostile file would abort). Then hostile files, each timed: a cell at XFD1048576 (.xlsx and .ods), a shared
string referenced 60,000 times, a zip bomb, a truncated file."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

TARGET_300_S = 30.0
TARGET_PEAK_MB = 500
TARGET_HOSTILE_S = 2.0

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from stepviz.returns import Unreadable, find_returns, read_return
files = find_returns(sys.argv[2])
ok = bad = 0
for f in files:
    try:
        read_return(f)
        ok += 1
    except Unreadable:
        bad += 1
seconds = time.perf_counter() - t0
import stepviz.returns
stepviz.returns._stop()  # the worker is reaped: its peak counts in ru_maxrss
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
json.dump({"seconds": seconds, "files": len(files), "read": ok, "unreadable": bad, "peak_mb": int(hwm) / 1024,
           "children_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}, open(sys.argv[1], "w"))  # noqa: SIM115
"""

BASELINE = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from python_calamine import CalamineWorkbook
n = 0
for f in sorted(p for p in Path(sys.argv[2]).rglob("*") if p.is_file()):
    wb = CalamineWorkbook.from_path(str(f))
    for name in wb.sheet_names:
        n += len(wb.get_sheet_by_name(name).to_python())
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
json.dump({"seconds": time.perf_counter() - t0, "rows": n, "peak_mb": int(hwm) / 1024}, open(sys.argv[1], "w"))
"""


# ---------------------------------------------------------------- files (the tests build theirs here too)


def minimal_xlsx(path, sheet_xml: bytes, shared: bytes | None = None):
    """An .xlsx written by hand: one sheet named S, optional shared strings."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    typ = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            f'<?xml version="1.0"?><Types xmlns="{pkg}/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            f'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{typ}.sheet.'
            f'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="{typ}.worksheet+xml"/>'
            + (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{typ}.sharedStrings+xml"/>'
               if shared is not None else "") + "</Types>"),
        "_rels/.rels": (f'<?xml version="1.0"?><Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
                        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="S" '
                            'sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            + (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
               if shared is not None else "") + "</Relationships>"),
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet {ns}><sheetData>'.encode()
        + sheet_xml + b"</sheetData></worksheet>",
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = f'<?xml version="1.0"?><sst {ns}>'.encode() + shared + b"</sst>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return Path(path)


def minimal_ods(path, rows: str):
    """An .ods written by hand: one table named S holding ``rows`` (table:table-row elements)."""
    ns = "urn:oasis:names:tc:opendocument:xmlns"
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{ns}:office:1.0" '
               f'xmlns:table="{ns}:table:1.0" xmlns:text="{ns}:text:1.0" office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name="S">{rows}</table:table></office:spreadsheet>'
               "</office:body></office:document-content>")
    manifest = (f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="{ns}:manifest:1.0" '
                'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type='
                '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path='
                '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return Path(path)


ODS_ONE = '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'


def far_ods(path):
    """The .ods twin of ``xfd``: empty rows and columns repeated up to a value at XFD1048576."""
    return minimal_ods(path, f'<table:table-row>{ODS_ONE}</table:table-row><table:table-row table:number-rows-'
                             'repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/>'
                             '</table:table-row><table:table-row><table:table-cell table:number-columns-repeated='
                             f'"16383"/>{ODS_ONE}</table:table-row>')


def xfd(path):
    """30 bytes of XML that calamine would spread over 1,048,576 x 16,384 cells (550 GB)."""
    return minimal_xlsx(path, b'<row r="1"><c r="A1"><v>1</v></c></row>'
                              b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')


def strings_bomb(path):
    """A shared string of 1,000,000 random letters (a part under 1 MiB: no ratio bound applies)
    referenced by 60,000 cells: 60 GB once every cell holds its own copy."""
    rng = random.Random(0)
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(1_000_000))
    rows = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>0</v></c></row>' % (i, i) for i in range(1, 60_001))
    return minimal_xlsx(path, rows, shared=f"<si><t>{text}</t></si>".encode())


def zip_bomb(path):
    """A sheet part that inflates 1000:1 (50 MB of blanks)."""
    return minimal_xlsx(path, b" " * 50_000_000)


# ---------------------------------------------------------------- the benchmark


def convert(files, outdir, to, workdir):
    """LibreOffice's `--convert-to` of files, one soffice start (recalculating on load)."""
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
    from libreoffice import PROFILE

    profile = workdir / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible", "--norestore",
                    "--nologo", "--nodefault", "--nolockcheck", "--convert-to", to, "--outdir", str(outdir),
                    *map(str, files)], check=True, capture_output=True, timeout=600)
    return sorted(outdir.iterdir())


def run(script, folder):
    with tempfile.NamedTemporaryFile("r", suffix=".json") as f:
        subprocess.run([sys.executable, "-c", script, f.name, str(folder)], check=True)
        return json.load(f)


def main(tiny=False):
    import stepviz

    students, returns = (3, 6) if tiny else (30, 300)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "roster.csv").write_text("id,name\n" + "".join(f"s{k:03d},Student {k}\n" for k in range(students)))
        xlsx = [p for p in stepviz.make_class(d / "roster.csv", None, d / "class", secret="5eed") if p.suffix == ".xlsx"]
        sources = [xlsx]
        if not tiny and (shutil.which("soffice") or shutil.which("libreoffice")):
            sources.append(convert(xlsx, d / "ods", "ods", d))
            sources.append(convert(xlsx, d / "xls", "xls:MS Excel 97", d))
        tree = d / "download"
        for k in range(returns):
            src = sources[k % len(sources)][(k // len(sources)) % students]
            folder = tree / f"Student {k} 学生_{100000 + k}_assignsubmission_file"
            folder.mkdir(parents=True)
            shutil.copy(src, folder / f"{src.stem} return{src.suffix}")
        ours, base = run(CHILD, tree), run(BASELINE, tree)
        formats = "+".join(s[0].suffix for s in sources)
        out["read 300"] = {"stepviz_s": ours["seconds"], "baseline_s": base["seconds"],
                           "ratio": ours["seconds"] / base["seconds"], "target": TARGET_300_S, **ours,
                           "baseline_peak_mb": base["peak_mb"], "formats": formats}
        print(f"read {ours['files']} returns ({formats}): {ours['seconds']:.1f} s (target <= {TARGET_300_S:.0f} s), "
              f"{ours['read']} read, {ours['unreadable']} unreadable; peak {ours['peak_mb']:.0f} MB (target <= "
              f"{TARGET_PEAK_MB}), children's peak {ours['children_peak_mb']:.0f} MB; calamine in-process without "
              f"bounds {base['seconds']:.1f} s, peak {base['peak_mb']:.0f} MB")
        hostile = d / "hostile"
        hostile.mkdir()
        xfd(hostile / "xfd.xlsx")
        far_ods(hostile / "xfd.ods")
        strings_bomb(hostile / "strings.xlsx")
        zip_bomb(hostile / "zip-bomb.xlsx")
        (hostile / "truncated.xlsx").write_bytes(xlsx[0].read_bytes()[:10_000])
        out["hostile"] = {}
        for f in sorted(hostile.iterdir()):
            one = d / "one"
            shutil.rmtree(one, ignore_errors=True)
            one.mkdir()
            shutil.copy(f, one / f.name)
            r = run(CHILD.replace("t0 = time.perf_counter()\nfrom stepviz.returns import Unreadable, find_returns, "
                                  "read_return", "from stepviz.returns import Unreadable, find_returns, read_return\n"
                                  "import stepviz.reader, python_calamine\nt0 = time.perf_counter()"), one)
            out["hostile"][f.name] = {"seconds": r["seconds"], "bytes": f.stat().st_size, "peak_mb": r["peak_mb"],
                                      "children_peak_mb": r["children_peak_mb"], "unreadable": r["unreadable"],
                                      "target": TARGET_HOSTILE_S}
            print(f"hostile {f.name} ({f.stat().st_size:,} bytes): {r['seconds']:.2f} s (target <= "
                  f"{TARGET_HOSTILE_S:.0f} s), unreadable {r['unreadable']}/1, peak {r['peak_mb']:.0f} MB, "
                  f"child {r['children_peak_mb']:.0f} MB")
    return out


if __name__ == "__main__":
    main()
