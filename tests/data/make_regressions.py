"""Rebuild ``regression_photos.npz``: the digits of rendered photos that were once read wrong.

Photos rendered from the full MNIST test set (``synth.make_sample``) show digits the
committed subset lacks. To render such a photo again without the full set, this keeps the
digits it shows, their labels, the size of the test set they were picked from (the random
choices after the pick depend on it) and the photo's SHA-256: ``tests/behaviour`` renders
them again (``rendered_again``) and checks that the bytes are the same (a change to the
renderer shows there, and this script must be run again).
Usage: python tests/data/make_regressions.py ../shared/data/mnist.npz
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from classifier import synth

OUT = Path(__file__).with_name("regression_photos.npz")
# (style, index, split): what went wrong, and what was changed for it.
PHOTOS = [
    ("number2", 29, "dev"),  # "02" read "021": a looped 2's tail cut off as a 1 (segments.SHORTEST)
    ("number4", 76, "dev"),  # "5592" read "55921", the same
    ("shadow", 55, "dev"),  # a 0 joined to a shadow's edge read as a 9 (photo_layout.VALLEY_BELOW)
    ("shadow", 51, "dev"),  # a 2 joined to a shadow's edge read as a 3, the same
    # The page's edge, cut by the side of the region read closer, read as a "1" after the
    # number: "30901", "1458881"; and a sliver of it before as well, "15648641"
    # (preprocess.SIDE_SLIVER, SIDE_LINE).
    ("number4", 54, "dev"),
    ("number5-6", 65, "calibration"),
    ("number5-6", 68, "calibration"),
    # Digits that touch, read whole as surely as their pieces: "44" read as a sure "4",
    # "22" as "2", "470" as "40" (segments.APART_MARGIN) ...
    ("number-touching", 26, "dev"),
    ("number-touching", 76, "dev"),
    ("number-touching", 186, "dev"),
    # ... and single digits cut across one stroke into pieces the model reads as surely,
    # which that margin alone split: a 9 into "01", a 6 into "60" (its loop shorter than
    # the 6), a 6 of "66" into "10" (APART_HEIGHT 0.75: its loop is 0.76 of the 6).
    ("dim", 33, "dev"),
    ("tiny", 99, "dev"),
    ("number2", 24, "calibration"),
    # ... and, by pieces tall enough cut across two strokes (APART_STROKES), a 5 into "53"
    # and the 5 of "2352" into "55".
    ("paint-white-on-black", 88, "calibration"),
    ("number4", 58, "calibration"),
]


def key(style: str, index: int, split: str) -> str:
    return f"{style}-{index}-{split}"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rendered_again(style: str, index: int, split: str) -> tuple[synth.Sample, str]:
    """The photo rendered again from the digits kept for it, and the SHA-256 it had."""
    name = key(style, index, split)
    with np.load(OUT, allow_pickle=False) as data:
        x, y, test_size = data[f"{name}-x"], data[f"{name}-y"], int(data["test_size"])
        kept = str(data[f"{name}-sha256"])
    rng, _ = synth.pick_digits(style, index, split, test_size)
    return synth.render_sample(style, rng, x, y, tuple(range(len(x))), index), kept


def main(source: str) -> None:
    x, y = synth.load_test_digits(source)
    arrays: dict[str, Any] = {"test_size": np.array(len(x))}
    for style, index, split in PHOTOS:
        sample = synth.make_sample(style, index, split, x, y)
        picked = list(sample.indices)
        name = key(style, index, split)
        arrays[f"{name}-x"] = x[picked]
        arrays[f"{name}-y"] = y[picked]
        arrays[f"{name}-sha256"] = np.array(digest(sample.data))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
