"""A class and its grading, whole processes. `stepviz class` for 30 students, per student,
against one default `stepviz run` (median of interleaved runs); `stepviz grade` of 300
default (`seed-mlp`) returns with every answer typed, in mixed formats (a tenth saved as .ods
and a tenth as .xls by LibreOffice, the rest .xlsx), its time and its peak memory (the grading
process's and the largest of its reading children's) against grading 30 (memory must not grow
with the number of files); and one hostile file (a cell at XFD1048576) graded with the class. Each process's CPU time
(user + system) is reported beside its wall time: on a shared machine the wall time varies
with the other load, the CPU time much less."""
from __future__ import annotations

import csv
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TARGET_CLASS = 1.3  # per student, against one `stepviz run`
TARGET_GRADE_S = 30.0  # 300 submissions
TARGET_GRADE_MB = 500.0

CHILD = r"""
import json, sys, time
t = time.perf_counter()
from stepviz.cli import main
rc = main(sys.argv[2:])
import resource
import stepviz.returns
stepviz.returns._stop()  # reap the reading worker, so that its peak is counted below
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest reading child
with open(sys.argv[1], "w") as f:
    print(json.dumps({"rc": rc, "seconds": time.perf_counter() - t, "peak_mb": int(hwm) / 1024,
                      "child_peak_mb": children}), file=f)
"""


