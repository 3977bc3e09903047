"""Serving the CNN through LiteRT: no TensorFlow in the process.

A process that imports TensorFlow takes ~590 MB and 7 s to start; LiteRT takes
~50 MB and a fraction of a second, which matters for a bot on a small server.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from classifier.mnist_format import to_model_input

MODEL_ENV = "DIGITBOT_MODEL"
MODEL_FILE = "model.tflite"
KERAS_FILE = "model.keras"
METADATA_FILE = "metadata.json"
SHIPPED_MODELS = Path(__file__).resolve().parent.parent / "models"


class ModelError(RuntimeError):
    """The model file is missing or is not a usable digit classifier."""


def default_model_path() -> Path:
    """``$DIGITBOT_MODEL`` if set, else the model shipped in ``models/``."""
    env = os.environ.get(MODEL_ENV)
    return Path(env) if env else SHIPPED_MODELS


def resolve_model_file(path: str | os.PathLike[str] | None = None) -> Path:
    """A ``.tflite`` file, or a model folder holding ``model.tflite``."""
    candidate = Path(path) if path else default_model_path()
    if candidate.is_dir():
        candidate = candidate / MODEL_FILE
    if not candidate.is_file():
        raise ModelError(f"model file not found: {candidate}")
    return candidate


class Classifier:
    """A TFLite digit model loaded once; classifies batches of 28x28 digits in one call."""

    def __init__(self, path: str | os.PathLike[str] | None = None, threads: int = 1) -> None:
        self.path = resolve_model_file(path)
        try:
            self._interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{self.path}: not a loadable TFLite model ({exc})") from exc
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or tuple(inputs[0]["shape"][1:]) != (28, 28, 1):
            raise ModelError(f"{self.path}: expects input {inputs[0]['shape']}, not (n, 28, 28, 1)")
        if tuple(outputs[0]["shape"][1:]) != (10,):
            raise ModelError(f"{self.path}: outputs {outputs[0]['shape']}, not (n, 10)")
        self._input = inputs[0]["index"]
        self._output = outputs[0]["index"]
        self._batch = int(inputs[0]["shape"][0])
        # One interpreter is not safe to call from two threads at once.
        self._lock = threading.Lock()
        self.metadata: dict[str, Any] = _read_metadata(self.path.parent / METADATA_FILE)

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unknown"))

    def predict(self, digits: np.ndarray) -> np.ndarray:
        """uint8 (n, 28, 28) MNIST-format digits -> float32 (n, 10) class probabilities."""
        if len(digits) == 0:
            return np.zeros((0, 10), np.float32)
        batch = to_model_input(digits)
        with self._lock:
            if batch.shape[0] != self._batch:
                self._interpreter.resize_tensor_input(self._input, list(batch.shape))
                self._interpreter.allocate_tensors()
                self._batch = batch.shape[0]
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            return np.array(self._interpreter.get_tensor(self._output), dtype=np.float32)


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
