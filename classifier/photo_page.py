"""The page in a phone photo of a page lying on a desk: what lies outside it holds no writing.

A page photographed on a desk often leaves the desk in the frame. A plain dark desk is
paper-dark everywhere and gives no ink; but a desk with a grain (wood, a patterned cloth)
is dark stripes between light ones, which the paper's brightness estimate takes for ink on
paper: the grain's pieces were read as digits beside the one on the page or instead of
it, or made the photo look like a scene, and the strip of desk along the page's edge was
read as a "1".

The page is the largest bright region (Otsu's threshold on the photo at half size,
slightly smoothed) with its holes, the writing on it, filled in; nearly convex, as a page
is (on a grainy desk, once the desk in its bays is set aside: see below). It is taken as a
page on a desk only when the rest of the frame is clearly darker, the step between them
is sharp (a page's edge; light falling off across a page is gradual, and so is a soft
shadow's edge) and the rest is grainy all over. A hard shadow on the page (a
phone's, a hand's) is as smooth as the page, and its writing stays: too dark for the bright
region, the page's part in it is found as a smooth bay in that region or a smooth region
beside it (session 27). A finger or a pen lying across the page's edge is bright too and
joins the region, and the desk between it and the page makes bays in it: on a grainy desk,
each bay is told by its grain, and the desk's are left out of the page while the smooth
ones (the page in a shadow, the finger) and the far grainier ones (writing) stay (session
29). A plain desk is left alone: the paper estimate takes it for its own paper already.
But its blotches may still be "ink" over much of the frame, which would make the photo a
scene: ``page_on_desk`` reports a smooth desk far darker than the page too, on which the
photo is judged a scene or not by its page alone. A small card with writing on it, lying
whole within the frame on a smooth desk, is read alone (``Desk.card``, session 37): its
edge was ink, read as a "1", and a desk's broad blotches made the photo a scene.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from classifier.photo_ink import FAR_OFF, percentile, percentile_of_histogram

SMOOTH = 0.75  # px at half size: the blur before the threshold, so the page is one region despite its grain
MIN_PAGE, MAX_PAGE = 0.04, 0.97  # the page's hull covers this share of the frame, at least and at most
SMALL_PAGE = 0.2  # ... and one covering less is a quadrilateral (PAGE_RECTANGLE): a card, not a plate
SOLID = 0.9  # the bright region fills at least this share of its hull, or its bays are told apart (below)
DARKER = 0.8  # the desk's median grey is at most this share of the page's
GRAIN_SIDE = 8  # px: the desk's texture is judged in blocks this wide ...
DESK_GRAIN = 2.5  # ... each at least this many times as grainy as the page's inside ...
DESK_ALL = 0.8  # ... over at least this share of the blocks outside the page
MARGIN = 2  # px: the page's edge, eroded by this much, is off the page too (its rim of desk)
DESK_BORDER = 10  # %: a desk shows along at least this much of the frame's border ...
PAGE_IN_MIDDLE = 90  # ... darker than this percentile of the frame's middle (a small card's paper)
STEP = 0.2  # the page's edge rises by at least this share of the page-desk difference per px (half size)
GRAIN_FLOOR = 64.0  # grey: grain is measured for the brightness, as if no darker than this
DARK_DESK = 0.45  # a desk whose median grey is at most this share of the page's is dark ...
MIN_PAGE_ON_DARK = 0.3  # ... around a page covering at least this share of the frame ...
PAGE_RECTANGLE = 0.87  # ... and filling at least this share of its smallest rectangle
# The page's part in a hard shadow (a phone's, a hand's) is too dark for its bright region,
# and far smoother than a grainy desk: its grain (each 8-px block's, or a bay's median) at
# most this share of the desk's typical (median) grain. (Not compared with the page's own:
# a camera's noise is larger on darker paper.)
SHADOW_SMOOTH = 0.25
# It is a bay in the bright region, or a smooth region beside it covering this share of the
# frame at least (no larger than the page, not reaching the frame: a wall or a dark room
# around a screen is smooth too) ...
SHADOWED = 0.03
SHADOW_EDGE = 3  # ... within this many grain blocks of it (the shadow's soft edge between) ...
SHADE = 0.35  # ... and at least this share of the paper's brightness (a room around a screen is darker)
# A bay in the page on a grainy desk is desk when three quarters of its grain blocks at least
# are no smoother than SHADOW_SMOOTH of the desk's typical grain, and its median block no
# grainier than DESK_LIKE times it (a stroke's edges are, several times over) ...
DESK_LIKE = 2.0
BAY_CORE = 3  # ... judged opened by a disk of this radius (px at half size): strokes joined to it go
BAY_BLOCKS = 2  # ... and once at least this many grain blocks large


# A card or a note on a desk so evenly lit that the frame is one flat grey looks like a
# drawing whose light strokes are the card (``off_page_on_flat_desk``): its outline covers at
# least this share of the frame, and the marks written on it at least and at most this
# share of the outline ...
FLAT_DESK_PAGE = 0.03
MARKS = (0.003, 0.35)
BAR = 4.0  # ... it is no longer than this many times its width (a white 1 is a bar) ...
# ... its outline is four straight sides, within this share of its length (a bold font's
# digits touching are as solid, but rounded) ...
SIDES_WITHIN = 0.02
# ... the marks are strokes no thicker than this share of its width (a fat boxy 0's hole is
# one thick mark, 0.3-0.55 of it, and was read as a "1" on its own; a digit drawn with a
# fat brush on a small canvas, 0.11-0.27; written on a card, 0.05-0.13) ...
MARK_STROKE = 0.25
LIGHT_BESIDE = 0.02  # ... and there is no more light beside it than this share of it (a second card, a digit)


# A card (``Desk.card``) is read alone only with writing on it, at least this share of it (a
# blank label beside a number written on the sheet it lies on took the number's place), and
# no other bright thing as large as this share of it lying whole within the frame (a second
# card: the larger was read alone).
CARD_WRITING = 0.003
SECOND_CARD = 0.25
# A page on a plain desk (``Desk.plain``) covers at most this share of the frame: a scene's
# bright background with shapes on it (0.86) is no page (the pages on desks a helper's
# photos show cover 0.27-0.65).
PLAIN_PAGE = 0.75


@dataclass(frozen=True)
class Desk:
    """A desk around a photo's page."""

    off: np.ndarray  # bool: the pixels off the page
    grainy: bool  # grainy, as no page is: surely a desk (a smooth one may be a hard shadow on the page)
    # Far darker than the page, which is a good part of the photo: a dark desk, or a deep shadow.
    dark: bool
    # A card lying whole within the frame, small and a quadrilateral (``SMALL_PAGE``,
    # ``PAGE_RECTANGLE``), written on (``CARD_WRITING``) and alone (``SECOND_CARD``), on a
    # smooth desk darker than it: surely a desk too.
    card: bool = False
    # A larger page, or one the frame cuts, but a quadrilateral, written on and alone too,
    # on a smooth desk darker than it, neither grainy nor dark: a desk out of focus. It is
    # surely a desk only where it makes the photo look like a scene (``preprocess``); else
    # the "desk" may be the page's own part beside a hard shadow, the digits in it.
    plain: bool = False

    @property
    def read_alone(self) -> bool:
        """Whether the page is read alone, the desk holding no ink (not a dark desk's: a
        deep shadow across the page is as dark and as smooth; a plain one's only in a photo
        that looks like a scene)."""
        return self.grainy or self.card or self.plain


