"""A paint program's canvas inside a screenshot: the box to read, without the program around it.

People who draw a digit in a paint program often send a screenshot rather than the saved
picture: menus, tool icons, a colour palette and a status bar around a canvas of one flat
colour. Their text and icons are digit-sized marks, so a modest digit can lose the row to
them. The canvas is found as the largest region of one exact grey level (within the few
levels a JPEG leaves a flat area) whose bounding box it fills: a rectangle whose sides lie
on the canvas's colour, inside a frame that is not all of that colour.

A phone photo of paper does not pass: grain spreads its paper over several levels, and
where a photo's highlights are blown out to one level, what lies around them is grainy, not
a program's flat chrome. A saved drawing is its own canvas (its frame is the canvas's
colour): nothing to cut; nor is a tight crop, whose background also lies outside any patch
of it. But a saved picture may hold another picture with a drawing on it: a plot of an
MNIST digit (a black square in a white figure, with axes and numbered ticks), a web demo's
canvas in its page. That inner canvas is found the same way, when something is drawn on it
(the hole of a fat 0 is a flat patch too, with nothing in it). When the canvas holds no
digit, ``prepare`` reads the whole picture after all.
"""

from __future__ import annotations

import cv2
import numpy as np

from classifier.photo_ink import components

WORK_SIDE = 400  # px: found on the image shrunk (nearest neighbour, keeping flat levels exact) to this
SAMPLE_SIDE = 100  # px: the colours are counted on a sparser sample still
EXACT_SHARE = 0.7  # a canvas's band holds at least this share of its pixels on one level
SAVED_DRAWING = 0.9  # a picture whose frame is this much the canvas's colour is the canvas
FLAT_LEVELS = 2  # grey levels either side of the canvas's colour that still count as it
MIN_SHARE = 0.1  # the canvas covers at least this share of the screenshot ...
MIN_FILL = 0.75  # ... its colour at least this share of its box (the rest is the drawing) ...
EDGE_FILL = 0.9  # ... and of two sides of its box, away from the frame: a rectangle, not a blob
FRAME_GAP = 0.01  # a side this close to the frame (share of the side) counts as touching it
MAX_COLOURS = 3  # the largest flat colours tried
END = 3  # px: a row or column whose first or last this many pixels are the canvas's is the canvas
OUTSIDE_CANVAS = 0.25  # outside the canvas, less than this share is the canvas's colour ...
CHROME_FLAT = 0.5  # ... and at least this share of neighbouring pixels are equal (flat chrome)
MIN_SIDE = 16  # px: a narrower picture has no room for a canvas with a program around it
# A canvas inside a saved picture has at least this share of its box drawn on, and at most
# the second (an MNIST digit covers a fifth of its square on average, a fat one 40%).
MIN_DRAWN, MAX_DRAWN = 0.02, 0.5

Box = tuple[int, int, int, int]  # x, y, w, h


