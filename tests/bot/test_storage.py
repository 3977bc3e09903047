"""The SQLite database: migrations, WAL, transactions, answers that survive a reopen, pruning,
and "What I saw" rebuilt from a stored answer."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bot.pipeline import render_answer, stored_reading
from bot.storage import (
    MIGRATIONS,
    Answer,
    Storage,
    StorageError,
    connect,
    migrate,
    select_answer,
    transaction,
)
from classifier.debug import headline
from classifier.reader import DigitResult


def answer(chat_id: int = 10, created_at: float = 0.0, n: int = 2) -> Answer:
    digits = [
        DigitResult(digit=d, confidence=0.9 + d / 100, box=(d * 10, 5, 8, 12), top=[(d, 0.9), (9 - d, 0.05)])
        for d in range(n)
    ]
    return Answer(
        chat_id=chat_id,
        user_id=chat_id,
        message_id=77,
        source="photo",
        model_version="1.2.3",
        digits=digits,
        digit_images=np.arange(n * 784, dtype=np.uint32).astype(np.uint8).reshape(n, 28, 28),
        image=b"\xff\xd8jpeg",
        image_scale=2.5,
        created_at=created_at,
    )


async def test_an_answer_round_trips_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "db.sqlite3"
    storage = await Storage.open(path)
    original = answer()
    answer_id = await storage.add_answer(original)
    await storage.set_reply_message(answer_id, 1234)
    await storage.close()

    storage = await Storage.open(path)
    try:
        stored = await storage.get_answer(answer_id)
        assert await storage.get_answer(answer_id + 1) is None
    finally:
        await storage.close()
    assert stored is not None
    assert stored.id == answer_id and stored.reply_message_id == 1234
    assert stored.digits == original.digits
    assert stored.number == "01" and stored.confidence == pytest.approx(original.confidence)
    assert np.array_equal(stored.digit_images, original.digit_images)
    assert stored.image == original.image and stored.image_scale == 2.5
    assert stored.created_at > time.time() - 60


def test_a_new_database_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    connection = connect(tmp_path / "db.sqlite3")
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "answers" in tables
    finally:
        connection.close()


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    connection = connect(tmp_path / "db.sqlite3")
    try:
        broken = (*MIGRATIONS, ("CREATE TABLE later (id INTEGER PRIMARY KEY)", "THIS IS NOT SQL"))
        with pytest.raises(sqlite3.OperationalError):
            migrate(connection, broken)
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'later'").fetchone() is None
        # A later, fixed migration applies.
        fixed = (*MIGRATIONS, ("CREATE TABLE later (id INTEGER PRIMARY KEY)",))
        assert migrate(connection, fixed) == len(MIGRATIONS) + 1
    finally:
        connection.close()


def test_a_database_from_a_newer_digitbot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StorageError, match="newer"):
        connect(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match=str(path)):
        connect(path)


def test_a_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    connection = connect(tmp_path / "db.sqlite3")
    try:
        with pytest.raises(ValueError), transaction(connection):
            connection.execute("INSERT INTO answers (created_at, chat_id, message_id, source, model_version,"
                               " number, confidence, digits_json, digit_images, image, image_scale)"
                               " VALUES (1, 1, 1, 'photo', 'v', '', 0, '[]', x'', x'', 1)")  # fmt: skip
            raise ValueError("crash mid-write")
        assert connection.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 0
    finally:
        connection.close()


async def test_pruning_deletes_only_old_answers(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        now = time.time()
        old = [await storage.add_answer(answer(created_at=now - 40 * 86400)) for _ in range(3)]
        new = await storage.add_answer(answer(created_at=now - 86400))
        assert await storage.prune_answers(now - 30 * 86400) == 3
        assert [await storage.get_answer(i) for i in old] == [None, None, None]
        assert await storage.get_answer(new) is not None
    finally:
        await storage.close()


def test_images_must_match_the_digits() -> None:
    bad = answer(n=2)
    bad = Answer(**{**bad.__dict__, "digit_images": np.zeros((3, 28, 28), np.uint8)})
    connection = sqlite3.connect(":memory:", isolation_level=None)
    for statement in MIGRATIONS[0]:
        connection.execute(statement)
    from bot.storage import insert_answer

    with pytest.raises(ValueError, match="2 digits"):
        insert_answer(connection, bad)


async def test_why_an_answer_was_not_sure_round_trips(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        plain = await storage.add_answer(answer())
        flagged = await storage.add_answer(
            dataclasses.replace(answer(), dropped=1, guessed_pieces=2, left_out=True)
        )
        stored_plain, stored_flagged = await storage.get_answer(plain), await storage.get_answer(flagged)
    finally:
        await storage.close()
    assert stored_plain is not None
    assert (stored_plain.dropped, stored_plain.guessed_pieces, stored_plain.left_out) == (0, 0, False)
    assert stored_flagged is not None
    assert (stored_flagged.dropped, stored_flagged.guessed_pieces, stored_flagged.left_out) == (1, 2, True)


def test_answers_stored_before_schema_3_are_migrated_and_still_read(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    assert migrate(connection, MIGRATIONS[:2]) == 2
    connection.execute("INSERT INTO answers (created_at, chat_id, message_id, source, model_version,"
                       " number, confidence, digits_json, digit_images, image, image_scale)"
                       " VALUES (1, 1, 1, 'photo', 'v', '', 0, '[]', x'', x'ffd8', 1)")  # fmt: skip
    connection.close()
    connection = connect(path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 3
        old = select_answer(connection, 1)
    finally:
        connection.close()
    assert old is not None and old.image == b"\xff\xd8"
    assert (old.dropped, old.guessed_pieces) == (0, 0)


def _header_ink_right_end(png: bytes) -> int:
    """The rightmost column of text in the header line of a "What I saw" picture."""
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture is not None
    columns = np.flatnonzero((picture[:26] < 128).any(axis=0))
    return int(columns[-1])


def test_what_i_saw_rebuilt_from_an_answer_says_not_sure_as_predict_does() -> None:
    # An answer is "not sure" when some digits were read from pieces cut at a guess, however
    # sure the model was of each piece, or when a shape was left out beside the digits; the
    # picture rebuilt from the stored answer must say so too.
    ok, jpeg = cv2.imencode(".jpg", np.full((120, 160), 230, np.uint8))
    assert ok
    digits = [DigitResult(d, 0.99, box=(d * 20, 20, 30, 60), top=[(d, 0.99)]) for d in (4, 7)]
    sure = dataclasses.replace(
        answer(),
        digits=digits,
        image=jpeg.tobytes(),
        image_scale=1.0,
    )
    guessed = dataclasses.replace(sure, guessed_pieces=1)
    assert headline(stored_reading(sure)) == "read: 47"
    assert headline(stored_reading(guessed)) == "read: 47  (not sure)"
    assert headline(stored_reading(dataclasses.replace(sure, dropped=1))) == "read: 47  (not sure)"
    # The header is "read: 47", then "  (not sure)" for the guessed answer only.
    assert _header_ink_right_end(render_answer(guessed)) > _header_ink_right_end(render_answer(sure)) + 40
