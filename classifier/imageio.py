"""Image bytes -> one upright grey image, for every format a phone or paint program sends.

Pillow reads the header first, so the pixel cap (decompression bombs) is checked before a
single pixel is decoded, and a large JPEG is decoded straight at 1/2 or 1/4 scale (DCT
scaling, luma only) when the caller needs fewer pixels; a complete JPEG goes through
OpenCV's decoder, the fastest at hand, everything else through Pillow. Transparent images are
flattened onto a background that contrasts with their ink: white under dark ink, black
under light ink, so a white digit on a transparent canvas does not vanish.

HEIC (HEIF) is read through the ``pillow-heif`` plugin, its size from the header too.
Other formats have no reduced decoding: Pillow holds the whole picture in its own mode (up
to 4 bytes a pixel, 160 MB at the cap; WebP goes through OpenCV, whose decoder holds it
twice where Pillow's held it four times). Everything after that is done a strip of rows at
a time, in integers where it can be, and shrunk by a whole factor as it goes, so no other
full-size copy is made (converting at full size, with transparency flattened in float32,
took 1.25 GB for a 40-megapixel PNG): a picture longer than ``FULL_SIDE`` is reduced to
fit it and, when the caller needs fewer pixels, as far as a JPEG of its size would be.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

# An iPhone saves its photos as HEIC, and sent as a file that is what arrives. libheif turns
# the picture upright itself (its rotation box) and leaves the EXIF orientation at 1.
register_heif_opener()

MAX_PIXELS = 40_000_000  # refuse larger images: decompression bombs
# Longest side of any picture but a JPEG, reduced by a whole factor to fit. A 4032x3024 phone
# photo fits; digits found in the 320-px analysis image are >= ~30 px tall at this size.
FULL_SIDE = 4096
STRIP_PIXELS = 1 << 20  # pixels converted to grey at a time
ORIENTATION_TAG = 0x0112
# JPEG streams, decoded at reduced scale when asked. MPO (a camera's multi-picture file: a
# JPEG with more pictures appended, named .jpg) is read by its first picture, as Pillow does.
JPEG_FORMATS = ("JPEG", "MPO")

# EXIF orientation -> the numpy steps that turn the stored pixels upright.
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1, :],
    5: lambda a: np.swapaxes(a, 0, 1),  # (a colour picture's channels stay last)
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, -1)[::-1, :],
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
    (0: full resolution). Any other picture is reduced to ``FULL_SIDE`` at most; when it is
    longer than that, ``min_side`` reduces it as it would a JPEG.
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
            _draft(image, min_side)
            factor = _reduction(image, min_side)
            gray, flattened = _to_gray(_picture(image, data), factor)
            scale = width / gray.shape[1]
    except ImageError:
        raise
    except Exception as exc:  # truncated or corrupt data surfaces only while decoding
        raise ImageError("the image file is damaged or incomplete") from exc
    if orientation in _UPRIGHT:
        gray = np.ascontiguousarray(_UPRIGHT[orientation](gray))
    return Decoded(gray, scale, str(image.format), orientation, flattened)


_REDUCED = {
    1: cv2.IMREAD_GRAYSCALE,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
}
_REDUCED_COLOUR = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
# Pictures whose colours are read (``decode_colour``): no grey, none with transparency.
_COLOUR_MODES = ("RGB", "YCbCr", "P", "CMYK")


def decode_colour(data: bytes, min_side: int) -> tuple[np.ndarray, float] | None:
    """Bytes ``decode`` read -> the upright picture in colour (uint8 RGB, (h, w, 3)) with
    its scale, reduced as ``decode`` reduces it for ``min_side``; None for a grey picture,
    one with transparency (flattened in grey only), or one that cannot be read."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.mode not in _COLOUR_MODES or "transparency" in image.info:
            return None
        width = image.size[0]
        orientation = _orientation(image)
        flags = _opencv_flags(data, image, min_side, _REDUCED_COLOUR)
        if flags is not None:
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
            if bgr is None:
                return None
            rgb = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        else:
            if image.format != "HEIF":
                image.seek(0)  # (as ``_picture``: the first frame)
            factor = _reduction(image, min_side)
            converted = image.convert("RGB")
            rgb = np.asarray(converted.reduce(factor) if factor > 1 else converted)
    except Exception:  # ``decode`` has said what was wrong with the bytes
        return None
    scale = width / rgb.shape[1]
    if orientation in _UPRIGHT:
        rgb = _UPRIGHT[orientation](rgb)
    return np.ascontiguousarray(rgb), scale


def _halving(width: int, height: int, min_side: int, most: int) -> int:
    """The largest power of two up to ``most`` that keeps the short side >= ``min_side``."""
    factor = 1
    while factor < most and min_side > 0 and min(width, height) // (factor * 2) >= min_side:
        factor *= 2
    return factor


def _decode_jpeg_fast(data: bytes, image: Image.Image, min_side: int) -> tuple[np.ndarray, float] | None:
    """A complete grey or colour JPEG straight to grey through OpenCV's decoder (a fifth
    faster than Pillow's for a phone photo), scaled down as far as ``min_side`` allows.
    None for anything else, which Pillow decodes (and reports when damaged)."""
    flags = _opencv_flags(data, image, min_side, _REDUCED)
    gray = None if flags is None else cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if gray is None:
        return None
    return np.asarray(gray), image.size[0] / gray.shape[1]


