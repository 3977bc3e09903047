"""Which ink is digits: connected parts grouped into digits, ordered left to right.

A handwritten digit is not always one connected part (the detached bar of a 5, a 4 or an
8 whose strokes do not quite meet), and not every part is a digit (specks, marks at the
edge of the frame, dashes, filled blobs, the dark wedge of a table). Parts are grouped
when one sits above the other; groups are kept when they are shaped like strokes, about
as tall as the tallest digit, and not cut by the frame while the digits are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

import cv2
import numpy as np

from classifier.photo_ink import InkMap, InShadows, components, in_shadows, ink_box

MIN_EDGE_SUPPORT = 0.7  # parts with less of their surroundings clearly brighter are not ink
# Parts with less than this are first trimmed to their pixels that lie in valleys. A digit
# joined to the strip of "ink" along a shadow's edge, or a shadow's rim alone, had 0.79-0.87
# of its ring brighter in the dev photos looked at, most of them below this (a clean digit
# has all of it, one filling the frame 0.92-0.96; trimming those lost some).
VALLEY_BELOW = 0.85
# A cast shadow (a hand's, its fingers', a phone's) narrower than the paper's estimate
# follows is "ink" as dark as the shadow is (``photo_ink.in_shadows``), and a digit in it is
# one part with it. Two kinds of part are cut into the ink against the paper followed into
# shadows wider than this share of the short side (a marker's strokes are narrower, a
# finger's shadow 0.06-0.1 of a photo of a digit wide), and the shadow around it, which is
# no ink (session 30):
SHADOW_WIDTH = 0.045
# (1) a part that fades into its surroundings (``MIN_EDGE_SUPPORT``): what stays ink is a
# digit only when ``IN_SHADOW`` of its surroundings lies in a shadow darker than the paper
# by ``SHADOW_DEPTH`` and covering ``CAST_SHADOW`` of the frame (not a tablecloth's checks),
# when it is clearly darker than that shadow all around (``MIN_EDGE_SUPPORT`` against it),
# as dark against it on average as a stroke's seed (``InkMap.high``: a shadow's own darker
# core is not), and no line (narrower than ``SHADOW_LINE`` of its height: a page's edge or a
# notebook's fold in the shadow; a 1 in a shadow is lost with them);
SHADOW_DEPTH = 0.1
CAST_SHADOW = 0.02
IN_SHADOW = 0.8
SHADOW_LINE = 0.3
# (2) a part at least ``SHADOW_TALL`` of the short side tall that looks like a shadow's: its
# median darker than the page's brightest paper (the paper estimate's maximum: a close-up's
# fat strokes drag the estimate itself down; a glare spot raises it, and fewer parts are cut)
# by at most ``FAINT_SHADOW`` (a hand's shadow indoors takes 30-50% of the light; a deeper
# one is left as it was), its edges soft (their median slope at most ``SOFT_EDGE`` of its
# depth per px: strokes measured 0.34-0.42, fingers' shadows 0.11-0.30), reaching the page's
# edge on a grainy desk (``photo_page``) or a wider shadow the paper's estimate follows (the
# paper around it varies by ``SHADOW_DEPTH``, 5th against 95th percentile: around a blurred
# photo's fat digit on plain paper it does not), and ``WIDE_SHARE`` of it wider than
# strokes: a hand's fingers, apart (read as 1s) or with the digit on them. What stays ink is
# judged as any part when it is as dark against the paper followed into the shadow as a
# stroke's seed, or as a digit in a shadow (1). Not on a dark surface read as light writing:
# it casts no such shadows, and a dark scene's soft bright things were cut into digits.
SHADOW_TALL = 0.1
SOFT_EDGE = 0.3
FAINT_SHADOW = 0.5
WIDE_SHARE = 0.5
SHADOW = "a shadow or the edge of the page"
ALONG_FRAME = "along the edge of the photo"
EDGE_MARK = "a mark at the edge"
TOO_SMALL = "too small"
MUCH_SMALLER = "much smaller than the digits"
DASH = "a dash or a line"
FILLED_SHAPE = "a filled shape"
OTHER_LINE = "another line of writing"
LINE_UNDER = "a line under the digits"
LINE_ACROSS = "a line across the page"
PAPER_DOT = "a dot of dotted paper"
TALLER_ROW = 1.5  # a row of digits this many times as tall as every other is the main one,
TALLER_ROW_WIDTH = 0.25  # ... unless all its parts are narrower than this share of their height
# In a region read closer, a part narrower than this share of its height (a line's shape) and
# ``ROW_SLIVER`` times as tall as the row of digits the analysis image found is a line: the
# edge of a page beside a number, read as a "1" twice as tall as the digits (session 34). The
# analysis image's row holds all of every digit it saw; a digit read closer may still be
# taller, chained to dots of dotted paper (a 3 at 1.7 times, 0.23 of its height wide).
ROW_LINE_WIDTH = 0.15
ROW_SLIVER = 1.5
DOT_SIDE = 0.03  # share of the short side: a dot of dotted paper is at most this wide and tall,
DOT_FILL = 0.4  # ... fills at least this share of its box (no dash), ...
DOT_GRID = 30  # ... and a page of it shows at least this many, ...
DOT_SHARE = 0.6  # ... at least this share of all its parts
FRAME_BAND = 0.06  # share of the short side: the band along the frame where marks and table edges lie
HAIRLINE_PX = 1.6  # ink whose strokes are this thin (mean width, px) is bridged before grouping
CLOSE_UP = 0.4  # share of the short side: a digit cut by the frame, alone, is at least this tall
# ... unless it is a straight upright bar (narrower than this share of its height) drawn
# thinner than this share of its length (a close-up's 1 is a thick one), or anything without a
# loop drawn thinner than this: the frame of a whiteboard, a printed border or its corner, a
# line across a page (session 25: read as sure 1s and 7s on blank photos). A close-up's
# digits measured 0.03-0.04, a steep photo's thin 1 0.019, a marker's 1 from the top of the
# frame to its bottom 0.033 (a unit test), as thick as a whiteboard's frame can be.
CLOSE_UP_BAR = 0.1
CLOSE_UP_BAR_STROKE = 0.03
CLOSE_UP_STROKE = 0.015
SMALLER_THAN_DIGITS = 0.45  # parts less tall than this share of the tallest digit are not digits
UNDERLINE = 5.0  # a line under a part, this many times longer than thick, is not part of it
# A part of a photo this long (share of the frame) drawn thinner than this share of its
# length is a line on the page, not a 1 (session 24).
ACROSS_PAGE = 0.9
PAGE_LINE_STROKE = 0.02
# ... or, a straight bar (narrower than ``CLOSE_UP_BAR`` of its length), this long drawn
# thinner than this share of it: a margin line left in pieces by the ruled lines' removal,
# from near the top of a dim photo to near its bottom, won the row as a "1" (session 25).
ACROSS_PAGE_BAR = 0.6
PAGE_BAR_STROKE = 0.015
FLAT_LINE = 3.0  # ... when its box is this many times as wide as tall (a box is thickness and slant)
UNDERLINED_NUMBER = 1.5  # ... nor, when it reaches past the part on one side only, this many times as wide
DRAWN_AROUND = "a ring or box drawn around the digits"
# A part inside another's box, this share of its height, is held by it. (0.3 until session
# 25: the digits on a screen photographed with its dark bezel and toolbars, one thick ring
# around them, are a quarter of its height; the ring was read as a sure "0". A dotted zero's
# dot is 0.15 of it.)
ENCLOSED_HEIGHT = 0.2
WIDE_DIGIT = 1.7  # width over height of the widest digit two overlapping halves make
HALVES_OVERLAP = 0.4  # share of the wider half's width that the other lies over
RING_OVERLAP = 0.03  # share of a ring's pixels that may lie over the middle of what it holds


@dataclass
class Part:
    x: int
    y: int
    w: int
    h: int
    area: int
    labels: list[int] = field(default_factory=list)
    # Shaped like a blob (``FILLED_SHAPE``): a pebble or a shadow, or a fat marker's digit
    # whose loops filled in. Its shape cannot tell which: it is a digit only if the model
    # is sure of it.
    filled: bool = False
    # A piece cut from a part (``segments``): which pixels of its box lie between its cuts.
    within: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def x1(self) -> int:
        return self.x + self.w

    @property
    def y1(self) -> int:
        return self.y + self.h

    def union(self, other: Part) -> Part:
        x, y = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.x1, other.x1), max(self.y1, other.y1)
        return Part(x, y, x1 - x, y1 - y, self.area + other.area, self.labels + other.labels)


@dataclass
class Layout:
    digits: list[Part]  # left to right
    labels: np.ndarray  # (h, w) connected-component labels of the ink mask (uint16 or int32)
    rejected: list[tuple[Part, str]]  # groups that were not taken as digits, and why
    off_page: np.ndarray | None = None  # bool (h, w): a photo's grainy desk around its page (``photo_page``)
    # bool (h, w): a photo's smooth, dark desk around its page (or a deep shadow across the
    # page: its ink stays), which makes it no scene (``photo_page``); of a dark surface read
    # as light writing, its soft light patches (``preprocess._light_writing``)
    smooth_desk: np.ndarray | None = None
    # Read on a card alone, ink on the smooth desk around it wiped (``photo_page.Desk.card``,
    # ``preprocess.CARD_INK_LEFT``): the answer may lack what was written beside it, or the
    # "card" may be a thing in a scene.
    card: bool = False

    @property
    def ink(self) -> int:
        """Ink pixels in the digits: how much digit-like writing was found."""
        return sum(g.area for g in self.digits)

    def mask_of(self, g: Part) -> np.ndarray:
        """Boolean mask of a group's own pixels inside its box."""
        crop = self.labels[g.y : g.y1, g.x : g.x1]
        own = np.asarray(crop == g.labels[0]) if len(g.labels) == 1 else np.isin(crop, g.labels)
        return own if g.within is None else own & g.within


