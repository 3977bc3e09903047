"""Finding a paint program's canvas in a screenshot (``classifier.canvas``), and only there."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.bench_crops import MAP_DIGITS, load_digits, zoomed
from classifier import synth
from classifier.canvas import find_canvas
from classifier.imageio import decode
from classifier.preprocess import DECODE_SIDE, prepare
from tests.notebook_plots import notebook_plot

CANVAS = (300, 160, 700, 450)  # x, y, w, h in a 1366x768 screenshot


def screenshot(
    workspace: int | None = 200, digit_at: tuple[int, int] = (350, 120), height: int = 200
) -> np.ndarray:
    """Grey chrome with menu text and icons, a workspace of its own grey (None: the chrome's),
    and a white canvas at ``CANVAS`` with a black digit (an MNIST test digit) at ``digit_at``
    on it."""
    image = np.full((768, 1366), 236, np.uint8)
    cv2.rectangle(image, (0, 0), (1366, 30), 70, -1)
    for i, word in enumerate(["File", "Edit", "View", "Image", "Help"]):
        cv2.putText(image, word, (10 + 70 * i, 55), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 20, 1, cv2.LINE_AA)
    for i in range(12):
        cv2.rectangle(image, (10 + 40 * i, 66), (36 + 40 * i, 92), 40 + 15 * i, -1)
    cv2.putText(image, "700 x 450px  100%", (1140, 760), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 20, 1, cv2.LINE_AA)
    if workspace is not None:
        image[110:740, 60:] = workspace
    x, y, w, h = CANVAS
    canvas = np.full((h, w), 255, np.uint8)
    digit = synth.load_test_digits()[0][0]  # a 7
    ink = cv2.resize(digit, (height, height), interpolation=cv2.INTER_CUBIC)
    dx, dy = digit_at
    part = canvas[dy : dy + height, dx : dx + height]
    part[...] = np.minimum(part, 255 - ink[: part.shape[0], : part.shape[1]])
    image[y : y + h, x : x + w] = canvas
    return image


@pytest.mark.parametrize("workspace", [200, None], ids=["own workspace", "chrome all round"])
@pytest.mark.parametrize("extension", ["png", "jpg"])
def test_the_canvas_of_a_screenshot_is_found_to_the_pixel(workspace: int | None, extension: str) -> None:
    data = synth.encode(screenshot(workspace), extension, 88)
    decoded = decode(data, min_side=DECODE_SIDE)
    box = find_canvas(decoded.gray)
    assert box is not None
    x, y, w, h = (round(v * decoded.scale) for v in box)
    cx, cy, cw, ch = CANVAS
    tolerance = 2 * decoded.scale  # a JPEG blurs the canvas's edge by a pixel or two
    assert cx <= x <= cx + tolerance and cy <= y <= cy + tolerance
    assert cx + cw - tolerance <= x + w <= cx + cw and cy + ch - tolerance <= y + h <= cy + ch


def test_a_digit_drawn_up_to_the_canvas_edge_keeps_its_strokes() -> None:
    # The digit covers the canvas's bottom rows: the box still reaches the canvas's edge.
    image = screenshot(digit_at=(300, 450 - 160), height=200)
    box = find_canvas(image)
    assert box is not None
    x, y, w, h = box
    assert y + h == CANVAS[1] + CANVAS[3] and x + w == CANVAS[0] + CANVAS[2]


def test_a_small_digit_in_a_screenshot_is_read_on_the_canvas() -> None:
    # Beside the program's menus and icons a digit a sixth of the canvas tall lost the row.
    prepared = prepare(synth.encode(screenshot(digit_at=(400, 200), height=80), "png"))
    assert prepared.notes.get("canvas") == CANVAS
    assert len(prepared.boxes) == 1
    x, y, w, h = prepared.boxes[0]
    cx, cy, _, _ = CANVAS
    # In the whole screenshot's pixels: on the digit, inside the canvas.
    assert cx + 400 <= x + 10 and x + w <= cx + 400 + 80 + 10 and cy + 200 <= y + 10 and y + h <= cy + 290


def test_a_saved_drawing_is_its_own_canvas(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    for style in ("paint-black-on-white", "paint-white-on-black", "transparent", "mnist28"):
        for sample in synth.generate(style, 4, "dev", x, y):
            assert find_canvas(decode(sample.data, min_side=DECODE_SIDE).gray) is None, sample.name


def test_photos_have_no_canvas(digits: tuple[np.ndarray, np.ndarray]) -> None:
    # Paper has grain and falling light: never one exact level over a rectangle. (All 4,800
    # cached dev and calibration images, photos, numbers, empty pages and scenes, give none.)
    x, y = digits
    for style in ("phone", "dim", "ballpoint", "grid", "empty-paper", "empty-scene"):
        for sample in synth.generate(style, 3, "dev", x, y):
            assert find_canvas(decode(sample.data, min_side=DECODE_SIDE).gray) is None, sample.name


def test_what_the_model_saw_is_shown_on_the_whole_screenshot() -> None:
    prepared = prepare(synth.encode(screenshot(digit_at=(400, 200), height=80), "png"))
    h, w = prepared.gray.shape
    assert (
        abs(w * prepared.scale - 1366) <= prepared.scale and abs(h * prepared.scale - 768) <= prepared.scale
    )
    # The box, in the screenshot's pixels, falls on the digit's dark strokes in that image.
    x, y, bw, bh = (round(v / prepared.scale) for v in prepared.boxes[0])
    assert prepared.gray[y : y + bh, x : x + bw].min() < 100


def test_a_photo_shown_on_a_phone_between_black_bars_has_no_canvas(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    # Each bar runs along three sides of the frame: a band, not a canvas (the clock on it was
    # read as the number).
    x, y = digits
    for index in range(3):
        sample = synth.make_sample("phone", index, "dev", x, y)
        photo = decode(sample.data).gray
        shown = cv2.resize(photo, (1080, round(photo.shape[0] * 1080 / photo.shape[1])))
        screen = np.zeros((2340, 1080), np.uint8)
        top = (2340 - shown.shape[0]) // 2
        screen[top : top + shown.shape[0]] = shown
        cv2.putText(screen, "12:41", (40, 50), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 255, 2)
        assert find_canvas(screen) is None


def test_blown_out_highlights_in_a_photo_are_no_canvas() -> None:
    # The top of the page clipped to white: one exact level in a band, with grain around it.
    rng = np.random.default_rng(0)
    rows = np.arange(960, dtype=np.float32)[:, None]
    page = 270 - np.maximum(0, rows - 450) * 0.12 + rng.normal(0, 2.5, (960, 1280))
    page = np.clip(page, 0, 255).astype(np.uint8)
    decoded = decode(synth.encode(page, "jpg", 90), min_side=DECODE_SIDE)
    assert find_canvas(decoded.gray) is None


@pytest.mark.parametrize("index", [209, 250])
def test_a_big_tight_crop_is_no_canvas(index: int, digits: tuple[np.ndarray, np.ndarray]) -> None:
    # A corner of background beside the strokes, bounded by the frame on two sides.
    digit = digits[0][index]
    rows, cols = np.nonzero(digit > 60)
    crop = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    big = cv2.resize(crop, (crop.shape[1] * 45, crop.shape[0] * 45), interpolation=cv2.INTER_CUBIC)
    for image in (big, 255 - big):
        assert find_canvas(image) is None


@pytest.mark.parametrize("extension", ["png", "jpg"])
@pytest.mark.parametrize("cmap", ["gray", "viridis"])
def test_a_plot_s_image_is_a_canvas_inside_the_saved_picture(
    cmap: str, extension: str, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A notebook's plot of an MNIST digit: the digit's square inside a white figure, with
    # axes and numbered ticks around it. The figure's white lies all round, as a saved
    # drawing's background does; the square, of one flat colour with the digit on it, is the
    # picture to read.
    data = notebook_plot(digits[0][0], cmap)
    if extension == "jpg":  # as Telegram sends a picture sent as a photo
        data = synth.encode(
            np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)), "jpg", 85
        )
    gray = decode(data).gray
    box = find_canvas(gray, inner_only=True)
    assert box is not None
    x, y, w, h = box
    assert abs(w - h) <= 4 and w >= 300  # the 28x28 square, drawn 370 px wide
    square = gray[y : y + h, x : x + w].astype(np.int16)
    background = int(np.median(square[0]))
    for side in (square[0], square[-1], square[:, 0], square[:, -1]):  # the digit's background
        assert np.mean(np.abs(side - background) <= 2) > 0.9
    prepared = prepare(data)
    canvas = prepared.notes.get("canvas")
    assert isinstance(canvas, tuple) and len(prepared.digits) == 1
    assert max(abs(a - b) for a, b in zip(canvas, box, strict=True)) <= 2  # rounding of the scales


def test_the_hole_of_a_tight_crop_s_fat_0_is_no_canvas() -> None:
    # A map digit's 0 (bench/bench_crops.py) enlarged 8 times: its hole is a flat rectangle
    # with the stroke's one flat colour around it, as a program's chrome would be. A picture
    # this small (under 800 px) is only searched for a canvas inside a saved picture.
    # (The search for a program's canvas, ``inner_only=False``, takes the hole for one.)
    image = zoomed(load_digits(MAP_DIGITS)[0][148], 8)
    for picture in (image, 255 - image):
        assert find_canvas(picture, inner_only=True) is None
        assert prepare(synth.encode(picture, "png")).notes.get("canvas") is None


def _white_page(width: int, height: int) -> np.ndarray:
    return np.full((height, width), 255, np.uint8)


def _dark_digit(page: np.ndarray, digit: np.ndarray, x: int, y: int, size: int) -> None:
    """An MNIST digit drawn dark on ``page`` at (x, y), ``size`` px square."""
    ink = cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    part = page[y : y + size, x : x + size].astype(np.float32)
    page[y : y + size, x : x + size] = np.clip(part * (1 - ink) + 30 * ink, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("side", [700, 1200])
def test_a_shaded_band_across_a_saved_page_is_no_canvas(
    side: int, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # A scanned form: a grey header band across the page with printed text on it, and a digit
    # written in a box below. The band is flat and drawn on, but it runs across the page: a
    # picture inside a picture lies away from the frame all round (the band was read as
    # "808410402023" while it passed).
    page = _white_page(side, int(side * 1.3))
    cv2.rectangle(page, (0, int(side * 0.05)), (side, int(side * 0.22)), 215, -1)
    text = (side // 20, int(side * 0.16))
    cv2.putText(page, "FORM 1040  2023", text, cv2.FONT_HERSHEY_SIMPLEX, side / 500, 0, max(1, side // 300))
    box = side // 3
    cv2.rectangle(page, (box, int(side * 0.45)), (2 * box, int(side * 0.45) + box), 0, max(2, side // 250))
    _dark_digit(page, digits[0][4], box + box // 8, int(side * 0.45) + box // 8, 3 * box // 4)  # a 4
    assert find_canvas(page, inner_only=side < 800) is None
    prepared = prepare(synth.encode(page, "png"))
    assert prepared.notes.get("canvas") is None


@pytest.mark.parametrize("side", [600, 1000])
def test_a_0_drawn_with_a_rectangle_tool_is_no_canvas(side: int) -> None:
    # Its ring is a flat rectangle with its hole drawn on it: the hole is one flat level
    # filling its box, which no digit's strokes are.
    page = _white_page(side, side)
    a, b, t = side // 4, 3 * side // 4, side // 7
    cv2.rectangle(page, (a, side // 6), (b, 5 * side // 6), 0, -1)
    cv2.rectangle(page, (a + t, side // 6 + t), (b - t, 5 * side // 6 - t), 255, -1)
    assert find_canvas(page, inner_only=side < 800) is None


@pytest.mark.parametrize("width", [640, 1280])
def test_a_web_demo_s_canvas_is_found_in_its_page(width: int, digits: tuple[np.ndarray, np.ndarray]) -> None:
    # A screenshot of a web page with an MNIST demo: a black canvas with a white digit, a
    # title, buttons and the demo's own guess around it in a white page. (The canvas was
    # read as a 0.)
    s = width / 1280
    page = _white_page(width, int(800 * s))
    cv2.putText(
        page, "MNIST Digit Recognizer", (int(60 * s), int(70 * s)), cv2.FONT_HERSHEY_SIMPLEX, 1.5 * s, 30, 2
    )
    for k, label in enumerate(("Predict", "Clear")):
        x0 = int((560 + 200 * k) * s)
        cv2.rectangle(page, (x0, int(200 * s)), (x0 + int(170 * s), int(260 * s)), 66, -1)
        cv2.putText(page, label, (x0 + int(20 * s), int(242 * s)), cv2.FONT_HERSHEY_SIMPLEX, 0.9 * s, 255, 2)
    cv2.putText(page, "Prediction: 4", (int(560 * s), int(340 * s)), cv2.FONT_HERSHEY_SIMPLEX, 0.9 * s, 20, 2)
    x, y, side = int(60 * s), int(160 * s), int(420 * s)
    digit = cv2.resize(digits[0][0], (2 * side // 3, 2 * side // 3), interpolation=cv2.INTER_CUBIC)  # a 7
    page[y : y + side, x : x + side] = 0
    page[y + side // 6 : y + side // 6 + digit.shape[0], x + side // 6 : x + side // 6 + digit.shape[1]] = (
        digit
    )
    assert find_canvas(page, inner_only=width < 800) == (x, y, side, side)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return synth.load_test_digits()


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("shape", [(5000, 1), (1, 5000), (3000, 12)])
def test_a_picture_a_few_pixels_wide_has_no_canvas(shape: tuple[int, int]) -> None:
    # Tall enough to be taken for a screenshot, too narrow for a program around a canvas:
    # the search took the mean of no pixels (a warning, and a NaN compared).
    strip = np.full(shape, 255, np.uint8)
    strip[shape[0] // 3 : 2 * shape[0] // 3, shape[1] // 3 : 2 * shape[1] // 3 + 1] = 0
    assert find_canvas(strip) is None
    prepare(synth.encode(strip, "png"))
