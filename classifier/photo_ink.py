"""Where the ink is: a grey image -> how much ink each pixel holds, and which pixels are ink.

Steps, and why:
1. Flattening. With the ink made dark (the image is inverted for light ink), a
   morphological closing on a thumbnail gives the paper's own brightness everywhere: it
   removes strokes narrower than its window but keeps the sharp edge of a cast shadow.
   Ink is then the share by which a pixel is darker than its own paper, so shadows,
   gradients, coloured paper and dim exposure cancel out.
2. Threshold. Hysteresis relative to the strongest strokes and to the paper's noise: a
   stroke is seeded where it is clearly ink and grown through its fainter, blurred parts,
   while paper grain and text showing through from the back stay below the seed level.
3. Ruled and grid lines. Pixels in thin runs across a line's direction that join into long
   collinear chains spanning the image are line; only those thin pixels are removed, so
   where a digit's stroke crosses the line (a thicker run) the stroke is kept whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

THUMB_SIDE = 96  # the paper's brightness is estimated on a thumbnail this long
MIN_PAPER = 24.0  # grey level below which the paper is too dark to measure contrast against
MIN_INK_LEVEL = 0.18  # the faintest pencil measured is ~0.23 darker than its paper
# When the strokes' percentile falls below MIN_INK_LEVEL, the darkest this share of the
# frame's inner pixels (about 40 in a 320x240 analysis image: a small digit's stroke) sets
# the level instead if it is at least CLEAR_INK; blank pages measured reach 0.31 there.
DARKEST_SHARE = 0.00065
CLEAR_INK = 0.4
STATS_PIXELS = 12_000  # noise and level statistics use a subsample of about this many pixels
SPARSE_MASK = 0.1  # a histogram through a mask setting at most this share of pixels uses it as one
STROKE_OFF = 40  # grey levels: a drawing's strokes stand at least this far off its background
FAR_OFF = 80  # grey levels: what stands this far off a flat background tells the ink's side
# px: a picture whose longer side is shorter than this may be a crop; a phone photo of a page
# is never that small as the bot downloads it (it takes Telegram's size of at least this).
CROP_SIDE = 800
# A crop's background is flat within this share of its contrast (from the background to the
# picture's extremes): noise and JPEG's blocks and ringing come to a few grey levels either
# way, at any brightness.
CONTRAST_SHARE = 0.06
# A tiny crop is two-toned when at least this share of its pixels lies near its own one of
# its two grey levels (within a quarter of the way to the other): at least 73.5% of a 15x16
# map digit with 7 grey levels, enlarged; 69% of a 28x28 JPEG crop of a 7; a light gradient
# with a digit on it, 62%; a ramp, 50%.
TWO_TONED_SHARE = 0.65
TINY_SIDE = 64  # px: a picture shorter than this on its longer side is tiny (enlarged for analysis)
# A picture under CROP_SIDE whose frame gives no level is tried as two-toned, like a tiny one,
# when it holds no more detail than one (``no_finer_than_tiny``): shrunk below TINY_SIDE and
# enlarged back, the 99th percentile of its pixels' change is at most this share of its
# contrast. Measured: at most 0.051 for the map digits smoothly enlarged 4 to 16 times (PNG
# and JPEG); at least 0.091 for the dev photos shrunk to 120-600 px that are two-toned.
COARSE_DETAIL = 0.06
# A drawing with a flat background is never taken for a scene when it holds this little
# detail: at most 0.024 for the UCI digits smoothly enlarged 8 and 16 times, whose blurred
# edges look like texture; at least 0.040 for blurred scenes shrunk to 120 px in a white border.
BLURRED_DRAWING_DETAIL = 0.03
# In a shadow, a pixel at least this share of the strongest strokes' contrast is ink however
# wide (a fat marker's stroke, wider than strokes are taken to be: ``in_shadows``) ...
AS_DARK_AS_INK = 0.9
# ... and at least this contrast, more than a cast shadow takes of the light (a hand's indoors
# 30-50%; on a blank page the shadow itself is the strongest "stroke").
SHADOW_AT_MOST = 0.6
FRAME_LINE_DEPTH = 32  # a line drawn around a crop: up to 1/32 of its short side thick, 3 px at least


@dataclass
class InkMap:
    mask: np.ndarray  # uint8 (h, w) 0/255: the pixels taken as ink, lines removed
    contrast: np.ndarray  # float32 (h, w): share by which each pixel is darker than its paper
    dark: np.ndarray  # uint8 (h, w): the image with its ink made dark (inverted for light ink)
    paper: np.ndarray  # float32 (h, w): the paper's estimated brightness in ``dark``
    light_ink: bool  # True when the ink is lighter than its background
    line_mask: np.ndarray  # uint8 (h, w) 0/255: pixels of ruled and grid lines (removed from ``mask``)
    noise: float  # the paper's noise, in contrast units
    level: float  # the contrast of the strongest strokes (0 when there is no ink)
    lines: int  # ruled or grid lines removed
    low: float = 0.0  # the contrast where ink begins
    background: int | None = None  # the flat background's grey level, when it has one
    hidden: float = 0.0  # ``hidden_ink``, when measured
    high: float = 0.0  # the contrast that seeds a stroke (grown down to ``low``)
    # uint8 (h, w) 0/255: a ruled page's margin line (at most ``FEW_LINES`` upright lines,
    # when there are any): its pixels in ``line_mask``, and (not in a region ``cut_out``)
    # the pieces of it taken out of ``mask`` (``_without_line_pieces``)
    upright_lines: np.ndarray | None = None
    # at least ``RULED_LINES`` lines evenly spaced one way: a ruled or squared page's (or a
    # table's) lines (``line_pixels``)
    ruled: bool = False

    @property
    def line_width(self) -> float:
        """The removed lines' mean width (px): their pixels over their length, taken as the
        frame's mean side (0 when none was removed)."""
        if not self.lines:
            return 0.0
        h, w = (int(v) for v in self.line_mask.shape)
        return int(cv2.countNonZero(self.line_mask)) / (self.lines * (h + w) / 2)

    def strength(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """float32 in [0, 1] inside a box: how much of a full stroke each pixel holds (the
        anti-aliased grey levels the digit's crop is made of)."""
        part = (self.contrast[y0:y1, x0:x1] - np.float32(self.low)) * np.float32(
            1.0 / max(self.level - self.low, 1e-3)
        )
        return np.asarray(np.clip(part, 0.0, 1.0), np.float32)


def _odd(value: float) -> int:
    return max(3, int(value) // 2 * 2 + 1)


def flat_background(
    gray: np.ndarray, may_be_crop: bool = False, enlarged: bool = False, by_shape: bool = True
) -> tuple[int | None, bool]:
    """The grey level of a drawing's, crop's or scan's background: one flat grey all around
    the frame (None for a photo, whose border is never that flat); and whether a digit runs
    into the frame (a tight crop). ``may_be_crop``: the picture is too small to be a phone
    photo (``CROP_SIDE``); ``enlarged``: so small that it was enlarged for analysis, a crop
    whatever its frame shows. Such a picture, or one under ``CROP_SIDE`` with no more detail
    than a tiny one (``COARSE_DETAIL``), is told by its shape when its frame gives no level
    (``two_toned_background``), unless not ``by_shape``."""
    border = _ring(gray, 0)
    level = int(np.median(border))
    off = np.abs(border.astype(np.int16) - level)
    flat = float(np.mean(off <= _tolerance(gray, level, may_be_crop=False)))
    if flat >= 0.8:
        return level, False
    if not may_be_crop:
        return None, False
    # A digit cut out tightly runs into the frame, often in several places: at least half of
    # the rest of the frame is then strokes, far off the background, where a photo's is
    # light falling off (measured: at least 60% of it in nine crops of ten, at most 26% in
    # photos; but a strip of wall along a dim photo's edge is far off too, so photos are
    # not asked).
    strokes = float(np.mean(off >= STROKE_OFF))
    if flat >= 0.5 and strokes >= 0.5 * (1.0 - flat):
        return level, True
    # A crop's background may be grainy (see ``_tolerance``); so may a desk around a small
    # photo's page, but that page is most of the picture, where a crop's strokes are not.
    grainy = float(np.mean(off <= _tolerance(gray, level, may_be_crop=True)))
    tight = grainy < 0.8 and strokes > 0.0 and strokes >= 0.5 * (1.0 - grainy)
    if (grainy >= 0.8 or (tight and grainy >= 0.5)) and _far_off(gray, level) < (0.7 if tight else 0.45):
        return level, tight
    if by_shape and (enlarged or no_finer_than_tiny(gray, COARSE_DETAIL)):
        background = two_toned_background(gray)
        if background is not None:
            return background, True
    return None, False


def no_finer_than_tiny(gray: np.ndarray, share: float) -> bool:
    """Whether shrinking a picture below ``TINY_SIDE`` and enlarging it back changes it by
    at most ``share`` of its contrast (the 99th percentile of the change): a picture smoothly
    enlarged from a tiny one, such as a crop of a few pixels zoomed in. A photo's strokes and
    edges are finer. (A zoom that repeats pixels keeps sharp steps, and is not caught.)"""
    h, w = gray.shape
    f = (TINY_SIDE - 1) / max(h, w)
    if f >= 1.0:
        return True
    small = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    change = cv2.absdiff(gray, cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
    low, high = _extremes(gray)
    return percentile(change, 99) <= share * max(high - low, 1.0)


def two_toned_background(gray: np.ndarray) -> int | None:
    """The background of a crop cut so tightly that strokes are most of its frame, told from
    the ink by its shape: a digit is one or two strokes, while the background it meets the
    frame through is cut into pieces (the corners around a 0 and its hole; the two sides
    under a 7's bar). None unless the picture is two grey levels, far apart, most of it close
    to one or the other (light falling off is not), and one of them lies in more pieces.

    Only for a tiny picture (``flat_background``'s ``enlarged``) or one enlarged from a tiny
    one (``no_finer_than_tiny``): a small photo of a page is two-toned too, and its desk, in
    strips along the frame, in more pieces than the page.
    """
    _, light = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if cv2.countNonZero(light) in (0, light.size):
        return None
    dark = cv2.bitwise_not(light)
    low, high = float(np.median(gray[dark > 0])), float(np.median(gray[light > 0]))
    if high - low < 2 * STROKE_OFF:
        return None
    own_level = np.where(light > 0, np.float32(high), np.float32(low))
    if float(np.mean(np.abs(gray - own_level) <= 0.25 * (high - low))) < TWO_TONED_SHARE:
        return None
    least = max(2, round(0.005 * gray.size))  # a piece, not a speck of noise
    light_pieces, dark_pieces = (_pieces(side, least) for side in (light, dark))
    if light_pieces == dark_pieces:
        return None
    return round(low) if dark_pieces > light_pieces else round(high)


def _pieces(mask: np.ndarray, least: int) -> int:
    """How many connected pieces of at least ``least`` pixels ``mask`` (0/255) holds."""
    return int(np.count_nonzero(components(mask)[2][1:, cv2.CC_STAT_AREA] >= least))


def _far_off(gray: np.ndarray, level: int) -> float:
    """The share of the picture far off ``level`` (strokes, or a page on a desk)."""
    step = stats_step(gray)
    return float(np.mean(np.abs(gray[::step, ::step].astype(np.int16) - level) > 80))


def without_frame_line(gray: np.ndarray) -> np.ndarray:
    """A crop framed by a thin line (a form's box cut along it, a border an editor drew)
    with the line painted over by the background inside it; other pictures as they are.

    The frame is where the background is judged (``flat_background``): a line around it
    would be taken for the background, and the paper inside it for ink, or for nothing."""
    h, w = gray.shape
    # The line, then rings of background that agree, as deep again as the line.
    deepest = min(max(3, min(h, w) // FRAME_LINE_DEPTH), (min(h, w) - 1) // 2 - 3)
    if deepest < 1:
        return gray
    level = int(np.median(_ring(gray, 0)))
    for depth in range(1, deepest + 1):
        inside = _ring(gray, depth)
        inner = int(np.median(inside))
        if abs(inner - level) < STROKE_OFF:
            continue  # the line still
        tolerance = _tolerance(gray, inner, may_be_crop=True)
        if abs(int(np.median(_ring(gray, depth + 1))) - inner) > tolerance:
            continue  # the line's blurred edge
        if np.mean(np.abs(inside.astype(np.int16) - inner) <= tolerance) < 0.8:
            continue  # JPEG's ringing beside the line (or strokes: no background here)
        further = range(depth + 2, min(2 * depth + 2, (min(h, w) - 1) // 2) + 1)
        if any(abs(int(np.median(_ring(gray, k))) - inner) > tolerance for k in further):
            return gray  # a box drawn inside a margin of paper: the paper is the background
        if any(
            np.mean(np.abs(_ring(gray, k).astype(np.int16) - inner) >= STROKE_OFF // 2) < 0.8
            for k in range(depth)
        ):
            return gray  # no line all around (strokes run into the frame, a strip of table)
        core = gray[depth : h - depth, depth : w - depth]
        return np.asarray(cv2.copyMakeBorder(core, depth, depth, depth, depth, cv2.BORDER_REPLICATE))
    return gray


def _ring(gray: np.ndarray, depth: int) -> np.ndarray:
    """The pixels ``depth`` in from the frame, all around (at least one row and column in)."""
    h, w = gray.shape
    d = depth
    return np.concatenate(
        [gray[d, d : w - d], gray[h - 1 - d, d : w - d], gray[d : h - d, d], gray[d : h - d, w - 1 - d]]
    )


def frame_noise(gray: np.ndarray) -> float:
    """How grainy the picture's frame is: the standard deviation of its pixels' noise (grey
    levels), from their differences to a smoothing of them, along the three outer rings
    (robustly: a stroke running into the frame is a minority there)."""
    if min(gray.shape) < 8:
        return 0.0
    image = gray.astype(np.float32)
    detail = np.abs(image - cv2.GaussianBlur(image, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT))
    # The median of |noise - its smoothing| is 0.55 of Gaussian noise's standard deviation.
    return float(np.median(np.concatenate([_ring(detail, k) for k in range(3)]))) / 0.55


def _tolerance(gray: np.ndarray, level: int, may_be_crop: bool) -> float:
    """How far a background's pixels may stray from its ``level`` (see ``flat_background``)."""
    # Within 3% (2 grey levels at least): a dim photo is smooth too, but its light still
    # falls off by more than that around the frame.
    tolerance = max(2.0, 0.03 * level)
    if may_be_crop:
        # A crop's background may be grainy (a scan's or a camera's noise, JPEG's) by the same
        # few grey levels at any brightness: 3% of a dark one's is less (light-on-dark crops
        # as JPEG: 13-34 of 40 read). Against the picture's contrast, a small dim photo's
        # falloff still stands out (its contrast is low, its ink faint).
        tolerance = max(tolerance, CONTRAST_SHARE * _contrast(gray, level))
    return tolerance


def _contrast(gray: np.ndarray, level: int) -> float:
    """How far the picture's extremes lie from ``level`` (grey levels, either way)."""
    low, high = _extremes(gray)
    return max(high - level, level - low)


def _extremes(gray: np.ndarray) -> tuple[float, float]:
    """The picture's darkest and lightest grey levels, leaving out a few stray pixels."""
    step = stats_step(gray)
    low, high = np.percentile(gray[::step, ::step], [0.5, 99.5])
    return float(low), float(high)


def stats_step(gray: np.ndarray, pixels: int = STATS_PIXELS) -> int:
    """The stride that samples about ``pixels`` of an image's pixels."""
    return max(1, round(float(np.sqrt(gray.size / pixels))))


def detect_light_ink(gray: np.ndarray, may_be_crop: bool = False) -> bool:
    """True when the ink is lighter than its background (white paint on black, a 28x28 MNIST
    digit, a white digit on a transparent canvas). See ``ink_is_lighter``."""
    return ink_is_lighter(gray, *flat_background(gray, may_be_crop))


def ink_is_lighter(gray: np.ndarray, level: int | None, tight: bool) -> bool:
    """``detect_light_ink`` given ``flat_background``'s answer (its level, and whether the
    picture is a tight crop).

    Those images have a flat background; the side of it holding more of the other pixels,
    weighted by how far they are, is the ink's side, provided that side is a minority
    (strokes, not a page). Handwriting photographed on paper is dark ink: judging a photo's
    polarity from its brightness would let a cast shadow or a dark table flip it.
    """
    if level is None:
        return False
    step = stats_step(gray)
    sample = gray[::step, ::step].astype(np.int16) - level
    # Strokes stand far off a drawing's background; a photo's light falloff does not.
    far = FAR_OFF
    if not np.any(np.abs(sample) > far):
        # Nothing stands that far off either way: a crop's light strokes on grey paper, 70
        # levels above it (taken for dark ink, none was found: session 24). What stands as
        # far off as a drawing's strokes do then tells which side they lie on.
        far = STROKE_OFF
    lighter = np.maximum(sample - far, 0)
    darker = np.maximum(-sample - far, 0)
    # A crop cut tightly around a thick digit may be mostly ink: up to 82% of a 15x16 map
    # digit's (UCI "Multiple Features"), where 0.7 took a fifth of its light-on-dark 0s and 8s
    # for dark ink (on the dev and calibration splits' crops and the UCI crops, 0.85 changed
    # nothing). A page on a flat desk, which is more still, has a frame all of desk: never a
    # tight crop.
    most = 0.85 if tight else 0.45
    return bool(lighter.sum() > darker.sum() and float(np.mean(lighter > 0)) < most)


_GAP = np.full(1, 255, np.uint8)  # brighter than any paper level (at most 0.85 * 255)
_GAP.setflags(write=False)


def _pad(thumb: np.ndarray, k: int) -> np.ndarray:
    """Extend the thumbnail by ``k`` on each side for the closing.

    The frame's own pixels are replicated outwards, which keeps light falloff exact and a
    strip of table or shadow along the frame dark. Only where a stroke runs into the frame
    (a stretch darker than the paper, shorter than the closing is wide) is the page
    mirrored instead, so the stroke stays a stroke the closing can bridge rather than
    becoming endless. (OpenCV's own border handling would lift the paper along any edge
    darker than the middle, such as vignetting, into "ink".)
    """
    out = cv2.copyMakeBorder(thumb, k, k, k, k, cv2.BORDER_REPLICATE)
    h, w = thumb.shape
    paper = 0.85 * cv2.minMaxLoc(cv2.resize(thumb, (8, 8), interpolation=cv2.INTER_AREA))[1]
    # The four edges in one pass, laid end to end between gaps brighter than any paper, so
    # that no run of dark pixels reaches from one edge into the next. (Done per edge, the
    # fixed cost of each small array operation is most of the closing's.)
    dark = (
        np.concatenate((_GAP, thumb[0], _GAP, thumb[-1], _GAP, thumb[:, 0], _GAP, thumb[:, -1], _GAP)) < paper
    )
    changes = np.flatnonzero(dark[1:] != dark[:-1]) + 1  # where runs start and stop, in turn
    starts, stops = changes[::2], changes[1::2]
    short = stops - starts < k
    if not short.any():
        return np.asarray(out)
    mirrored = cv2.copyMakeBorder(thumb, k, k, k, k, cv2.BORDER_REFLECT_101)
    firsts = (1, w + 2, 2 * w + 3, 2 * w + h + 4)  # where each edge starts in ``dark``
    for start, stop in zip(starts[short].tolist(), stops[short].tolist(), strict=True):
        side = 0 if start < firsts[1] else 1 if start < firsts[2] else 2 if start < firsts[3] else 3
        a, b = start - firsts[side] + k, stop - firsts[side] + k  # along the edge, in ``out``
        if b - a == (w if side < 2 else h):
            continue  # an edge dark all along holds no stroke
        if side == 0:
            out[:k, a:b] = mirrored[:k, a:b]
        elif side == 1:
            out[k + h :, a:b] = mirrored[k + h :, a:b]
        elif side == 2:
            out[a:b, :k] = mirrored[a:b, :k]
        else:
            out[a:b, k + w :] = mirrored[a:b, k + w :]
    return np.asarray(out)


def _thumbnail(dark_ink: np.ndarray) -> np.ndarray:
    """The image the paper is estimated on: shrunk to ``THUMB_SIDE`` (a small image, such as
    a region around the digits, is used as it is)."""
    h, w = dark_ink.shape
    f = THUMB_SIDE / max(h, w) if max(h, w) > 1.6 * THUMB_SIDE else 1.0
    size = (max(2, round(w * f)), max(2, round(h * f)))
    return cv2.resize(dark_ink, size, interpolation=cv2.INTER_AREA) if f < 1 else dark_ink


def _closed(thumb: np.ndarray, wide: bool) -> np.ndarray:
    """The thumbnail's closing (float32): the paper under ink narrower than the window, a
    third of the short side (a fifth of the long one, if more); ``wide``: half the short
    side (a third of the long one), for strokes that meet in junctions wider than that."""
    short, long = min(thumb.shape), max(thumb.shape)
    k = _odd(max(short / 2, long / 3)) if wide else _odd(max(short / 3, long / 5))
    padded = _pad(thumb, k)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    return np.asarray(closed[k:-k, k:-k], np.float32)


def hidden_ink(thumb: np.ndarray, closed: np.ndarray) -> float:
    """The share of the thumbnail where the paper estimated by the wide closing is brighter
    by a fifth than the usual one's (``closed``): ink the usual closing took for paper (a
    fat marker's strokes filling the frame), or a shadow the wide one cannot follow."""
    # At half the thumbnail's size: a share needs no detail, and the wide window costs most.
    wide = _closed(cv2.pyrDown(thumb), wide=True)
    return float(np.mean(wide - cv2.pyrDown(closed) > 0.2 * wide))


def paper_brightness(dark_ink: np.ndarray, thumb: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """The paper under dark ink, at every pixel, from the closing of its thumbnail (a closing
    wider than strokes: ``_closed``)."""
    h, w = dark_ink.shape
    if closed.shape == dark_ink.shape:
        return closed
    if not _has_sharp_edge(closed):
        # Light that changes smoothly: plain interpolation is exact enough.
        return np.asarray(cv2.resize(closed, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)
    # Guided on a grid twice the thumbnail's, then plainly enlarged: at that size the edge
    # it keeps sharp is already within a pixel or two, for a quarter of the work.
    th, tw = thumb.shape
    mid = (min(w, 2 * tw), min(h, 2 * th))
    guide = cv2.resize(dark_ink, mid, interpolation=cv2.INTER_AREA) if mid != (w, h) else dark_ink
    paper = guided_upsample(closed, thumb.astype(np.float32), guide)
    if paper.shape != dark_ink.shape:
        paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.asarray(paper, np.float32)


def _has_sharp_edge(paper: np.ndarray) -> bool:
    """Whether the paper's brightness jumps somewhere between neighbouring thumbnail cells by
    more than light falloff does (the edge of a cast shadow, or of the page)."""
    # OpenCV's absolute differences and maximum: the same numbers as numpy's, for a third
    # of the fixed cost on an array this small.
    down = cv2.minMaxLoc(cv2.absdiff(paper[1:], paper[:-1]))[1] if paper.shape[0] > 1 else 0.0
    across = cv2.minMaxLoc(cv2.absdiff(paper[:, 1:], paper[:, :-1]))[1] if paper.shape[1] > 1 else 0.0
    return max(down, across) > 0.06 * cv2.minMaxLoc(paper)[1]


def guided_upsample(values: np.ndarray, means: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """Enlarge a thumbnail's ``values`` to ``guide``'s size, each pixel taking them from the
    neighbouring thumbnail cells whose mean brightness (``means``) is like its own (a joint
    bilateral upsampling).

    Plain interpolation would smear the paper's brightness across the sharp edge of a cast
    shadow, and the darker side of the edge would look like a strip of ink.
    """
    h, w = guide.shape
    th, tw = values.shape
    sigma = max(8.0, 0.08 * float(np.median(values)))
    g = guide.astype(np.float32) * np.float32(1.0 / sigma)
    scaled_means = (means * np.float32(1.0 / sigma)).ravel()
    flat_values = values.ravel()
    total = np.zeros((h, w), np.float32)
    weights = np.zeros((h, w), np.float32)
    for index, spatial in _bilinear_taps(h, w, th, tw):
        near = g - scaled_means[index]
        weight = cv2.exp(-(near * near)) + np.float32(1e-3)
        weight *= spatial
        total += weight * flat_values[index]
        weights += weight
    return np.asarray(total / weights, np.float32)


@lru_cache(maxsize=32)
def _bilinear_taps(h: int, w: int, th: int, tw: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """For enlarging (th, tw) to (h, w): the four neighbouring cells of every pixel, as flat
    indices, with their bilinear weights."""
    ys = (np.arange(h, dtype=np.float32) + 0.5) * (th / h) - 0.5
    xs = (np.arange(w, dtype=np.float32) + 0.5) * (tw / w) - 0.5
    y0 = np.clip(np.floor(ys), 0, th - 1).astype(np.int32)
    x0 = np.clip(np.floor(xs), 0, tw - 1).astype(np.int32)
    wy = np.clip(ys - y0, 0.0, 1.0)[:, None]
    wx = np.clip(xs - x0, 0.0, 1.0)[None, :]
    y1, x1 = np.minimum(y0 + 1, th - 1), np.minimum(x0 + 1, tw - 1)
    taps = []
    for rows, row_weight in ((y0, 1.0 - wy), (y1, wy)):
        for cols, col_weight in ((x0, 1.0 - wx), (x1, wx)):
            index = rows[:, None] * tw + cols[None, :]
            taps.append((index, (row_weight * col_weight).astype(np.float32)))
    return tuple(taps)


def find_ink(
    gray: np.ndarray,
    light_ink: bool,
    line_thickness: float | None = None,
    background: int | None = None,
    wide: bool = False,
    measure_hidden: bool = False,
    cut_out: bool = False,
    ruled: bool = False,
) -> InkMap:
    """The ink in a grey image of the given polarity (see the module's docstring).

    ``line_thickness`` bounds how thick a ruled line may be, in pixels (default: from the
    image's size). ``background``: the grey level of a flat background (a drawing, a
    crop), which is then the paper everywhere, however thick the strokes on it. ``wide``:
    the paper estimated with the wide closing (``_closed``); ``measure_hidden``: set
    ``InkMap.hidden`` (``hidden_ink``). ``cut_out``: the image is a region cut around the
    writing found in a larger one (see ``line_pixels``); ``ruled``: that one's lines were a
    ruled page's (``InkMap.ruled``).
    """
    dark = cv2.bitwise_not(gray) if light_ink else gray
    hidden = 0.0
    if background is not None:
        paper = np.full(gray.shape, float(255 - background if light_ink else background), np.float32)
    else:
        thumb = _thumbnail(dark)
        closed = _closed(thumb, wide)
        paper = paper_brightness(dark, thumb, closed)
        if measure_hidden:
            hidden = hidden_ink(thumb, closed)
    fine = dark.astype(np.float32)
    contrast = _darker_than(fine, paper)
    # Statistics on contrast quantised to 1/255: histograms instead of sorting.
    levels = cv2.convertScaleAbs(contrast, alpha=255.0)
    h, w = levels.shape

    # Statistics on a subsample of pixels.
    step = stats_step(gray)
    # The paper's noise from the image's fine grain (a high-pass, which strokes touch only at
    # their edges): the 25th percentile of the grain's size (0.32 sigma for Gaussian
    # noise), so ruled lines and strokes covering a quarter of the page do not inflate it.
    smooth = cv2.GaussianBlur(fine, (0, 0), 1.0)[::step, ::step]
    grain = cv2.convertScaleAbs(cv2.subtract(fine[::step, ::step], smooth), alpha=8.0)
    spread = percentile(grain, 25) / 8.0 / 0.32 * 1.5
    noise = spread / max(percentile(cv2.convertScaleAbs(paper[::step, ::step]), 50), MIN_PAPER) + 0.004
    # The paper's own level from the lower part of the distribution: ink may cover half
    # of a frame it fills, which would swamp a plain median.
    centre = percentile(levels[::step, ::step], 25) / 255.0 + 0.67 * noise
    floor = max(centre + 4.0 * noise, 0.04)
    weak = _above(levels, floor)
    # Lines first, on everything faintly dark, so that a page of ruled lines does not set
    # the level that decides what counts as a stroke.
    thickness = line_thickness if line_thickness is not None else max(3.0, min(gray.shape) * 0.006)
    # A drawing's or crop's lines cross all of it (see ``line_pixels``); but a region cut
    # from a scan of a squared page shows a few of its lines, cut short by the region.
    whole = background is not None and not ruled
    lines, count, upright_band, ruling = line_pixels(weak, thickness, whole=whole, cut_out=cut_out)
    if not count and line_thickness is None and background is None:
        # A close-up of ruled paper magnifies its lines too: blurred, they may be thicker
        # than any usual line (``MAGNIFIED_LINES``).
        lines, count, upright_band, ruling = line_pixels(weak, MAGNIFIED_LINES * thickness, magnified=True)
    # The level comes from the inner part of the frame when it holds ink: strips of table
    # and dark corners along the frame would otherwise drown a pencil's faint strokes.
    # (At full resolution: a tiny digit's thin strokes may be missed by a subsample.)
    strong = _above(levels, max(centre + 6.0 * noise, 0.06))
    if count:
        strong = cv2.subtract(strong, lines)
    inner = (slice(round(0.06 * h), round(0.94 * h)), slice(round(0.06 * w), round(0.94 * w)))
    histogram = _histogram(levels[inner], strong[inner])
    if histogram.sum() < 3:
        histogram = _histogram(levels, strong)
    # The strongest strokes set the level: a high percentile, so that a page of faint text
    # showing through from the back does not drag it down to its own contrast.
    level = percentile_of_histogram(histogram, 97) / 255.0 if histogram.sum() >= 3 else 0.0
    if level < MIN_INK_LEVEL:
        # A broad band of faint contrast (the edge of a hard shadow, which the paper's
        # estimate follows only roughly) can outnumber a small digit's pixels so far that
        # the percentile lands in the band; the digit is still the darkest thing there.
        darkest = percentile(levels[inner], 100.0 * (1.0 - DARKEST_SHARE)) / 255.0
        if darkest >= CLEAR_INK:
            level = darkest
    if level < MIN_INK_LEVEL:
        # No strokes at all, or nothing darker than faint text showing through from the back.
        none = np.zeros(gray.shape, np.uint8)
        return InkMap(
            none, contrast, dark, paper, light_ink, lines, noise, 0.0, count, 0.0, background, hidden
        )
    high = max(centre + 8.0 * noise, 0.5 * level, 0.08)
    low = max(floor, 0.3 * level)
    mask = _hysteresis(levels, low, high)
    upright: np.ndarray | None = None  # ``InkMap.upright_lines``
    if count:
        # A ruled line is printed faint; ink lying on it is darker, and stays. A line or two
        # (a form's, an underline) may be as dark as the ink and thinner than a pixel, spread
        # over two rows whose fainter pixels would make its core pass for ink on it: their
        # level is their core's (the darkest within a pixel). Not a ruled page's: measured so,
        # its faint lines would reach the level of its darker margin line, which is kept
        # whole (and then rejected as a line across the page) rather than cut into "1"s.
        on_lines = cv2.dilate(levels, np.ones((3, 3), np.uint8)) if count <= FEW_LINES else levels
        line_level = percentile_of_histogram(_histogram(on_lines, lines), 50) / 255.0
        lines[levels > 255.0 * max(1.6 * line_level, line_level + 0.15)] = 0
        mask = cv2.subtract(mask, lines)
        if upright_band is not None:
            upright = cv2.bitwise_and(lines, upright_band)
            if not cut_out:  # (a region's lines are few: a squared page's too)
                mask, on_line = _without_line_pieces(mask, upright_band)
                upright = cv2.bitwise_or(upright, on_line)
    return InkMap(
        mask,
        contrast,
        dark,
        paper,
        light_ink,
        lines,
        noise,
        level,
        count,
        low,
        background,
        hidden,
        high,
        upright,
        ruling,
    )


def _without_line_pieces(mask: np.ndarray, band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mask`` without its upright parts that lie wholly in the ``band`` along a few
    upright lines (a ruled page's margin line), and those parts. A margin line is darker
    than the faint ruling whose level decides what on the lines is ink; where the light
    makes it darker still, a stretch of it was kept as ink, with no ink reaching off the
    line, read as a "1", and the small number beside it left out as smaller."""
    count, labels, stats = components(mask)
    off = np.bincount(labels[(mask > 0) & (band == 0)], minlength=count)
    on_line = (off == 0) & (stats[:, cv2.CC_STAT_HEIGHT] > stats[:, cv2.CC_STAT_WIDTH])
    on_line[0] = False
    if not on_line.any():
        return mask, np.zeros_like(mask)
    pieces = np.where(on_line[labels], np.uint8(255), np.uint8(0))
    return cv2.subtract(mask, pieces), pieces


_PAPER_FLOOR = np.array([MIN_PAPER])  # (OpenCV takes a one-element array as a scalar)
_PAPER_FLOOR.setflags(write=False)


def _darker_than(dark: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """float32 in [0, 1]: the share by which each pixel of ``dark`` is darker than ``paper``."""
    # (OpenCV's maximum with a scalar: the same numbers as numpy's, in less than half the time
    # at 320x240.)
    contrast = cv2.divide(cv2.subtract(paper, dark), cv2.max(paper, _PAPER_FLOOR))
    return np.asarray(np.clip(contrast, 0.0, 1.0, out=contrast), np.float32)


@dataclass
class InShadows:
    """A photo's paper followed into the shadows cast on it (``in_shadows``)."""

    paper: np.ndarray  # float32 (h, w): the paper's brightness, in the shadows too
    contrast: np.ndarray  # float32 (h, w): share by which each pixel is darker than that
    ink: np.ndarray  # bool (h, w): strokes against that paper, or as dark as the strongest anywhere


def in_shadows(ink: InkMap, width: int) -> InShadows:
    """The paper under the shadows cast on a photo's page wider than ``width`` px (a hand's,
    its fingers', a phone's), and the ink darker than it.

    The paper's estimate (``_closed``) follows only shadows wider than a third of the
    frame: a narrower one is "ink" as dark as the shadow is, and a digit in it is one part
    with it. A closing just wider than strokes follows it (a fat marker's stroke wider than
    that is kept by its darkness: ``AS_DARK_AS_INK`` of the strongest strokes' contrast, and
    at least ``SHADOW_AT_MOST``).
    """
    closed = cv2.morphologyEx(
        ink.dark, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    )
    paper = np.minimum(ink.paper, closed.astype(np.float32))
    contrast = _darker_than(ink.dark.astype(np.float32), paper)
    strokes = _hysteresis(cv2.convertScaleAbs(contrast, alpha=255.0), ink.low, ink.high) > 0
    return InShadows(
        paper, contrast, strokes | (ink.contrast >= max(AS_DARK_AS_INK * ink.level, SHADOW_AT_MOST))
    )


def _histogram(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Counts of each uint8 value; with a ``mask`` (uint8, 0/255: the two ways of counting
    below agree only on such a mask), of the values where it is set, leaving out 0 (no ink)."""
    if mask is None:
        return np.asarray(cv2.calcHist([values], [0], None, [256], [0, 256]).ravel())
    # OpenCV's masked histogram looks at the mask pixel by pixel: on a sparse mask (a digit's
    # strokes) three times faster than masking the values and dropping the zeros, on a dense
    # one twice as slow.
    if cv2.countNonZero(mask) <= SPARSE_MASK * mask.size:
        histogram = np.asarray(cv2.calcHist([values], [0], mask, [256], [0, 256]).ravel())
    else:
        masked = cv2.bitwise_and(values, mask)
        histogram = np.asarray(cv2.calcHist([masked], [0], None, [256], [0, 256]).ravel())
    histogram[0] = 0
    return histogram


def percentile_of_histogram(histogram: np.ndarray, q: float) -> float:
    """The q-th percentile of the uint8 values ``histogram`` counts (see ``percentile``)."""
    cumulative = np.cumsum(histogram)
    return float(np.searchsorted(cumulative, q / 100.0 * cumulative[-1])) if cumulative[-1] else 0.0


def percentile(values: np.ndarray, q: float) -> float:
    """The q-th percentile of uint8 values, from their histogram."""
    return percentile_of_histogram(_histogram(np.ascontiguousarray(values)), q)


def _above(levels: np.ndarray, threshold: float) -> np.ndarray:
    """uint8 mask (0/255) of contrast levels above ``threshold`` (a contrast, 0..1)."""
    return np.asarray(cv2.threshold(levels, min(threshold * 255.0, 255.0), 255, cv2.THRESH_BINARY)[1])


def label_type(mask: np.ndarray) -> int:
    """The narrowest label type for the 8-connected parts of ``mask``: OpenCV labels in
    16 bits several times faster than in 32 (0.16 against 0.8 ms on a 320x240 mask), and
    an image has at most one part per 2x2 block of pixels."""
    h, w = mask.shape[:2]
    return cv2.CV_16U if -(-h // 2) * -(-w // 2) < 65535 else cv2.CV_32S


def ink_box(mask: np.ndarray, margin: int = 0) -> tuple[slice, slice] | None:
    """The box around a mask's nonzero pixels grown by ``margin`` (within the image), as
    slices; None for an empty mask.

    A page's ink covers a small part of it, and labelling, dilating and indexing cost by
    the pixel: done inside this box they give the same answer for a fraction of the work.
    """
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return None
    rows, cols = mask.shape[:2]
    return (
        slice(max(0, y - margin), min(rows, y + h + margin)),
        slice(max(0, x - margin), min(cols, x + w + margin)),
    )


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats`` (8-connected) of a 0/255 mask, labelled inside
    ``ink_box`` only (0.02 against 0.16 ms for a digit in a 320x240 photo): the count, the
    labels at full size and each part's stats in the full image's coordinates. Row 0 (the
    background) is the whole frame."""
    ltype = label_type(mask)
    ink = ink_box(mask)
    if ink is None:
        frame = np.array([[0, 0, mask.shape[1], mask.shape[0], mask.size]], np.int32)
        return 1, np.zeros(mask.shape, np.uint16 if ltype == cv2.CV_16U else np.int32), frame
    # From even coordinates: OpenCV labels 2x2 blocks in turn, so the parts are numbered in
    # the same order as in the whole frame only when the blocks line up with its.
    box = (slice(ink[0].start & ~1, ink[0].stop), slice(ink[1].start & ~1, ink[1].stop))
    count, inside, stats, _ = cv2.connectedComponentsWithStats(mask[box], connectivity=8, ltype=ltype)
    labels = np.zeros(mask.shape, inside.dtype)
    labels[box] = inside
    stats[1:, cv2.CC_STAT_LEFT] += box[1].start
    stats[1:, cv2.CC_STAT_TOP] += box[0].start
    stats[0] = (0, 0, mask.shape[1], mask.shape[0], mask.size - int(stats[1:, cv2.CC_STAT_AREA].sum()))
    return count, labels, stats


def _hysteresis(levels: np.ndarray, low: float, high: float) -> np.ndarray:
    weak = _above(levels, low)
    box = ink_box(weak)
    out = np.zeros_like(weak)
    if box is None:
        return out
    weak = weak[box]
    count, labels = cv2.connectedComponents(weak, connectivity=8, ltype=label_type(weak))
    seeded = np.zeros(max(count, 256), np.uint8)
    seeded[labels[_above(levels[box], high) > 0]] = 255
    seeded[0] = 0
    if count <= 256:
        # A lookup table on 8-bit labels: twice as fast as indexing (0.10 against 0.24 ms
        # for a 320x240 photo), and a page rarely holds more parts than that.
        out[box] = cv2.LUT(labels.astype(np.uint8), seeded[:256])
    else:
        out[box] = seeded[labels]
    return out


def line_pixels(
    mask: np.ndarray, thickness: float, whole: bool = False, cut_out: bool = False, magnified: bool = False
) -> tuple[np.ndarray, int, np.ndarray | None, bool]:
    """The pixels of ruled and grid lines (near horizontal or vertical; fanned out further by
    perspective, once a page's lines are found: ``CONVERGING_TILT``) in an ink mask, and
    how many lines there are. ``thickness``: the thickest line to expect, in pixels;
    ``whole``: only lines that cross nearly all of it (a drawing's or crop's, see
    ``LONE_LINE``) or that are written on (``WRITTEN_ON``); ``cut_out``: the mask is a
    region cut around the writing, with a margin: a line whose ink crosses it unbroken
    goes on beyond it, where no digit's stroke does; ``magnified``: lines thicker than
    usual, taken for a close-up's ruling only when several cross the photo
    (``MAGNIFIED_REACH``). Also the band along the upright lines when there are only a few
    (``FEW_LINES``: a ruled page's margin line, a form's), else None; and whether the lines
    are a ruled or squared page's (``RULED_LINES`` evenly spaced, one way at least)."""
    if cv2.countNonZero(mask) < 0.45 * min(mask.shape):
        return np.zeros_like(mask), 0, None, False
    horizontal, h_band, found_h, ruled_h = _line_pixels(mask, thickness, False, whole, cut_out, magnified)
    vertical, v_band, found_v, ruled_v = _line_pixels(mask, thickness, True, whole, cut_out, magnified)
    lines = cv2.bitwise_or(horizontal, vertical)
    if found_h and found_v:
        # Where a squared page's lines cross, each is "thick" seen across the other: those
        # crossings are line too, unless a stroke's body fills them.
        most = max(2, round(thickness))
        side = most + 1 + most % 2
        body = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
        crossing = cv2.bitwise_and(cv2.bitwise_and(h_band, v_band), cv2.subtract(mask, body))
        lines = cv2.bitwise_or(lines, crossing)
    upright_band = v_band if 0 < found_v <= FEW_LINES else None
    return lines, found_h + found_v, upright_band, ruled_h or ruled_v


def remove_lines(mask: np.ndarray, thickness: float) -> tuple[np.ndarray, int]:
    """An ink mask without its ruled and grid lines, and how many there were."""
    lines, count, _, _ = line_pixels(mask, thickness)
    out = mask.copy()
    out[lines > 0] = 0
    return out, count


MAX_TILT = 14.0  # degrees: ruled lines are searched within this of horizontal and vertical (first)
TILT_STEP = 1.0
OFFSET_BIN = 2.0  # px
MAX_VOTERS = 4000
LONE_LINE = 0.9  # of the image's length: a line with no others like it crosses this much of it,
WRITTEN_ON = 0.5  # ... or at least this much, when unbroken for this many times as long as
WRITTEN_ON_TALL = 2.5  # the rest of the ink is tall: a (near-horizontal) line written on,
CROSSES = 0.97  # ... or in a region cut around the writing, unbroken across this much of it
FEW_LINES = 2  # lines found in an image, at most, that are no ruled page's
RULED_LINES = 4  # a drawing's or crop's lines are a ruled page's when at least this many ...
RULED_SPACING = 0.3  # ... lie evenly spaced (each gap within this share of their median) ...
RULED_APART = 3  # ... and at least this many line thicknesses apart
# A row of large digits may hide so much of the ruled lines it is written across that they
# fall short of being found (strokes hide their pixels). Peaks of the vote this strong are
# lines too where they lie evenly among lines found, between them (``_with_hidden_lines``).
# Session 26: a marker's 5-digit number on squared paper was read as a sure "5", its other
# digits joined by what was left of two hidden lines and turned down as one long dash. On
# 1,200 empty photos 3 more answered "no digit"; the helpers' 1,790 phone photos and 1,339
# of other surfaces +3, none lost, one more answered wrong without "not sure" (a chat
# screenshot's small digit, "not sure" before); nothing else changed on the dev and
# calibration splits, their 4,600 shrunk photos or 9,000 more drawings, crops and photos.
HIDDEN_LINE = 0.3
# A close-up of ruled paper magnifies its lines too: a digit 30% of the frame tall on lines
# 1.4 times its height apart and 4% of that thick, blurred, is thicker than any usual line.
# A pencil as dark as those lines left them in its ink, the digit joined to them and turned
# down: of 150 handwriting-font photos of digits sitting on such lines, pencil read 5 (black
# ink 148). A photo with no usual lines is searched for lines up to this many times as
# thick, taken for ruling only when at least two of them cross this share of it: 145 of
# 150 then, and 4 more of the font probe's pencil photos on ruled paper; nothing else
# changed on any set above (a stroke or a page's edge is not so long and straight twice).
MAGNIFIED_LINES = 2.0
MAGNIFIED_REACH = 0.8
# A page photographed steeply aslant: perspective fans its lines out, wider than the tilts
# searched around theirs. Once this many lines are found at one tilt, the pixels off them
# vote again, over all tilts up to this many degrees.
CONVERGING_AFTER = 3
CONVERGING_TILT = 30.0


def _distinct_lines(offsets: np.ndarray, thickness: int) -> np.ndarray:
    """Lines at these offsets (px), in order, the peaks of one line (at neighbouring tilts,
    or its two edges) counted once."""
    lines = np.sort(offsets)
    if not lines.size:
        return lines
    return np.asarray(lines[np.concatenate([[True], np.diff(lines) >= RULED_APART * thickness])])


def _evenly_spaced(offsets: np.ndarray, thickness: int) -> bool:
    """Whether lines at these offsets (px) are a ruled page's (``RULED_LINES``)."""
    lines = _distinct_lines(offsets, thickness)
    if len(lines) < RULED_LINES:
        return False
    gaps = np.diff(lines)
    typical = float(np.median(gaps))
    # (A line the strokes crossed too much to be found leaves a gap twice as wide.)
    steps = np.maximum(np.round(gaps / typical), 1.0)
    return bool((np.abs(gaps - steps * typical) <= RULED_SPACING * typical).all())


def _with_hidden_lines(found: np.ndarray, votes: np.ndarray, least: float, thickness: int) -> np.ndarray:
    """``found`` lines (rows of (tilt, offset bin) indices into ``votes``) with the peaks of
    the vote at least ``least`` strong that lie among them, evenly spaced as a ruled page's
    lines are (``HIDDEN_LINE``); the weakest peaks are left out until the rest do."""
    tilt = int(np.median(found[:, 0]))
    weak = (votes >= least) & (votes >= cv2.dilate(votes, np.ones((5, 5), np.uint8)))
    weak[: max(0, tilt - 1)] = False  # a page's lines share one tilt, or nearly
    weak[tilt + 2 :] = False
    # Only between the lines found, and apart from them: a page's margins have no lines,
    # and a peak beside a line is a stroke along it.
    apart = RULED_APART * thickness / OFFSET_BIN
    offsets = found[:, 1]
    candidates = [
        (t, b)
        for t, b in np.argwhere(weak).tolist()
        if offsets.min() < b < offsets.max() and np.abs(offsets - b).min() >= apart
    ]
    candidates.sort(key=lambda p: votes[p[0], p[1]])
    while candidates:
        lines = np.vstack([found, np.array(candidates)])
        if _evenly_spaced(lines[:, 1] * OFFSET_BIN, thickness):
            return lines
        candidates.pop(0)
    return found


def _offset_of_bin(bins: np.ndarray | int, span: float) -> np.ndarray:
    """Where a line voted into offset bin ``bins`` lies across the image (a vote's peak sums
    a bin and the next, so the line lies at their boundary)."""
    return np.asarray((np.asarray(bins) + 1) * OFFSET_BIN - span)


def _with_converging_lines(
    tilts: np.ndarray,
    found: np.ndarray,
    span: float,
    bins: int,
    along: np.ndarray,
    across: np.ndarray,
    needed: float,
    thickness: int,
    length: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``tilts`` and ``found`` lines (rows of (tilt index, offset bin)) with the lines of the
    page at other tilts (see ``CONVERGING_TILT``): peaks of the votes of the pixels off the
    lines found, over all tilts up to that, strongest first, each crossing none of the lines
    kept within the image (``length`` long): a page's lines do not cross, in a photo either.
    The lines added index tilts past ``votes``' (only the single-line and drawing checks of
    ``_line_pixels`` read it, which never see them)."""
    centres = _offset_of_bin(found[:, 1], span)
    # Each voter's distance across the nearest line found.
    offset_of = across[:, None] - along[:, None] * tilts[found[:, 0]][None, :].astype(np.float32)
    near = np.abs(offset_of - centres[None, :]).min(axis=1) <= thickness + 2 * OFFSET_BIN
    along, across = along[~near], across[~near]
    if along.size < needed:
        return tilts, found
    degrees = np.arange(-CONVERGING_TILT, CONVERGING_TILT + 0.1, TILT_STEP)
    others = np.tan(np.deg2rad(degrees)).astype(np.float32)
    position = across[None, :] - along[None, :] * others[:, None] + span
    index = (position * np.float32(1.0 / OFFSET_BIN)).astype(np.int32)
    inside = (index >= 0) & (index < bins)  # (beyond: a line leaving the image through its side)
    index += (np.arange(others.size, dtype=np.int32) * bins)[:, None]
    counts = np.bincount(index[inside], minlength=others.size * bins).reshape(others.size, bins)
    votes = (counts[:, :-1] + counts[:, 1:]).astype(np.float32)
    peaks = np.argwhere((votes >= needed) & (votes >= cv2.dilate(votes, np.ones((5, 5), np.uint8))))
    if not len(peaks):
        return tilts, found
    peaks = peaks[np.argsort(-votes[peaks[:, 0], peaks[:, 1]], kind="stable")]
    # Where each line kept crosses the image's two ends.
    starts = list(centres)
    ends = list(centres + tilts[found[:, 0]] * length)
    kept = []
    for t, b in peaks.tolist():
        start = float(_offset_of_bin(b, span))
        end = start + float(others[t]) * length
        crosses = any((start - s0) * (end - e0) <= 0 for s0, e0 in zip(starts, ends, strict=True))
        if not crosses:
            kept.append((t + len(tilts), b))
            starts.append(start)
            ends.append(end)
    if not kept:
        return tilts, found
    return np.concatenate([tilts, others]), np.vstack([found, np.array(kept)])


def _longest_run(pixels: np.ndarray, gap: int) -> int:
    """The longest stretch of columns holding a (near-horizontal) line's pixels broken by no
    gap wider than ``gap`` px."""
    present = np.concatenate([[False], pixels.any(axis=0), [False]])
    edges = np.flatnonzero(np.diff(present.astype(np.int8)))
    starts, stops = edges[::2], edges[1::2]
    if starts.size == 0:
        return 0
    joined = np.concatenate([[True], starts[1:] - stops[:-1] > gap])  # a stretch starts here
    first = np.flatnonzero(joined)
    last = np.concatenate([first[1:] - 1, [starts.size - 1]])
    return int((stops[last] - starts[first]).max())


def _line_pixels(
    mask: np.ndarray,
    thickness: float,
    vertical: bool,
    whole: bool = False,
    cut_out: bool = False,
    magnified: bool = False,
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Near-horizontal (or near-vertical) lines: their thin pixels, the band along them,
    their count, and whether they are a ruled page's (``_evenly_spaced``).

    A vote over tilts and offsets (a Hough transform restricted to the angles a page is
    photographed at) by the first pixel of every thin run across the line's direction, so
    each line casts one vote per column whatever its thickness."""
    h, w = mask.shape
    length = h if vertical else w
    most = max(2, round(thickness))
    out = np.zeros_like(mask)
    # Pixels in runs across the line no longer than a line is thick; a crossing stroke's
    # run is longer. (An odd kernel: an even one is off by a pixel on one side of each run.)
    across = most + 1 + most % 2
    kernel = np.ones((1, across) if vertical else (across, 1), np.uint8)
    thin = cv2.subtract(mask, cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel))
    if cv2.countNonZero(thin) < 0.45 * length:
        return out, out, 0, False
    starts = thin.copy()
    if vertical:  # along the line: rows; across it: columns
        starts[:, 1:][thin[:, :-1] > 0] = 0
        along, across_pos = np.nonzero(starts)
    else:
        starts[1:][thin[:-1] > 0] = 0
        across_pos, along = np.nonzero(starts)
    needed = 0.45 * length
    if along.size < needed:
        return out, out, 0, False
    # A few thousand votes find the lines as well as all of them (a noisy page has many).
    keep = -(-along.size // MAX_VOTERS)
    if keep > 1:
        # Chosen by a hash, not every k-th: regular spacing could skip whole lines of a grid.
        chosen = (
            (np.arange(along.size, dtype=np.uint32) * np.uint32(2654435761)) >> np.uint32(16)
        ) % keep == 0
        along, across_pos = along[chosen], across_pos[chosen]
        needed /= keep
    span = (w if vertical else h) + length * float(np.tan(np.deg2rad(MAX_TILT)))
    bins = int(2 * span / OFFSET_BIN) + 2
    along_f, across_f = along.astype(np.float32), across_pos.astype(np.float32)

    def vote(degrees: np.ndarray, every: int = 1) -> tuple[np.ndarray, np.ndarray]:
        tilts = np.tan(np.deg2rad(degrees)).astype(np.float32)
        position = across_f[None, ::every] - along_f[None, ::every] * tilts[:, None] + span
        index = (position * np.float32(1.0 / OFFSET_BIN)).astype(np.int32)
        index += (np.arange(tilts.size, dtype=np.int32) * bins)[:, None]
        counts = np.bincount(index.ravel(), minlength=tilts.size * bins).reshape(tilts.size, bins)
        return tilts, (counts[:, :-1] + counts[:, 1:]).astype(np.float32)  # a line on a bin boundary

    # Coarse to fine: a page's lines share nearly one tilt (perspective adds a little), so
    # find it on a coarse grid with a quarter of the votes, then look closely around it.
    coarse = np.arange(-MAX_TILT, MAX_TILT + 0.1, 2 * TILT_STEP)
    _, rough = vote(coarse, every=4)
    best = float(coarse[int(np.argmax((rough**2).sum(axis=1)))])
    tilts, votes = vote(np.arange(best - 3 * TILT_STEP, best + 3.1 * TILT_STEP, TILT_STEP))
    # Lines are the local peaks of the vote that a line across most of the image would cast.
    peaks = (votes >= needed) & (votes >= cv2.dilate(votes, np.ones((5, 5), np.uint8)))
    found = np.argwhere(peaks)
    if magnified:
        found = found[votes[found[:, 0], found[:, 1]] * keep >= MAGNIFIED_REACH * length]
        if len(_distinct_lines(found[:, 1] * OFFSET_BIN, most)) < 2:
            return out, out, 0, False
    if found.size == 0:
        return out, out, 0, False
    if len(found) >= 2:
        found = _with_hidden_lines(found, votes, HIDDEN_LINE * length / keep, most)
    if len(found) >= CONVERGING_AFTER and not (whole or magnified):
        tilts, found = _with_converging_lines(
            tilts, found, span, bins, along_f, across_f, needed, most, length
        )

    def band_of(lines: np.ndarray) -> np.ndarray:
        """The band along these found lines (rows of ``found``)."""
        band = np.zeros_like(mask)
        ends = np.array([-1.0, length + 1.0], np.float32)
        centres = _offset_of_bin(lines[:, 1], span)
        offsets = centres[:, None] + tilts[lines[:, 0]][:, None] * ends[None, :]
        along_ends = np.broadcast_to(ends, offsets.shape)
        xy = np.stack([offsets, along_ends] if vertical else [along_ends, offsets], axis=-1)
        cv2.polylines(
            band, list(np.round(xy).astype(np.int32)), False, 255, thickness=2 * round(OFFSET_BIN) + most
        )
        return band

    # One lone line must cross nearly everything; ruled and squared paper repeat their lines.
    # So must every line of a drawing or crop, unless they are a ruled page's, many and evenly
    # spaced (the digits' strokes crossing them take votes away): no page edge or perspective
    # cuts its lines short, and a stroke drawn straight (a 1, a 9's tail) may be found as two
    # lines, its wobbles as peaks of their own.
    ruled = _evenly_spaced(found[:, 1] * OFFSET_BIN, most)
    if len(found) == 1 or (whole and not ruled):
        reach = votes[found[:, 0], found[:, 1]] * keep
        lone = reach >= LONE_LINE * length
        # A line written on (a form's answer line, an underline) need not cross the whole
        # image: unbroken for far longer than the writing on it is tall, it is no digit's
        # stroke (nor the bars of a row of 7s, which the vote adds up). The writing on it
        # breaks it only as a line: its ink goes on there. Across a row, never upright: a 1
        # drawn alone, or with a flag or a base, is as long for the rest of its ink.
        written_on = ~lone & (reach >= WRITTEN_ON * length) & (not vertical)
        if written_on.any():
            _, _, _, tall = cv2.boundingRect(cv2.subtract(mask, band_of(found[written_on])))
            for i in np.flatnonzero(written_on):
                run = _longest_run(cv2.bitwise_and(band_of(found[i : i + 1]), mask), most)
                written_on[i] = run >= WRITTEN_ON_TALL * tall or (cut_out and run >= CROSSES * length)
        found = found[lone | written_on]
        if found.size == 0:
            return out, out, 0, False
    band = band_of(found)
    out = cv2.bitwise_and(band, thin)
    return out, band, len(found), ruled
