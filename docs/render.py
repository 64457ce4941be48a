"""Render every picture the README and the docs pages show, from real workbooks, as LibreOffice
shows them:

    python docs/render.py            (needs libreoffice-calc-nogui, poppler-utils, fonts-noto-cjk)

Each picture is a sheet of a workbook stepviz wrote (or a copy a learner edited: a moved focus,
typed answers; or a teacher's feedback page), recalculated by LibreOffice headless, exported to
PDF and rendered to PNG. ``render_all(folder)`` writes them into another folder (the tests
compare those with the committed ones: tests/test_pictures.py). Every input is fixed (presets,
seeds, a fixed course secret), so the same tree renders the same pictures.
"""
from __future__ import annotations

import json
import re
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

WORDS = "pictures.json"
# every picture the pages show: name -> what it is (tests/test_docs.py checks the pages show exactly these)
PICTURES = {
    "step-3": "step 3 of the default workbook",
    "step-11": "step 11 of the default workbook",
    "step-5": "step 5 of the default workbook",
    "overview": "the Overview of the default workbook (its top)",
    "focus-moved": "step 3 with the focus typed to (2, 3)",
    "exercise": "an exercise's step 5 with a right and a wrong answer",
    "zh-step-3": "step 3 of the Chinese workbook",
    "optimizers": "the loss of gd, momentum and Adam on the seed network",
    "map-xor": "the Map sheet of xor",
    "network": "the Network section of xor's Overview",
    "map-moons": "the Map sheet of examples/moons.csv after training",
    "iris-step-6": "step 6 of iris's batch 1.1",
    "feedback": "a graded student's feedback page, as LibreOffice Calc imports it",
    "training-lr-edit": "the Training sheet's loss before and after typing lr = 0.5 on the Overview",
}


class Renderer:
    """Renders sheets into ``out``. ``render`` notes a picture; ``finish`` exports every workbook
    to PDF in one LibreOffice run (its start-up is most of the cost) and cuts the pictures."""

    def __init__(self, work: Path, out: Path):
        self.work, self.out = work, out
        self.jobs: list[tuple] = []
        self.words: dict[str, list[str]] = {}  # the words each picture shows, from the PDF's text
        self.profile = work / "profile"
        (self.profile / "user").mkdir(parents=True, exist_ok=True)
        (self.profile / "user" / "registrymodifications.xcu").write_text(PROFILE)

    def render(self, book: Path, sheet: str | int, name: str, crop_height: int | None = None,
               box: tuple[int, int, int, int] | None = None, resolution: int = 110, infilter: str | None = None):
        """<out>/<name>.png: the page of ``sheet`` (a name, or a page number) in ``book``: its top
        ``crop_height`` pixels, or the ``box`` (x, y, width, height)."""
        assert name in PICTURES, name
        page = sheet if isinstance(sheet, int) else openpyxl.load_workbook(book, read_only=True).sheetnames.index(sheet) + 1
        box = box or ((0, 0, 2400, crop_height) if crop_height else None)
        self.jobs.append((book, page, name, box, resolution, infilter, sheet))

    def finish(self):
        pdfs = self.work / "pdf"
        by_filter: dict[str | None, list[Path]] = {}
        for book, *_, infilter, _ in self.jobs:
            if book not in by_filter.setdefault(infilter, []):
                by_filter[infilter].append(book)
        for infilter, books in by_filter.items():  # one PDF page per sheet, recalculated on load
            assert len({b.stem for b in books}) == len(books), "two workbooks of one name"
            subprocess.run(["soffice", f"-env:UserInstallation=file://{self.profile}", "--headless", "--norestore",
                            "--nolockcheck", *([f"--infilter={infilter}"] if infilter else []), "--convert-to",
                            'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}',
                            "--outdir", str(pdfs), *map(str, books)], check=True, capture_output=True, timeout=600)
        for book, page, name, box, resolution, _, sheet in self.jobs:
            pdf = pdfs / (book.stem + ".pdf")
            crop = [a for k, v in zip(("-x", "-y", "-W", "-H"), box or ()) for a in (k, str(v))]
            subprocess.run(["pdftoppm", "-r", str(resolution), "-png", "-f", str(page), "-l", str(page), "-singlefile",
                            *crop, str(pdf), str(self.out / name)], check=True)
            shown = subprocess.run(["pdftotext", "-r", str(resolution), "-f", str(page), "-l", str(page), *crop,
                                    str(pdf), "-"], check=True, capture_output=True, text=True).stdout
            self.words[name] = shown.split()
            print(f"wrote {self.out / name}.png ({sheet} of {book.name})")


