"""The feedback buttons and corrections, through the real Application and the Bot API stand-in;
what they store is read back from the SQLite file itself, and through classifier.feedback,
which the retrain trains on."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot import handlers
from bot.app import App
from bot.config import Settings
from bot.feedback import forget_user, record
from bot.replies import (
    ANSWER_GONE,
    CORRECTION_HOW,
    COUNT_MISMATCH,
    FEEDBACK_GONE,
    NOT_YOUR_PHOTO,
    REPLY_WITH_NUMBER,
    TEXT_HINT,
    TRY_AGAIN,
    WHICH_DIGIT,
    FeedbackTap,
    answer_keyboard,
    keypad_keyboard,
    parse_feedback,
    parse_number,
    recorded_keyboard,
)
from bot.services import services_of
from bot.storage import Answer, Storage
from classifier.feedback import load_feedback
from classifier.reader import DigitResult
from tests.bot import photos
from tests.bot.test_bot import answered, read_number
from tests.standin import BotApiStandIn, Call, Sent

USER = 601
OTHER = 602


def rows(db: Path, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Read the bot's database file directly (WAL lets us while the bot writes)."""
    with closing(sqlite3.connect(db)) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql, args).fetchall()]


def samples(db: Path) -> list[dict[str, Any]]:
    return rows(db, "SELECT * FROM samples ORDER BY answer_id, position")


def stored_answer(db: Path, answer_id: int) -> dict[str, Any]:
    (answer,) = rows(db, "SELECT * FROM answers WHERE id = ?", answer_id)
    return answer


def answer_id_of(reply: Sent) -> int:
    return int(reply.buttons[-1]["callback_data"].split(":")[1])


async def tap(standin: BotApiStandIn, user: int, message: Sent, data: str) -> Call:
    """Press a button under ``message``; how the bot answered the tap."""
    return await standin.answered_query(standin.press_button(user, message, data))


async def buttons_become(standin: BotApiStandIn, message: Sent, first_text: str) -> list[dict[str, Any]]:
    await standin.wait_for(lambda: standin.buttons_of(message)[0]["text"].startswith(first_text))
    return standin.buttons_of(message)


