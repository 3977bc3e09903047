"""The page on a desk (``photo_page.off_page``): the desk is found, a shadow is not, the
page's part in a hard shadow is no desk, and the desk beside a finger on the page is."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classifier.photo_page import SMOOTH, off_page, off_page_on_flat_desk, page_on_desk


def _photo(desk: np.ndarray, seed: int = 0, shadow: np.ndarray | None = None, at: int = 150) -> np.ndarray:
    """A 320x240 photo: a page (grey 215, with grain) tilted a little on ``desk``, with a
    stroke of writing from (``at``, 100) to (``at`` + 10, 160); ``shadow``: a polygon of
    hard shadow."""
    rng = np.random.default_rng(seed)
    page = np.zeros((240, 320), np.uint8)
    corners = np.array([[70, 40], [262, 52], [250, 210], [58, 198]], np.int32)
    cv2.fillConvexPoly(page, corners, 1)
    image = np.where(page > 0, 215.0, desk)
    cv2.line(image, (at, 100), (at + 10, 160), 40.0, 3)  # a stroke of writing on it
    if shadow is not None:
        shade = np.ones((240, 320))
        cv2.fillConvexPoly(shade, shadow, 0.45)
        image *= cv2.GaussianBlur(shade, (0, 0), 4.0)  # a phone's shadow: its edge soft
    image += rng.normal(0.0, 2.0, page.shape)
    return np.clip(cv2.GaussianBlur(image, (0, 0), 0.7), 0, 255).astype(np.uint8)


def _stripes(period: float = 3.0, level: float = 80.0) -> np.ndarray:
    xx = np.arange(320, dtype=np.float64)[None, :] + 0.4 * np.arange(240, dtype=np.float64)[:, None]
    return level * (0.75 + 0.25 * np.sin(xx / period))


@pytest.mark.parametrize("period", [2.0, 3.0])
def test_a_grainy_desk_around_the_page_is_off_the_page(period: float) -> None:
    off = off_page(_photo(_stripes(period)))
    assert off is not None
    assert off[5, 5] and off[235, 315] and off[120, 20]  # the desk, all round
    assert not off[120, 160] and not off[130, 155]  # the page, and the writing on it
    assert off[120, 58:70].any()  # its edge, with its rim of desk


def test_a_plain_desk_is_left_to_the_paper_estimate() -> None:
    assert off_page(_photo(np.full((240, 320), 60.0))) is None  # its own paper: no ink there
    # ... but it is known as a dark desk, which makes the photo no scene (session 24), and
    # a lighter one is not.
    dark = page_on_desk(_photo(np.full((240, 320), 60.0)))
    assert dark is not None and dark.dark and not dark.grainy and dark.off[5, 5] and not dark.off[120, 160]
    grey = page_on_desk(_photo(np.full((240, 320), 140.0)))
    assert grey is not None and not grey.dark and not grey.grainy and not grey.card
    # A lighter one, around a page written on, is a plain desk, the page read alone; around
    # a blank page, no desk.
    assert grey.plain and grey.off[5, 5] and not grey.off[120, 160]
    blank = _photo(np.full((240, 320), 140.0), at=400)  # (the stroke off the frame)
    assert page_on_desk(blank) is None
    # A bright region covering most of the frame, things on it, a rim of grey around it: a
    # scene's background, no page on a desk (``PLAIN_PAGE``).
    rng = np.random.default_rng(3)
    wide = np.full((240, 320), 140.0)
    wide[14:226, 18:302] = 215.0  # 0.78 of it
    cv2.line(wide, (150, 100), (160, 160), 40.0, 3)
    wide = np.clip(cv2.GaussianBlur(wide + rng.normal(0.0, 2.0, wide.shape), (0, 0), 0.7), 0, 255)
    covering = page_on_desk(wide.astype(np.uint8))
    assert covering is None or not covering.plain
    # A bright ellipse on a dark ground (a plate on a table, in a scene) is no page: a page
    # is a quadrilateral, however aslant.
    plate = np.full((240, 320), 60.0)
    cv2.ellipse(plate, (160, 120), (120, 80), 20, 0, 360, 215.0, -1)
    rng = np.random.default_rng(2)
    scene = np.clip(cv2.GaussianBlur(plate + rng.normal(0.0, 2.0, plate.shape), (0, 0), 0.7), 0, 255)
    ellipse = page_on_desk(scene.astype(np.uint8))
    assert ellipse is None or not ellipse.dark


def test_a_shadow_light_falling_off_or_a_page_filling_the_frame_is_no_desk() -> None:
    rng = np.random.default_rng(1)
    shaded = np.full((240, 320), 215.0)
    shaded[140:] = 90.0  # a hard shadow across the lower part of a page filling the frame
    falling = np.linspace(120.0, 230.0, 320)[None, :] * np.ones((240, 1))  # light falling off
    for page in (shaded, falling, np.full((240, 320), 215.0)):
        photo = cv2.GaussianBlur(page + rng.normal(0.0, 3.0, page.shape), (0, 0), 0.7)
        assert off_page(np.clip(photo, 0, 255).astype(np.uint8)) is None


@pytest.mark.parametrize(
    ("shadow", "at"),
    [
        ([[0, 0], [125, 0], [125, 240], [0, 240]], 90),  # the page's left third and the desk beside it
        ([[130, 80], [320, 70], [320, 170], [140, 180]], 200),  # a bay in the bright page, over its edge
    ],
)
def test_the_page_in_a_hard_shadow_is_no_desk(shadow: list[list[int]], at: int) -> None:
    # Too dark for the page's bright region, the shadowed part was taken for desk, and its
    # writing was wiped with the desk's grain (session 27).
    off = off_page(_photo(_stripes(), shadow=np.array(shadow, np.int32), at=at))
    assert off is not None
    assert off[5, 5] and off[235, 315]  # the desk
    assert not off[120, at + 5] and not off[130, at + 5]  # the writing, in the shadow
    assert not off[150, 100] and not off[150, 200]  # the page, in shadow and not


def test_the_desk_beside_a_finger_across_the_page_s_edge_is_off_the_page() -> None:
    # A finger from the frame's top onto the page (bright, so one region with the page): the
    # desk between it and the page's corners made bays of the region's hull, grainy, and no
    # desk was found (session 29); its grain was read as writing, or the photo as a scene.
    photo = _photo(_stripes()).astype(np.float64)
    finger = np.zeros(photo.shape, np.uint8)
    cv2.line(finger, (215, -20), (205, 95), 1, 28)
    photo = np.where(finger > 0, 200.0, photo)  # up to the frame, across the page's edge
    off = off_page(np.clip(cv2.GaussianBlur(photo, (0, 0), 0.7), 0, 255).astype(np.uint8))
    assert off is not None
    assert off[10, 120] and off[235, 315]  # the desk
    assert off[25, 150] and off[30, 240]  # ... and beside the finger, inside the region's hull
    assert not off[120, 160] and not off[130, 155] and not off[80, 207]  # the page, writing, fingertip


def test_the_desk_closed_off_by_the_frame_beside_a_finger_is_off_the_page() -> None:
    # The page's corner runs off the frame's top and a finger comes from it: the desk between
    # them is a bay closed off by the frame, not by the hull's outline, and stayed on the page
    # with its grain (review of session 29).
    rng = np.random.default_rng(3)
    page = np.zeros((240, 320), np.uint8)
    cv2.fillConvexPoly(page, np.array([[10, -10], [300, 110], [280, 235], [20, 230]], np.int32), 1)
    image = np.where(page > 0, 215.0, _stripes())
    cv2.line(image, (150, 100), (160, 160), 40.0, 3)  # writing
    finger = np.zeros((240, 320), np.uint8)
    cv2.line(finger, (285, -20), (280, 130), 1, 28)
    image = np.where(finger > 0, 200.0, image) + rng.normal(0.0, 2.0, image.shape)
    off = off_page(np.clip(cv2.GaussianBlur(image, (0, 0), 0.7), 0, 255).astype(np.uint8))
    assert off is not None
    assert off[10, 150] and off[30, 200] and off[60, 250]  # the desk between page and finger
    assert not off[120, 155] and not off[150, 100]  # the writing and the page


def test_a_small_plate_on_a_grainy_desk_is_no_page() -> None:
    # A small bright thing that is no quadrilateral (a plate, a mug) on a grainy desk was a
    # page, and marks on it were read as digits (review of session 29).
    rng = np.random.default_rng(4)
    plate = np.zeros((240, 320), np.uint8)
    cv2.ellipse(plate, (160, 120), (55, 38), 0, 0, 360, 1, -1)  # a tenth of the frame
    image = np.where(plate > 0, 215.0, _stripes()) + rng.normal(0.0, 2.0, (240, 320))
    assert page_on_desk(np.clip(cv2.GaussianBlur(image, (0, 0), 0.7), 0, 255).astype(np.uint8)) is None


def _light_on_flat(shape: str, marks: bool = True) -> np.ndarray:
    """A 320x240 picture whose frame is one flat grey (40), holding light (215) shapes: a
    tilted card, an ellipse (a fat 0's outline), a bar (a 1), a kite, a boxy 0 (a rectangle
    round a thick hole), a rounded square (a bold font's 0 or 8) or two cards; ``marks``: a stroke
    of dark writing on the (first) one."""
    image = np.full((240, 320), 40.0)
    card = np.array([[100, 60], [222, 72], [214, 190], [92, 178]], np.int32)
    if shape in ("card", "two cards"):
        cv2.fillConvexPoly(image, card, 215.0)
    if shape == "two cards":
        cv2.fillConvexPoly(image, card // 3 + np.array([230, 150], np.int32), 215.0)
    elif shape == "ellipse":
        cv2.ellipse(image, (160, 120), (50, 80), 10, 0, 360, 215.0, -1)
    elif shape == "bar":  # drawn with a square brush
        cv2.fillConvexPoly(image, np.array([[140, 30], [176, 30], [186, 210], [150, 210]], np.int32), 215.0)
    elif shape == "kite":
        cv2.fillConvexPoly(image, np.array([[160, 40], [230, 120], [160, 200], [140, 120]], np.int32), 215.0)
    elif shape == "boxy 0":
        cv2.rectangle(image, (110, 50), (210, 190), 215.0, -1)
        cv2.rectangle(image, (140, 80), (180, 160), 40.0, -1)
    elif shape == "rounded":
        cv2.rectangle(image, (100, 60), (220, 180), 215.0, -1)
        for x, y in ((100, 60), (220, 60), (100, 180), (220, 180)):  # corners 40 px round
            cv2.rectangle(
                image,
                (x - 40 if x > 160 else x, y - 40 if y > 120 else y),
                (x + 40 if x < 160 else x, y + 40 if y < 120 else y),
                40.0,
                -1,
            )
            cv2.circle(image, (x + (40 if x < 160 else -40), y + (40 if y < 120 else -40)), 40, 215.0, -1)
    if marks:
        cv2.line(image, (150, 100), (160, 160), 40.0, 3)
    return np.clip(cv2.GaussianBlur(image, (0, 0), 0.7), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape", ["ellipse", "bar", "kite", "boxy 0", "rounded", "two cards"])
def test_light_shapes_on_a_flat_ground_are_no_card(shape: str) -> None:
    # A light drawing's shape is no card: a 0 an ellipse, a 1 a bar, a boxy 0's hole one
    # thick mark, a bold font's digit rounded, and a card is no kite; and the largest of two
    # light things is not the only card (the rest was wiped as desk).
    assert off_page_on_flat_desk(_light_on_flat(shape), 40) is None


def test_a_card_with_writing_on_a_flat_desk_is_a_page() -> None:
    # A desk lit so evenly that the frame is flat looks like a drawing's ground; a card on
    # it, like a light drawing on it (session 37). A card with nothing written on it is no
    # photo to read.
    off = off_page_on_flat_desk(_light_on_flat("card"), 40)
    assert off is not None
    assert off[5, 5] and off[120, 60] and off[120, 96]  # the desk, and the card's rim
    assert not off[120, 160] and not off[130, 155]  # the card, and the writing on it
    assert off_page_on_flat_desk(_light_on_flat("card", marks=False), 40) is None


def _small_card(writing: bool = True, second: bool = False) -> np.ndarray:
    """A 320x240 photo of a small card (grey 215, 12% of the frame) lying tilted within the
    frame on a smooth desk of broad dark and light bands, a digit-sized stroke written on it
    (``writing``); ``second``: another, smaller card beside it."""
    yy, xx = np.mgrid[0:240, 0:320].astype(np.float64)
    image = 90.0 * (1 + 0.2 * np.sin(yy / 8 + 3 * np.sin(xx / 60)))
    card = np.array([[120, 70], [200, 78], [195, 160], [115, 152]], np.int32)
    cv2.fillConvexPoly(image, card, 215.0)
    if second:  # 0.7 times as large
        cv2.fillConvexPoly(
            image, (0.7 * (card - card.mean(0)) + card.mean(0) + [100, 0]).astype(np.int32), 215.0
        )
    if writing:
        cv2.line(image, (155, 95), (160, 140), 40.0, 3)
    rng = np.random.default_rng(3)
    blurred = cv2.GaussianBlur(image + rng.normal(0.0, 2.0, image.shape), (0, 0), 0.7)
    return np.asarray(np.clip(blurred, 0, 255), np.uint8)


def test_a_small_card_with_writing_on_a_smooth_desk_is_read_alone() -> None:
    # Session 37: the card's edge was ink, read as a "1", and the desk's broad bands made the
    # photo a scene. A blank card is not read alone (a number written beside a blank label
    # lost its place to it), nor the larger of two cards.
    desk = page_on_desk(_small_card())
    assert desk is not None and desk.card and not desk.grainy
    assert desk.off[5, 5] and desk.off[120, 60] and not desk.off[120, 158] and not desk.off[118, 157]
    for photo in (_small_card(writing=False), _small_card(second=True)):
        other = page_on_desk(photo)
        assert other is None or not other.card


def test_the_page_s_blur_on_five_taps_is_smooth_s_own() -> None:
    """``page_on_desk`` blurs with a 5x5 kernel for speed: at ``SMOOTH`` OpenCV's 8-bit kernel
    has 7 taps, the outer two 0 in fixed point. Were ``SMOOTH`` raised, they would not be."""
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (120, 160)).astype(np.uint8)
    image[40:80, 60:62] = 0  # a hard edge at every grey level's neighbour
    np.testing.assert_array_equal(
        cv2.GaussianBlur(image, (5, 5), SMOOTH), cv2.GaussianBlur(image, (0, 0), SMOOTH)
    )
