"""The debug image shows the ink of the look the answer came from."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classifier.debug import PANEL_WIDTH, render_debug
from classifier.preprocess import OTHER_WAY, Prepared
from classifier.reader import UNSURE_BELOW, assemble

INK_LABEL = 22  # the ink panel's caption, above the mask


def _sure_of(digit: int, confidence: float) -> np.ndarray:
    probs = np.full(10, (1.0 - confidence) / 9, np.float32)
    probs[digit] = confidence
    return probs


def _read_twice(other: int = 1) -> Prepared:
    """A photo read twice, one part per look: the wide second look, or the other way
    (``OTHER_WAY``, a photo whose row slopes); the first look's ink is all paper, the
    other's all ink (the mask is shown dark on light)."""
    prepared = Prepared(
        digits=np.zeros((2, 28, 28), np.uint8),
        boxes=[(10, 10, 40, 60), (12, 10, 40, 60)],
        gray=np.full((120, 160), 200, np.uint8),
        scale=1.0,
        notes={"region": (0, 0, 80, 80)},
        ink=np.zeros((30, 40), np.uint8),
        look=[0, other],
    )
    if other == OTHER_WAY:
        prepared.notes["other_way_region"] = (0, 0, 100, 100)
        prepared.other_way_ink = np.full((30, 40), 255, np.uint8)
    else:
        prepared.notes["second_look_region"] = (0, 0, 100, 100)
        prepared.second_ink = np.full((30, 40), 255, np.uint8)
    return prepared


def _ink_panel_brightness(png: bytes, prepared: Prepared) -> float:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    photo_height = round(prepared.gray.shape[0] * PANEL_WIDTH / prepared.gray.shape[1])
    top = 26 + photo_height + INK_LABEL
    shown = 40 * 4  # the mask is shown 4x
    return float(image[top : top + 30 * 4, :shown].mean())


def _region_outline_right_edge(png: bytes, prepared: Prepared) -> int:
    """The column of the grey region outline's right side on the photo panel (regions of
    80 and 100 px, the photo 160 px wide: at 320 or 400 of 640)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    row = image[26 + 2 * 60]  # halfway down both regions, right of the boxes
    outline = [x for x in (320, 400) if row[x] < 150]
    assert len(outline) == 1, outline
    return outline[0]


@pytest.mark.parametrize("other", [1, OTHER_WAY])
def test_the_debug_image_shows_the_ink_of_the_look_that_answered(other: int) -> None:
    prepared = _read_twice(other)
    unsure_6, sure_4 = _sure_of(6, UNSURE_BELOW - 0.2), _sure_of(4, 0.99)
    second = assemble(prepared, np.stack([unsure_6, sure_4]))
    assert second.number == "4" and second.look == other
    assert _region_outline_right_edge(render_debug(prepared, second), prepared) == 400
    assert _ink_panel_brightness(render_debug(prepared, second), prepared) < 30
    first = assemble(prepared, np.stack([sure_4, unsure_6]))
    assert first.number == "4" and first.look == 0
    assert _ink_panel_brightness(render_debug(prepared, first), prepared) > 225
    assert _region_outline_right_edge(render_debug(prepared, first), prepared) == 320
