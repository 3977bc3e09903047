"""Behaviour of the whole reader (preprocessing + the shipped model) on real image files.

Photos are rendered from MNIST test digits by ``classifier.synth``: known photos must give
their known digits, changes a reader should not care about (position, tilt, size, pen,
light) must not change the answer, and pages with no digit must say so.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.bench_crops import KINDS as UCI_CROPS
from bench.bench_crops import MAP_DIGITS, MAP_KINDS
from bench.bench_crops import load_digits as load_uci_digits
from classifier import synth
from classifier.mnist_format import to_mnist
from classifier.preprocess import prepare
from classifier.reader import FILLED_HINT, DigitReader, Reading
from classifier.serving import Classifier, default_model_path
from tests.data import make_regressions
from tests.notebook_plots import notebook_plot

pytestmark = pytest.mark.behaviour

# A plain, well lit phone photo; each test changes one thing.
BASE = synth.Look(
    size=(960, 720),
    paper=synth.PAPERS["white"],
    grain=2.0,
    ink=synth.INKS["black"],
    stroke=0.11,
    digit_height=0.3,
    rotation=0.0,
    perspective=0.0,
    gradient=0.1,
    blur=0.6,
    noise=2.0,
    quality=88,
)


@pytest.fixture(scope="module")
def reader() -> DigitReader:
    return DigitReader(Classifier(default_model_path()))


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return synth.load_test_digits()


def photo(digits: Sequence[np.ndarray], look: synth.Look, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return synth.encode(synth.render_photo(rng, list(digits), look), "jpg", look.quality)


def read(reader: DigitReader, data: bytes) -> Reading:
    reading = reader.read(data)
    assert reading.error is None
    return reading


def read_whole(
    reader: DigitReader,
    digits: tuple[np.ndarray, np.ndarray],
    numbers: Sequence[Sequence[int]],
    looks: Sequence[synth.Look],
) -> int:
    """How many numbers (each the test digits it is written with), each photographed with
    its look (the k-th with seed k), are read whole."""
    x, y = digits
    return sum(
        read(reader, photo([x[i] for i in picks], look, seed=k)).number == "".join(str(y[i]) for i in picks)
        for k, (picks, look) in enumerate(zip(numbers, looks, strict=True))
    )


def test_known_photos_give_their_digits(reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    picks = range(100, 130)
    right = sum(read(reader, photo([x[i]], BASE, seed=i)).number == str(y[i]) for i in picks)
    assert right >= 28, f"{right}/30 plain photos read correctly"


@pytest.fixture(scope="module")
def clear_cases(reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, str]]:
    """Test digits read right and confidently in the plain photo: the ones whose answer
    must then survive changes that should not matter."""
    x, y = digits
    cases = []
    for i in range(200, 260):
        reading = read(reader, photo([x[i]], BASE, seed=i))
        if reading.number == str(y[i]) and reading.digits[0].confidence >= 0.95:
            cases.append((i, reading.number))
        if len(cases) == 10:
            break
    assert len(cases) == 10
    return cases


CHANGES = {
    "shifted": {"digit_height": 0.3},  # the seed moves the digit elsewhere on the page
    "tilted left": {"rotation": -8.0, "perspective": 0.03},
    "tilted right": {"rotation": 8.0, "perspective": 0.03},
    "smaller": {"digit_height": 0.14},
    "larger": {"digit_height": 0.5},
    "thin pen": {"stroke": 0.04},
    "marker": {"stroke": 0.2},
    "light gradient": {"gradient": 0.55},
    "dim": {"exposure": 0.35},
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_answer_does_not_depend_on(
    change: str,
    reader: DigitReader,
    digits: tuple[np.ndarray, np.ndarray],
    clear_cases: list[tuple[int, str]],
) -> None:
    x, _ = digits
    look = replace(BASE, **CHANGES[change])  # type: ignore[arg-type]
    changed = [
        (i, answer, got)
        for i, answer in clear_cases
        if (got := read(reader, photo([x[i]], look, seed=1000 + i)).number) != answer
    ]
    assert len(changed) <= 1, f"{change}: answers changed {changed}"


def test_a_fat_marker_8_whose_loops_filled_in_is_still_an_8(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # Strokes a third of the digit's height close an 8's loops: what is left is a solid
    # shape pinched at its waist. Taken for a blob, 27 of these 40 were "no digit".
    x, y = digits
    eights = np.flatnonzero(y == 8)[:40]
    look = replace(BASE, stroke=0.32)
    right = sum(read(reader, photo([x[i]], look, seed=int(i))).number == "8" for i in eights)
    assert right >= 28, f"{right}/40 fat marker 8s read as 8"


@pytest.mark.parametrize("digit", ["6", "9"])
def test_a_fat_marker_6_or_9_whose_loop_filled_in_is_still_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray], digit: str
) -> None:
    # A loop filled in leaves a blob with a tail, no waist: taken for a blob, 20 of these
    # 6s and 14 of these 9s were "no digit". A blob is now read when the model is sure.
    x, y = digits
    chosen = np.flatnonzero(y == int(digit))[:40]
    look = replace(BASE, stroke=0.32)
    readings = [read(reader, photo([x[i]], look, seed=int(i))) for i in chosen]
    right = sum(r.number == digit for r in readings)
    assert right >= 34, f"{right}/40 fat marker {digit}s read as {digit}"
    # One 9 is read confidently wrong, as it was when taken for a blob; no new ones.
    assert sum(r.number not in ("", digit) and not r.unsure for r in readings) <= 1


def test_a_fat_marker_digit_filling_the_frame_is_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # Strokes 28% of a digit that fills the frame meet in junctions wider than the paper
    # estimate's closing: read as paper, they left holes (25 of these 40 were read). A
    # second look with a closing half the frame wide reads 39 (``reader.assemble``).
    x, y = digits
    look = replace(BASE, fill=0.03, digit_height=0.6, stroke=0.28)
    readings = [(read(reader, photo([x[i]], look, seed=i)), str(y[i])) for i in range(300, 340)]
    right = sum(r.number == label for r, label in readings)
    assert right >= 34, f"{right}/40 fat marker close-ups read"
    assert all(r.number in ("", label) or r.unsure for r, label in readings)


def test_crops_cut_out_by_someone_else_are_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # The `crop` style: 28-100 px, either polarity, grainy, as JPEG or PNG, some framed by a
    # line. 32 of these 40 read with session 13's code (3 confidently wrong), 39 now.
    x, y = digits
    right = sure_wrong = 0
    for sample in synth.generate("crop", 40, "dev", x, y):
        reading = read(reader, sample.data)
        right += reading.number == sample.label
        sure_wrong += reading.number not in ("", sample.label) and not reading.unsure
    assert right >= 36 and sure_wrong <= 1, (right, sure_wrong)


@pytest.mark.parametrize("cmap", ["gray", "viridis"])
def test_a_notebook_plot_of_a_digit_is_read_on_its_image(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray], cmap: str
) -> None:
    # ``plt.imshow(x_test[i], cmap=...)`` saved as a 640x480 figure (tests/notebook_plots.py):
    # the digit's square, white on black or yellow on purple, in a white figure with axes and
    # numbered ticks. The square was read as one dark blob, a 0 or an 8 (2 of these 30 read
    # each way), until a canvas was looked for inside a saved picture (``canvas.find_canvas``):
    # 30 of 30 since.
    x, y = digits
    picks = list(range(0, len(x), len(x) // 30))[:30]
    right = sum(read(reader, notebook_plot(x[i], cmap)).number == str(y[i]) for i in picks)
    assert right >= 28, right


def test_a_small_dim_photo_is_read_as_a_photo(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A picture under 800 px may be a crop, whose background is allowed to stray from one
    # grey by a share of its contrast (noise, JPEG). A dim photo shrunk that small must not
    # pass for one: its paper would be taken as one grey, and its light falloff as ink. All
    # 40 read at 6% of the contrast (as with the 3% of its level alone); 38 at 10%, 34 at 30%.
    x, y = digits
    right = 0
    for sample in synth.generate("dim", 20, "dev", x, y):
        photo = cv2.imdecode(np.frombuffer(sample.data, np.uint8), cv2.IMREAD_GRAYSCALE)
        assert photo is not None
        for side in (640, 400):
            f = side / max(photo.shape)
            small = cv2.resize(photo, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            right += read(reader, synth.encode(small, "jpg", 85)).number == sample.label
    assert right >= 39, f"{right}/40"


def test_a_number_whose_digits_touch_is_read_digit_by_digit(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # Handwriting runs digits into each other. Written touching or nearly (gaps of -6% to 0
    # of their height), 9 of these 40 three-digit numbers were read right before a part as
    # wide as several digits was offered cut (``classifier.segments``), 21 with cuts through
    # two strokes of parts 1.1 times as wide as tall, 23 with bent cuts (session 15), 24 now
    # that pieces the model is fairly sure of are read too, "not sure" (2 of the 24); none
    # of the rest confidently wrong with three digits (a 4's stem cut from its arm was read
    # as a "1" at 0.97: "not sure" for that).
    x, y = digits
    right = 0
    for k in range(40):
        picks = [500 + 3 * k + j for j in range(3)]
        look = replace(BASE, gap=(-0.06, 0.0), rotation=float(k % 5 - 2))
        reading = read(reader, photo([x[i] for i in picks], look, seed=k))
        label = "".join(str(y[i]) for i in picks)
        right += reading.number == label
        assert reading.number == label or reading.unsure or len(reading.number) != 3, (label, reading.number)
    assert right >= 22, f"{right}/40"


def test_writing_on_another_line_is_mentioned_and_one_line_is_not(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # Only the main row is read (the one with the most ink). Two lines of 1-3 digits: the
    # answer says there is more writing (39 of 40 measured; a 1 over a 7 grouped into one
    # digit). One line, in every photo style of the dev split: never (0 of 1,900 measured).
    x, y = digits
    rng = np.random.default_rng(5)
    noted = 0
    for k in range(20):
        top, bottom = (rng.integers(0, len(x), int(rng.integers(1, 4))) for _ in range(2))
        picture = synth.lines_of_writing([list(x[top]), list(x[bottom])], gap=int(rng.integers(8, 20)))
        look = replace(BASE, stroke=None, digit_height=0.55, rotation=float(rng.uniform(-5, 5)))
        reading = read(reader, photo([picture], look, seed=k))
        lines = ("".join(map(str, y[top])), "".join(map(str, y[bottom])))
        noted += reading.other_lines and reading.number in lines
    assert noted >= 18, f"{noted}/20"
    one_line = [
        synth.make_sample(style, index, "dev", x, y)
        for style in (*synth.PHOTO_LOOKS, "number3", "number5-6")
        for index in range(3)
    ]
    assert not [s.name for s in one_line if read(reader, s.data).other_lines]


def test_a_pebble_on_the_page_is_no_digit(reader: DigitReader) -> None:
    rng = np.random.default_rng(3)
    hints: set[str] = set()
    for k in range(6):
        page = np.full((720, 960), 200.0, np.float32) + np.linspace(-20, 20, 960, dtype=np.float32)
        axes = (int(rng.integers(30, 50)), int(rng.integers(45, 60)))
        cv2.ellipse(page, (480, 360), axes, float(rng.uniform(0, 180)), 0, 360, 40.0, -1)
        blurred = cv2.GaussianBlur(page, (0, 0), 1.5)
        reading = read(reader, synth.encode(np.clip(blurred, 0, 255).astype(np.uint8), "jpg"))
        assert reading.number == "", (k, reading.number)
        assert reading.hint, k
        hints.add(reading.hint)
    assert FILLED_HINT in hints  # the oval ones, taken for a fat marker's digit until read


def test_a_pebble_beside_a_number_does_not_hide_it(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A blob has no say in which row the digits are or how tall they are: a dark thing on
    # the page, bigger than the digits, would otherwise win the row and leave no number.
    x, y = digits
    expected = f"{y[1]}{y[2]}"
    for k, (centre, axes, height) in enumerate(
        [
            ((700, 360), (60, 110), 80),
            ((700, 380), (40, 70), 60),
            ((480, 600), (70, 40), 70),
            ((800, 200), (50, 90), 50),
        ]
    ):
        page = np.full((720, 960), 200.0, np.float32) + np.linspace(-20, 20, 960, dtype=np.float32)
        for i, left in ((1, 200), (2, 200 + height)):
            alpha = synth.stroke_alpha(x[i], height, 0.1)
            h, w = alpha.shape
            region = page[320 : 320 + h, left : left + w]
            region[:] = region * (1 - alpha) + 30 * alpha
        cv2.ellipse(page, centre, axes, 20, 0, 360, 40.0, -1)
        blurred = np.clip(cv2.GaussianBlur(page, (0, 0), 1.5), 0, 255).astype(np.uint8)
        assert read(reader, synth.encode(blurred, "jpg")).number == expected, k


def test_a_number_is_read_left_to_right(reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    look = replace(BASE, digit_height=0.16, gap=(0.2, 0.35))
    right = 0
    for start in (300, 310, 320, 330):
        picked = list(range(start, start + 4))
        expected = "".join(str(y[i]) for i in picked)
        reading = read(reader, photo([x[i] for i in picked], look, seed=start))
        assert len(reading.digits) == 4, reading.number
        boxes = [d.box[0] for d in reading.digits]
        assert boxes == sorted(boxes)
        right += reading.number == expected
    assert right >= 3


def test_digits_on_squared_and_ruled_paper(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = digits
    right = 0
    for k, i in enumerate(range(400, 412)):
        look = replace(BASE, lines="grid" if k % 2 else "ruled", line_spacing=0.05, stroke=0.08)
        right += read(reader, photo([x[i]], look, seed=i)).number == str(y[i])
    assert right >= 11


@pytest.mark.parametrize(
    "page",
    [
        {},
        {"lines": "ruled"},
        {"lines": "grid", "line_spacing": 0.04},
        {"shadow": 0.5, "shadow_soft": 10.0, "gradient": 0.5},
        {"paper": synth.PAPERS["yellow"], "show_through": 0.15},
        {"exposure": 0.3},
    ],
)
def test_a_page_without_writing_gives_no_digit(reader: DigitReader, page: dict[str, object]) -> None:
    reading = read(reader, photo([], replace(BASE, **page)))  # type: ignore[arg-type]
    assert reading.digits == [] and reading.hint


@pytest.mark.parametrize(("index", "looked_closer"), [(46, True), (96, False), (75, False), (181, False)])
def test_a_faint_mark_on_an_empty_page_is_no_digit(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray], index: int, looked_closer: bool
) -> None:
    # Empty pages of the calibration split.
    # - 46, 96: the analysis image shows a faint speck a few pixels tall, too small to judge
    #   by its shape there; the sharper region finds no ink at all. The speck used to be
    #   read from the analysis image (as a 4 or a 1). Since session 26, more of 96's grid
    #   is found under the shadow across it (``photo_ink.HIDDEN_LINE``), and with no other
    #   part left beside it the speck is a mark near the frame: nothing to look at closer.
    # - 75, 181: marks with under 85% of their surroundings clearly brighter, trimmed to
    #   their pixels darker than both sides in the analysis image (photo_layout.VALLEY_BELOW),
    #   leave nothing to look at closer. Before session 17, 75's was looked at closer (and
    #   found to be no digit) and 181's was read as a 1.
    sample = synth.make_sample("empty-paper", index, "calibration", *digits)
    reading = read(reader, sample.data)
    assert reading.digits == [] and reading.hint
    assert ("region" in prepare(sample.data).notes) is looked_closer


@pytest.mark.parametrize(("index", "split"), [(393, "dev"), (315, "calibration")])
def test_a_blank_squared_page_s_line_pieces_are_no_digit_when_its_lines_are_searched_thicker(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray], index: int, split: str
) -> None:
    # Empty squared pages: pieces of their lines, left in the analysis image, are looked at
    # closer, and every part of the region is one with its lines. Searched again for thicker
    # lines (``preprocess.THICKER_LINES``), what is left are the lines' slivers, far shorter
    # than those pieces: read as "484" and as an 11-digit number ("not sure") before they
    # were held to half the pieces' height (``THICKER_FOUND``; session 33).
    sample = synth.make_sample("empty-paper", index, split, *digits)
    reading = read(reader, sample.data)
    assert reading.digits == [] and reading.hint
    assert "region" in prepare(sample.data).notes


def test_a_digit_broken_into_pieces_beyond_the_region_read_closer_makes_the_answer_unsure(
    reader: DigitReader,
) -> None:
    # A pencil 17 on squared paper: removing the grid broke the 7 into pieces, left out in the
    # analysis image as smaller than the 1, and the region read closer, cut around the 1,
    # never saw them. The answer "1" was sure (session 33); the pieces may be a digit.
    data = (PROBE_PHOTOS / "heavy_grid" / "pencil-17-broken-7.jpg").read_bytes()
    reading = read(reader, data)
    assert reading.number == "17" or (reading.number == "1" and reading.unsure and reading.left_out)


@pytest.mark.parametrize("index", [54, 194])
def test_the_rim_of_a_cast_shadow_is_not_the_digit(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray], index: int
) -> None:
    # Along a cast shadow's edge, the paper estimate leaves dark rims taken for ink. With
    # 79-87% of their surroundings brighter they passed as ink (70%), and one was answered,
    # sure, instead of the digit elsewhere on the page ("1" for this 7, "4" for this 5).
    # Parts below 85% are now first trimmed to their pixels darker than both sides.
    x, y = digits
    sample = synth.make_sample("shadow", index, "dev", x, y)
    reading = read(reader, sample.data)
    assert reading.number == sample.label, (sample.label, reading.number)


@pytest.mark.parametrize(("style", "index", "split"), make_regressions.PHOTOS)
def test_photos_once_read_wrong_are_read(reader: DigitReader, style: str, index: int, split: str) -> None:
    # Rendered from the full test set, and again here from the digits they show (see
    # tests/data/make_regressions.py for what went wrong with each).
    sample, digest = make_regressions.rendered_again(style, index, split)
    # Else the renderer changed, and this is no longer the photo that was read wrong.
    assert make_regressions.digest(sample.data) == digest, "run tests/data/make_regressions.py"
    assert read(reader, sample.data).number == sample.label


def test_photos_of_scenes_give_no_digit(reader: DigitReader) -> None:
    found = []
    for seed in range(6):
        scene = synth.render_scene(np.random.default_rng(seed), (960, 720))
        reading = read(reader, synth.encode(scene, "jpg", 85))
        found.append(reading.number)
    assert sum(n == "" for n in found) >= 5, found


def test_drawings_crops_and_transparent_pngs(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = digits
    right = 0
    for style in ("paint-black-on-white", "paint-white-on-black", "transparent", "mnist28"):
        for sample in synth.generate(style, 6, "report", x, y):
            right += read(reader, sample.data).number == sample.label
    assert right >= 23


def test_screenshots_of_paint_programs(reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]) -> None:
    # Menus, icons and status text around the canvas (desktop and phone, PNG and Telegram's
    # JPEG): read on the canvas alone, 30 of these 30 (28 before the canvas was cut out; on
    # 100 of them, 99 against 88).
    x, y = digits
    samples = list(synth.generate("screenshot", 30, "report", x, y))
    right = sum(read(reader, sample.data).number == sample.label for sample in samples)
    assert right >= 29, f"{right}/30"


def test_a_digit_drawn_with_a_one_pixel_pencil_on_a_4k_canvas(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A paint program's pencil: aliased lines one pixel wide. Before the analysis image
    # kept them, 0 of 60 such drawings (PNG or JPEG, digits 12-70% of the canvas) were read.
    x, y = digits
    right = 0
    for index in range(200, 210):
        picture = synth.paint_drawing(x[index], (3840, 2160), 540, (1500, 800))
        for extension in ("png", "jpg"):
            right += read(reader, synth.encode(picture, extension, 90)).number == str(y[index])
    assert right >= 18, f"{right}/20"  # one 9 reads as a 7 in both formats


def test_a_small_digit_drawn_with_a_fat_brush(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A 21-px brush on a 72-px digit fills its loops. While drawings were judged by their
    # shape, 18 of these 30 were read; 27 since with model 1.2.0 (two 1s read as 9s, a 5 as
    # an 8) and 25 with 1.3.0 (also a 6 as a 5, a 2 as a 6; on 180 dev-split drawings with
    # 13-21 px brushes the two models read the same).
    x, y = digits
    picks = range(300, 330)
    right = 0
    for index in picks:
        picture = synth.paint_drawing(x[index], (800, 600), 72, (300, 250), brush=10)
        right += read(reader, synth.encode(picture, "png")).number == str(y[index])
    assert right >= 24, f"{right}/30"


def mouse_stroke(points: Sequence[tuple[float, float]], rng: np.random.Generator) -> np.ndarray:
    """A stroke drawn with a mouse along ``points``: nearly straight, wobbling a pixel or two."""
    ends = np.asarray(points, np.float64)
    steps = np.linspace(0.0, 1.0, 40, endpoint=False)[:, None]
    path = np.concatenate([a + steps * (b - a) for a, b in itertools.pairwise(ends)] + [ends[-1:]])
    wobble = np.cumsum(rng.normal(0.0, 0.5, path.shape), axis=0).clip(-2, 2)
    return np.asarray(np.round(path + wobble), np.int32)


def test_a_drawings_straight_strokes_are_not_taken_for_ruled_lines(reader: DigitReader) -> None:
    # A 7, an open 4 and a 9 with a straight tail, drawn with a mouse on a 1152x648 canvas:
    # two long straight strokes (or one wobbling) were taken for ruled lines and removed
    # until session 23; 36 of these 45 were read (a 7 "no digit", a 4 read 6, a 9 read 0).
    loop = [(640 + 90 * np.cos(a), 190 + 90 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 60)]
    shapes = {
        "7": [[(540, 80), (740, 80), (660, 560)]],
        "4": [[(570, 80), (540, 330), (740, 330)], [(690, 60), (690, 560)]],
        "9": [[(730, 190), (725, 560)]],
    }
    answers = []
    for label, strokes in shapes.items():
        for seed in range(5):
            for width in (2, 4, 8):
                rng = np.random.default_rng(seed)
                lines = [mouse_stroke(s, rng) for s in strokes]
                if label == "9":
                    lines.append(np.round(np.asarray(loop)).astype(np.int32))
                canvas = np.full((648, 1152, 3), 255, np.uint8)
                cv2.polylines(canvas, lines, False, (0, 0, 0), width, cv2.LINE_AA)
                answers.append((label, read(reader, synth.encode(canvas, "png")).number))
    wrong = [a for a in answers if a[0] != a[1]]
    assert len(wrong) <= 1, wrong


def pen_digit(strokes: Sequence[Sequence[tuple[float, float]]]) -> np.ndarray:
    """A digit written as pen strokes (points in a 100x160 box), in MNIST's 28x28 format."""
    canvas = np.zeros((224, 224), np.uint8)
    for stroke in strokes:
        points = np.round((np.asarray(stroke) + np.array([62.0, 32.0])) * 16).astype(np.int32)
        cv2.polylines(canvas, [points], False, 255, 12, cv2.LINE_AA, 4)
    return to_mnist(canvas)


