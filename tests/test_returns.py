"""Reading returned student files: every format from a real stepviz workbook (LibreOffice's
.ods/.xls/.xlsx and openpyxl's re-saves read the same values), answers typed as text in both
decimal conventions, and hostile or broken files, each refused with a reason, in bounded time
and memory."""
import datetime
import json
import math
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepviz
from stepviz.returns import MAX_CELLS, Error, Return, Unreadable, find_returns, number_of, read_return

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "benchmarks"))
from bench_returns import minimal_xlsx, strings_bomb, xfd, zip_bomb  # noqa: E402  (the benchmark's files too)

# cells typed into the first step sheet of a real workbook, far below what stepviz wrote
TYPED = {(40, 1): "0,637", (41, 1): "1.725", (42, 1): datetime.datetime(2026, 1, 2), (43, 1): True,
         (44, 1): "=B3*2", (45, 1): "=1/0", (46, 1): 0.5, (47, 1): "−0.5"}


# ---------------------------------------------------------------- building files


@pytest.fixture(scope="session")
def returns(tmp_path_factory):
    """A real stepviz assessment workbook with typed answers (openpyxl), and LibreOffice's .ods,
    .xls and .xlsx of it (recalculated on load)."""
    from libreoffice import PROFILE, soffice

    d = tmp_path_factory.mktemp("returns")
    (d / "roster.csv").write_text("id,name\ns1,Ana\n", encoding="utf-8")
    written = stepviz.make_class(d / "roster.csv", None, d / "class", secret="5eed")
    original = next(p for p in written if p.suffix == ".xlsx")
    wb = openpyxl.load_workbook(original)
    ws = wb[wb.sheetnames[1]]
    for (r, c), v in TYPED.items():
        ws.cell(r + 1, c + 1, v)
    ws.cell(45, 2).data_type = "s"  # "=B3*2" as text, as a student types it in a text cell
    typed = d / "typed.xlsx"
    wb.save(typed)
    profile = d / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE)
    far = openpyxl.Workbook()  # a value in the last cell an .xls has (IV65536) and one in A1
    far.active["A1"], far.active["IV65536"] = 1, 2
    far.save(d / "far.xlsx")
    out = {"original": original, "openpyxl": typed}
    for to, flt in (("ods", "ods"), ("xls", "xls:MS Excel 97"), ("xlsx", "xlsx:Calc MS Excel 2007 XML")):
        target = d / f"lo-{to}"
        files = [typed] + ([d / "far.xlsx"] if to == "xls" else [])
        r = subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
                            "--norestore", "--nologo", "--nodefault", "--nolockcheck", "--convert-to", flt,
                            "--outdir", str(target), *map(str, files)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and (target / f"typed.{to}").is_file(), r.stdout + r.stderr
        out[f"lo-{to}"] = target / f"typed.{to}"
    out["far-xls"] = d / "lo-xls" / "far.xls"
    return out


# ---------------------------------------------------------------- every format reads the same


def same(a, b):
    if isinstance(b, str) and not b.strip():  # a blank of the layout: openpyxl drops it
        return a is None or a == b
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, datetime.datetime) and isinstance(b, datetime.date):  # xls/ods keep the date only
        return a.date() == (b.date() if isinstance(b, datetime.datetime) else b)
    return a == b


