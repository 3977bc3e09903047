"""The model shipped in models/: accurate, small, consistent with its metadata."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifier.mnist_format import renormalise
from classifier.serving import Classifier


@pytest.fixture(scope="module")
def metadata(shipped_model_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shipped_model_dir / "metadata.json").read_text())
    return data


def test_at_least_99_percent_on_the_committed_test_digits(
    shipped_model_dir: Path, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = mnist_test_digits
    predicted = Classifier(shipped_model_dir).predict(renormalise(x)).argmax(axis=1)
    assert (predicted == y).mean() >= 0.99


def test_metadata_describes_these_files(shipped_model_dir: Path, metadata: dict[str, Any]) -> None:
    for name, digest in metadata["files"].items():
        assert hashlib.sha256((shipped_model_dir / name).read_bytes()).hexdigest() == digest, name
    assert Classifier(shipped_model_dir).version == metadata["version"]


def test_trained_on_full_mnist_to_the_promised_accuracy(metadata: dict[str, Any]) -> None:
    data = metadata["data"]
    # Every MNIST training digit, held out or trained on, plus any digits cut from photos of
    # them and 1s copied with a flag.
    added = data.get("photo_crops", 0) + data.get("flagged_ones", 0)
    assert metadata["n"] == 10000 and data["train"] - added + data["validation"] == 60000
    assert metadata["accuracy"] >= 0.996
    per_class = metadata["per_class"]
    assert set(per_class) == {str(d) for d in range(10)} and min(per_class.values()) >= 0.99
    assert metadata["export_max_abs_difference"] <= 1e-4


def test_model_files_are_small(shipped_model_dir: Path) -> None:
    for name in ("model.tflite", "model.keras"):
        assert (shipped_model_dir / name).stat().st_size < 5 * 1024 * 1024


def test_litert_agrees_with_keras_on_real_digits(
    shipped_model_dir: Path, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    keras = pytest.importorskip("keras")
    x, _ = mnist_test_digits
    digits = renormalise(x[:500])
    expected = keras.models.load_model(shipped_model_dir / "model.keras").predict(
        digits[..., None] / 255.0, verbose=0
    )
    assert np.abs(Classifier(shipped_model_dir).predict(digits) - expected).max() <= 1e-4