def test_a_continental_1_is_a_1_and_a_7_stays_a_7(reader: DigitReader) -> None:
    # A 1 that starts with a long upstroke, as much of Europe writes it. MNIST's writers
    # rarely made one: model 1.2.0, before training on flagged 1s (augment.continental_ones),
    # read 3 of these 24 photos as 1 and the rest as 7; 1.3.0 reads 20 as 1.
    ones = [
        [[(70 - length, 10 + length * drop), (70, 10), (70, 150)]]
        for length in (30, 40, 50)
        for drop in (0.8, 1.2)
    ]
    sevens = [
        [[(10, 15), (95, 15), (40, 155)]],
        [[(10, 15), (95, 15), (40, 155)], [(35, 85), (90, 85)]],  # crossed
        [[(10, 35), (10, 15), (95, 15), (40, 155)]],  # with a hook
    ]
    looks = [replace(BASE, rotation=tilt, stroke=stroke) for tilt in (-5.0, 5.0) for stroke in (0.07, 0.14)]
    read_ones = [
        read(reader, photo([pen_digit(s)], look, seed=i)).number for i, s in enumerate(ones) for look in looks
    ]
    read_sevens = [
        read(reader, photo([pen_digit(s)], look, seed=i)).number
        for i, s in enumerate(sevens)
        for look in looks
    ]
    assert read_ones.count("1") >= 19, read_ones
    assert read_sevens.count("7") == len(read_sevens), read_sevens


