"""Benchmark the model: serving latency, start-up, memory and training speed.

Prints, from one run on one machine:
- forward latency p50/p95 for batch 1 and 64 through LiteRT (what the bot uses),
  a Keras ``tf.function`` and the article's ``model.predict``, and their ratios;
- start-up time and peak memory of a serving process (LiteRT) and of a TensorFlow one;
- training seconds per epoch (measured on a slice, scaled to full MNIST).

Usage: python bench/bench_model.py [--model DIR] [--data mnist.npz] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import p50_p95, timed  # noqa: E402

SUBSET = ROOT / "tests" / "data" / "mnist_subset.npz"

STARTUP_LITERT = """
import resource, sys, time, numpy as np
t = time.perf_counter()
from classifier.serving import Classifier
c = Classifier(sys.argv[1])
c.predict(np.zeros((1, 28, 28), np.uint8))
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
STARTUP_TF = """
import resource, sys, time, numpy as np
t = time.perf_counter()
import keras
m = keras.models.load_model(sys.argv[1] + "/model.keras")
m.predict(np.zeros((1, 28, 28, 1), np.float32), verbose=0)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def startup(script: str, model: Path, runs: int = 3) -> tuple[float, float]:
    """Median wall seconds to import, load and answer once; peak RSS in MB."""
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", script, str(model)], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.split()
        results.append((float(out[-2]), float(out[-1])))
    return float(np.median([r[0] for r in results])), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--data", type=Path, default=SUBSET)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--no-train", action="store_true", help="skip the training-speed part")
    args = parser.parse_args()

    with np.load(args.data, allow_pickle=False) as npz:
        x_test = npz["x_test"][:64]

    print("== start-up and memory (fresh process, import + load + one answer)")
    lite_s, lite_mb = startup(STARTUP_LITERT, args.model)
    tf_s, tf_mb = startup(STARTUP_TF, args.model)
    print(f"LiteRT serving:     {lite_s:6.2f} s  peak RSS {lite_mb:6.0f} MB")
    print(f"TensorFlow + Keras: {tf_s:6.2f} s  peak RSS {tf_mb:6.0f} MB")
    print(f"ratio: start-up {tf_s / lite_s:.0f}x, memory {tf_mb / lite_mb:.1f}x in favour of LiteRT")

    import keras
    import tensorflow as tf

    from classifier.mnist_format import to_model_input
    from classifier.serving import Classifier

    classifier = Classifier(args.model)
    model = keras.models.load_model(args.model / "model.keras")
    forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    print(f"\n== forward latency, ms (p50 / p95 over {args.repeats} calls)")
    rows = {}
    for batch in (1, 64):
        digits = x_test[:batch]
        inputs = to_model_input(digits)
        rows[batch] = {
            "LiteRT": p50_p95(timed(partial(classifier.predict, digits), args.repeats, warmup=3)),
            "tf.function": p50_p95(timed(partial(forward, inputs), args.repeats, warmup=3)),
            "model.predict": p50_p95(
                timed(partial(model.predict, inputs, verbose=0), max(20, args.repeats // 5), warmup=3)
            ),
        }
        for name, (p50, p95) in rows[batch].items():
            print(f"batch {batch:2d}  {name:14s} p50 {p50:8.3f}  p95 {p95:8.3f}")
        lite = rows[batch]["LiteRT"][0]
        print(
            f"batch {batch:2d}  LiteRT is {rows[batch]['tf.function'][0] / lite:.1f}x faster than "
            f"tf.function, {rows[batch]['model.predict'][0] / lite:.1f}x faster than model.predict"
        )

    if not args.no_train:
        from classifier.train import TrainConfig, train

        print("\n== training speed (2 epochs on up to 12,000 digits, scaled to 55,000)")
        with tempfile.TemporaryDirectory() as out:
            config = TrainConfig(
                out=Path(out), data=str(args.data), epochs=2, limit=12000, test_limit=500, verbose=0
            )
            meta = train(config)
        per_epoch = meta["training_seconds"] / 2
        scaled = per_epoch * 55000 / meta["data"]["train"]
        print(
            f"{per_epoch:.1f} s per epoch on {meta['data']['train']} digits -> "
            f"~{scaled:.0f} s per full-MNIST epoch"
        )
        shipped = json.loads((args.model / "metadata.json").read_text())
        print(
            f"shipped model: {shipped.get('seconds_per_epoch')} s per epoch, "
            f"{shipped.get('training_seconds')} s in all"
        )


if __name__ == "__main__":
    main()
