"""The shared photo preprocessing: image bytes -> MNIST-format digits and their boxes.

`digitbot predict`, the photo evaluation and the bot all call ``prepare``.
(Baseline version: decode, Otsu threshold, connected components, ``to_mnist``.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from classifier.mnist_format import to_mnist

MAX_PIXELS = 40_000_000  # refuse larger images: decompression bombs


class ImageError(ValueError):
    """The bytes are not an image we can read; the message is fit to show a user."""


Box = tuple[int, int, int, int]  # x, y, w, h in the original image's pixels


@dataclass
class Prepared:
    digits: np.ndarray  # (n, 28, 28) uint8, white on black, left to right
    boxes: list[Box]  # one per digit, in the original image's coordinates
    gray: np.ndarray  # the grayscale working image the digits were found in (for debug output)
    scale: float  # original pixels per working-image pixel
    hint: str | None = None  # when no digit was found: why, in words for a user
    notes: dict[str, object] = field(default_factory=dict)  # diagnostics (polarity, ...)


def decode(data: bytes) -> np.ndarray:
    """Image bytes -> grayscale uint8, or ImageError."""
    if not data:
        raise ImageError("the file is empty")
    buffer = np.frombuffer(data, np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ImageError("this file is not an image I can read")
    if image.size > MAX_PIXELS:
        raise ImageError("the image is too large")
    return image


def prepare(data: bytes) -> Prepared:
    """Image bytes -> the digits in it, ready for the model."""
    return prepare_gray(decode(data))


def prepare_gray(gray: np.ndarray) -> Prepared:
    scale = 1.0
    if max(gray.shape) > 1024:
        scale = max(gray.shape) / 1024
        gray = cv2.resize(gray, None, fx=1 / scale, fy=1 / scale, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if (ink > 0).mean() > 0.5:
        ink = 255 - ink
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_height = max(8, gray.shape[0] // 20)
    found = [
        tuple(int(v) for v in stats[i, :4])
        for i in range(1, count)
        if stats[i, cv2.CC_STAT_HEIGHT] >= min_height
    ]
    found.sort(key=lambda b: b[0])
    digits = [to_mnist(ink[y : y + h, x : x + w]) for x, y, w, h in found]
    boxes: list[Box] = [
        (round(x * scale), round(y * scale), round(w * scale), round(h * scale)) for x, y, w, h in found
    ]
    return Prepared(
        digits=np.stack(digits) if digits else np.zeros((0, 28, 28), np.uint8),
        boxes=boxes,
        gray=gray,
        scale=scale,
        hint=None if digits else "I could not find any writing in this image",
    )