def test_a_real_workbook_reads_with_its_properties_and_formulas(returns):
    r = read_return(returns["original"])
    assert isinstance(r, Return) and r.kind == "xlsx"
    assert r.properties["student_id"] == "s1" and r.properties["exercise"] == "true"
    wb = openpyxl.load_workbook(returns["original"])  # an outside count of the formulas
    cells = {(ws.title, c.row - 1, c.column - 1) for ws in wb for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=")}
    assert r.formulas == len(cells) > 100 and r.formula_cells == frozenset(cells)
    assert list(r.sheets) == wb.sheetnames
    for ws in wb:  # every constant openpyxl sees, calamine reads alike
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None and not (isinstance(c.value, str) and c.value.startswith("=")):
                    assert same(r.sheets[ws.title][(c.row - 1, c.column - 1)], c.value), (ws.title, c.coordinate)


@pytest.mark.parametrize("form", ["openpyxl", "lo-ods", "lo-xls", "lo-xlsx"])
def test_resaved_files_read_the_same_values(returns, form):
    r, ref = read_return(returns[form]), read_return(returns["original"])
    assert r.kind == form.split("-")[-1] if form != "openpyxl" else r.kind == "xlsx"
    assert list(r.sheets) == list(ref.sheets)
    sheet = list(r.sheets)[1]
    for name in ref.sheets:
        for (row, col), v in ref.sheets[name].items():
            if (name, row, col) in ref.formula_cells:
                if form == "openpyxl":  # openpyxl keeps no formula's value
                    continue
                # LibreOffice recalculated it: the same number, or the same text
            assert same(r.sheets[name].get((row, col)), v), (form, name, row, col, v, r.sheets[name].get((row, col)))
    typed = r.sheets[sheet]
    assert typed[(40, 1)] == "0,637" and typed[(41, 1)] == "1.725" and typed[(47, 1)] == "−0.5"
    assert typed[(43, 1)] is True and typed[(46, 1)] == 0.5
    assert same(datetime.datetime(2026, 1, 2), typed[(42, 1)])
    if form in ("lo-ods", "lo-xlsx"):
        assert typed[(45, 1)] == Error("#DIV/0!")
    if form == "lo-xls":  # values only: formulas unknown, error values read as empty
        assert r.formulas is None and (45, 1) not in typed
    else:  # Calc stores a typed TRUE as the formula TRUE() (in .ods and .xlsx)
        extra = {(sheet, 45, 1)} | ({(sheet, 43, 1)} if form.startswith("lo-") else set())
        assert r.formula_cells == ref.formula_cells | extra and r.formulas == len(r.formula_cells)
    assert typed[(44, 1)] == "=B3*2" and number_of(typed[(44, 1)]) == (None, "a formula's text")
    verdicts = {k: number_of(typed.get(k)) for k in TYPED}
    assert verdicts[(40, 1)] == (0.637, "typed as text") and verdicts[(41, 1)] == (1.725, "typed as text")
    assert verdicts[(42, 1)] == (None, "a date") and verdicts[(43, 1)] == (None, "TRUE/FALSE, not a number")
    assert verdicts[(46, 1)] == (0.5, None) and verdicts[(47, 1)] == (-0.5, "typed as text")


def test_libreoffice_keeps_the_stepviz_properties_in_ods_and_xls(returns):
    want = read_return(returns["original"]).properties
    assert want["student_id"] == "s1" and want["student_name"] == "Ana" and len(want) > 10
    for form in ("lo-ods", "lo-xls", "lo-xlsx", "openpyxl"):
        assert read_return(returns[form]).properties == want, form


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=12), st.booleans())
def test_a_damaged_xls_gives_a_return_or_a_reason(returns, tmp_path_factory, changes, header):
    """Bytes of an .xls changed (in its header, where the sectors and chains are declared, or
    anywhere): its values, its properties or a reason, never another exception."""
    data = bytearray(returns["lo-xls"].read_bytes())
    for where, byte in changes:
        data[where % (512 if header else len(data))] = byte
    path = tmp_path_factory.mktemp("xls") / "d.xls"
    path.write_bytes(bytes(data))
    try:
        r = read_return(path)
    except Unreadable as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert r.kind == "xls" and isinstance(r.properties, dict)


def test_the_kind_comes_from_the_content_not_the_name(returns, tmp_path):
    for form, kind in (("lo-ods", "ods"), ("lo-xls", "xls"), ("original", "xlsx")):
        wrong = tmp_path / f"{form}.{'xlsx' if kind != 'xlsx' else 'ods'}"
        wrong.write_bytes(returns[form].read_bytes())
        assert read_return(wrong).kind == kind


# ---------------------------------------------------------------- numbers typed as text

@pytest.mark.parametrize("text,number", [
    ("0,637", 0.637), ("0.637", 0.637), ("-1,5", -1.5), ("1 234,5", 1234.5), ("1.234,5", 1234.5),
    ("1,234.5", 1234.5), ("\u22120.5", -0.5), (" 2.1e-3 ", 0.0021), ("2,1E-03", 0.0021), ("1,234", 1.234),
    ("1.234", 1.234), ("1\u00a0234,5", 1234.5), ("1\u202f234.5", 1234.5), ("+0,5", 0.5), (",5", 0.5),
    ("1,234,567", 1234567.0), ("1.234.567,8", 1234567.8), ("5", 5.0), ("-0", 0.0)])
