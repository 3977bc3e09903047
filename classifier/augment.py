"""Training augmentation that makes MNIST look like digits cut out of phone photos.

Each digit is enlarged 3x, given another stroke width (thickened or thinned, or
re-inked: its skeleton redrawn with an even pen, as ballpoints and markers write),
warped (rotation, scale, aspect, shear and an elastic wobble as a hand makes) and then
put back into MNIST's format by the same ``to_mnist`` the photo pipeline uses, so the
model trains on exactly the kind of input it will be served. A last small shift
covers segmentation that centres a digit imperfectly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from classifier.mnist_format import SIZE, to_mnist
from classifier.strokes import REDRAWABLE, redraw_overlap, skeleton_distance

UP = 3  # work at 84x84 so thickness changes and warps stay smooth


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
