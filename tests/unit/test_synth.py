"""The rendered test material: reproducible, honest labels, disjoint splits, real files."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image

from classifier import synth


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return synth.load_test_digits()


def test_a_sample_is_the_same_bytes_every_time(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    for style in ("fill", "transparent", "mnist28"):
        first = synth.make_sample(style, 3, "dev", x, y)
        again = synth.make_sample(style, 3, "dev", x, y)
        assert first.data == again.data and first.label == again.label
        assert synth.make_sample(style, 4, "dev", x, y).data != first.data


def test_splits_use_disjoint_test_digits(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    ranges = {split: synth.split_range(split, len(x)) for split in synth.SPLITS}
    spans = sorted(ranges.values())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    for split, (start, stop) in ranges.items():
        used = {i for n in range(50) for i in synth.pick_digits("number5-6", n, split, len(x))[1]}
        assert used and all(start <= i < stop for i in used)
    # ... and the committed subset's test digits are all that is ever rendered by default.
    assert (
        synth.make_sample("number2", 0, "report", x, y).indices
        == synth.pick_digits("number2", 0, "report", len(x))[1]
    )


# Photos are slow to render: one of each kind of file, plus each number length and empty kind.
QUICK_STYLES = ("phone", "fill", "exif", *synth.DRAWING_STYLES, *synth.NUMBER_STYLES, *synth.EMPTY_STYLES)


@pytest.mark.parametrize("style", QUICK_STYLES)
def test_styles_make_real_image_files_with_their_labels(
    style: str, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = digits
    sample = synth.make_sample(style, 0, "dev", x, y)
    image = Image.open(io.BytesIO(sample.data))
    image.load()
    assert image.format in {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"}
    assert sample.name.endswith(sample.extension)
    assert sample.label == "".join(str(int(y[i])) for i in sample.indices)
    if style in synth.EMPTY_STYLES:
        assert sample.label == ""
    elif style in synth.NUMBER_STYLES:
        assert 2 <= len(sample.label) <= 6
    else:
        assert len(sample.label) == 1


def test_transparent_samples_hide_the_digit_from_a_reader_that_ignores_alpha(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = digits
    for index in range(6):
        sample = synth.make_sample("transparent", index, "dev", x, y)
        rgba = np.asarray(Image.open(io.BytesIO(sample.data)))
        assert rgba.shape[2] == 4 and (rgba[..., 3] == 0).mean() > 0.5


def test_crop_samples_are_small_squares_of_either_polarity(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    borders = []
    for index in range(30):
        crop = np.asarray(
            Image.open(io.BytesIO(synth.make_sample("crop", index, "dev", x, y).data)).convert("L")
        )
        assert crop.shape[0] == crop.shape[1] and 28 <= crop.shape[0] <= 100
        borders.append(float(np.median(np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]]))))
    assert min(borders) < 60 and max(borders) > 200  # dark and light backgrounds


def test_exif_samples_are_stored_turned(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    sample = synth.make_sample("exif", 0, "dev", x, y)
    assert Image.open(io.BytesIO(sample.data)).getexif().get(0x0112) in {3, 6, 8}


def test_stroke_width_is_what_was_asked(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = digits
    for wanted in (0.02, 0.08, 0.2):
        alpha = synth.stroke_alpha(x[0], 200, wanted) > 0.5
        # Mean width of a stroke: twice its area over its outline.
        outline = alpha ^ np.pad(alpha, 1)[1:-1, 2:] | alpha ^ np.pad(alpha, 1)[2:, 1:-1]
        width = 2 * alpha.sum() / max(outline.sum(), 1) / 200
        assert wanted * 0.6 < width < wanted * 1.6 + 0.01
