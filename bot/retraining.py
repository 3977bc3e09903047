"""The admin's /retrain: at most one training job at a time, in its own low-priority process,
watched from the event loop; a candidate that passes the gate is published and served at once.

The job is ``python -m classifier.retrain`` (TensorFlow lives only there, never in the bot),
started through ``bot.child`` so that it dies with the bot, niced and on one TensorFlow thread
(``DIGITBOT_RETRAIN_NICE``, ``DIGITBOT_RETRAIN_THREADS``) so the bot keeps answering photos.
It works in its own folder under ``DIGITBOT_DATA_DIR/retrain/``; the bot only reads what it
leaves there: ``progress.jsonl`` (a line per epoch) and, last, ``result.json`` (the verdict).

Crash safety: the served model changes only by ``ModelStore.publish`` (a directory rename,
then an atomic pointer file) followed by ``ModelHolder.swap``; until then the candidate is
just a folder. Killing the job or the bot at any moment therefore leaves the served model
whole. Every job is a row of ``retrain_jobs``; a row still "running" at the next start was
interrupted: it is marked failed (or passed, if its version was published just before the
bot died), a leftover process is killed, and the job folders are removed.

This module knows nothing of Telegram: a ``Reporter`` (``bot.handlers.admin``) tells the admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import shutil
import signal
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

from bot.config import Settings
from bot.feedback import last_sample_id
from bot.model import ModelHolder, load_model
from bot.storage import Storage, transaction
from classifier.model_store import ModelStore
from classifier.retrain import MODEL_DIR, PROGRESS_FILE, RESULT_FILE

log = logging.getLogger(__name__)

T = TypeVar("T")

LOG_FILE = "job.log"  # the job's stdout and stderr
POLL_SECONDS = 1.0  # how often the progress file is read
STOP_GRACE = 10.0  # seconds from SIGTERM to SIGKILL when a job is stopped
INTERRUPTED = "interrupted: the bot stopped while it ran"


class RetrainError(Exception):
    """A retrain cannot start; the message is for the admin."""


@dataclass(frozen=True)
class Progress:
    epoch: int
    epochs: int
    val_accuracy: float
    eta_seconds: float
    read_at: float  # time.monotonic() when this line was first seen


@dataclass
class Job:
    id: int
    admin_id: int
    chat_id: int
    message_id: int | None
    folder: Path
    version: str  # the candidate's, should it pass
    serving_version: str  # the model it is gated against
    epochs: int
    samples: int  # stored samples when it started
    started_at: float  # time.time()
    progress: Progress | None = None
    stop_reason: str | None = None  # set when the bot stops it (cancel, shutdown)
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Outcome:
    status: str  # passed, failed, error or cancelled
    reasons: list[str]
    new: dict[str, Any]  # the candidate's numbers (mnist, mnist_n, feedback, feedback_n)
    serving: dict[str, Any]  # the serving model's, on the same digits
    seconds: float
    serving_version: str  # the version served afterwards


@dataclass(frozen=True)
class JobRecord:
    """A row of ``retrain_jobs``."""

    id: int
    started_at: float
    finished_at: float | None
    status: str
    admin_id: int
    chat_id: int
    message_id: int | None
    version: str
    serving_version: str
    reason: str | None


@dataclass(frozen=True)
class Versions:
    current: str | None  # the served version; None: the base model
    previous: str | None  # what /rollback returns to (None: the base model)
    published: list[str]  # every retrained version on disk


class Reporter(Protocol):
    async def progress(self, job: Job) -> None: ...

    async def finished(self, job: Job, outcome: Outcome) -> None: ...


def tensorflow_installed() -> bool:
    """Whether the job could import TensorFlow (found without importing it here)."""
    return importlib.util.find_spec("tensorflow") is not None


class Retrainer:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        store: ModelStore,
        models: ModelHolder,
        executor: Executor,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.store = store
        self.models = models
        self._executor = executor
        self.job: Job | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._start_lock = asyncio.Lock()
        # Publishing and /rollback change the served model: one at a time.
        self.model_lock = asyncio.Lock()

    async def _off_loop(self, work: Callable[..., T], *args: Any) -> T:
        """Run file-system work (and model loading) in a worker thread, not on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, partial(work, *args))

    # Start-up --------------------------------------------------------------------------------

    async def recover(self) -> list[JobRecord]:
        """Close the jobs a crash left "running", kill what is left of them, remove every job
        folder (no job runs yet). Returns the jobs closed, for the admins to hear about."""
        published = set(await self._off_loop(self.store.list_versions))
        stale: list[StaleJob] = await self.storage.run(partial(close_stale_jobs, published=published))
        for job in stale:
            kill_leftover(job.pid, job.folder)
            record = job.record
            log.warning("retrain #%d was left running: now %s (%s)", record.id, record.status, record.reason)
        await self._off_loop(shutil.rmtree, self.settings.jobs_dir, True)
        return [job.record for job in stale]

    # Running a job ---------------------------------------------------------------------------

    async def start(self, admin_id: int, chat_id: int, message_id: int | None, reporter: Reporter) -> Job:
        async with self._start_lock:
            if self.job is not None:
                raise RetrainError(f"retrain #{self.job.id} is running already")
            self._check_can_run()
            job = await self._create(admin_id, chat_id, message_id)
            try:
                job.process = await self._spawn(job)
            except OSError as exc:
                await self._off_loop(shutil.rmtree, job.folder, True)
                await self.storage.run(partial(finish_job, job_id=job.id, status="error", reason=str(exc)))
                raise RetrainError(f"could not start the training process: {exc}") from exc
            await self.storage.run(partial(set_job_pid, job_id=job.id, pid=job.process.pid))
            self.job = job
            self._watcher = asyncio.create_task(self._watch(job, reporter), name=f"digitbot-retrain-{job.id}")
        log.info(
            "retrain #%d started by user %d: pid %d, %d epochs, candidate %s vs %s",
            job.id,
            admin_id,
            job.process.pid,
            job.epochs,
            job.version,
            job.serving_version,
        )
        return job

    def _check_can_run(self) -> None:
        if not tensorflow_installed():
            raise RetrainError(
                "training needs TensorFlow, which this installation lacks: pip install 'digitbot[train]' "
                "(Docker: build with --build-arg EXTRAS=train)"
            )
        mnist = self.settings.mnist_path
        if mnist is not None and not mnist.is_file():
            raise RetrainError(f"DIGITBOT_MNIST points to {mnist}, which is not a file")

    async def _create(self, admin_id: int, chat_id: int, message_id: int | None) -> Job:
        serving = self.models.current
        now = time.time()
        stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%d-%H%M")
        jobs_dir = self.settings.jobs_dir.resolve()

        def insert(connection: sqlite3.Connection) -> tuple[int, int, int]:
            with transaction(connection):
                newest = last_sample_id(connection)
                samples = int(connection.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
                cursor = connection.execute(
                    """
                    INSERT INTO retrain_jobs (started_at, status, admin_id, chat_id, message_id, folder,
                        version, serving_version, last_sample_id)
                    VALUES (?, 'running', ?, ?, ?, '', '', ?, ?)
                    """,
                    (now, admin_id, chat_id, message_id, serving.version, newest),
                )
                job_id = cursor.lastrowid
                assert job_id is not None
                connection.execute(
                    "UPDATE retrain_jobs SET folder = ?, version = ? WHERE id = ?",
                    (str(jobs_dir / f"job-{job_id}"), f"{stamp}-r{job_id}", job_id),
                )
            return job_id, newest, samples

        job_id, _, samples = await self.storage.run(insert)
        job = Job(
            id=job_id,
            admin_id=admin_id,
            chat_id=chat_id,
            message_id=message_id,
            folder=jobs_dir / f"job-{job_id}",
            version=f"{stamp}-r{job_id}",
            serving_version=serving.version,
            epochs=self.settings.retrain_epochs,
            samples=samples,
            started_at=now,
        )
        await self._off_loop(partial(job.folder.mkdir, parents=True, exist_ok=True))
        return job

    def command(self, job: Job) -> list[str]:
        """The job's command line, behind ``bot.child`` (dies with the bot)."""
        s = self.settings
        args = [
            "--job", str(job.folder),
            "--serving", str(self.models.current.path.resolve()),
            "--feedback", str(s.db_path.resolve()),
            "--epochs", str(s.retrain_epochs),
            "--version", job.version,
            "--threads", str(s.retrain_threads),
            "--nice", str(s.retrain_nice),
        ]  # fmt: skip
        if s.mnist_path is not None:
            args += ["--data", str(s.mnist_path.resolve())]
        if s.retrain_limit:
            args += ["--limit", str(s.retrain_limit)]
        if s.retrain_test_limit:
            args += ["--test-limit", str(s.retrain_test_limit)]
        if s.retrain_gate_photos:
            args += ["--gate-photos", str(s.retrain_gate_photos)]
        python = sys.executable
        return [python, "-m", "bot.child", str(os.getpid()), python, "-m", "classifier.retrain", *args]

    async def _spawn(self, job: Job) -> asyncio.subprocess.Process:
        output = await self._off_loop(_open_log, job.folder / LOG_FILE)
        try:  # the child keeps its own copy of the file descriptor
            return await asyncio.create_subprocess_exec(
                *self.command(job), stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output
            )
        finally:
            output.close()

    async def _watch(self, job: Job, reporter: Reporter) -> None:
        assert job.process is not None
        exited = asyncio.ensure_future(job.process.wait())
        stop_asked: float | None = None
        try:
            while not exited.done():
                await asyncio.wait({exited}, timeout=POLL_SECONDS)
                progress = await self._off_loop(read_progress, job.folder)
                if progress is not None and (job.progress is None or progress.epoch != job.progress.epoch):
                    job.progress = progress
                if job.stop_reason is not None and not exited.done():
                    stop_asked = stop_asked or time.monotonic()
                    if time.monotonic() - stop_asked > STOP_GRACE:
                        with contextlib.suppress(ProcessLookupError):
                            job.process.kill()
                if not exited.done():
                    await _quietly(reporter.progress(job), f"retrain #{job.id}: progress report failed")
            outcome = await self._conclude(job, exited.result())
        except BaseException:
            # Cancelled, or a bug here: never leave the process or the row behind.
            with contextlib.suppress(ProcessLookupError):
                job.process.kill()
            self.job = None
            await asyncio.shield(self._abandon(job))
            raise
        self.job = None
        log.info("retrain #%d %s: %s", job.id, outcome.status, "; ".join(outcome.reasons) or "-")
        await _quietly(reporter.finished(job, outcome), f"retrain #{job.id}: the final report failed")

    async def _abandon(self, job: Job) -> None:
        with contextlib.suppress(Exception):
            await self.storage.run(partial(finish_job, job_id=job.id, status="failed", reason=INTERRUPTED))
        await self._off_loop(shutil.rmtree, job.folder, True)

    async def _conclude(self, job: Job, code: int) -> Outcome:
        result = await self._off_loop(read_json, job.folder / RESULT_FILE)
        status, reasons = "error", []
        new: dict[str, Any] = {}
        serving: dict[str, Any] = {}
        if job.stop_reason is not None:
            status = "cancelled" if job.stop_reason == "cancelled" else "failed"
            reasons = [job.stop_reason]
        elif result is None:
            reasons = [f"the training process {describe_exit(code)} without a verdict"]
            last = await self._off_loop(last_line, job.folder / LOG_FILE)
            if last:
                reasons.append(last)
        else:
            status = str(result.get("status", "error"))
            reasons = [str(r) for r in result.get("reasons", [])]
            new, serving = dict(result.get("new") or {}), dict(result.get("serving") or {})
            if status == "error" or status not in ("passed", "failed"):
                status, reasons = "error", [str(result.get("error", "the job reported an error"))]
            elif status == "passed":
                problem = await self._publish(job)
                if problem is not None:
                    status, reasons = "error", [problem]
        await self.storage.run(
            partial(
                finish_job,
                job_id=job.id,
                status=status,
                reason="; ".join(reasons) or None,
                result=result,
            )
        )
        await self._off_loop(shutil.rmtree, job.folder, True)
        return Outcome(
            status=status,
            reasons=reasons,
            new=new,
            serving=serving,
            seconds=round(time.time() - job.started_at, 1),
            serving_version=self.models.current.version,
        )

    async def _publish(self, job: Job) -> str | None:
        """Move the candidate in as a new version and serve it; what went wrong, if anything."""
        async with self.model_lock:
            try:
                path = await self._off_loop(self.store.publish, job.folder / MODEL_DIR, job.version)
            except Exception as exc:
                log.exception("retrain #%d: publishing %s failed", job.id, job.version)
                return f"the new model could not be stored: {exc}"
            try:
                loaded = await self._off_loop(load_model, path)
            except Exception as exc:
                log.exception("retrain #%d: the published model %s does not load", job.id, path)
                await self._off_loop(self.store.rollback)
                return f"the new model could not be loaded: {exc}"
            self.models.swap(loaded)
        return None

    async def cancel(self, reason: str = "cancelled") -> Job | None:
        """Stop the running job (SIGTERM, SIGKILL after ``STOP_GRACE`` s); its watcher reports."""
        job = self.job
        if job is None or job.process is None:
            return None
        if job.stop_reason is None:
            job.stop_reason = reason
            log.info("retrain #%d: stopping (%s)", job.id, reason)
            with contextlib.suppress(ProcessLookupError):
                job.process.terminate()
        return job

    async def stop(self) -> None:
        """At shutdown, while the bot can still report: stop the job and wait for its end."""
        await self.cancel(INTERRUPTED)
        watcher, self._watcher = self._watcher, None
        if watcher is not None and not watcher.done():
            try:
                await asyncio.wait_for(asyncio.shield(watcher), STOP_GRACE + 5)
            except TimeoutError:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watcher

    # /rollback -------------------------------------------------------------------------------

    async def rollback(self) -> tuple[str, str]:
        """Serve the version before the current one (hot swap); (old, new) versions."""
        if self.job is not None:
            raise RetrainError(f"retrain #{self.job.id} is running: wait for it, or /retrain cancel it")
        async with self.model_lock:
            state = await self._off_loop(self.store.state)
            if state["current"] is None:
                raise RetrainError("already serving the base model, there is nothing before it")
            previous = await self._off_loop(self.store.previous)
            path = self.store.versions / previous if previous else self.store.base
            # Load first: if it does not load, nothing changes.
            try:
                loaded = await self._off_loop(load_model, path)
            except Exception as exc:
                log.exception("rollback: %s does not load", path)
                raise RetrainError(f"{previous or 'the base model'} does not load ({exc})") from exc
            await self._off_loop(self.store.rollback)
            old = self.models.swap(loaded)
        return old.version, loaded.version

    # What /model and /retrain show -----------------------------------------------------------

    async def versions(self) -> Versions:
        def read() -> Versions:
            state = self.store.state()
            return Versions(state["current"], self.store.previous(), self.store.list_versions())

        return await self._off_loop(read)

    async def last_job(self) -> JobRecord | None:
        return await self.storage.run(select_last_job)

    async def trained_up_to(self, version: str) -> int | None:
        """The newest sample id a published version could have trained on (None: not ours)."""
        return await self.storage.run(partial(last_sample_of, version=version))


def _open_log(path: Path) -> BinaryIO:
    return open(path, "wb")


async def _quietly(report: Awaitable[None], what: str) -> None:
    """Reporting must never stop a job or its bookkeeping."""
    try:
        await report
    except Exception:
        log.exception(what)


# Files the job writes (read in a worker thread). -----------------------------------------------


def read_progress(folder: Path) -> Progress | None:
    """The job's last complete progress line, if any."""
    try:
        lines = (folder / PROGRESS_FILE).read_text().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            data = json.loads(line)
            return Progress(
                epoch=int(data["epoch"]),
                epochs=int(data["epochs"]),
                val_accuracy=float(data["val_accuracy"]),
                eta_seconds=float(data["eta_seconds"]),
                read_at=time.monotonic(),
            )
        except (ValueError, KeyError, TypeError):
            continue  # a line being written right now
    return None


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def last_line(path: Path, limit: int = 300) -> str | None:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 4096))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    lines = [line.strip() for line in lines if line.strip()]
    return lines[-1][:limit] if lines else None


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed ({signal.Signals(-code).name})"
        except ValueError:
            return f"was killed (signal {-code})"
    return f"exited with status {code}"


