"""Seeded test material: MNIST **test** digits rendered as phone photos, paint drawings and
transparent PNGs, plus images with no digit at all.

Every sample is a real encoded file (JPEG, PNG, ...) with its expected reading, so the
evaluation, the tests and the benchmark exercise exactly what a user sends. A sample
depends only on (style, split, index), never on what was generated before it.

A phone photo is rendered in paper space (paper tone and grain, ruled or squared lines,
text showing through from the back, the digits in ink, stray marks), then photographed:
perspective and rotation, a table around the page, light gradient, vignette and a cast
shadow (a hand's or a phone's; a hand's with its fingers across the middle), dim exposure,
blur, sensor noise and JPEG compression.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from classifier.strokes import REDRAWABLE, redraw_overlap, skeleton_distance, thin

SUBSET = Path(__file__).resolve().parent.parent / "tests" / "data" / "mnist_subset.npz"
# The test digits are cut into three disjoint parts: one to develop against, one to
# calibrate confidence on, one to report. Each split also has its own random stream.
SPLITS = {"dev": (0.0, 0.3), "calibration": (0.3, 0.65), "report": (0.65, 1.0)}
_SPLIT_SEEDS = {"dev": 11, "calibration": 23, "report": 37}

RGB = tuple[float, float, float]

PAPERS: dict[str, RGB] = {
    "white": (246, 246, 242),
    "bright": (252, 252, 252),
    "grey": (205, 205, 200),
    "cream": (242, 233, 205),
    "yellow": (250, 238, 150),
    "pink": (250, 205, 215),
    "blue": (195, 220, 245),
    "green": (205, 235, 200),
    "orange": (250, 200, 140),
}
COLOURED = ("yellow", "pink", "blue", "green", "orange")
INKS: dict[str, RGB] = {
    "black": (25, 25, 30),
    "blue": (35, 50, 150),
    "dark-blue": (20, 30, 90),
    "red": (170, 30, 35),
    "green": (20, 100, 45),
    "pencil": (85, 85, 90),
}


@dataclass(frozen=True)
class Sample:
    style: str
    label: str  # the digits left to right; "" when the image has no digit
    data: bytes  # the encoded image file
    extension: str  # "jpg", "png", ...
    index: int  # position in its style's sequence
    indices: tuple[int, ...] = ()  # which MNIST test digits it shows

    @property
    def name(self) -> str:
        return f"{self.style}-{self.index:04d}-{self.label or 'none'}.{self.extension}"


@dataclass(frozen=True)
class Look:
    """How one phone photo looks; each style draws one at random and stresses a part of it."""

    size: tuple[int, int] = (1280, 960)  # output width, height
    paper: RGB = PAPERS["white"]
    grain: float = 3.0  # paper texture amplitude, grey levels
    lines: str = "none"  # "none", "ruled" or "grid"
    line_spacing: float = 0.05  # share of the paper's short side
    line_rgb: RGB = (150, 180, 225)
    line_width: float = 1.5
    margin_line: bool = False
    ink: RGB = INKS["black"]
    ink_strength: float = 0.95  # share of the way from paper to ink colour
    pencil: bool = False
    stroke: float | None = None  # stroke width as a share of digit height; None: MNIST's own
    digit_height: float = 0.25  # share of the output's short side
    gap: tuple[float, float] = (0.12, 0.45)  # between digits, share of digit height
    rotation: float = 0.0  # degrees
    perspective: float = 0.03  # corner jitter, share of the size
    table: float = 0.0  # how much the page is zoomed out so a table shows around it, 0..0.3
    gradient: float = 0.25  # light falloff across the page, 0..1
    shadow: float = 0.0  # darkening inside the shadow, 0..1
    shadow_soft: float = 8.0  # blur of the shadow's edge, px
    fingers: int = 0  # the shadow is a hand's with this many fingers reaching over the middle
    exposure: float = 1.0  # < 1 for dim photos
    blur: float = 0.6  # gaussian sigma, px
    noise: float = 3.0  # sensor noise sigma, grey levels
    quality: int = 85  # JPEG quality
    show_through: float = 0.0  # opacity of mirrored text from the back of the page
    stray_marks: int = 0  # specks and short strokes near the edges
    fill: float | None = None  # crop tightly around the digits: margin as a share of their size
    orientation: int = 1  # EXIF orientation written to the file (1: none)
    mark: str = "none"  # "underline" or "circle": the digits underlined or circled with the same pen


# --------------------------------------------------------------------------- digits


def stroke_alpha(digit: np.ndarray, height: float, stroke: float | None = None) -> np.ndarray:
    """An MNIST digit redrawn as ink coverage in [0, 1], ``height`` px tall, cropped to the ink.

    ``stroke`` (a share of the height) redraws the digit along its skeleton with that pen
    width; None keeps MNIST's own strokes, just smoothly enlarged.
    """
    rows = np.flatnonzero(digit.max(axis=1) > 40)
    box_height = max(1, rows[-1] - rows[0] + 1) if rows.size else 20
    k = max(height / box_height, 0.5)
    side = max(8, round(28 * k))
    if stroke is None:
        grey = cv2.resize(digit.astype(np.float32) / 255.0, (side, side), interpolation=cv2.INTER_CUBIC)
        alpha = np.clip((grey - 0.5) * max(k, 1.0) * 0.9 + 0.5, 0.0, 1.0)
    else:
        big = cv2.resize(digit, (112, 112), interpolation=cv2.INTER_CUBIC) > 110
        distance = skeleton_distance(big)
        if redraw_overlap(big, distance) < REDRAWABLE:
            # A digit written as blobs (a loop filled in) has a skeleton that is not the
            # digit: redrawn with a pen it would become another digit. Keep its own shape.
            return stroke_alpha(digit, height, None)
        distance = cv2.resize(distance, (side, side), interpolation=cv2.INTER_LINEAR) * (side / 112)
        radius = max(stroke * height, 0.7) / 2
        alpha = np.clip(radius + 0.5 - distance, 0.0, 1.0)
    ys, xs = np.nonzero(alpha > 0.02)
    if ys.size == 0:
        return np.zeros((1, 1), np.float32)
    return np.asarray(alpha[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], np.float32)


def paint_drawing(
    digit: np.ndarray, canvas: tuple[int, int], height: int, at: tuple[int, int], brush: int = 0
) -> np.ndarray:
    """A white ``canvas`` (width, height) with an MNIST digit drawn on it in black, ``height``
    px tall, its box's top-left corner at ``at``, as a paint program's tools draw: the pencil
    (``brush`` 0: lines one pixel wide, not anti-aliased, along the digit's skeleton) or a
    round brush of radius ``brush`` px."""
    w, h = canvas
    line = thin(cv2.resize(digit, (height, height), interpolation=cv2.INTER_CUBIC) > 100)
    if brush:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * brush + 1, 2 * brush + 1))
        line = cv2.dilate(line.astype(np.uint8), disc) > 0
    picture = np.full((h, w), 255, np.uint8)
    x, y = at
    picture[y : y + height, x : x + height][line] = 0
    return picture


def lines_of_writing(rows: list[list[np.ndarray]], gap: int = 12) -> np.ndarray:
    """MNIST digits written on several lines, as one white-on-black picture to write with its
    own strokes (``Look.stroke`` None): each row left to right, rows ``gap`` px apart."""
    lines = [np.hstack(row) for row in rows]
    width = max(line.shape[1] for line in lines)
    spaced: list[np.ndarray] = []
    for line in lines:
        if spaced:
            spaced.append(np.zeros((gap, width), np.uint8))
        spaced.append(np.pad(line, ((0, 0), (0, width - line.shape[1]))))
    return np.vstack(spaced)


def number_alpha(
    digits: list[np.ndarray],
    height: float,
    stroke: float | None,
    gap: tuple[float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Several digits written left to right, with handwriting's uneven sizes, gaps and baseline."""
    parts = [stroke_alpha(d, height * rng.uniform(0.9, 1.1), stroke) for d in digits]
    gaps = [round(height * rng.uniform(*gap)) for _ in parts[1:]]
    tall = max(p.shape[0] for p in parts)
    drift = [round(height * rng.uniform(-0.08, 0.08)) for _ in parts]
    top = -min(drift) + 2
    width = sum(p.shape[1] for p in parts) + sum(gaps) + 4
    canvas = np.zeros((tall + top + max(drift) + 4, width), np.float32)
    x = 2
    for i, part in enumerate(parts):
        h, w = part.shape
        y = top + drift[i] + (tall - h)  # digits sit on a common baseline
        region = canvas[y : y + h, x : x + w]
        np.maximum(region, part, out=region)
        x += w + (gaps[i] if i < len(gaps) else 0)
    return canvas


def _marked(
    rng: np.random.Generator, alpha: np.ndarray, mark: str, height: float, stroke: float | None
) -> np.ndarray:
    """The written digits underlined or circled by hand, with a pen as wide as theirs: a
    line from under the first digit's left edge to past the last one, a little aslant and
    about a seventh of their height below them; or a ring open a little, close enough round
    them to run into the first or last digit."""
    h, w = alpha.shape
    pen = max(2, round(height * (stroke or 0.1)))
    pad = round(0.35 * height)
    out = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    out[pad : pad + h, pad : pad + w] = alpha
    drawn = np.zeros_like(out)
    if mark == "underline":
        below = pad + h + round(height * 0.15)
        drop = round(w * np.tan(np.deg2rad(rng.uniform(-3.0, 3.0))))
        end = round(pad + w + rng.uniform(0.0, 0.3) * pad)
        cv2.line(drawn, (pad, below), (end, below + drop), 1.0, pen, cv2.LINE_AA)
    elif mark == "circle":
        centre = (out.shape[1] // 2, out.shape[0] // 2)
        axes = (round(out.shape[1] * 0.47), round(out.shape[0] * 0.47))
        start = rng.uniform(0.0, 360.0)
        cv2.ellipse(
            drawn,
            centre,
            axes,
            rng.uniform(-8.0, 8.0),
            start,
            start + rng.uniform(320.0, 340.0),
            1.0,
            pen,
            cv2.LINE_AA,
        )
    else:
        raise ValueError(f"unknown mark {mark!r}")
    return np.maximum(out, drawn)


# --------------------------------------------------------------------------- paper and photo


def _normal(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Gaussian noise as float32 (numpy's float32 sampler is twice as fast)."""
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Noise in [-1, 1] that varies smoothly over ``cells`` cells across the longer side."""
    h, w = shape
    ch = max(2, round(cells * h / max(h, w)))
    cw = max(2, round(cells * w / max(h, w)))
    coarse = rng.uniform(-1, 1, (ch, cw)).astype(np.float32)
    return np.asarray(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC), np.float32)


def _composite(canvas: np.ndarray, alpha: np.ndarray, rgb: RGB, x: int, y: int) -> None:
    """Lay ink of colour ``rgb`` and coverage ``alpha`` onto ``canvas`` at (x, y), clipped."""
    h, w = alpha.shape
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x, None]
    region = canvas[y0:y1, x0:x1]
    region *= 1.0 - a
    region += a * np.asarray(rgb, np.float32)


def _mirrored_text(rng: np.random.Generator, shape: tuple[int, int], spacing: float) -> np.ndarray:
    """Coverage of handwriting-like text on the back of the page, seen mirrored through it."""
    h, w = shape
    layer = np.zeros(shape, np.uint8)
    letters = "abcdefghijklmnopqrstuvwxyz      "
    y = rng.uniform(0.5, 1.5) * spacing
    size = spacing / 45
    while y < h:
        text = "".join(rng.choice(list(letters), size=60))
        cv2.putText(
            layer,
            text,
            (round(rng.uniform(-0.2, 0.05) * w), round(y)),
            cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
            size,
            255,
            max(1, round(size * 2.5)),
            cv2.LINE_AA,
        )
        y += spacing
    # Seen through the paper, the back's writing is mirrored, diffused and faint.
    return np.asarray(cv2.GaussianBlur(cv2.flip(layer, 1), (0, 0), 2.5), np.float32) / 255.0


def _paper(rng: np.random.Generator, look: Look, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    base = np.asarray(look.paper, np.float32)
    # Fibres: a little low-frequency mottling plus fine grain.
    mottle = _smooth_noise(rng, shape, 12) * look.grain
    grain = cv2.GaussianBlur(_normal(rng, shape, look.grain), (0, 0), 0.8)
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = base
    canvas += (mottle + grain)[..., None]
    return canvas


def _draw_lines(rng: np.random.Generator, canvas: np.ndarray, look: Look, spacing: float) -> None:
    h, w = canvas.shape[:2]
    layer = np.zeros((h, w), np.uint8)
    # Draw at 4x sub-pixel precision so 1-2 px lines are anti-aliased like printed ones.
    thickness = max(1, round(look.line_width))
    offset = rng.uniform(0, spacing)
    y = offset
    while y < h:
        cv2.line(layer, (0, round(y * 16)), (w * 16, round(y * 16)), 255, thickness, cv2.LINE_AA, 4)
        y += spacing
    if look.lines == "grid":
        x = rng.uniform(0, spacing)
        while x < w:
            cv2.line(layer, (round(x * 16), 0), (round(x * 16), h * 16), 255, thickness, cv2.LINE_AA, 4)
            x += spacing
    alpha = layer.astype(np.float32) / 255.0 * rng.uniform(0.6, 1.0)
    _composite(canvas, alpha, look.line_rgb, 0, 0)
    if look.margin_line:
        margin = np.zeros((h, w), np.uint8)
        x = round(rng.uniform(0.08, 0.2) * w)
        cv2.line(margin, (x, 0), (x, h), 255, thickness, cv2.LINE_AA)
        _composite(canvas, margin.astype(np.float32) / 255.0 * 0.8, (220, 90, 100), 0, 0)


def _stray_marks(rng: np.random.Generator, canvas: np.ndarray, look: Look, count: int) -> None:
    h, w = canvas.shape[:2]
    short = min(h, w)
    layer = np.zeros((h, w), np.uint8)
    for _ in range(count):
        # Near an edge: within 7% of one side.
        side = rng.integers(4)
        along = rng.uniform(0.05, 0.95)
        depth = rng.uniform(0.01, 0.07)
        x, y = (along * w, depth * h) if side == 0 else (along * w, (1 - depth) * h)
        if side >= 2:
            x, y = (depth * w if side == 2 else (1 - depth) * w), along * h
        if rng.random() < 0.6:
            radius = max(1, round(short * rng.uniform(0.002, 0.006)))
            cv2.circle(layer, (round(x), round(y)), radius, 255, -1, cv2.LINE_AA)
        else:
            length = short * rng.uniform(0.01, 0.04)
            angle = rng.uniform(0, np.pi)
            p2 = (round(x + length * np.cos(angle)), round(y + length * np.sin(angle)))
            cv2.line(layer, (round(x), round(y)), p2, 255, max(1, round(short * 0.003)), cv2.LINE_AA)
    _composite(canvas, layer.astype(np.float32) / 255.0 * look.ink_strength, look.ink, 0, 0)


def _ink_alpha(rng: np.random.Generator, alpha: np.ndarray, look: Look) -> np.ndarray:
    alpha = alpha * look.ink_strength
    if look.pencil:
        # Graphite catches on the paper's tooth: patchy, never fully opaque.
        tooth = np.clip(1.0 - np.abs(_normal(rng, alpha.shape, 0.35)), 0.2, 1.0)
        alpha = alpha * cv2.GaussianBlur(tooth, (0, 0), 0.7)
    return alpha.astype(np.float32)


def _photograph(rng: np.random.Generator, paper: np.ndarray, look: Look) -> np.ndarray:
    """The page as a phone sees it: perspective, table, light, shadow, blur, noise. RGB uint8."""
    h, w = paper.shape[:2]
    out_w, out_h = look.size
    # Homography: the page (paper pixels) onto the photo, rotated, slightly in perspective.
    zoom = 1.0 - look.table
    centre = np.array([out_w / 2, out_h / 2], np.float32)
    scale = zoom * max(out_w / w, out_h / h)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    angle = np.deg2rad(look.rotation)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    target = (corners - np.array([w / 2, h / 2], np.float32)) * scale @ rotation.T + centre
    target += (
        rng.uniform(-1, 1, (4, 2)).astype(np.float32)
        * look.perspective
        * np.array([out_w, out_h], np.float32)
    )
    matrix = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    table = rng.uniform(40, 140, 3).astype(np.float32)
    if look.table > 0:
        background = np.empty((out_h, out_w, 3), np.float32)
        background[:] = table
        background += _smooth_noise(rng, (out_h, out_w), 8)[..., None] * 25
        photo = cv2.warpPerspective(
            paper,
            matrix,
            (out_w, out_h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_TRANSPARENT,
            dst=background,
        )
    else:
        photo = cv2.warpPerspective(
            paper, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    # Light: a gradient across the page and a vignette, then an optional cast shadow.
    # Light varies smoothly: computed on a coarse grid, then enlarged.
    coarse_w, coarse_h = max(2, out_w // 8), max(2, out_h // 8)
    yy, xx = np.mgrid[0:coarse_h, 0:coarse_w].astype(np.float32)
    xx, yy = (xx + 0.5) / coarse_w - 0.5, (yy + 0.5) / coarse_h - 0.5
    direction = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(direction) * xx + np.sin(direction) * yy + 0.5
    light = (1.0 - look.gradient * np.clip(ramp, 0, 1)) * (1.0 - 0.3 * (xx**2 + yy**2))
    light = cv2.resize(light, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    if look.shadow > 0:
        if look.fingers:
            shadow = _hand_shadow(rng, (out_h, out_w), look.shadow_soft, look.fingers)
        else:
            shadow = _shadow_mask(rng, (out_h, out_w), look.shadow_soft)
        light *= 1.0 - look.shadow * shadow
    photo *= (light * look.exposure)[..., None]
    if look.blur > 0:
        photo = cv2.GaussianBlur(photo, (0, 0), look.blur)
    photo += _normal(rng, photo.shape, look.noise)
    # Dim photos: the camera's gain amplifies noise as well.
    if look.exposure < 0.7:
        photo += _normal(rng, photo.shape[:2], look.noise * 0.5)[..., None]
    return np.asarray(np.clip(photo + 0.5, 0, 255), np.uint8)


def _shadow_mask(rng: np.random.Generator, shape: tuple[int, int], soft: float) -> np.ndarray:
    """1 inside a cast shadow, 0 outside: the rounded shape of a hand or a phone held over
    the page, entering from one side and covering 20-60% of the frame."""
    h, w = shape
    mask = np.zeros(shape, np.uint8)
    side = int(rng.integers(4))
    depth = rng.uniform(0.2, 0.6)
    long_axis = rng.uniform(0.5, 1.2) * (w if side < 2 else h)
    if rng.random() < 0.5:  # a hand: an ellipse reaching in
        centre = rng.uniform(0.2, 0.8)
        cx, cy = (
            (centre * w, 0.0) if side == 0 else (centre * w, float(h)) if side == 1 else (0.0, centre * h)
        )
        if side == 3:
            cx, cy = float(w), centre * h
        reach = depth * (h if side < 2 else w)
        axes = (long_axis / 2, reach) if side < 2 else (reach, long_axis / 2)
        cv2.ellipse(
            mask,
            (round(cx), round(cy)),
            (round(axes[0]), round(axes[1])),
            rng.uniform(-20, 20),
            0,
            360,
            255,
            -1,
        )
    else:  # a phone or a book: a slightly turned rectangle over one side
        reach = depth * (h if side < 2 else w)
        angle = rng.uniform(-15, 15)
        if side < 2:
            middle = (w / 2 + rng.uniform(-0.2, 0.2) * w, reach / 2 if side == 0 else h - reach / 2)
            extent = (w * 1.6, reach * 2)
        else:
            middle = (reach / 2 if side == 2 else w - reach / 2, h / 2 + rng.uniform(-0.2, 0.2) * h)
            extent = (reach * 2, h * 1.6)
        box = cv2.boxPoints((middle, extent, angle))
        cv2.fillPoly(mask, [np.round(box).astype(np.int32)], 255)
    return _soft_edged(mask, soft)


def _soft_edged(mask: np.ndarray, soft: float) -> np.ndarray:
    """A 0/255 shadow mask as float32, 1 inside and 0 outside, its edge blurred by ``soft`` px."""
    return np.asarray(cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(soft, 0.5)), np.float32)


def _hand_shadow(rng: np.random.Generator, shape: tuple[int, int], soft: float, fingers: int) -> np.ndarray:
    """1 inside a cast shadow, 0 outside: a hand held over the page, its palm off one side of
    the frame and its fingers (bars a few strokes wide, rounded at the tip, with gaps
    between them) reaching across the middle, where the digits are."""
    h, w = shape
    short = min(h, w)
    mask = np.zeros((short, short), np.uint8)  # drawn reaching in from the left, then turned
    width = rng.uniform(0.06, 0.15) * short
    gap = rng.uniform(0.3, 0.6) * width
    reach = rng.uniform(0.6, 0.8) * short  # the longest finger's tip, from the left
    top = short / 2 - (fingers * width + (fingers - 1) * gap) / 2 + rng.uniform(-0.1, 0.1) * short
    for finger in range(fingers):
        y = round(top + finger * (width + gap) + width / 2)
        tip = round(reach - abs(finger - (fingers - 1) / 2) * rng.uniform(0.02, 0.08) * short)
        cv2.line(mask, (-round(width), y), (tip, y), 255, max(1, round(width)))
        cv2.circle(mask, (tip, y), round(width / 2), 255, -1)
    palm = (round(-0.1 * short), round(short / 2)), (round(0.3 * short), round(0.35 * short))
    cv2.ellipse(mask, palm[0], palm[1], 0, 0, 360, 255, -1)
    turn = cv2.getRotationMatrix2D(
        (short / 2, short / 2), float(rng.choice([0, 90, 180, 270])) + rng.uniform(-20, 20), 1.0
    )
    turn[:, 2] += np.array([(w - short) / 2, (h - short) / 2])
    turned = cv2.warpAffine(mask, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _soft_edged(turned, soft)


def render_photo(rng: np.random.Generator, digits: list[np.ndarray], look: Look) -> np.ndarray:
    """Digits (possibly none) written on paper and photographed: RGB uint8 of ``look.size``."""
    out_w, out_h = look.size
    short = min(out_w, out_h)
    height = look.digit_height * short
    alpha = number_alpha(digits, height, look.stroke, look.gap, rng) if digits else None
    if look.mark != "none" and alpha is not None:
        alpha = _marked(rng, alpha, look.mark, height, look.stroke)
    if look.fill is not None and alpha is not None:
        # A tight crop: the page is exactly the digits plus a small (even negative) margin.
        ah, aw = alpha.shape
        margin_x = round(look.fill * max(aw, ah) * rng.uniform(0.5, 1.5))
        margin_y = round(look.fill * max(aw, ah) * rng.uniform(0.5, 1.5))
        pw, ph = max(aw + 2 * margin_x, 8), max(ah + 2 * margin_y, 8)
        look = replace(look, size=(pw, ph), table=0.0, perspective=min(look.perspective, 0.01), rotation=0.0)
        paper_shape = (ph, pw)
        spacing = look.line_spacing * min(pw, ph)
        x, y = margin_x, margin_y
    else:
        # Paper space slightly larger than the photo, so warping never runs off the page.
        pad = 1.15
        paper_shape = (round(out_h * pad), round(out_w * pad))
        spacing = look.line_spacing * min(paper_shape)
        x = y = 0
        if alpha is not None:
            ah, aw = alpha.shape
            ph, pw = paper_shape
            free_x = max(pw * 0.72 - aw, 0)
            free_y = max(ph * 0.72 - ah, 0)
            x = round(pw * 0.14 + rng.uniform(0, free_x)) if aw < pw * 0.72 else round((pw - aw) / 2)
            y = round(ph * 0.14 + rng.uniform(0, free_y)) if ah < ph * 0.72 else round((ph - ah) / 2)
            if look.lines != "none":
                # Handwriting sits on a line of the page (and crosses the next one up).
                y = round(y + ah) // max(1, round(spacing)) * round(spacing) - ah + round(spacing * 0.1)
    paper = _paper(rng, look, paper_shape)
    if look.lines != "none":
        _draw_lines(rng, paper, look, spacing)
    if look.show_through > 0:
        text = _mirrored_text(rng, paper_shape, max(spacing, short * 0.06))
        _composite(paper, text * look.show_through, (60, 60, 70), 0, 0)
    if alpha is not None:
        _composite(paper, _ink_alpha(rng, alpha, look), look.ink, x, y)
    if look.stray_marks:
        _stray_marks(rng, paper, look, look.stray_marks)
    return _photograph(rng, paper, look)


# --------------------------------------------------------------------------- scenes and drawings


def render_scene(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A photo with no writing: textured surfaces and objects with shading. RGB uint8."""
    w, h = size
    image = np.empty((h, w, 3), np.float32)
    image[:] = rng.uniform(30, 220, 3)
    for cells, amplitude in ((3, 60), (8, 30), (24, 12)):
        image += np.stack([_smooth_noise(rng, (h, w), cells) for _ in range(3)], axis=-1) * amplitude
    if rng.random() < 0.4:  # wood grain or fabric stripes
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle = rng.uniform(0, np.pi)
        phase = (np.cos(angle) * xx + np.sin(angle) * yy) / rng.uniform(4, 30)
        image += (np.sin(phase + _smooth_noise(rng, (h, w), 6) * 3) * rng.uniform(5, 25))[..., None]
    for _ in range(rng.integers(2, 9)):
        layer = np.zeros((h, w), np.uint8)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rx, ry = rng.uniform(0.05, 0.35) * w, rng.uniform(0.05, 0.35) * h
        kind = rng.integers(3)
        if kind == 0:
            cv2.ellipse(
                layer, (round(cx), round(cy)), (round(rx), round(ry)), rng.uniform(0, 180), 0, 360, 255, -1
            )
        elif kind == 1:
            box = cv2.boxPoints(((cx, cy), (rx * 2, ry * 2), rng.uniform(0, 90)))
            cv2.fillPoly(layer, [np.round(box).astype(np.int32)], 255)
        else:
            count = int(rng.integers(3, 8))
            points = np.stack([cx + rng.uniform(-rx, rx, count), cy + rng.uniform(-ry, ry, count)], axis=1)
            cv2.fillPoly(layer, [cv2.convexHull(np.round(points).astype(np.int32))], 255)
        alpha = cv2.GaussianBlur(layer.astype(np.float32) / 255.0, (0, 0), rng.uniform(0.8, 4))
        shade = 1.0 + _smooth_noise(rng, (h, w), 3) * 0.25
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        image = np.asarray(
            image * (1 - alpha[..., None]) + (colour * shade[..., None]) * alpha[..., None], np.float32
        )
    blurred = np.asarray(cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.5)), np.float32)
    blurred += _normal(rng, blurred.shape, rng.uniform(2, 6))
    return np.asarray(np.clip(blurred, 0, 255), np.uint8)


def render_drawing(
    rng: np.random.Generator, digit: np.ndarray, ink_on_dark: bool, size: tuple[int, int]
) -> np.ndarray:
    """A digit drawn with a round brush in a paint program: coverage in [0, 1] of ``size``."""
    w, h = size
    height = h * rng.uniform(0.45, 0.9)
    stroke = rng.uniform(0.05, 0.22) if rng.random() < 0.8 else None
    alpha = stroke_alpha(digit, height, stroke)
    canvas = np.zeros((h, w), np.float32)
    ah, aw = alpha.shape
    if aw > w:  # a wide brush on a narrow canvas
        alpha = cv2.resize(alpha, (w - 2, max(1, round(ah * (w - 2) / aw))), interpolation=cv2.INTER_AREA)
        ah, aw = alpha.shape
    x = round(rng.uniform(0, max(w - aw, 0)))
    y = round(rng.uniform(0, max(h - ah, 0)))
    canvas[y : y + ah, x : x + aw] = alpha[: h - y, : w - x]
    del ink_on_dark  # the caller chooses colours; coverage is the same either way
    return canvas


_UI_WORDS = ("File", "Edit", "View", "Image", "Colors", "Help", "Brush", "Size", "Layers", "Undo", "Text")


def _ui_text(rng: np.random.Generator, image: np.ndarray, text: str, x: int, y: int, colour: RGB) -> None:
    scale = float(rng.uniform(0.45, 0.7))
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def _icons(rng: np.random.Generator, image: np.ndarray, x: int, y: int, count: int, across: bool) -> None:
    """A row (or column) of tool icons: outlined squares and circles, some coloured."""
    size = int(rng.integers(18, 30))
    for i in range(count):
        ix, iy = (x + i * (size + 10), y) if across else (x, y + i * (size + 10))
        colour = tuple(float(v) for v in rng.integers(0, 256, 3)) if rng.random() < 0.5 else (70.0,) * 3
        if rng.random() < 0.5:
            cv2.rectangle(image, (ix, iy), (ix + size, iy + size), colour, -1 if rng.random() < 0.5 else 2)
        else:
            cv2.circle(
                image, (ix + size // 2, iy + size // 2), size // 2, colour, -1 if rng.random() < 0.5 else 2
            )


def render_screenshot(rng: np.random.Generator, digit: np.ndarray) -> np.ndarray:
    """A screenshot of a paint program (desktop) or drawing app (phone) with a digit drawn
    on its canvas: menus, tool icons, a colour palette and status text (digits among them)
    around a canvas of one flat colour. RGB uint8."""
    phone = rng.random() < 0.4
    sizes = [(1080, 2340), (720, 1600), (1170, 2532)] if phone else [(1366, 768), (1920, 1080), (1280, 800)]
    w, h = sizes[int(rng.integers(len(sizes)))]
    dark_mode = rng.random() < 0.2
    chrome: RGB = (float(rng.uniform(25, 60)),) * 3 if dark_mode else (float(rng.uniform(225, 248)),) * 3
    text: RGB = (230.0, 230.0, 230.0) if dark_mode else (25.0, 25.0, 25.0)
    image = np.empty((h, w, 3), np.uint8)  # OpenCV draws text on 8 bits only
    image[:] = chrome
    if phone:
        top, bottom = int(rng.integers(150, 260)), h - int(rng.integers(180, 320))
        _ui_text(rng, image, f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}", 40, 50, text)
        cv2.rectangle(image, (w - 110, 28), (w - 60, 50), text, 2)
        _icons(rng, image, 30, top - 80, int(rng.integers(3, 7)), across=True)
        _icons(rng, image, 40, bottom + 50, int(rng.integers(4, 9)), across=True)
        margin = int(rng.integers(0, 40))
        box = (margin, top, w - 2 * margin, bottom - top)
    else:
        bar = tuple(float(v) for v in rng.integers(30, 90, 3))
        cv2.rectangle(image, (0, 0), (w, 30), bar, -1)
        _ui_text(rng, image, "untitled - Paint", 10, 21, (240.0, 240.0, 240.0))
        for i, word in enumerate(rng.choice(_UI_WORDS, size=6, replace=False)):
            _ui_text(rng, image, str(word), 10 + i * 75, 55, text)
        _icons(rng, image, 10, 66, int(rng.integers(8, 20)), across=True)
        _icons(rng, image, 8, 120, int(rng.integers(6, 12)), across=False)
        size = f"{int(rng.integers(300, 1600))} x {int(rng.integers(200, 900))}px"
        status = f"{size}   {int(rng.integers(25, 400))}%"
        _ui_text(rng, image, status, w - 320, h - 8, text)
        # The workspace around the canvas: the chrome's colour or its own grey or blue-grey.
        if rng.random() < 0.6:
            tint = float(rng.uniform(150, 215))
            workspace = (tint, tint + float(rng.uniform(0, 15)), tint + float(rng.uniform(0, 25)))
            cv2.rectangle(image, (60, 110), (w, h - 30), workspace, -1)
        cw, ch = int((w - 80) * rng.uniform(0.4, 0.95)), int((h - 150) * rng.uniform(0.4, 0.95))
        cx, cy = 70 + int(rng.integers(0, w - 80 - cw + 1)), 115 + int(rng.integers(0, h - 150 - ch + 1))
        box = (cx, cy, cw, ch)
    x, y, cw, ch = box
    paper: RGB = (0.0, 0.0, 0.0) if dark_mode and rng.random() < 0.7 else (255.0, 255.0, 255.0)
    if paper[0] > 0 and rng.random() < 0.15:
        paper = tuple(float(v) for v in rng.integers(225, 256, 3))  # type: ignore[assignment]
    canvas = np.empty((ch, cw, 3), np.float32)
    canvas[:] = paper
    inks = [(0.0, 0.0, 0.0), (20.0, 40.0, 200.0), (200.0, 20.0, 20.0), (40.0, 40.0, 40.0)]
    ink: RGB = (250.0, 250.0, 250.0) if paper[0] == 0 else inks[int(rng.integers(len(inks)))]
    stroke = float(rng.uniform(0.06, 0.2)) if rng.random() < 0.8 else None
    alpha = stroke_alpha(digit, ch * rng.uniform(0.12, 0.75), stroke)
    ah, aw = alpha.shape
    if aw > cw - 4 or ah > ch - 4:
        f = min((cw - 4) / aw, (ch - 4) / ah)
        alpha = cv2.resize(alpha, (max(1, int(aw * f)), max(1, int(ah * f))), interpolation=cv2.INTER_AREA)
        ah, aw = alpha.shape
    _composite(canvas, alpha, ink, int(rng.integers(2, cw - aw - 1)), int(rng.integers(2, ch - ah - 1)))
    image[y : y + ch, x : x + cw] = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    return image


def render_crop(rng: np.random.Generator, digit: np.ndarray) -> np.ndarray:
    """A digit cut out of a scan or photo by someone else, grey uint8: 28-100 px square, either
    polarity, filling the frame or with a margin, on a grainy background, now and then with a
    thin line drawn around it."""
    side = int(rng.choice([28, 32, 48, 64, 100]))
    margin = float(rng.uniform(0.0, 0.04)) if rng.random() < 0.5 else float(rng.uniform(0.08, 0.2))
    big = side * 8  # drawn large, then shrunk as a crop would be
    inner = max(8, round(big * (1 - 2 * margin)))
    alpha = stroke_alpha(digit, inner, None if rng.random() < 0.4 else float(rng.uniform(0.07, 0.15)))
    if alpha.shape[1] > inner:
        alpha = cv2.resize(alpha, (inner, max(1, round(alpha.shape[0] * inner / alpha.shape[1]))))
    canvas = np.zeros((big, big, 3), np.float32)  # coverage, laid on as ink of "colour" 1
    ah, aw = alpha.shape
    y = (big - ah) // 2 + int(rng.integers(-big // 50, big // 50 + 1))
    x = (big - aw) // 2 + int(rng.integers(-big // 20, big // 20 + 1))
    _composite(canvas, alpha, (1.0, 1.0, 1.0), x, y)
    coverage = cv2.resize(canvas[:, :, 0], (side, side), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        paper, ink = float(rng.uniform(0, 40)), float(rng.uniform(200, 255))
    else:
        paper, ink = float(rng.uniform(215, 252)), float(rng.uniform(10, 70))
    image = paper + (ink - paper) * coverage + _normal(rng, coverage.shape, float(rng.uniform(0, 3)))
    if rng.random() < 0.2:
        cv2.rectangle(image, (0, 0), (side - 1, side - 1), float(rng.uniform(110, 190)), 1)
    return np.asarray(np.clip(image + 0.5, 0, 255), np.uint8)


# --------------------------------------------------------------------------- encoding


def encode(image: np.ndarray, extension: str, quality: int = 90, orientation: int = 1) -> bytes:
    """RGB, RGBA or grey uint8 -> file bytes; ``orientation`` stores the pixels turned so that
    only a reader honouring the EXIF tag sees them upright."""
    stored = image
    if orientation != 1:
        # The inverse of what the tag asks a viewer to do.
        stored = {3: np.rot90(image, 2), 6: np.rot90(image, 1), 8: np.rot90(image, -1)}[orientation]
    picture = Image.fromarray(np.ascontiguousarray(stored))
    buffer = io.BytesIO()
    if extension == "jpg":
        exif = Image.Exif()
        if orientation != 1:
            exif[0x0112] = orientation
        picture.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    else:
        picture.save(
            buffer,
            {"png": "PNG", "webp": "WEBP", "bmp": "BMP", "tif": "TIFF", "gif": "GIF", "heic": "HEIF"}[
                extension
            ],
        )
    return buffer.getvalue()


# --------------------------------------------------------------------------- styles


def _base_look(rng: np.random.Generator) -> Look:
    """An ordinary phone photo of a digit on paper, every property a little random."""
    paper = PAPERS[str(rng.choice(["white", "white", "bright", "grey", "cream"]))]
    ink = INKS[str(rng.choice(["black", "black", "blue", "dark-blue", "red", "green"]))]
    stroke = None if rng.random() < 0.4 else float(rng.uniform(0.06, 0.16))
    portrait = rng.random() < 0.3
    return Look(
        size=(960, 1280) if portrait else (1280, 960),
        paper=paper,
        grain=float(rng.uniform(1.5, 5)),
        line_spacing=float(rng.uniform(0.035, 0.07)),
        line_rgb=(float(rng.uniform(120, 190)), float(rng.uniform(150, 200)), float(rng.uniform(190, 240))),
        line_width=float(rng.uniform(1, 2.5)),
        ink=ink,
        ink_strength=float(rng.uniform(0.75, 1.0)),
        stroke=stroke,
        digit_height=float(rng.uniform(0.12, 0.45)),
        rotation=float(rng.uniform(-10, 10)),
        perspective=float(rng.uniform(0, 0.05)),
        table=float(rng.uniform(0.0, 0.15)) if rng.random() < 0.3 else 0.0,
        gradient=float(rng.uniform(0, 0.45)),
        exposure=float(rng.uniform(0.75, 1.05)),
        blur=float(rng.uniform(0, 1.3)),
        noise=float(rng.uniform(1, 5)),
        quality=int(rng.integers(55, 96)),
    )


def _look_phone(rng: np.random.Generator) -> Look:
    return _base_look(rng)


def _look_ruled(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(look, lines="ruled", margin_line=bool(rng.random() < 0.3))


def _look_grid(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(look, lines="grid", line_spacing=float(rng.uniform(0.03, 0.055)))


def _look_shadow(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(
        look,
        shadow=float(rng.uniform(0.3, 0.65)),
        shadow_soft=float(rng.choice([3.0, 8.0, 20.0, 40.0])),
        gradient=float(rng.uniform(0.2, 0.6)),
    )


def _look_dim(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(look, exposure=float(rng.uniform(0.2, 0.45)), noise=float(rng.uniform(2, 5)), blur=0.8)


def _look_pencil(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(
        look,
        ink=INKS["pencil"],
        pencil=True,
        ink_strength=float(rng.uniform(0.5, 0.85)),
        stroke=float(rng.uniform(0.04, 0.1)),
    )


def _look_ballpoint(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(look, ink=INKS["blue"], stroke=float(rng.uniform(0.035, 0.07)), lines="ruled")


def _look_coloured(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(
        look,
        paper=PAPERS[str(rng.choice(COLOURED))],
        show_through=float(rng.uniform(0.06, 0.2)),
    )


def _look_tiny(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    size = (2016, 1512) if rng.random() < 0.5 else (1600, 1200)
    return replace(
        look, size=size, digit_height=float(rng.uniform(0.035, 0.07)), blur=float(rng.uniform(0, 1))
    )


def _look_fill(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(look, fill=float(rng.uniform(-0.02, 0.06)), digit_height=float(rng.uniform(0.3, 0.8)))


def _look_thick(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(
        look, stroke=float(rng.uniform(0.2, 0.3)), ink=INKS[str(rng.choice(["black", "blue", "red"]))]
    )


def _look_hairline(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(look, stroke=float(rng.uniform(0.008, 0.025)), blur=float(rng.uniform(0, 0.6)))


def _look_marks(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(look, stray_marks=int(rng.integers(2, 8)), table=float(rng.uniform(0.05, 0.2)))


def _look_exif(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(look, orientation=int(rng.choice([3, 6, 8])))


def _look_number(rng: np.random.Generator, touching: bool = False) -> Look:
    """A number's photo; ``touching``: written with its digits running into each other or
    nearly (gaps of -6% to 3% of their height: some strokes cross, others just meet)."""
    look = _base_look(rng)
    lines = str(rng.choice(["none", "none", "ruled", "grid"]))
    return replace(
        look,
        lines=lines,
        digit_height=float(rng.uniform(0.1, 0.22)),
        shadow=float(rng.uniform(0.3, 0.6)) if rng.random() < 0.2 else 0.0,
        rotation=float(rng.uniform(-6, 6)),
        gap=(-0.06, 0.03) if touching else look.gap,
    )


def _look_empty(rng: np.random.Generator) -> Look:
    look = _base_look(rng)
    return replace(
        look,
        paper=PAPERS[str(rng.choice([*PAPERS]))],
        lines=str(rng.choice(["none", "ruled", "grid"])),
        shadow=float(rng.uniform(0.3, 0.6)) if rng.random() < 0.35 else 0.0,
        shadow_soft=float(rng.choice([3.0, 20.0])),
        show_through=float(rng.uniform(0.08, 0.2)) if rng.random() < 0.2 else 0.0,
        stray_marks=int(rng.integers(0, 3)),
        exposure=float(rng.uniform(0.3, 1.0)),
    )


PHOTO_LOOKS: dict[str, Callable[[np.random.Generator], Look]] = {
    "phone": _look_phone,
    "ruled": _look_ruled,
    "grid": _look_grid,
    "shadow": _look_shadow,
    "dim": _look_dim,
    "pencil": _look_pencil,
    "ballpoint": _look_ballpoint,
    "coloured": _look_coloured,
    "tiny": _look_tiny,
    "fill": _look_fill,
    "thick": _look_thick,
    "hairline": _look_hairline,
    "marks": _look_marks,
    "exif": _look_exif,
}
DRAWING_STYLES = (
    "paint-black-on-white",
    "paint-white-on-black",
    "transparent",
    "mnist28",
    "screenshot",
    "crop",
)
NUMBER_STYLES = {"number2": 2, "number3": 3, "number4": 4, "number5-6": 5, "number-touching": 3}
EMPTY_STYLES = ("empty-paper", "empty-scene")
SINGLE_STYLES = (*PHOTO_LOOKS, *DRAWING_STYLES)
# A style's samples come from random streams keyed by its place here: styles added later
# go at the end, so that no other style's samples change.
LATER_STYLES = ("screenshot", "number-touching", "crop")
STYLES = (
    *(s for s in SINGLE_STYLES if s not in LATER_STYLES),
    *(s for s in NUMBER_STYLES if s not in LATER_STYLES),
    *EMPTY_STYLES,
    *LATER_STYLES,
)


def load_test_digits(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test digits and labels: from a Keras-format mnist.npz, else the committed subset."""
    with np.load(path or SUBSET, allow_pickle=False) as data:
        return np.asarray(data["x_test"]), np.asarray(data["y_test"])


def split_range(split: str, n: int) -> tuple[int, int]:
    """The [start, stop) test indices a split may use out of ``n`` test digits."""
    low, high = SPLITS[split]
    return round(low * n), round(high * n)


def pick_digits(
    style: str, index: int, split: str, available: int
) -> tuple[np.random.Generator, tuple[int, ...]]:
    """The sample's random stream, and which of ``available`` test digits it shows."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}")
    rng = np.random.default_rng([_SPLIT_SEEDS[split], STYLES.index(style), index])
    start, stop = split_range(split, available)
    count = NUMBER_STYLES.get(style, 0 if style in EMPTY_STYLES else 1)
    if style == "number5-6":
        count = int(rng.integers(5, 7))
    elif style == "number-touching":
        count = int(rng.integers(2, 5))
    return rng, tuple(int(i) for i in rng.integers(start, stop, size=count))


def make_sample(style: str, index: int, split: str, x: np.ndarray, y: np.ndarray) -> Sample:
    """Sample ``index`` of ``style`` in ``split``: the same bytes every time."""
    rng, picked = pick_digits(style, index, split, len(x))
    return render_sample(style, rng, x, y, picked, index)


def render_sample(
    style: str,
    rng: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    picked: tuple[int, ...],
    index: int = 0,
) -> Sample:
    """Digits ``picked`` from ``x`` (labels ``y``) rendered in ``style``, drawing every
    random choice from ``rng``."""
    digits = [x[i] for i in picked]
    label = "".join(str(int(y[i])) for i in picked)

    if style in PHOTO_LOOKS or style in NUMBER_STYLES:
        if style in PHOTO_LOOKS:
            look = PHOTO_LOOKS[style](rng)
        else:
            look = _look_number(rng, touching=style == "number-touching")
        photo = render_photo(rng, digits, look)
        data = encode(photo, "jpg", look.quality, look.orientation)
        return Sample(style, label, data, "jpg", index, picked)
    if style == "empty-paper":
        look = _look_empty(rng)
        data = encode(render_photo(rng, [], look), "jpg", look.quality)
        return Sample(style, "", data, "jpg", index)
    if style == "empty-scene":
        size = (1280, 960) if rng.random() < 0.7 else (960, 1280)
        return Sample(
            style, "", encode(render_scene(rng, size), "jpg", int(rng.integers(60, 95))), "jpg", index
        )
    return _drawing_sample(style, rng, digits[0], label, index, picked)


def _drawing_sample(
    style: str, rng: np.random.Generator, digit: np.ndarray, label: str, index: int, picked: tuple[int, ...]
) -> Sample:
    if style == "screenshot":
        shot = render_screenshot(rng, digit)
        if rng.random() < 0.4:  # sent as a file
            return Sample(style, label, encode(shot, "png"), "png", index, picked)
        # Sent as a photo: Telegram shrinks it to 1280 px and compresses it.
        f = min(1.0, 1280 / max(shot.shape[:2]))
        size = (round(shot.shape[1] * f), round(shot.shape[0] * f))
        shot = np.asarray(cv2.resize(shot, size, interpolation=cv2.INTER_AREA)) if f < 1 else shot
        return Sample(style, label, encode(shot, "jpg", int(rng.integers(80, 93))), "jpg", index, picked)
    if style == "crop":
        image = render_crop(rng, digit)
        extension = "jpg" if rng.random() < 0.6 else "png"
        return Sample(
            style, label, encode(image, extension, int(rng.integers(45, 91))), extension, index, picked
        )
    if style == "mnist28":
        image = digit
        if rng.random() < 0.2:
            image = 255 - digit  # black on white, still 28x28
        extension = "jpg" if rng.random() < 0.3 else "png"
        return Sample(style, label, encode(image, extension, 92), extension, index, picked)
    side = int(rng.choice([200, 280, 400, 512, 800]))
    size = (round(side * rng.uniform(0.8, 1.5)), side)
    coverage = render_drawing(rng, digit, style == "paint-white-on-black", size)
    if style == "transparent":
        # Transparent pixels keep whatever colour the app left there: black, white or the ink.
        ink = np.asarray(
            [(0, 0, 0), (20, 20, 20), (30, 60, 200), (255, 255, 255)][
                int(rng.choice(4, p=[0.4, 0.2, 0.2, 0.2]))
            ],
            np.uint8,
        )
        under = (
            ink
            if rng.random() < 0.3
            else np.asarray([(0, 0, 0), (255, 255, 255)][int(rng.integers(2))], np.uint8)
        )
        rgba = np.empty((*coverage.shape, 4), np.uint8)
        opaque = coverage > 0
        rgba[..., :3] = under
        rgba[opaque, :3] = ink
        rgba[..., 3] = np.clip(coverage * 255 + 0.5, 0, 255).astype(np.uint8)
        return Sample(style, label, encode(rgba, "png"), "png", index, picked)
    background, ink_level = (0.0, 255.0) if style == "paint-white-on-black" else (255.0, 0.0)
    grey = background + (ink_level - background) * coverage
    image = np.repeat(np.clip(grey + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)
    extension = str(rng.choice(["png", "png", "png", "jpg", "webp", "bmp"]))
    return Sample(style, label, encode(image, extension, 90), extension, index, picked)


def generate(
    style: str, count: int, split: str = "dev", x: np.ndarray | None = None, y: np.ndarray | None = None
) -> Iterator[Sample]:
    """``count`` samples of ``style`` from ``split`` (test digits from the committed subset by default)."""
    if x is None or y is None:
        x, y = load_test_digits()
    for index in range(count):
        yield make_sample(style, index, split, x, y)
