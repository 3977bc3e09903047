"""Rebuild ``mnist_subset.npz``: the real MNIST digits the test suite runs on.

The suite must pass on a fresh clone without the full data set, so a small,
fixed subset is committed: the first 5,000 training digits (for short trainer
runs) and the first 2,000 test digits (for accuracy checks and rendered photos).
Usage: python tests/data/make_subset.py ../shared/data/mnist.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

TRAIN, TEST = 5000, 2000
OUT = Path(__file__).with_name("mnist_subset.npz")


def main(source: str) -> None:
    with np.load(source, allow_pickle=False) as full:
        np.savez_compressed(
            OUT,
            x_train=full["x_train"][:TRAIN],
            y_train=full["y_train"][:TRAIN],
            x_test=full["x_test"][:TEST],
            y_test=full["y_test"][:TEST],
        )
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mnist.npz")
