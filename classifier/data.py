"""Loading and checking a Keras-format ``mnist.npz``."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "DIGITBOT_MNIST"
KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataError(ValueError):
    """The data set is missing or is not a Keras-format MNIST file."""


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray  # (n, 28, 28) uint8, white digit on black
    y_train: np.ndarray  # (n,) uint8, 0-9
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # where it came from, for the model's metadata
    sha256: str  # of the arrays' bytes, so a model records exactly what it saw


def resolve_path(path: str | os.PathLike[str] | None) -> Path | None:
    """The explicit path, else ``$DIGITBOT_MNIST``, else None (Keras's own download)."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


def load_mnist(path: str | os.PathLike[str] | None = None) -> Mnist:
    """Load MNIST from a local npz (``path`` or ``$DIGITBOT_MNIST``) or through Keras's cache."""
    resolved = resolve_path(path)
    if resolved is None:
        return _from_keras()
    if not resolved.is_file():
        raise DataError(f"MNIST file not found: {resolved}")
    try:
        with np.load(resolved, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise DataError(
                    f"{resolved}: missing array(s) {', '.join(missing)}; "
                    f"a Keras-format mnist.npz holds {', '.join(KEYS)}"
                )
            arrays = {k: npz[k] for k in KEYS}
    except DataError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError for pickled arrays, OSError
        raise DataError(f"{resolved}: not a readable .npz file ({exc})") from exc
    return validate(arrays, source=str(resolved))


def _from_keras() -> Mnist:
    try:
        from keras.datasets import mnist  # imported here: serving never needs Keras
    except ImportError as exc:
        raise DataError(
            f"no MNIST file given (--data or ${ENV_VAR}) and Keras is not installed "
            "to download it; install digitbot[train]"
        ) from exc
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except Exception as exc:
        raise DataError(
            f"could not download MNIST through Keras ({exc}); pass --data PATH or set ${ENV_VAR}"
        ) from exc
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return validate(arrays, source="keras.datasets.mnist")


def validate(arrays: dict[str, np.ndarray], source: str) -> Mnist:
    """Check shapes, dtypes and label range; raise DataError naming the first problem."""
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{source}: x_{split} has shape {x.shape}, expected (n, 28, 28)")
        if x.dtype != np.uint8:
            raise DataError(f"{source}: x_{split} has dtype {x.dtype}, expected uint8")
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise DataError(
                f"{source}: y_{split} has shape {y.shape}, expected ({x.shape[0]},) to match x_{split}"
            )
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{source}: y_{split} has dtype {y.dtype}, expected integer labels")
        if y.size == 0:
            raise DataError(f"{source}: {split} split is empty")
        if int(y.min()) < 0 or int(y.max()) > 9:
            raise DataError(
                f"{source}: y_{split} labels run from {int(y.min())} to {int(y.max())}, expected 0-9"
            )
    digest = hashlib.sha256()
    for k in KEYS:
        digest.update(np.ascontiguousarray(arrays[k]).tobytes())
    return Mnist(
        x_train=arrays["x_train"],
        y_train=arrays["y_train"].astype(np.uint8),
        x_test=arrays["x_test"],
        y_test=arrays["y_test"].astype(np.uint8),
        source=source,
        sha256=digest.hexdigest(),
    )