def _belong_together(a: Part, b: Part) -> bool:
    """Parts of one digit: one above the other, overlapping across, not two tall neighbours;
    or a small piece almost touching a bigger one (a stroke broken by a ruled line)."""
    union = a.union(b)
    small, big = sorted((a, b), key=lambda p: p.area)
    gap_x = max(a.x, b.x) - min(a.x1, b.x1)
    gap_y = max(a.y, b.y) - min(a.y1, b.y1)
    near = max(2.0, 0.08 * big.h)
    upper, lower = sorted((a, b), key=lambda p: p.y)
    reach = 0.1 * upper.w
    if (
        # Long for its mean thickness, and flat: a line, also when it slants a little.
        lower.w * lower.w > UNDERLINE * lower.area
        and lower.w > FLAT_LINE * lower.h
        and lower.y >= upper.y + 0.75 * upper.h
        and (
            (lower.x <= upper.x - reach and lower.x1 >= upper.x1 + reach)
            or lower.w >= UNDERLINED_NUMBER * upper.w
        )
    ):
        # A long thin line under the other, reaching past it on both sides, or under a
        # number, under the next digit too: the answer underlined (a 2's base or a 5's
        # broken-off bowl starts under the stroke above, and is about as wide).
        return False
    if small.area < 0.3 * big.area and gap_x <= near and gap_y <= near and union.w <= 1.3 * union.h:
        return True
    if (
        big.h > 2.5 * small.h
        and big.x <= small.x
        and big.y <= small.y
        and small.x1 <= big.x1
        and small.y1 <= big.y1
    ):
        return False  # inside something much larger (a frame of table around a digit)
    overlap = min(a.x1, b.x1) - max(a.x, b.x)
    if overlap < 0.3 * min(a.w, b.w):
        return False
    if min(a.h, b.h) >= 0.75 * union.h:  # side by side and both full height: two digits
        return False
    gap = max(a.y, b.y) - min(a.y1, b.y1)
    # Halves lying over each other across much of the wider one are one wide digit (a 0 on
    # its side, broken at the top), even when their union is wide; a narrow digit beside a
    # wider one whose box reaches under it (an 8 by a 2's long base) is not.
    widest = WIDE_DIGIT if overlap >= HALVES_OVERLAP * max(a.w, b.w) else 1.3
    return gap <= 0.35 * max(a.h, b.h) and union.w <= widest * union.h


MAX_PARTS = 1000  # more parts than this are texture or a page of print, not a number: not grouped
MAX_CHECKS = 100_000  # pairs looked at by ``_belong_together`` (~0.5 s) before grouping stops


def group_parts(parts: list[Part]) -> list[Part]:
    """Merge parts that belong to one digit, biggest first.

    The result is that of merging the first pair (in that order) that belongs together,
    again and again until none does; but without starting over after each merge, which took
    O(n³) checks (9 s for a page of print). After a merge into group i only pairs with i
    can have changed: the groups before i are checked against it (a match there is the
    next merge), then i against those after it; groups already found to match none after
    them are not looked at again. Pairs too far apart to belong together are not looked at
    (``_may_belong``). Past ``MAX_PARTS`` parts or ``MAX_CHECKS`` checks the groups are
    returned as they stand: that is no number, and grouping is what could cost seconds.
    """
    groups: list[Part] = sorted(parts, key=lambda p: -p.area)
    n = len(groups)
    if n < 2 or n > MAX_PARTS:
        return groups
    boxes = np.array([_box(g) for g in groups], np.int64)
    near = _may_belong(boxes[:, None, :], boxes[None, :, :])  # (n, n), kept up to date
    alive = np.ones(n, bool)  # merged groups stay in place, dead, so indices never shift
    checks = 0

    def first_match(i: int, start: int, stop: int) -> int | None:
        """The first live group in [start, stop) that belongs with group i; the pair in
        order, the earlier group first."""
        nonlocal checks
        for k in np.flatnonzero(near[i, start:stop] & alive[start:stop]) + start:
            checks += 1
            first, second = (i, k) if k > i else (k, i)
            if _belong_together(groups[first], groups[second]):
                return int(k)
        return None

    def merge(i: int, j: int) -> None:
        groups[i] = groups[i].union(groups[j])
        alive[j] = False
        boxes[i] = _box(groups[i])
        near[i, :] = near[:, i] = _may_belong(boxes[i], boxes)

    # Every live group before ``row`` matches none after it; so does every one before
    # ``clean`` but ``row``, when a merge sent ``row`` back to an earlier group.
    row = clean = 0
    while row < n and checks < MAX_CHECKS:
        if not alive[row]:
            row = clean = row + 1
            continue
        j = first_match(row, row + 1, n)
        if j is None:
            row = clean = max(row + 1, clean)
            continue
        merge(row, j)
        # The grown group may now belong with an earlier one: that pair comes first.
        while (k := first_match(row, 0, row)) is not None:
            merge(k, row)
            row = k
    return [g for g, live in zip(groups, alive, strict=True) if live]


def _box(g: Part) -> tuple[int, int, int, int, int]:
    return (g.x, g.y, g.x1, g.y1, g.h)


