"""Hostile and odd files for the reliability tests and the soak: every one is bytes a user can
send as a document (or, for the plain images, as a photo). Pure functions of their inputs."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
from PIL import Image

from classifier import synth
from tests.bot import photos


def small(image: np.ndarray, width: int = 640) -> np.ndarray:
    """The photo scaled to ``width`` pixels wide (files people send are rarely 1280 px)."""
    h, w = image.shape[:2]
    return cv2.resize(image, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


# Broken files --------------------------------------------------------------------------------


def truncated(data: bytes, keep: float = 1 / 3) -> bytes:
    return data[: max(1, int(len(data) * keep))]


def corrupt_jpeg(good: bytes) -> bytes:
    """A real JPEG header, then garbage."""
    return good[:600] + bytes(range(256)) * 8


def corrupt_png(good: bytes) -> bytes:
    """The PNG with bytes in the middle of its image data flipped (its CRC no longer matches)."""
    data = bytearray(good)
    start = data.find(b"IDAT") + 8
    for i in range(start, min(len(data) - 16, start + 64)):
        data[i] ^= 0x5A
    return bytes(data)


def bomb_header(width: int = 8_000, height: int = 8_000) -> bytes:
    """A PNG header claiming ``width`` x ``height``: refused before a pixel is decoded."""
    return photos.png_header_only(width, height)


def bomb_under_cap(side: int = 6_000) -> bytes:
    """A real ``side`` x ``side`` white PNG: 36 megapixels (under the cap) in ~50 KB."""
    return save(Image.new("L", (side, side), 255), "PNG", optimize=False)


def blank_png(width: int, height: int, value: int = 255) -> bytes:
    return photos.encode(np.full((height, width), value, np.uint8), "png")


# Formats that must be read -------------------------------------------------------------------


def png16(image: np.ndarray) -> bytes:
    """16-bit greyscale PNG."""
    wide = gray(image).astype(np.uint16) * 257
    return save(Image.fromarray(wide), "PNG")


def transparent_drawing(digit: np.ndarray, light_ink: bool = False, side: int = 400) -> bytes:
    """A digit drawn in a paint program on a transparent canvas (RGBA). The transparent pixels
    are (0, 0, 0, 0), as most apps save them: a reader that drops the alpha channel sees black
    ink on black."""
    coverage = cv2.resize(digit, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    rgba = np.zeros((side, side, 4), np.uint8)
    rgba[..., :3] = (250, 250, 250) if light_ink else (20, 30, 120)
    rgba[..., 3] = np.clip(coverage * 255.0, 0, 255).astype(np.uint8)
    rgba[rgba[..., 3] == 0, :3] = 0
    return save(Image.fromarray(rgba), "PNG")


def big_transparent_drawing(digit: np.ndarray, side: int = 6300, size: int = 600) -> bytes:
    """A ``size``-pixel digit drawn in the middle of a ``side`` x ``side`` transparent canvas
    (RGBA, 40 megapixels by default: just under the pixel cap), in ~200 KB. Written a row
    at a time: making it costs no 160 MB, decoding it used to cost 1.25 GB."""
    coverage = cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC)
    drawing = np.zeros((size, size, 4), np.uint8)
    drawing[..., :3] = (20, 30, 120)
    drawing[..., 3] = coverage
    drawing[coverage == 0, :3] = 0
    left = (side - size) // 2
    blank = bytes(1 + 4 * side)  # filter byte 0, then (0, 0, 0, 0) pixels
    packer = zlib.compressobj(6)
    body = []
    for y in range(side):
        row = y - left
        if 0 <= row < size:
            line = bytearray(blank)
            line[1 + 4 * left : 1 + 4 * (left + size)] = drawing[row].tobytes()
            body.append(packer.compress(bytes(line)))
        else:
            body.append(packer.compress(blank))
    body.append(packer.flush())

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(body)) + chunk(b"IEND", b"")
    )


def grey_alpha_drawing(digit: np.ndarray, side: int = 400) -> bytes:
    """The same in grey + alpha (LA)."""
    coverage = cv2.resize(digit, (side, side), interpolation=cv2.INTER_CUBIC)
    la = np.zeros((side, side, 2), np.uint8)
    la[..., 1] = coverage
    return save(Image.fromarray(la, "LA"), "PNG")


def cmyk_jpeg(image: np.ndarray) -> bytes:
    return save(Image.fromarray(image).convert("CMYK"), "JPEG", quality=90)


def progressive_jpeg(image: np.ndarray) -> bytes:
    return save(Image.fromarray(image), "JPEG", quality=88, progressive=True)


def exif_rotated_jpeg(image: np.ndarray, orientation: int = 6) -> bytes:
    """Pixels stored turned; only a reader honouring the EXIF orientation sees them upright."""
    return synth.encode(image, "jpg", 88, orientation=orientation)


def animated_gif(first: np.ndarray, *others: np.ndarray) -> bytes:
    """An animated GIF: the digit to read is the first frame."""
    frames = [Image.fromarray(gray(f)) for f in (first, *others)]
    return save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)


def encoded(image: np.ndarray, extension: str) -> bytes:
    """WebP, TIFF, BMP, PNG, JPEG."""
    return photos.encode(image, extension)


# Pictures with nothing (or not digits) in them -------------------------------------------------


def flat(value: int, size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    return np.full((size[1], size[0], 3), value, np.uint8)


def noise(seed: int = 0, size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)


def printed_text(size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    """A photo of a printed page: words, an invoice number, a few figures."""
    page = np.full((size[1], size[0]), 245, np.uint8)
    lines = [
        "The quick brown fox jumps over",
        "the lazy dog 1234567890 times",
        "Invoice No. 48213 Total: 99.50",
        "Lorem ipsum dolor sit amet",
    ]
    for i, line in enumerate(lines):
        cv2.putText(page, line, (40, 150 + i * 180), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 20, 4)
    return cv2.cvtColor(page, cv2.COLOR_GRAY2RGB)


def printed_page(lines: int = 12, size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    """A dense page of print: ~40 characters a line, ~430 parts in all at 12 lines (grouping
    them into digits took 9 s when it restarted after every merge)."""
    page = np.full((size[1], size[0]), 245, np.uint8)
    scale, thick = {4: (2.0, 4), 8: (1.5, 3), 12: (1.1, 2)}[lines]
    for i in range(lines):
        y = 60 + i * (900 // lines)
        cv2.putText(page, "Lorem ipsum 0123456789 dolor sit amet consec", (20, y), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, 20, thick)  # fmt: skip
    return cv2.cvtColor(page, cv2.COLOR_GRAY2RGB)


# Files that are not images -------------------------------------------------------------------

SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200">
  <rect width="200" height="200" fill="white"/><text x="60" y="150" font-size="150">7</text>
</svg>
"""
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
TEXT = b"Dear bot, this is not a picture at all.\n" * 40


def png_with_text_bomb() -> bytes:
    """A 1x1 PNG with a zTXt chunk that inflates to 64 MB (Pillow refuses text over 1 MB)."""
    good = blank_png(1, 1)
    body = b"Comment\x00\x00" + zlib.compress(bytes(64 * 1024 * 1024), 9)
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    end = good.rfind(b"IEND") - 4
    return good[:end] + chunk + good[end:]
