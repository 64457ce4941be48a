"""The highlight colours stay apart for a person with normal colour vision and for one with
deuteranopia (issue 25.4): the "both marks" fill against yellow (the focus), orange (its
sources) and the light blue of the cells one may edit, as CIEDE2000 differences of the
colours and of their simulation for deuteranopia (Machado, Oliveira & Fernandes 2009,
severity 1, applied to linear RGB), computed here from the formulas, not from a library."""
import math

import pytest

from stepviz.workbook.styles import style

# Machado et al. 2009, deuteranopia at severity 1.0 (linear RGB)
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881))
APART = 20.0  # CIEDE2000: about 2 is a just-noticeable difference; 20 reads as another colour at a glance


def linear(hex_colour: str) -> list[float]:
    out = []
    for k in (0, 2, 4):
        c = int(hex_colour[k:k + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return out


def deuteranope(rgb: list[float]) -> list[float]:
    return [min(1.0, max(0.0, sum(m * x for m, x in zip(row, rgb)))) for row in DEUTERANOPIA]


def lab(rgb: list[float]) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of linear sRGB."""
    x = 0.4124564 * rgb[0] + 0.3575761 * rgb[1] + 0.1804375 * rgb[2]
    y = 0.2126729 * rgb[0] + 0.7151522 * rgb[1] + 0.0721750 * rgb[2]
    z = 0.0193339 * rgb[0] + 0.1191920 * rgb[1] + 0.9503041 * rgb[2]
    f = lambda t: t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116  # noqa: E731
    fx, fy, fz = f(x / 0.95047), f(y / 1.0), f(z / 1.08883)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(one, two) -> float:
    """Sharma, Wu & Dalal (2005)."""
    (l1, a1, b1), (l2, a2, b2) = one, two
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    h1, h2 = math.degrees(math.atan2(b1, a1)) % 360, math.degrees(math.atan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_l, d_c, d_h = l2 - l1, c2 - c1, 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_bar, c_bar = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_bar = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_bar = (h1 + h2) / 2
    else:
        h_bar = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    r_c = 2 * math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    r_t = -math.sin(math.radians(60 * math.exp(-(((h_bar - 275) / 25) ** 2)))) * r_c
    return math.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def difference(one: str, two: str, deuteranopia: bool = False) -> float:
    sim = deuteranope if deuteranopia else (lambda rgb: rgb)
    return ciede2000(lab(sim(linear(one))), lab(sim(linear(two))))


def test_ciede2000_gives_the_published_test_values():
    """Sharma et al.'s test data, pairs 1, 7 and 17."""
    assert ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000((50, 0, 0), (50, -1, 2)) == pytest.approx(2.3669, abs=1e-4)
    assert ciede2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


def test_the_simulation_keeps_grey_and_merges_red_with_green():
    grey = linear("808080")
    assert deuteranope(grey) == pytest.approx(grey, abs=1e-3)
    assert difference("FF0000", "00A000", deuteranopia=True) < difference("FF0000", "00A000") / 3


@pytest.mark.parametrize("other", ["focus", "source", "input_fill"])
@pytest.mark.parametrize("deuteranopia", [False, True])
def test_both_marks_stand_apart_from_yellow_orange_and_the_inputs(other, deuteranopia):
    s = style()
    assert difference(s["focus_source"], s[other], deuteranopia) >= APART, (s["focus_source"], s[other])


def test_the_old_gold_would_not():
    """FFE000 beside yellow: 8.7 for normal vision, 6.0 with deuteranopia (and 4.6 beside orange)."""
    assert difference("FFE000", "FFFF00") < APART and difference("FFE000", "FFC000", True) < APART / 4


def test_black_digits_stay_readable_on_every_highlight():
    """WCAG contrast of black text on each fill: at least 7 (AAA)."""
    for role in ("focus", "source", "focus_source"):
        y = sum(w * c for w, c in zip((0.2126, 0.7152, 0.0722), linear(style()[role])))
        assert (y + 0.05) / 0.05 >= 7, role
