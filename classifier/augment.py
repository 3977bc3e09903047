"""Training augmentation that makes MNIST look like digits cut out of phone photos.

Each digit is enlarged 3x, given another stroke width (thickened or thinned, or
re-inked: its skeleton redrawn with an even pen, as ballpoints and markers write),
warped (rotation, scale, aspect, shear and an elastic wobble as a hand makes) and then
put back into MNIST's format by the same ``to_mnist`` the photo pipeline uses, so the
model trains on exactly the kind of input it will be served. A last small shift
covers segmentation that centres a digit imperfectly.

``continental_ones`` adds a way of writing MNIST lacks: a 1 with a long upstroke.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from classifier.mnist_format import SIZE, to_mnist
from classifier.strokes import REDRAWABLE, redraw_overlap, skeleton_distance, thin

UP = 3  # work at 84x84 so thickness changes and warps stay smooth
# A continental "1" starts with a long upstroke. MNIST's writers (US census staff and
# students) rarely made one, and the model read such a 1 as a 7 (see docs/photos.md).
# A 7's bar is longer, flatter and meets its stem at a wider angle; flags that could pass
# for one are not made.
FLAG_ANGLE = (30.0, 50.0)  # degrees between the flag and the stem below it
FLAG_LENGTH = (0.3, 0.5)  # share of the stem's length
FLAG_DROP = 0.64  # the flag falls at least 40 degrees below the horizontal (sine), so
# that the trainer's own turns and shears mostly leave it falling steeply (together at
# their extremes, up to 12 degrees and 0.25, they can flatten one to about 20 degrees)
STRAIGHT = 0.25  # a 1 drawn as one straight stroke: its ink spreads across its axis at most
# this share of its spread along it (standard deviations)


@dataclass(frozen=True)
class AugmentConfig:
    rotate_degrees: float = 12.0
    scale: tuple[float, float] = (0.85, 1.15)
    aspect: tuple[float, float] = (0.8, 1.2)
    shear: float = 0.25
    elastic_probability: float = 0.5
    elastic_alpha: float = 1.8  # largest displacement, in 28x28 pixels
    elastic_cell: float = 10.0  # spacing of the field's random control points, in 28x28 pixels
    thickness_probability: float = 0.6
    # MNIST's strokes swell and taper; a pen's are even. Photos of pen strokes read worse
    # than MNIST itself until the model sees such strokes (see docs/photos.md).
    reink_probability: float = 0.35
    pen_radius: tuple[float, float] = (1.8, 5.5)  # in 84x84 pixels: 6-18% of a 60-px digit
    jitter_probability: float = 0.4
    jitter_pixels: int = 2


def augment(digits: np.ndarray, rng: np.random.Generator, config: AugmentConfig | None = None) -> np.ndarray:
    """Augmented copies of uint8 (n, 28, 28) digits, as uint8 (n, 28, 28) in MNIST format."""
    cfg = config or AugmentConfig()
    return np.stack([_augment_one(d, rng, cfg) for d in digits])


def _augment_one(digit: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    big = cv2.resize(digit, (SIZE * UP, SIZE * UP), interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.reink_probability:
        big = _reink(big, rng, cfg)
    elif rng.random() < cfg.thickness_probability:
        big = _change_thickness(big, rng)
    big = _affine(big, rng, cfg)
    if rng.random() < cfg.elastic_probability:
        big = _elastic(big, rng, cfg)
    out = to_mnist(big)
    if rng.random() < cfg.jitter_probability:
        dx, dy = rng.integers(-cfg.jitter_pixels, cfg.jitter_pixels + 1, size=2)
        m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        out = cv2.warpAffine(out, m, (SIZE, SIZE), flags=cv2.INTER_NEAREST)
    return out


def _change_thickness(big: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # From hairline pens to markers: radius in 84x84 pixels, negative thins the stroke.
    radius = int(rng.choice([-2, -1, 1, 2, 3, 4]))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
    if radius > 0:
        return cv2.dilate(big, kernel)
    thinner = cv2.erode(big, kernel)
    # Never erase the digit: a stroke too thin to survive keeps its original width.
    return thinner if int(thinner.max()) > 64 else big


def _reink(big: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    shape = big > 110
    distance = skeleton_distance(shape)
    if redraw_overlap(shape, distance) < REDRAWABLE:
        return big
    radius = rng.uniform(*cfg.pen_radius)
    # Anti-aliased edge one pixel wide, as a pen photographed and scaled down leaves.
    return np.asarray(np.clip((radius + 0.5 - distance) * 255.0, 0.0, 255.0), np.uint8)


def _affine(big: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    size = big.shape[0]
    angle = np.deg2rad(rng.uniform(-cfg.rotate_degrees, cfg.rotate_degrees))
    scale = rng.uniform(*cfg.scale)
    aspect = rng.uniform(*cfg.aspect)
    shear = rng.uniform(-cfg.shear, cfg.shear)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    stretch = np.array([[scale * aspect, shear], [0.0, scale]])
    linear = rotation @ stretch
    # Output on a larger canvas so no stroke is cut off; to_mnist crops it again.
    out_size = size * 3 // 2
    centre_in = np.array([size / 2, size / 2])
    centre_out = np.array([out_size / 2, out_size / 2])
    offset = centre_out - linear @ centre_in
    m = np.hstack([linear, offset[:, None]]).astype(np.float32)
    return cv2.warpAffine(big, m, (out_size, out_size), flags=cv2.INTER_LINEAR)


def _elastic(big: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    h, w = big.shape
    # A smooth random displacement field: coarse noise, upsampled bicubically (much
    # cheaper than blurring full-size noise, and just as smooth).
    cells = max(3, round(h / (cfg.elastic_cell * UP)))
    coarse = rng.uniform(-1, 1, size=(2, cells, cells)).astype(np.float32)
    alpha = cfg.elastic_alpha * UP
    dx = cv2.resize(coarse[0], (w, h), interpolation=cv2.INTER_CUBIC) * alpha
    dy = cv2.resize(coarse[1], (w, h), interpolation=cv2.INTER_CUBIC) * alpha
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        big, grid_x + dx, grid_y + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def with_flag(one: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """An MNIST "1" (uint8 28x28) written the continental way, in MNIST format: a flag from
    the top of the stem down to its left, as wide as the stem. None when the 1 is not one
    straight stroke, or when the flag drawn for it would lie too flat (a 7's bar) or point
    right (on a 1 leaning left).
    """
    big = cv2.resize(one, (SIZE * UP, SIZE * UP), interpolation=cv2.INTER_LINEAR)
    shape = big > 110
    ys, xs = np.nonzero(shape)
    if len(ys) < 3:
        return None
    # The stem's direction, pointing down: the ink's principal axis.
    points = np.column_stack([xs, ys]).astype(np.float64)
    centre = points.mean(axis=0)
    spreads, vectors = np.linalg.eigh(np.cov((points - centre).T))
    if spreads[0] > STRAIGHT**2 * spreads[1]:
        return None
    down = vectors[:, 1] if vectors[1, 1] > 0 else -vectors[:, 1]
    along = (points - centre) @ down
    top = points[along.argmin()]
    # Turned from the stem towards the left (clockwise on screen, where y points down).
    angle = np.deg2rad(rng.uniform(*FLAG_ANGLE))
    cos, sin = np.cos(angle), np.sin(angle)
    flag = np.array([down[0] * cos - down[1] * sin, down[0] * sin + down[1] * cos])
    if flag[0] >= 0 or flag[1] < FLAG_DROP:
        return None
    length = rng.uniform(*FLAG_LENGTH) * float(along.max() - along.min())
    width = float(shape.sum()) / max(float(thin(shape).sum()), 1.0)
    shift = 4  # cv2 draws at 1/16 px
    start, end = (np.round(p * (1 << shift)).astype(int) for p in (top, top + flag * length))
    flagged = big.copy()
    cv2.line(flagged, tuple(start), tuple(end), int(big.max()), max(1, round(width)), cv2.LINE_AA, shift)
    return to_mnist(flagged)


def continental_ones(
    x: np.ndarray, y: np.ndarray, share: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Flagged copies (``with_flag``) of about ``share`` of the 1s among digits ``x`` (labels
    ``y``): each 1 is tried with that chance, and kept when it takes a flag."""
    ones = np.flatnonzero(y == 1)
    tried = ones[rng.random(len(ones)) < share]
    flagged = [f for f in (with_flag(x[i], rng) for i in tried) if f is not None]
    if not flagged:
        return np.zeros((0, SIZE, SIZE), np.uint8), np.zeros(0, y.dtype)
    return np.stack(flagged), np.full(len(flagged), 1, y.dtype)
