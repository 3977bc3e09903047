"""Users' confirmed and corrected digits, read from the bot's SQLite database for training.

The contract with the bot's storage is small on purpose: a table ``samples`` with
``id INTEGER``, ``image BLOB`` (784 bytes: the 28x28 uint8 digit the model saw) and
``label INTEGER`` (0-9). A fixed, hash-chosen fifth of the samples is never trained on:
the retrain gate measures every candidate model on it, and a sample stays on its side
of the split from one retrain to the next.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HOLDOUT_PERCENT = 20


class FeedbackError(ValueError):
    """The feedback database cannot be read."""


@dataclass(frozen=True)
class Feedback:
    ids: np.ndarray  # (n,) int64
    x: np.ndarray  # (n, 28, 28) uint8, MNIST format
    y: np.ndarray  # (n,) uint8

    def __len__(self) -> int:
        return len(self.ids)

    def split(self) -> tuple[Feedback, Feedback]:
        """(train, holdout), decided by each sample's id alone."""
        held = is_holdout(self.ids)
        return self._take(~held), self._take(held)

    def _take(self, mask: np.ndarray) -> Feedback:
        return Feedback(self.ids[mask], self.x[mask], self.y[mask])


def is_holdout(ids: np.ndarray) -> np.ndarray:
    # Knuth's multiplicative hash spreads consecutive ids evenly over 0-99.
    return (ids.astype(np.uint64) * np.uint64(2654435761) % np.uint64(2**32)) % np.uint64(100) < np.uint64(
        HOLDOUT_PERCENT
    )


def empty() -> Feedback:
    return Feedback(np.zeros(0, np.int64), np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))


def load_feedback(db: str | Path) -> Feedback:
    """All stored samples, read-only (the bot may be writing at the same time: WAL allows it)."""
    path = Path(db)
    if not path.is_file():
        raise FeedbackError(f"feedback database not found: {path}")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = connection.execute("SELECT id, image, label FROM samples ORDER BY id").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise FeedbackError(f"{path}: cannot read feedback samples ({exc})") from exc
    good = [(i, img, lab) for i, img, lab in rows if len(img) == 28 * 28 and 0 <= lab <= 9]
    if not good:
        return empty()
    return Feedback(
        ids=np.array([r[0] for r in good], np.int64),
        x=np.stack([np.frombuffer(r[1], np.uint8).reshape(28, 28) for r in good]),
        y=np.array([r[2] for r in good], np.uint8),
    )


def oversample(feedback: Feedback, mnist_count: int, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Repeat the samples so they make up about ``share`` of an epoch: a few hundred real
    photos would otherwise drown among 55,000 MNIST digits. Augmentation makes each copy
    different. At most 100 copies of one sample."""
    if len(feedback) == 0 or share <= 0:
        return feedback.x, feedback.y
    copies = int(np.clip(round(share * mnist_count / ((1 - share) * len(feedback))), 1, 100))
    return np.repeat(feedback.x, copies, axis=0), np.repeat(feedback.y, copies)
