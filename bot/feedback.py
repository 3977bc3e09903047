"""Users' feedback on answers, kept as training samples for the admin's /retrain.

Each digit of an answer the user confirmed ("Right") or corrected (the keypad, or a text reply
with the right number) becomes one row of ``samples``: the 28x28 image the model was given,
the label, what the model said and how sure it was, the model version, the user, the chat and
when. ``classifier.feedback`` reads the same table for training. Writes are durable
transactions: a sample is on the disk before the user is thanked for it.

The functions taking a connection run on the database thread (``Storage.run``).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

import numpy as np

from bot.storage import Answer, transaction


@dataclass(frozen=True)
class Recorded:
    labels: str  # what the user says each digit is, in order
    corrected: int  # how many of them differ from the answer
    changed: bool  # False: exactly this was recorded already (a repeated tap)


@dataclass(frozen=True)
class Forgotten:
    samples: int
    answers: int


@dataclass(frozen=True)
class SampleCounts:
    total: int
    newer: int  # with an id above the one given: not yet seen by a training run


def record(connection: sqlite3.Connection, answer: Answer, labels: str, user_id: int) -> Recorded:
    """One sample per digit of ``answer``, labelled by ``labels`` (as many digits as it has).
    The same feedback twice writes nothing; a changed mind replaces the earlier labels."""
    if answer.id is None:
        raise ValueError("the answer was never stored")
    if len(labels) != len(answer.digits) or not labels.isdigit():
        raise ValueError(f"{len(answer.digits)} digits but labels {labels!r}")
    images = np.ascontiguousarray(answer.digit_images, dtype=np.uint8)
    corrected = sum(int(label) != d.digit for label, d in zip(labels, answer.digits, strict=True))
    with transaction(connection, durable=True):
        if recorded_labels(connection, answer.id, len(answer.digits)) == labels:
            return Recorded(labels, corrected, changed=False)
        now = time.time()
        connection.executemany(
            """
            INSERT INTO samples (image, label, kind, predicted, confidence, model_version, answer_id,
                position, user_id, chat_id, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (answer_id, position) DO UPDATE SET
                label = excluded.label, kind = excluded.kind, updated_at = excluded.updated_at
            """,
            [
                (
                    images[position].tobytes(),
                    int(label),
                    "confirmed" if int(label) == digit.digit else "corrected",
                    digit.digit,
                    digit.confidence,
                    answer.model_version,
                    answer.id,
                    position,
                    user_id,
                    answer.chat_id,
                    now,
                    now,
                )
                for position, (label, digit) in enumerate(zip(labels, answer.digits, strict=True))
            ],
        )
    return Recorded(labels, corrected, changed=True)


def recorded_labels(connection: sqlite3.Connection, answer_id: int, digits: int) -> str | None:
    """What the user said about each of the answer's ``digits`` digits; None if nothing (yet)."""
    rows = connection.execute(
        "SELECT position, label FROM samples WHERE answer_id = ? ORDER BY position", (answer_id,)
    ).fetchall()
    if [position for position, _ in rows] != list(range(digits)):
        return None
    return "".join(str(label) for _, label in rows)


def forget_user(connection: sqlite3.Connection, user_id: int) -> Forgotten:
    """Delete every sample the user gave and every answer to their photos."""
    with transaction(connection, durable=True):
        samples = connection.execute("DELETE FROM samples WHERE user_id = ?", (user_id,)).rowcount
        answers = connection.execute("DELETE FROM answers WHERE user_id = ?", (user_id,)).rowcount
    if samples or answers:
        connection.execute("PRAGMA incremental_vacuum").fetchall()  # give the pages back to the disk
    return Forgotten(samples=int(samples), answers=int(answers))


def count_samples(connection: sqlite3.Connection, after_id: int | None) -> SampleCounts:
    total, newer = connection.execute(
        "SELECT COUNT(*), COUNT(CASE WHEN id > ? THEN 1 END) FROM samples", (after_id or 0,)
    ).fetchone()
    return SampleCounts(total=int(total), newer=int(newer))


def last_sample_id(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT COALESCE(MAX(id), 0) FROM samples").fetchone()[0])
