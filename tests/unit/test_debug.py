"""The debug image shows the ink of the look the answer came from."""

from __future__ import annotations

import cv2
import numpy as np

from classifier.debug import PANEL_WIDTH, render_debug
from classifier.preprocess import Prepared
from classifier.reader import UNSURE_BELOW, assemble

INK_LABEL = 22  # the ink panel's caption, above the mask


def _sure_of(digit: int, confidence: float) -> np.ndarray:
    probs = np.full(10, (1.0 - confidence) / 9, np.float32)
    probs[digit] = confidence
    return probs


def _read_twice() -> Prepared:
    """A photo read twice, one part per look; the first look's ink is all paper, the
    second's all ink (the mask is shown dark on light)."""
    return Prepared(
        digits=np.zeros((2, 28, 28), np.uint8),
        boxes=[(10, 10, 40, 60), (12, 10, 40, 60)],
        gray=np.full((120, 160), 200, np.uint8),
        scale=1.0,
        notes={"region": (0, 0, 80, 80), "second_look_region": (0, 0, 100, 100)},
        ink=np.zeros((30, 40), np.uint8),
        look=[0, 1],
        second_ink=np.full((30, 40), 255, np.uint8),
    )


def _ink_panel_brightness(png: bytes, prepared: Prepared) -> float:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    photo_height = round(prepared.gray.shape[0] * PANEL_WIDTH / prepared.gray.shape[1])
    top = 26 + photo_height + INK_LABEL
    shown = 40 * 4  # the mask is shown 4x
    return float(image[top : top + 30 * 4, :shown].mean())


def test_the_debug_image_shows_the_ink_of_the_look_that_answered() -> None:
    prepared = _read_twice()
    unsure_6, sure_4 = _sure_of(6, UNSURE_BELOW - 0.2), _sure_of(4, 0.99)
    second = assemble(prepared, np.stack([unsure_6, sure_4]))
    assert second.number == "4" and second.look == 1
    assert _ink_panel_brightness(render_debug(prepared, second), prepared) < 30
    first = assemble(prepared, np.stack([sure_4, unsure_6]))
    assert first.number == "4" and first.look == 0
    assert _ink_panel_brightness(render_debug(prepared, first), prepared) > 225
