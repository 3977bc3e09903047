"""MNIST's digit format: the shared normalisation and the model-input scaling."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classifier import augment as augment_module
from classifier.augment import AugmentConfig, augment, continental_ones, with_flag
from classifier.mnist_format import renormalise, to_mnist, to_model_input
from classifier.strokes import thin


def _centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(digit.shape)
    total = float(digit.sum())
    return float((digit * ys).sum()) / total, float((digit * xs).sum()) / total


def test_model_input_scales_to_unit_range() -> None:
    digits = np.array([[[0, 255] * 14] * 28], np.uint8)
    x = to_model_input(digits)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0


def test_model_input_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="28, 28"):
        to_model_input(np.zeros((2, 32, 32), np.uint8))


def test_mnist_digits_keep_their_shape(mnist_test_digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = mnist_test_digits
    again = renormalise(x[:500])
    difference = np.abs(again.astype(int) - x[:500]).mean(axis=(1, 2))
    assert difference.mean() < 10.0  # of 255: MNIST is already in this format, up to resampling
    assert np.array_equal(again.sum(axis=(1, 2)) > 0, x[:500].sum(axis=(1, 2)) > 0)


def test_small_and_large_crops_of_one_digit_agree(mnist_test_digits: tuple[np.ndarray, np.ndarray]) -> None:
    """A digit photographed small or large reaches the model the same way: the reason small
    crops are enlarged before fitting."""
    x, _ = mnist_test_digits
    differences = [
        np.abs(to_mnist(d).astype(int) - to_mnist(cv2.resize(d, (280, 280))).astype(int)).mean()
        for d in x[:50]
    ]
    assert np.mean(differences) < 4.0  # grey levels of 255


@pytest.mark.parametrize(("height", "width"), [(300, 60), (60, 300), (500, 400), (9, 7)])
def test_any_crop_fits_a_20_pixel_box_centred_by_mass(height: int, width: int) -> None:
    crop = np.zeros((height, width), np.uint8)
    crop[height // 10 : height - height // 10, width // 10 : width - width // 10] = 255
    digit = to_mnist(crop)
    rows = np.flatnonzero(digit.max(axis=1) > 25)
    cols = np.flatnonzero(digit.max(axis=0) > 25)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (19, 20, 21)
    cy, cx = _centre_of_mass(digit)
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0
    assert digit.max() == 255


def test_hairline_strokes_are_brought_to_full_intensity() -> None:
    crop = np.zeros((400, 400), np.uint8)
    crop[20:380, 198:201] = 255  # a 3-pixel line shrinks to a fraction of a pixel
    assert to_mnist(crop).max() == 255


def test_empty_crop_gives_an_empty_digit() -> None:
    assert not to_mnist(np.zeros((40, 40), np.uint8)).any()


def test_augmentation_keeps_mnist_format_and_is_seeded(
    mnist_test_digits: tuple[np.ndarray, np.ndarray],
) -> None:
    x, _ = mnist_test_digits
    first = augment(x[:50], np.random.default_rng(3))
    again = augment(x[:50], np.random.default_rng(3))
    other = augment(x[:50], np.random.default_rng(4))
    assert first.shape == (50, 28, 28) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.abs(first.astype(int) - x[:50]).mean() > 5  # it really changes the digits
    # Every augmented digit is still a digit: ink present, roughly centred.
    for digit in first:
        cy, cx = _centre_of_mass(digit)
        assert digit.max() > 200 and abs(cy - 14) < 3.5 and abs(cx - 14) < 3.5


def test_reinking_redraws_a_digit_with_an_even_pen(mnist_test_digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = mnist_test_digits
    rng = np.random.default_rng(0)
    redrawn_count = 0
    for pen in (2.0, 4.5):
        fixed = AugmentConfig(pen_radius=(pen, pen))
        for digit in x[:20]:
            big = cv2.resize(digit, (84, 84), interpolation=cv2.INTER_LINEAR)
            redrawn = augment_module._reink(big, rng, fixed)
            shape, ink = big > 110, redrawn > 127
            if np.array_equal(redrawn, big):
                continue  # a digit written as blobs is left as it is
            redrawn_count += 1
            # Even: along the new strokes' middle, their half-width is the pen's radius
            # (junctions aside), wherever MNIST's strokes swelled or tapered.
            half_width = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 5)[thin(ink)]
            assert pen - 1.0 <= np.median(half_width) <= pen + 1.0
            assert np.percentile(half_width, 80) <= pen + 1.5
            # Along the digit's own path: the new ink lies on the old strokes' skeleton.
            near = cv2.dilate(shape.astype(np.uint8), np.ones((2 * round(pen) + 3,) * 2, np.uint8)) > 0
            assert (ink & ~near).sum() <= 0.02 * ink.sum()
            assert (ink & shape).sum() >= 0.5 * min(ink.sum(), shape.sum())
    assert redrawn_count >= 36  # of 40: nearly every digit is redrawn


def _line_digit(lean_degrees: float) -> np.ndarray:
    """A 1 written as one straight stroke, its top leaning right by ``lean_degrees``."""
    canvas = np.zeros((28, 28), np.uint8)
    dx = 10 * np.tan(np.deg2rad(lean_degrees))
    cv2.line(canvas, (round(14 + dx), 4), (round(14 - dx), 24), 255, 2, cv2.LINE_AA)
    return canvas


def test_a_continental_flag_goes_down_left_from_the_top_of_a_1() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        flagged = with_flag(_line_digit(0.0), rng)
        assert flagged is not None and flagged.shape == (28, 28) and flagged.dtype == np.uint8
        ink = flagged > 100
        rows = np.flatnonzero(ink.any(axis=1))
        stem = int(np.flatnonzero(ink[rows[-1]]).mean())  # where the stem ends at the bottom
        top, height = rows[0], rows[-1] - rows[0]
        left_of_stem = ink[:, : stem - 2]
        flag_rows = np.flatnonzero(left_of_stem.any(axis=1))
        # The flag: ink left of the stem, only in the upper part, reaching down a while
        # from the top (it falls at least 40 degrees), never a bar along the top.
        assert flag_rows.size and flag_rows[-1] <= top + 0.6 * height
        assert flag_rows[-1] - flag_rows[0] >= 4
        assert not left_of_stem[top].any() or left_of_stem[top].sum() <= 2


def test_no_flag_where_it_would_make_a_7() -> None:
    rng = np.random.default_rng(0)
    # Leaning far right, any flag would lie flat like a 7's bar; and a digit that is not
    # one straight stroke (a 7, a 1 with a base) takes none.
    assert with_flag(_line_digit(35.0), rng) is None
    seven = np.zeros((28, 28), np.uint8)
    cv2.polylines(seven, [np.array([[6, 5], [21, 5], [11, 24]])], False, 255, 2, cv2.LINE_AA)
    assert with_flag(seven, rng) is None
    assert with_flag(_line_digit(8.0), rng) is not None


def test_continental_ones_are_seeded_copies_of_the_1s(
    mnist_test_digits: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = mnist_test_digits
    first_x, first_y = continental_ones(x, y, 0.5, np.random.default_rng(1))
    again_x, _ = continental_ones(x, y, 0.5, np.random.default_rng(1))
    ones = int((y == 1).sum())
    assert np.array_equal(first_x, again_x) and set(first_y.tolist()) == {1}
    # About half the 1s are tried; most MNIST 1s are one straight stroke and take a flag.
    assert 0.25 * ones <= len(first_y) <= 0.6 * ones
    assert first_x.shape == (len(first_y), 28, 28)