def find_canvas(gray: np.ndarray, inner_only: bool = False) -> Box | None:
    """The canvas's box in ``gray``'s pixels, when ``gray`` is a screenshot of one or a saved
    picture holding one; else None. ``inner_only``: only a canvas inside a saved picture (for
    a picture too small to be a screenshot of a program, where the hole of a tight crop's 0
    would pass for one)."""
    h, w = gray.shape
    if min(h, w) < MIN_SIDE:
        return None
    # Which colours could be a canvas, from a sparse sample (a photo is turned away here).
    sparse = max(1, int(np.ceil(max(h, w) / SAMPLE_SIDE)))
    sample = gray[::sparse, ::sparse]
    histogram = cv2.calcHist([sample], [0], None, [256], [0, 256]).ravel()
    # Pixels within FLAT_LEVELS of each level.
    bands = np.convolve(histogram, np.ones(2 * FLAT_LEVELS + 1), mode="same")
    step = max(1, int(np.ceil(max(h, w) / WORK_SIDE)))
    small = gray[::step, ::step]
    frame = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]]).astype(np.int16)
    # The program around the canvas may be flat too (a grey workspace, white panels): the
    # canvas is the innermost of the few commonest flat colours that form a rectangle.
    found: list[tuple[int, Box, int]] = []
    saved = False  # the commonest colour lies all round: a saved picture (its own canvas, or one inside)
    for attempt in range(MAX_COLOURS):
        level = int(np.argmax(histogram))
        if bands[level] < MIN_SHARE * sample.size:
            break
        # A canvas is one exact level (a JPEG's flat blocks too); grain spreads a photo's
        # paper over the band (measured: at most 51% on its commonest level, in 1,000 dev
        # photos; 100% in screenshots, PNG or JPEG).
        if histogram[level] >= EXACT_SHARE * bands[level]:
            all_round = float(np.mean(np.abs(frame - level) <= FLAT_LEVELS)) >= SAVED_DRAWING
            if attempt == 0:
                saved = all_round
            box = None if all_round else _flat_rectangle(small, level, saved)
            if box is not None:
                found.append((box[2] * box[3], box, level))
        histogram[max(0, level - 2 * FLAT_LEVELS) : level + 2 * FLAT_LEVELS + 1] = 0
        if inner_only and not saved:
            return None  # only a canvas inside a saved picture was asked for: this is none
    # A workspace holds the canvas: of nested boxes the inner one; else the largest.
    inner = [f for f in found if not any(g is not f and holds(f[1], g[1]) for g in found)]
    if not inner:
        return None
    _, (x, y, bw, bh), level = max(inner)
    return _refined(gray, level, (x * step, y * step, min(w, (x + bw) * step), min(h, (y + bh) * step)))


def holds(outer: Box, inner: Box, slack: float = 0.0) -> bool:
    """Whether box ``inner`` lies inside box ``outer`` (x, y, w, h), give or take ``slack``
    of ``outer``'s size."""
    x, y, w, h = outer
    ix, iy, iw, ih = inner
    mx, my = slack * w, slack * h
    return ix >= x - mx and iy >= y - my and ix + iw <= x + w + mx and iy + ih <= y + h + my


def _flat_rectangle(small: np.ndarray, level: int, drawn_on: bool) -> Box | None:
    """A box just inside the largest region of ``level`` (within FLAT_LEVELS), when that
    region is a canvas: a large rectangle it fills, not the whole frame, its colour ending
    beyond its sides; ``drawn_on``: with something drawn on it (``MIN_DRAWN``, ``MAX_DRAWN``:
    a canvas inside a saved picture) rather than filling at least MIN_FILL of it."""
    flat = cv2.inRange(small, max(0, level - FLAT_LEVELS), min(255, level + FLAT_LEVELS))
    # Its inner part (pixels whose neighbours are all of the colour): a canvas keeps nearly
    # all of itself, and the blend of its edge with what is beyond it falls away.
    core = cv2.erode(flat, np.ones((3, 3), np.uint8))
    if cv2.countNonZero(core) < MIN_SHARE * MIN_FILL * small.size:
        return None
    _, _, stats = components(core)
    x, y, bw, bh, _ = (int(v) for v in stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))])
    sh, sw = small.shape
    filled = cv2.countNonZero(flat[y : y + bh, x : x + bw]) / (bw * bh)
    if bw * bh < MIN_SHARE * small.size:
        return None
    if not (1.0 - MAX_DRAWN <= filled <= 1.0 - MIN_DRAWN if drawn_on else filled >= MIN_FILL):
        return None
    gap_x, gap_y = FRAME_GAP * sw + 2, FRAME_GAP * sh + 2
    inside = [x > gap_x, y > gap_y, x + bw < sw - gap_x, y + bh < sh - gap_y]
    if drawn_on and (
        sum(inside) < 4 or _flat_hole(small[y : y + bh, x : x + bw], flat[y : y + bh, x : x + bw])
    ):
        # A picture inside a saved one lies away from its frame all round (not a band across
        # it: a form's shaded header), and what is drawn on it is no flat hole (a 0 or an 8
        # drawn with a rectangle tool, whose ring would pass for a canvas).
        return None
    if sum(inside) < 2:
        # The whole picture (a saved drawing, the program's own background), or a band along
        # three sides of it: the bar above or below a photo shown on a phone, a toolbar. A
        # canvas leaves room for the program on two sides at least.
        return None
    # Straight sides of the colour away from the frame: two at least (a digit drawn big may
    # cover much of the others; a patch of background between a tight crop's strokes and
    # the frame has none).
    box = flat[y : y + bh, x : x + bw] > 0
    sides = (box[:, 0], box[0], box[:, -1], box[-1])  # left, top, right, bottom, as ``inside``
    if sum(float(side.mean()) >= EDGE_FILL for side, away in zip(sides, inside, strict=True) if away) < 2:
        return None
    # Two pixels beyond each side that is not the frame, the canvas's colour has ended.
    beyond = []
    if inside[0]:
        beyond.append(flat[y : y + bh, x - 2])
    if inside[1]:
        beyond.append(flat[y - 2, x : x + bw])
    if inside[2]:
        beyond.append(flat[y : y + bh, x + bw + 1])
    if inside[3]:
        beyond.append(flat[y + bh + 1, x : x + bw])
    if max(float(np.mean(line > 0)) for line in beyond) > 1.0 - EDGE_FILL:
        return None
    # What lies outside is a program's chrome: other colours than the canvas's (not more
    # background between a tight crop's strokes, or the other bar around a letterboxed
    # photo), and flat (not a photo's grain beyond the blown-out patch of its paper).
    outside = np.ones(small.shape, bool)
    outside[y : y + bh, x : x + bw] = False
    if float(np.mean(flat[outside] > 0)) >= OUTSIDE_CANVAS:
        return None
    steady = small[:, 1:] == small[:, :-1]
    if float(np.mean(steady[outside[:, 1:]])) < CHROME_FLAT:
        return None
    return x, y, bw, bh


