"""Image bytes -> a reading, off the event loop.

1. In the worker pool: decoding and preprocessing (``DigitReader.prepare``: the classifier
   alone decides what is readable, the pixel cap included), and a small copy of the working
   image for "what I saw".
2. In the batcher: the model, one call for every photo that is ready at about the same time.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass

import cv2
import numpy as np

from bot.batcher import Batcher
from bot.model import ModelHolder
from bot.storage import Answer
from classifier.debug import render_debug
from classifier.preprocess import Prepared
from classifier.reader import DigitReader, Reading

SNAPSHOT_SIDE = 640  # the stored working image's longer side ("what I saw" is 640 wide)
SNAPSHOT_QUALITY = 80


@dataclass(frozen=True)
class Snapshot:
    """What "what I saw" needs later, small enough to keep in the database."""

    image: bytes  # JPEG of the downscaled grayscale working image
    scale: float  # original pixels per snapshot pixel
    digit_images: np.ndarray  # (n, 28, 28) uint8


@dataclass(frozen=True)
class Result:
    reading: Reading
    model_version: str | None = None  # None when no model ran
    snapshot: Snapshot | None = None  # None when the image could not be read


def make_snapshot(prepared: Prepared) -> Snapshot:
    gray = prepared.gray
    factor = min(1.0, SNAPSHOT_SIDE / max(gray.shape[:2]))
    if factor < 1.0:
        size = (max(1, round(gray.shape[1] * factor)), max(1, round(gray.shape[0] * factor)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
    if not ok:
        raise RuntimeError("could not encode the working image")
    # Both axes were resized by (nearly) the same factor; the width's is the exact one.
    scale = prepared.scale * prepared.gray.shape[1] / gray.shape[1]
    digits = np.ascontiguousarray(prepared.digits, dtype=np.uint8).reshape(-1, 28, 28)
    return Snapshot(image=jpeg.tobytes(), scale=scale, digit_images=digits)


def prepare_photo(reader: DigitReader, data: bytes) -> tuple[Prepared | Reading, Snapshot | None]:
    """The CPU-heavy half, for a worker thread. The classifier's decoder decides what is
    readable, including the pixel cap, checked from the header before decoding."""
    prepared = reader.prepare(data)
    if isinstance(prepared, Reading):
        return prepared, None
    return prepared, make_snapshot(prepared)


def render_answer(answer: Answer) -> bytes:
    """The "what I saw" PNG for a stored answer (for a worker thread)."""
    gray = cv2.imdecode(np.frombuffer(answer.image, np.uint8), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ValueError(f"answer {answer.id}: the stored image cannot be decoded")
    prepared = Prepared(
        digits=answer.digit_images,
        boxes=[d.box for d in answer.digits],
        gray=gray,
        scale=answer.image_scale,
        hint=answer.hint,
    )
    return render_debug(prepared, stored_reading(answer))


def stored_reading(answer: Answer) -> Reading:
    """The reading as far as the database keeps it: enough to head "What I saw" with "(not
    sure)" as ``digitbot predict`` would (the reply said why: a shape left out, digits
    parted at a guess, a digit the model was unsure of, pieces left out beside the digits)."""
    return Reading(
        digits=answer.digits,
        hint=answer.hint,
        dropped=answer.dropped,
        guessed_pieces=answer.guessed_pieces,
        left_out=answer.left_out,
    )


class Pipeline:
    def __init__(self, models: ModelHolder, batcher: Batcher, pool: Executor) -> None:
        self._models = models
        self._batcher = batcher
        self._pool = pool

    async def read(self, data: bytes) -> Result:
        loop = asyncio.get_running_loop()
        reader = self._models.current.reader  # preprocessing does not depend on the model
        with self._batcher.preparing():
            prepared, snapshot = await loop.run_in_executor(self._pool, prepare_photo, reader, data)
        if isinstance(prepared, Reading):
            return Result(prepared)
        reading, version = await self._batcher.classify(prepared)
        return Result(reading, version, snapshot)

    async def render(self, answer: Answer) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._pool, render_answer, answer)
