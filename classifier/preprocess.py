"""The shared photo preprocessing: image bytes -> MNIST-format digits and their boxes.

`digitbot predict`, the photo evaluation and the bot all call ``prepare``:

1. decode (``imageio``): any common format, EXIF-upright, transparency flattened, grey;
   a screenshot of a paint program, or a plot of a digit, is cut to its canvas (``canvas``);
2. find the number (a 320-pixel analysis image): the polarity is decided (a photo is dark
   ink, and a mostly dark one is read again as light writing; a drawing or crop, with its
   flat background, either), then the ink is found
   (``photo_ink``) and grouped into digits (``photo_layout``); a drawing in which that finds
   no digit is looked at again shrunk keeping its ink, for pencil lines a pixel wide;
3. read the number: digits large in the analysis image are read there; smaller ones from
   the region around them, cut from an image decoded again at a resolution that makes
   them about 64 pixels tall, and their ink found and grouped again, so small digits keep
   their detail and large ones cost little;
4. each digit's ink is stroke-width normalised and put into MNIST's format (``to_mnist``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from statistics import median

import cv2
import numpy as np

from classifier.canvas import find_canvas, holds
from classifier.imageio import FULL_SIDE, JPEG_FORMATS, MAX_PIXELS, Decoded, ImageError, decode, decode_colour
from classifier.mnist_format import to_mnist
from classifier.photo_ink import (
    BLURRED_DRAWING_DETAIL,
    CROP_SIDE,
    MIN_PAPER,
    STROKE_OFF,
    TINY_SIDE,
    InkMap,
    find_ink,
    flat_background,
    frame_noise,
    ink_is_lighter,
    no_finer_than_tiny,
    stats_step,
    without_frame_line,
)
from classifier.photo_layout import (
    ALONG_FRAME,
    BARCODE,
    DRAWN_AROUND,
    EDGE_MARK,
    LINE_ACROSS,
    MUCH_SMALLER,
    OTHER_LINE,
    PAPER_DOT,
    ROD,
    ROW_LINE_WIDTH,
    SHADOW,
    THIN_SIDE_LINE,
    TOO_SMALL,
    Layout,
    Part,
    beside_a_barcode,
    find_digits,
    pieces_left_out,
    row_left_out,
    row_tilt,
    shape_of,
    stroke_width,
)
from classifier.photo_page import off_page_on_flat_desk, page_on_desk
from classifier.segments import (
    APART_HEIGHT,
    APART_STROKES,
    MAX_DIGITS,
    SHORTEST,
    WIDE,
    Segment,
    cut_paths,
    spans,
    strokes_crossed,
)

# The pipeline works on images of a few hundred pixels, where OpenCV's thread pool costs
# more than it saves and competes with the bot's own worker threads (measured on 2 cores:
# a photo's preprocessing took 8.6 ms with one thread against 13.2 ms with two, under load).
cv2.setNumThreads(1)

__all__ = ["MAX_PIXELS", "Box", "ImageError", "Prepared", "prepare", "prepare_gray"]

ANALYSIS_SIDE = 320  # the analysis image's longer side (at most)
MIN_ANALYSIS_SIDE = TINY_SIDE  # smaller images are enlarged by a whole factor to at least this
# JPEGs are first decoded at reduced scale (1/2, 1/4, 1/8: libjpeg's scaled IDCT, which
# costs less than decoding in full and shrinking) while their short side stays >= this:
# a 4:3 photo then decodes to about the analysis image's size.
DECODE_SIDE = 240
READ_IN_ANALYSIS = 48  # digits at least this tall in the analysis image are read there
# A photo is read a second time, with the wide closing, when that finds ink the usual one
# takes for paper over at least this share of it (``photo_ink.hidden_ink``). Measured on the
# dev split rendered from the full test set: 2.1% of its images, over a quarter of its empty
# scenes and a tenth of `fill`; fat marker close-ups read 61 -> 106 of 120 (docs/photos.md).
# It costs about 0.1 ms on every photo (``hidden_ink``), a second reading on those.
SECOND_LOOK = 0.05
REGION_SIDE = 480  # smaller ones are read from the JPEG decoded again, its short side >= this,
SHARPER_BELOW = 40  # ... or larger still where they would be shorter than this (px)
THIN_STROKE = 2.5  # ... or their strokes thinner than this (px) in the analysis image
# Parts shorter than this (px in the analysis image) are not judged by their shape there: a
# small digit's loops are blurred shut. A photo's are judged in the sharper region; a tiny
# picture's (enlarged for analysis) are never judged.
LOOK_CLOSER = 12
DETAIL_HEIGHT = 64  # digits are read at a scale that makes them about this tall
MAX_ZOOM = 2.0  # ... but never enlarged more than this: enlarging adds no detail, and thickens lines
REGION_MARGIN = 0.6  # paper kept around the digits, as a share of their height
# A part the region's left or right side cuts lies beyond that margin (or at the picture's
# frame, where the region reaches it): not a digit of the row but the edge of a page or a
# shadow when it is a sliver narrower than this share of the other digits' (median) stroke,
SIDE_SLIVER = 0.5
# ... or a line taller than this share of their median height ...
SIDE_LINE_HEIGHT = 1.2
# ... drawn thinner than this share of their stroke. Both were read as a "1" at the ends of
# the number before (session 18): 3 of 6,600 dev and calibration images, "30901" for 3090.
SIDE_LINE_STROKE = 0.75
# ... or, where the side is the region's own margin (not the picture's frame, where a thin
# 1 of a number run up to the frame lies: a review lost 70 of 400 tight crops of long
# numbers), a line of any height (narrower than ``ROW_LINE_WIDTH`` of its height) drawn
# thinner than this share of their stroke: a page's edge half as tall as the digits, a grid
# line's piece as tall, read as a sure "1" at either end of a number (session 34). A digit
# the analysis image missed there, in a thinner pen, is mostly cut wider (a 3 cut to 0.3-0.5
# of its height wide stays); but a faint 1 it missed is not, and one at least
# ``photo_layout.THIN_SIDE_SURE`` of the digits' height makes the answer "not sure" (a
# review: 2 of 400 numbers ending in a faint 1 lost it).
SIDE_THIN_STROKE = 0.6
# Anywhere in the row, a straight line (narrower than this share of its height) drawn
# thinner than this share of the other digits' (median) stroke is the edge of a page, a
# note or a shadow, or a notebook's margin line: not a digit of the number they wrote
# (session 23). Measured only where their strokes are this many px wide, to mean anything.
EDGE_LINE_SHAPE = 0.5
EDGE_LINE_STROKE = 0.3
EDGE_LINE_BESIDE = 2.5
# ... or, at least half of it along a margin line the analysis image found, thinner than this:
# the region may leave slivers of it (a screenshot's "9" read "19", session 31).
MARGIN_LINE_STROKE = 0.6
SCENE_INK_SHARE = 0.1  # a frame this much "ink" ...
SCENE_TEXTURE = 0.1  # ... whose background still varies this much (share of the ink's contrast) is a scene
# A drawing with no digit found with a mark still this much off its background (a share of
# the room on that side of it) may hold pencil lines averaged away in the analysis image.
FADED_LINE = 0.04
# In the region read closer, lines up to this many times as wide as those the analysis image
# removed are removed (a heavy grid's: session 24).
HEAVY_LINES = 1.5
# A region that found lines and left no digit is searched again for lines up to this many
# (region) px thicker: a heavy grid's, blurred, may be wider there than the analysis image's
# lines showed, and only its thinner stretches were found, the rest one part with every digit
# (session 33). What is then found is kept only when its digits are at least this share of
# the analysis image's digits' height: on a blank squared page, the marks found there were
# the lines' pieces, and so are these. (Not of their row's width too: a hairline 1 on a grid
# line is a blurred part several times its stroke wide in the analysis image, and a 1 beside
# a line's piece kept there is a third of that row; both were lost.)
THICKER_LINES = 2.0
THICKER_FOUND = 0.5
# A crop in which nothing was found, whose frame's pixels vary by this much noise (grey
# levels; a small photo's, averaged down: at most 2-3 mostly) ...
GRAINY_CROP = 4.0
GRAINY_CROP_BLUR = 1.5  # ... is read again smoothed by this much (px, sigma)
# A photo in which nothing was found, whose paper's noise (``InkMap.noise``, in contrast
# units) is at least this (a dim photo's high ISO: 0.06-0.13; the dev photos measure at most
# 0.047, their empty pages 0.066) ...
NOISY_PHOTO = 0.05
NOISY_PHOTO_BLUR = 1.0  # ... is read again smoothed by this much (analysis px, sigma)
# A photo whose median grey is at most this is a dark surface (a chalkboard, a screen in dark
# mode, black paper), and is read again as light writing ...
DARK_SURFACE = 100
# ... whose digits are strokes no wider for their height than MNIST's 95th percentile
# (``STROKE_RANGE``), and at most this share of the photo's short side tall.
LIGHT_WRITING_HEIGHT = 0.5
LIGHT_WRITING_INK = 0.2  # ... and their ink, its soft patches aside, at most this share of it
# A card read alone (``photo_page.Desk.card``) with ink around it, over at least this share of
# the frame, makes the answer "not sure" (``Layout.card``): what was left out may have been
# writing beside it, or the "card" a thing in a scene. With no ink around it (a card or a
# page on a plain desk), nothing was left out.
CARD_INK_LEFT = 0.0005
OTHER_LINE_HEIGHT = 0.6  # parts on other lines this share of the digits' height are writing,
OTHER_LINE_GAP = 0.2  # ... when at least this share of it away from every digit
STROKE_TARGET = 0.11  # MNIST's median stroke width, as a share of the digit's height
STROKE_RANGE = (0.07, 0.18)  # stroke widths left alone (MNIST's 5th-95th percentile)


Box = tuple[int, int, int, int]  # x, y, w, h in the original image's pixels
SCENE_HINT = "this looks like a photo of a scene, not of a number written on paper"
BLANK_HINT = "I could not find any writing in this image: the page looks blank"
MARKS_HINT = "I found marks, but nothing shaped like a handwritten digit"
# A picture where grey shows no writing (``IN_COLOUR_AFTER``) on light paper may hold ink
# whose colour, not its brightness, differs from its paper's (light blue on brown kraft
# paper): it is read again in colour (``_read_in_colour``), unless its colours all lie
# within this many grey levels of grey (a grey picture saved as colour would only read the same).
IN_COLOUR_AFTER = (BLANK_HINT,)
COLOURLESS = 24
# The paper's colour: this percentile of each channel (the paper is the brightest thing in
# a photo of it; the median of a sheet held before a dark room is the room's).
PAPER_PERCENTILE = 90
# What it finds is ink its colour hid when it stands out this many times as far in colour
# as in grey (``_contrast``): light blue on kraft paper 0.04-0.10 -> 0.52-0.60; not a black
# speck on orange ruled paper (0.78 -> 0.77) nor a faint coffee ring (1.8-2.2 times: at
# 1.5 a review's rings were sure 0s; red on a pink page, 1.9 times, is left with them).
HIDDEN_IN_GREY = 3.0
# ``Prepared.look`` of the parts of a photo whose row slopes read the other way: as it lay,
# when it is answered from it turned level; turned level, when answered from it as it lay.
OTHER_WAY = 2


@dataclass
class Prepared:
    # (n, 28, 28) uint8, white on black: one row per part found, left to right (then, when
    # some part may hold digits that touch, its pieces: ``segments``)
    digits: np.ndarray
    boxes: list[Box]  # one per row, in the original image's coordinates
    gray: np.ndarray  # the grayscale working image the digits were found in (a screenshot: all of it)
    scale: float  # original pixels per working-image pixel
    # Why no digit was found, in words for a user (of a photo read twice: why the first look
    # found none, or the hint it had, which the reader gives if it answers from neither).
    hint: str | None = None
    notes: dict[str, object] = field(default_factory=dict)  # diagnostics (polarity, ...)
    ink: np.ndarray | None = None  # the detail region's ink mask (debug output)
    # One per row: shaped like a blob, so a digit only if the model is sure of it
    # (``photo_layout.Part.filled``; the reader drops it otherwise).
    filled: list[bool] = field(default_factory=list)
    # One per row when the photo was read twice (``SECOND_LOOK``): 0 for the parts of the
    # first look, 1 for those of the second; the reader answers from one look. Empty: one look.
    # A photo whose row slopes (``prepare_gray``) also has the parts of its other reading,
    # ``OTHER_WAY``.
    look: list[int] = field(default_factory=list)
    # The second look's ink mask, when it found parts (debug output; its region is the
    # note ``second_look_region``).
    second_ink: np.ndarray | None = None
    # The other reading's ink mask, of a photo whose row slopes (debug output; its region
    # is the note ``other_way_region``).
    other_way_ink: np.ndarray | None = None
    # One per row (empty when no digit was found): which candidate digit of which part the
    # row is when the part was offered cut (``classifier.segments``; the part's own row is
    # the whole part), None for a part not cut. A part's pieces follow all its look's parts.
    segments: list[Segment | None] = field(default_factory=list)

    def parts_of_look(self, look: int) -> list[int]:
        """The indices of the parts found by the first (0) or second (1) look, or by reading
        the photo the other way (``OTHER_WAY``), not pieces."""
        return [
            i
            for i in range(len(self.boxes))
            if (self.look[i] if self.look else 0) == look and not self.is_piece(i)
        ]

    def is_piece(self, index: int) -> bool:
        segment = self.segments[index] if self.segments else None
        return segment is not None and not segment.whole

    def candidates_of(self, index: int) -> list[int]:
        """The rows of the candidate digits part ``index`` may be cut into, itself first
        (empty: it is read whole)."""
        if not self.segments or self.segments[index] is None:
            return []
        return [index] + [
            i for i, s in enumerate(self.segments) if s is not None and s.part == index and not s.whole
        ]

    def is_filled(self, index: int) -> bool:
        return bool(self.filled) and self.filled[index]


def prepare(data: bytes) -> Prepared:
    """Image bytes -> the digits in it, ready for the model. Raises ``ImageError``."""
    decoded = decode(data, min_side=DECODE_SIDE)
    # A screenshot of a paint program, or a plot of a digit, is read on its canvas only. A
    # picture small enough to be a crop is no screenshot of a program (the hole of a tight
    # crop's fat 0 is a flat rectangle too), but it may be a plot; a tiny one is neither.
    side = max(decoded.gray.shape) * decoded.scale
    canvas = find_canvas(decoded.gray, inner_only=side < CROP_SIDE) if side >= TINY_SIDE else None
    gray = decoded.gray
    if canvas is not None:
        cx, cy, cw, ch = canvas
        gray = gray[cy : cy + ch, cx : cx + cw]

    # Only a JPEG decodes at any DCT scale; anything else is never sharper than FULL_SIDE.
    longest = max(decoded.gray.shape) * decoded.scale
    sharpest = 1.0 if decoded.format in JPEG_FORMATS else float(np.ceil(longest / FULL_SIDE - 1e-6))

    decoded_again: dict[int, Decoded] = {}  # a photo read twice asks twice (``SECOND_LOOK``)

    def sharper(min_side: int) -> tuple[np.ndarray, float]:
        # ``min_side`` is asked of ``gray``: the canvas, when one was cut out.
        whole = int(np.ceil(min_side * min(decoded.gray.shape) / min(gray.shape)))
        if min(decoded.gray.shape) >= whole or decoded.scale <= sharpest:
            image, scale = decoded.gray, decoded.scale  # decoding again would give the same image
        else:
            if whole not in decoded_again:
                decoded_again[whole] = decode(data, min_side=whole)
            image, scale = decoded_again[whole].gray, decoded_again[whole].scale
        if canvas is None:
            return image, scale
        f = decoded.scale / scale
        return image[round(cy * f) : round((cy + ch) * f), round(cx * f) : round((cx + cw) * f)], scale

    redecode = sharper if decoded.scale > 1 else None
    # A canvas's boxes are placed on the whole screenshot, which is not turned with it.
    prepared = prepare_gray(gray, decoded.scale, redecode, may_turn=canvas is None)
    # (A screenshot's program is drawn in colours: its buttons, its palette.)
    may_read_in_colour = canvas is None
    if canvas is not None and not len(prepared.digits):
        # Nothing on the canvas: whatever was taken for one, the whole picture is read.
        canvas, gray = None, decoded.gray
        prepared = prepare_gray(gray, decoded.scale, redecode)
    if canvas is not None:
        _place_on_screenshot(prepared, decoded, canvas)
    elif (
        may_read_in_colour
        and not len(prepared.digits)
        and prepared.hint in IN_COLOUR_AFTER
        and prepared.notes.get("polarity") == "dark-on-light"
    ):
        in_colour = _read_in_colour(data, decoded)
        if in_colour is not None and len(in_colour.digits):
            prepared = in_colour
            prepared.notes["read_in_colour"] = True
    prepared.notes["format"] = decoded.format
    if decoded.orientation != 1:
        prepared.notes["exif_orientation"] = decoded.orientation
    if decoded.flattened:
        prepared.notes["transparency_on"] = decoded.flattened
    return prepared


def _read_in_colour(data: bytes, grey: Decoded) -> Prepared | None:
    """A colour picture read where its ink is darker than its paper in any one of red,
    green or blue (``darker_in_any_colour``); None for a grey one (``COLOURLESS``), and
    when what it finds was no fainter in ``grey`` (the picture decoded in grey) than in
    colour (``HIDDEN_IN_GREY``): a speck grey took for paper is no ink hidden by its colour."""
    colour = decode_colour(data, DECODE_SIDE)
    if colour is None:
        return None
    rgb, scale = colour
    step = stats_step(rgb[:, :, 0], 20_000)
    sample = rgb[::step, ::step].reshape(-1, 3).astype(np.int16)
    if float(np.percentile(sample.max(axis=1) - sample.min(axis=1), 99.5)) < COLOURLESS:
        return None
    paper = np.percentile(sample, PAPER_PERCENTILE, axis=0).astype(np.float32)

    def sharper(min_side: int) -> tuple[np.ndarray, float]:
        again = decode_colour(data, min_side)
        if again is None:  # (read once already: never)
            return darker_in_any_colour(rgb, paper), scale
        return darker_in_any_colour(again[0], paper), again[1]

    darker = darker_in_any_colour(rgb, paper)
    read = prepare_gray(darker, scale, sharper if scale > 1 else None)
    if len(read.digits) and _contrast(darker, scale, read.boxes) < HIDDEN_IN_GREY * _contrast(
        grey.gray, grey.scale, read.boxes
    ):
        return None
    return read


def _contrast(image: np.ndarray, scale: float, boxes: list[Box]) -> float:
    """How much darker than their paper the darkest pixels in ``boxes`` (original pixels)
    are, in ``image`` (``scale`` original pixels per pixel): 1 - the 2nd percentile over the
    median, both over all the boxes."""
    pixels = [
        image[
            round(y / scale) : round((y + h) / scale) + 1, round(x / scale) : round((x + w) / scale) + 1
        ].ravel()
        for x, y, w, h in boxes
    ]
    inside = np.concatenate(pixels)
    return 1.0 - float(np.percentile(inside, 2)) / max(float(np.median(inside)), 1.0)


def darker_in_any_colour(rgb: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Grey (uint8) in which a pixel is as dark as it is in the colour where it is darkest
    for the ``paper``'s colour (RGB): each channel over the paper's, the least of them, at
    the paper's mean brightness. Light blue ink on brown paper is as bright as the paper,
    but far darker in red."""
    # (A table per channel: several times faster than the arithmetic over a whole photo.)
    levels = np.arange(256, dtype=np.float32)[:, None]
    tables = np.clip(levels / np.maximum(paper, 1.0) * float(paper.mean()), 0, 255).astype(np.uint8)
    red, green, blue = cv2.split(cv2.LUT(rgb, tables.reshape(256, 1, 3)))
    return np.asarray(cv2.min(cv2.min(red, green), blue))