def answered(book: Path, out: Path) -> Path:
    """A copy of an exercise workbook in which a student typed answers on step 5: the right
    output_layer_input, a wrong output."""
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


def training_edit(work: Path) -> Path:
    """A workbook charting the default workbook's Training sheet loss as written (lr = 0.1) and
    after typing lr = 0.5 on the Overview and letting LibreOffice recalculate (both read back
    with stepviz.read_training from the files)."""
    import xlsxwriter
    from conftest import set_lr
    from libreoffice import recalculate

    book = stepviz.write_workbook(stepviz.train("seed-mlp"), work / "training.xlsx")
    (edited,) = recalculate([set_lr(book, work / "training-lr.xlsx", 0.5)], work)
    curves = {"as written: lr = 0.1": stepviz.read_training(book),
              "after typing lr = 0.5 on the Overview (LibreOffice)": stepviz.read_training(edited)}
    path = work / "training-lr-edit.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Loss")  # the chart alone; the numbers on a sheet of their own
    data = wb.add_worksheet("Data")
    data.write_row(0, 0, ["epoch", *curves])
    rows = [t.iloc[:-1] for t in curves.values()]  # every epoch's row; the last row, "after", has no loss
    for i in range(1, len(rows[0]) + 1):
        data.write_row(i, 0, [i, *(float(t.loss.iloc[i - 1]) for t in rows)])
    n = len(rows[0])
    chart = wb.add_chart({"type": "scatter", "subtype": "straight"})
    for k, name in enumerate(curves, 1):
        chart.add_series({"name": name, "categories": ["Data", 1, 0, n, 0], "values": ["Data", 1, k, n, k],
                          "line": {"width": 2}})
    chart.set_title({"name": "seed-mlp: the Training sheet's loss before and after an lr edit"})
    chart.set_x_axis({"name": "epoch", "min": 0, "max": n})
    chart.set_y_axis({"name": "loss (Training sheet, column B)", "log_base": 10})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 360})
    ws.insert_chart(0, 0, chart)
    ws.write_string(18, 11, " ")  # the page spans the chart (LibreOffice crops to used cells)
    wb.close()
    return path


def feedback(work: Path) -> Path:
    """The feedback page of a graded return: Ada Lovelace's workbook of a two-student class,
    answered from her own numbers with a slip at step 4 (another cell's value), a forgotten
    slope at step 8 and a flipped sign at step 11 (the answers after each computed from hers)."""
    from test_exercise import honest  # what a learner computes by hand from the numbers shown
    from stepviz.classroom import handout_folder, load_course
    from stepviz.grading import Key

    folder = work / "class"
    roster = work / "roster.csv"
    roster.write_text("id,name\ns001,Ada Lovelace\ns002,Alan Turing\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "stepviz", "class", str(roster), "-o", str(folder), "--secret", "5eed",
                    "-q"], check=True, capture_output=True)
    course = load_course(folder)
    ada = course.students[0]
    key = Key(course, course.config(), ada, folder)
    typed = {}
    for q in key.questions:
        _, number, name = q
        if number == 4:  # the value of another cell of the same matrix
            typed[q] = float(round(key.run.value(1, 4, name)[0, 1], 3))
        elif number == 8:  # d_output = E: the slope forgotten
            typed[q] = typed[(1, 6, "E")]
        else:
            typed[q] = honest(key.run, typed, q) * (-1 if number == 11 and name == "update_wout" else 1)
    wb = openpyxl.load_workbook(handout_folder(folder, course) / ada.file)
    for q, v in typed.items():
        sheet, (r, c) = key.cells[q]
        wb[sheet].cell(r + 1, c + 1).value = v
    returned = work / "returned"
    returned.mkdir()
    wb.save(returned / ada.file)
    subprocess.run([sys.executable, "-m", "stepviz", "grade", str(folder), str(returned), "-q"], check=True,
                   capture_output=True)
    return folder / "feedback" / "s001.html"


