"""Work done inside the box around the ink (``photo_ink.ink_box``) gives exactly what the
same work on the whole frame gives: labels, stats, stroke widths, edge support, hysteresis."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classifier import photo_ink
from classifier.photo_ink import components, ink_box
from classifier.photo_layout import edge_support, shape_of, stroke_width


def _page(seed: int, touching: str = "") -> np.ndarray:
    """A 0/255 mask of a few strokes and specks in a 120x160 frame, the strokes running into
    the named sides of the frame (t, b, l, r)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((120, 160), np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = (int(v) for v in rng.integers((40, 30), (120, 90)))
        x1, y1 = x0 + int(rng.integers(-30, 30)), y0 + int(rng.integers(-25, 25))
        cv2.line(mask, (x0, y0), (x1, y1), 255, int(rng.integers(1, 5)))
    for side in touching:
        end = {"t": (80, 0), "b": (80, 119), "l": (0, 60), "r": (159, 60)}[side]
        cv2.line(mask, (80, 60), end, 255, 2)
    for y, x in rng.integers((0, 0), (120, 160), size=(int(rng.integers(0, 4)), 2)):
        mask[y, x] = 255
    return mask


PAGES = [_page(seed) for seed in range(8)] + [_page(9, "t"), _page(10, "lr"), _page(11, "tblr")]


def test_the_ink_box_holds_all_the_ink_and_its_margin() -> None:
    mask = np.zeros((50, 60), np.uint8)
    assert ink_box(mask) is None
    mask[10:20, 30:35] = 255
    assert ink_box(mask) == (slice(10, 20), slice(30, 35))
    assert ink_box(mask, margin=3) == (slice(7, 23), slice(27, 38))
    mask[49, 0] = 255
    assert ink_box(mask, margin=3) == (slice(7, 50), slice(0, 38))


@pytest.mark.parametrize("mask", PAGES)
def test_components_are_opencvs_on_the_whole_frame(mask: np.ndarray) -> None:
    count, labels, stats = components(mask)
    expected_count, expected_labels, expected_stats, _ = cv2.connectedComponentsWithStats(
        mask, connectivity=8, ltype=photo_ink.label_type(mask)
    )
    assert count == expected_count
    assert labels.dtype == expected_labels.dtype
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(stats[1:], expected_stats[1:])
    assert stats[0, cv2.CC_STAT_AREA] == expected_stats[0, cv2.CC_STAT_AREA]


def test_components_of_an_empty_mask() -> None:
    count, labels, stats = components(np.zeros((30, 40), np.uint8))
    assert count == 1 and not labels.any() and labels.shape == (30, 40)
    assert stats.tolist() == [[0, 0, 40, 30, 1200]]


@pytest.mark.parametrize("mask", PAGES)
def test_stroke_width_is_the_shapes(mask: np.ndarray) -> None:
    assert stroke_width(mask > 0) == pytest.approx(shape_of(mask > 0).stroke, rel=1e-12)
    # A 0/255 mask is traced as it is, uncopied, and left as it was.
    before = mask.copy()
    assert stroke_width(mask) == stroke_width(mask > 0)
    np.testing.assert_array_equal(mask, before)


def _cleared_corners(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[:12, :12] = out[-12:, -12:] = 0
    return out


def _with_far_specks(mask: np.ndarray) -> np.ndarray:
    """The mask with a pixel of ink in two opposite corners, far from the rest, which makes
    the ink's box the whole frame."""
    out = _cleared_corners(mask)
    out[0, 0] = out[-1, -1] = 255
    return out


@pytest.mark.parametrize("mask", PAGES)
def test_edge_support_inside_the_box_is_the_whole_frames(mask: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    dark = rng.integers(0, 256, mask.shape).astype(np.uint8)
    paper = np.full(mask.shape, 200.0, np.float32)
    mask = _cleared_corners(mask)
    count, labels, stats = components(mask)
    whole_count, whole_labels, whole_stats = components(_with_far_specks(mask))
    assert ink_box(_with_far_specks(mask)) == (slice(0, 120), slice(0, 160))
    # The specks are the first and the last part.
    assert whole_count == count + 2 and whole_labels[0, 0] == 1 and whole_labels[-1, -1] == count + 1
    boxed = edge_support(labels, stats, dark, paper)
    whole = edge_support(whole_labels, whole_stats, dark, paper)
    np.testing.assert_array_equal(boxed[1:], whole[2:-1])


@pytest.mark.parametrize("mask", PAGES)
def test_hysteresis_inside_the_box_is_the_whole_frames(mask: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    # Contrast levels: the strokes at various strengths over faint paper grain.
    levels = rng.integers(0, 20, mask.shape).astype(np.uint8)
    levels[mask > 0] = rng.integers(40, 255, int((mask > 0).sum())).astype(np.uint8)
    levels = _cleared_corners(levels)
    boxed = photo_ink._hysteresis(levels, 0.15, 0.6)
    assert ink_box(boxed) is not None
    whole = photo_ink._hysteresis(np.maximum(levels, _with_far_specks(np.zeros_like(levels))), 0.15, 0.6)
    assert whole[0, 0] == whole[-1, -1] == 255
    np.testing.assert_array_equal(boxed, _cleared_corners(whole))