def _place_on_screenshot(prepared: Prepared, decoded: Decoded, canvas: Box) -> None:
    """A canvas's reading in the whole screenshot's terms: its boxes and region in the
    screenshot's pixels, and the screenshot itself, at the working image's scale, to show
    what the model saw on."""
    cx, cy, cw, ch = canvas
    origin = (round(cx * decoded.scale), round(cy * decoded.scale))
    prepared.boxes = [_shifted(box, origin) for box in prepared.boxes]
    for key in ("region", "second_look_region"):
        region = prepared.notes.get(key)
        if isinstance(region, tuple):
            prepared.notes[key] = _shifted(region, origin)
    prepared.notes["canvas"] = _shifted(_scale_box((0, 0, cw, ch), decoded.scale), origin)
    f = decoded.scale / prepared.scale
    size = (max(1, round(decoded.gray.shape[1] * f)), max(1, round(decoded.gray.shape[0] * f)))
    interpolation = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    prepared.gray = np.asarray(cv2.resize(decoded.gray, size, interpolation=interpolation))


def prepare_gray(
    gray: np.ndarray,
    scale: float = 1.0,
    sharper: Callable[[int], tuple[np.ndarray, float]] | None = None,
    may_turn: bool = True,
) -> Prepared:
    """A grey image (``scale`` original pixels per pixel) -> the digits in it.

    ``sharper(min_side)`` gives the same image at a higher resolution, its short side at
    least ``min_side`` (a JPEG decoded again, less reduced), for digits too small to read
    in ``gray``.

    A photo whose row of digits slopes by more than ``MIN_TILT`` degrees (``row_tilt``) is
    read again turned so that the row lies level (unless not ``may_turn``). When the row came
    apart as it lay, the answer is from the turned photo, its boxes those around the turned
    ones on the photo as it was (``notes["turned"]``: by how much), and the parts found as it
    lay are passed on too; else the other way round. Which reading to trust when the model is
    not sure of the first, it tells (``OTHER_WAY``, ``reader.assemble``).

    A photo where a closing half the frame wide finds much more ink than the usual one (a
    fat marker's digit filling the frame, whose junctions the usual closing takes for paper;
    or a shadow, which the wide one takes for ink) is read a second time with the wide one.
    Both looks' parts are passed on (``Prepared.look``): which is right, only the model can
    tell (``reader.assemble``).

    A photo is read as dark ink (see ``ink_is_lighter``). One that is mostly dark
    (``DARK_SURFACE``) is read again as light writing (chalk on a board, a screen in dark
    mode), and that reading is the answer when it finds digits around everything the first
    found but blobs (``notes["read_again"]``).
    """
    if max(gray.shape) * scale >= CROP_SIDE:
        prepared = _read_turning(gray, scale, sharper, may_turn)
        if _dark_surface(gray, prepared):
            # Light writing on a dark surface, which a photo is not taken for (see
            # ``ink_is_lighter``): read as dark ink, only its digits' holes and the gaps
            # between its strokes are found. Read again so, the answer when it finds digits
            # around all of those.
            light = _read_turning(gray, scale, sharper, may_turn, light=True)
            if len(light.digits) and all(
                prepared.filled[k] or any(holds(around, box, slack=0.1) for around in light.boxes)
                for k, box in enumerate(prepared.boxes)
            ):
                light.notes["read_again"] = "as light writing on a dark surface"
                return light
        return prepared
    gray = without_frame_line(gray)  # a crop's (where the line is sharpest)
    prepared = _read_turning(gray, scale, sharper, may_turn)
    if not len(prepared.digits):
        smoothed = _smoothed_if_grainy(gray)
        # (Not re-read from a sharper decode of the picture, which is as grainy.)
        again = _read_turning(smoothed, scale, None, may_turn) if smoothed is not None else None
        if again is not None and len(again.digits):
            again.notes["smoothed"] = GRAINY_CROP_BLUR
            return again
    return prepared