def _opencv_flags(data: bytes, image: Image.Image, min_side: int, reduced: dict[int, int]) -> int | None:
    """OpenCV's flags (``_REDUCED`` or ``_REDUCED_COLOUR``) decoding a complete grey or
    colour JPEG scaled down as far as ``min_side`` allows, or None for anything else."""
    if not _dct_scalable(image) or not data.endswith(b"\xff\xd9"):  # truncated: Pillow reports it
        return None
    width, height = image.size
    return reduced[_halving(width, height, min_side, 8)] | cv2.IMREAD_IGNORE_ORIENTATION


def _dct_scalable(image: Image.Image) -> bool:
    """A grey or colour JPEG stream, which its decoder can scale down while decoding."""
    return image.format in JPEG_FORMATS and image.mode in ("L", "RGB", "YCbCr")


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _draft(image: Image.Image, min_side: int) -> None:
    """Ask the JPEG decoder for the smallest DCT scale that keeps the short side >= min_side."""
    if not _dct_scalable(image) or min_side <= 0:
        return
    width, height = image.size
    factor = _halving(width, height, min_side, 8)
    # At full scale, still skip the colour conversion.
    # Pillow picks the largest scale whose result is at least the size asked for: asking for
    # the rounded-down size lets it reach ``factor`` when the sides do not divide evenly.
    image.draft("L", (max(1, width // factor), max(1, height // factor)))


def _reduction(image: Image.Image, min_side: int) -> int:
    """How many times to shrink a picture Pillow decoded in full. A JPEG: not at all (it was
    drafted, or is read in full as before). Anything else: to ``FULL_SIDE``; and when it is
    larger than that and the caller needs fewer pixels, at least as far as a JPEG of its size."""
    if image.format in JPEG_FORMATS:
        return 1
    width, height = image.size
    longest = max(width, height)
    if longest <= FULL_SIDE:
        return 1  # what phones and paint programs send: read exactly as it is
    return max(-(-longest // FULL_SIDE), _halving(width, height, min_side, 4))


Converter = Callable[[Image.Image], np.ndarray]  # a strip of the picture -> uint8 grey

_EIGHT_BIT = ("L", "P", "RGB", "CMYK", "YCbCr", "1", "LAB", "HSV")
_ALPHA = ("RGBA", "LA", "PA", "La", "RGBa")


@dataclass(frozen=True)
class _Picture:
    """Decoded pixels, handed out a strip of rows at a time as Pillow images."""

    mode: str
    size: tuple[int, int]
    transparency: bool  # palette or colour-key transparency (``info["transparency"]``)
    rows: Callable[[int, int], Image.Image]  # (top, bottom) -> that strip
    key: object = None  # the colour key itself (``info["transparency"]``), if any


def _picture(image: Image.Image, data: bytes) -> _Picture:
    if image.format != "HEIF":
        # The first frame of a GIF, WebP or TIFF animation. (A HEIC opens on its primary
        # picture, the one its size was checked on, which need not be its first.)
        image.seek(0)
    if image.format == "WEBP":
        # Pillow's WebP decoder holds four full-size copies (611 MB at the pixel cap);
        # OpenCV's the pixels and one (same pixels, first frame of an animation too).
        flags = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
        if (
            pixels is not None
            and pixels.dtype == np.uint8
            and pixels.shape[:2] == image.size[::-1]
            and (pixels.ndim == 2 or pixels.shape[2] in (3, 4))
        ):
            return _array_picture(np.asarray(pixels))
    image.load()
    width, height = image.size

    def rows(top: int, bottom: int) -> Image.Image:
        return image if top == 0 and bottom >= height else image.crop((0, top, width, bottom))

    key = image.info.get("transparency")
    return _Picture(image.mode, image.size, "transparency" in image.info, rows, key)


def _array_picture(pixels: np.ndarray) -> _Picture:
    """OpenCV's grey, BGR or BGRA uint8 pixels, as Pillow's L, RGB or RGBA strips."""
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    order = [2, 1, 0, 3][:channels]

    def rows(top: int, bottom: int) -> Image.Image:
        strip = pixels[top:bottom] if channels == 1 else pixels[top:bottom, :, order]
        return Image.fromarray(np.ascontiguousarray(strip))

    return _Picture(mode, (pixels.shape[1], pixels.shape[0]), False, rows)


def _to_gray(picture: _Picture, factor: int) -> tuple[np.ndarray, str | None]:
    """The picture as uint8 grey, shrunk ``factor`` times (area average)."""
    if picture.mode in _ALPHA or picture.transparency:
        flatten, background = _flattener(picture, factor, _grey_alpha_of(picture, factor))
        return _by_strips(picture, factor, flatten), background
    if picture.mode in _EIGHT_BIT:
        return _by_strips(picture, factor, _luma), None
    return _by_strips(picture, factor, _deep_to_uint8(picture, factor)), None


def _strips(picture: _Picture, factor: int) -> Iterator[tuple[int, Image.Image]]:
    """(first row, strip) for strips of about ``STRIP_PIXELS`` and a whole number of
    ``factor`` rows: converting the whole picture at once would hold a full-size copy of it
    in every intermediate mode and type."""
    width, height = picture.size
    rows = max(1, STRIP_PIXELS // max(width, 1))
    rows = max(factor, rows - rows % factor)
    for top in range(0, height, rows):
        yield top, picture.rows(top, min(height, top + rows))


def _by_strips(picture: _Picture, factor: int, convert: Converter) -> np.ndarray:
    width, height = picture.size
    gray = np.empty((-(-height // factor), -(-width // factor)), np.uint8)
    for top, strip in _strips(picture, factor):
        part = convert(strip)
        if factor > 1:
            # Area average; partial blocks at the right and bottom edge are averaged as
            # they are, as a JPEG decoder's DCT scaling does.
            part = np.asarray(Image.fromarray(part).reduce(factor))
        gray[top // factor : top // factor + part.shape[0]] = part
    return gray


def _luma(strip: Image.Image) -> np.ndarray:
    return np.asarray(strip.convert("L") if strip.mode != "L" else strip, np.uint8)


def _grey_alpha(strip: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    # Through RGBA so palette and colour-key transparency become a real alpha channel.
    if strip.mode != "LA":
        strip = (strip if strip.mode == "RGBA" else strip.convert("RGBA")).convert("LA")
    la = np.asarray(strip, np.uint8)
    return la[..., 0], la[..., 1]


def _grey_alpha_of(picture: _Picture, factor: int) -> Callable[[Image.Image], tuple[np.ndarray, np.ndarray]]:
    """How to split a strip into 8-bit grey and alpha. A 16-bit or 32-bit grey picture with
    a colour key is scaled to 8 bits first, as it would be without one (Pillow's own
    conversion to RGBA clips its values to white)."""
    if picture.mode in _EIGHT_BIT or picture.mode in _ALPHA or picture.key is None:
        return _grey_alpha
    to_uint8 = _deep_to_uint8(picture, factor)

    def deep_grey_alpha(strip: Image.Image) -> tuple[np.ndarray, np.ndarray]:
        shown = np.asarray(strip) != picture.key
        return to_uint8(strip), np.where(shown, np.uint8(255), np.uint8(0))

    return deep_grey_alpha


def _flattener(
    picture: _Picture, factor: int, grey_alpha: Callable[[Image.Image], tuple[np.ndarray, np.ndarray]]
) -> tuple[Converter, str]:
    """Grey+alpha -> grey on a background chosen to contrast with what is drawn (a first
    pass over the strips looks at what is drawn): light strokes on a transparent canvas go
    on black, dark ones on white. In 16-bit integers: float32 at full size cost 1.2 GB."""
    shown = total = 0  # pixels more opaque than not, and the sum of their grey
    for _, strip in _strips(picture, factor):
        grey, alpha = grey_alpha(strip)
        visible = alpha >= 128
        shown += int(np.count_nonzero(visible))
        total += int(grey[visible].sum(dtype=np.int64))
    width, height = picture.size
    light_ink = 0 < shown < width * height and 2 * total > 255 * shown  # drawn, mean grey > 127.5
    background = np.uint16(0 if light_ink else 255)

    def flatten(strip: Image.Image) -> np.ndarray:
        grey, alpha = grey_alpha(strip)
        a = alpha.astype(np.uint16)
        # grey * a + background * (255 - a) <= 255 * 255: exact in 16 bits; rounded.
        flat = grey * a + background * (np.uint16(255) - a) + np.uint16(127)
        return np.asarray(flat // np.uint16(255), np.uint8)

    return flatten, "black" if light_ink else "white"


def _values(strip: Image.Image) -> np.ndarray:
    values = np.asarray(strip)
    return values[..., :3].mean(axis=-1) if values.ndim == 3 else values


def _deep_to_uint8(picture: _Picture, factor: int) -> Converter:
    """16- and 32-bit grey, float: the type's range scaled down to 8 bits. Which range that
    is depends on the largest value in the whole picture, found in a first pass."""
    peak = float("nan")
    for _, strip in _strips(picture, factor):
        values = _values(strip)
        if values.size:
            # fmax skips nan: an all-nan picture keeps a nan peak, read as a 0-255 range.
            peak = float(np.fmax(peak, np.fmax.reduce(values, axis=None)))

    def convert(strip: Image.Image) -> np.ndarray:
        values = _values(strip)
        if values.dtype == np.uint8:
            return values
        if values.dtype.kind == "f":
            top = 1.0 if peak <= 1.0 else 255.0
            return np.asarray(np.clip(np.nan_to_num(values) * (255.0 / top) + 0.5, 0, 255), np.uint8)
        # A 16-bit image stored in 32-bit ints still has a 16-bit range.
        top = 65535 if peak > 255 else 255
        return np.asarray(np.clip(values.astype(np.float32) * (255.0 / top) + 0.5, 0, 255), np.uint8)

    return convert
