"""Training digits cut from photos: MNIST training digits rendered as phone photos and
drawings (by ``synth``, the test material's generator) and read back by the shared
preprocessing (``prepare``), each crop labelled with the digit that was drawn.

``augment`` imitates pens and hands. These crops add what only the pipeline does to a
photo: the blur, JPEG noise and light it has to see through, its thresholds, stroke
normalisation and centring, and the pieces it cuts imperfectly. Only the digits given
are drawn (the trainer passes its training digits, never validation or test ones; the
/retrain gate, test digits, which it never trains on), each photo from its own random
stream, apart from the test material's.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from classifier import synth
from classifier.processes import die_with_parent

# Each style's photos come from random streams keyed by its place here: these are the styles
# model 1.3.0 trained on, in that order. Styles added to the test material later (a
# screenshot's canvas is read as a drawing) are left out, so that training stays reproducible.
STYLES = (*(s for s in synth.SINGLE_STYLES if s not in synth.LATER_STYLES), "number2", "number3", "number4")
STREAM = 4099  # keeps these photos' random streams apart from the test material's

# style, its random stream (past picking the digits), index, digits, labels
Task = tuple[str, np.random.Generator, int, np.ndarray, np.ndarray]


def photo_crops(
    x: np.ndarray, y: np.ndarray, per_style: int, seed: int, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Crops (n, 28, 28) uint8 and their labels from ``per_style`` photos of each style
    (half as many of the numbers, which hold 2-4 digits each).

    A photo gives crops only when the pipeline finds as many digits as were drawn: then
    the i-th crop from the left is the i-th digit."""
    tasks: list[Task] = []
    for style in STYLES:
        for index in range(per_style // 2 if style in synth.NUMBER_STYLES else per_style):
            rng = np.random.default_rng([seed, STREAM, STYLES.index(style), index])
            picked = rng.integers(0, len(x), size=synth.NUMBER_STYLES.get(style, 1))
            tasks.append((style, rng, index, x[picked], y[picked]))
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    # Spawned, not forked: the trainer has TensorFlow's threads running by now. Each worker
    # dies with this process (a /retrain cancelled while its gate renders photos, a killed
    # trainer), where it would otherwise finish its chunk and then wait for work forever.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        results = list(pool.map(_read_back, tasks, chunksize=32))
    crops = [crop for crop_list, _ in results for crop in crop_list]
    labels = [label for _, label_list in results for label in label_list]
    print(
        f"photo crops: {len(tasks)} photos rendered, {len(labels)} digits read back "
        f"in {time.perf_counter() - started:.0f} s"
    )
    if not crops:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, y.dtype)
    return np.stack(crops), np.asarray(labels, y.dtype)


def _read_back(task: Task) -> tuple[list[np.ndarray], list[int]]:
    from classifier.preprocess import ImageError, prepare

    style, rng, index, digits, labels = task
    sample = synth.render_sample(style, rng, digits, labels, tuple(range(len(digits))), index)
    try:
        prepared = prepare(sample.data)
    except ImageError:
        return [], []
    # A blob is kept only on the model's word, which a crop to train that model on cannot
    # have; for the same reason only a photo's first look is used.
    first = prepared.parts_of_look(0)
    if len(first) != len(labels) or any(prepared.is_filled(i) for i in first):
        return [], []
    return [prepared.digits[i] for i in first], [int(label) for label in labels]