def _smoothed_if_grainy(crop: np.ndarray) -> np.ndarray | None:
    """A crop in which no digit was found, smoothed when it is grainy, else None.

    A crop from a dim photo may be so grainy (noise of 8-20 grey levels a pixel) that its
    frame is not flat and its strokes stand too few noise widths off the paper. Smoothed,
    its frame is flat, and it can be read. Only when nothing was found (smoothing a clean
    crop would only blur it), and only when its frame is then flat by itself: smoothed, a
    small photo of a scene has no finer detail than a tiny picture and may pass for one by
    its shape (a 120-px scene read as a sure "3")."""
    if frame_noise(crop) < GRAINY_CROP:
        return None
    smoothed = cv2.GaussianBlur(crop, (0, 0), GRAINY_CROP_BLUR)
    flat = flat_background(_analysis_image(smoothed)[0], may_be_crop=True, by_shape=False)[0]
    return smoothed if flat is not None else None


def _read_turning(
    gray: np.ndarray,
    scale: float,
    sharper: Callable[[int], tuple[np.ndarray, float]] | None,
    may_turn: bool,
    light: bool = False,
) -> Prepared:
    """``prepare_gray``'s reading of ``gray`` as it lies and, when its row slopes, turned
    (``light``: a photo read as light writing, see ``_find_number``)."""
    first = _read_look(gray, scale, sharper, wide=False, light=light)
    tilt = first.notes.get("row_tilt")
    if may_turn and isinstance(tilt, float):
        turn = _Turn(tilt, gray.shape)
        turned, turned_sharper = turn.of(gray), turn.sharper(sharper)
        straightened = _read_look(turned, scale, turned_sharper, wide=False, light=light)
        # Turned level, the row is one row of single digits: as many parts at least, and no
        # longer sloping (a whole frame of ruled lines turned aslant was read as one digit).
        found = len(straightened.parts_of_look(0)) >= len(first.parts_of_look(0))
        if found and len(straightened.digits) and "row_tilt" not in straightened.notes:
            if not first.notes.get("row_came_apart"):
                # Read whole as it lay: that reading stands, unless the model is sure only
                # of the turned one (a tilted 7 leans into a 2; handwriting that climbs, its
                # digits upright, would lean turned).
                as_it_lay = _with_second_look(gray, scale, sharper, first, light)
                return _other_way(as_it_lay, turn.placed_back(straightened, first, scale))
            read = _with_second_look(turned, scale, turned_sharper, straightened, light)
            return _other_way(turn.placed_back(read, first, scale), first)
    return _with_second_look(gray, scale, sharper, first, light)