def timed(cmd, cwd):
    """(wall seconds, CPU seconds) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def roster(path, n):
    path.write_text("id,name\n" + "".join(f"s{k:04d},Student {k}\n" for k in range(n)))


def type_answers(folder, out):
    """Type every answer of every workbook of a class (the true value at the question's focus,
    as stored), by editing the sheets' XML: a blank answer cell gets a number; the returns go
    to ``out``."""
    from stepviz.classroom import load_course
    from stepviz.grading import Key

    course = load_course(folder)
    base = course.config()
    for student in course.students:
        key = Key(course, base, student)
        by_sheet = {}
        for (e, n, name), (sheet, (r, c)) in key.cells.items():
            v = key.run.value(e, n, name)
            f = tuple(min(a, b) - 1 for a, b in zip(key.run.config.focus, v.shape))
            by_sheet.setdefault(sheet, []).append((r, c, float(v[f])))
        path = folder / "handout" / student.file
        with zipfile.ZipFile(path) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        rels = dict(re.findall(rb'Id="(rId\d+)" Type="[^"]*/worksheet" Target="([^"]+)"',
                               parts["xl/_rels/workbook.xml.rels"]))
        part_of = {html_unescape(name.decode()): "xl/" + rels[rid].decode()
                   for name, rid in re.findall(rb'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"',
                                               parts["xl/workbook.xml"])}
        for sheet, cells in by_sheet.items():
            xml = parts[part_of[sheet]]
            for r, c, v in cells:
                ref = cell_ref(r, c).encode()
                xml, k = re.subn(rb'<c r="' + ref + rb'" s="(\d+)"/>',
                                 rb'<c r="' + ref + rb'" s="\1"><v>' + repr(v).encode() + rb"</v></c>", xml)
                assert k == 1, (path, sheet, ref)
            parts[part_of[sheet]] = xml
        path = out / student.file
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for n, data in parts.items():
                z.writestr(n, data)


def html_unescape(s):
    import html

    return html.unescape(s)


def cell_ref(r, c):
    from xlsxwriter.utility import xl_rowcol_to_cell

    return xl_rowcol_to_cell(r, c)


def convert(files, outdir, to, workdir):
    """Save ``files`` as ``to`` (ods, xls) with LibreOffice, one soffice start; remove the originals."""
    import shutil

    if shutil.which("soffice") is None:  # no LibreOffice: the returns stay .xlsx
        return
    profile = workdir / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    filters = {"ods": "ods", "xls": "xls:MS Excel 97"}
    subprocess.run([shutil.which("soffice"), f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
                    "--norestore", "--nologo", "--nodefault", "--nolockcheck", "--convert-to", filters[to],
                    "--outdir", str(outdir), *map(str, files)], check=True, capture_output=True, timeout=1200)
    for f in files:
        assert (outdir / (f.stem + "." + to)).is_file(), f
        f.unlink()


def xfd(path):
    """A return with one more typed cell, at XFD1048576 (its sheet's used range is the whole grid)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = "xl/worksheets/sheet3.xml"
    parts[name] = re.sub(rb"<dimension ref=\"[^\"]*\"/>", b'<dimension ref="A1:XFD1048576"/>', parts[name])
    parts[name] = parts[name].replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


def grade(folder, returns, cwd):
    with tempfile.NamedTemporaryFile("r", suffix=".json") as f:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", CHILD, f.name, "grade", "-q", str(folder), str(returns)], cwd=cwd,
                       check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(f.name) as result:
            out = json.load(result)
    out["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out


def main(tiny=False, grade_only=False):
    import numpy as np

    students, graded, repeat = (3, (3, 6), 1) if tiny else (30, (30, 300), 5)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        roster(d / "roster.csv", students)
        exe = [sys.executable, "-m", "stepviz"]
        if grade_only:
            repeat = 0
        one = exe + ["run", "-q", "-o", "one.xlsx"]
        klass = exe + ["class", "roster.csv", "-o", "c", "-q", "--secret", "5eed"]
        runs, classes = [], []
        for _ in range(repeat):  # interleaved; the same class folder is written again (same bytes)
            runs.append(timed(one, d))
            classes.append(timed(klass, d))
        if repeat:
            run_wall, run_cpu = np.median(runs, axis=0)
            class_wall, class_cpu = np.median(classes, axis=0) / students
            out["class per student"] = {"stepviz_s": class_wall, "baseline_s": run_wall, "ratio": class_wall / run_wall,
                                        "cpu_ratio": class_cpu / run_cpu, "target": TARGET_CLASS, "students": students}
            print(f"class {students} students: {class_wall:.3f} s per student (CPU {class_cpu:.3f} s), one stepviz "
                  f"run {run_wall:.3f} s (CPU {run_cpu:.3f} s), ratio {class_wall / run_wall:.2f} (CPU "
                  f"{class_cpu / run_cpu:.2f}) (target <= {TARGET_CLASS})")
        for n in graded:
            roster(d / f"roster{n}.csv", n)
            folder = d / f"g{n}"
            subprocess.run(exe + ["class", f"roster{n}.csv", "-o", folder.name, "-q", "--secret", "5eed"], cwd=d,
                           check=True)
            returns = d / f"returns{n}"
            returns.mkdir()
            type_answers(folder, returns)
            files = sorted(returns.iterdir())
            tenth = max(1, n // 10)
            convert(files[:tenth], returns, "ods", d)
            convert(files[tenth:2 * tenth], returns, "xls", d)
            xfd(files[-1])  # hostile: its student's row says unreadable, the class is graded
            kinds = {k: sum(p.suffix == k for p in returns.iterdir()) for k in (".xlsx", ".ods", ".xls")}
            r = grade(folder, returns, d)
            with open(folder / "grades.csv", newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            r["submissions"] = len(rows)
            r["formats"] = kinds
            r["all_right"] = sum(row["score"] == row["max_score"] and not row["flags"] for row in rows)
            r["unreadable"] = sum(row["status"].startswith("unreadable") for row in rows)
            out[f"grade {n}"] = r
            print(f"grade {n} returns ({', '.join(f'{v} {k}' for k, v in kinds.items())}), every answer typed: "
                  f"{r['seconds']:.1f} s (CPU {r['cpu_s']:.1f} s), peak {r['peak_mb']:.0f} MB (reading child "
                  f"{r['child_peak_mb']:.0f} MB), {r['all_right']}/{len(rows)} all right, {r['unreadable']} unreadable"
                  + (f" (target <= {TARGET_GRADE_S:.0f} s, <= {TARGET_GRADE_MB:.0f} MB)" if n == 300 else ""))
    return out


if __name__ == "__main__":
    main(grade_only="--grade-only" in sys.argv)