def maps(r: Renderer, work: Path):
    """The Map sheets of xor and of a two-column CSV, and the Overview's Network section."""
    xor = stepviz.write_workbook(stepviz.train("xor"), work / "xor.xlsx")
    r.render(xor, "Map", "map-xor", box=(0, 0, 1584, 1125), resolution=50)
    r.render(xor, "Overview", "network", box=(0, 1075, 1200, 420))
    moons = stepviz.train(None, csv=str(DOCS.parent / "examples" / "moons.csv"), target=["class"], hidden=[6],
                          epochs=5000, lr=1.0)
    book = stepviz.write_workbook(moons, work / "moons.xlsx")
    r.render(book, "Map", "map-moons", box=(0, 775, 1584, 650), resolution=50)


def render_all(out: Path = DOCS, only: set[str] | None = None):
    """Render every picture (or those named in ``only``) into ``out``."""
    if not (shutil.which("soffice") and shutil.which("pdftoppm") and shutil.which("pdftotext")):
        sys.exit("render.py needs soffice (libreoffice-calc-nogui), pdftoppm and pdftotext (poppler-utils)")
    from conftest import set_focus

    def wanted(*names):
        return only is None or bool(only & set(names))

    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        r = Renderer(work, out)
        if wanted("step-3", "step-11", "step-5", "overview", "focus-moved"):
            book = stepviz.write_workbook(stepviz.train("seed-mlp"), work / "seed-mlp.xlsx")
            for step, sheet in ((3, "1.03 hidden input"), (11, "1.11 update weights"), (5, "1.05 output layer")):
                r.render(book, sheet, f"step-{step}")
            r.render(book, "Overview", "overview", crop_height=1100)
            r.render(set_focus(book, work / "moved.xlsx", 2, 3), "1.03 hidden input", "focus-moved")
        if wanted("exercise"):
            exercise = stepviz.write_workbook(stepviz.train("seed-mlp", exercise=True), work / "exercise.xlsx")
            r.render(answered(exercise, work / "answered.xlsx"), "1.05 output layer", "exercise")
        if wanted("zh-step-3"):
            zh = stepviz.write_workbook(stepviz.train("seed-mlp", lang="zh"), work / "zh.xlsx")
            r.render(zh, openpyxl.load_workbook(zh, read_only=True).sheetnames[3], "zh-step-3")
        if wanted("optimizers"):
            r.render(comparison(work), "Loss", "optimizers")
        if wanted("map-xor", "network", "map-moons"):
            maps(r, work)
        if wanted("iris-step-6"):
            book = stepviz.write_workbook(stepviz.train("iris"), work / "iris.xlsx")
            r.render(book, "1.1.06 error", "iris-step-6", crop_height=1150)
        if wanted("feedback"):
            r.render(feedback(work), 1, "feedback", infilter="calc_HTML_WebQuery")
        if wanted("training-lr-edit"):
            r.render(training_edit(work), "Loss", "training-lr-edit")
        r.finish()
    # the words each picture shows, beside the pictures: what tests/test_pictures.py compares
    # exactly (the pixels only coarsely, since anti-aliasing and font hinting vary)
    index = out / WORDS
    words = json.loads(index.read_text(encoding="utf-8")) if index.is_file() else {}
    words.update({name: " ".join(sorted(shown)) for name, shown in r.words.items()})
    index.write_text(json.dumps({k: words[k] for k in PICTURES if k in words}, ensure_ascii=False, indent=1) + "\n",
                     encoding="utf-8")


if __name__ == "__main__":  # python docs/render.py [NAME ...]: every picture, or the named ones
    names = set(sys.argv[1:]) or None
    unknown = (names or set()) - set(PICTURES)
    if unknown:
        sys.exit(f"render.py: no picture named {', '.join(sorted(unknown))}; the pictures: {', '.join(PICTURES)}")
    render_all(DOCS, names)
