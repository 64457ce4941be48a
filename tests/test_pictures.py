"""The pictures in the docs are what docs/render.py makes of today's workbooks.

Each picture is rendered again (LibreOffice headless, once per session) and compared with the
committed one by what it shows, not by its bytes: the words on it exactly (the PDF's text, kept
beside the pictures in docs/pictures.json by render.py), its size to 2 pixels, and on a grid of
12-pixel blocks, allowing a shift of one pixel: the colour that fills a block (a colour covering
60 % of it: a cell's fill, the background; anti-aliasing and glyph edges never decide it) exactly,
and the block's mean colour (ink, lines, a chart) to 40 of 255. Measured against anti-aliasing
switched off altogether, the fills differ in 0 blocks and the means by at most 31. A changed
number, word, fill colour (gold FFE000 for yellow FFFF00 included) or a redrawn chart fails;
re-render with ``python docs/render.py`` and commit.
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))
import render  # noqa: E402

Image = pytest.importorskip("PIL.Image")  # Pillow comes with matplotlib (the test extra)

CELL = 12          # block size in pixels
FILL = 0.6         # the share of a block one colour covers to fill it
MEAN_TOL = 40      # ink and drawings: anti-aliasing off against on moves a block's mean by up to 31


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=float)


def blocks(img: np.ndarray) -> np.ndarray:
    """The picture as (rows, columns, pixels of the block, 3) blocks."""
    h, w = img.shape[0] // CELL * CELL, img.shape[1] // CELL * CELL
    cells = img[:h, :w].reshape(h // CELL, CELL, w // CELL, CELL, 3).transpose(0, 2, 1, 3, 4)
    return cells.reshape(h // CELL, w // CELL, CELL * CELL, 3)


def fills(img: np.ndarray) -> np.ndarray:
    """Each block's filling colour as one integer, -1 where no colour covers FILL of it (a colour
    covering more than half of a block is its per-channel-code median)."""
    c = blocks(img).astype(np.int64)
    code = (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]
    candidate = np.sort(code, axis=2)[..., code.shape[2] // 2]
    covered = (code == candidate[..., None]).mean(axis=2)
    return np.where(covered >= FILL, candidate, -1)


def differences(a: np.ndarray, b: np.ndarray) -> list[str]:
    """What differs between two renderings of one picture, allowing a shift of one pixel."""
    if abs(a.shape[0] - b.shape[0]) > 2 or abs(a.shape[1] - b.shape[1]) > 2:
        return [f"the size changed: {b.shape[1]}×{b.shape[0]} px, now {a.shape[1]}×{a.shape[0]}"]
    best = None
    for dy, dx in [(0, 0)] + [(y, x) for y in (-1, 0, 1) for x in (-1, 0, 1) if y or x]:
        A, B = a[max(dy, 0):, max(dx, 0):], b[max(-dy, 0):, max(-dx, 0):]
        h, w = min(A.shape[0], B.shape[0]), min(A.shape[1], B.shape[1])
        found = []
        fa, fb = fills(A[:h, :w]), fills(B[:h, :w])
        changed = (fa >= 0) & (fb >= 0) & (fa != fb)
        if changed.any():
            y, x = np.argwhere(changed)[0]
            found.append(f"the fill colour differs in {int(changed.sum())} blocks, the first at x={x * CELL}, "
                         f"y={y * CELL} px: #{fb[y, x]:06X}, now #{fa[y, x]:06X}")
        d = np.abs(blocks(A[:h, :w]).mean(axis=2) - blocks(B[:h, :w]).mean(axis=2)).max(axis=2)
        if d.max() > MEAN_TOL:
            y, x = np.unravel_index(d.argmax(), d.shape)
            found.append(f"the ink differs by {d.max():.0f} of 255 in {int((d > MEAN_TOL).sum())} blocks, "
                         f"the worst at x={x * CELL}, y={y * CELL} px")
        if best is None or len(found) < len(best):
            best = found
        if not best:  # the same picture (a fresh rendering on one machine is pixel for pixel)
            break
    return best


def word_changes(old: list[str], new: list[str]) -> str:
    import collections

    gone, added = collections.Counter(old) - collections.Counter(new), collections.Counter(new) - collections.Counter(old)
    return f"words gone: {sorted(gone.elements())[:20]}, words new: {sorted(added.elements())[:20]}"


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    from libreoffice import soffice

    soffice()  # skips without LibreOffice (fails when CI requires it)
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("pdftoppm and pdftotext (poppler-utils) are not installed")
    out = tmp_path_factory.mktemp("pictures")
    render.render_all(out)
    return out


@pytest.mark.parametrize("name", render.PICTURES)
def test_committed_picture_is_what_render_makes_today(name, rendered):
    committed = json.loads((DOCS / render.WORDS).read_text(encoding="utf-8")).get(name, "").split()
    today = json.loads((rendered / render.WORDS).read_text(encoding="utf-8"))[name].split()
    problems = differences(pixels(rendered / f"{name}.png"), pixels(DOCS / f"{name}.png"))
    if committed != today:
        problems.append(word_changes(committed, today))
    assert not problems, (f"docs/{name}.png ({render.PICTURES[name]}) is not what docs/render.py makes today: "
                          + "; ".join(problems) + ". Re-render: python docs/render.py")


# the comparison itself, on a committed picture: rendering noise passes, a changed cell fails
def test_comparison_passes_noise_and_catches_a_change():
    step3 = pixels(DOCS / "step-3.png")
    assert differences(step3, step3) == []
    shifted = np.roll(step3, 1, axis=1)
    assert differences(shifted, step3) == []
    soft = step3.copy()  # anti-aliasing of another rasteriser: every edge a little softer
    soft[1:-1, 1:-1] = 0.6 * step3[1:-1, 1:-1] + 0.1 * (step3[:-2, 1:-1] + step3[2:, 1:-1] + step3[1:-1, :-2]
                                                         + step3[1:-1, 2:])
    assert differences(soft, step3) == []
    yellow = (np.abs(step3 - [255, 255, 0]).max(axis=2) < 2)
    assert yellow.sum() > 100  # the yellow cell is there
    gold = step3.copy()
    gold[yellow] = [255, 224, 0]  # yellow FFFF00 become gold FFE000
    assert any("fill colour differs" in p and "#FFFF00, now #FFE000" in p for p in differences(gold, step3))
    line = step3.copy()  # a line of a chart drawn 3 pixels wide through the blank bottom left
    line[-20:-17, 10:130] = [40, 40, 200]
    assert any("the ink differs" in p for p in differences(line, step3))
    assert "the size changed" in differences(step3[:, :-40], step3)[0]


def test_words_that_changed_are_named():
    assert word_changes("a = 0.637 b".split(), "a = 0.638 b".split()) == "words gone: ['0.637'], words new: ['0.638']"


def test_every_picture_has_its_words():
    committed = json.loads((DOCS / render.WORDS).read_text(encoding="utf-8"))
    assert set(committed) == set(render.PICTURES)
    assert all(committed[name] for name in committed if name not in {"map-xor", "map-moons", "optimizers"})