# Leftovers of a crash. -----------------------------------------------------------------------


def kill_leftover(pid: int | None, folder: Path) -> None:
    """Kill a job process a crashed bot left behind: only if it is still that very job (its
    command line names its folder), never an unrelated process that reused the id."""
    if not pid:
        return
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return  # gone (or not Linux: its own next write to a removed folder ends it)
    if str(folder).encode() in command:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            log.warning("killed pid %d, a retrain job left over from before the restart", pid)


# retrain_jobs (on the database thread). -------------------------------------------------------

_JOB_COLUMNS = (
    "id, started_at, finished_at, status, admin_id, chat_id, message_id, version, serving_version, reason"
)


def _record(row: tuple[Any, ...]) -> JobRecord:
    return JobRecord(*row)


def set_job_pid(connection: sqlite3.Connection, job_id: int, pid: int) -> None:
    with transaction(connection):
        connection.execute("UPDATE retrain_jobs SET pid = ? WHERE id = ?", (pid, job_id))


def finish_job(
    connection: sqlite3.Connection,
    job_id: int,
    status: str,
    reason: str | None,
    result: dict[str, Any] | None = None,
) -> None:
    with transaction(connection):
        connection.execute(
            """
            UPDATE retrain_jobs SET status = ?, reason = ?, result_json = ?, finished_at = ?, pid = NULL
            WHERE id = ? AND status = 'running'
            """,
            (status, reason, json.dumps(result) if result is not None else None, time.time(), job_id),
        )


