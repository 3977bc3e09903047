"""The bot's SQLite database: answers (so "What I saw" works after a restart), users'
feedback samples and retrain jobs.

One connection, owned by one thread: every query runs there (``Storage.run``), never on the
event loop. Writes are transactions; the journal is WAL, so a crash of the bot process never
loses a committed write (``synchronous=NORMAL``: only a power cut can drop the last few).
Writes that are acknowledged to a user (feedback, /forget) are ``durable``: synced to the disk
before the commit returns, so not even a power cut loses them.

Schema changes are migrations: ``MIGRATIONS[i]`` brings the database from
``PRAGMA user_version`` i to i + 1, in one transaction. Add tables or columns by appending a
migration; never edit a released one.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from classifier.preprocess import Box
from classifier.reader import DigitResult, joint_confidence, number_of

T = TypeVar("T")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: answers given to photos. The 28x28 digits are the model's exact inputs (n*784 bytes);
    # `image` is the grayscale working image, downscaled, as JPEG; `image_scale` maps it back
    # to the original photo's pixels (the boxes' coordinates).
    (
        """
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            chat_id INTEGER NOT NULL,
            user_id INTEGER,
            message_id INTEGER NOT NULL,
            reply_message_id INTEGER,
            source TEXT NOT NULL,
            model_version TEXT NOT NULL,
            number TEXT NOT NULL,
            confidence REAL NOT NULL,
            digits_json TEXT NOT NULL,
            digit_images BLOB NOT NULL,
            hint TEXT,
            image BLOB NOT NULL,
            image_scale REAL NOT NULL
        )
        """,
        "CREATE INDEX answers_created_at ON answers (created_at)",
        "CREATE INDEX answers_user ON answers (user_id)",
        "CREATE INDEX answers_reply ON answers (chat_id, reply_message_id)",
    ),
    # 2: users' feedback and the admin's retrain jobs.
    # `samples` keeps classifier.feedback's contract (id, image: the 784-byte 28x28 digit the
    # model saw, label 0-9); the rest says where each came from. A sample outlives its answer
    # (answers are pruned after the retention period; training data is kept until /forget),
    # hence ON DELETE SET NULL. One sample per digit of an answer: a second tap or a changed
    # mind updates it.
    (
        """
        CREATE TABLE samples (
            id INTEGER PRIMARY KEY,
            image BLOB NOT NULL CHECK (length(image) = 784),
            label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
            kind TEXT NOT NULL CHECK (kind IN ('confirmed', 'corrected')),
            predicted INTEGER NOT NULL,
            confidence REAL NOT NULL,
            model_version TEXT NOT NULL,
            answer_id INTEGER REFERENCES answers (id) ON DELETE SET NULL,
            position INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (answer_id, position)
        )
        """,
        "CREATE INDEX samples_user ON samples (user_id)",
        # One row per /retrain. status: running, then passed, failed, error or cancelled.
        # `last_sample_id`: the newest sample when it started (what "samples waiting" counts from).
        """
        CREATE TABLE retrain_jobs (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            finished_at REAL,
            status TEXT NOT NULL,
            admin_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            message_id INTEGER,
            pid INTEGER,
            folder TEXT NOT NULL,
            version TEXT NOT NULL,
            serving_version TEXT NOT NULL,
            last_sample_id INTEGER NOT NULL,
            reason TEXT,
            result_json TEXT
        )
        """,
        "CREATE INDEX retrain_jobs_status ON retrain_jobs (status)",
    ),
    # 3: why an answer was "not sure" beyond its digits' confidences (``Reading.dropped`` and
    # ``Reading.guessed_pieces``), so that "What I saw" heads it "(not sure)" as
    # ``digitbot predict`` does (the reply says why).
    (
        "ALTER TABLE answers ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE answers ADD COLUMN guessed_pieces INTEGER NOT NULL DEFAULT 0",
    ),
    # 4: pieces left out beside the digits (``Reading.left_out``), another reason for "not sure".
    ("ALTER TABLE answers ADD COLUMN left_out INTEGER NOT NULL DEFAULT 0",),
)


class StorageError(RuntimeError):
    """The database cannot be used (newer schema, not a database, ...)."""


@dataclass(frozen=True)
class Answer:
    """One answer to one photo, as stored."""

    chat_id: int
    user_id: int | None
    message_id: int  # the user's photo message
    source: str  # "photo" or "document"
    model_version: str
    digits: list[DigitResult]
    digit_images: np.ndarray  # (n, 28, 28) uint8: what the model was given
    image: bytes  # the downscaled working image (JPEG)
    image_scale: float  # original pixels per stored-image pixel
    hint: str | None = None
    dropped: int = 0  # as in ``Reading``: parts left out of the answer ...
    guessed_pieces: int = 0  # ... and digits read from pieces of a part cut at a guess
    left_out: bool = False  # ... and pieces left out beside the digits
    created_at: float = 0.0
    reply_message_id: int | None = None
    id: int | None = None

    @property
    def number(self) -> str:
        return number_of(self.digits)

    @property
    def confidence(self) -> float:
        return joint_confidence(self.digits)


class Storage:
    """The database behind one dedicated thread. Create with ``await Storage.open(path)``."""

    def __init__(self, path: Path, executor: ThreadPoolExecutor, connection: sqlite3.Connection) -> None:
        self.path = path
        self._executor = executor
        self._connection = connection

    @classmethod
    async def open(cls, path: Path) -> Storage:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digitbot-db")
        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(executor, connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(path, executor, connection)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` on the database thread. Wrap writes in ``transaction``."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, self._connection)

    async def close(self) -> None:
        try:
            await self.run(_close)
        finally:
            self._executor.shutdown(wait=True)

    # Answers -------------------------------------------------------------------------------

    async def add_answer(self, answer: Answer) -> int:
        return await self.run(lambda c: insert_answer(c, answer))

    async def set_reply_message(self, answer_id: int, reply_message_id: int) -> None:
        def work(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                connection.execute(
                    "UPDATE answers SET reply_message_id = ? WHERE id = ?", (reply_message_id, answer_id)
                )

        await self.run(work)

    async def get_answer(self, answer_id: int) -> Answer | None:
        return await self.run(lambda c: select_answer(c, answer_id))

    async def find_answer_by_reply(self, chat_id: int, reply_message_id: int) -> Answer | None:
        """The answer the bot sent as message ``reply_message_id`` in ``chat_id``."""

        def work(connection: sqlite3.Connection) -> Answer | None:
            row = connection.execute(
                "SELECT id FROM answers WHERE chat_id = ? AND reply_message_id = ?",
                (chat_id, reply_message_id),
            ).fetchone()
            return select_answer(connection, row[0]) if row else None

        return await self.run(work)

    async def prune_answers(self, older_than: float) -> int:
        """Delete answers created before ``older_than`` (a ``time.time()``); how many went."""
        return await self.run(lambda c: delete_answers_before(c, older_than))


# Everything below runs on the database thread. ------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Autocommit mode: transactions are explicit (`transaction`), so DDL is transactional too.
    connection = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    try:
        connection.execute("PRAGMA busy_timeout = 10000")
        version = _user_version(connection)
        if version == 0 and not _has_tables(connection):
            # Only possible before the first table exists: lets pruning hand pages back to the disk.
            connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(f"{path}: cannot switch the database to WAL (journal mode {mode})")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        migrate(connection, MIGRATIONS)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise StorageError(f"{path}: {exc}") from exc
    except BaseException:
        connection.close()
        raise
    return connection


def migrate(connection: sqlite3.Connection, migrations: Sequence[Sequence[str]]) -> int:
    """Apply the migrations the database has not seen yet; the schema version afterwards."""
    version = _user_version(connection)
    if version > len(migrations):
        raise StorageError(
            f"the database has schema version {version}, newer than this digitbot knows "
            f"({len(migrations)}): upgrade digitbot or use another DIGITBOT_DB"
        )
    for number in range(version, len(migrations)):
        with transaction(connection):
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if _user_version(connection) != number:
                continue
            for statement in migrations[number]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")
    return _user_version(connection)


@contextmanager
def transaction(connection: sqlite3.Connection, durable: bool = False) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception. ``durable``: the commit is
    synced to the disk (``synchronous=FULL``) before it returns."""
    if durable:
        connection.execute("PRAGMA synchronous = FULL")
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        if durable:
            connection.execute("PRAGMA synchronous = NORMAL")


