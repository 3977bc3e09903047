"""Micro-batching and the model hot-swap seam."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import numpy as np

from bot.batcher import Batcher
from bot.model import LoadedModel, ModelHolder
from classifier.preprocess import Prepared
from classifier.reader import DigitReader
from classifier.serving import Classifier


class FakeClassifier:
    """Answers digit ``answer`` for everything; records the size of every call."""

    def __init__(self, answer: int, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.calls: list[int] = []
        self.lock = threading.Lock()
        self.started = threading.Event()

    def predict(self, digits: np.ndarray) -> np.ndarray:
        with self.lock:
            self.calls.append(len(digits))
        self.started.set()
        time.sleep(self.delay)
        out = np.zeros((len(digits), 10), np.float32)
        out[:, self.answer] = 1.0
        return out


def model(answer: int, delay: float = 0.0) -> tuple[LoadedModel, FakeClassifier]:
    fake = FakeClassifier(answer, delay)
    reader = DigitReader(cast(Classifier, fake))
    return LoadedModel(reader=reader, version=f"v{answer}", path=Path(f"/models/{answer}")), fake


def prepared(n: int = 1) -> Prepared:
    return Prepared(
        digits=np.zeros((n, 28, 28), np.uint8),
        boxes=[(i * 10, 0, 8, 8) for i in range(n)],
        gray=np.zeros((20, 20), np.uint8),
        scale=1.0,
    )


async def test_photos_ready_together_share_one_model_call() -> None:
    loaded, fake = model(3)
    with ThreadPoolExecutor(1) as executor:
        batcher = Batcher(ModelHolder(loaded), executor, max_wait=0.05, max_batch=64)
        batcher.start()
        try:
            results = await asyncio.gather(*(batcher.classify(prepared(2)) for _ in range(10)))
        finally:
            await batcher.stop()
    assert fake.calls == [20]  # 10 photos x 2 digits, one call
    assert all(r.number == "33" and v == "v3" for r, v in results)


async def test_a_lone_photo_does_not_wait_for_company() -> None:
    loaded, _ = model(1)
    with ThreadPoolExecutor(1) as executor:
        batcher = Batcher(ModelHolder(loaded), executor, max_wait=5.0, max_batch=64)
        batcher.start()
        try:
            reading, _ = await asyncio.wait_for(batcher.classify(prepared()), timeout=2.0)
        finally:
            await batcher.stop()
    assert reading.number == "1"


async def test_a_batch_waits_at_most_max_wait_for_photos_still_being_prepared() -> None:
    loaded, _ = model(1)
    with ThreadPoolExecutor(1) as executor:
        batcher = Batcher(ModelHolder(loaded), executor, max_wait=0.2, max_batch=64)
        batcher.start()
        try:
            loop = asyncio.get_running_loop()
            with batcher.preparing():  # a photo that never finishes preparing in time
                started = loop.time()
                await batcher.classify(prepared())
                waited = loop.time() - started
        finally:
            await batcher.stop()
    assert 0.15 <= waited < 1.5


async def test_a_photo_finishing_preparation_joins_the_waiting_batch() -> None:
    loaded, fake = model(2)
    with ThreadPoolExecutor(1) as executor:
        batcher = Batcher(ModelHolder(loaded), executor, max_wait=2.0, max_batch=64)
        batcher.start()
        try:

            async def late() -> None:
                with batcher.preparing():
                    await asyncio.sleep(0.05)
                await batcher.classify(prepared())

            late_task = asyncio.create_task(late())
            await asyncio.sleep(0)  # the late photo is now "preparing"
            await asyncio.gather(batcher.classify(prepared()), late_task)
        finally:
            await batcher.stop()
    assert fake.calls == [2]


async def test_max_batch_splits_a_crowd() -> None:
    loaded, fake = model(5)
    with ThreadPoolExecutor(1) as executor:
        batcher = Batcher(ModelHolder(loaded), executor, max_wait=0.05, max_batch=4)
        batcher.start()
        try:
            await asyncio.gather(*(batcher.classify(prepared()) for _ in range(10)))
        finally:
            await batcher.stop()
    assert sorted(fake.calls) == [2, 4, 4]


async def test_a_swap_takes_effect_between_batches_and_no_request_fails() -> None:
    old, old_fake = model(1, delay=0.2)
    new, _ = model(7)
    holder = ModelHolder(old)
    with ThreadPoolExecutor(1) as executor:
        batcher = Batcher(holder, executor, max_wait=0.001, max_batch=64)
        batcher.start()
        try:
            first = asyncio.create_task(batcher.classify(prepared()))
            # Wait until the old model is busy with the first batch.
            assert await asyncio.to_thread(old_fake.started.wait, 5.0)
            assert holder.swap(new) is old
            second = await batcher.classify(prepared())
            first_result = await first
        finally:
            await batcher.stop()
    assert first_result[0].number == "1" and first_result[1] == "v1"
    assert second[0].number == "7" and second[1] == "v7"


async def test_a_failing_model_fails_its_batch_only() -> None:
    loaded, fake = model(4)

    def broken(digits: np.ndarray) -> np.ndarray:
        raise RuntimeError("interpreter exploded")

    with ThreadPoolExecutor(1) as executor:
        holder = ModelHolder(loaded)
        batcher = Batcher(holder, executor, max_wait=0.001, max_batch=64)
        batcher.start()
        try:
            original = fake.predict
            fake.predict = broken  # type: ignore[method-assign]
            try:
                await batcher.classify(prepared())
            except RuntimeError as exc:
                assert "exploded" in str(exc)
            else:
                raise AssertionError("the failure was swallowed")
            fake.predict = original  # type: ignore[method-assign]
            reading, _ = await batcher.classify(prepared())
        finally:
            await batcher.stop()
    assert reading.number == "4"