def marked(digit: np.ndarray, kind: str) -> np.ndarray:
    """An MNIST digit circled (open a little, as a hand draws it), boxed or underlined."""
    canvas = np.zeros((64, 64), np.uint8)
    canvas[18:46, 18:46] = digit
    if kind == "circle":
        cv2.ellipse(canvas, (32, 32), (21, 25), 5, 0, 330, 255, 2, cv2.LINE_AA)
    elif kind == "box":
        cv2.rectangle(canvas, (9, 8), (55, 56), 255, 2, cv2.LINE_AA)
    else:
        cv2.line(canvas, (14, 48), (50, 47), 255, 2, cv2.LINE_AA)
    return canvas


def wood(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A desk with a wood grain: brown stripes a few pixels wide, wavering. RGB float32."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    across = -xx * np.sin(angle) + yy * np.cos(angle)
    wave = 12 * np.sin(xx / rng.uniform(60, 120) + yy / rng.uniform(80, 160))
    grain = 0.5 + 0.5 * np.sin((across + wave) / rng.uniform(6, 12))
    brown = np.array([1.0, 0.8, 0.6], np.float32)
    return np.asarray((rng.uniform(60, 110) * (0.75 + 0.25 * grain))[..., None] * brown, np.float32)


def banded_desk(rng: np.random.Generator) -> np.ndarray:
    """A 1280x960 desk with no grain but broad, wavering light and dark bands, lit unevenly
    across. RGB float32."""
    yy, xx = np.mgrid[0:960, 0:1280].astype(np.float32)
    bands = np.sin(yy / rng.uniform(15, 50) + 3 * np.sin(xx / 250 + rng.uniform(0, 6)))
    lit = np.linspace(rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.15), 1280, dtype=np.float32)[None, :]
    return np.asarray(
        (rng.uniform(50, 110) * (1 + 0.2 * bands) * lit)[..., None] * np.array([1.0, 0.8, 0.6], np.float32)
    )