def test_text_that_is_a_number(text, number):
    v, flag = number_of(text)
    assert flag == "typed as text" and v == pytest.approx(number, rel=1e-15)


@pytest.mark.parametrize("value,flag", [
    (None, None), ("", None), ("   ", None), (datetime.date(2026, 1, 2), "a date"),
    (datetime.datetime(2026, 1, 2, 3), "a date"), (datetime.time(1, 2), "a date"), (True, "TRUE/FALSE, not a number"),
    (False, "TRUE/FALSE, not a number"), (Error("#DIV/0!"), "an error value (#DIV/0!)"),
    ("=B3*2", "a formula's text"), ("=SUM(A1:A3)", "a formula's text"), ("abc", "text, not a number"),
    ("1.234.5", "text, not a number"), ("1,2,3", "text, not a number"), ("12 34", "text, not a number"),
    ("0x10", "text, not a number"), ("nan", "text, not a number"), ("inf", "text, not a number"),
    ("1e999", "text, not a number"), ("١٢", "text, not a number"), ("-2+3", "text, not a number"),
    (float("nan"), "not a finite number")])
def test_what_is_no_number_says_what_it_is(value, flag):
    assert number_of(value) == (None, flag)


def test_numbers_are_themselves():
    assert number_of(0.637) == (0.637, None) and number_of(3) == (3.0, None) and number_of(-0.0) == (0.0, None)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 8), st.booleans())
def test_a_float_formatted_either_way_parses_back(x, decimals, grouped):
    if grouped and decimals == 0:  # "1,234": read as 1.234, on purpose (see number_of)
        decimals = 1
    english = f"{x:,.{decimals}f}" if grouped else f"{x:.{decimals}f}"
    german = english.translate(str.maketrans(",.", ".,"))
    french = english.replace(",", "\u202f").replace(".", ",")
    fixed, scientific = float(f"{x:.{decimals}f}"), f"{x:.{decimals}e}"
    for text, want in ((english, fixed), (german, fixed), (french, fixed), (scientific, float(scientific)),
                       (scientific.replace(".", ","), float(scientific))):
        v, flag = number_of(text)
        assert flag == "typed as text" and v == pytest.approx(want, rel=1e-15, abs=0), text


# ---------------------------------------------------------------- hostile and broken files


def timed_unreadable(path, **kw):
    """(reason, seconds): the CPU time the reading cost (this process and its reaped children: a
    worker that died is counted), which a shared machine does not inflate; the wall time is
    bounded loosely (the benchmark measures it on a quiet machine)."""
    import resource

    def cpu():
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    t, c = time.perf_counter(), cpu()
    with pytest.raises(Unreadable) as e:
        read_return(path, **kw)
    seconds, wall = cpu() - c, time.perf_counter() - t
    assert wall < 15, wall
    reason = str(e.value)
    assert reason and "\n" not in reason and all(ch.isprintable() for ch in reason), reason
    return reason, seconds


def test_a_cell_at_xfd1048576_costs_little(tmp_path):
    path = xfd(tmp_path / "xfd.xlsx")
    assert path.stat().st_size < 2000
    reason, seconds = timed_unreadable(path)
    assert "used range" in reason and seconds < 2, (reason, seconds)


def test_an_xls_whose_used_range_is_all_of_it_is_refused(returns):
    """65,536 x 256 cells (16.8 million): more than the used ranges' bound, whatever calamine
    manages to allocate."""
    assert returns["far-xls"].stat().st_size < 20_000
    reason, seconds = timed_unreadable(returns["far-xls"])
    assert ("used ranges cover more than" in reason or "memory" in reason) and seconds < 2, (reason, seconds)


def test_a_shared_strings_bomb_is_refused(tmp_path):
    path = strings_bomb(tmp_path / "sst.xlsx")
    reason, seconds = timed_unreadable(path)
    assert "memory" in reason and seconds < 2, (reason, seconds)


def test_a_zip_bomb_is_refused_from_the_directory(tmp_path):
    path = zip_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 200_000
    reason, seconds = timed_unreadable(path)
    assert "bomb" in reason and seconds < 2, reason