def _may_belong(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which boxes (``_box`` in the last axis, broadcast) are close enough to belong together:
    a bound implied by every way ``_belong_together`` can say yes (near, within max(2, 0.08 h)
    both ways; or overlapping across and at most 0.35 h apart down), h the taller's height."""
    tall = np.maximum(a[..., 4], b[..., 4])
    gap_x = np.maximum(a[..., 0], b[..., 0]) - np.minimum(a[..., 2], b[..., 2])
    gap_y = np.maximum(a[..., 1], b[..., 1]) - np.minimum(a[..., 3], b[..., 3])
    return np.asarray((gap_x <= np.maximum(2.0, 0.08 * tall)) & (gap_y <= np.maximum(2.0, 0.35 * tall)))


@dataclass(frozen=True)
class Shape:
    stroke: float  # mean stroke width (2 area / perimeter), px
    solidity: float  # area / convex hull area
    holes: int
    elongation: float  # long side / short side of the smallest rotated rectangle around it


def _stroke(area: float, contours: Sequence[np.ndarray]) -> float:
    """Mean stroke width: 2 area / perimeter."""
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * area / max(perimeter, 1.0)


def stroke_width(mask: np.ndarray) -> float:
    """``shape_of(mask).stroke``, traced inside the box around the ink only (``mask``: bool,
    or 0/255 as it is, uncopied: OpenCV's tracing leaves it as it was)."""
    binary = mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8, copy=False)
    box = ink_box(binary)
    if box is None:
        return 0.0
    contours, _ = cv2.findContours(binary[box], cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return _stroke(float(cv2.countNonZero(binary[box])), contours)


def shape_of(mask: np.ndarray) -> Shape:
    # (A bool mask uncopied, as ``stroke_width`` traces it.)
    binary = mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return Shape(0.0, 0.0, 0, 1.0)
    parents = hierarchy[0][:, 3].tolist()
    outer = [c for c, parent in zip(contours, parents, strict=True) if parent < 0]
    # Holes big enough to be a loop, not a pinhole in a marker's stroke.
    least = 0.004 * binary.shape[0] * binary.shape[1]
    holes = sum(
        1 for c, parent in zip(contours, parents, strict=True) if parent >= 0 and cv2.contourArea(c) >= least
    )
    points = np.concatenate(outer) if len(outer) > 1 else outer[0]
    hull_area = float(cv2.contourArea(cv2.convexHull(points)))
    (_, _), (rw, rh), _ = cv2.minAreaRect(points)
    elongation = max(rw, rh) / max(min(rw, rh), 1.0)
    area = float(cv2.countNonZero(binary))
    return Shape(_stroke(area, contours), area / max(hull_area, 1.0), holes, elongation)


def valleys(dark: np.ndarray, paper: np.ndarray, radius: int) -> np.ndarray:
    """Pixels darker than the brightest pixel on both sides of them, within ``radius``, across
    or along: a stroke is, the dark side of a shadow's edge is not (beyond the edge it only
    gets darker, or stays as dark)."""
    size = radius + 1
    left = cv2.dilate(dark, np.ones((1, size), np.uint8), anchor=(radius, 0))
    right = cv2.dilate(dark, np.ones((1, size), np.uint8), anchor=(0, 0))
    up = cv2.dilate(dark, np.ones((size, 1), np.uint8), anchor=(0, radius))
    down = cv2.dilate(dark, np.ones((size, 1), np.uint8), anchor=(0, 0))
    rim = np.maximum(np.minimum(left, right), np.minimum(up, down)).astype(np.float32)
    depth = paper - dark.astype(np.float32)
    return np.asarray(rim - dark >= 0.4 * np.maximum(depth, 1.0))


@dataclass
class _Rings:
    """The pixels 2-3 px around each part, inside ``box``: each belongs to the (largest)
    label within reach (``owner``)."""

    box: tuple[slice, slice]
    ring: np.ndarray  # bool, in the box
    owner: np.ndarray  # intp, per ring pixel
    count: int
    inside: np.ndarray  # bool, in the box: the parts' pixels ...
    members: np.ndarray  # ... and their labels
    area: np.ndarray  # per part, its pixels (at least 1)
    total: np.ndarray  # per part, its ring pixels (at least 1)

    @classmethod
    def around(cls, labels: np.ndarray, stats: np.ndarray) -> _Rings | None:
        """The rings around the parts ``labels`` holds (``stats``: theirs, as ``components``
        gives them)."""
        count = len(stats)
        if count < 2:
            return None
        # The box around the ink (``ink_box``), the ring reaching 3 px out, from the parts'
        # boxes: no mask and no bounding rectangle of the whole frame (0.015 ms at 320x240).
        left, top = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
        right, bottom = left + stats[1:, cv2.CC_STAT_WIDTH], top + stats[1:, cv2.CC_STAT_HEIGHT]
        h, w = labels.shape
        box = (
            slice(max(0, int(top.min()) - 3), min(h, int(bottom.max()) + 3)),
            slice(max(0, int(left.min()) - 3), min(w, int(right.max()) + 3)),
        )
        inside = labels[box] > 0
        mask = inside.view(np.uint8)
        ring = (
            cv2.subtract(
                cv2.dilate(mask, np.ones((7, 7), np.uint8)), cv2.dilate(mask, np.ones((3, 3), np.uint8))
            )
            > 0
        )
        if count == 2:  # one part owns every ring pixel: no labels to spread (0.008 ms)
            owner = np.ones(np.count_nonzero(ring), np.intp)
        else:
            owner = cv2.dilate(
                labels[box].astype(np.uint16 if count < 65536 else np.float32, copy=False),
                np.ones((7, 7), np.uint8),
            )[ring].astype(np.intp)
        return cls(
            box,
            ring,
            owner,
            count,
            inside,
            labels[box][inside],
            np.maximum(stats[:, cv2.CC_STAT_AREA], 1),
            np.maximum(np.bincount(owner, minlength=count), 1),
        )

    def share(self, flag: np.ndarray) -> np.ndarray:
        """Per part, the share of its ring pixels whose ``flag`` (per ring pixel) is set."""
        return np.asarray(
            np.bincount(self.owner, weights=flag, minlength=self.count) / self.total, np.float32
        )

    def brighter(self, dark: np.ndarray, paper: np.ndarray) -> np.ndarray:
        """``edge_support`` against ``paper``."""
        dark, paper = dark[self.box], paper[self.box]
        ink = np.bincount(self.members, weights=dark[self.inside], minlength=self.count) / self.area
        # Halfway from the part's ink to the paper where the ring pixel is (a digit crossing
        # a shadow's edge has bright paper on one side and shaded paper on the other).
        return self.share(dark[self.ring] >= 0.5 * (ink[self.owner] + paper[self.ring]))


def edge_support(labels: np.ndarray, stats: np.ndarray, dark: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Per component (``labels``, ``stats``: as ``components`` gives them): the share of the
    pixels just around it that are clearly brighter.

    Ink is darker than everything around it. The paper's brightness estimate also calls
    dark things "ink" when they are merely narrower than its window (the tip of a cast
    shadow, a strip of table at the frame); such a region fades into surroundings just as
    dark as itself on at least one side. Looking 2-3 pixels outside the part, rather than
    at the slope of its edge, keeps this true for blurred photos and hairlines.
    """
    rings = _Rings.around(labels, stats)
    return np.zeros(len(stats), np.float32) if rings is None else rings.brighter(dark, paper)


def _faint_and_soft(
    labels: np.ndarray, stats: np.ndarray, ink: InkMap, among: np.ndarray, off_page: np.ndarray | None
) -> np.ndarray:
    """Of the parts ``among`` (bool per part), those that look like a cast shadow's: faint,
    soft-edged, and reaching the page's edge or a wider shadow the paper's estimate follows
    (see ``SHADOW_TALL``)."""
    faint = np.zeros(len(among), bool)
    h, w = labels.shape
    page = float(np.max(ink.paper[::4, ::4]))
    for i in np.flatnonzero(among).tolist():
        x, y, pw, ph = stats[i, :4].tolist()
        box = (slice(max(0, y - 4), min(h, y + ph + 4)), slice(max(0, x - 4), min(w, x + pw + 4)))
        part = (labels[box] == i).view(np.uint8)
        darkness = np.cumsum(cv2.calcHist([ink.dark[box]], [0], part, [256], [0, 256]).ravel())
        if np.searchsorted(darkness, darkness[-1] / 2) < (1.0 - FAINT_SHADOW) * page:
            continue  # its median as dark as ink (most parts: a digit in dark ink)
        dark = ink.dark[box].astype(np.float32)
        grown = cv2.dilate(part, np.ones((3, 3), np.uint8)) > 0
        edge = grown & (cv2.erode(part, np.ones((3, 3), np.uint8)) == 0)
        slope = cv2.magnitude(cv2.Sobel(dark, cv2.CV_32F, 1, 0), cv2.Sobel(dark, cv2.CV_32F, 0, 1)) / 8.0
        depth = float(np.mean(ink.paper[box][part > 0] - dark[part > 0]))
        if float(np.median(slope[edge])) > SOFT_EDGE * max(depth, 1.0):
            continue  # sharp-edged: strokes
        # (Never empty: only parts with edge support, which needs a ring around them, get here.)
        around = ink.paper[box][(cv2.dilate(part, np.ones((9, 9), np.uint8)) > 0) & (part == 0)]
        faint[i] = (off_page is not None and bool(off_page[box][grown].any())) or float(
            np.percentile(around, 5)
        ) <= (1.0 - SHADOW_DEPTH) * float(np.percentile(around, 95))
    return faint


def _inside_shadows(
    mask: np.ndarray,
    labels: np.ndarray,
    stats: np.ndarray,
    shaded: np.ndarray,
    faint: np.ndarray,
    ink: InkMap,
    widened: bool,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The parts ``shaded`` (fading into their surroundings) and ``faint`` (a shadow's, see
    ``SHADOW_TALL``; bool per part) cut into the ink in them against the paper followed into
    cast shadows, and the shadow around it, which becomes parts of its own, with no support
    (see ``SHADOW_WIDTH``): the new count, labels, stats and edge support."""
    h, w = mask.shape
    shadows = in_shadows(ink, max(5, int(SHADOW_WIDTH * min(h, w)) // 2 * 2 + 1))
    strokes = shadows.ink
    if widened:  # a hairline's mask, widened by a pixel to bridge its gaps (``find_digits``)
        strokes = cv2.dilate(strokes.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    wide = (mask > 0) & ~strokes
    if faint.any():
        wide_area = np.bincount(labels[wide], minlength=len(faint))
        faint = faint & (wide_area >= WIDE_SHARE * stats[:, cv2.CC_STAT_AREA])
    shadow = (shaded | faint)[labels] & wide
    kept = np.where(shadow, np.uint8(0), mask)
    count, labels_kept, stats = components(kept)
    rings = _Rings.around(labels_kept, stats)
    support = np.zeros(count, np.float32) if rings is None else rings.brighter(ink.dark, ink.paper)
    if rings is not None:
        # Each piece lies inside one part it was cut from.
        inside = labels_kept > 0
        was = np.zeros(count, np.intp)
        was[labels_kept[inside]] = labels[inside]
        of_shaded, of_faint = shaded[was], faint[was]
        of_shaded[0] = of_faint[0] = False
        if of_shaded.any() or of_faint.any():
            area = np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
            darker = (
                np.bincount(labels_kept[inside], weights=shadows.contrast[inside], minlength=count) / area
            )
            seeded = darker >= ink.high
            in_shadow = _in_cast_shadow(labels_kept, stats, rings, shadows, ink, seeded)
            support = np.where(of_shaded, in_shadow, support)
            support = np.where(of_faint, np.where(seeded, np.maximum(support, in_shadow), 0.0), support)
            support = support.astype(np.float32)
    # The shadow itself: parts of its own, no ink.
    n, shadow_labels, shadow_stats = components(shadow.view(np.uint8) * np.uint8(255))
    labels_all = np.where(shadow, shadow_labels.astype(np.int32) + (count - 1), labels_kept.astype(np.int32))
    stats = np.vstack([stats, shadow_stats[1:]])
    return count + n - 1, labels_all, stats, np.concatenate([support, np.zeros(n - 1, np.float32)])


def _in_cast_shadow(
    labels: np.ndarray, stats: np.ndarray, rings: _Rings, shadows: InShadows, ink: InkMap, seeded: np.ndarray
) -> np.ndarray:
    """Per part, its edge support against the paper in cast shadows when it is a digit in
    one (see ``SHADOW_DEPTH``; ``seeded``: as dark against that paper as a stroke's seed),
    else 0."""
    h, w = labels.shape
    deep = (shadows.paper < (1.0 - SHADOW_DEPTH) * ink.paper).view(np.uint8)
    _, regions, sizes = components(deep * np.uint8(255))
    large = sizes[:, cv2.CC_STAT_AREA] >= CAST_SHADOW * h * w
    large[0] = False
    digit = (
        seeded
        & (rings.share(large[regions[rings.box][rings.ring]]) >= IN_SHADOW)
        & (stats[:, cv2.CC_STAT_WIDTH] >= SHADOW_LINE * stats[:, cv2.CC_STAT_HEIGHT])
    )
    return np.where(digit, rings.brighter(ink.dark, shadows.paper), 0.0).astype(np.float32)


def find_digits(
    mask: np.ndarray,
    surroundings: InkMap | None = None,
    frame: bool = False,
    row: tuple[float, float] | None = None,
    bridge: bool = True,
    shapeless_below: float = 0.0,
    off_page: np.ndarray | None = None,
) -> Layout:
    """The digits in an ink mask.

    ``surroundings`` (the ink map the mask is from: the image with dark ink, and its
    paper's brightness): parts not
    darker than what is around them are dropped (see ``edge_support``). ``frame``: the
    mask's border is a photo's frame, so things lying along it (a table's edge) and small
    marks near it are not digits, and only the main row of digits is kept. ``row`` (top,
    bottom): where the digits were found, in a region cut from the photo; groups mostly
    outside that band are not digits. ``bridge``: a hairline's ink breaks up where the pen
    barely touched, so when the strokes are that thin they are widened by a pixel first and
    the pieces of one digit stay one part; unless that leaves no digit at all (a digit a few
    pixels tall becomes a blob). ``shapeless_below``: parts shorter than this (px) hold
    too few pixels to be judged by their shape (a small digit's loops blur shut); they are
    kept, for a closer look at a sharper image when there is one. ``off_page`` (bool): a
    photo's desk around its page (``photo_page``), whose edge cuts parts as the frame does.
    """
    # (An empty mask's stroke width is 0, any ink's more.)
    if bridge and 0.0 < stroke_width(mask) < HAIRLINE_PX:
        bridged = np.asarray(cv2.dilate(mask, np.ones((3, 3), np.uint8)))
        layout = find_digits(bridged, surroundings, frame, row, False, shapeless_below, off_page)
        if layout.digits:
            return layout
    h, w = mask.shape
    short = min(h, w)
    count, labels, stats = components(mask)
    speck = max(3, round((0.005 * short) ** 2))
    whole_photo = frame
    support = None
    if surroundings is not None:
        dark, paper = surroundings.dark, surroundings.paper
        support = edge_support(labels, stats, dark, paper)
        # A digit touching a shadow's edge is one part with the strip of "ink" along the
        # edge: keep only its pixels that lie in a valley, darker than both sides.
        doubtful = (support < VALLEY_BELOW) & (stats[:, cv2.CC_STAT_AREA] >= speck)
        doubtful[0] = False
        if doubtful.any():
            keep = valleys(dark, paper, radius=max(3, round(0.06 * short)))
            mask = np.where(doubtful[labels] & ~keep, np.uint8(0), mask)
            count, labels, stats = components(mask)
            support = edge_support(labels, stats, dark, paper)
        if frame and not surroundings.light_ink:
            # A digit in a cast shadow, and a shadow's fingers (see ``SHADOW_WIDTH``; light
            # writing on a dark surface has none, and its scenes' bright things are no shadows).
            big = stats[:, cv2.CC_STAT_AREA] >= speck
            big[0] = False
            shaded = big & (support < MIN_EDGE_SUPPORT)
            tall = big & ~shaded & (stats[:, cv2.CC_STAT_HEIGHT] >= SHADOW_TALL * short)
            faint = _faint_and_soft(labels, stats, surroundings, tall, off_page) if tall.any() else tall
            if shaded.any() or faint.any():
                # (``bridge`` is False only for the widened mask of a hairline: see above.)
                count, labels, stats, support = _inside_shadows(
                    mask, labels, stats, shaded, faint, surroundings, widened=not bridge
                )
    if whole_photo:
        # How many of each part's pixels lie in a band along the frame.
        band = max(2, round(FRAME_BAND * short))
        # Only a part whose box reaches into the band has pixels there: for a digit in the
        # middle of a photo, nothing to count.
        left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
        reaches = (left < band) | (top < band) | (right > w - band) | (bottom > h - band)
        near_frame = np.zeros(count, np.intp)
        if reaches[1:].any():
            along = np.concatenate(
                [
                    labels[:band].ravel(),
                    labels[-band:].ravel(),
                    labels[band:-band, :band].ravel(),
                    labels[band:-band, -band:].ravel(),
                ]
            )
            near_frame = np.bincount(along, minlength=count)
    layout = Layout([], labels, [], off_page)
    parts: list[Part] = []
    for i in range(1, count):
        x, y, pw, ph, area = stats[i].tolist()
        part = Part(x, y, pw, ph, area, [i])
        if part.area < speck:
            continue
        # Ink meets the frame where a stroke is cut; something lying along the frame (a
        # table's edge, a shadow) has nearly all of itself there.
        if whole_photo and near_frame[i] > 0.7 * part.area:
            layout.rejected.append((part, ALONG_FRAME))
            continue
        if support is not None and support[i] < MIN_EDGE_SUPPORT:
            layout.rejected.append((part, SHADOW))
            continue
        # Before grouping too: a small digit beside the line would be grouped with it.
        if whole_photo and _across_page(part, layout):
            layout.rejected.append((part, LINE_ACROSS))
            off = _off_the_line(part, labels, count, speck)
            parts += off
            count += len(off)
            continue
        parts.append(part)
    if not parts:
        return layout
    dots = [p for p in parts if max(p.w, p.h) <= DOT_SIDE * short and p.area >= DOT_FILL * p.w * p.h]
    if len(dots) >= DOT_GRID and len(dots) >= DOT_SHARE * len(parts):
        # Dotted paper (a bullet journal's): grouped, its dots chained into one part as
        # big as the page, read as an "8" around the digit (session 24).
        for dot in dots:
            parts.remove(dot)
            layout.rejected.append((dot, PAPER_DOT))
    rings = _drawn_around(parts, labels)
    for ring in rings + [box for box in _printed_boxes(parts, labels) if box not in rings]:
        held = _held_by(ring, labels, count, speck)
        if ring not in rings and not held and not _empty(ring, labels):
            continue  # a digit filling its box, as tall as its inside: read with the box
        parts.remove(ring)
        layout.rejected.append((ring, DRAWN_AROUND))
        parts += held
        count += len(held)
    for part in [p for p in parts if p.w >= p.h >= MIN_LINE_DIGIT and len(parts) <= MAX_PARTS]:
        found = _line_under(part, parts, labels, count, speck)
        if found is not None:
            line, rest = found
            parts.remove(part)
            parts += rest
            layout.rejected.append((line, LINE_UNDER))
            count += 1 + len(rest)
    min_height = max(5, round(0.02 * short))
    blobs: list[Part] = []
    # Before grouping: its printed number would be grouped with the bars above it.
    _drop_barcode(parts, layout)
    if whole_photo:
        # Before grouping too: a pen's long box would take in the digits beside it.
        _drop_rods(parts, layout, min_height)
    groups = group_parts(parts)
    while groups:
        g = groups.pop(0)
        if row is not None and min(g.y1, row[1]) - max(g.y, row[0]) < 0.5 * g.h:
            layout.rejected.append((g, "outside the row of digits"))
            continue
        if row is not None and g.w < ROW_LINE_WIDTH * g.h and g.h > ROW_SLIVER * (row[1] - row[0]):
            layout.rejected.append((g, TALLER_LINE))
            continue
        reason = _not_a_digit(g, layout, min_height, whole_photo, shapeless_below)
        if reason == FILLED_SHAPE:
            g.filled = True
            blobs.append(g)
        elif reason:
            layout.rejected.append((g, reason))
            if reason == LINE_ACROSS and len(g.labels) > 1:
                # Across the page only once grouped: a line cut short (by a finger's
                # shadow) with ruling stuck to it, and more ruling below; a digit within
                # the box of the line and that ruling was grouped with them. What stands
                # off the group's longest part is judged apart.
                off = _off_the_line(g, labels, count, speck, GROUPED_PIECE)
                count += len(off)
                groups += group_parts(off)
        else:
            layout.digits.append(g)
    _keep_digits_of_the_row(layout, (h, w), whole_photo, row is None)
    if not layout.digits:
        # Blobs alone: judged where they lie as digits are (a pebble at the frame is a mark).
        layout.digits, blobs = blobs, []
        _keep_digits_of_the_row(layout, (h, w), whole_photo, row is None)
    # Beside digits, a blob has no say in which row they are or how tall: a dark thing on the
    # page would win the row. It joins them only within their row and at about their height.
    edge = _page_edge(layout) if blobs else None
    for g in blobs:
        if _in_row_of(g, layout.digits) and not (whole_photo and _cut(g, layout, (h, w), edge)):
            layout.digits.append(g)
        else:
            layout.rejected.append((g, FILLED_SHAPE))
    layout.digits.sort(key=lambda g: g.x + g.w / 2)
    return layout


def _keep_digits_of_the_row(
    layout: Layout, shape: tuple[int, int], whole_photo: bool, at_frame: bool
) -> None:
    """Drop lines far taller than the digits, marks at the frame, a lone dash and other
    lines of writing (in a photo), slivers at the frame off the digits' row (in an image
    with a flat background whose border is its frame: ``at_frame``), and parts much smaller
    than the digits."""
    if whole_photo:
        # The lines first: one chained rows of writing into one, and was the height a part
        # cut by the frame was measured against.
        _drop_taller_lines(layout, shape)
        _drop_edge_marks(layout, shape)
        _drop_lone_dash(layout, shape)
        _keep_main_row(layout)
    elif at_frame:
        _drop_slivers_at_frame(layout, shape)
    if layout.digits:
        tallest = max(g.h for g in layout.digits)
        for g in [g for g in layout.digits if g.h < SMALLER_THAN_DIGITS * tallest]:
            layout.digits.remove(g)
            layout.rejected.append((g, MUCH_SMALLER))


BARCODE_BARS = 8  # a barcode: at least this many bars (a number is at most 6 digits), ...
BAR_FILL = 0.5  # ... each filling this share of its smallest rectangle (a thin bar's steps: 0.55-0.9), ...
BAR_LENGTHS = 0.05  # ... as long as their median within this share of it, ...
BAR_PITCH = 0.25  # ... and this share of it apart, centre to centre (a barcode's: 0.05-0.2; so thin)
BARCODE = "a barcode"


def _drop_barcode(parts: list[Part], layout: Layout) -> None:
    """A barcode's bars were read as a row of sure 1s. Handwritten 1s in a row are never
    as many, as alike and as close together as its bars: where there are enough of those,
    they, and what lies in their columns just above and below them (the printed number),
    are no digits."""
    if len(parts) < BARCODE_BARS:
        return
    bars: list[tuple[Part, float]] = []
    for g in [g for g in parts if max(g.w, g.h) >= 2 * min(g.w, g.h)]:  # (a bar's box is long)
        pixels = cv2.findNonZero(layout.mask_of(g).view(np.uint8))
        sides = cv2.minAreaRect(pixels)[1]
        # Pixel centres: a bar's rectangle is a pixel short of its box each way.
        length, width = max(sides) + 1, min(sides) + 1
        if g.area >= BAR_FILL * length * width:
            bars.append((g, length))
    if len(bars) < BARCODE_BARS:
        return
    typical = float(median(length for _, length in bars))
    alike = [g for g, length in bars if abs(length - typical) <= BAR_LENGTHS * typical]
    if len(alike) < BARCODE_BARS:
        return
    middles = sorted(g.x + g.w / 2 for g in alike)
    if (middles[-1] - middles[0]) / (len(alike) - 1) > BAR_PITCH * typical:
        return
    bar_ids = {id(g) for g, _ in bars}
    x0, x1 = min(g.x for g in alike), max(g.x1 for g in alike)
    y0, y1 = min(g.y for g in alike), max(g.y1 for g in alike)
    reach_x, reach_y = 0.1 * (x1 - x0), 0.5 * (y1 - y0)
    for g in list(parts):
        middle = g.x + g.w / 2
        # Just beyond its ends, only bars (an EAN's longer guards) and what lies above or
        # below them (its first digit): a digit written beside them is no part of it.
        off_the_bars = g.y >= y1 - 0.25 * (y1 - y0) or g.y1 <= y0 + 0.25 * (y1 - y0)
        beyond = x0 - reach_x <= middle <= x1 + reach_x and (off_the_bars or id(g) in bar_ids)
        across = x0 <= middle <= x1 or beyond
        if across and y0 - reach_y <= g.y and g.y1 <= y1 + reach_y:
            parts.remove(g)
            layout.rejected.append((g, BARCODE))


# A pen or pencil lying on the page is a straight bar (filling at least this share of its
# smallest rotated rectangle, at least this many times as long as its mean width) ...
ROD_FILL = 0.5
ROD_ELONGATION = 8.0
ROD_LENGTH = 0.2  # ... and at least this share of the short side long (a pen is a hand's length)
# ... as many times as long as every other part is long (its long side) as a digit is taller
# than parts much smaller than the digits (``SMALLER_THAN_DIGITS``), one of those at least
# this share of its length, no short dash (``STRAY_DASH``: writing, not specks or a tap of
# the pen) and no flat dash (at most ``ROD_DASH`` times as wide as tall): it won the row as
# a sure "1", the number left out as much smaller, or its box took in the digits beside it
# when grouped. A 1 of the number is about as tall as its other digits; a 1 far taller than
# everything else on the page stays when nothing but specks or a dash lies beside it (a
# review's "-1", "+1", 1s underlined or with a foot: 13 of 70 were "no digit" until flat
# dashes were left out of its company). Session 39, a helper's 220 photos of pages with a
# pen, a pencil, fingers, a clip, a ruler or an eraser on them.
ROD_LONGER = 1 / SMALLER_THAN_DIGITS
ROD_COMPANY = 0.1
ROD_DASH = 2.5
ROD = "a pen or a rod, far longer than the writing"


def _drop_rods(parts: list[Part], layout: Layout, min_height: int) -> None:
    """Move to ``rejected`` straight bars far longer than every other part (``ROD_LONGER``):
    a pen lying beside the digits; the longest first, while there is one."""
    short = min(layout.labels.shape)
    lengths: dict[int, tuple[float, bool]] = {}  # by the part's first label: measured once

    def measure(g: Part) -> tuple[float, bool]:
        """The part's length (its box's long side, a rod's own) and whether it is a rod."""
        if g.labels[0] not in lengths:
            lengths[g.labels[0]] = (float(max(g.w, g.h)), False)
            # (A rectangle's long side is at most its box's diagonal: no rod otherwise.)
            if 2 * max(g.w, g.h) ** 2 >= ROD_ELONGATION * g.area:
                sides = cv2.minAreaRect(cv2.findNonZero(layout.mask_of(g).view(np.uint8)))[1]
                # Pixel centres: a bar's rectangle is a pixel short of its box each way.
                long, across = max(sides) + 1, min(sides) + 1
                if g.area >= ROD_FILL * long * across and long * long >= ROD_ELONGATION * g.area:
                    lengths[g.labels[0]] = (long, True)
        return lengths[g.labels[0]]

    while len(parts) > 1:
        rods = [g for g in parts if measure(g)[1]]
        if not rods:
            return
        rod = max(rods, key=lambda g: measure(g)[0])
        length = measure(rod)[0]
        others = max(measure(g)[0] for g in parts if g is not rod)
        company = max((measure(g)[0] for g in parts if g is not rod and g.w <= ROD_DASH * g.h), default=0.0)
        if (
            length < ROD_LENGTH * short
            or others * ROD_LONGER > length
            or company < max(ROD_COMPANY * length, STRAY_DASH * short, min_height)
        ):
            return
        parts.remove(rod)
        layout.rejected.append((rod, ROD))


def beside_a_barcode(layout: Layout) -> bool:
    """Whether a barcode was dropped (``_drop_barcode``): digits read beside it may hold a
    bar of it that was left (a longer one at its end), or lack a digit of a number written
    by it that stood in its columns and went with it."""
    return any(why == BARCODE for _, why in layout.rejected)


# A sliver at the frame is dropped beside a digit at least this share of its height: not
# beside a speck (see ``_drop_slivers_at_frame``), but beside a number a strip of desk far
# taller than it (at 0.45, a strip 2.2 times the number's height won the row as a "1" again
# and the number was left out as much smaller: a second review).
SLIVER_BESIDE = 0.25


def _drop_slivers_at_frame(layout: Layout, shape: tuple[int, int]) -> None:
    """Move to ``rejected`` the slivers (narrower than ``TALLER_ROW_WIDTH`` of their height)
    the frame cuts that lie in no row with the other digits: a page filling the frame, read
    as a flat background, with a strip of desk along its edge, read as a "1" above or below
    the number (session 34). A tight crop's 1 at the frame lies in the row of its number;
    and a 1 with only far smaller things off its row (a speck, a tap of the pen, under
    ``SLIVER_BESIDE`` of its height) stays: dropped, a speck was read in its place (review)."""
    slivers = [g for g in layout.digits if g.w < TALLER_ROW_WIDTH * g.h and _touches_border(g, shape)]
    others = [g for g in layout.digits if g not in slivers]
    for g in slivers:
        digits = [other for other in others if other.h >= SLIVER_BESIDE * g.h]
        if digits and not any(_one_row(g, other) for other in others):
            layout.digits.remove(g)
            layout.rejected.append((g, ALONG_FRAME))


def _one_row(a: Part, b: Part) -> bool:
    """Whether two parts overlap in height as digits of one row do (``_keep_main_row``)."""
    return min(a.y1, b.y1) - max(a.y, b.y) >= 0.3 * min(a.h, b.h)


# The tallest part of a photo's row, narrow (narrower than this share of its height), is a
# line when the parts under this share of its height are drawn thicker, its stroke less than
# this share of theirs (median): the edge of a notebook's page, its spine. It won the row as
# a "1", and the number beside it was left out as much smaller (session 32). Under this many
# times as tall as the digits left, it may have been a tall 1 in a thinner pen: the answer
# is "not sure" (``pieces_left_out``).
TALLER_LINE_SHAPE = 0.5
TALLER_LINE_HEIGHT = 0.6
TALLER_LINE_STROKE = 0.7
TALLER_LINE_SURE = 2.2
TALLER_LINE = "a line far taller than the digits"
# A thin line cut by the side of a region read closer (``preprocess.SIDE_THIN_STROKE``) at
# least this share of the digits' (median) height may have been a faint 1 of the number: the
# answer is "not sure" too (``pieces_left_out``).
THIN_SIDE_SURE = 0.8
THIN_SIDE_LINE = "a thin line at the side of the region"


def _drop_taller_lines(layout: Layout, shape: tuple[int, int]) -> None:
    """Move to ``rejected`` the tallest of the digits while it is such a line (see
    ``TALLER_LINE_STROKE``)."""
    strokes: dict[int, float] = {}  # by the part's first label: each measured once

    def stroke(g: Part) -> float:
        if g.labels[0] not in strokes:
            strokes[g.labels[0]] = stroke_width(layout.mask_of(g))
        return strokes[g.labels[0]]

    # Not against what the frame cuts, nor small marks near it (judged after: see
    # ``_drop_edge_marks``): a piece of desk or shadow there took a lone 1 for a line.
    digits = [
        g for g in layout.digits if not _touches_border(g, shape) and not _small_mark_at_frame(g, shape)
    ]
    while len(layout.digits) > 1:
        tallest = max(layout.digits, key=lambda g: g.h)
        smaller = [g for g in digits if g.h < TALLER_LINE_HEIGHT * tallest.h]
        if not smaller or tallest.w >= TALLER_LINE_SHAPE * tallest.h:
            return
        if stroke(tallest) >= TALLER_LINE_STROKE * float(median(stroke(g) for g in smaller)):
            return
        layout.digits.remove(tallest)
        layout.rejected.append((tallest, TALLER_LINE))


# Pieces left out as too small beside the digits read, in their row, at least this share of
# their (median) height, one above the other over at least this share of it: a stroke broken
# apart (glare washing out a 1's middle, a flash's hot spot), a digit that may be missing.
LEFT_OUT_PIECE = 0.15
LEFT_OUT_SPAN = 0.5
# Or parts left out as much smaller than the digits, or as a dash, at least this share of
# their height tall and together at least this share of it wide: lowercase letters after a
# capital ("Anna" read as a sure "4", its "nna" a flat dash or three small parts), or the
# digits of a number written smaller than a mark read beside them. Session 26, a helper's
# handwriting-font words: 8 of 22 answered wrong without "not sure" are now "not sure"; the
# helpers' phone photos and photos of other surfaces, 5 more (a sure "1" of a margin line or
# a sticky note's edge beside the number left out); no other answer changed on any set.
WRITING_PIECE = 0.3
WRITING_WIDTH = 0.5


def pieces_left_out(layout: Layout) -> bool:
    """Whether parts left out beside the digits could be a digit of the row, broken apart
    (see ``LEFT_OUT_PIECE``), writing smaller than them (``WRITING_PIECE``), or a tall 1
    taken for a line (``TALLER_LINE_SURE``), or a faint one at the side of a region read
    closer (``THIN_SIDE_SURE``): then the answer may lack a digit, or be no number at all."""
    if not layout.digits:
        return False
    # (The stdlib's median of a short list: numpy's costs 0.01 ms, and gives the same.)
    height = float(median(g.h for g in layout.digits))
    top, bottom = min(g.y for g in layout.digits), max(g.y1 for g in layout.digits)
    left, right = min(g.x for g in layout.digits), max(g.x1 for g in layout.digits)
    beside = [
        (g, why)
        for g, why in layout.rejected
        if g.y < bottom and g.y1 > top and g.x1 > left - height and g.x < right + height
    ]
    tallest = max(g.h for g in layout.digits)
    if any(why == TALLER_LINE and g.h < TALLER_LINE_SURE * tallest for g, why in beside):
        return True  # perhaps a tall 1 in a thinner pen
    if any(why == THIN_SIDE_LINE and g.h >= THIN_SIDE_SURE * height for g, why in beside):
        return True  # perhaps a faint 1
    writing = [g for g, why in beside if why in (MUCH_SMALLER, DASH) and g.h >= WRITING_PIECE * height]
    if sum(g.w for g in writing) >= WRITING_WIDTH * height:
        return True
    pieces = [g for g, why in beside if why in (MUCH_SMALLER, TOO_SMALL) and g.h >= LEFT_OUT_PIECE * height]
    reach = 0.15 * height  # pieces of one stroke lie over each other, give or take a slant
    for g in pieces:
        column = [p for p in pieces if p.x <= g.x1 + reach and p.x1 >= g.x - reach]
        if max(p.y1 for p in column) - min(p.y for p in column) >= LEFT_OUT_SPAN * height:
            return True
    return False


def row_left_out(layout: Layout) -> bool:
    """Whether parts as tall as the digits, on their own line, were left out as another line
    of writing (``_keep_main_row``): farther off than a digit's height, as digits in a form's
    separate boxes are. The answer may lack digits of the number."""
    return any(why == OTHER_LINE and _in_row_of(g, layout.digits) for g, why in layout.rejected)


def _in_row_of(g: Part, digits: list[Part]) -> bool:
    """Whether ``g`` lies in the row of ``digits`` and is about as tall as they are."""
    if not digits:
        return False
    top, bottom = min(d.y for d in digits), max(d.y1 for d in digits)
    tallest = max(d.h for d in digits)
    in_row = min(g.y1, bottom) - max(g.y, top) >= 0.5 * g.h
    return in_row and SMALLER_THAN_DIGITS * tallest <= g.h <= tallest / SMALLER_THAN_DIGITS


def _drawn_around(parts: list[Part], labels: np.ndarray) -> list[Part]:
    """Parts drawn around others: a circle or box around the answer, which grouped with
    the digit inside it would be read as a 0. Such a part holds another part at least
    ``ENCLOSED_HEIGHT`` of its height wholly inside its box, has next to none of its own
    pixels over the middle of that part, as a ring has and a digit's strokes do not, and
    has ink beside it on at least three sides."""
    if len(parts) < 2 or len(parts) > MAX_PARTS:
        return []
    boxes = np.array([_box(p) for p in parts], np.int64)
    x, y, x1, y1, h = (boxes[:, k] for k in range(5))
    inside = (
        (x[None, :] > x[:, None])
        & (y[None, :] > y[:, None])
        & (x1[None, :] < x1[:, None])
        & (y1[None, :] < y1[:, None])
        & (h[None, :] >= ENCLOSED_HEIGHT * h[:, None])
        # A stroke at least 2 px wide: a one-pixel sliver left of a ruled line inside a
        # digit's loop is not what a ring is drawn around.
        & (np.array([p.area for p in parts])[None, :] >= 2 * h[None, :])
    )  # [i, j]: part j lies inside part i's box
    rings = []
    for i, j in zip(*np.nonzero(inside), strict=True):
        outer, inner = parts[i], parts[j]
        if outer in rings:
            continue
        # The middle of the inner part's box, where a ring has no ink but a digit would.
        mx, my = inner.w // 6, inner.h // 6
        own = outer.labels[0]
        middle = labels[inner.y + my : inner.y1 - my, inner.x + mx : inner.x1 - mx]
        if int(np.count_nonzero(middle == own)) > RING_OVERLAP * outer.area:
            continue
        # And it goes round: its ink to at least 3 of the 4 sides of what it holds (a ring
        # drawn by hand may stay open on one), where a 2's long base under the next digit
        # lies on one or two.
        cy, cx = inner.y + inner.h // 2, inner.x + inner.w // 2
        row, column = labels[cy, outer.x : outer.x1], labels[outer.y : outer.y1, cx]
        sides = (
            row[: inner.x - outer.x],
            row[inner.x1 - outer.x :],
            column[: inner.y - outer.y],
            column[inner.y1 - outer.y :],
        )
        if sum(bool((side == own).any()) for side in sides) >= 3:
            rings.append(outer)
    return rings


# A printed box (a form's field) is a closed outline with straight sides and sharp corners:
# it fills at least this share of its smallest rectangle (an ellipse fills 0.79, a 0 drawn
# squarish by hand less than a box), ...
BOX_FILL = 0.93
BOX_INK = 0.5  # ... with ink over at most this share of it (an outline, not a bar)
BOX_SIDE = 8  # px: and is at least this wide and tall, ...
BOX_ASPECT = 1.6  # ... and at most this many times as wide as tall or as tall as wide (one digit's box)


def _printed_boxes(parts: list[Part], labels: np.ndarray) -> list[Part]:
    """Parts that are a printed box, empty or with a digit written touching it: alone, a
    box is read as a 0, and with the digit as one part, as anything. Like a ring drawn
    around the digits, it is no digit (what it holds may be: ``_held_by``)."""
    boxes: list[Part] = []
    if len(parts) > MAX_PARTS:
        return boxes
    for part in parts:
        if min(part.w, part.h) < BOX_SIDE or max(part.w, part.h) > BOX_ASPECT * min(part.w, part.h):
            continue
        if part.x == 0 or part.y == 0 or part.x1 == labels.shape[1] or part.y1 == labels.shape[0]:
            continue  # the frame of a crop, or a digit filling it
        if _rectangular(part, labels):
            boxes.append(part)
    return boxes


def _rectangular(part: Part, labels: np.ndarray) -> bool:
    """Whether a part is a closed outline with straight sides and sharp corners, inked over
    little of it (``BOX_FILL``, ``BOX_INK``): a printed box, or a row of them."""
    own = (labels[part.y : part.y1, part.x : part.x1] == part.labels[0]).view(np.uint8)
    outline, _ = cv2.findContours(own, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    largest = max(outline, key=cv2.contourArea)
    (_, _), (rw, rh), _ = cv2.minAreaRect(largest)
    rectangle = rw * rh
    return (
        bool(rectangle)
        and part.area <= BOX_INK * rectangle
        and cv2.contourArea(largest) >= BOX_FILL * rectangle
    )


def _heights(inside: np.ndarray) -> np.ndarray:
    """How far each column of a mask (h, w) reaches, from its first pixel to its last."""
    rows = inside > 0
    filled = rows.any(axis=0)
    top = np.argmax(rows, axis=0)
    bottom = rows.shape[0] - np.argmax(rows[::-1], axis=0)
    return np.where(filled, bottom - top, 0)


PEEL_DEPTH = 2.0  # ring's stroke widths in from its outline: what lies deeper is held by it, ...
ACROSS_RING = 0.9  # ... unless it reaches this share of the way across the ring's inside


def _peeled(ring: Part, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A ring's pixels in its box (uint8), and the inside of its outline deeper than
    ``PEEL_DEPTH`` of its strokes (uint8)."""
    own = (labels[ring.y : ring.y1, ring.x : ring.x1] == ring.labels[0]).view(np.uint8)
    inside = np.zeros_like(own)
    # The hull bridges the gap a hand leaves in a ring; a ring is about convex.
    cv2.fillConvexPoly(inside, cv2.convexHull(cv2.findNonZero(own)), 1)
    depth = max(1, round(PEEL_DEPTH * stroke_width(own)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * depth + 1, 2 * depth + 1))
    return own, cv2.erode(inside, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0)


def _empty(ring: Part, labels: np.ndarray) -> bool:
    """Whether none of a ring's pixels lie well inside its outline (``_peeled``)."""
    own, core = _peeled(ring, labels)
    return not cv2.countNonZero(cv2.bitwise_and(own, core))


def _held_by(ring: Part, labels: np.ndarray, first_label: int, speck: int) -> list[Part]:
    """The pixels of a ring (``_drawn_around``) or a printed box (``_printed_boxes``) that lie
    well inside its outline: a digit drawn touching the ring around the number, or written
    touching its box, which is one part with it. They are given
    labels of their own from ``first_label`` on (in ``labels``) and returned as parts."""
    box = labels[ring.y : ring.y1, ring.x : ring.x1]
    own, core = _peeled(ring, labels)
    held = cv2.bitwise_and(own, core)
    if not held.any() or first_label + ring.area >= np.iinfo(labels.dtype).max:
        return []
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(held, connectivity=8)
    _, _, core_w, core_h = cv2.boundingRect(core)
    # A printed row of boxes may lie aslant: its dividers reach across its inside where
    # they stand, less far than across its box (a hand's ring is no such row: a digit run
    # into its narrow end would reach across it there).
    inside_height = _heights(core) if _rectangular(ring, labels) else None
    chosen = []
    for k in range(1, count):
        x, _, w, h, area = (int(v) for v in stats[k])
        # A piece reaching across the inside is the ring's own: a second turn round the
        # digits, or the dividers of a form's row of boxes.
        divider = inside_height is not None and w < h and h >= ACROSS_RING * inside_height[x + w // 2]
        if area >= speck and w < ACROSS_RING * core_w and h < ACROSS_RING * core_h and not divider:
            chosen.append(k)
    return _given_labels(box, pieces, stats, chosen, first_label, (ring.x, ring.y))


def _given_labels(
    box: np.ndarray,
    pieces: np.ndarray,
    stats: np.ndarray,
    chosen: Sequence[int],
    first_label: int,
    origin: tuple[int, int],
) -> list[Part]:
    """The ``chosen`` pieces (labels in ``pieces``, a part's box cut into them; their
    ``stats``) as parts of their own: labelled from ``first_label`` on in ``box`` (a view
    of the layout's labels whose top-left corner is at ``origin``)."""
    parts: list[Part] = []
    for k in chosen:
        x, y, w, h, area = (int(v) for v in stats[k])
        label = first_label + len(parts)
        box[pieces == k] = label
        parts.append(Part(origin[0] + x, origin[1] + y, w, h, area, [label]))
    return parts


LINE_SPAN = 1.2  # a line under digits is at least this many times as long as they are tall
LINE_THICKNESS = 0.3  # ... at most this share of their height thick
LINE_ALONE = 0.6  # ... has nothing above it over this share of its length (it runs under them)
MAX_LINE_SLOPE = 0.25  # ... and slants by at most 14 degrees
LINE_DIGIT = 0.4  # share of the tallest thing on a line: what is at least this tall is a digit
MIN_LINE_DIGIT = 24  # px: digits smaller than this are too coarse to tell a line under them from a stroke


def _line_under(
    part: Part, parts: list[Part], labels: np.ndarray, first_label: int, speck: int
) -> tuple[Part, list[Part]] | None:
    """A straight line along the bottom of a part, under at least two digits side by side
    (the answer underlined, the line run into by a digit's stroke; under one digit it may
    be a 2's base), as a part of its own, and what is left of the part above it in pieces;
    None when the part has no such line. ``parts``: all of them, the digits standing on the
    line apart from it among them. Labels from ``first_label`` on are given to the line and
    then to the pieces (in ``labels``)."""
    box = labels[part.y : part.y1, part.x : part.x1]
    own = box == part.labels[0]
    h, w = own.shape
    flipped = own[::-1]  # row 0 at the bottom
    columns = np.flatnonzero(own.any(axis=0))
    first = np.argmax(flipped, axis=0)  # ink's lowest row in each column, from the bottom
    # The run of ink up from there (the line's thickness, or more where a stroke meets it).
    rows = np.arange(h)[:, None]
    above = (~flipped) & (rows >= first[None, :])
    run = np.where(above.any(axis=0), np.argmax(above, axis=0), h) - first
    bottom = (h - 1 - first).astype(np.float32)
    vx, vy, x0, y0 = (
        float(v)
        for v in cv2.fitLine(
            np.column_stack([columns, bottom[columns]]).astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01
        ).ravel()
    )
    if abs(vx) < 1e-6 or abs(vy / vx) > MAX_LINE_SLOPE:
        return None
    slope = vy / vx
    fit = y0 + (np.arange(w) - x0) * slope  # the line's lower edge in each column
    on = np.zeros(w, bool)
    on[columns] = np.abs(bottom[columns] - fit[columns]) <= 2.0
    if on.sum() < 2:
        return None
    thickness = float(np.median(run[on]))
    # The longest stretch of columns along the line, over gaps no wider than it is thick.
    stretch_start = best_start = best_stop = -1
    last = -(10**9)
    for c in np.flatnonzero(on):
        if c - last > max(2.0, thickness) + 1:
            stretch_start = int(c)
        last = int(c)
        if last - stretch_start > best_stop - best_start:
            best_start, best_stop = stretch_start, last
    if best_start < 0:
        return None  # no two columns in a row along it: dots, not a line
    length = best_stop - best_start + 1
    span = slice(best_start, best_stop + 1)
    # The tallest thing above it (digits stand on a line that slants with the page).
    inked = own[:, span].any(axis=0)
    height = float(np.max((fit[span] - thickness + 1 - np.argmax(own[:, span], axis=0))[inked]))
    alone = float(np.mean(run[span][on[span]] <= thickness + 2))
    # Its left end free: a stroke coming down into it there is the line's own corner, a 2's
    # base (which may run on under the next digit).
    free = bool(np.all(run[best_start : best_start + max(1, round(thickness))] <= thickness + 2))
    if not (
        # Nothing of the part lies below it: a stroke that does crosses it (a 4's bar low
        # on its stem).
        np.all(bottom[columns] <= fit[columns] + 2.0)
        and free
        and height >= MIN_LINE_DIGIT
        and length >= LINE_SPAN * height
        and length >= 0.8 * w
        and thickness <= LINE_THICKNESS * height
        and alone >= LINE_ALONE
    ):
        return None
    # The line's pixels: a band from its lower edge up by its thickness, a pixel more each way.
    band = np.abs(rows - fit[None, :] + (thickness - 1) / 2) <= (thickness + 1) / 2 + 1
    reach = round(thickness)
    band[:, : max(0, best_start - reach)] = False
    band[:, best_stop + 1 + reach :] = False
    line_pixels = own & band
    rest = (own & ~band).view(np.uint8)
    if first_label + 1 + int(np.count_nonzero(rest)) >= np.iinfo(labels.dtype).max:
        return None
    ys, xs = np.nonzero(line_pixels)
    line = Part(
        part.x + int(xs.min()),
        part.y + int(ys.min()),
        int(np.ptp(xs)) + 1,
        int(np.ptp(ys)) + 1,
        int(xs.size),
        [first_label],
    )
    _, pieces, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    above = [Part(part.x + x, part.y + y, pw, ph, area) for x, y, pw, ph, area in stats[1:].tolist()]
    # What stands on it: the part's own pieces, and parts apart from it along its length.
    standing = [p for p in above if p.area >= speck] + [
        p
        for p in parts
        if p is not part
        and best_start <= (middle := round(p.x + p.w / 2) - part.x) <= best_stop
        # On the line: its foot above the line's lower edge there, by at most half a digit
        # more than the line is thick (not a line of writing further up).
        and 0 <= part.y + fit[middle] - p.y1 <= thickness + 0.5 * height
    ]
    if _side_by_side([p for p in standing if p.h >= LINE_DIGIT * height]) < 2:
        return None
    box[line_pixels] = first_label
    # (A speck stays the part's, which is no more.)
    chosen = [k for k, piece in enumerate(above, start=1) if piece.area >= speck]
    return line, _given_labels(box, pieces, stats, chosen, first_label + 1, (part.x, part.y))


def _side_by_side(parts: list[Part]) -> int:
    """How many digits ``parts`` are across: parts over each other (spans across that
    overlap by half the narrower one's width) are one."""
    count, reach, width = 0, -(10**9), 1
    for p in sorted(parts, key=lambda p: p.x):
        if reach - p.x < 0.5 * min(p.w, width):
            count += 1
            reach, width = p.x1, p.w
        elif p.x1 > reach:
            reach, width = p.x1, max(width, p.w)
    return count


def _keep_main_row(layout: Layout) -> None:
    """A number is written on one line: keep the row of digits holding the most ink.

    Neighbours (less than a digit's height apart) overlapping in height are on one line;
    chaining neighbours follows a line that slopes (a tilted photo), where the first and
    last digit no longer overlap. A mark far off to the side is not part of the number.
    """
    digits = layout.digits
    row_of = list(range(len(digits)))

    def root(i: int) -> int:
        while row_of[i] != i:
            i = row_of[i]
        return i

    for i, a in enumerate(digits):
        for j in range(i + 1, len(digits)):
            b = digits[j]
            close = max(a.x, b.x) - min(a.x1, b.x1) <= 1.2 * max(a.h, b.h)
            if close and _one_row(a, b):
                row_of[root(j)] = root(i)
    rows: dict[int, list[Part]] = {}
    for i, g in enumerate(digits):
        rows.setdefault(root(i), []).append(g)
    if len(rows) < 2:
        return
    main = max(rows.values(), key=lambda row: sum(g.area for g in row))
    # A row written far taller than every other is the photo's subject: a number under a
    # printed header or beside a date written small, whose many letters hold more ink.
    # (Not a lone sliver: the edge of the page, which a "1" alone would look like too.)
    height = {key: float(median(g.h for g in row)) for key, row in rows.items()}
    tallest = max(height, key=lambda key: height[key])
    slivers = all(g.w < TALLER_ROW_WIDTH * g.h for g in rows[tallest])
    if not slivers and all(height[tallest] >= TALLER_ROW * h for key, h in height.items() if key != tallest):
        main = rows[tallest]
    for g in [g for g in digits if g not in main]:
        layout.digits.remove(g)
        layout.rejected.append((g, OTHER_LINE))


def _touches_border(g: Part, shape: tuple[int, int]) -> bool:
    h, w = shape
    return g.x <= 1 or g.y <= 1 or g.x1 >= w - 1 or g.y1 >= h - 1


def _page_edge(layout: Layout) -> np.ndarray | None:
    """Where parts cut by the page's edge end: the desk off a photo's page, widened by a
    pixel (uint8); None without one."""
    off = layout.off_page
    return None if off is None else cv2.dilate(off.view(np.uint8), np.ones((3, 3), np.uint8))


def _at_page_edge(g: Part, layout: Layout, edge: np.ndarray | None) -> bool:
    """The part is cut by the page's edge (``edge``: ``_page_edge``): writing stays on its page."""
    return edge is not None and bool(edge[g.y : g.y1, g.x : g.x1][layout.mask_of(g)].any())


def _cut(g: Part, layout: Layout, shape: tuple[int, int], edge: np.ndarray | None) -> bool:
    """The part is cut by the frame, or by the page's edge (``edge``: ``_page_edge``)."""
    return _touches_border(g, shape) or _at_page_edge(g, layout, edge)


def _small_mark_at_frame(g: Part, shape: tuple[int, int]) -> bool:
    """A part under a tenth of the short side tall that comes within 8% of it to the frame."""
    short = min(shape)
    return _near_frame(g, shape, 0.08 * short) and g.h < 0.1 * short


def _near_frame(g: Part, shape: tuple[int, int], margin: float) -> bool:
    """The part comes closer than ``margin`` px to the frame on some side."""
    h, w = shape
    return g.x < margin or g.y < margin or g.x1 > w - margin or g.y1 > h - margin


def _drop_edge_marks(layout: Layout, shape: tuple[int, int]) -> None:
    """Small marks close to the frame are not what was photographed; parts cut by the frame
    are marks when the digits are not, unless they look like one more digit of the same
    row (a number running off the photo). So are parts cut by the page's edge on a desk:
    writing stays on its page, a pen or a finger's shading lying across the edge does not."""
    short = min(shape)
    edge = _page_edge(layout)
    for g in list(layout.digits):
        if _small_mark_at_frame(g, shape):
            layout.digits.remove(g)
            layout.rejected.append((g, EDGE_MARK))
    inside = [g for g in layout.digits if not _cut(g, layout, shape, edge)]
    if not inside:
        # Nothing lies wholly inside the photo: a part the frame cuts is a digit only in a
        # close-up of it; a smaller one is a piece of the table or a shadow at the frame. (A
        # close-up shows no desk around its page: a part its page's edge cuts is a pen.)
        close_ups = [
            g
            for g in layout.digits
            if g.h >= CLOSE_UP * short
            and not _thin_for_a_close_up(g, layout)
            and not _at_page_edge(g, layout, edge)
        ]
        for g in [g for g in layout.digits if g not in close_ups]:
            layout.digits.remove(g)
            layout.rejected.append((g, EDGE_MARK))
        return
    tallest = max(g.h for g in inside)
    # Specks left for a closer look do not mark where the row of digits runs.
    inside = [g for g in inside if g.h >= SMALLER_THAN_DIGITS * tallest]
    top = min(g.y for g in inside)
    bottom = max(g.y1 for g in inside)
    for g in [g for g in layout.digits if _cut(g, layout, shape, edge)]:
        in_row = min(g.y1, bottom) - max(g.y, top) >= 0.6 * min(g.h, bottom - top)
        # A number runs off the photo next to its other digits, not across bare paper.
        gap = min(max(g.x, d.x) - min(g.x1, d.x1) for d in inside)
        if not (in_row and 0.6 * tallest <= g.h <= 1.5 * tallest and gap <= 0.6 * tallest):
            layout.digits.remove(g)
            layout.rejected.append((g, EDGE_MARK))


def _thin_for_a_close_up(g: Part, layout: Layout) -> bool:
    """A part cut by the frame drawn too thin for a close-up's digit (``CLOSE_UP_STROKE``)."""
    form = shape_of(layout.mask_of(g))
    if form.holes:
        return False
    length = max(g.h, g.w)
    bar = g.w < CLOSE_UP_BAR * g.h
    return form.stroke < (CLOSE_UP_BAR_STROKE if bar else CLOSE_UP_STROKE) * length


STRAY_BAND = 0.15  # share of the short side: how far out towards the frame a lone dash is a mark
STRAY_DASH = 0.045  # ... when shorter than this share of the short side
DASH_ELONGATION = 3.5  # ... more than this many times as long as wide, and without a loop


def _drop_lone_dash(layout: Layout, shape: tuple[int, int]) -> None:
    """All a photo holds is a short bar well out towards its frame: a pen's dash at the
    page's edge, not a "1" (a digit photographed alone is the photo's subject)."""
    if len(layout.digits) != 1:
        return
    g = layout.digits[0]
    short = min(shape)
    if not _near_frame(g, shape, STRAY_BAND * short) or max(g.w, g.h) >= STRAY_DASH * short:
        return
    # Judged in the analysis image, where a small 2 or 9 is a few pixels thin and may be
    # elongated too: only a bar well beyond a digit's proportions is taken for a dash.
    form = shape_of(layout.mask_of(g))
    if form.elongation > DASH_ELONGATION and form.holes == 0:
        layout.digits.remove(g)
        layout.rejected.append((g, EDGE_MARK))


def _across_page(g: Part, layout: Layout) -> bool:
    """A photo's part from end to end of it (nearly), drawn thin for its length: a notebook's
    margin line (red, as dark as ink in grey), alone and so not taken for ruling; or a
    straight bar across most of it, thinner still (``ACROSS_PAGE_BAR``). A close-up's 1 is
    far thicker for its length."""
    h, w = layout.labels.shape
    span = max(g.h / h, g.w / w)
    length = max(g.h, g.w)
    bar = min(g.h, g.w) < CLOSE_UP_BAR * length
    if span < ACROSS_PAGE and not (bar and span >= ACROSS_PAGE_BAR):
        return False
    stroke = shape_of(layout.mask_of(g)).stroke
    return stroke < (PAGE_LINE_STROKE if span >= ACROSS_PAGE else PAGE_BAR_STROKE) * length


OFF_THE_LINE = 2.0  # line thicknesses: how far off a line across the page a piece reaches, at least
LINE_SHARE = 0.5  # ... of a part that is mostly line (this share of its pixels) ...
PIECE_OF_LINE = 0.5  # ... and no longer than this share of the line
# Parts grouped with such a line (a digit within the box of the line and ruling cut short
# that sticks to it): the line, their longest, holds at least this share of their pixels in
# its band (a mesh of leftover grid lines far less) ...
GROUP_LINE_SHARE = 0.25
GROUPED_PIECE = 0.25  # ... and what is given back is at most this share of the line long.
# Of a group, ink off the line's band running along it for at least this many of its
# thicknesses, within this many of them from it, is another line's piece (a double margin
# line's, broken): not given back, alone or with the ruling it touches (an L, a "1").
PARTNER_LINE = 5.0
PARTNER_NEAR = 4.0


def _off_the_line(
    line: Part, labels: np.ndarray, first_label: int, speck: int, longest: float = PIECE_OF_LINE
) -> list[Part]:
    """The pieces of a line across the page (``_across_page``) that stand off it, more than
    ``OFF_THE_LINE`` times as far as it is thick: a digit written across a notebook's margin
    line, or touching it, is one part with it, and was rejected with it. The strokes that
    cross the line keep its pixels between them (ink runs across it for longer than it is
    thick). Only of a part that is mostly a thin line (``LINE_SHARE``, ``PAGE_LINE_STROKE``),
    and only pieces between its ends, at most ``longest`` of its length. They are given
    labels of their own from ``first_label`` on (in ``labels``) and returned as parts; what
    is left keeps the line's label. Of a group of parts, the line is its longest part (see
    ``GROUP_LINE_SHARE``), and another line's pieces beside it are not given back
    (``PARTNER_LINE``)."""
    box = labels[line.y : line.y1, line.x : line.x1]
    grouped = len(line.labels) > 1
    own = np.isin(box, line.labels) if grouped else box == line.labels[0]
    if grouped:
        label, length = _longest(box, line.labels)
        along_line = box == label
    else:
        along_line, length = own, max(line.w, line.h)
    ys, xs = np.nonzero(along_line)
    points = np.column_stack([xs, ys]).astype(np.float32)
    vx, vy, x0, y0 = (float(v) for v in cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel())
    rows, columns = np.indices(own.shape, dtype=np.float32)
    distance = np.abs((columns - x0) * vy - (rows - y0) * vx)
    # Most of the part is line: a line's pixels lie evenly within half its thickness of its
    # middle, their median distance a quarter of it.
    thickness = max(1.0, 4.0 * float(np.median(distance[along_line])))
    band = distance <= thickness / 2 + 1.0
    if (
        thickness > PAGE_LINE_STROKE * length
        or np.count_nonzero(along_line & band) < LINE_SHARE * ys.size
        or np.count_nonzero(own & band) < GROUP_LINE_SHARE * np.count_nonzero(own)
    ):
        return []  # no line with writing on it: a network of lines, a coil, a page's edges
    # Where along the line each pixel lies: what stands off it does so between its ends (a
    # line turning a corner at its end is a frame's).
    along = (columns - x0) * vx + (rows - y0) * vy
    on_it = along[along_line & band]
    first, last = float(on_it.min()) + 2 * thickness, float(on_it.max()) - 2 * thickness
    across = round(thickness) + 3
    kernel = np.ones((1, across) if abs(vy) >= abs(vx) else (across, 1), np.uint8)
    crossing = cv2.morphologyEx(own.view(np.uint8), cv2.MORPH_OPEN, kernel) > 0
    rest = own & (~band | crossing)
    if grouped:
        # Another line's pieces beside it: runs along it, near it.
        near = ~band & (distance <= PARTNER_NEAR * thickness)
        run = max(3, round(PARTNER_LINE * thickness))
        lengthwise = np.ones((run, 1) if abs(vy) >= abs(vx) else (1, run), np.uint8)
        partner = cv2.morphologyEx((own & near).view(np.uint8), cv2.MORPH_OPEN, lengthwise) > 0
        rest &= ~partner
    rest = rest.view(np.uint8)
    if not rest.any() or first_label + int(np.count_nonzero(rest)) >= np.iinfo(labels.dtype).max:
        return []
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    reach = np.zeros(count, np.float32)
    lowest = np.full(count, np.inf, np.float32)
    highest = np.full(count, -np.inf, np.float32)
    inked = rest > 0
    np.maximum.at(reach, pieces[inked], distance[inked])
    np.minimum.at(lowest, pieces[inked], along[inked])
    np.maximum.at(highest, pieces[inked], along[inked])
    size = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    candidate = (stats[:, cv2.CC_STAT_AREA] >= speck) & (size <= longest * length)
    candidate &= (first <= lowest) & (highest <= last)
    candidate[0] = False
    standing = candidate & (reach >= OFF_THE_LINE * thickness + thickness / 2)
    return _given_labels(box, pieces, stats, np.flatnonzero(standing).tolist(), first_label, (line.x, line.y))


def _longest(box: np.ndarray, of: list[int]) -> tuple[int, int]:
    """Of the labels ``of`` in ``box``, the one whose pixels reach farthest, and how far
    (their box's longer side)."""
    reach = []
    for label in of:
        _, _, w, h = cv2.boundingRect((box == label).view(np.uint8))
        reach.append(max(w, h))
    best = int(np.argmax(reach))
    return of[best], reach[best]


def _not_a_digit(g: Part, layout: Layout, min_height: int, frame: bool, shapeless_below: float) -> str | None:
    if g.h < min_height:
        return TOO_SMALL
    if g.w > FLAT_LINE * g.h:
        return DASH
    h, w = layout.labels.shape
    if frame and g.area < 0.12 * g.w * g.h and g.w > 0.85 * w and g.h > 0.85 * h:
        return "a network of lines across the photo"  # the table all around a page, say
    if g.h < shapeless_below:
        # Too few pixels to tell a digit from a dot. (A drawing's or a crop's shapes are not
        # judged at all, ``inf``: a fat brush's small digit fills its loops in. But a round
        # dot is no more than a blob there either: a scan's punch hole was a sure "0".)
        return FILLED_SHAPE if shapeless_below == float("inf") and _dot(g, layout) else None
    shape = shape_of(layout.mask_of(g))
    if shape.stroke > 0.4 * max(g.h, g.w):
        return "a blob, not strokes"
    if frame and _across_page(g, layout):
        return LINE_ACROSS  # broken up: a double margin line's pieces, grouped
    if shape.holes > 4:  # an 8 has two; a mesh of lines has many
        return "a mesh of lines"
    return FILLED_SHAPE if _filled(g, layout, shape) else None


# A filled dot is at most this many times as long as wide: a punch hole measures 1.0. A fat
# brush's small digit, or a crop's blurred one, its loops filled in, is longer: a 0 whose
# hole closed 1.09-1.19 (a review: 3 such 0s lost at 1.2), and at 2.2 the UCI crops and
# drawings with a fat brush lost up to 3% of their digits.
DOT_ROUND = 1.05


def _dot(g: Part, layout: Layout) -> bool:
    """Whether a part is a round filled dot (``DOT_ROUND``, ``_filled``)."""
    shape = shape_of(layout.mask_of(g))
    # (Within a pixel: a dot 7 px wide measures 1.125.)
    return shape.elongation <= DOT_ROUND + 1 / min(g.w, g.h) and _filled(g, layout, shape)


def _filled(g: Part, layout: Layout, shape: Shape | None = None) -> bool:
    """Whether a part is a filled shape (``FILLED_SHAPE``). A "1" may be one solid bar,
    upright or slanted, and a marker's 7 nearly convex; a solid shape that is neither
    elongated like a bar nor drawn with strokes is a blob, unless it is pinched at the
    waist: a marker's 8 (or 9) whose loops filled in."""
    shape = shape_of(layout.mask_of(g)) if shape is None else shape
    return (
        shape.solidity > 0.9
        and shape.holes == 0
        and shape.elongation < 2.2
        and shape.stroke > 0.28 * max(g.h, g.w)
        and not pinched_waist(layout.mask_of(g))
    )


WAIST_DEPTH = 0.1  # share of the shape's width: how deep a notch on each side of a waist is
WAIST_MIDDLE = 0.25  # share of its length: how far from the middle the notches may lie ...
WAIST_LEVEL = 0.2  # ... and how far apart along it


def pinched_waist(mask: np.ndarray) -> bool:
    """Whether a solid shape is notched on both sides at about the same height near its
    middle, as the outline of two stacked loops is (a snowman), and a pebble is not."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return False
    outline = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(outline, returnPoints=False)
    try:
        defects = cv2.convexityDefects(outline, hull)
    except cv2.error:
        # An outline that touches itself (a diagonal neck traced both ways) can leave the
        # hull's points out of the outline's order, which OpenCV refuses; in order it takes.
        defects = cv2.convexityDefects(outline, np.sort(hull, axis=0))
    if defects is None:
        return False
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(outline)
    width, length = min(rw, rh), max(rw, rh)
    theta = np.deg2rad(angle if rw >= rh else angle + 90.0)
    along = np.array([np.cos(theta), np.sin(theta)])
    across = np.array([-along[1], along[0]])
    notches = []  # (position along the length, side) of each deep notch
    for _, _, deepest, depth in defects.reshape(-1, 4):
        if depth / 256.0 >= WAIST_DEPTH * width:  # OpenCV gives depths in 1/256 px
            offset = outline[deepest][0] - np.array([cx, cy])
            notches.append((float(offset @ along) / length, float(offset @ across)))
    return any(
        s1 * s2 < 0 and abs(t1) <= WAIST_MIDDLE and abs(t2) <= WAIST_MIDDLE and abs(t1 - t2) <= WAIST_LEVEL
        for i, (t1, s1) in enumerate(notches)
        for t2, s2 in notches[i + 1 :]
    )


MIN_TILT = 12.0  # degrees: a row of digits sloping more than this is also read turned level ...
MAX_TILT = 45.0  # ... up to this (steeper, it is no row: a column, or a digit's own pieces)
TILT_PARTS = 3  # ... when at least this many parts as tall as half the tallest lie along it ...
TILT_SPREAD = 0.35  # ... within this share of their height of one straight line ...
TILT_STEP = 2.0  # ... each the next's neighbour, this many heights apart at most
TILT_AT_MOST = 24  # parts: more is a page of writing, whose lines no one row runs through
TILT_PAIR = 0.8  # two such parts alone: two digits (not pieces of one) this many heights apart ...
TILT_PAIR_HEIGHTS = 0.7  # ... and this alike in height


def row_tilt(layout: Layout) -> tuple[float, bool]:
    """How far the row of digits slopes down to the right, in degrees: the angle to turn the
    image by (counter-clockwise as shown, as OpenCV's ``getRotationMatrix2D`` turns it) for
    the row to lie level, 0.0 when it is about level or not clearly a row; and whether, as
    it lies, it came apart the way a tilted row does.

    A photo turned 20-30 degrees raises each digit by about half its width over the one
    before it: one stands over its neighbour's foot and the two are grouped as one digit,
    or the rest of the row is taken for another line of writing. So the row is traced
    through the connected parts of the digits and of those other lines, which only a tilted
    row of single parts lines up; it came apart when two of those parts were grouped as one
    digit, or some were taken for another line. A row read whole may be tilted too, its
    digits leaning; or written climbing, its digits upright, which turned would lean. Two
    tall parts give a slope as uncertain as their shapes (a 7's centre lies high, a 2's
    low), and may be pieces of one digit (the halves of a broken 0, or two of a broken
    digit's dashes): they count only when they stand as far apart as two digits do and are
    alike in height, and are either the only parts there are or one was taken for another
    line, and they came apart only in the latter case."""
    things = layout.digits + [g for g, why in layout.rejected if why == OTHER_LINE]
    if not 2 <= sum(len(g.labels) for g in things) <= TILT_AT_MOST:
        return 0.0, False  # nothing to measure (a single digit: the bench's photo), or a page
    centres: list[tuple[float, float]] = []
    heights: list[int] = []
    owners: list[int] = []  # which of ``things`` each part is of
    for index, g in enumerate(things):
        crop = layout.labels[g.y : g.y1, g.x : g.x1]
        for label in g.labels:
            own = (crop == label).view(np.uint8)
            m = cv2.moments(own, binaryImage=True)
            if m["m00"] > 0:
                centres.append((g.x + m["m10"] / m["m00"], g.y + m["m01"] / m["m00"]))
                heights.append(cv2.boundingRect(own)[3])
                owners.append(index)
    tall = [k for k, h in enumerate(heights) if 2 * h >= max(heights, default=0)]
    if len(tall) < 2:
        return 0.0, False
    points = np.array([centres[k] for k in tall], np.float64)
    height = float(median(heights[k] for k in tall))
    centred = points - points.mean(axis=0)
    # The principal axis of the centres: the line they lie closest to.
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    along, across = centred @ axes[0], centred @ axes[1]
    slope = float(np.degrees(np.arctan2(axes[0][1], axes[0][0])))
    slope = (slope + 90.0) % 180.0 - 90.0  # the row's direction, left to right
    steps = np.diff(np.sort(along))
    if (
        not MIN_TILT <= abs(slope) <= MAX_TILT
        or float(np.abs(across).max()) > TILT_SPREAD * height
        or float(steps.max()) > TILT_STEP * height
    ):
        return 0.0, False
    of_tall = [owners[k] for k in tall]
    grouped = len(set(of_tall)) < len(of_tall)
    other_line = max(of_tall) >= len(layout.digits)
    if len(tall) >= TILT_PARTS:
        return slope, grouped or other_line
    low, high = sorted(heights[k] for k in tall)
    alone = len(centres) == 2  # no smaller parts beside them
    if not (alone or other_line) or steps[0] < TILT_PAIR * height or low < TILT_PAIR_HEIGHTS * high:
        return 0.0, False
    # Grouped as one digit, they may be one broken digit's pieces, which turned level come
    # apart as two sure digits (a broken 5 read "01"): the row came apart only when one was
    # taken for another line.
    return slope, other_line
