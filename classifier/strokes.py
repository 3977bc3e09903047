"""A digit's strokes as a pen's path: thinning to a skeleton, and how well redrawing that
skeleton with a pen reproduces the digit. Shared by the photo generator (digits written
with a given pen) and training augmentation (MNIST digits re-inked with another pen)."""

from __future__ import annotations

import cv2
import numpy as np

# Below this overlap (see ``redraw_overlap``) a digit is not redrawn with another pen.
REDRAWABLE = 0.6


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to one-pixel-wide lines (vectorised)."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:]
            p5, p6, p7 = img[2:, 2:], img[2:, 1:-1], img[2:, :-2]
            p8, p9 = img[1:-1, :-2], img[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            count = sum(p.astype(np.int32) for p in ring[:8])
            transitions = sum(((ring[i] == 0) & (ring[i + 1] == 1)).astype(np.int32) for i in range(8))
            if step == 0:
                first, second = p2 * p4 * p6 == 0, p4 * p6 * p8 == 0
            else:
                first, second = p2 * p4 * p8 == 0, p2 * p6 * p8 == 0
            remove = (
                (img[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & first & second
            )
            if remove.any():
                img[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def skeleton_distance(shape: np.ndarray) -> np.ndarray:
    """Each pixel's distance (px, float32) to the skeleton of the boolean ``shape``."""
    skeleton = thin(shape)
    return np.asarray(cv2.distanceTransform((~skeleton).astype(np.uint8), cv2.DIST_L2, 5), np.float32)


def redraw_overlap(shape: np.ndarray, distance: np.ndarray) -> float:
    """Intersection over union of a digit's own shape and its skeleton redrawn at the
    digit's own stroke width. Low for a digit written as blobs (a loop filled in), whose
    skeleton is not the digit: redrawn with a pen it would become another digit."""
    area = float(shape.sum())
    contours, _ = cv2.findContours(shape.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    redrawn = distance <= area / max(perimeter, 1.0)
    union = float((shape | redrawn).sum())
    return float((shape & redrawn).sum()) / max(union, 1.0)