def _flat_hole(box: np.ndarray, flat: np.ndarray) -> bool:
    """Whether the largest thing drawn in a canvas's ``box`` (where ``flat``, 0/255, is not
    the canvas's colour) is a hole: one flat level filling most of its own box. A digit's
    strokes are neither (an MNIST 1 may fill its box, but in many grey levels)."""
    count, labels, stats = components(cv2.bitwise_not(flat))
    if count < 2:
        return False
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    _, _, w, h, area = (int(v) for v in stats[largest])
    levels = np.bincount(box[labels == largest], minlength=256)
    one_level = int(np.convolve(levels, np.ones(2 * FLAT_LEVELS + 1, np.int64), mode="same").max())
    return area >= MIN_FILL * w * h and one_level >= 0.9 * area


def _refined(gray: np.ndarray, level: int, box: tuple[int, int, int, int]) -> Box:
    """The box (x0, y0, x1, y1, a little inside the canvas) grown outwards to the canvas's
    edges, to the pixel: over every row and column still of the canvas's colour at one of
    its ends or for half its length. A digit drawn up to the edge covers the canvas there
    but seldom from end to end, so it keeps its strokes."""
    h, w = gray.shape
    x0, y0, x1, y1 = box

    def canvas(line: np.ndarray) -> bool:
        near = np.abs(line.astype(np.int16) - level) <= FLAT_LEVELS
        return bool(near[:END].all() or near[-END:].all() or near.mean() >= 0.5)

    grown, steps = True, 0
    while grown and steps < max(h, w) // 4:  # bounded: a quarter of the picture a side at most
        grown, steps = False, steps + 1
        if x0 > 0 and canvas(gray[y0:y1, x0 - 1]):
            x0, grown = x0 - 1, True
        if y0 > 0 and canvas(gray[y0 - 1, x0:x1]):
            y0, grown = y0 - 1, True
        if x1 < w and canvas(gray[y0:y1, x1]):
            x1, grown = x1 + 1, True
        if y1 < h and canvas(gray[y1, x0:x1]):
            y1, grown = y1 + 1, True
    return x0, y0, x1 - x0, y1 - y0