def blotchy_desk(rng: np.random.Generator) -> np.ndarray:
    """A 1280x960 desk out of focus: smooth grey blotches, no grain. RGB float32."""
    blotches = cv2.GaussianBlur(rng.normal(0, 1, (960, 1280)).astype(np.float32), (0, 0), rng.uniform(40, 90))
    level = rng.uniform(90, 150) * (1 + 0.15 * blotches / (blotches.std() + 1e-6))
    return np.asarray(level[..., None] * np.array([1.0, 0.97, 0.95], np.float32), np.float32)


def on_the_desk(rng: np.random.Generator, page: np.ndarray, turn: np.ndarray, desk: np.ndarray) -> bytes:
    """A photographed page (float32 RGB) laid on a 1280x960 ``desk`` where the affine ``turn``
    puts it, photographed again: slightly blurred, with sensor noise, as a JPEG."""
    placed = cv2.warpAffine(page, turn, (1280, 960))
    cover = cv2.warpAffine(np.ones(page.shape[:2], np.float32), turn, (1280, 960))[..., None]
    scene = np.asarray(cv2.GaussianBlur(placed * cover + desk * (1 - cover), (0, 0), 0.8), np.float64)
    scene += rng.normal(0, 2, desk.shape)
    return synth.encode(np.clip(scene, 0, 255).astype(np.uint8), "jpg", 88)