def _other_way(prepared: Prepared, other: Prepared) -> Prepared:
    """``prepared``, a photo whose row slopes read one way, with the parts of ``other`` (its
    first look) read the other way (``OTHER_WAY``)."""
    if not len(other.digits):
        return prepared
    prepared.notes["other_way_other_line_parts"] = other.notes.get("other_line_parts", 0)
    prepared.notes["other_way_left_out"] = other.notes.get("left_out", False)
    if "region" in other.notes:
        prepared.notes["other_way_region"] = other.notes["region"]
    return replace(_with_look(prepared, other, OTHER_WAY), other_way_ink=other.ink)


def _with_second_look(
    gray: np.ndarray,
    scale: float,
    sharper: Callable[[int], tuple[np.ndarray, float]] | None,
    first: Prepared,
    light: bool = False,
) -> Prepared:
    """``first``, the usual look, and the wide look's parts when it is wanted and finds any."""
    hidden = first.notes.get("hidden_ink")  # photos only
    if not isinstance(hidden, float) or hidden < SECOND_LOOK:
        return first
    second = _read_look(gray, scale, sharper, wide=True, light=light)
    first.notes["second_look_parts"] = len(second.parts_of_look(0))
    if not len(second.digits):
        return first
    if "region" in second.notes:
        first.notes["second_look_region"] = second.notes["region"]
    return replace(_with_look(first, second, 1), second_ink=second.ink)


def _with_look(prepared: Prepared, other: Prepared, look: int) -> Prepared:
    """``prepared`` and, after its rows, those of ``other`` (one look at the same photo) as
    look number ``look`` (``Prepared.look``)."""
    n, m = len(prepared.digits), len(other.digits)
    # Rows are numbered on after the first ones: so are the parts the pieces belong to.
    shifted = [None if s is None else replace(s, part=s.part + n) for s in other.segments]
    return replace(
        prepared,
        digits=np.concatenate([prepared.digits, other.digits]),
        boxes=prepared.boxes + other.boxes,
        filled=prepared.filled + other.filled,
        look=(prepared.look or [0] * n) + [look] * m,
        segments=prepared.segments + shifted,
    )


def _read_look(
    gray: np.ndarray,
    scale: float,
    sharper: Callable[[int], tuple[np.ndarray, float]] | None,
    wide: bool,
    light: bool = False,
) -> Prepared:
    """``prepare_gray``'s work, with the paper estimated by the usual or the wide closing
    (``light``: see ``_find_number``)."""
    analysis, analysis_factor = _analysis_image(gray)
    factor = analysis_factor  # analysis pixels per pixel of the image the digits are read from
    shapeless = LOOK_CLOSER * max(1.0, analysis_factor)  # analysis px
    # A picture enlarged for analysis (a crop, a 28x28 digit) has no more detail to give:
    # none of its parts is judged by its shape. Coarse pixels fill a digit's loops in and
    # make a thick 1 a solid bar, and such a picture is a digit sent alone, not a scene.
    enlarged = analysis_factor > 1.0
    judged_from = float("inf") if enlarged else shapeless
    may_be_crop = max(gray.shape) * scale < CROP_SIDE
    ink, layout, tight = _find_number(analysis, may_be_crop, judged_from, wide, enlarged, light)
    if not layout.digits and ink.background is None and ink.noise >= NOISY_PHOTO and not wide:
        # Noise so far off the paper that the thresholds set from it leave no stroke (the
        # answer was "the page looks blank"). Smoothed, the strokes stand out of it.
        smoothed = cv2.GaussianBlur(analysis, (0, 0), NOISY_PHOTO_BLUR)
        smoothed_ink, smoothed_layout, smoothed_tight = _find_number(
            smoothed, may_be_crop, judged_from, enlarged=enlarged, light=light
        )
        if smoothed_layout.digits:
            analysis, ink, layout, tight = smoothed, smoothed_ink, smoothed_layout, smoothed_tight
    kept_thin_lines = False
    shrunk = analysis_factor / scale <= 0.5
    faded = (
        _faded_side(analysis, ink.background)
        if not layout.digits and ink.background is not None and shrunk
        else None
    )
    if (
        faded is None
        and ink.level == 0.0
        and not ink.lines
        and ink.background is None
        and shrunk
        and not wide
    ):
        # A photo of a blank-looking page may hold a fine pencil's lines, a pixel wide and
        # faint: averaged down, they fade into the paper. (Dark ink, unless read as light
        # writing. Not on ruled or squared paper, whose lines, widened too, are not all
        # removed then.)
        faded = light
    if faded is not None:
        # A drawing shrunk for analysis: averaged down, a one-pixel pencil line fades below
        # any ink level; shrunk keeping its ink's pixels instead, it stays a line. (A JPEG
        # decoded at reduced scale has averaged it already: shrink it from a sharper decode.)
        full = gray if sharper is None else sharper(_sharpest_side(gray.shape, scale))[0]
        analysis = _shrink_keeping_ink(full, analysis.shape, light=faded)
        ink, layout, tight = _find_number(analysis, may_be_crop, judged_from, light=light)
        kept_thin_lines = True
    notes: dict[str, object] = {
        "polarity": "light-on-dark" if ink.light_ink else "dark-on-light",
        "ink_level": round(ink.level, 3),
    }
    if not wide and ink.background is None and not enlarged:
        notes["hidden_ink"] = round(ink.hidden, 4)
    if kept_thin_lines:
        notes["analysis"] = "shrunk keeping lines a pixel wide"
    tilt, came_apart = row_tilt(layout)
    if tilt:
        notes["row_tilt"] = round(tilt, 2)
        notes["row_came_apart"] = came_apart
    empty = Prepared(np.zeros((0, 28, 28), np.uint8), [], analysis, scale / factor, notes=notes)
    if not layout.digits:
        empty.hint = _hint(ink, layout)
        return empty
    # A digit cut out tightly, a tiny picture, or a small drawing smoothly enlarged from a
    # tiny one (an 8x8 digit 16 times) is no scene: its strokes fill the frame and their
    # blurred edges look like texture.
    if (
        not tight
        and not enlarged
        and looks_like_scene(ink, layout.smooth_desk)
        and not _blurred_drawing(ink, may_be_crop)
    ):
        empty.hint = SCENE_HINT
        return empty
    per_pixel = scale / analysis_factor  # original pixels per analysis pixel
    height = float(median(g.h for g in layout.digits))
    # Only the main row is read; writing on another line, about as tall and clear of the
    # digits (not a piece of one that broke off), is worth a word in the answer.
    other_line = [
        g
        for g, why in layout.rejected
        if why == OTHER_LINE
        and g.h >= OTHER_LINE_HEIGHT * height
        and g.area >= 2 * g.h  # strokes, not a one-pixel sliver along a page's edge
        and all(_apart(g, d, OTHER_LINE_GAP * height) for d in layout.digits)
    ]
    if other_line:
        notes["other_line_parts"] = len(other_line)

    def read_in_analysis() -> Prepared:
        notes["lines_removed"] = ink.lines
        _drop_edge_lines(layout)
        to_box = partial(_analysis_box, per_pixel=per_pixel)
        digits, boxes, segments, filled = _digit_rows(ink, layout, to_box, [g.filled for g in layout.digits])
        notes["left_out"] = (
            pieces_left_out(layout) or row_left_out(layout) or layout.card or beside_a_barcode(layout)
        )
        return Prepared(digits, boxes, analysis, per_pixel, None, notes, ink.mask, filled, segments=segments)

    if height >= READ_IN_ANALYSIS:
        # Digits this large are read where they were found: the region would add no detail.
        return read_in_analysis()
    thinnest = min(
        stroke_width(layout.mask_of(g) & (ink.mask[g.y : g.y1, g.x : g.x1] > 0)) for g in layout.digits
    )
    source, source_scale = gray, scale
    # The region is cut from the JPEG decoded again, at a resolution that shows the digits
    # at least SHARPER_BELOW px tall; strokes thin enough to break up (hairlines: the
    # analysis image shows at most their width) count as smaller digits.
    shown = min(height, SHARPER_BELOW * thinnest / THIN_STROKE) / factor  # px in ``gray``
    if sharper is not None:
        short = max(REGION_SIDE, min(gray.shape) * SHARPER_BELOW / max(shown, 1.0))
        source, source_scale = sharper(int(short))
        factor *= source_scale / scale  # analysis pixels per pixel of the sharper image
        if source_scale != scale:
            notes["decoded_again"] = f"1/{round(source_scale)}" if source_scale > 1 else "full resolution"
    # px of ``source``; a drawing's shapes are never judged (see ``_find_number``)
    unjudged = float("inf") if enlarged or ink.background is not None else 0.0
    # (Dotted paper's dots too: the region holds too few of them to be told; and a line
    # across the page, which the region cuts short: what was written across it or against
    # it is read without it, and a pen lying beside the digits, which the region cuts short
    # too. Not pieces grouped as one: a digit's may be among them.)
    set_aside = [
        label for g, why in layout.rejected if why in (DRAWN_AROUND, PAPER_DOT) for label in g.labels
    ]
    set_aside += [
        g.labels[0] for g, why in layout.rejected if why in (LINE_ACROSS, ROD) and len(g.labels) == 1
    ]
    drawn_around = np.isin(layout.labels, set_aside) if set_aside else None
    if layout.off_page is not None:  # nor the desk around the page
        drawn_around = layout.off_page if drawn_around is None else drawn_around | layout.off_page
    # Lines the analysis image removed may be thicker in the region than ruled lines usually
    # are: a heavy grid's (px in the analysis image).
    lines_up_to = HEAVY_LINES * ink.line_width
    read_region = partial(
        _read_region,
        source,
        layout.digits,
        thinnest,
        factor,
        ink.light_ink,
        ink.background,
        unjudged,
        drawn_around,
        wide,
        lines_up_to,
        ink.upright_lines,
        ink.ruled,
    )
    region = read_region()
    if not region.layout.digits and region.ink.lines:
        again = read_region(thicker=THICKER_LINES)
        found = [g.h for g in again.layout.digits]
        # (``again.zoom / factor``: region px per analysis px)
        if found and median(found) >= THICKER_FOUND * height * again.zoom / factor:
            region = again
            notes["thicker_lines"] = True
    notes["lines_removed"] = region.ink.lines
    notes["region"] = _scale_box(region.box, source_scale)
    if not region.layout.digits and region.ink.level == 0.0:
        # Too faint to find again in the region: what the analysis image saw is all there
        # is; but a part too small to judge there (``LOOK_CLOSER``) was left for this look.
        layout.digits = [g for g in layout.digits if g.h >= shapeless]
        if layout.digits:
            notes["read_in"] = "analysis image"
            return read_in_analysis()
    if not region.layout.digits:
        empty.hint = _hint(region.ink, region.layout)
        return empty
    # A blob stays one in the region, where a closing sized to the region may hollow it out
    # (unless the sharper look shows a loop in it: strokes after all).
    blobs = [g for g in layout.digits if g.filled]
    filled = [
        g.filled
        or (_inside_any(region.to_source(g), factor, blobs) and shape_of(region.layout.mask_of(g)).holes == 0)
        for g in region.layout.digits
    ]
    digits, boxes, segments, filled = _digit_rows(
        region.ink, region.layout, lambda g: _scale_box(region.to_source(g), source_scale), filled
    )
    notes["left_out"] = (
        pieces_left_out(region.layout)
        or row_left_out(layout)
        or _left_out_beyond(layout, _scale_box(region.box, factor))  # analysis px
        or layout.card
        or beside_a_barcode(layout)
        or beside_a_barcode(region.layout)
    )
    return Prepared(
        digits,
        boxes,
        analysis,
        per_pixel,
        None,
        notes,
        region.ink.mask,
        filled,
        segments=segments,
    )