def off_page(gray: np.ndarray) -> np.ndarray | None:
    """Where a photo (grey, dark ink on light paper) shows a desk around the page that is
    grainy, or smooth around a card or a page written on (``Desk.read_alone``): a boolean
    mask of the pixels off the page, or None when it shows no such desk."""
    desk = page_on_desk(gray)
    return desk.off if desk is not None and desk.read_alone else None


def page_on_desk(gray: np.ndarray) -> Desk | None:
    """The desk around the page in a photo (grey, dark ink on light paper), when it is
    grainy or far darker than the page; None when it shows no such desk."""
    h, w = gray.shape
    # Quickly, for most photos: a desk in the frame darkens some of its border.
    strip = max(1, min(h, w) // 32)
    border = np.concatenate([gray[:strip], gray[-strip:], gray[:, :strip].T, gray[:, -strip:].T], axis=None)
    middle = gray[h // 4 : h - h // 4 : 2, w // 4 : w - w // 4 : 2]
    if percentile(border, DESK_BORDER) > DARKER * percentile(middle, PAGE_IN_MIDDLE):
        return None
    # The page's outline needs no fine detail: found at half size. (The kernel SMOOTH makes
    # has 7 taps whose outer two are 0 in OpenCV's 8-bit fixed point: 5 give the same image,
    # 0.025 against 0.05 ms at 160x120.)
    half = cv2.GaussianBlur(
        cv2.resize(gray, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA), (5, 5), SMOOTH
    )
    level, bright = cv2.threshold(half, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if _no_darker_below(half, int(level)):
        return None  # light falling off across a page, not a page and a desk
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=4)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    page = (labels == largest).view(np.uint8)
    outline, _ = cv2.findContours(page, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    hull = np.zeros_like(page)
    corners = cv2.convexHull(np.concatenate(outline))
    cv2.fillConvexPoly(hull, corners, 1)
    if not MIN_PAGE <= float(hull.mean()) <= MAX_PAGE:
        return None
    # The grain, at full size: stripes and blotches a few pixels wide (a band of scales: a
    # camera's pixel noise is not), for the brightness there, as if no darker than
    # GRAIN_FLOOR (that noise is large for the brightness of a deep shadow or a marker's
    # stroke, which are smooth).
    fine = gray.astype(np.float32)
    detail = cv2.GaussianBlur(fine, (0, 0), 1.0)
    broad = cv2.GaussianBlur(fine, (0, 0), 3.0)
    grain = np.abs(detail - broad) / np.maximum(broad, GRAIN_FLOOR)
    near = np.ones((5, 5), np.uint8)
    full_hull = cv2.resize(hull, (w, h), interpolation=cv2.INTER_NEAREST)
    inside = cv2.erode(full_hull, near) > 0  # clear of the page's edge, whose step is no grain
    # (The page's typical grain: its writing and a rim of its edge are no part of it.)
    page_grain = grain[::2, ::2][inside[::2, ::2]]
    if not page_grain.size:
        return None
    grainy_above = DESK_GRAIN * float(np.median(page_grain))
    blocks = (max(1, w // GRAIN_SIDE), max(1, h // GRAIN_SIDE))
    outside = (cv2.dilate(full_hull, near) == 0).astype(np.float32)
    if not outside.any():
        return None
    share, desk_grain = _in_blocks(grain, outside, blocks)
    desk = share >= 0.5
    # The desk's typical grain: a hard shadow on the page is far smoother, though the
    # camera's noise is larger for its darker paper (SHADOW_SMOOTH).
    desk_typical = float(np.median(desk_grain[desk])) if desk.any() else 0.0
    # A small page lying whole within the frame (a card): what is written on it is holes in
    # its bright region, no bays of the desk, and it is judged with them filled (and read
    # alone only when something is written on it: ``CARD_WRITING``).
    within_frame = not (hull[0].any() or hull[-1].any() or hull[:, 0].any() or hull[:, -1].any())
    bright_part = cv2.countNonZero(page)
    whole = page.copy()
    cv2.drawContours(whole, outline, -1, 1, thickness=cv2.FILLED)
    written = cv2.countNonZero(whole) - bright_part >= CARD_WRITING * cv2.countNonZero(whole)
    if within_frame and float(full_hull.mean()) < SMALL_PAGE:
        page = whole
    # (Measured with the writing's holes still open: beside a smooth desk, a page with a big
    # digit run off the frame is left alone, whose digit would otherwise count as desk, lying
    # at the frame; on a grainy desk, such a digit is a bay far grainier than the desk.)
    if cv2.countNonZero(page) < SOLID * cv2.countNonZero(hull):
        # A bay in the bright region is a desk beside the page (between it and a finger), or
        # the page in a hard shadow: far smoother than the desk, though its soft edges and its
        # writing are not. On a grainy desk each bay is told by its grain; beside a smooth
        # "desk" (a scene's bright and dark things), only smooth bays make a page.
        if 0 < grainy_above <= desk_typical:  # (paper clipped white has no grain to compare)
            page = _without_desk_bays(page, hull, grain, blocks, desk_typical)
        else:
            bay = cv2.resize(hull - page, (w, h), interpolation=cv2.INTER_NEAREST).astype(np.float32)
            bay_share, bay_grain = _in_blocks(grain, bay, blocks)
            covered = bay_share >= 0.5
            if not covered.any() or float(np.median(bay_grain[covered])) >= SHADOW_SMOOTH * desk_typical:
                return None
            page = hull.copy()
        outline, _ = cv2.findContours(page, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    paper, desk_level = percentile(half[hull > 0], 50), percentile(half[hull == 0], 50)
    if desk_level > DARKER * paper:
        return None
    # A page's edge is a sharp step, where light falling off or a soft shadow is gradual.
    points = np.concatenate(outline)[:, 0]
    inner = (points > 1).all(axis=1) & (points[:, 0] < half.shape[1] - 2) & (points[:, 1] < half.shape[0] - 2)
    fine_half = half.astype(np.float32)
    slope = np.hypot(cv2.Sobel(fine_half, cv2.CV_32F, 1, 0), cv2.Sobel(fine_half, cv2.CV_32F, 0, 1)) / 8
    steepest = cv2.dilate(slope, np.ones((3, 3), np.uint8))  # within a pixel of the outline
    rim = points[inner]
    if not len(rim) or float(np.median(steepest[rim[:, 1], rim[:, 0]])) < STEP * (paper - desk_level):
        return None
    smooth = desk & (desk_grain < grainy_above)
    grainy = float(np.mean(~smooth[desk])) >= DESK_ALL if desk.any() else False
    shadow_smooth = desk & (desk_grain < SHADOW_SMOOTH * desk_typical)
    with_shadow, shadowed = _with_shadowed_part(page, shadow_smooth, half, paper)
    rest = desk & ~shadowed
    if (
        shadowed.any()
        and np.count_nonzero(shadowed) * GRAIN_SIDE**2 <= np.count_nonzero(full_hull)
        and rest.any()
        and float(np.mean(~smooth[rest])) >= DESK_ALL
    ):
        # The desk is grainy but for a smooth region joined to the page and smaller than it:
        # the page's part in shadow.
        page, grainy = with_shadow, True
    # A page is a quadrilateral, even photographed aslant: its hull fills most of its
    # smallest rectangle (an ellipse fills 0.79 of it: a bright plate in a scene).
    (_, _), (rw, rh), _ = cv2.minAreaRect(corners)
    rectangular = float(cv2.contourArea(corners)) >= PAGE_RECTANGLE * rw * rh
    dark = desk_level <= DARK_DESK * paper and float(full_hull.mean()) >= MIN_PAGE_ON_DARK and rectangular
    if not rectangular and float(full_hull.mean()) < SMALL_PAGE:
        return None  # a small bright thing that is no quadrilateral: a plate, a mug, a lamp
    # (A card lies within the frame: a page's part lit beside a hard shadow reaches the
    # frame, the page running on into the shadow.)
    alone = rectangular and written and not _second_card(labels, stats, largest)
    card = alone and within_frame and float(full_hull.mean()) < SMALL_PAGE
    plain = alone and not (card or grainy or dark) and float(full_hull.mean()) <= PLAIN_PAGE
    if not grainy and not dark and not card and not plain:
        return None  # a smooth desk no darker: its own paper to the paper estimate, no scene
    # The page itself, with what is written on it (the holes in it), but not the desk in a
    # bay of its outline (a page beside something else bright). (A digit within a pixel or
    # two of the page's edge joins the desk here, and is lost with it.)
    _, gaps = cv2.connectedComponents(1 - page, connectivity=8)
    at_frame = np.unique(np.concatenate([gaps[0], gaps[-1], gaps[:, 0], gaps[:, -1]]))
    filled = np.where(np.isin(gaps, at_frame[at_frame > 0]), 0, 1).astype(np.uint8) | page
    filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_NEAREST)
    off = np.asarray(cv2.erode(filled, np.ones((3, 3), np.uint8), iterations=MARGIN) == 0)
    return Desk(off, grainy, dark, card, plain)


def _no_darker_below(half: np.ndarray, level: int) -> bool:
    """Whether the median grey of ``half`` at most ``level`` (Otsu's) is more than ``DARKER``
    of the median of the rest (``percentile``'s medians, 0.0 of none). One histogram split
    at the level, not two masks and a histogram of each: 0.025 against 0.05 ms at 160x120."""
    histogram = np.asarray(cv2.calcHist([half], [0], None, [256], [0, 256]).ravel())
    dark, light = histogram.copy(), histogram
    dark[level + 1 :] = 0
    light[: level + 1] = 0
    return percentile_of_histogram(dark, 50) > DARKER * percentile_of_histogram(light, 50)


def _with_shadowed_part(
    page: np.ndarray, smooth: np.ndarray, half: np.ndarray, paper: float
) -> tuple[np.ndarray, np.ndarray]:
    """The page (its bright region: uint8, at half size) with its part in a hard shadow, and
    that part's grain blocks (bool). The part is too dark for the bright region, but far
    smoother than the desk (``smooth``: the grain blocks outside the bright region that
    are; ``SHADOW_SMOOTH``), and not as dark as a room (``SHADE`` of the ``paper``'s grey
    in ``half``, the photo at half size). The shadow's soft edge is no smoother than a
    desk, so the shadow is joined to the page across it."""
    none = np.zeros(smooth.shape, bool)
    if not smooth.any():
        return page, none
    regions = cv2.resize(smooth.view(np.uint8), page.shape[::-1], interpolation=cv2.INTER_NEAREST)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(regions, connectivity=8)
    edge = 2 * round(SHADOW_EDGE * GRAIN_SIDE / 2) + 1
    near = cv2.dilate(page, np.ones((edge, edge), np.uint8))
    large = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= SHADOWED * page.size)
    # (Not a region reaching the frame: a wall or a room around a screen, as smooth.)
    at_frame = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    shadowed = [
        i
        for i in large.tolist()
        if i
        and i not in at_frame
        and near[labels == i].any()
        and percentile(half[labels == i], 50) >= SHADE * paper
    ]
    if not shadowed:
        return page, none
    part = np.isin(labels, shadowed).view(np.uint8)
    # Across the edge between them, and nowhere else (a wedge of desk along the page stays).
    square = np.ones((edge, edge), np.uint8)
    both = cv2.bitwise_or(page, part)
    joined = cv2.bitwise_or(
        both, cv2.bitwise_and(cv2.morphologyEx(both, cv2.MORPH_CLOSE, square), cv2.dilate(part, square))
    )
    blocks = np.asarray(cv2.resize(part, smooth.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0)
    return np.asarray(joined), blocks & smooth


def _in_blocks(grain: np.ndarray, region: np.ndarray, blocks: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """For each grain block: the share of it in ``region`` (float32 0/1), and the mean grain
    of its pixels there."""
    share = cv2.resize(region, blocks, interpolation=cv2.INTER_AREA)
    return share, cv2.resize(grain * region, blocks, interpolation=cv2.INTER_AREA) / np.maximum(share, 1e-6)


def _without_desk_bays(
    page: np.ndarray, hull: np.ndarray, grain: np.ndarray, blocks: tuple[int, int], desk_grain: float
) -> np.ndarray:
    """The page's hull (uint8, half size) without the bays of its bright region (``page``)
    that are grainy as the desk (``desk_grain``: its typical grain) is, all over (``DESK_LIKE``).

    A smoother bay is the page in a hard shadow or a finger on it, a far grainier one is
    writing: both stay. Strokes joined to a bay are opened away first (their edges are
    grainy), and only a bay reaching the hull's rim or the frame can be desk: a loop's inside
    cannot."""
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAY_CORE + 1, 2 * BAY_CORE + 1))
    bays = cv2.morphologyEx(cv2.subtract(hull, page), cv2.MORPH_OPEN, disk)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bays, connectivity=8)
    # (The hull's side along the frame is rim too: a bay the frame closes off is open to the desk.)
    inner = cv2.erode(hull, np.ones((5, 5), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    rim = cv2.subtract(hull, inner)
    at_rim = set(np.unique(labels[rim > 0]).tolist())
    h, w = grain.shape
    least = BAY_BLOCKS * (GRAIN_SIDE // 2) ** 2  # px at half size
    kept = hull.copy()
    for i in range(1, count):
        if stats[i, cv2.CC_STAT_AREA] < least or i not in at_rim:
            continue
        own = labels == i
        bay = cv2.resize(own.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        share, bay_grain = _in_blocks(grain, bay.astype(np.float32), blocks)
        covered = share >= 0.5
        if not covered.any():
            continue
        low, typical = np.percentile(bay_grain[covered], [25, 50])
        if SHADOW_SMOOTH * desk_grain <= low and typical <= DESK_LIKE * desk_grain:
            kept[own] = 0
    return kept


def off_page_on_flat_desk(gray: np.ndarray, level: int) -> np.ndarray | None:
    """Where a picture whose frame is one flat grey (``level``: ``photo_ink.flat_background``)
    shows the desk around a page, a card or a note lying on it (a boolean mask of the pixels
    off the page, as ``page_on_desk`` gives), or None when it is no such photo. The page is
    a region far lighter (``FAR_OFF``) shaped like one (a quadrilateral, ``PAGE_RECTANGLE``,
    ``SIDES_WITHIN``; no bar, ``BAR``), covering ``FLAT_DESK_PAGE`` of the frame at least,
    with strokes written on it (``MARKS``, ``MARK_STROKE``) and nothing as light beside it
    (``LIGHT_BESIDE``).
    Light strokes on a dark ground never are: a 0's outline is an ellipse, a 1 a bar with
    nothing inside, a boxy 0's hole one thick mark, and the digits of a number lie side by
    side."""
    light = np.asarray(gray > level + FAR_OFF, np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(light, connectivity=8)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    region = (labels == largest).view(np.uint8)
    outline, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outer = max(outline, key=cv2.contourArea)
    page = np.zeros_like(light)
    cv2.drawContours(page, [outer], 0, 1, thickness=cv2.FILLED)
    area = cv2.countNonZero(page)
    if area < FLAT_DESK_PAGE * page.size:
        return None
    (_, _), (rw, rh), _ = cv2.minAreaRect(outer)
    if area < PAGE_RECTANGLE * rw * rh or max(rw, rh) > BAR * min(rw, rh):
        return None
    if len(cv2.approxPolyDP(outer, SIDES_WITHIN * cv2.arcLength(outer, True), True)) != 4:
        return None
    if cv2.countNonZero(light) - cv2.countNonZero(cv2.bitwise_and(light, page)) > LIGHT_BESIDE * area:
        return None
    # Marks: what is not light on the page (the paper inside a written 0 is).
    marks = cv2.subtract(page, light)
    if not MARKS[0] * area <= cv2.countNonZero(marks) <= MARKS[1] * area:
        return None
    thickest = 2.0 * float(cv2.distanceTransform(marks, cv2.DIST_L2, 3).max())
    if thickest > MARK_STROKE * min(rw, rh):
        return None
    # (The page's rim, a pixel or two between its grey and the desk's, is desk too.)
    return np.asarray(cv2.erode(page, np.ones((3, 3), np.uint8), iterations=MARGIN) == 0)


def _second_card(labels: np.ndarray, stats: np.ndarray, card: int) -> bool:
    """Whether another bright region (``labels``, ``stats``: connected parts) than the
    ``card`` lies whole within the frame and is ``SECOND_CARD`` as large as it at least."""
    h, w = labels.shape
    x, y, bw, bh, area = (stats[:, i] for i in range(5))
    others = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h) & (area >= SECOND_CARD * area[card])
    others[[0, card]] = False  # (0: the rest, dark)
    return bool(others.any())
