"""What the model saw, as one PNG: the photo with a box and label per digit, the ink that
was found around the digits (ruled lines, shadows and specks already removed), and the
28x28 digits handed to the model, enlarged, each with its reading."""

from __future__ import annotations

import cv2
import numpy as np

from classifier.preprocess import OTHER_WAY, Prepared
from classifier.reader import UNSURE_BELOW, DigitResult, Reading

PANEL_WIDTH = 640
CROP_ZOOM = 4  # 28x28 -> 112x112
GREEN, ORANGE, RED, GREY = (0, 160, 0), (0, 140, 255), (0, 0, 220), (90, 90, 90)


def _text(
    image: np.ndarray, text: str, origin: tuple[int, int], colour: tuple[int, int, int], size: float = 0.5
) -> None:
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, colour, 1, cv2.LINE_AA)


def _fit(image: np.ndarray, width: int) -> np.ndarray:
    zoom = width / image.shape[1]
    size = (width, max(1, round(image.shape[0] * zoom)))
    return np.asarray(
        cv2.resize(image, size, interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_NEAREST)
    )


def render_debug(prepared: Prepared, reading: Reading) -> bytes:
    """One PNG: photo with boxes, the ink found around the digits, the model's inputs."""
    photo = cv2.cvtColor(prepared.gray, cv2.COLOR_GRAY2BGR)
    zoom = PANEL_WIDTH / photo.shape[1]
    photo = cv2.resize(
        photo,
        (PANEL_WIDTH, max(1, round(photo.shape[0] * zoom))),
        interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR,
    )
    # Boxes are in original-image pixels; the working image is 1/scale of that.
    factor = zoom / prepared.scale
    read_at = _read_at(prepared, reading)
    # Rows not read first, so the boxes read are drawn over them.
    order = sorted(range(len(read_at)), key=lambda i: read_at[i] is not None)
    for i in order:
        (x, y, w, h), d = prepared.boxes[i], read_at[i]
        p1 = (round(x * factor), round(y * factor))
        p2 = (round((x + w) * factor), round((y + h) * factor))
        # Grey: passed on but not read (a blob the model was not sure of, the other look,
        # a part read from its pieces or the pieces of one read whole).
        colour = GREY if d is None else GREEN if d.confidence >= UNSURE_BELOW else ORANGE
        cv2.rectangle(photo, p1, p2, colour, 2)
        if d is not None:
            _text(photo, f"{d.digit} {d.confidence:.0%}", (p1[0], max(14, p1[1] - 6)), RED, 0.6)
    # Of a photo read twice, the ink and region of the look the answer came from.
    region_of, mask = "region", prepared.ink
    if reading.look == 1:
        region_of, mask = "second_look_region", prepared.second_ink
    elif reading.look == OTHER_WAY:
        region_of, mask = "other_way_region", prepared.other_way_ink
    region = prepared.notes.get(region_of)
    if isinstance(region, tuple) and len(region) == 4:
        x, y, w, h = (round(v * factor) for v in region)
        cv2.rectangle(photo, (x, y), (x + w, y + h), GREY, 1)
    header = np.full((26, PANEL_WIDTH, 3), 255, np.uint8)
    _text(header, headline(reading, "turned" in prepared.notes)[:90], (6, 18), (0, 0, 0))
    panels = [header, photo]
    if mask is not None and mask.size:
        ink = _fit(cv2.cvtColor(255 - mask, cv2.COLOR_GRAY2BGR), min(PANEL_WIDTH, mask.shape[1] * 4))
        band = np.full((ink.shape[0] + 22, PANEL_WIDTH, 3), 255, np.uint8)
        _text(band, "ink found around the digits", (6, 15), GREY, 0.45)
        band[22:, : ink.shape[1]] = ink
        panels.append(band)
    panels.append(_crops(prepared, reading))
    ok, png = cv2.imencode(".png", np.vstack(panels))
    if not ok:
        raise RuntimeError("could not encode the debug image")
    return bytes(png.tobytes())


def headline(reading: Reading, turned: bool = False) -> str:
    """The picture's first line: what was read, and how far to trust it (``turned``: the
    photo's first reading is of it turned level, ``preprocess.prepare_gray``)."""
    line = f"read: {reading.number}" if reading.digits else f"no digit: {reading.hint or ''}"
    if reading.unsure:
        line += "  (not sure)"
    if reading.look == 1:
        line += "  [second look: paper estimated wide]"
    elif reading.look == OTHER_WAY:
        line += "  [read as the photo lay, not turned]" if turned else "  [read turned level]"
    return line


def _crops(prepared: Prepared, reading: Reading) -> np.ndarray:
    """The 28x28 inputs, enlarged, each with the model's answer and runner-up below it."""
    side = 28 * CROP_ZOOM
    cell = side + 8
    per_row = max(1, PANEL_WIDTH // cell)
    rows = max(1, -(-len(prepared.digits) // per_row))
    strip = np.full((rows * (cell + 30) + 8, PANEL_WIDTH, 3), 255, np.uint8)
    for i, (digit, d) in enumerate(zip(prepared.digits, _read_at(prepared, reading), strict=True)):
        r, c = divmod(i, per_row)
        y0, x0 = 8 + r * (cell + 30), 8 + c * cell
        strip[y0 : y0 + side, x0 : x0 + side] = cv2.resize(
            digit, (side, side), interpolation=cv2.INTER_NEAREST
        )[..., None]
        if d is not None:
            colour = GREEN if d.confidence >= UNSURE_BELOW else ORANGE
            _text(strip, f"{d.digit}  {d.confidence:.0%}", (x0, y0 + side + 14), colour)
            if len(d.top) > 1:
                _text(strip, f"else {d.top[1][0]} {d.top[1][1]:.0%}", (x0, y0 + side + 27), GREY, 0.4)
    return strip


def _read_at(prepared: Prepared, reading: Reading) -> list[DigitResult | None]:
    """For each row the preprocessing passed on, the digit read there: None where the
    reader did not answer from it (a blob the model was not sure of, the other look, the
    cuts of a part not chosen)."""
    read_at: list[DigitResult | None] = [None] * len(prepared.boxes)
    kept = reading.kept if reading.kept is not None else range(len(reading.digits))
    for index, digit in zip(kept, reading.digits, strict=True):
        read_at[index] = digit
    return read_at