def _digit_rows(
    ink: InkMap, layout: Layout, to_box: Callable[[Part], Box], filled: list[bool]
) -> tuple[np.ndarray, list[Box], list[Segment | None], list[bool]]:
    """``Prepared``'s rows for ``layout``'s digits: each one's 28x28 digit, its box in the
    original image (``to_box``), which candidate digit of which part it is, and whether it
    is a blob (``filled``, one per digit; a piece never is: a blob's part is read whole)."""
    crops, rows, segments = _crops_and_pieces(ink, layout)
    digits = np.stack([to_mnist(normalise_stroke(c)) for c in crops])
    return digits, [to_box(g) for g in rows], segments, filled + [False] * (len(rows) - len(filled))


def _crops_and_pieces(
    ink: InkMap, layout: Layout
) -> tuple[list[np.ndarray], list[Part], list[Segment | None]]:
    """The crop of each digit in ``layout``, then those of the pieces a part as wide as
    several digits may be cut into; with every row's box (``Part``) and which candidate
    digit of which part it is (``Prepared.segments``)."""
    crops = [_crop(ink, layout, g) for g in layout.digits]
    rows = list(layout.digits)
    segments: list[Segment | None] = [None] * len(rows)
    if len(rows) > MAX_DIGITS:
        return crops, rows, segments  # a page of writing: its pieces would swamp the model
    for index, g in enumerate(layout.digits):
        if g.filled or g.w < WIDE * g.h:
            continue  # a blob is read whole (``reader._split``); a narrow part is one digit
        mask = layout.mask_of(g)
        edges, runs = spans(mask, stroke_width(mask))
        if not edges:
            continue  # no column to cut at
        pieces = len(edges) - 1
        h, w = mask.shape
        cuts = [np.zeros(h, np.intp), *cut_paths(mask, edges[1:-1]), np.full(h, w, np.intp)]
        crossed = [0, *(strokes_crossed(mask, path) for path in cuts[1:-1]), 0]  # the ends cross none
        candidates = {
            (start, stop): piece
            for start, stop in runs[1:]
            if (piece := _piece(g, mask, cuts[start], cuts[stop])) is not None and piece.h >= SHORTEST * g.h
        }
        usable = _on_a_full_split(list(candidates), pieces)
        if not usable:
            continue
        segments[index] = Segment(index, 0, pieces, pieces)
        for start, stop in usable:
            piece = candidates[start, stop]
            apart = piece.h >= APART_HEIGHT * g.h and max(crossed[start], crossed[stop]) <= APART_STROKES
            crops.append(_crop(ink, layout, piece))
            rows.append(piece)
            segments.append(Segment(index, start, stop, pieces, apart))
    return crops, rows, segments


def _on_a_full_split(runs: list[tuple[int, int]], pieces: int) -> list[tuple[int, int]]:
    """Of the runs of pieces (start, stop), those that are part of some run of them from the
    part's left end (0) to its right end (``pieces``): no other can be read."""
    reached, leads_on = {0}, {pieces}
    for start, stop in sorted(runs):
        if start in reached:
            reached.add(stop)
    for start, stop in sorted(runs, key=lambda run: -run[1]):
        if stop in leads_on:
            leads_on.add(start)
    return [(a, b) for a, b in runs if a in reached and b in leads_on and pieces in reached]


def _piece(g: Part, mask: np.ndarray, left: np.ndarray, right: np.ndarray) -> Part | None:
    """The piece of ``g`` between two cuts (``segments.cut_paths``; per row of its box,
    ``left`` is the piece's first column and ``right`` the next piece's first), as a part of
    ``g``'s own labels whose pixels are held to that stretch (``Part.within``), boxed tightly
    around its ink, in the layout's pixels; None when it holds no ink."""
    columns = np.arange(mask.shape[1])
    between = (columns >= left[:, None]) & (columns < right[:, None])
    own = mask & between
    x, y, w, h = cv2.boundingRect(own.view(np.uint8))
    if w == 0:
        return None
    area = int(np.count_nonzero(own))  # all of it lies in the tight box
    return Part(g.x + x, g.y + y, w, h, area, g.labels, within=between[y : y + h, x : x + w])


def _analysis_box(g: Part, per_pixel: float) -> Box:
    """A part's box in the analysis image, in the original image's pixels."""
    return _scale_box((g.x, g.y, g.w, g.h), per_pixel)


def _apart(a: Part, b: Part, gap: float) -> bool:
    """Whether the boxes of ``a`` and ``b`` are at least ``gap`` apart, across or down."""
    return max(a.x, b.x) - min(a.x1, b.x1) >= gap or max(a.y, b.y) - min(a.y1, b.y1) >= gap