def test_a_zip_that_lies_about_its_sizes_is_refused(tmp_path):
    """The directory says 100 bytes; the data inflates to 5 MB: the reader stops at 100."""
    path = minimal_xlsx(tmp_path / "liar.xlsx", b'<row r="1"><c r="A1"><v>1</v></c></row>' + b" " * 5_000_000)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    size = info.file_size.to_bytes(4, "little")
    data = bytes(data).replace(size, (100).to_bytes(4, "little"))
    path.write_bytes(data)
    reason, seconds = timed_unreadable(path)
    assert seconds < 2, reason


@pytest.mark.parametrize("case", ["truncated", "corrupt", "text", "empty", "folder", "fifo", "missing", "zip", "big"])
def test_broken_files_are_unreadable_with_a_reason(returns, tmp_path, case):
    path = tmp_path / "x.xlsx"
    data = returns["original"].read_bytes()
    if case == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif case == "corrupt":
        path.write_bytes(data[:2000] + bytes(b ^ 0x5A for b in data[2000:6000]) + data[6000:])
    elif case == "text":
        path.write_text("id,answer\ns1,0.5\n")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "folder":
        path.mkdir()
    elif case == "fifo":
        os.mkfifo(path)
    elif case == "zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("hello.txt", "hi")
    elif case == "big":
        with open(path, "wb") as f:
            f.truncate(33 * 2**20)
    reason, seconds = timed_unreadable(path)
    words = {"truncated": "not a readable", "corrupt": "not a readable", "text": "not a spreadsheet", "empty": "empty", "folder": "directory",
             "fifo": "FIFO", "missing": "no such file", "zip": "not an .xlsx", "big": "larger"}[case]
    assert words in reason and seconds < 2, reason


def test_control_characters_never_reach_the_reason():
    assert str(Unreadable("a\x1b[31m\nb\u2028c")) == "a?[31m?b?c"


def test_arguments_are_checked(tmp_path):
    with pytest.raises(stepviz.ArgumentError):
        read_return(3)
    with pytest.raises(stepviz.ArgumentError):
        read_return(tmp_path, timeout=0)
    with pytest.raises(stepviz.ArgumentError):
        find_returns([3])


