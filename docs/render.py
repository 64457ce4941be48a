"""Render the README's pictures from real workbooks, as LibreOffice shows them.

    python docs/render.py        (needs libreoffice-calc-nogui, poppler-utils, fonts-noto-cjk)

Each picture is a sheet of a workbook stepviz wrote (or a copy a learner edited: a moved
focus, typed answers), recalculated by LibreOffice headless and rendered to PNG.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

import stepviz

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))
from libreoffice import PROFILE  # noqa: E402  (the recalculating profile the tests use)


def pdf_pages(book: Path, work: Path) -> Path:
    """One PDF page per sheet, recalculated on load."""
    profile = work / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                    "--nolockcheck", "--convert-to",
                    'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}',
                    "--outdir", str(work), str(book)], check=True, capture_output=True)
    return work / (book.stem + ".pdf")


def render(book: Path, sheet: str, name: str, work: Path, crop_height: int | None = None,
           box: tuple[int, int, int, int] | None = None, resolution: int = 110):
    """docs/<name>.png: the page of ``sheet`` in ``book`` (its top ``crop_height`` pixels, or the
    ``box`` (x, y, width, height))."""
    page = openpyxl.load_workbook(book, read_only=True).sheetnames.index(sheet) + 1
    pdf = pdf_pages(book, work)
    box = box or ((0, 0, 2400, crop_height) if crop_height else None)
    crop = [a for k, v in zip(("-x", "-y", "-W", "-H"), box or ()) for a in (k, str(v))]
    subprocess.run(["pdftoppm", "-r", str(resolution), "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    *crop, str(pdf), str(DOCS / name)], check=True)
    print(f"wrote docs/{name}.png ({sheet} of {book.name})")


def answered(book: Path, out: Path) -> Path:
    """A copy of an exercise workbook in which a student typed answers on step 5: the right
    output_layer_input, a wrong output."""
    import re

    wb = openpyxl.load_workbook(book)
    ws = wb["1.05 output layer"]
    run = stepviz.train("seed-mlp")
    verdicts = sorted(c.value for row in ws.iter_rows() for c in row
                      if isinstance(c.value, str) and c.value.startswith("=IF(ISBLANK("))
    cells = [re.match(r"=IF\(ISBLANK\((\w+)\)", v).group(1) for v in verdicts]
    ws[cells[0]] = round(float(run.value(1, 5, "output_layer_input")[0, 0]), 3)
    ws[cells[1]] = 0.5
    wb.save(out)
    return out


def comparison(work: Path) -> Path:
    """A workbook charting the loss of gd, momentum and Adam on the seed network, from the
    three runs' workbooks (read back with stepviz.read_history)."""
    import xlsxwriter

    histories = {}
    for optimizer in ("gd", "momentum", "adam"):
        book = stepviz.write_workbook(stepviz.train("seed-mlp", optimizer=optimizer), work / f"{optimizer}.xlsx")
        histories[optimizer] = stepviz.read_history(book)
    path = work / "optimizers.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Loss")  # the chart alone; the numbers on a sheet of their own
    data = wb.add_worksheet("Data")
    data.write_row(0, 0, ["epoch", *histories])
    epochs = histories["gd"].epoch.tolist()
    for i, epoch in enumerate(epochs, 1):
        data.write_row(i, 0, [epoch, *(float(h.loss.iloc[i - 1]) for h in histories.values())])
    chart = wb.add_chart({"type": "scatter", "subtype": "straight"})
    for k, name in enumerate(histories, 1):
        chart.add_series({"name": name, "categories": ["Data", 1, 0, len(epochs), 0],
                          "values": ["Data", 1, k, len(epochs), k], "line": {"width": 2}})
    chart.set_title({"name": "seed-mlp: loss per epoch (log scale)"})
    chart.set_x_axis({"name": "epoch", "min": 0, "max": epochs[-1]})
    chart.set_y_axis({"name": "loss", "log_base": 10})
    chart.set_size({"width": 720, "height": 360})
    ws.insert_chart(0, 0, chart)
    ws.write_string(18, 11, " ")  # the page spans the chart (LibreOffice crops to used cells)
    wb.close()
    return path


def main():
    if not (shutil.which("soffice") and shutil.which("pdftoppm")):
        sys.exit("render.py needs soffice (libreoffice-calc-nogui) and pdftoppm (poppler-utils)")
    from conftest import set_focus

    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        book = stepviz.write_workbook(stepviz.train("seed-mlp"), work / "seed-mlp.xlsx")
        for step, sheet in ((3, "1.03 hidden input"), (11, "1.11 update weights"), (5, "1.05 output layer")):
            render(book, sheet, f"step-{step}", work)
        render(book, "Overview", "overview", work, crop_height=1100)
        render(set_focus(book, work / "moved.xlsx", 2, 3), "1.03 hidden input", "focus-moved", work)
        exercise = stepviz.write_workbook(stepviz.train("seed-mlp", exercise=True), work / "exercise.xlsx")
        render(answered(exercise, work / "answered.xlsx"), "1.05 output layer", "exercise", work)
        zh = stepviz.write_workbook(stepviz.train("seed-mlp", lang="zh"), work / "zh.xlsx")
        render(zh, openpyxl.load_workbook(zh, read_only=True).sheetnames[3], "zh-step-3", work)
        render(comparison(work), "Loss", "optimizers", work)
        maps(work)
        iris(work)


def maps(work: Path):
    """The Map sheets of xor and of a two-column CSV, and the Overview's Network section."""
    xor = stepviz.write_workbook(stepviz.train("xor"), work / "xor.xlsx")
    render(xor, "Map", "map-xor", work, box=(0, 0, 1584, 1125), resolution=50)
    render(xor, "Overview", "network", work, box=(0, 935, 1200, 420))
    moons = stepviz.train(None, csv=str(DOCS.parent / "examples" / "moons.csv"), target=["class"], hidden=[6],
                          epochs=5000, lr=1.0)
    book = stepviz.write_workbook(moons, work / "moons.xlsx")
    render(book, "Map", "map-moons", work, box=(0, 775, 1584, 650), resolution=50)


def iris(work: Path):
    """Classification: the iris preset's softmax and cross-entropy on batch 1 of epoch 1."""
    book = stepviz.write_workbook(stepviz.train("iris"), work / "iris.xlsx")
    render(book, "1.1.06 error", "iris-step-6", work, crop_height=1150)


if __name__ == "__main__":
    if sys.argv[1:] == ["maps"]:  # only the Map pictures
        with tempfile.TemporaryDirectory() as d:
            maps(Path(d))
    else:
        main()
