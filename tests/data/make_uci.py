"""Rebuild ``uci_digits.npz``: handwritten digits by people outside this project.

The test set of the UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin
and C. Kaynak, 1998; https://doi.org/10.24432/C50P49, licensed CC BY 4.0), as scikit-learn
ships it: 1,797 digits by 13 writers (none of them MNIST's), scanned from NIST forms, each
8x8 pixels of 0..16 (the ink counted in 4x4 blocks of a 32x32 bitmap). Stored as uint8
0..255, light ink on black, with their labels.

Usage: python tests/data/make_uci.py PATH/TO/sklearn/datasets/data/digits.csv.gz
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("uci_digits.npz")


def main(source: str) -> None:
    with gzip.open(source) as data:
        rows = np.loadtxt(data, delimiter=",")
    images = np.round(rows[:, :64].reshape(-1, 8, 8) * 255.0 / 16.0).astype(np.uint8)
    np.savez_compressed(OUT, x=images, y=rows[:, 64].astype(np.uint8))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(images)} digits)")


if __name__ == "__main__":
    main(sys.argv[1])
