"""Loading MNIST: the promised errors for bad files, and the environment variable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.data import ENV_VAR, DataError, load_mnist


def _write(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def _good() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 20).astype(np.uint8),
        "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 10).astype(np.uint8),
    }


def test_loads_the_committed_subset(mnist_subset_path: Path) -> None:
    data = load_mnist(mnist_subset_path)
    assert data.x_train.shape == (5000, 28, 28) and data.x_test.shape == (2000, 28, 28)
    assert data.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # MNIST's own order
    assert len(data.sha256) == 64


def test_environment_variable_names_the_file(
    mnist_subset_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(mnist_subset_path))
    assert load_mnist(None).source == str(mnist_subset_path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_mnist(tmp_path / "nope.npz")


def test_not_an_npz(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    path.write_text("hello")
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        load_mnist(path)


def test_missing_keys(tmp_path: Path) -> None:
    arrays = _good()
    del arrays["y_test"]
    with pytest.raises(DataError, match=r"missing array.*y_test"):
        load_mnist(_write(tmp_path / "m.npz", **arrays))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("x_train", np.zeros((20, 32, 32), np.uint8), r"x_train has shape \(20, 32, 32\)"),
        ("x_test", np.zeros((10, 28, 28), np.float32), "x_test has dtype float32"),
        ("y_train", np.zeros(19, np.uint8), r"y_train has shape \(19,\)"),
        ("y_test", np.full(10, 10, np.uint8), "labels run from 10 to 10"),
        ("y_test", np.zeros(10, np.float64), "expected integer labels"),
    ],
)
def test_bad_arrays_are_named(tmp_path: Path, key: str, value: np.ndarray, message: str) -> None:
    arrays = _good()
    arrays[key] = value
    with pytest.raises(DataError, match=message):
        load_mnist(_write(tmp_path / "m.npz", **arrays))


def test_pickled_arrays_are_refused(tmp_path: Path) -> None:
    arrays: dict[str, np.ndarray] = dict(_good())
    arrays["x_train"] = np.array([{"a": 1}], dtype=object)
    with pytest.raises(DataError):
        load_mnist(_write(tmp_path / "m.npz", **arrays))