def _inside_any(box: Box, factor: float, parts: list[Part]) -> bool:
    """Whether the centre of ``box`` (in source pixels) lies inside any of ``parts`` (in
    analysis pixels; ``factor``: analysis pixels per source pixel)."""
    x, y, w, h = box
    cx, cy = (x + w / 2) * factor, (y + h / 2) * factor
    return any(g.x <= cx <= g.x1 and g.y <= cy <= g.y1 for g in parts)


def _find_number(
    analysis: np.ndarray,
    may_be_crop: bool,
    shapeless_below: float,
    wide: bool = False,
    enlarged: bool = False,
    light: bool = False,
) -> tuple[InkMap, Layout, bool]:
    """Ink and digits in the analysis image, and whether it is a tight crop (see
    ``flat_background``, also for ``enlarged``; ``shapeless_below``: see ``find_digits``;
    ``wide``: ``find_ink``). ``light``: a photo (no flat background) is read as light
    writing on a dark surface, and its digits must then be strokes (``_light_writing``)."""
    # A drawing or a crop has one flat background, which is its paper everywhere, and no
    # table or marks along its frame (a digit may touch it).
    background, tight = flat_background(analysis, may_be_crop, enlarged)
    light_ink = ink_is_lighter(analysis, background, tight) or (light and background is None)
    # A photo of a card on a desk so evenly lit that its frame is flat, not a light drawing
    # on that grey: dark ink, on the card only (``photo_page``). (A crop is no photo.)
    off_card = None
    if light_ink and background is not None and not may_be_crop:
        off_card = off_page_on_flat_desk(analysis, background)
        if off_card is not None:
            background, light_ink = None, light
    ink = find_ink(analysis, light_ink=light_ink, background=background, wide=wide, measure_hidden=not wide)
    # A photo's page on a grainy desk, or a card or a page written on on a smooth one: the
    # desk holds no ink (``photo_page``).
    desk = page_on_desk(analysis) if background is None and not light_ink and off_card is None else None
    if desk is not None and desk.plain and not looks_like_scene(ink):
        desk = None  # (``Desk.plain``: the page's part beside a hard shadow may be the "desk")
    off_page = desk.off if desk is not None and desk.read_alone else off_card
    # A card read alone makes the answer "not sure" when ink was left out around it.
    card_left_ink = (
        desk is not None
        and desk.card
        and not desk.grainy
        and int(np.count_nonzero(ink.mask[desk.off])) >= CARD_INK_LEFT * ink.mask.size
    )
    if off_page is not None:
        ink.mask[off_page] = 0
    # A drawing's or crop's shapes are not judged: it was drawn to be read, and a small
    # digit drawn with a fat brush fills its loops in (in a photo, a blob is a shadow or a thing).
    layout = find_digits(
        ink.mask,
        ink,
        frame=background is None,
        shapeless_below=shapeless_below if background is None else float("inf"),
        off_page=off_page,
    )
    layout.card = card_left_ink
    if desk is not None and off_page is None and desk.dark:
        layout.smooth_desk = desk.off
    if light and background is None:
        _light_writing(ink, layout)
    return ink, layout, tight


def _light_writing(ink: InkMap, layout: Layout) -> None:
    """A dark surface's layout read as light writing: no digits unless all are strokes
    (``STROKE_RANGE``) no taller than ``LIGHT_WRITING_HEIGHT``, and the ink, its soft light
    patches aside, covers at most ``LIGHT_WRITING_INK`` of the photo; those patches (erased
    chalk's haze, glare: parts rejected as shadows or along the frame) are no scene's
    texture.

    A scene's bright things (a lamp, a window, a white box) are patches, and a phone's
    light outline on a dark desk is as tall as the photo; chalk and a screen's digits are
    strokes. A white screen photographed in a dark room is light all over, not writing (the
    edge of its light was read as a sure "1"). The haze is wide and light like the strokes,
    and would make a board look like a scene (``looks_like_scene``)."""
    haze = [label for g, why in layout.rejected if why in (SHADOW, ALONG_FRAME) for label in g.labels]
    if haze:
        layout.smooth_desk = cv2.dilate(
            np.isin(layout.labels, haze).view(np.uint8), np.ones((5, 5), np.uint8)
        ).view(bool)
    inked = ink.mask > 0 if layout.smooth_desk is None else (ink.mask > 0) & ~layout.smooth_desk
    tallest = LIGHT_WRITING_HEIGHT * min(layout.labels.shape)
    if np.count_nonzero(inked) > LIGHT_WRITING_INK * inked.size or not all(
        g.h <= tallest and stroke_width(layout.mask_of(g)) <= STROKE_RANGE[1] * g.h for g in layout.digits
    ):
        layout.digits = []


def _dark_surface(gray: np.ndarray, read: Prepared) -> bool:
    """Whether a photo read as dark ink (``read``) is mostly darker than ``DARK_SURFACE``.
    Not a picture whose flat background told its ink's side (it has no ``hidden_ink``)."""
    if read.notes.get("polarity") != "dark-on-light" or "hidden_ink" not in read.notes:
        return False
    step = stats_step(gray, 4_000)  # a sparse sample: 10 us, where 20,000 pixels take 120
    return float(np.median(gray[::step, ::step])) <= DARK_SURFACE


