"""Benchmark reading digits written by people outside this project, sent as crops.

The only such digits this machine has are scikit-learn's copy of the UCI "optical
recognition of handwritten digits" test set: 1,797 digits by 13 writers (none of them
MNIST's), scanned from NIST forms and stored as 8x8 images of 0..16 (4x4 blocks of a 32x32
bitmap counted). Each is sent to the reader as a PNG, the way a user would send a crop:

- 8x8, light on dark and dark on light (the strokes run into the frame);
- enlarged to 32x32, light on dark (a tight crop at a more usual size);
- as MNIST itself is made: 20x20 in the middle of 28x28 (what the model alone makes of
  these digits, for comparison).

Prints the share read right and how many were answered "no digit". Needs the data:
``pip install scikit-learn`` (it ships the file), or ``--data PATH`` to its
``sklearn/datasets/data/digits.csv.gz``.

Usage: python bench/bench_crops.py [--model DIR] [--data digits.csv.gz] [--count N]
"""

from __future__ import annotations

import argparse
import gzip
import io
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from classifier.reader import DigitReader
from classifier.serving import Classifier, default_model_path


def load_digits(path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits as uint8 grey (0..255, light ink on black) and their labels."""
    if path is None:
        try:
            from sklearn.datasets import load_digits as sklearn_digits
        except ImportError as error:
            message = "needs scikit-learn (pip install scikit-learn) or --data digits.csv.gz"
            raise SystemExit(message) from error
        bunch = sklearn_digits()
        rows = np.column_stack([bunch.data, bunch.target])
    else:
        with gzip.open(path) as data:
            rows = np.loadtxt(data, delimiter=",")
    images = np.round(rows[:, :64].reshape(-1, 8, 8) * 255.0 / 16.0).astype(np.uint8)
    return images, rows[:, 64].astype(int)


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def mnist_like(image: np.ndarray) -> np.ndarray:
    inner = cv2.resize(image, (20, 20), interpolation=cv2.INTER_CUBIC)
    return np.asarray(cv2.copyMakeBorder(inner, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=0))


KINDS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "8x8, light on dark": lambda image: image,
    "8x8, dark on light": lambda image: 255 - image,
    "32x32, light on dark": lambda image: np.asarray(
        cv2.resize(image, (32, 32), interpolation=cv2.INTER_CUBIC)
    ),
    "20x20 in 28x28, like MNIST": mnist_like,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path(), help="model folder")
    parser.add_argument("--data", type=Path, help="scikit-learn's digits.csv.gz (default: from scikit-learn)")
    parser.add_argument("--count", type=int, default=0, help="digits to read (default: all)")
    args = parser.parse_args()

    images, labels = load_digits(args.data)
    if args.count:
        images, labels = images[: args.count], labels[: args.count]
    reader = DigitReader(Classifier(args.model))
    print(f"{len(images)} UCI handwritten digits (13 writers), model {reader.classifier.version}")
    for kind, make in KINDS.items():
        right = empty = 0
        for image, label in zip(images, labels, strict=True):
            number = reader.read(png(make(image))).number
            right += number == str(label)
            empty += number == ""
        print(f"  {kind:28s} {right / len(images):6.1%} right   {empty:4d} answered 'no digit'")


if __name__ == "__main__":
    main()
