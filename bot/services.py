"""The long-lived things the handlers share, created in ``post_init`` and closed in
``post_shutdown``. Handlers reach them with ``services(context)``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from telegram.ext import Application, ContextTypes

from bot.batcher import Batcher
from bot.config import Settings
from bot.limits import PhotoRateLimiter, WorkSlots
from bot.model import LoadedModel, ModelHolder, load_model
from bot.pipeline import Pipeline
from bot.retraining import JobRecord, Retrainer
from bot.storage import Storage
from classifier.model_store import ModelStore
from classifier.preprocess import prepare
from classifier.serving import ModelError

log = logging.getLogger(__name__)

KEY = "digitbot.services"
HOUSEKEEPING_EVERY = 3600.0  # seconds between prunes of old answers


def _warm_up_photo() -> bytes:
    """A small PNG of one stroke: enough to run every step of the preprocessing."""
    page = np.full((120, 90), 235, np.uint8)
    cv2.line(page, (45, 20), (40, 100), 30, 6)
    return bytes(cv2.imencode(".png", page)[1])


def _warm_up(start_together: threading.Barrier, photo: bytes) -> None:
    """Run in each of the pool's threads at start-up: the threads are made now, not one by
    one under the first users' photos, and each pays its first-call costs (OpenCV's and
    NumPy's buffers, its own malloc arena) before anyone waits for it."""
    with contextlib.suppress(threading.BrokenBarrierError):
        start_together.wait(timeout=10)  # holds this thread, so the pool makes the next one
    prepare(photo)


@dataclass
class Services:
    settings: Settings
    storage: Storage
    models: ModelHolder
    pool: ThreadPoolExecutor  # decoding, preprocessing, rendering
    model_thread: ThreadPoolExecutor  # the model (one interpreter, one thread)
    batcher: Batcher
    pipeline: Pipeline
    rate: PhotoRateLimiter
    slots: WorkSlots
    store: ModelStore  # retrained versions, and which one is served
    retrainer: Retrainer
    interrupted_jobs: list[JobRecord] = field(default_factory=list)  # found at start, to report
    started_at: float = field(default_factory=time.monotonic)
    _housekeeping: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        loop = asyncio.get_running_loop()
        # The pool's threads are the parallelism; OpenCV's own threads would only fight them.
        cv2.setNumThreads(1)
        pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="digitbot-work")
        model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digitbot-model")
        storage: Storage | None = None
        try:
            barrier, photo = threading.Barrier(settings.workers), _warm_up_photo()
            await asyncio.gather(
                *(loop.run_in_executor(pool, _warm_up, barrier, photo) for _ in range(settings.workers))
            )
            store = await loop.run_in_executor(pool, open_model_store, settings)
            model = await loop.run_in_executor(model_thread, load_served_model, store)
            storage = await Storage.open(settings.db_path)
        except BaseException:
            pool.shutdown(wait=False)
            model_thread.shutdown(wait=False)
            if storage is not None:
                await storage.close()
            raise
        models = ModelHolder(model)
        batcher = Batcher(models, model_thread, settings.batch_wait_ms / 1000, settings.max_batch)
        batcher.start()
        services = cls(
            settings=settings,
            storage=storage,
            models=models,
            pool=pool,
            model_thread=model_thread,
            batcher=batcher,
            pipeline=Pipeline(models, batcher, pool),
            rate=PhotoRateLimiter(settings.photos_per_minute),
            slots=WorkSlots(settings.max_in_flight, settings.max_in_flight_per_user, settings.max_queued),
            store=store,
            retrainer=Retrainer(settings, storage, store, models, pool),
        )
        try:
            services.interrupted_jobs = await services.retrainer.recover()
        except Exception:  # bookkeeping of old jobs must not keep the bot from serving
            log.exception("could not clean up after earlier retrain jobs")
        services._housekeeping = asyncio.create_task(services._housekeep(), name="digitbot-housekeeping")
        log.info(
            "model %s (%s), database %s, %d workers",
            model.version,
            model.path,
            settings.db_path,
            settings.workers,
        )
        return services

    async def close(self) -> None:
        await self.retrainer.stop()  # normally done already, while the bot could still report
        task, self._housekeeping = self._housekeeping, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.batcher.stop()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.model_thread.shutdown(wait=True, cancel_futures=True)
        await self.storage.close()

    async def prune(self) -> int:
        """Delete answers older than the retention period (0 days: keep them forever)."""
        if self.settings.retention_days <= 0:
            return 0
        cutoff = time.time() - self.settings.retention_days * 86400
        deleted = await self.storage.prune_answers(cutoff)
        if deleted:
            log.info("deleted %d answers older than %g days", deleted, self.settings.retention_days)
        return deleted

    async def _housekeep(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("pruning old answers failed; will try again")
            await asyncio.sleep(HOUSEKEEPING_EVERY)


def open_model_store(settings: Settings) -> ModelStore:
    """The versioned models under the data dir, minus what an interrupted publish left."""
    store = ModelStore(settings.models_dir, base=settings.model_path)
    removed = store.clean_up()
    if removed:
        log.warning("removed %s, left by an interrupted publish", ", ".join(removed))
    return store


def load_served_model(store: ModelStore) -> LoadedModel:
    """The version the store points to; the base model if that one cannot be loaded (a broken
    retrained version must not keep the bot from starting)."""
    path = store.current_dir()
    try:
        return load_model(path)
    except ModelError:
        if path == store.base:
            raise
        log.exception("cannot load the current model %s; serving the base model %s instead", path, store.base)
        return load_model(store.base)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return services_of(context.application)


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    found = application.bot_data.get(KEY)
    if not isinstance(found, Services):
        raise RuntimeError("the bot's services are not running (post_init has not run)")
    return found