async def test_right_stores_the_digit_exactly_as_the_model_saw_it_once(
    bot: App, standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    reply = await answered(standin, digit_images[7], user=USER)
    answer_id = answer_id_of(reply)
    started = time.time()
    answer = await tap(standin, USER, reply, f"ok:{answer_id}")
    assert answer.params["text"] == "Thanks! Recorded: 7 is right."
    buttons = await buttons_become(standin, reply, "✔ Recorded: 7")
    assert [b["callback_data"] for b in buttons] == [f"no:{answer_id}", f"saw:{answer_id}"]

    stored = stored_answer(settings.db_path, answer_id)
    digit = json.loads(stored["digits_json"])[0]
    (sample,) = samples(settings.db_path)
    assert sample["image"] == stored["digit_images"] and len(sample["image"]) == 784
    assert (sample["label"], sample["predicted"], sample["kind"]) == (7, 7, "confirmed")
    assert sample["confidence"] == pytest.approx(digit["confidence"])
    assert sample["model_version"] == stored["model_version"] == services_of(bot).models.current.version
    assert (sample["answer_id"], sample["position"]) == (answer_id, 0)
    assert (sample["user_id"], sample["chat_id"]) == (USER, USER)
    assert started - 1 <= sample["created_at"] <= time.time()

    # The same tap again (an impatient double tap, on the old keyboard): nothing new is written.
    again = await tap(standin, USER, reply, f"ok:{answer_id}")
    assert again.params["text"] == "Already recorded: 7."
    assert samples(settings.db_path) == [sample]

    # What the retrain reads: the classifier's own loader sees the same image and label.
    feedback = load_feedback(settings.db_path)
    assert len(feedback) == 1 and feedback.y[0] == 7
    assert feedback.x[0].tobytes() == stored["digit_images"]


async def test_wrong_opens_a_keypad_and_a_changed_mind_replaces_the_label(
    bot: App, standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    reply = await answered(standin, digit_images[4], user=USER)
    answer_id = answer_id_of(reply)
    assert (await tap(standin, USER, reply, f"no:{answer_id}")).params["text"] == WHICH_DIGIT
    keypad = await buttons_become(standin, reply, "0")
    assert [b["callback_data"] for b in keypad] == [
        *(f"fix:{answer_id}:{d}" for d in range(10)),
        f"back:{answer_id}",
        f"saw:{answer_id}",
    ]
    assert not samples(settings.db_path)  # opening the keypad records nothing

    answer = await tap(standin, USER, reply, f"fix:{answer_id}:9")
    assert answer.params["text"] == "Thanks! Recorded: it is 9."
    await buttons_become(standin, reply, "✔ Recorded: 9")
    (sample,) = samples(settings.db_path)
    assert (sample["label"], sample["predicted"], sample["kind"]) == (9, 4, "corrected")

    # Change it: the recorded button reopens the keypad; "Back" shows the record again.
    await tap(standin, USER, reply, f"no:{answer_id}")
    await buttons_become(standin, reply, "0")
    await tap(standin, USER, reply, f"back:{answer_id}")
    await buttons_become(standin, reply, "✔ Recorded: 9")
    await tap(standin, USER, reply, f"fix:{answer_id}:4")
    await buttons_become(standin, reply, "✔ Recorded: 4")
    (changed,) = samples(settings.db_path)
    assert changed["id"] == sample["id"] and changed["created_at"] == sample["created_at"]
    assert (changed["label"], changed["predicted"], changed["kind"]) == (4, 4, "confirmed")


async def test_a_number_is_corrected_by_a_text_reply(
    bot: App, standin: BotApiStandIn, settings: Settings, number_image: tuple[np.ndarray, str]
) -> None:
    image, label = number_image
    reply = await answered(standin, image, user=USER)
    answer_id = answer_id_of(reply)
    wrong = await tap(standin, USER, reply, f"no:{answer_id}")
    assert wrong.params["text"] == REPLY_WITH_NUMBER and wrong.params["show_alert"] is True
    await buttons_become(standin, reply, "✍️")
    forged = await tap(standin, USER, reply, f"fix:{answer_id}:3")  # no keypad for a number
    assert forged.params["text"] == REPLY_WITH_NUMBER

    async def say(text: str) -> str | None:
        return (await standin.reply_to(standin.send_text(USER, text, reply_to=reply))).text

    assert await say("thanks, nice bot") == TEXT_HINT  # chat, not a correction
    assert await say("4x2") == CORRECTION_HOW
    assert await say("12") == COUNT_MISMATCH.format(found="3 digits", written=2)
    assert not samples(settings.db_path)

    fixed = label[0] + str((int(label[1]) + 1) % 10) + label[2]
    assert await say(" ".join(fixed)) == f"Thanks! Recorded {fixed} (1 digit corrected)."
    await buttons_become(standin, reply, f"✔ Recorded: {fixed}")
    stored = stored_answer(settings.db_path, answer_id)
    found = samples(settings.db_path)
    assert [s["label"] for s in found] == [int(d) for d in fixed]
    assert [s["predicted"] for s in found] == [int(d) for d in label]
    assert [s["kind"] for s in found] == ["confirmed", "corrected", "confirmed"]
    assert b"".join(s["image"] for s in found) == stored["digit_images"]
    assert [s["confidence"] for s in found] == pytest.approx(
        [d["confidence"] for d in json.loads(stored["digits_json"])]
    )


async def test_only_the_sender_may_teach_and_forged_buttons_change_nothing(
    bot: App, standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    group = -100777
    reply = await answered(standin, digit_images[2], user=USER, chat_id=group, chat_type="supergroup")
    other = await answered(standin, digit_images[5], user=OTHER, chat_id=group, chat_type="supergroup")
    private = await answered(standin, digit_images[6], user=OTHER)
    answer_id = answer_id_of(reply)
    # Someone else in the group: a tap, the keypad, a text reply.
    for data in (f"ok:{answer_id}", f"no:{answer_id}", f"fix:{answer_id}:3"):
        assert (await tap(standin, OTHER, reply, data)).params["text"] == NOT_YOUR_PHOTO
    reply_text = standin.send_text(OTHER, "3", reply_to=reply, chat_id=group, chat_type="supergroup")
    assert (await standin.reply_to(reply_text)).text == NOT_YOUR_PHOTO
    # Forged data: another message's answer, another chat's, unknown ids, junk.
    forged = [
        (reply, f"ok:{answer_id_of(other)}"),
        (reply, f"ok:{answer_id_of(private)}"),
        (reply, "ok:999999"),
        (reply, f"fix:{answer_id}:12"),
        (reply, "ok:-1"),
        (reply, "ok:" + "9" * 30),
        (reply, f"back:{answer_id}:1"),
    ]
    for message, data in forged:
        assert (await tap(standin, USER, message, data)).params["text"] == FEEDBACK_GONE, data
    assert (await tap(standin, USER, reply, "zz:1")).params["text"] == ANSWER_GONE
    assert not samples(settings.db_path)
    assert standin.buttons_of(reply) == reply.buttons  # untouched
    # A blank page has nothing to teach: no Right/Wrong under it.
    blank = await answered(standin, photos.photo([], seed=5), user=USER)
    assert [b["callback_data"].split(":")[0] for b in blank.buttons] == ["saw"]
    # The sender still can.
    await tap(standin, USER, reply, f"ok:{answer_id}")
    assert [(s["label"], s["user_id"], s["chat_id"]) for s in samples(settings.db_path)] == [(2, USER, group)]


async def test_the_user_is_thanked_only_after_the_commit(
    bot: App,
    standin: BotApiStandIn,
    settings: Settings,
    digit_images: dict[int, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reply = await answered(standin, digit_images[8], user=USER)
    answer_id = answer_id_of(reply)

    def disk_failed(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(handlers.feedback, "record", disk_failed)
    answer = await tap(standin, USER, reply, f"ok:{answer_id}")
    assert answer.params["text"] == TRY_AGAIN and answer.params["show_alert"] is True
    assert not samples(settings.db_path) and standin.buttons_of(reply) == reply.buttons
    monkeypatch.undo()
    assert (await tap(standin, USER, reply, f"ok:{answer_id}")).params["text"].startswith("Thanks!")
    assert len(samples(settings.db_path)) == 1


async def test_forget_deletes_the_users_samples_and_answers_and_says_how_many(
    bot: App, standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    mine = [await answered(standin, digit_images[d], user=USER) for d in (1, 3, 9)]
    theirs = await answered(standin, digit_images[0], user=OTHER)
    for reply in mine[:2]:
        await tap(standin, USER, reply, f"ok:{answer_id_of(reply)}")
    await tap(standin, OTHER, theirs, f"ok:{answer_id_of(theirs)}")
    assert len(samples(settings.db_path)) == 3

    done = await standin.reply_to(standin.send_text(USER, "/forget"))
    assert done.text is not None and done.text.startswith("Done: I deleted 2 samples and 3 stored answers")
    assert [s["user_id"] for s in samples(settings.db_path)] == [OTHER]
    assert rows(settings.db_path, "SELECT user_id FROM answers") == [{"user_id": OTHER}]
    # Their old buttons now lead nowhere; the other user's still work.
    assert (await tap(standin, USER, mine[2], f"ok:{answer_id_of(mine[2])}")).params["text"] == FEEDBACK_GONE
    assert (await tap(standin, USER, mine[0], f"saw:{answer_id_of(mine[0])}")).params["text"] == ANSWER_GONE
    again = await standin.reply_to(standin.send_text(USER, "/forget"))
    assert again.text is not None and again.text.startswith("Done: I deleted 0 samples and 0 stored answers")
    # What /help says is kept, and how to delete it.
    help_text = (await standin.reply_to(standin.send_text(USER, "/help"))).text or ""
    assert "/forget" in help_text and "Right" in help_text and "28x28" in help_text
    assert read_number(await answered(standin, digit_images[3], user=USER)) == "3"


def test_button_data_and_corrections_are_parsed_strictly() -> None:
    biggest = 10**18 - 1
    for keyboard in (
        answer_keyboard(biggest, 3),
        keypad_keyboard(biggest),
        recorded_keyboard(biggest, "421"),
    ):
        for row in keyboard.inline_keyboard:
            for button in row:
                assert isinstance(button.callback_data, str) and len(button.callback_data.encode()) <= 64
    assert parse_feedback("ok:5") == FeedbackTap("ok", 5)
    assert parse_feedback("fix:5:0") == FeedbackTap("fix", 5, 0)
    for forged in (
        "ok:",
        "ok:5:1",
        "fix:5",
        "fix:5:10",
        "fix:5:-1",
        "fix:5:٣",
        "no:٣",
        "back:1e3",
        "saw:5",
        None,
    ):
        assert parse_feedback(forged) is None, forged
    assert parse_number(" 4 2-1. ") == "421" and parse_number("7") == "7"
    for text in ("", "four", "4x2", "1,5 or 7", "٣", None):
        assert parse_number(text) is None, text


async def test_samples_outlive_pruned_answers_and_go_with_forget(tmp_path: Path) -> None:
    """Answers are pruned after the retention period; the samples taken from them are training
    data and stay (their answer_id becomes NULL) until the user's /forget."""
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        old = answer_for_test(created_at=time.time() - 40 * 86400)
        old = dataclasses.replace(old, id=await storage.add_answer(old))
        done = await storage.run(partial(record, answer=old, labels="71", user_id=USER))
        assert done.changed and done.corrected == 1
        assert await storage.prune_answers(time.time() - 30 * 86400) == 1
        kept = samples(tmp_path / "db.sqlite3")
        assert [(s["answer_id"], s["label"], s["kind"]) for s in kept] == [
            (None, 7, "confirmed"),
            (None, 1, "corrected"),
        ]
        forgotten = await storage.run(partial(forget_user, user_id=USER))
        assert (forgotten.samples, forgotten.answers) == (2, 0)
        assert not samples(tmp_path / "db.sqlite3")
    finally:
        await storage.close()


def answer_for_test(created_at: float) -> Answer:
    digits = [
        DigitResult(digit=7, confidence=0.97, box=(0, 0, 10, 10), top=[(7, 0.97)]),
        DigitResult(digit=2, confidence=0.61, box=(20, 0, 10, 10), top=[(2, 0.61), (1, 0.3)]),
    ]
    return Answer(
        chat_id=USER,
        user_id=USER,
        message_id=1,
        source="photo",
        model_version="v1",
        digits=digits,
        digit_images=np.arange(2 * 784, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28),
        image=b"\xff\xd8jpeg",
        image_scale=1.0,
        created_at=created_at,
    )
