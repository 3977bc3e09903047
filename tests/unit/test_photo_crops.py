"""Training crops cut from rendered photos of training digits: labelled right, reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.photo_crops import STYLES, photo_crops
from classifier.serving import Classifier


@pytest.fixture(scope="module")
def training_digits(mnist_subset_path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(mnist_subset_path, allow_pickle=False) as npz:
        return npz["x_train"], npz["y_train"]


@pytest.fixture(scope="module")
def crops(training_digits: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    x, y = training_digits
    return photo_crops(x, y, per_style=2, seed=3, workers=2)


def test_each_crop_is_labelled_with_the_digit_drawn(
    crops: tuple[np.ndarray, np.ndarray], shipped_model_dir: Path
) -> None:
    x, y = crops
    # 2 photos of each single-digit style, 1 of each number of 2, 3 and 4 digits: 45 digits
    # drawn; a few photos are dropped when the pipeline does not find every digit.
    assert x.shape[1:] == (28, 28) and x.dtype == np.uint8 and len(x) == len(y)
    assert 0.8 * 45 <= len(y) <= 45 and len(STYLES) == 21
    assert set(np.unique(y)) <= set(range(10)) and len(np.unique(y)) >= 6
    # Crops in MNIST's format (white on black, centred), each labelled with its own digit:
    # crops and labels out of step would read at about chance.
    grid = np.arange(28, dtype=np.float64)
    for crop in x.astype(np.float64):
        centre = (crop.sum(axis=1) @ grid / crop.sum(), crop.sum(axis=0) @ grid / crop.sum())
        assert crop.max() >= 200 and np.allclose(centre, 13.5, atol=1.0)
    read = Classifier(shipped_model_dir).predict(x).argmax(axis=1)
    assert (read == y).mean() >= 0.85


def test_the_same_seed_gives_the_same_crops(
    training_digits: tuple[np.ndarray, np.ndarray], crops: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = training_digits
    again = photo_crops(x, y, per_style=2, seed=3, workers=1)
    other = photo_crops(x, y, per_style=2, seed=4, workers=1)
    assert np.array_equal(again[0], crops[0]) and np.array_equal(again[1], crops[1])
    assert len(other[0]) != len(crops[0]) or not np.array_equal(other[0], crops[0])
