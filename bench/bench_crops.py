"""Benchmark reading digits written by people outside this project, sent as crops.

The only such digits this repository has are the test set of the UCI "optical recognition
of handwritten digits" data set, committed as ``tests/data/uci_digits.npz`` (see
``tests/data/make_uci.py``): 1,797 digits by 13 writers (none of them MNIST's), scanned from
NIST forms and stored as 8x8 images (4x4 blocks of a 32x32 bitmap counted). Each is sent to
the reader as a PNG, the way a user would send a crop:

- 8x8, light on dark and dark on light (the strokes run into the frame);
- enlarged to 32x32, light on dark (a tight crop at a more usual size; no more detail);
- in MNIST's frame: 20x20 in the middle of 28x28 (centred by its box, where MNIST centres
  by the centre of mass).

Prints the share read right and how many were answered "no digit".

Usage: python bench/bench_crops.py [--model DIR] [--count N]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from classifier import synth
from classifier.reader import DigitReader
from classifier.serving import Classifier, default_model_path

UCI_DIGITS = Path(__file__).resolve().parent.parent / "tests" / "data" / "uci_digits.npz"


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits as uint8 grey (light ink on black) and their labels."""
    with np.load(UCI_DIGITS) as data:
        return np.asarray(data["x"]), np.asarray(data["y"]).astype(int)


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
    parser.add_argument("--count", type=int, default=0, help="digits to read (default: all)")
    args = parser.parse_args()

    images, labels = load_digits()
    if args.count:
        images, labels = images[: args.count], labels[: args.count]
    reader = DigitReader(Classifier(args.model))
    print(f"{len(images)} UCI handwritten digits (13 writers), model {reader.classifier.version}")
    for kind, make in KINDS.items():
        right = empty = 0
        for image, label in zip(images, labels, strict=True):
            number = reader.read(synth.encode(make(image), "png")).number
            right += number == str(label)
            empty += number == ""
        print(f"  {kind:28s} {right / len(images):6.1%} right   {empty:4d} answered 'no digit'")


if __name__ == "__main__":
    main()