def test_memory_is_bounded_in_the_child_and_the_grading_process(tmp_path):
    """Measured from outside: a fresh process reads both bombs; its own peak (VmHWM) and its
    children's (ru_maxrss) stay under the bounds."""
    xfd(tmp_path / "a.xlsx")
    strings_bomb(tmp_path / "b.xlsx")
    script = r"""
import json, resource, sys
from stepviz.returns import read_return, Unreadable
import stepviz.reader, python_calamine
base = int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1])
for p in sys.argv[1:]:
    try:
        read_return(p)
    except Unreadable as e:
        print(e, file=sys.stderr)
hwm = int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1])
print(json.dumps({"self_kb": hwm, "base_kb": base, "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""
    r = subprocess.run([sys.executable, "-c", script, str(tmp_path / "a.xlsx"), str(tmp_path / "b.xlsx")],
                       capture_output=True, text=True, timeout=120)
    m = json.loads(r.stdout)
    assert m["self_kb"] < 500 * 1024, m
    assert m["children_kb"] < m["base_kb"] + 400 * 1024 + 50 * 1024, m
    assert r.stderr.count("memory") == 2, r.stderr


def test_too_many_cells_are_refused(tmp_path):
    per_row = 1000
    rows = b"".join(b'<row r="%d">' % (i + 1) + b"".join(b'<c r="%s%d"><v>1</v></c>' % (_col(j), i + 1)
                                                        for j in range(per_row)) + b"</row>"
                    for i in range(MAX_CELLS // per_row + 1))
    path = minimal_xlsx(tmp_path / "many.xlsx", rows)
    reason, seconds = timed_unreadable(path)
    assert "non-empty cells" in reason and seconds < 4, (reason, seconds)


def _col(j):
    s = b""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = bytes([65 + r]) + s
    return s


def test_error_values_and_formulas_of_a_handmade_xlsx(tmp_path):
    path = minimal_xlsx(tmp_path / "e.xlsx", b'<row r="2"><c r="B2" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
                                             b'<c t="e" r="C2"><v>#N/A</v></c><c r="D2"><f>B2</f><v>3</v></c></row>')
    r = read_return(path)
    assert r.sheets["S"] == {(1, 1): Error("#DIV/0!"), (1, 2): Error("#N/A"), (1, 3): 3.0}
    assert r.formulas == 2 and r.formula_cells == {("S", 1, 1), ("S", 1, 3)}


# ---------------------------------------------------------------- finding the returns


def test_an_lms_download_tree(tmp_path):
    root = tmp_path / "downloads"
    files = ["Ana Lima_12345_assignsubmission_file/s1.xlsx", "李四_23456_assignsubmission_file/作业.ODS",
             "Zoë O'Neil/return.Xls", "Zoë O'Neil/nested/again.xlsm", "b.xlsx"]
    skipped = ["Ana Lima_12345_assignsubmission_file/~$s1.xlsx", ".hidden/x.xlsx", "c/.x.xlsx", "c/notes.txt",
               "c/x.csv"]
    for f in files + skipped:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_bytes(b"x")
    outside = tmp_path / "secret.xlsx"
    outside.write_bytes(b"x")
    (root / "c" / "link.xlsx").symlink_to(outside)  # out of the tree: not followed
    (root / "c" / "inside.xlsx").symlink_to(root / "b.xlsx")  # the same file as b.xlsx: once
    (root / "linked").symlink_to(tmp_path)  # a folder link: not entered
    found = find_returns(root)
    assert sorted(f.relative_to(root).as_posix() for f in found) == sorted(files)
    assert found == find_returns([str(root)]) == sorted(found, key=lambda f: (str(f).casefold(), str(f)))
    assert find_returns([root / "b.xlsx", root / "b.xlsx", root / "missing.xlsx"]) == [root / "b.xlsx",
                                                                                       root / "missing.xlsx"]


# ---------------------------------------------------------------- .ods and .xlsm by hand; the worker


def test_ods_formulas_repeated_cells_and_hostile_repeats(tmp_path):
    from bench_returns import ODS_ONE, far_ods, minimal_ods

    path = minimal_ods(tmp_path / "ok.ods", f'<table:table-row>{ODS_ONE}<table:table-cell table:formula="of:=1+1" '
                       'office:value-type="float" office:value="2"/></table:table-row><table:table-row table:number-'
                       'rows-repeated="2"><table:table-cell table:number-columns-repeated="2" table:formula="of:=1" '
                       'office:value-type="float" office:value="1"/></table:table-row>')
    r = read_return(path)
    assert r.kind == "ods" and r.sheets == {"S": {(0, 0): 1.0, (0, 1): 2.0, (1, 0): 1.0, (1, 1): 1.0, (2, 0): 1.0,
                                                  (2, 1): 1.0}}
    assert r.formulas == 5 and r.formula_cells == {("S", 0, 1), ("S", 1, 0), ("S", 1, 1), ("S", 2, 0), ("S", 2, 1)}
    reason, seconds = timed_unreadable(far_ods(tmp_path / "far.ods"))
    assert seconds < 2, reason
    many = minimal_ods(tmp_path / "many.ods", '<table:table-row table:number-rows-repeated="1000"><table:table-cell '
                       'table:number-columns-repeated="1000" table:formula="of:=1"/></table:table-row>')
    reason, seconds = timed_unreadable(many)
    assert "formula cells" in reason and seconds < 2, reason


def test_a_macro_workbook_is_xlsm(tmp_path):
    path = minimal_xlsx(tmp_path / "m.xlsm", b'<row r="1"><c r="A1"><v>1</v></c></row>')
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"sheet.main+xml",
                                                                        b"sheet.macroEnabled.main+xml")
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    r = read_return(path)
    assert r.kind == "xlsm" and r.sheets == {"S": {(0, 0): 1.0}} and r.formulas == 0


def test_the_reader_recovers_after_a_hostile_file_and_a_timeout(returns, tmp_path):
    ok = returns["original"]
    first = read_return(ok)
    with pytest.raises(Unreadable, match="memory"):
        read_return(xfd(tmp_path / "xfd.xlsx"))
    with pytest.raises(Unreadable, match=r"took more than 1e-06 s"):
        read_return(ok, timeout=1e-6)
    assert read_return(ok, memory=2**24) == first  # 16 MiB beyond the inherited: enough for a return
    with pytest.raises(Unreadable, match="more than 16 MiB of memory"):  # a worker of that size is made
        read_return(tmp_path / "xfd.xlsx", memory=2**24)
    assert read_return(ok) == first


def test_names_in_any_script_and_links(returns, tmp_path):
    folder = tmp_path / "李四 Zoë's return"
    folder.mkdir()
    target = folder / "作业 1.XLSX"
    target.write_bytes(returns["original"].read_bytes())
    (tmp_path / "link.xlsx").symlink_to(target)
    assert read_return(target).properties["student_id"] == "s1"
    assert read_return(tmp_path / "link.xlsx").sheets == read_return(target).sheets


def test_a_sheet_written_with_a_namespace_prefix(tmp_path):
    """Some writers (the Open XML SDK) spell every element with a prefix: <x:c>, <x:f>."""
    path = minimal_xlsx(tmp_path / "x.xlsx", b"")
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = (
        b'<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<x:sheetData><x:row r="1"><x:c r="A1"><x:v>2</x:v></x:c><x:c r="B1"><x:f>A1*2</x:f><x:v>4</x:v></x:c>'
        b'<x:c r="C1" t="e"><x:f>1/0</x:f><x:v>#DIV/0!</x:v></x:c></x:row></x:sheetData></x:worksheet>')
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    r = read_return(path)
    assert r.sheets == {"S": {(0, 0): 2.0, (0, 1): 4.0, (0, 2): Error("#DIV/0!")}}
    assert r.formulas == 2 and r.formula_cells == {("S", 0, 1), ("S", 0, 2)}


def test_numbers_of_numpy_and_a_path_given_as_text(tmp_path):
    import numpy as np

    assert number_of(np.float64(0.25)) == (0.25, None) and number_of(np.int64(2)) == (2.0, None)
    assert number_of(np.bool_(True)) == (None, "TRUE/FALSE, not a number")
    (tmp_path / "a.xlsx").write_bytes(b"x")
    assert find_returns(str(tmp_path)) == [tmp_path / "a.xlsx"]  # one folder, not its characters


def test_a_file_removed_or_swapped_after_the_check(tmp_path):
    """What the worker finds may differ from what the grading process checked: a file removed
    meanwhile, or one swapped for a FIFO (opened without blocking, refused)."""
    from stepviz.returns import _outcome

    assert _outcome(tmp_path / "gone.xlsx") == ("unreadable", "cannot be read (No such file or directory)")
    os.mkfifo(tmp_path / "fifo.xlsx")
    what, reason = _outcome(tmp_path / "fifo.xlsx")
    assert what == "unreadable" and reason.startswith("changed while it was read"), reason


def test_odd_names_are_kept_for_read_return_to_refuse(tmp_path):
    assert find_returns(["a\0b.xlsx"]) == [Path("a\0b.xlsx")]
    with pytest.raises(Unreadable, match="cannot be opened"):
        read_return("a\0b.xlsx")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["original", "lo-ods"]), st.integers(0, 10**9), st.binary(min_size=0, max_size=12),
       st.integers(0, 40))
def test_a_damaged_part_gives_a_return_or_a_reason_never_another_exception(returns, tmp_path_factory, form, where,
                                                                            junk, cut):
    """Inside a valid zip, one part's XML is damaged (bytes replaced, some cut out)."""
    source = returns[form]
    with zipfile.ZipFile(source) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = sorted(n for n in parts if n.endswith(".xml"))
    name = xml[where % len(xml)]
    data = parts[name]
    at = (where // len(xml)) % max(len(data), 1)
    parts[name] = data[:at] + junk + data[at + cut:]
    path = tmp_path_factory.mktemp("damaged") / f"d{source.suffix}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts.items():
            z.writestr(zipfile.ZipInfo(n) if n == "mimetype" else n, d)
    try:
        r = read_return(path)
    except Unreadable as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert isinstance(r, Return) and r.kind == ("ods" if form == "lo-ods" else "xlsx")


def test_the_worker_keeps_none_of_the_parents_files_open(returns):
    """A pipe the grading process opened before the worker was forked reaches its end when the
    grading process closes it (a worker holding a copy would keep a reader waiting forever)."""
    import select

    from stepviz.returns import _stop

    _stop()
    r, w = os.pipe()
    try:
        read_return(returns["original"])  # forks a new worker while w is open
        os.close(w)
        assert select.select([r], [], [], 5)[0] and os.read(r, 1) == b""
    finally:
        os.close(r)
