"""Micro-batching: photos read at about the same time share one model call.

A photo's digits join a queue; one task takes everything queued (up to ``max_batch`` images)
and runs the model once for all of them on the model thread. When the first photo of a batch
arrives while other photos are still being decoded, the task waits for them, but never more
than ``max_wait`` seconds; a photo arriving alone is classified at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field

from bot.model import ModelHolder
from classifier.preprocess import Prepared
from classifier.reader import Reading

log = logging.getLogger(__name__)


@dataclass
class _Job:
    prepared: Prepared
    future: asyncio.Future[tuple[Reading, str]] = field(repr=False)


class Batcher:
    def __init__(self, models: ModelHolder, executor: Executor, max_wait: float, max_batch: int) -> None:
        self._models = models
        self._executor = executor
        self.max_wait = max_wait
        self.max_batch = max_batch
        self._pending: list[_Job] = []
        self._ready = asyncio.Event()  # something is pending
        self._changed = asyncio.Event()  # a job arrived or a preparation ended
        self._preparing = 0
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # statistics, for logs and tests
        self.images = 0
        self.largest = 0

    @property
    def pending(self) -> int:
        """Photos waiting for a model call."""
        return len(self._pending)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="digitbot-batcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for job in self._pending:
            if not job.future.done():
                job.future.cancel()
        self._pending.clear()

    @contextlib.contextmanager
    def preparing(self) -> Iterator[None]:
        """Mark a photo being decoded, so a batch waits (a little) for it."""
        self._preparing += 1
        try:
            yield
        finally:
            self._preparing -= 1
            self._changed.set()

    async def classify(self, prepared: Prepared) -> tuple[Reading, str]:
        """The reading of one prepared photo and the version of the model that made it."""
        if self._task is None:
            raise RuntimeError("the batcher is not running")
        future: asyncio.Future[tuple[Reading, str]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(prepared, future))
        self._ready.set()
        self._changed.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._ready.wait()
            deadline = loop.time() + self.max_wait
            while len(self._pending) < self.max_batch and self._preparing > 0:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            if not self._pending:
                self._ready.clear()
            batch = [job for job in batch if not job.future.done()]  # drop cancelled waiters
            if batch:
                await self._classify(batch)

    async def _classify(self, batch: list[_Job]) -> None:
        model = self._models.current  # one model for the whole batch
        loop = asyncio.get_running_loop()
        try:
            readings = await loop.run_in_executor(
                self._executor, model.reader.classify, [job.prepared for job in batch]
            )
        except Exception as exc:
            log.exception("the model failed on a batch of %d photos", len(batch))
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        self.batches += 1
        self.images += len(batch)
        self.largest = max(self.largest, len(batch))
        for job, reading in zip(batch, readings, strict=True):
            if not job.future.done():
                job.future.set_result((reading, model.version))
