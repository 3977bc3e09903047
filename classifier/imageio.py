"""Image bytes -> one upright grey image, for every format a phone or paint program sends.

Pillow reads the header first, so the pixel cap (decompression bombs) is checked before a
single pixel is decoded, and a large JPEG is decoded straight at 1/2 or 1/4 scale (DCT
scaling, luma only) when the caller needs fewer pixels; a complete JPEG goes through
OpenCV's decoder, the fastest at hand, everything else through Pillow. Transparent images are
flattened onto a background that contrasts with their ink: white under dark ink, black
under light ink, so a white digit on a transparent canvas does not vanish.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse larger images: decompression bombs
ORIENTATION_TAG = 0x0112

# EXIF orientation -> the numpy steps that turn the stored pixels upright.
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1, :],
    5: lambda a: a.T,
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 1)[::-1, :],
    8: lambda a: np.rot90(a, 1),
}


class ImageError(ValueError):
    """The bytes are not an image we can read; the message is fit to show a user."""


@dataclass(frozen=True)
class Decoded:
    gray: np.ndarray  # uint8 (h, w), upright
    scale: float  # original pixels per decoded pixel (> 1 when decoded at reduced scale)
    format: str  # "JPEG", "PNG", ...
    orientation: int  # the EXIF orientation that was applied (1: none)
    flattened: str | None  # "white" or "black" when transparency was flattened


def decode(data: bytes, min_side: int = 0) -> Decoded:
    """Bytes -> an upright grey image, or ``ImageError``.

    A JPEG may be decoded at reduced scale as long as its shorter side stays >= ``min_side``
    (0: full resolution).
    """
    if not data:
        raise ImageError("the file is empty")
    try:
        with warnings.catch_warnings():
            # Our own cap below is stricter than Pillow's bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own header check, for gigantic images
        raise ImageError(
            f"the image is too large; the limit is {MAX_PIXELS // 1_000_000} megapixels"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageError("this file is not an image I can read") from exc
    except Exception as exc:  # Pillow's plugins raise many types on garbage headers
        raise ImageError("this file is not an image I can read") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageError("the image has no pixels")
    if width * height > MAX_PIXELS:
        limit = MAX_PIXELS // 1_000_000
        raise ImageError(f"the image is too large ({width}x{height}); the limit is {limit} megapixels")
    try:
        orientation = _orientation(image)
        fast = _decode_jpeg_fast(data, image, min_side)
        if fast is not None:
            (gray, scale), flattened = fast, None
        else:
            scale = _draft(image, min_side)
            gray, flattened = _to_gray(image)
    except ImageError:
        raise
    except Exception as exc:  # truncated or corrupt data surfaces only while decoding
        raise ImageError("the image file is damaged or incomplete") from exc
    if orientation in _UPRIGHT:
        gray = np.ascontiguousarray(_UPRIGHT[orientation](gray))
    return Decoded(gray, scale, str(image.format), orientation, flattened)


_REDUCED = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4}


def _decode_jpeg_fast(data: bytes, image: Image.Image, min_side: int) -> tuple[np.ndarray, float] | None:
    """A complete grey or colour JPEG straight to grey through OpenCV's decoder (a fifth
    faster than Pillow's for a phone photo), scaled down as far as ``min_side`` allows.
    None for anything else, which Pillow decodes (and reports when damaged)."""
    if image.format != "JPEG" or image.mode not in ("L", "RGB", "YCbCr") or not data.endswith(b"\xff\xd9"):
        return None
    width, height = image.size
    factor = 1
    while factor < 4 and min_side > 0 and min(width, height) // (factor * 2) >= min_side:
        factor *= 2
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED[factor] | cv2.IMREAD_IGNORE_ORIENTATION)
    if gray is None:
        return None
    return np.asarray(gray), width / gray.shape[1]


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _draft(image: Image.Image, min_side: int) -> float:
    """Ask the JPEG decoder for the smallest DCT scale that keeps the short side >= min_side."""
    if image.format != "JPEG" or min_side <= 0 or image.mode not in ("L", "RGB", "YCbCr"):
        return 1.0
    width, height = image.size
    factor = 1
    while factor < 8 and min(width, height) // (factor * 2) >= min_side:
        factor *= 2
    if factor == 1:
        image.draft("L", (width, height))  # still skip colour conversion
        return 1.0
    image.draft("L", (-(-width // factor), -(-height // factor)))
    return width / image.size[0]


def _to_gray(image: Image.Image) -> tuple[np.ndarray, str | None]:
    image.seek(0)  # first frame of a GIF, WebP or TIFF animation
    image.load()
    mode = image.mode
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    if has_alpha:
        # Through RGBA so palette and colour-key transparency become a real alpha channel.
        return _flatten(image.convert("RGBA").convert("LA"))
    if mode in ("L", "P", "RGB", "CMYK", "YCbCr", "1", "LAB", "HSV"):
        return np.asarray(image.convert("L") if mode != "L" else image, np.uint8), None
    # 16- and 32-bit grey, float: scale the type's range down to 8 bits.
    values = np.asarray(image)
    if values.ndim == 3:
        values = values[..., :3].mean(axis=-1)
    return _to_uint8(values), None


def _to_uint8(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.uint8:
        return values
    if values.dtype.kind == "f":
        top = 1.0 if float(np.nanmax(values)) <= 1.0 else 255.0
        return np.asarray(np.clip(np.nan_to_num(values) * (255.0 / top) + 0.5, 0, 255), np.uint8)
    peak = int(values.max()) if values.size else 0
    # A 16-bit image stored in 32-bit ints still has a 16-bit range.
    top = 65535 if peak > 255 else 255
    return np.asarray(np.clip(values.astype(np.float32) * (255.0 / top) + 0.5, 0, 255), np.uint8)


def _flatten(image: Image.Image) -> tuple[np.ndarray, str]:
    """Grey+alpha -> grey on a background chosen to contrast with what is drawn."""
    la = np.asarray(image, np.float32)
    grey, alpha = la[..., 0], la[..., 1] / 255.0
    visible = alpha > 0.5
    # Light strokes on a transparent canvas go on black, dark ones on white.
    drawn = visible.any() and not visible.all()
    light_ink = drawn and float(grey[visible].mean()) > 127.5
    background = 0.0 if light_ink else 255.0
    flat = grey * alpha + background * (1.0 - alpha)
    return np.clip(flat + 0.5, 0, 255).astype(np.uint8), "black" if light_ink else "white"