@dataclass(frozen=True)
class StaleJob:
    record: JobRecord
    pid: int | None
    folder: Path


def close_stale_jobs(connection: sqlite3.Connection, published: set[str]) -> list[StaleJob]:
    """Jobs still "running" belong to a bot that died: failed, or passed if their version was
    published before it died."""
    with transaction(connection):
        rows = connection.execute(
            "SELECT id, pid, folder, version FROM retrain_jobs WHERE status = 'running'"
        ).fetchall()
        stale = []
        for job_id, pid, folder, version in rows:
            passed = version in published
            connection.execute(
                "UPDATE retrain_jobs SET status = ?, reason = ?, finished_at = ?, pid = NULL WHERE id = ?",
                (
                    "passed" if passed else "failed",
                    "published; the bot stopped before it could say so" if passed else INTERRUPTED,
                    time.time(),
                    job_id,
                ),
            )
            row = connection.execute(f"SELECT {_JOB_COLUMNS} FROM retrain_jobs WHERE id = ?", (job_id,))
            record = _record(row.fetchone())
            stale.append(StaleJob(record, pid, Path(folder)))
    return stale


def select_last_job(connection: sqlite3.Connection) -> JobRecord | None:
    row = connection.execute(f"SELECT {_JOB_COLUMNS} FROM retrain_jobs ORDER BY id DESC LIMIT 1").fetchone()
    return _record(row) if row else None


def last_sample_of(connection: sqlite3.Connection, version: str) -> int | None:
    row = connection.execute(
        "SELECT last_sample_id FROM retrain_jobs WHERE version = ? AND status = 'passed'", (version,)
    ).fetchone()
    return int(row[0]) if row else None
