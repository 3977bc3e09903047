"""The real Application, polling the Bot API stand-in over HTTP: real model, real JPEG/PNG
bytes, a real SQLite file. Every failure case is followed by a photo that must still be read."""

from __future__ import annotations

import dataclasses
import re
import socket
from typing import Any

import cv2
import numpy as np
import pytest

from bot.app import App, build_application, serve
from bot.config import Settings
from bot.replies import (
    ANSWER_GONE,
    BUSY,
    DOWNLOAD_FAILED,
    HINTS,
    OTHER_LINES,
    SEEN_PREFIX,
    TEXT_HINT,
    TRY_AGAIN,
    parse_callback,
)
from bot.services import services_of
from bot.transport import RETRY_DELAYS
from classifier import synth
from classifier.reader import FILLED_HINT
from tests.bot import photos
from tests.standin import DOWNLOAD, BotApiStandIn, Sent

ANSWER = re.compile(r"^(\d+) \((\d{1,3}\.\d)%\)")
USER = 501


async def answered(standin: BotApiStandIn, image: np.ndarray, user: int = USER, **kw: Any) -> Sent:
    message = standin.send_photo(user, photos.telegram_sizes(image), **kw)
    return await standin.reply_to(message)


def read_number(reply: Sent) -> str:
    assert reply.text is not None
    match = ANSWER.match(reply.text)
    assert match, f"not an answer: {reply.text!r}"
    return match.group(1)


async def assert_still_reading(
    standin: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int = 999
) -> None:
    reply = await answered(standin, digit_images[3], user=user)
    assert read_number(reply) == "3"


# Photos -------------------------------------------------------------------------------------