def insert_answer(connection: sqlite3.Connection, answer: Answer) -> int:
    digits_json = json.dumps(
        [
            {
                "digit": d.digit,
                "confidence": d.confidence,
                "box": list(d.box),
                "top": [[digit, p] for digit, p in d.top],
            }
            for d in answer.digits
        ]
    )
    images = np.ascontiguousarray(answer.digit_images, dtype=np.uint8)
    if images.shape != (len(answer.digits), 28, 28):
        raise ValueError(f"{len(answer.digits)} digits but digit images of shape {images.shape}")
    with transaction(connection):
        cursor = connection.execute(
            """
            INSERT INTO answers (created_at, chat_id, user_id, message_id, reply_message_id, source,
                model_version, number, confidence, digits_json, digit_images, hint, image, image_scale,
                dropped, guessed_pieces, left_out)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                answer.created_at or time.time(),
                answer.chat_id,
                answer.user_id,
                answer.message_id,
                answer.reply_message_id,
                answer.source,
                answer.model_version,
                answer.number,
                answer.confidence,
                digits_json,
                images.tobytes(),
                answer.hint,
                answer.image,
                answer.image_scale,
                answer.dropped,
                answer.guessed_pieces,
                int(answer.left_out),
            ),
        )
    row_id = cursor.lastrowid
    assert row_id is not None
    return row_id


def select_answer(connection: sqlite3.Connection, answer_id: int) -> Answer | None:
    row = connection.execute(
        """
        SELECT id, created_at, chat_id, user_id, message_id, reply_message_id, source, model_version,
            digits_json, digit_images, hint, image, image_scale, dropped, guessed_pieces, left_out
        FROM answers WHERE id = ?
        """,
        (answer_id,),
    ).fetchone()
    if row is None:
        return None
    (
        id_,
        created_at,
        chat_id,
        user_id,
        message_id,
        reply_id,
        source,
        version,
        digits_json,
        blob,
        hint,
        image,
        image_scale,
        dropped,
        guessed_pieces,
        left_out,
    ) = row
    digits = [_digit_result(d) for d in json.loads(digits_json)]
    return Answer(
        id=id_,
        created_at=created_at,
        chat_id=chat_id,
        user_id=user_id,
        message_id=message_id,
        reply_message_id=reply_id,
        source=source,
        model_version=version,
        digits=digits,
        digit_images=np.frombuffer(blob, np.uint8).reshape(len(digits), 28, 28),
        hint=hint,
        image=bytes(image),
        image_scale=float(image_scale),
        dropped=int(dropped),
        guessed_pieces=int(guessed_pieces),
        left_out=bool(left_out),
    )


def delete_answers_before(connection: sqlite3.Connection, older_than: float) -> int:
    with transaction(connection):
        deleted = connection.execute("DELETE FROM answers WHERE created_at < ?", (older_than,)).rowcount
    if deleted:
        connection.execute("PRAGMA incremental_vacuum").fetchall()
    return int(deleted)


def _digit_result(data: dict[str, Any]) -> DigitResult:
    x, y, w, h = (int(v) for v in data["box"])
    box: Box = (x, y, w, h)
    top = [(int(digit), float(p)) for digit, p in data["top"]]
    return DigitResult(digit=int(data["digit"]), confidence=float(data["confidence"]), box=box, top=top)


def _user_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _has_tables(connection: sqlite3.Connection) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None


def _close(connection: sqlite3.Connection) -> None:
    # Fold the WAL back into the main file so a stopped bot leaves one file behind.
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
