"""Real-looking photos for the bot tests and the benchmark: MNIST test digits written on paper
and photographed (``classifier.synth``), offered in the sizes Telegram offers."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from classifier import synth

# Telegram's photo sizes by their longer side: s, m, x, y.
TELEGRAM_SIDES = (90, 320, 800, 1280)


def photo(digits: Sequence[np.ndarray], seed: int = 0, size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    """An RGB phone photo of ``digits`` (MNIST 28x28, white on black) written on plain paper."""
    rng = np.random.default_rng(seed)
    look = synth.Look(size=size, digit_height=0.3, rotation=float(rng.uniform(-4, 4)), quality=85)
    return synth.render_photo(rng, list(digits), look)


def jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    return synth.encode(image, "jpg", quality)


def encode(image: np.ndarray, extension: str) -> bytes:
    return synth.encode(image, extension)


def telegram_sizes(image: np.ndarray, sides: Sequence[int] = TELEGRAM_SIDES) -> list[tuple[bytes, int, int]]:
    """The photo as Telegram offers it: one JPEG per size, smallest first, (bytes, w, h)."""
    h, w = image.shape[:2]
    out = []
    for side in sides:
        factor = min(1.0, side / max(h, w))
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if factor < 1 else image
        out.append((jpeg(resized, 87), size[0], size[1]))
    return out


def gif(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).convert("L").save(buffer, "GIF")
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, followed by a few bytes of
    pixel data: what a decompression bomb looks like before it is decoded."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(bytes(1000)))
        + png_chunk(b"IEND", b"")
    )


def tiny_png() -> bytes:
    """A 1x1 white PNG."""
    return synth.encode(np.full((1, 1), 255, np.uint8), "png")
