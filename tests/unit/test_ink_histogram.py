"""Histograms of levels under an ink mask (``photo_ink._histogram``): OpenCV's masked
histogram on a sparse mask, the values masked first on a dense one; both must count the
same as counting the masked values directly."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.photo_ink import SPARSE_MASK, _histogram


@pytest.mark.parametrize("share", [0.0, 0.002, 0.05, SPARSE_MASK, 0.3, 1.0])
@pytest.mark.parametrize("roi", [False, True])
def test_a_masked_histogram_counts_the_nonzero_levels_under_the_mask(share: float, roi: bool) -> None:
    rng = np.random.default_rng(round(share * 1000) + roi)
    levels = rng.integers(0, 256, (120, 160)).astype(np.uint8)
    mask = np.where(rng.random(levels.shape) < share, 255, 0).astype(np.uint8)
    if roi:  # the inner part of a frame, as find_ink takes it: a view, not contiguous
        levels, mask = levels[7:113, 9:151], mask[7:113, 9:151]
    expected = np.bincount(levels[mask > 0], minlength=256).astype(np.float32)
    expected[0] = 0  # a level of 0 is no ink
    assert np.array_equal(_histogram(levels, mask), expected)


def test_a_histogram_without_a_mask_counts_every_level() -> None:
    levels = np.random.default_rng(1).integers(0, 256, (50, 70)).astype(np.uint8)
    assert np.array_equal(_histogram(levels), np.bincount(levels.ravel(), minlength=256))