def card_and_turn(
    rng: np.random.Generator,
    digit: np.ndarray,
    widths: tuple[float, float],
    heights: tuple[float, float],
    tilt: float,
    room: tuple[float, float, float, float],
    gradient: float = BASE.gradient,
) -> tuple[np.ndarray, np.ndarray]:
    """A photographed card (float32 RGB, 4:3) ``widths`` px wide with ``digit`` on it,
    ``heights`` of it tall, and the affine turn that lays it on a desk: tilted up to ``tilt``
    degrees, within ``room`` (left, right, top, bottom)."""
    width = int(rng.uniform(*widths))
    look = replace(BASE, size=(width, width * 3 // 4), digit_height=rng.uniform(*heights), gradient=gradient)
    card = synth.render_photo(rng, [digit], look).astype(np.float32)
    turn = np.asarray(cv2.getRotationMatrix2D((width / 2, width * 3 / 8), rng.uniform(-tilt, tilt), 1.0))
    left, right, top, bottom = room
    turn[:, 2] += np.array([rng.uniform(left, right - width), rng.uniform(top, bottom - width * 3 // 4)])
    return card, turn


def cards_read(
    reader: DigitReader,
    digits: tuple[np.ndarray, np.ndarray],
    seed: int,
    first: int,
    card: tuple[tuple[float, float], tuple[float, float], float, tuple[float, float, float, float]],
    desk: Callable[[np.random.Generator], np.ndarray],
    gradient: float = BASE.gradient,
) -> list[bool]:
    """Whether each of 20 cards (``card_and_turn``'s widths, heights, tilt and room) is read,
    laid on the ``desk`` its generator makes: the i-th with generator ``seed`` + i and test
    digit ``first`` + i."""
    x, y = digits
    right = []
    for i in range(20):
        rng = np.random.default_rng(seed + i)
        photo_of_card, turn = card_and_turn(rng, x[first + i], *card, gradient=gradient)
        right.append(
            read(reader, on_the_desk(rng, photo_of_card, turn, desk(rng))).number == str(y[first + i])
        )
    return right


def test_a_page_on_a_wooden_desk_is_read(reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]) -> None:
    # The desk's grain around the page was ink to the paper's estimate: its pieces were read
    # as digits beside the one on the page, or instead of it. Before session 23 (``photo_page``)
    # 7 of these 20 were read.
    x, y = digits
    right = []
    for i in range(20):
        rng = np.random.default_rng(i)
        height, stroke = rng.uniform(0.12, 0.3), rng.uniform(0.05, 0.11)
        look = replace(BASE, size=(900, 680), digit_height=height, stroke=stroke)
        page = synth.render_photo(rng, [x[100 + i]], look).astype(np.float32)
        desk = wood(rng, 960, 1280)
        turn = np.asarray(cv2.getRotationMatrix2D((450, 340), rng.uniform(-12, 12), 1.0), np.float64)
        turn[:, 2] += np.array([190 + rng.uniform(-80, 80), 140 + rng.uniform(-60, 60)])
        right.append(read(reader, on_the_desk(rng, page, turn, desk)).number == str(y[100 + i]))
    assert sum(right) >= 17, right


def test_a_small_card_on_a_wooden_desk_is_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A card covering 5-15% of the photo: the desk was looked for only around a page covering
    # a fifth of the frame at least, and the grain around a smaller one made the photo "a
    # scene", or was read as digits (session 29).
    right = cards_read(
        reader,
        digits,
        100,
        300,
        ((300, 480), (0.3, 0.45), 15, (200, 1200, 150, 900)),
        partial(wood, h=960, w=1280),
    )
    assert sum(right) >= 16, right


def test_a_small_card_on_a_smooth_desk_is_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A card covering 5-15% of the photo, on a desk with no grain but broad light and dark
    # bands (a helper's probe, session 37): the card's edge was read as a "1" beside its
    # digit, or the bands made the photo "a scene". Before ``Desk.card``, 5 of these 20 read, 19 since.
    right = cards_read(
        reader, digits, 1300, 700, ((300, 480), (0.3, 0.45), 20, (100, 1180, 100, 860)), banded_desk
    )
    assert sum(right) >= 17, right


def test_light_blue_ink_on_brown_kraft_paper_is_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # In grey, light blue ink is as bright as brown kraft paper: every one of these looked
    # like a blank page (a helper's probe, session 38), read in colour since (19 of 20).
    x, y = digits
    look = replace(BASE, paper=(176, 138, 96), ink=(96, 168, 226))
    right = sum(read(reader, photo([x[i]], look, seed=i)).number == str(y[i]) for i in range(400, 420))
    assert right >= 18, f"{right}/20"


def test_a_page_on_a_smooth_blotchy_desk_is_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A page covering a fifth to a third of the photo, its digit small, on a desk out of
    # focus: smooth grey blotches, no grain, not dark enough for a dark desk. The desk was
    # "ink" all around, and the photo "a scene" (two helpers' probes, session 38). Before
    # ``Desk.plain``, 1 of these 20 read, 16 since.
    right = cards_read(
        reader, digits, 1500, 800, ((560, 760), (0.12, 0.22), 12, (40, 1240, 20, 940)), blotchy_desk
    )
    assert sum(right) >= 14, right


def test_a_card_read_alone_is_not_sure_only_when_ink_around_it_was_left_out(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A review (session 37): cards and pages on plain desks, read right and sure, all became
    # "not sure" once read alone; only ink left out around the card says something may be
    # missing (``preprocess.CARD_INK_LEFT``).
    x, y = digits
    rng = np.random.default_rng(1300)
    card, turn = card_and_turn(rng, x[700], (300, 480), (0.3, 0.45), 20, (100, 1180, 100, 860))
    plain = (
        90
        * np.linspace(0.85, 1.1, 1280, dtype=np.float32)[None, :, None]
        * np.ones((960, 1280, 3), np.float32)
    )
    marked = cv2.line(
        plain.copy(), (60, 300), (70, 520), (20.0, 20.0, 20.0), 10
    )  # a pen's stroke on the desk
    for desk, left_out in ((plain, False), (marked, True)):
        reading = read(reader, on_the_desk(np.random.default_rng(0), card, turn, desk))
        assert reading.number == str(y[700]) and reading.left_out == left_out, (reading.number, left_out)


def test_a_card_on_an_evenly_lit_dark_desk_is_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A desk lit so evenly that the frame is one flat grey made the photo a drawing, light on
    # that grey: the card was the digit, read as a sure "0" (a helper's probe, session 37:
    # 14 of 23 such photos read wrong, 7 of them sure). Before ``off_page_on_flat_desk``,
    # 2 of these 20 were read.
    right = cards_read(
        reader,
        digits,
        1200,
        600,
        ((300, 560), (0.35, 0.55), 20, (100, 1180, 100, 860)),
        lambda rng: np.full((960, 1280, 3), rng.uniform(25, 90), np.float32),  # flat, dark
        gradient=0.0,
    )
    assert sum(right) >= 18, right


def test_a_hand_s_shadow_over_the_page_is_no_writing(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A hand held over the page casts its palm's shadow from the frame and its fingers'
    # across the middle: each finger, narrower than the paper's estimate follows, was read
    # as a 1, or the digit on them was one part with them (session 30: 11 of these 20 read
    # before, and 3 of the blank pages answered "no digit").
    x, y = digits
    right, blank = [], []
    for i in range(20):
        rng = np.random.default_rng(700 + i)
        look = replace(
            BASE,
            shadow=rng.uniform(0.3, 0.5),
            shadow_soft=rng.uniform(4.0, 16.0),
            fingers=int(rng.integers(2, 5)),
            gradient=0.2,
        )
        right.append(
            read(reader, synth.encode(synth.render_photo(rng, [x[500 + i]], look), "jpg", 88)).number
            == str(y[500 + i])
        )
        blank.append(read(reader, synth.encode(synth.render_photo(rng, [], look), "jpg", 88)).number == "")
    assert sum(right) >= 17 and sum(blank) >= 18, (right, blank)


PROBE_PHOTOS = Path(__file__).resolve().parent.parent / "data"


@pytest.mark.parametrize(
    ("folder", "name", "number"),
    [
        # The page's edge beside the digits, a line far thinner than their strokes, was read
        # as a "1", sure: "65341" and "12" (session 23).
        ("edge_lines", "dim-page-edge-6534.jpg", "6534"),
        ("edge_lines", "page-on-desk-2.jpg", "2"),
        # An open notebook's page edge, a clipboard's edge: narrow, far taller than the digits
        # and drawn thinner, it won the row as a "1" and the number was left out as much
        # smaller (session 32; handwriting fonts' digits).
        ("edge_lines", "open-notebook-edge-80.jpg", "80"),
        ("edge_lines", "clipboard-edge-38.jpg", "38"),
        # Cut by the side of the region read closer: a page's edge half as tall as the
        # digits, a grid line's piece as tall, drawn thinner, were read as a sure "1" at
        # either end of the number: "0431", "107559" (session 34).
        ("edge_lines", "page-edge-at-side-043.jpg", "043"),
        ("edge_lines", "grid-line-at-side-07559.jpg", "07559"),
        # A notebook's red margin line, as dark as ink in grey, from the photo's top to its
        # bottom, won the row as a close-up's "1" (95-100%, or a double margin's pieces
        # grouped), and the digit beside it was dropped as much smaller (session 24).
        ("margin_lines", "margin-beside-5.jpg", "5"),
        ("margin_lines", "margin-beside-7.jpg", "7"),
        ("margin_lines", "double-margin-0.jpg", "0"),
        # A digit written across the margin line was one part with it, rejected with it
        # ("98"); a stretch of the line darker than the faint ruling it is measured with was
        # kept as ink on it, read as a "1", and the number beside it left out as smaller
        # (session 31).
        ("margin_lines", "margin-through-983.jpg", "983"),
        ("margin_lines", "margin-darker-beside-5.jpg", "5"),
        ("margin_lines", "margin-beside-small-81.jpg", "81"),
        # A double margin line the digits touch: the region read closer cut it short, no
        # longer across the page, and kept it with them ("nothing shaped like a digit", "4").
        ("margin_lines", "double-margin-against-6.jpg", "6"),
        ("margin_lines", "double-margin-through-47639.jpg", "47639"),
        # A screenshot of a ruled page: a sliver of the margin line's edge, left in the region
        # read closer, was read as a "1" beside the 9 ("19").
        ("margin_lines", "screenshot-margin-sliver-9.jpg", "9"),
        # A coloured note on a dark, mottled desk: the desk's blotches were "ink" over a tenth
        # of the frame, on no plain paper, and the photo was "a scene" (session 24).
        ("dark_desk", "note-on-dark-desk-2.jpg", "2"),
        ("dark_desk", "note-on-dark-desk-91.jpg", "91"),
        # Dotted (bullet journal) paper: the dots, grouped, chained into one part as big as
        # the page, read as a sure "8" around the 3; nothing was found of the 12 (session 24).
        ("dotted_paper", "dotted-3.jpg", "3"),
        ("dotted_paper", "dotted-12.jpg", "12"),
        # Squared paper with heavy lines, removed in the analysis image but wider than ruled
        # lines may be in the region read closer, where they stayed, one part with the
        # digits: "nothing shaped like a digit" (session 24).
        ("heavy_grid", "heavy-grid-5.jpg", "5"),
        ("heavy_grid", "heavy-grid-14.jpg", "14"),
        # A heavy grid's or ruling's lines blurred wider in the region read closer than the
        # analysis image's showed: only their thinner stretches were found there, and the
        # rest kept every digit one part with them (session 33). The bright page is read as
        # a flat background too, whose region's lines, cut short by it, were searched as a
        # drawing's, which cross all of it: either change reads it (the unit test on a
        # scanned squared page holds the second).
        ("heavy_grid", "blurred-grid-6.jpg", "6"),
        ("heavy_grid", "blurred-grid-5.jpg", "5"),
        ("heavy_grid", "blurred-ruled-4.jpg", "4"),
        ("heavy_grid", "bright-grid-28.jpg", "28"),
        # A page filling the frame is read as a flat background: a strip of desk in the
        # frame's corner, above or below the number, was read as a "1" ("19", "31"); and in
        # the region read closer, a page's edge twice as tall as the row, "1766" (session 34).
        ("frame_slivers", "dotted-9-desk-corner.jpg", "9"),
        ("frame_slivers", "red-3-desk-strip.jpg", "3"),
        ("frame_slivers", "pink-766-page-edge.jpg", "766"),
        # A printed header above the number, a date written small in the corner: their many
        # letters or digits held more ink and won the row: "42784754885", "8649" (session 24).
        ("other_writing", "header-above-32.jpg", "32"),
        ("other_writing", "date-beside-17.jpg", "17"),
        # Scans of digits written on a form's answer line across 0.6-0.8 of the page: no lone
        # line crossing nearly all of it, the line stayed, one part with the digits standing
        # on it, and nothing shaped like a digit was found (session 25).
        ("line_written_on", "line-under-1.jpg", "1"),
        ("line_written_on", "line-under-3.jpg", "3"),
        ("line_written_on", "line-under-9216.jpg", "9216"),
        # Digits in handwriting fonts (each a person's hand; session 26). A marker's number
        # hid so much of two squared-paper lines across it that they were not found: what
        # was left of them joined four digits into one long "dash", and only the last was
        # read. Close-ups in pencil on ruled lines magnified to several pixels thick: too
        # thick to be found as lines, they stayed in the ink with the digit on them, and
        # nothing shaped like a digit (or a blank page) was the answer.
        ("hidden_lines", "marker-70535-on-squared.jpg", "70535"),
        ("magnified_lines", "pencil-2-on-a-line.jpg", "2"),
        ("magnified_lines", "pencil-3-close-up.jpg", "3"),
        ("magnified_lines", "pencil-4-close-up.jpg", "4"),
        # A page on a wooden desk under a phone's hard shadow (session 27): the shadowed part
        # of the page, too dark for its bright region, was taken for desk, and its digits
        # were wiped with the desk's grain: "nothing found", or a sure "1" (the page's edge).
        ("phone_shadow", "shadow-across-9866.jpg", "9866"),
        ("phone_shadow", "shadow-over-edge-585.jpg", "585"),
        # Dim photos at a phone's high ISO (grey 15-30 of 255): the paper's noise set the
        # thresholds so high that no stroke cleared them, "the page looks blank" (session 27).
        ("dim_noisy", "dim-noisy-5450.jpg", "5450"),
        ("dim_noisy", "dim-noisy-5.jpg", "5"),
        # Light writing on a dark surface (session 28): chalk on a board, a marker on black
        # paper, a phone's dark-mode drawing app. Read as dark ink, as every photo was, the
        # answer was nothing found or a scene.
        ("light_writing", "chalkboard-9860.jpg", "9860"),
        ("light_writing", "black-paper-654.jpg", "654"),
        ("light_writing", "dark-screen-5793.jpg", "5793"),
        # Pages on a desk with things around them (session 29): a finger and a pen across the
        # page's edge made bays of desk in its bright region, and the desk was not found: its
        # pattern was read as writing, "a scene" or a sure "1" (the keyboard beside the 3).
        ("things_on_the_desk", "finger-and-pen-716.jpg", "716"),
        ("things_on_the_desk", "gingham-5793.jpg", "5793"),
        ("things_on_the_desk", "floral-529.jpg", "529"),
        ("things_on_the_desk", "laptop-and-mug-3.jpg", "3"),
        # A hand's shadow over the page (session 30): its fingers, narrower than the paper's
        # estimate follows, were "ink" as dark as the shadow, one part with the digit on them
        # ("nothing shaped like a digit"), or a "1" beside the 2 of a 20.
        ("hand_shadow", "fingers-on-ruled-9.jpg", "9"),
        ("hand_shadow", "fingers-over-blue-7.jpg", "7"),
        ("hand_shadow", "fingers-beside-20.jpg", "20"),
        # A finger's shadow cut a margin line short and left ruling stuck to it (session
        # 32): the 4 in the box of the two was grouped with them, and with the ruling below
        # the group reached across the page, rejected as a line ("nothing shaped like a digit").
        # (Since the lines fanned out by perspective are found, that ruling is removed and the
        # line is rejected alone; the unit test keeps the group's case.)
        ("hand_shadow", "finger-tip-over-margin-4.jpg", "4"),
        # Ruled pages photographed steeply aslant (session 32): perspective fanned their lines
        # out wider than the tilts searched around the strongest; those beyond stayed in the
        # ink, one part with the digits on them ("nothing shaped like a digit", "3" for 53).
        ("steep_perspective", "steep-ruled-0.jpg", "0"),
        ("steep_perspective", "steep-ruled-7.jpg", "7"),
        ("steep_perspective", "steep-ruled-53.jpg", "53"),
    ],
)
def test_outside_probe_photos(reader: DigitReader, folder: str, name: str, number: str) -> None:
    # Phone photos from outside-in probes: rendered by generators written apart from
    # ``synth``, from dev-range MNIST test digits or (session 26) handwriting fonts' digits
    # (SIL Open Font License); each was read wrong before its fix.
    assert read(reader, (PROBE_PHOTOS / folder / name).read_bytes()).number == number


@pytest.mark.parametrize("seed", range(4))
def test_a_dim_noisy_blank_page_is_no_digit(reader: DigitReader, seed: int) -> None:
    # A dim photo of nothing, at a phone's high ISO: read again smoothed as a noisy photo in
    # which nothing was found is (``NOISY_PHOTO``), its noise must not become digits.
    rng = np.random.default_rng(seed)
    page = rng.normal(20 + 7 * seed, 6 + 2 * seed, (960, 1280, 3))
    image = cv2.GaussianBlur(np.clip(page, 0, 255).astype(np.uint8), (0, 0), 0.6)
    data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 40])[1].tobytes()
    assert read(reader, data).number == ""


def test_light_writing_on_a_dark_surface_is_read(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # The plain photo's negative: light strokes on a dark, grainy, unevenly lit surface, as
    # chalk on a board is. Read as dark ink only, 2 of these 40 were read; 37 since session
    # 28, as many as of the photos themselves.
    x, y = digits

    def negative(i: int) -> bytes:
        return synth.encode(
            255 - synth.render_photo(np.random.default_rng(i), [x[i]], BASE), "jpg", BASE.quality
        )

    right = sum(read(reader, negative(i)).number == str(y[i]) for i in range(440, 480))
    assert right >= 36, f"{right}/40"


def test_a_dim_page_with_a_glint_is_read_as_dark_ink(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A dim photo (paper at grey 70) is mostly dark, and is read again as light writing,
    # where a glint beside its digit is a "1". That reading answers only when its digits
    # lie around everything the dark-ink reading found: 17 of these 20 are read, 1 without.
    x, y = digits

    def dim_with_glint(i: int) -> bytes:
        dim = 0.3 * synth.render_photo(np.random.default_rng(i), [x[i]], BASE)
        h, w = dim.shape[:2]
        cv2.line(dim, (int(0.85 * w), int(0.2 * h)), (int(0.86 * w), int(0.45 * h)), (200, 200, 200), 5)
        return synth.encode(dim.astype(np.uint8), "jpg", BASE.quality)

    right = sum(read(reader, dim_with_glint(i)).number == str(y[i]) for i in range(440, 460))
    assert right >= 16, f"{right}/20"


def test_a_white_screen_in_a_dark_room_is_not_light_writing(reader: DigitReader) -> None:
    # A phone photo of a drawing app's white screen, with moiré, in a dark room (a helper's
    # camera probe, session 28; a handwriting font's 3): mostly dark, it is read again as
    # light writing, where the edge of the screen's light was a sure "1". Light all over, it
    # is no writing (``LIGHT_WRITING_INK``).
    reading = read(
        reader, (PROBE_PHOTOS / "light_writing" / "white-screen-in-a-dark-room-3.jpg").read_bytes()
    )
    assert reading.number in ("", "3") or reading.unsure


def test_a_phone_on_a_dark_desk_is_no_digit(reader: DigitReader) -> None:
    # A mostly dark photo, read again as light writing, must not take a light thing's
    # outline for it: a phone's edge on a dark desk was read as a sure "0" while light
    # writing could be as tall as the photo.
    rng = np.random.default_rng(5)
    desk = np.clip(rng.normal(40, 5, (960, 1280)), 0, 255).astype(np.uint8)
    cv2.rectangle(desk, (470, 130), (810, 830), 170, 22)
    lit = desk * np.linspace(0.6, 1.4, 1280)[None, :]  # light falling off: no flat background
    image = cv2.GaussianBlur(lit.clip(0, 255).astype(np.uint8), (0, 0), 1.2)
    data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
    assert read(reader, data).number == ""


@pytest.mark.parametrize("name", ["anna-letters-apart.jpg", "anna-joined-up.jpg"])
def test_a_word_is_never_a_sure_number(reader: DigitReader, name: str) -> None:
    # "Anna" in two handwriting fonts (session 26): its capital read as a sure "4", the
    # lowercase letters left out as much smaller than it (apart) or as a dash (joined up).
    reading = read(reader, (PROBE_PHOTOS / "words" / name).read_bytes())
    assert reading.number == "" or reading.unsure


@pytest.mark.parametrize("kind", ["circle", "box", "underline"])
def test_a_circled_boxed_or_underlined_digit_is_the_digit(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray], kind: str
) -> None:
    # An answer circled or underlined, a digit in a form's box. Grouped with the digit, a
    # ring was read as a 0 and a line under it made it another digit: 2, 2 and 33 of these
    # 40 were read right before; 40, 40 and 39 now.
    x, y = digits
    look = replace(BASE, stroke=None)  # MNIST's own strokes, the mark as drawn
    picks = range(400, 440)
    right = sum(read(reader, photo([marked(x[i], kind)], look, seed=i)).number == str(y[i]) for i in picks)
    assert right >= 37, f"{right}/40"


@pytest.mark.parametrize("mark", ["underline", "circle"])
def test_a_circled_or_underlined_number_is_the_number(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray], mark: str
) -> None:
    # Numbers of 2-3 digits underlined from under the first digit to past the last, a little
    # aslant, or circled closely enough for the ring to run into the first or last digit
    # (``synth._marked``). The line was grouped with the digits above it, and the ring
    # dropped with the digit it touched: 24 and 11 of these 30 were read before, 28 and 29
    # now (28 without a mark: a 6 read as 4, a 2 as 7).
    numbers = [range(600 + 3 * k, 600 + 3 * k + 2 + k % 2) for k in range(30)]
    looks = [replace(BASE, mark=mark, digit_height=0.25 if len(picks) == 2 else 0.2) for picks in numbers]
    right = read_whole(reader, digits, numbers, looks)
    assert right >= 27, f"{right}/30"


# Of the 30 numbers below, 26 and 21 were read before; 29 and 29 now (a 1 read as 6).
RIGHT_TURNED = {25.0: 28, 30.0: 28}


@pytest.mark.parametrize("turn", [25.0, 30.0])
def test_a_number_photographed_turned_is_read_whole(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray], turn: float
) -> None:
    # A page photographed 25-30 degrees off level, either way: each digit stands half its
    # width above the one before, and was grouped with its neighbour's foot, or the rest of
    # the row was taken for another line; or, read whole, a leaning 7 was read as a 2. The
    # row is read turned level too (``row_tilt``).
    numbers = [range(800 + 3 * k, 803 + 3 * k) for k in range(30)]
    looks = [replace(BASE, rotation=turn if k % 2 else -turn, digit_height=0.2) for k in range(30)]
    right = read_whole(reader, digits, numbers, looks)
    assert right >= RIGHT_TURNED[turn], f"{right}/30"


def test_a_two_digit_number_photographed_turned_is_read_whole(
    reader: DigitReader, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # Two digits photographed 30-35 degrees off level, either way, read apart but leaning
    # (a 7 read as a 2), or grouped as one. Two parts alone were turned only when one was
    # taken for another line: 34 of these 60 were read whole then, 39 now.
    numbers = [range(900 + 2 * k, 902 + 2 * k) for k in range(30)] * 2
    looks = [
        replace(BASE, rotation=turn if k % 2 else -turn, digit_height=0.25)
        for turn in (30.0, 35.0)
        for k in range(30)
    ]
    right = read_whole(reader, digits, numbers, looks)
    assert right >= 37, f"{right}/60"


@pytest.mark.parametrize("crop", UCI_CROPS)
def test_crops_of_digits_written_by_other_people(reader: DigitReader, crop: str) -> None:
    # 1,797 UCI digits by 13 writers outside MNIST, 8x8 crops whose strokes run into the
    # frame and whose loops the 8x8 blocks fill in (tests/data/make_uci.py). Before crops
    # were told from photos, 3% (light ink) and 48% (dark ink) of the 8x8 ones were read;
    # while tiny pictures were judged by shape, 94-95% of the 32x32 and 28x28 ones; enlarged
    # 16 times, 88.3% and 85.5% (169 and 222 "no digit") while a picture that big was taken
    # for a scene by its blurred edges; 97.2% since (``photo_ink.no_finer_than_tiny``).
    # The same crops as bench/bench_crops.py.
    images, labels = load_uci_digits()
    right = 0
    for image, label in zip(images, labels, strict=True):
        right += read(reader, synth.encode(UCI_CROPS[crop](image), "png")).number == str(label)
    assert right >= 0.96 * len(images), f"{right}/{len(images)}"


@pytest.mark.parametrize(
    ("crop", "share"),
    [
        ("15x16, light on dark", 0.92),
        ("15x16, dark on light", 0.92),
        ("120x128 (enlarged 8 times), light on dark", 0.91),
        ("120x128 (enlarged 8 times), dark on light", 0.91),
    ],
)
def test_crops_so_tight_that_strokes_are_most_of_the_frame(
    reader: DigitReader, crop: str, share: float
) -> None:
    # Digits cut out of Dutch utility maps (UCI "multiple features", tests/data/make_mfeat.py):
    # 15x16, thick strokes along most of the frame, where the frame's median is ink. Every
    # fourth of the 2,000 (50 of each digit): 318 and 435 of 500 read while such a picture
    # was taken for a photo of dark ink; 467 since its polarity is told by the pieces its
    # background is cut into (``photo_ink.two_toned_background``). Enlarged 8 times (too big
    # to be enlarged for analysis), 379 and 424 were read until such a picture was told by its
    # lack of detail (``photo_ink.no_finer_than_tiny``); 462 since. Read in MNIST's frame, 94%
    # of all 2,000 are (bench/bench_crops.py): the rest is the model's (closed 4s read as 6).
    images, labels = load_uci_digits(MAP_DIGITS)
    right = sum(
        read(reader, synth.encode(MAP_KINDS[crop](image), "png")).number == str(label)
        for image, label in zip(images[::4], labels[::4], strict=True)
    )
    assert right >= share * len(images[::4]), f"{right}/{len(images[::4])}"


def test_unreadable_files_are_errors_not_digits(reader: DigitReader) -> None:
    reading = reader.read(b"GIF89a but then nothing")
    assert reading.error and not reading.digits
