"""Benchmark reading a phone photo: bytes to answer, ours against the article's recipe.

Prints, from one run on one machine:
- a 1280x960 phone JPEG of one handwritten digit (rendered from an MNIST test digit),
  read from its bytes to the answer: decode, preprocessing, model through LiteRT;
  p50/p95, and the share of each stage;
- the article's recipe on the same bytes (decode to grey, resize to 28x28,
  ``tf.keras.utils.normalize(axis=1)``, Keras ``model.predict`` on ``models/model.keras``),
  timed in blocks alternating with ours so that both see the same stretches of a machine
  whose speed drifts; its p50/p95 and how many times slower it is;
- the accuracy of both on the same rendered photos (single digits, every style), and how
  long ours took over those images of every size and style.

Usage: python bench/bench_photo.py [--model DIR] [--repeats N] [--photos N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from classifier import synth
from classifier.imageio import decode
from classifier.preprocess import DECODE_SIDE, prepare
from classifier.reader import DigitReader
from classifier.serving import KERAS_FILE, Classifier, default_model_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.timing import p50_p95, timed


def phone_photo(x: np.ndarray, y: np.ndarray) -> tuple[bytes, int]:
    """A 1280x960 phone photo of one digit, as a phone would send it."""
    rng = np.random.default_rng(2024)
    look = synth.Look(
        size=(1280, 960), digit_height=0.3, rotation=4.0, gradient=0.3, blur=0.8, noise=3.0, quality=88
    )
    index = int(synth.split_range("report", len(x))[0])
    return synth.encode(synth.render_photo(rng, [x[index]], look), "jpg", look.quality), int(y[index])


def article_recipe(model_path: Path) -> Callable[[bytes], int]:
    """The article's own-image recipe, with the same model's Keras file."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    model = keras.models.load_model(model_path)

    def read(data: bytes) -> int:
        gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            raise ValueError("not an image")
        small = cv2.resize(gray, (28, 28))
        batch = tf.keras.utils.normalize(small[np.newaxis].astype(np.float32), axis=1)
        return int(np.argmax(model.predict(batch[..., np.newaxis], verbose=0)))

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path(), help="model folder")
    parser.add_argument("--repeats", type=int, default=200, help="timed reads per pipeline")
    parser.add_argument("--photos", type=int, default=12, help="photos per style for the accuracy comparison")
    args = parser.parse_args()

    x, y = synth.load_test_digits()
    data, label = phone_photo(x, y)
    classifier = Classifier(args.model)
    reader = DigitReader(classifier)
    reading = reader.read(data)
    print(f"model {classifier.path} (version {classifier.version})")
    print(f"photo: 1280x960 JPEG, {len(data):,} bytes, digit {label}; ours reads {reading.number!r}")

    recipe = article_recipe(
        args.model / KERAS_FILE if args.model.is_dir() else args.model.with_name(KERAS_FILE)
    )
    ours, theirs = side_by_side(lambda: reader.read(data), lambda: recipe(data), args.repeats)
    # Well after the last Keras call (see ``side_by_side``).
    decoding = timed(lambda: decode(data, min_side=DECODE_SIDE), args.repeats, warmup=WARMUP)
    preparing = timed(lambda: prepare(data), args.repeats)
    digits = prepare(data).digits
    modelling = timed(lambda: classifier.predict(digits), args.repeats)
    ours_p50, ours_p95 = p50_p95(ours)
    print(f"ours, bytes to answer (LiteRT):  p50 {ours_p50:6.2f} ms   p95 {ours_p95:6.2f} ms")
    for name, samples in (("decode", decoding), ("decode + preprocess", preparing), ("model", modelling)):
        p50, p95 = p50_p95(samples)
        print(f"  {name:28s} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")

    theirs_p50, theirs_p95 = p50_p95(theirs)
    print(f"article's recipe (Keras):         p50 {theirs_p50:6.2f} ms   p95 {theirs_p95:6.2f} ms")
    print(f"ours is {theirs_p50 / ours_p50:.1f}x faster at p50 ({theirs_p95 / ours_p95:.1f}x at p95)")

    rendered = [
        s for style in synth.SINGLE_STYLES for s in synth.generate(style, args.photos, "report", x, y)
    ]
    if not rendered:
        return
    total = len(rendered)
    right_theirs = sum(str(recipe(sample.data)) == sample.label for sample in rendered)
    timed(lambda: reader.read(data), 0, warmup=WARMUP)  # away from the Keras calls first
    right_ours = 0
    reads: list[float] = []
    for sample in rendered:
        start = time.perf_counter()
        right_ours += reader.read(sample.data).number == sample.label
        reads.append(time.perf_counter() - start)
    print(
        f"accuracy on {total} rendered single-digit photos and drawings ({args.photos} per style): "
        f"ours {right_ours / total:.1%}, article's recipe {right_theirs / total:.1%}"
    )
    p50, p95 = p50_p95(reads)
    print(
        f"ours over those {total} images (every size and style, one read each): "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms"
    )


ROUNDS = 5
WARMUP = 20  # untimed calls of ours after Keras's: its threads spin on for a while


def side_by_side(
    ours: Callable[[], object], theirs: Callable[[], object], repeats: int
) -> tuple[list[float], list[float]]:
    """``repeats`` timed calls of ``ours`` and a quarter as many of ``theirs`` (at least 20),
    in ROUNDS alternating blocks, so that both see the same stretches of a shared machine
    whose speed drifts. Each block starts with a few untimed calls: TensorFlow's threads keep
    spinning for a while after a Keras call, and would otherwise be timed as ours."""
    mine: list[float] = []
    other: list[float] = []
    for _ in range(ROUNDS):
        mine += timed(ours, max(1, repeats // ROUNDS), warmup=WARMUP)
        other += timed(theirs, max(4, repeats // 4 // ROUNDS), warmup=1)
    return mine, other


if __name__ == "__main__":
    main()
