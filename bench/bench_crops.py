"""Benchmark reading digits written by people outside this project, sent as crops.

Two data sets of such digits are committed, each sent to the reader as PNGs, the way a user
would send a crop:

- the test set of the UCI "optical recognition of handwritten digits" data set,
  ``tests/data/uci_digits.npz`` (``tests/data/make_uci.py``): 1,797 digits by 13 writers
  (none of them MNIST's), scanned from NIST forms and stored as 8x8 images (4x4 blocks of a
  32x32 bitmap counted). Sent 8x8, light on dark and dark on light (the strokes run into the
  frame); enlarged to 32x32, light on dark (a tight crop at a more usual size; no more
  detail); in MNIST's frame, 20x20 in the middle of 28x28 (centred by its box, where MNIST
  centres by the centre of mass); and smoothly enlarged 16 times, both ways (too big to be
  taken for a tiny picture, with no more detail than one);
- the UCI "multiple features" digits, ``tests/data/mfeat_digits.npz``
  (``tests/data/make_mfeat.py``): 2,000 digits cut out of Dutch utility maps, 15x16, so
  tightly that their thick strokes are most of the frame. Sent as they are, light on dark
  and dark on light, in MNIST's frame, and smoothly enlarged 8 times both ways.

Prints, for each, the share read right and how many were answered "no digit".

Usage: python bench/bench_crops.py [--model DIR] [--count N]  (N of each set, spread over it)
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

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
UCI_DIGITS = DATA / "uci_digits.npz"
MAP_DIGITS = DATA / "mfeat_digits.npz"


def load_digits(path: Path = UCI_DIGITS) -> tuple[np.ndarray, np.ndarray]:
    """The digits as uint8 grey (light ink on black) and their labels."""
    with np.load(path) as data:
        return np.asarray(data["x"]), np.asarray(data["y"]).astype(int)


def mnist_like(image: np.ndarray) -> np.ndarray:
    """The digit fitted into 20x20 keeping its shape, in the middle of 28x28."""
    h, w = image.shape
    f = 20 / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    inner = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
    framed = (top, 28 - size[1] - top, left, 28 - size[0] - left)
    return np.asarray(cv2.copyMakeBorder(inner, *framed, cv2.BORDER_CONSTANT, value=0))


def zoomed(image: np.ndarray, times: int) -> np.ndarray:
    """The crop enlarged smoothly (bicubic): bigger, with no more detail."""
    return np.asarray(cv2.resize(image, None, fx=times, fy=times, interpolation=cv2.INTER_CUBIC))


KINDS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "8x8, light on dark": lambda image: image,
    "8x8, dark on light": lambda image: 255 - image,
    "32x32, light on dark": lambda image: np.asarray(
        cv2.resize(image, (32, 32), interpolation=cv2.INTER_CUBIC)
    ),
    "20x20 in 28x28, like MNIST": mnist_like,
    "128x128 (enlarged 16 times), light on dark": lambda image: zoomed(image, 16),
    "128x128 (enlarged 16 times), dark on light": lambda image: 255 - zoomed(image, 16),
}
MAP_KINDS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "15x16, light on dark": lambda image: image,
    "15x16, dark on light": lambda image: 255 - image,
    "in 28x28, like MNIST": mnist_like,
    "120x128 (enlarged 8 times), light on dark": lambda image: zoomed(image, 8),
    "120x128 (enlarged 8 times), dark on light": lambda image: 255 - zoomed(image, 8),
}
DATA_SETS = {
    "UCI handwritten digits (13 writers, 8x8)": (UCI_DIGITS, KINDS),
    "UCI map digits (Dutch utility maps, 15x16)": (MAP_DIGITS, MAP_KINDS),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path(), help="model folder")
    parser.add_argument("--count", type=int, default=0, help="digits to read of each set (default: all)")
    args = parser.parse_args()

    reader = DigitReader(Classifier(args.model))
    print(f"model {reader.classifier.version}")
    for name, (path, kinds) in DATA_SETS.items():
        images, labels = load_digits(path)
        if args.count:  # spread over the set, which may be sorted by digit
            picks = np.linspace(0, len(images) - 1, min(args.count, len(images))).round().astype(int)
            images, labels = images[picks], labels[picks]
        print(f"{len(images)} {name}")
        for kind, make in kinds.items():
            right = empty = 0
            for image, label in zip(images, labels, strict=True):
                number = reader.read(synth.encode(make(image), "png")).number
                right += number == str(label)
                empty += number == ""
            print(f"  {kind:43s} {right / len(images):6.1%} right   {empty:4d} answered 'no digit'")


if __name__ == "__main__":
    main()