async def test_each_digit_is_read_and_the_answer_quotes_its_photo(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    sent = {
        d: standin.send_photo(USER + d, photos.telegram_sizes(image)) for d, image in digit_images.items()
    }
    for d, message in sent.items():
        reply = await standin.reply_to(message)
        assert reply.chat_id == USER + d
        assert read_number(reply) == str(d)
        data = [button["callback_data"] for button in reply.buttons]
        answer_id = data[-1].split(":")[1]
        assert data == [f"ok:{answer_id}", f"no:{answer_id}", f"{SEEN_PREFIX}:{answer_id}"]
        assert len(standin.replies_to(message["message_id"])) == 1
    # Of the four sizes offered (90, 320, 800, 1280 px), only the 800 px one was downloaded.
    chosen = {m["photo"][2]["file_id"] for m in sent.values()}
    downloads = [c.params["file_id"] for c in standin.calls_to(DOWNLOAD)]
    assert sorted(downloads) == sorted(chosen)


async def test_a_number_is_read_with_each_digits_confidence(
    bot: App, standin: BotApiStandIn, number_image: tuple[np.ndarray, str]
) -> None:
    image, label = number_image
    reply = await answered(standin, image)
    assert read_number(reply) == label
    assert reply.text is not None and "\nEach digit: " in reply.text
    assert len(re.findall(r"\d \d{1,3}\.\d%", reply.text.split("\n")[1])) == len(label)


async def test_writing_on_another_line_is_mentioned_in_the_answer(
    bot: App, standin: BotApiStandIn, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # Only the main line is read: the user hears that the rest was not.
    x, y = mnist_test_digits
    rows = [[0, 1, 2], [3, 4]]
    reply = await answered(standin, photos.photo([synth.lines_of_writing([list(x[r]) for r in rows])]))
    assert read_number(reply) in ["".join(str(int(y[i])) for i in r) for r in rows]
    assert reply.text is not None and reply.text.splitlines()[-1] == OTHER_LINES
    number = await answered(standin, photos.photo([x[0], x[1], x[2]]))
    assert number.text is not None and OTHER_LINES not in number.text


async def test_a_number_whose_digits_touch_is_answered_and_stored(
    bot: App, standin: BotApiStandIn, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # "395" written with its digits running into each other: read from the pieces of one
    # wide part, whose rows are stored for "What I saw" and feedback.
    x, y = mnist_test_digits
    picks = [500, 501, 502]
    rng = np.random.default_rng(0)
    look = synth.Look(digit_height=0.3, rotation=float(rng.uniform(-4, 4)), quality=85, gap=(-0.06, 0.0))
    reply = await answered(standin, synth.render_photo(rng, [x[i] for i in picks], look))
    assert read_number(reply) == "".join(str(int(y[i])) for i in picks)
    # The buttons come only with an answer that was stored (a failed store answers without).
    data = [button["callback_data"] for button in reply.buttons]
    assert data[0].startswith("ok:") and data[-1].startswith(f"{SEEN_PREFIX}:")


async def test_a_blank_page_gets_a_hint(bot: App, standin: BotApiStandIn) -> None:
    reply = await answered(standin, photos.photo([], seed=3))
    assert reply.text is not None and reply.text.startswith("No digits found: ")


@pytest.mark.parametrize(
    ("extension", "mime"),
    [
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("webp", "image/webp"),
        ("bmp", "image/bmp"),
        ("tif", "image/tiff"),
        ("gif", "image/gif"),
    ],
)
async def test_an_image_sent_as_a_file_is_read(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray], extension: str, mime: str
) -> None:
    image = cv2.resize(digit_images[6], (640, 480), interpolation=cv2.INTER_AREA)
    data = photos.gif(image) if extension == "gif" else photos.encode(image, extension)
    message = standin.send_document(USER, data, f"digit.{extension}", mime)
    reply = await standin.reply_to(message)
    assert read_number(reply) == "6"
    assert reply.buttons


# Everything else ----------------------------------------------------------------------------

FILE = {"file_id": "OTHER", "file_unique_id": "OTHERU"}
NON_IMAGES: dict[str, dict[str, Any]] = {
    "text": {"text": "hello bot, what can you do?"},
    "sticker": {"sticker": {**FILE, "type": "regular", "width": 512, "height": 512,
                            "is_animated": False, "is_video": False}},
    "video": {"video": {**FILE, "width": 640, "height": 480, "duration": 3}},
    "video_note": {"video_note": {**FILE, "length": 240, "duration": 3}},
    "voice": {"voice": {**FILE, "duration": 2}},
    "audio": {"audio": {**FILE, "duration": 200}},
    "animation": {"animation": {**FILE, "width": 320, "height": 240, "duration": 2},
                  "document": {**FILE, "mime_type": "video/mp4", "file_name": "funny.gif.mp4"}},
    "location": {"location": {"latitude": 52.37, "longitude": 4.89}},
    "contact": {"contact": {"phone_number": "+100200300", "first_name": "Ann"}},
    "poll": {"poll": {"id": "p1", "question": "7 or 1?", "total_voter_count": 0, "is_closed": False,
             "options": [{"text": "7", "voter_count": 0, "persistent_id": "o1"},
                         {"text": "1", "voter_count": 0, "persistent_id": "o2"}],
             "is_anonymous": True, "type": "regular", "allows_multiple_answers": False,
             "allows_revoting": True, "members_only": False}},
}  # fmt: skip


async def test_each_kind_of_non_image_message_gets_a_one_line_hint(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    messages = {kind: standin.send_message(USER, **content) for kind, content in NON_IMAGES.items()}
    messages["command"] = standin.send_text(USER, "/frobnicate now")
    messages["pdf"] = standin.send_document(USER, b"%PDF-1.4\n%\xe2\xe3\n", "notes.pdf", "application/pdf")
    messages["zip"] = standin.send_document(USER, b"PK\x03\x04" + bytes(26), "digits.zip", "application/zip")
    expected = {
        **{kind: HINTS.get(kind, TEXT_HINT) for kind in messages},
        "pdf": HINTS["document"],
        "zip": HINTS["document"],
    }
    for kind, message in messages.items():
        reply = await standin.reply_to(message)
        assert reply.text == expected[kind], kind
        assert "\n" not in reply.text and not reply.buttons
    await assert_still_reading(standin, digit_images)
    for message in messages.values():
        assert len(standin.replies_to(message["message_id"])) == 1
    assert len(standin.calls_to("getFile")) == 1  # only for the photo


async def test_help_and_start(bot: App, standin: BotApiStandIn) -> None:
    for command in ("/help", "/start"):
        reply = await standin.reply_to(standin.send_text(USER, command))
        assert reply.text is not None and "photo" in reply.text and "30 days" in reply.text
        assert len(reply.text.splitlines()) <= 10
    commands = standin.calls_to("setMyCommands")
    assert commands and [c["command"] for c in commands[0].params["commands"]] == [
        "help",
        "start",
        "model",
        "forget",
    ]
    assert all("scope" not in c.params for c in commands)  # no admins configured: no admin menu


async def test_in_a_group_photos_are_answered_and_chatter_is_ignored(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    group = -100123
    chatter = standin.send_text(USER, "nice weather", chat_id=group, chat_type="supergroup")
    reply = await answered(standin, digit_images[8], chat_id=group, chat_type="supergroup")
    assert reply.chat_id == group and read_number(reply) == "8"
    await standin.reply_to(standin.send_text(USER, "/help", chat_id=group, chat_type="supergroup"))
    assert standin.replies_to(chatter["message_id"]) == []


# Broken and hostile files --------------------------------------------------------------------


async def test_broken_images_get_a_clear_answer_and_the_next_photo_is_read(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    good = photos.jpeg(digit_images[2])
    corrupt = good[:600] + bytes(range(256)) * 8  # a JPEG header, then garbage
    cases = {
        "corrupt": standin.send_document(USER, corrupt, "broken.jpg", "image/jpeg"),
        "truncated": standin.send_document(USER, good[: len(good) // 3], "cut.jpg", "image/jpeg"),
        "one pixel": standin.send_document(USER, photos.tiny_png(), "dot.png", "image/png"),
        "empty": standin.send_document(USER, b"", "empty.png", "image/png"),
        "text as jpg": standin.send_document(USER, b"just text\n" * 50, "x.jpg", "application/octet-stream"),
    }
    for name, message in cases.items():
        reply = await standin.reply_to(message)
        assert reply.text is not None
        assert reply.text.startswith(("Sorry, I couldn't read this picture", "No digits found")), name
        assert not ANSWER.match(reply.text), name
    await assert_still_reading(standin, digit_images)


async def test_an_image_over_the_pixel_cap_is_refused_from_its_header(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    bomb = photos.png_header_only(8_000, 8_000)  # 64 megapixels in 100 bytes
    reply = await standin.reply_to(standin.send_document(USER, bomb, "huge.png", "image/png"))
    assert reply.text is not None and "too large" in reply.text
    huge = photos.png_header_only(30_000, 30_000)
    reply = await standin.reply_to(standin.send_document(USER, huge, "huger.png", "image/png"))
    assert reply.text is not None and reply.text.startswith("Sorry, I couldn't read this picture")
    await assert_still_reading(standin, digit_images)


async def test_a_file_over_20_mb_is_refused_without_downloading_it(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    data = b"\xff\xd8" + b"0" * 100
    message = standin.send_document(USER, data, "big.jpg", "image/jpeg", file_size=25_000_000)
    reply = await standin.reply_to(message)
    assert reply.text is not None and "too large" in reply.text and "25.0 MB" in reply.text
    file_id = message["document"]["file_id"]
    assert not [c for c in standin.calls if c.params.get("file_id") == file_id]
    await assert_still_reading(standin, digit_images)


# Faults -------------------------------------------------------------------------------------


async def test_a_slow_download_does_not_hold_up_other_users(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    slow_sizes = photos.telegram_sizes(digit_images[4])
    slow = standin.send_photo(USER, slow_sizes)
    slow_file = slow["photo"][2]["file_id"]
    standin.fail(DOWNLOAD, status=None, delay=1.5, match=lambda p: p["file_id"] == slow_file)
    await standin.wait_for(lambda: bool(standin.calls_to("getFile")))
    fast = await answered(standin, digit_images[5], user=USER + 1)
    assert read_number(fast) == "5"
    assert not standin.replies_to(slow["message_id"])  # still downloading
    assert read_number(await standin.reply_to(slow)) == "4"


async def test_a_failed_download_is_reported_and_the_next_photo_is_read(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    standin.fail(DOWNLOAD, 500, times=1 + len(RETRY_DELAYS))  # the first try and every resend
    reply = await answered(standin, digit_images[1])
    assert reply.text == DOWNLOAD_FAILED
    standin.fail("getFile", 400, "Bad Request: wrong file_id or the file is temporarily unavailable")
    reply = await answered(standin, digit_images[1])
    assert reply.text == DOWNLOAD_FAILED
    await assert_still_reading(standin, digit_images)


async def test_a_download_that_never_finishes_times_out(
    standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    async with serve(build_application(dataclasses.replace(settings, download_timeout=1.0))):
        standin.fail(DOWNLOAD, status=None, delay=30)
        reply = await answered(standin, digit_images[0])
        assert reply.text == DOWNLOAD_FAILED
        await assert_still_reading(standin, digit_images)


async def test_a_bot_api_error_on_the_answer_ends_in_try_again_and_the_bot_goes_on(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    # The answer, the first time and every time it is sent again (bot.transport.RETRY_DELAYS).
    standin.fail("sendMessage", 500, match=lambda p: "reply_markup" in p, times=1 + len(RETRY_DELAYS))
    message = standin.send_photo(USER, photos.telegram_sizes(digit_images[9]))
    reply = await standin.reply_to(message)
    assert reply.text == TRY_AGAIN
    failed = [c for c in standin.calls_to("sendMessage") if c.status == 500]
    assert len(failed) == 1 + len(RETRY_DELAYS)
    assert {c.params["reply_parameters"]["message_id"] for c in failed} == {message["message_id"]}
    await assert_still_reading(standin, digit_images)
    assert len(standin.replies_to(message["message_id"])) == 1


@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")  # raised inside PTB's RetryAfter
async def test_429_retry_after_is_honoured_and_the_answer_arrives_once(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    standin.fail("sendMessage", 429, retry_after=1)
    message = standin.send_photo(USER, photos.telegram_sizes(digit_images[7]))
    reply = await standin.reply_to(message)
    assert read_number(reply) == "7"
    refused = [c for c in standin.calls_to("sendMessage") if c.status == 429]
    assert len(refused) == 1 and reply.at - refused[0].at >= 1.0
    assert len(standin.replies_to(message["message_id"])) == 1


# Load and limits ----------------------------------------------------------------------------


async def test_help_is_answered_while_50_photos_are_in_flight(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    standin.fail(DOWNLOAD, status=None, delay=0.5, times=-1)  # every download takes a while
    sizes = {d: photos.telegram_sizes(image) for d, image in digit_images.items()}
    sent = [(i % 10, standin.send_photo(1000 + i // 5, sizes[i % 10])) for i in range(50)]
    await standin.wait_for(lambda: len(standin.calls_to("getFile")) >= 10)
    help_reply = await standin.reply_to(standin.send_text(2000, "/help"), timeout=5)
    answered_before_help = sum(bool(standin.replies_to(m["message_id"])) for _, m in sent)
    # 16 photos are read at once and each download takes 0.5 s: at most two rounds are done.
    assert answered_before_help <= 32, answered_before_help
    assert help_reply.text is not None and "photo" in help_reply.text
    for digit, message in sent:
        assert read_number(await standin.reply_to(message, timeout=30)) == str(digit)
    batcher = services_of(bot).batcher
    assert batcher.images == 50 and batcher.batches < 50  # some photos shared a model call


async def test_over_the_rate_limit_one_polite_message_and_no_queue(
    standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    async with serve(build_application(dataclasses.replace(settings, photos_per_minute=3))):
        sizes = photos.telegram_sizes(digit_images[2])
        sent = [standin.send_photo(USER, sizes) for _ in range(7)]
        other = standin.send_photo(USER + 1, sizes)
        await standin.reply_to(standin.send_text(USER, "/help"))  # after every photo was let in or not
        replies = [await standin.reply_to(m) for m in sent[:4]]
        assert [read_number(r) for r in replies[:3]] == ["2", "2", "2"]
        assert replies[3].text is not None and "faster than I can read" in replies[3].text
        assert read_number(await standin.reply_to(other)) == "2"
        assert all(not standin.replies_to(m["message_id"]) for m in sent[4:])
        assert len(standin.calls_to("getFile")) == 4  # nothing was downloaded for the dropped ones


async def test_when_too_many_photos_wait_new_ones_are_refused_at_once(
    standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    tight = dataclasses.replace(settings, max_in_flight=1, max_queued=2)
    async with serve(build_application(tight)):
        standin.fail(DOWNLOAD, status=None, delay=0.5, times=1)
        sizes = photos.telegram_sizes(digit_images[5])
        sent = [standin.send_photo(3000 + i, sizes) for i in range(5)]  # 1 working, 2 waiting, 2 refused
        replies = [await standin.reply_to(m) for m in sent]
        texts = [r.text for r in replies]
        assert texts.count(BUSY) == 2, texts
        assert sum(bool(r.text and ANSWER.match(r.text)) for r in replies) == 3


# "What I saw" -------------------------------------------------------------------------------


async def test_what_i_saw_sends_one_png_and_survives_a_restart(
    standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    async with serve(build_application(settings)):
        reply = await answered(standin, digit_images[1])
        data = reply.buttons[-1]["callback_data"]
        assert data.startswith(f"{SEEN_PREFIX}:")
        standin.press_button(USER, reply, data)
        await standin.wait_for(lambda: bool(standin.replies_to(reply.message_id)))
    async with serve(build_application(settings)):  # a restart: only the database remembers
        standin.press_button(USER, reply, data)
        await standin.wait_for(lambda: len(standin.replies_to(reply.message_id)) == 2)
        # Forged or stale buttons: another chat's answer, an unknown id, junk.
        other_chat = dataclasses.replace(reply, chat_id=USER + 50)
        for forged_message, forged_data in [
            (other_chat, data),
            (reply, f"{SEEN_PREFIX}:999999"),
            (reply, "zz"),
        ]:
            query = standin.press_button(USER + 50, forged_message, forged_data)
            await standin.wait_for(
                lambda q=query: any(c.params.get("callback_query_id") == q for c in standin.calls)  # type: ignore[misc]
            )
        await assert_still_reading(standin, digit_images)
    pictures = standin.replies_to(reply.message_id)
    assert [p.method for p in pictures] == ["sendPhoto", "sendPhoto"]
    for picture in pictures:
        assert picture.photo is not None and picture.photo.startswith(b"\x89PNG")
        image = cv2.imdecode(np.frombuffer(picture.photo, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 640
    answers = standin.calls_to("answerCallbackQuery")
    assert len(answers) == 5
    assert [a.params.get("text") for a in answers[2:]] == [ANSWER_GONE] * 3
    assert not [s for s in standin.sent if s.chat_id == USER + 50]


async def test_a_blob_the_model_cannot_place_is_answered_and_kept_for_what_i_saw(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    # A pebble on the page: passed on as a possible fat marker's digit, left out by the
    # reader. Its answer is still stored (it once failed: one image, no digit to store it with).
    page = np.full((720, 960), 200.0, np.float32) + np.linspace(-20, 20, 960, dtype=np.float32)
    cv2.ellipse(page, (480, 360), (30, 50), 0, 0, 360, 40.0, -1)
    gray = np.clip(cv2.GaussianBlur(page, (0, 0), 1.5), 0, 255).astype(np.uint8)
    reply = await answered(standin, cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB))
    assert reply.text is not None and FILLED_HINT.split(";")[0] in reply.text
    assert reply.buttons and reply.buttons[-1]["callback_data"].startswith(f"{SEEN_PREFIX}:")
    # Stored with the part left out, which "What I saw" needs to say what the reply said.
    answer_id = parse_callback(reply.buttons[-1]["callback_data"], SEEN_PREFIX)
    assert answer_id is not None
    stored = await services_of(bot).storage.get_answer(answer_id)
    assert stored is not None and stored.hint == FILLED_HINT and stored.dropped == 1
    await assert_still_reading(standin, digit_images)


# Webhook mode -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_checks_the_secret_token(
    standin: BotApiStandIn, settings: Settings, digit_images: dict[int, np.ndarray]
) -> None:
    port = free_port()
    webhook = dataclasses.replace(
        settings,
        webhook_url=f"http://127.0.0.1:{port}/digitbot/hook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_path="digitbot/hook",
        webhook_secret="s3cret-Token_42",
    )
    async with serve(build_application(webhook)):
        assert standin.webhook is not None and standin.webhook.secret_token == "s3cret-Token_42"
        message = standin.send_photo(USER, photos.telegram_sizes(digit_images[0]))
        (update,) = standin.take_updates()
        assert await standin.deliver(update, "wrong-secret") == 403
        assert await standin.deliver(update, None) == 403
        assert await standin.deliver(update, "s3cret-Token_42") == 200
        assert read_number(await standin.reply_to(message)) == "0"
        assert not standin.calls_to("getUpdates")


async def test_a_database_failure_still_answers_without_the_button(
    bot: App, standin: BotApiStandIn, digit_images: dict[int, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = services_of(bot).storage

    async def disk_full(answer: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "add_answer", disk_full)
    reply = await answered(standin, digit_images[4])
    assert read_number(reply) == "4" and not reply.buttons
    monkeypatch.undo()
    reply = await answered(standin, digit_images[4])
    assert read_number(reply) == "4" and reply.buttons
