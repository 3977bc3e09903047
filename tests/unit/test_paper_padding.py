"""The padding under the paper's closing (``photo_ink._pad``): a stroke running into the
frame is mirrored, anything else replicated. Its edges are scanned in one pass; the
reference is the earlier edge-by-edge version, which it must match pixel for pixel."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classifier.photo_ink import _pad


def _reference_short_runs(flags: np.ndarray, length: int) -> np.ndarray:
    if not flags.any() or flags.all():
        return np.zeros_like(flags)
    padded = np.concatenate([[False], flags, [False]])
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    starts, stops = changes[::2], changes[1::2]
    out = np.zeros(flags.size + 1, np.int32)
    short = stops - starts < length
    out[starts[short]] = 1
    out[stops[short]] = -1
    return np.cumsum(out[:-1]) > 0


def _reference_pad(thumb: np.ndarray, k: int) -> np.ndarray:
    out = cv2.copyMakeBorder(thumb, k, k, k, k, cv2.BORDER_REPLICATE)
    h, w = thumb.shape
    paper = 0.85 * float(np.max(cv2.resize(thumb, (8, 8), interpolation=cv2.INTER_AREA)))
    edges = [edge < paper for edge in (thumb[0], thumb[-1], thumb[:, 0], thumb[:, -1])]
    runs = _reference_short_runs(np.concatenate([np.append(edge, False) for edge in edges]), k)
    starts = np.cumsum([0] + [edge.size + 1 for edge in edges])
    strokes = [
        runs[start : start + edge.size] & ~edge.all() for start, edge in zip(starts, edges, strict=False)
    ]
    mirrored = cv2.copyMakeBorder(thumb, k, k, k, k, cv2.BORDER_REFLECT_101)
    for side, stroke in enumerate(strokes):
        along = np.flatnonzero(stroke) + k
        if side == 0:
            out[:k, along] = mirrored[:k, along]
        elif side == 1:
            out[k + h :, along] = mirrored[k + h :, along]
        elif side == 2:
            out[along, :k] = mirrored[along, :k]
        else:
            out[along, k + w :] = mirrored[along, k + w :]
    return np.asarray(out)


def _thumbnail_with_edge_marks(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    thumb = rng.normal(200, 6, (h, w)).clip(0, 255).astype(np.uint8)
    for _ in range(rng.integers(0, 12)):  # strokes and strips reaching the frame
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x + int(rng.integers(1, w)), y + int(rng.integers(1, h))
        thumb[y:y1, x:x1] = rng.integers(20, 150)
    if rng.random() < 0.3:
        thumb[:, : int(rng.integers(1, 4))] = 60  # a dark strip all along one edge
    return thumb


@pytest.mark.parametrize("seed", range(40))
def test_the_one_pass_padding_matches_the_edge_by_edge_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(2, 80)), int(rng.integers(2, 110))
    thumb = _thumbnail_with_edge_marks(rng, h, w)
    for k in {1, 3, max(1, min(h, w) // 3) | 1, max(h, w) // 5 | 1, max(h, w) | 1}:
        assert np.array_equal(_pad(thumb, k), _reference_pad(thumb, k)), (h, w, k)


def test_a_stroke_into_the_frame_is_mirrored_and_a_strip_along_it_replicated() -> None:
    thumb = np.full((40, 60), 200, np.uint8)
    thumb[:5, 30:33] = 40  # a stroke running into the top edge
    thumb[:, -2:] = 60  # a strip of table all along the right edge
    k = 9
    padded = _pad(thumb, k)
    # Mirrored: the stroke goes on as far again, then paper (replicated, it would be endless).
    assert padded[k - 4, k + 31] == 40 and padded[0, k + 31] == 200
    assert (padded[k:-k, -k:] == 60).all()  # the strip stays dark outwards
    assert np.array_equal(padded[k:-k, k:-k], thumb)
