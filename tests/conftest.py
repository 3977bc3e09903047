"""Fixtures shared by every test folder: the committed MNIST subset and the shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.serving import SHIPPED_MODELS

DATA_DIR = Path(__file__).parent / "data"
MNIST_SUBSET = DATA_DIR / "mnist_subset.npz"


@pytest.fixture(scope="session")
def mnist_subset_path() -> Path:
    return MNIST_SUBSET


@pytest.fixture(scope="session")
def mnist_test_digits() -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST test digits (x uint8 (n,28,28), y) committed with the tests."""
    with np.load(MNIST_SUBSET, allow_pickle=False) as npz:
        return npz["x_test"], npz["y_test"]


@pytest.fixture(scope="session")
def shipped_model_dir() -> Path:
    return SHIPPED_MODELS