def _analysis_image(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The image shrunk to ``ANALYSIS_SIDE``; a tiny image (a 28x28 digit) only enlarged a
    little, so its edges stay sharp. Returns the image and the resize factor."""
    longest = max(gray.shape)
    if longest > ANALYSIS_SIDE:
        return _resize_long(gray, ANALYSIS_SIDE)
    if longest < MIN_ANALYSIS_SIDE:
        return _resize_long(gray, longest * int(np.ceil(MIN_ANALYSIS_SIDE / longest)))
    return gray, 1.0


def _sharpest_side(shape: tuple[int, ...], scale: float) -> int:
    """The short side to ask a JPEG's decoder for (``shape`` decoded at ``scale`` original
    pixels per pixel): full size, or reduced by the least power of two that fits ``FULL_SIDE``."""
    halvings = max(0.0, np.ceil(np.log2(max(shape) * scale / FULL_SIDE)))
    return int(min(shape) * scale / 2**halvings)


def _faded_side(analysis: np.ndarray, background: int) -> bool | None:
    """Which side of its flat ``background`` a drawing's faintest lines may lie on (True:
    lighter), when it holds a mark ``FADED_LINE`` off it (of the room on that side, when
    there is room for a stroke: ``STROKE_OFF``); None when it holds none. Averaged down, a
    pencil line may stand too little off the background to tell the ink's side (a one-pixel
    white line on a black 1920x1080 canvas: a sixth of its brightness)."""
    below = background - float(analysis.min()) if background >= STROKE_OFF else 0.0
    above = float(analysis.max()) - background if 255 - background >= STROKE_OFF else 0.0
    darker, lighter = below / max(background, MIN_PAPER), above / max(255 - background, MIN_PAPER)
    if max(darker, lighter) < FADED_LINE:
        return None
    return above > below  # (the side the mark stands further off on, in grey levels)


def _shrink_keeping_ink(gray: np.ndarray, shape: tuple[int, ...], light: bool) -> np.ndarray:
    """``gray`` shrunk to ``shape`` with its strokes (``light`` or dark) first widened by the
    shrink factor, so no stroke is thinner than a pixel."""
    h, w = shape
    side = int(np.ceil(max(gray.shape[0] / h, gray.shape[1] / w)))
    widen = cv2.dilate if light else cv2.erode
    wide = widen(gray, np.ones((side, side), np.uint8))
    return np.asarray(cv2.resize(wide, (w, h), interpolation=cv2.INTER_AREA))


def looks_like_scene(ink: InkMap, desk: np.ndarray | None = None) -> bool:
    """A photo with no page in it: "ink" covers much of the frame, and what is left is not
    plain paper either (it still varies by a tenth of the ink's contrast or more).

    Writing on paper, even a digit filling the frame, leaves a background that flattens to
    nothing but noise; furniture, faces and landscapes do not. A page found on a ``desk``
    (bool mask, ``photo_page``) is judged on its own: a dark desk's blotches are no scene
    (nor, read as light writing, a dark surface's soft light patches: ``_light_writing``).
    """
    step = stats_step(ink.mask, 20_000)
    mask = ink.mask[::step, ::step]
    on_page = np.ones(mask.shape, bool) if desk is None else ~desk[::step, ::step]
    inked = np.count_nonzero(mask[on_page]) / max(1, int(np.count_nonzero(on_page)))
    if inked < SCENE_INK_SHARE or ink.level <= 0:
        return False
    near = cv2.dilate(cv2.bitwise_or(mask, ink.line_mask[::step, ::step]), np.ones((3, 3), np.uint8))
    background = ink.contrast[::step, ::step][(near == 0) & on_page]
    return bool(background.size and float(np.percentile(background, 90)) >= SCENE_TEXTURE * ink.level)


def _blurred_drawing(ink: InkMap, may_be_crop: bool) -> bool:
    """A picture under ``CROP_SIDE`` with a flat background and no more detail than a tiny
    one (``BLURRED_DRAWING_DETAIL``): a digit enlarged smoothly. (A scene blurred as much has
    no flat background, or, in a plain border, still more detail.)"""
    return may_be_crop and ink.background is not None and no_finer_than_tiny(ink.dark, BLURRED_DRAWING_DETAIL)


def _resize_long(gray: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The image with its longer side ``side``, and the resize factor."""
    h, w = gray.shape
    f = side / max(h, w)
    if abs(f - 1.0) < 1e-3:
        return gray, 1.0
    size = (max(1, round(w * f)), max(1, round(h * f)))
    interpolation = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(gray, size, interpolation=interpolation)), f


EDGE_SMOOTHING = 1 / 8  # share of the short side: a mark the frame cuts under half this wide is not repeated


def _edges_smoothed(image: np.ndarray) -> np.ndarray:
    """``image`` with its outermost rows and columns median-filtered along themselves: what
    repeating them fills a turned photo's corners with. A pen's tip or a mark the frame cuts
    would be drawn out into a line across the corner, and read as a 1; a table along the
    frame, or a shadow, is wider and stays."""
    out = image.copy()
    size = max(3, min(255, round(min(image.shape[:2]) * EDGE_SMOOTHING) | 1))
    out[:1] = cv2.medianBlur(np.ascontiguousarray(image[:1]), size)
    out[-1:] = cv2.medianBlur(np.ascontiguousarray(image[-1:]), size)
    out[:, :1] = cv2.medianBlur(np.ascontiguousarray(image[:, :1]), size)
    out[:, -1:] = cv2.medianBlur(np.ascontiguousarray(image[:, -1:]), size)
    return out


class _Turn:
    """A photo turned by ``angle`` degrees (counter-clockwise as shown) about its centre, on
    a canvas large enough to hold all of it; the corners are filled with the nearest edge,
    smoothed (a page's edge or a table along the frame goes on as it is). An image of the
    same photo at another resolution (``sharper``) is turned alike: its canvas is as much
    larger."""

    def __init__(self, angle: float, shape: tuple[int, ...]) -> None:
        self.angle = angle
        turn = np.radians(angle)
        self.cos, self.sin = abs(float(np.cos(turn))), abs(float(np.sin(turn)))
        self.shape = shape[:2]
        self.short = min(shape[:2])
        self.turned_short = min(self._canvas(shape))

    def _canvas(self, shape: tuple[int, ...]) -> tuple[int, int]:
        h, w = shape[:2]
        return round(w * self.cos + h * self.sin), round(w * self.sin + h * self.cos)

    def _matrix(self, shape: tuple[int, ...]) -> np.ndarray:
        """The affine map from an image of ``shape`` to its turned canvas."""
        h, w = shape[:2]
        canvas_w, canvas_h = self._canvas(shape)
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), self.angle, 1.0)
        matrix[:, 2] += np.array([canvas_w / 2 - w / 2, canvas_h / 2 - h / 2])
        return np.asarray(matrix)

    def of(self, image: np.ndarray) -> np.ndarray:
        return np.asarray(
            cv2.warpAffine(
                _edges_smoothed(image),
                self._matrix(image.shape),
                self._canvas(image.shape),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
        )

    def sharper(
        self, sharper: Callable[[int], tuple[np.ndarray, float]] | None
    ) -> Callable[[int], tuple[np.ndarray, float]] | None:
        """``sharper`` for the turned image: ``min_side`` is asked of its larger canvas."""
        if sharper is None:
            return None

        def turned(min_side: int) -> tuple[np.ndarray, float]:
            image, image_scale = sharper(int(np.ceil(min_side * self.short / self.turned_short)))
            return self.of(image), image_scale

        return turned

    def back(self, box: Box, scale: float) -> Box:
        """A box on the turned photo -> the box around it on the photo as it was (both in
        the original's pixels, ``scale`` of them per pixel of the image that was turned)."""
        h, w = self.shape
        matrix = cv2.invertAffineTransform(self._matrix(self.shape))
        x, y, bw, bh = box
        corners = np.array([[x, y], [x + bw, y], [x, y + bh], [x + bw, y + bh]], np.float64) / scale
        placed = np.clip(corners @ matrix[:, :2].T + matrix[:, 2], 0, (w, h))  # a corner's box: on the edge
        low = np.minimum(np.round(placed.min(axis=0) * scale), np.round(np.array([w, h]) * scale) - 1)
        high = np.round(placed.max(axis=0) * scale)
        x0, y0 = int(low[0]), int(low[1])
        return x0, y0, max(1, int(high[0]) - x0), max(1, int(high[1]) - y0)

    def placed_back(self, prepared: Prepared, as_it_lay: Prepared, scale: float) -> Prepared:
        """The turned photo's reading, its boxes placed back on the photo as it was (``scale``
        original pixels per pixel of the image turned), and shown on its working image (that
        of ``as_it_lay``, the reading of the photo as it was)."""
        notes = dict(prepared.notes, turned=round(self.angle, 1))
        for key in ("region", "second_look_region"):
            region = notes.get(key)
            if isinstance(region, tuple):
                notes[key] = self.back(region, scale)
        boxes = [self.back(box, scale) for box in prepared.boxes]
        return replace(prepared, boxes=boxes, gray=as_it_lay.gray, scale=as_it_lay.scale, notes=notes)


@dataclass
class _Region:
    ink: InkMap
    layout: Layout
    box: Box  # the region in the grey source image
    zoom: float  # region pixels per source pixel

    def to_source(self, g: Part) -> Box:
        x0, y0 = self.box[:2]
        z = self.zoom
        return (round(x0 + g.x / z), round(y0 + g.y / z), round(g.w / z), round(g.h / z))


def _left_out_beyond(layout: Layout, box: Box) -> bool:
    """Whether the analysis image left out pieces beside its digits, beyond the region read
    closer (``box``, in its px), that may be a digit of the row, broken apart, or smaller
    writing (``pieces_left_out``). The region, cut around the digits kept, never sees them:
    a pencil 7 that the grid's removal broke into pieces, left out as smaller, was answered
    as a sure "1" of its 17 (session 33)."""
    beyond = [(g, why) for g, why in layout.rejected if not holds(box, (g.x, g.y, g.w, g.h))]
    return pieces_left_out(replace(layout, rejected=beyond))


def _read_region(
    gray: np.ndarray,
    digits: list[Part],
    stroke: float,
    factor: float,
    light_ink: bool,
    background: int | None = None,
    unjudged: float = 0.0,
    drawn_around: np.ndarray | None = None,
    wide: bool = False,
    lines_up_to: float = 0.0,
    margin_lines: np.ndarray | None = None,
    ruled: bool = False,
    thicker: float = 0.0,
) -> _Region:
    """Find the digits again in the region around them, at a scale that makes them ~64 px tall.
    Parts shorter than ``unjudged`` px of ``gray`` are not judged by their shape.
    ``drawn_around``: the analysis image's pixels of rings drawn around the digits, which
    the region cuts into arcs that no longer enclose them, of dotted paper's dots, of lines
    across the page, and of the desk around a photographed page (``photo_page``): not read
    again. ``margin_lines``: the analysis image's pixels of a ruled page's margin line
    (``InkMap.upright_lines``), which the region cuts short too: not read again either, and
    what is left of it beside the digits judged as such (``_drop_edge_lines``). ``ruled``:
    the analysis image's lines are a ruled page's (``InkMap.ruled``), which the region
    cuts short too: a scan's or drawing's lines are searched for as a photo's are.
    ``thicker``: lines up to this many region px thicker than usual (``THICKER_LINES``)."""
    height = float(median(g.h for g in digits)) / factor
    margin = REGION_MARGIN * max(g.h for g in digits) / factor
    h, w = gray.shape
    x0 = max(0, int(min(g.x for g in digits) / factor - margin))
    y0 = max(0, int(min(g.y for g in digits) / factor - margin))
    x1 = min(w, int(np.ceil(max(g.x1 for g in digits) / factor + margin)))
    y1 = min(h, int(np.ceil(max(g.y1 for g in digits) / factor + margin)))
    # Shrunk no further than keeps the thinnest strokes 2 px wide (the analysis image,
    # smaller still, shows an upper bound of their width) and the region 48 px across.
    zoom = min(DETAIL_HEIGHT / max(height, 1.0), MAX_ZOOM)
    zoom = max(zoom, min(1.0, max(2.0 * factor / max(stroke, 1.0), 48.0 / max(min(x1 - x0, y1 - y0), 1))))
    region = gray[y0:y1, x0:x1]
    if abs(zoom - 1.0) > 0.05:
        size = (max(1, round((x1 - x0) * zoom)), max(1, round((y1 - y0) * zoom)))
        interpolation = cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR
        region = np.asarray(cv2.resize(region, size, interpolation=interpolation))
    else:
        zoom = 1.0
    # Ruled lines are at most ~1.5 px thick in a phone photo, ~3 px once faintly blurred;
    # lines the analysis image removed may be thicker (``lines_up_to`` px there): a heavy grid.
    s = zoom / factor
    thickness = max(4.0, 3.0 * zoom, lines_up_to * s) + thicker
    ink = find_ink(
        region,
        light_ink,
        line_thickness=thickness,
        background=background,
        wide=wide,
        cut_out=True,
        ruled=ruled,
    )
    # Only the row the analysis found: the region's margin may also hold a mark above or
    # below it. (A digit of the row the small analysis image broke apart is kept.)
    row = (min(g.y for g in digits) * s - y0 * zoom, max(g.y1 for g in digits) * s - y0 * zoom)
    mask = ink.mask
    ax0, ay0, ax1, ay1 = (round(v * factor) for v in (x0, y0, x1, y1))
    grow = np.ones((2 * max(1, round(zoom / factor)) + 1,) * 2, np.uint8)  # an analysis pixel each way

    def in_region(pixels: np.ndarray | None) -> np.ndarray | None:
        """Pixels of the analysis image, in the region's (None when none lie in it)."""
        cut = None if pixels is None else pixels[ay0:ay1, ax0:ax1].astype(np.uint8)
        if cut is None or not cut.size or not cut.any():
            return None
        return np.asarray(cv2.resize(cut, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_NEAREST))

    rings, on_margin = in_region(drawn_around), in_region(margin_lines)
    if rings is not None:
        mask = np.where(cv2.dilate(rings, grow) > 0, np.uint8(0), mask)
    margin_band = None
    if on_margin is not None:
        # Grown by a region pixel across the line only: grown by an analysis pixel each way,
        # it ate a 1 written on it. What is left of it beside the digits is judged below.
        mask = np.where(cv2.dilate(on_margin, np.ones((1, 3), np.uint8)) > 0, np.uint8(0), mask)
        margin_band = cv2.dilate(on_margin, grow) > 0
    layout = find_digits(mask, row=row, shapeless_below=unjudged * zoom)
    _drop_edges_at_the_sides(layout, mask.shape[1], margins=(x0 > 0, x1 < w))
    _drop_edge_lines(layout, margin_band)
    return _Region(ink, layout, (x0, y0, x1 - x0, y1 - y0), zoom)


def _drop_edges_at_the_sides(layout: Layout, width: int, margins: tuple[bool, bool]) -> None:
    """Of a region's digits, move to ``rejected`` the parts its left or right side cuts that
    are the edge of a page or a shadow (``SIDE_SLIVER``, ``SIDE_LINE_HEIGHT``; and
    ``SIDE_THIN_STROKE`` where that side is the region's own margin, per ``margins``: left,
    right, and not the picture's frame)."""
    at_side = [g.x <= 0 or g.x1 >= width for g in layout.digits]
    if len(layout.digits) < 2 or not any(at_side):
        return
    strokes = [stroke_width(layout.mask_of(g)) for g in layout.digits]
    # Measured on the digits clear of the sides (all of them, when none is).
    inner = [i for i, side in enumerate(at_side) if not side] or list(range(len(at_side)))
    stroke = float(median(strokes[i] for i in inner))
    height = float(median(layout.digits[i].h for i in inner))
    kept = []
    for g, side, own in zip(layout.digits, at_side, strokes, strict=True):
        sliver = g.w < SIDE_SLIVER * stroke
        line = g.h > SIDE_LINE_HEIGHT * height and own < SIDE_LINE_STROKE * stroke
        at_margin = margins[0] if g.x <= 0 else margins[1]
        thin_line = at_margin and g.w < ROW_LINE_WIDTH * g.h and own < SIDE_THIN_STROKE * stroke
        if side and (sliver or line):
            layout.rejected.append((g, SHADOW))
        elif side and thin_line:
            layout.rejected.append((g, THIN_SIDE_LINE))
        else:
            kept.append(g)
    layout.digits = kept


def _drop_edge_lines(layout: Layout, margin: np.ndarray | None = None) -> None:
    """Of the digits, move to ``rejected`` the narrow parts (lines, by their shape) much
    thinner than the other digits' strokes (``EDGE_LINE_STROKE`` of their median); or, with
    at least half their pixels in ``margin`` (bool, the region's: a margin line's band, an
    analysis pixel each way), thinner than ``MARGIN_LINE_STROKE`` of it: what is left of
    the line, where a 1 written on it has the other digits' pen."""
    if len(layout.digits) < 2:
        return
    masks = [layout.mask_of(g) for g in layout.digits]
    strokes = [stroke_width(own) for own in masks]
    kept = []
    for i, g in enumerate(layout.digits):
        others = float(median(strokes[:i] + strokes[i + 1 :]))
        on_margin = margin is not None and float(margin[g.y : g.y1, g.x : g.x1][masks[i]].mean()) >= 0.5
        thinner = (MARGIN_LINE_STROKE if on_margin else EDGE_LINE_STROKE) * others
        line = g.w < EDGE_LINE_SHAPE * g.h and strokes[i] < thinner
        if line and others >= EDGE_LINE_BESIDE:
            layout.rejected.append((g, SHADOW))
        else:
            kept.append(g)
    layout.digits = kept


def _crop(ink: InkMap, layout: Layout, g: Part) -> np.ndarray:
    """The digit's ink strength inside its box, other parts' ink blanked out."""
    # (A piece's own pixels stop at its cuts: its blurred edge reaches a pixel over them.)
    own = cv2.dilate(layout.mask_of(g).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return np.where(own, ink.strength(g.y, g.y1, g.x, g.x1), np.float32(0.0))


def _shifted(box: Box, origin: tuple[int, int]) -> Box:
    x, y, w, h = box
    return (x + origin[0], y + origin[1], w, h)


def _scale_box(box: Box, scale: float) -> Box:
    x, y, w, h = box
    return (round(x * scale), round(y * scale), round(w * scale), round(h * scale))


def normalise_stroke(crop: np.ndarray) -> np.ndarray:
    """Thicken hairlines and thin marker strokes towards MNIST's stroke width (a share of the
    digit's height), at the crop's own resolution so a hairline is not lost first."""
    h = crop.shape[0]
    binary = crop > 0.5
    if h < 8 or not binary.any():
        return crop
    width = stroke_width(binary) / h
    low, high = STROKE_RANGE
    if low <= width <= high:
        return crop
    radius = round((STROKE_TARGET - width) * h / 2)
    if radius == 0:
        return crop
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
    if radius > 0:
        pad = radius + 1
        grown = cv2.dilate(cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0), kernel)
        return np.asarray(grown, np.float32)
    thinner = np.asarray(cv2.erode(crop, kernel), np.float32)
    # Never erase the digit: a stroke that would not survive keeps its width.
    return thinner if float(thinner.max()) > 0.5 else crop


def _hint(ink: InkMap, layout: Layout) -> str:
    # The paper's own dots and margin line are no marks on it.
    reasons = {reason for _, reason in layout.rejected} - {PAPER_DOT, LINE_ACROSS}
    if ink.level == 0.0 or not reasons:
        return BLANK_HINT
    if BARCODE in reasons:
        return "I found a barcode, not handwritten digits"
    specks = {TOO_SMALL, MUCH_SMALLER}
    if reasons <= specks:
        return "I only found specks too small to be digits; move the camera closer to the number"
    if reasons <= specks | {EDGE_MARK}:
        # A small digit out near the frame is dropped with the marks there (a pen's dash at
        # the page's edge looks the same): the photo's subject belongs in its middle.
        return (
            "I only found marks near the edge of the photo; if you wrote a number there, "
            "take the photo again with the number in the middle"
        )
    return MARKS_HINT
