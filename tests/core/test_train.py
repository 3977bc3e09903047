"""The trainer, on a few thousand real MNIST digits: it learns, writes atomically, reproduces."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras

from classifier.serving import Classifier
from classifier.train import TrainConfig, train

pytestmark = pytest.mark.slow


def _config(out: Path, data: Path, **overrides: Any) -> TrainConfig:
    settings: dict[str, Any] = {"epochs": 4, "limit": 4000, "test_limit": 1000, "verbose": 0}
    settings.update(overrides)
    return TrainConfig(out=out, data=str(data), **settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, mnist_subset_path: Path) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("model")
    return out, train(_config(out, mnist_subset_path, seed=5))


def test_a_short_run_learns_the_digits(trained: tuple[Path, dict[str, Any]]) -> None:
    _, metadata = trained
    assert metadata["accuracy"] > 0.90  # on 1,000 held-out test digits it never saw
    assert metadata["n"] == 1000
    data = metadata["data"]
    # Every digit trained on or held out, plus the 1s copied with a continental flag.
    assert data["validation"] > 0 and data["train"] + data["validation"] == 4000 + data["flagged_ones"]
    assert 0 < data["flagged_ones"] < 0.4 * 4000 / 10 * 1.5


def test_every_promised_file_is_written(trained: tuple[Path, dict[str, Any]]) -> None:
    out, metadata = trained
    names = {p.name for p in out.iterdir()}
    assert names == {"model.keras", "model.tflite", "metadata.json", "confusion.png", "training_curves.png"}
    for png in ("confusion.png", "training_curves.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    on_disk = json.loads((out / "metadata.json").read_text())
    assert on_disk == json.loads(json.dumps(metadata))
    for key in ("version", "created_at", "accuracy", "per_class", "training_seconds", "architecture"):
        assert key in on_disk
    assert len(on_disk["data"]["sha256"]) == 64
    assert set(on_disk["per_class"]) == {str(d) for d in range(10)}


def test_litert_export_matches_keras_on_real_digits(
    trained: tuple[Path, dict[str, Any]], mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    out, _ = trained
    x, _ = mnist_test_digits
    keras_probs = keras.models.load_model(out / "model.keras").predict(x[:300] / 255.0, verbose=0)
    served = Classifier(out).predict(x[:300])
    assert np.abs(served - keras_probs).max() <= 1e-4


def test_same_seed_same_model_other_seed_other_model(
    tmp_path: Path, mnist_subset_path: Path, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, _ = mnist_test_digits
    weights, served = {}, {}
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        out = tmp_path / name
        train(_config(out, mnist_subset_path, seed=seed, epochs=1, limit=800, test_limit=100))
        weights[name] = keras.models.load_model(out / "model.keras").get_weights()
        served[name] = Classifier(out).predict(x[:200])
    # Compared as weights and outputs: the .tflite bytes also carry Keras's per-process layer names.
    assert all(np.array_equal(a, b) for a, b in zip(weights["a"], weights["b"], strict=True))
    assert np.array_equal(served["a"], served["b"])
    assert not all(np.array_equal(a, c) for a, c in zip(weights["a"], weights["c"], strict=True))


def test_photos_add_digits_cut_from_rendered_photos(tmp_path: Path, mnist_subset_path: Path) -> None:
    metadata = train(
        _config(tmp_path / "m", mnist_subset_path, epochs=1, limit=800, test_limit=100, photos=1)
    )
    data = metadata["data"]
    # One photo of each single-digit style (numbers come in half as many: none), drawn from
    # the training digits, never the validation ones. A photo whose digit the pipeline
    # misses adds nothing.
    assert 14 <= data["photo_crops"] <= 18
    assert data["train"] + data["validation"] == 800 + data["photo_crops"] + data["flagged_ones"]
    assert metadata["config"]["photos"] == 1


def test_fine_tuning_starts_from_the_given_model(
    trained: tuple[Path, dict[str, Any]], tmp_path: Path, mnist_subset_path: Path
) -> None:
    start, _ = trained
    start_weights = keras.models.load_model(start / "model.keras").get_weights()
    # A learning rate too small to move the weights: what comes out is what went in.
    out = tmp_path / "tuned"
    metadata = train(
        _config(out, mnist_subset_path, epochs=1, limit=800, learning_rate=1e-12, start_from=start, seed=9)
    )
    tuned = keras.models.load_model(out / "model.keras")
    pairs = zip(tuned.weights, start_weights, strict=True)
    kernels = [(v, s) for v, s in pairs if v.trainable and v.ndim > 1]
    assert kernels and all(np.allclose(v.numpy(), s, atol=1e-6) for v, s in kernels)
    assert metadata["accuracy"] > 0.90 and metadata["config"]["start_from"] == str(start)
    assert metadata["started_from_sha256"] == hashlib.sha256((start / "model.keras").read_bytes()).hexdigest()


class _Interrupt(Exception):
    pass


class _InterruptAfterFirstEpoch(keras.callbacks.Callback):  # type: ignore[misc]
    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        raise _Interrupt


def test_an_interrupted_run_leaves_the_old_model_in_place(
    trained: tuple[Path, dict[str, Any]], tmp_path: Path, mnist_subset_path: Path
) -> None:
    out, _ = trained
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(_Interrupt):
        train(_config(out, mnist_subset_path, epochs=2, limit=800), callbacks=[_InterruptAfterFirstEpoch()])
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same files, same bytes, no staging folder left behind
