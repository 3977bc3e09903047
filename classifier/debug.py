"""What the model saw: the photo with digit boxes, and the 28x28 digits enlarged, as one PNG."""

from __future__ import annotations

import cv2
import numpy as np

from classifier.preprocess import Prepared
from classifier.reader import Reading

PANEL_WIDTH = 640
CROP_ZOOM = 4  # 28x28 -> 112x112


def render_debug(prepared: Prepared, reading: Reading) -> bytes:
    """One PNG: the working image with a box and label per digit, the model's inputs below it."""
    photo = cv2.cvtColor(prepared.gray, cv2.COLOR_GRAY2BGR)
    zoom = PANEL_WIDTH / photo.shape[1]
    photo = cv2.resize(
        photo,
        (PANEL_WIDTH, max(1, round(photo.shape[0] * zoom))),
        interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR,
    )
    # Boxes are in original-image pixels; the working image is 1/scale of that.
    factor = zoom / prepared.scale
    for i, (x, y, w, h) in enumerate(prepared.boxes):
        p1 = (round(x * factor), round(y * factor))
        p2 = (round((x + w) * factor), round((y + h) * factor))
        cv2.rectangle(photo, p1, p2, (0, 160, 0), 2)
        if i < len(reading.digits):
            d = reading.digits[i]
            label = f"{d.digit} {d.confidence:.0%}"
            cv2.putText(
                photo,
                label,
                (p1[0], max(14, p1[1] - 6)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.6,
                (0, 0, 220),
                2,
                cv2.LINE_AA,
            )
    side = 28 * CROP_ZOOM
    per_row = max(1, PANEL_WIDTH // (side + 8))
    rows = max(1, -(-len(prepared.digits) // per_row))
    strip = np.full((rows * (side + 8) + 8, PANEL_WIDTH, 3), 255, np.uint8)
    for i, digit in enumerate(prepared.digits):
        r, c = divmod(i, per_row)
        big = cv2.resize(digit, (side, side), interpolation=cv2.INTER_NEAREST)
        y0, x0 = 8 + r * (side + 8), 8 + c * (side + 8)
        strip[y0 : y0 + side, x0 : x0 + side] = big[..., None]
    ok, png = cv2.imencode(".png", np.vstack([photo, strip]))
    if not ok:
        raise RuntimeError("could not encode the debug image")
    return bytes(png.tobytes())
