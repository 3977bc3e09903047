"""Hostile and odd input, each through the Bot API stand-in with the real Application: every
case gets a clear answer (or a deliberate, documented silence), nothing unexpected is logged,
and the same user's next photo is read right, answered once.

One bot runs for the whole module (``docs/reliability.md`` lists each case and what it gets).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from bot.app import App
from bot.handlers.common import utf16_length
from bot.pipeline import Result
from bot.replies import ANSWER_GONE, HELP, HINTS, START, TEXT_HINT, TRY_AGAIN
from bot.services import services_of
from classifier.reader import DigitResult, Reading
from tests.bot import hostile, photos
from tests.bot.harness import (
    ANSWER,
    CANNOT_READ,
    NO_DIGITS,
    assert_silent,
    next_photo_is_read,
    only_reply,
    outgoing_to,
    read_number,
    running,
    settings_for,
)
from tests.standin import BOT_USERNAME, BotApiStandIn, Sent

pytestmark = pytest.mark.asyncio(loop_scope="module")

_users = itertools.count(20_000)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    api: BotApiStandIn, tmp_path_factory: pytest.TempPathFactory, model_path: Path
) -> AsyncIterator[App]:
    async with running(settings_for(api, tmp_path_factory.mktemp("hostile"), model_path)) as application:
        yield application


@pytest.fixture
def user() -> int:
    return next(_users)


@pytest.fixture
def no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Any:
    """Every case here is expected: none may end in the error handler's "unexpected error"."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith(("bot", "telegram"))
    ]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture(scope="module")
def mnist7(mnist_test_digits: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """An MNIST 7 (white on black, 28x28) for the drawings."""
    x, y = mnist_test_digits
    return np.asarray(x[int(np.flatnonzero(y == 7)[0])])


# What the answers must look like -------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """``digit``: read as this; ``starts``: the reply starts with one of these; ``exact``:
    this text; ``clear``: any answer, hint or refusal the bot means (not "try again")."""

    digit: str | None = None
    starts: tuple[str, ...] = ()
    exact: str | None = None
    contains: str | None = None
    clear: bool = False

    def check(self, reply: Sent) -> None:
        text = reply.text or ""
        assert text != TRY_AGAIN, "the bot failed on it"
        if self.digit is not None:
            assert read_number(reply) == self.digit, text
        if self.starts:
            assert text.startswith(self.starts), text
        if self.exact is not None:
            assert text == self.exact
        if self.contains is not None:
            assert self.contains in text, text
        if self.clear:
            assert ANSWER.match(text) or text.startswith((NO_DIGITS, CANNOT_READ)), text
        assert utf16_length(text) <= 4096


SEVEN = Expect(digit="7")
UNREADABLE = Expect(starts=(CANNOT_READ,))
DAMAGED = Expect(starts=(CANNOT_READ, NO_DIGITS))
NOTHING = Expect(starts=(NO_DIGITS,))
NOT_AN_IMAGE = Expect(exact=HINTS["document"])
CLEAR = Expect(clear=True)


# Files --------------------------------------------------------------------------------------

Maker = Callable[[dict[int, np.ndarray], np.ndarray], bytes]


def seven(images: dict[int, np.ndarray]) -> np.ndarray:
    return hostile.small(images[7])


H = hostile
JPG, PNG, OCTET = "image/jpeg", "image/png", "application/octet-stream"


def jpeg7(im: dict[int, np.ndarray]) -> bytes:
    return photos.jpeg(seven(im))


def png7(im: dict[int, np.ndarray]) -> bytes:
    return photos.encode(seven(im), "png")


FILES: list[tuple[str, Maker, str, str | None, Expect]] = [
    ("zero bytes", lambda im, d: b"", "empty.jpg", JPG, UNREADABLE),
    ("truncated JPEG", lambda im, d: H.truncated(jpeg7(im)), "cut.jpg", JPG, DAMAGED),
    ("corrupt JPEG", lambda im, d: H.corrupt_jpeg(jpeg7(im)), "bad.jpg", JPG, DAMAGED),
    ("truncated PNG", lambda im, d: H.truncated(png7(im)), "cut.png", PNG, DAMAGED),
    ("corrupt PNG", lambda im, d: H.corrupt_png(png7(im)), "bad.png", PNG, DAMAGED),
    ("decompression bomb (64 MP header, 74 bytes)", lambda im, d: H.bomb_header(), "bomb.png", PNG,
     Expect(starts=(CANNOT_READ,), contains="too large")),
    ("36 MP blank PNG in 50 KB, under the cap", lambda im, d: H.bomb_under_cap(), "big.png", PNG, NOTHING),
    ("PNG with a 64 MB text chunk", lambda im, d: H.png_with_text_bomb(), "text.png", PNG, CLEAR),
    ("1x1 PNG", lambda im, d: H.blank_png(1, 1), "dot.png", PNG, NOTHING),
    ("10000x10 PNG", lambda im, d: H.blank_png(10_000, 10), "wide.png", PNG, NOTHING),
    ("10x10000 PNG", lambda im, d: H.blank_png(10, 10_000, 0), "tall.png", PNG, NOTHING),
    ("16-bit PNG", lambda im, d: H.png16(seven(im)), "deep.png", PNG, SEVEN),
    ("RGBA PNG, dark ink on transparent", lambda im, d: H.transparent_drawing(d), "dark.png", PNG, SEVEN),
    ("RGBA PNG, white ink on transparent", lambda im, d: H.transparent_drawing(d, light_ink=True), "w.png",
     PNG, SEVEN),
    ("grey+alpha PNG", lambda im, d: H.grey_alpha_drawing(d), "la.png", PNG, SEVEN),
    ("40 MP transparent PNG, a 7 drawn in its middle", lambda im, d: H.big_transparent_drawing(d), "big7.png",
     PNG, SEVEN),
    ("CMYK JPEG", lambda im, d: H.cmyk_jpeg(seven(im)), "print.jpg", JPG, SEVEN),
    ("progressive JPEG", lambda im, d: H.progressive_jpeg(seven(im)), "web.jpg", JPG, SEVEN),
    ("EXIF-rotated JPEG (6: turned 90° clockwise)", lambda im, d: H.exif_rotated_jpeg(seven(im), 6), "6.jpg",
     JPG, SEVEN),
    ("EXIF-rotated JPEG (8)", lambda im, d: H.exif_rotated_jpeg(seven(im), 8), "8.jpg", JPG, SEVEN),
    ("EXIF-rotated JPEG (3: upside down)", lambda im, d: H.exif_rotated_jpeg(seven(im), 3), "3.jpg", JPG,
     SEVEN),
    ("animated GIF (first frame read)", lambda im, d: H.animated_gif(seven(im), H.small(im[1])), "anim.gif",
     "image/gif", SEVEN),
    ("WebP", lambda im, d: H.encoded(seven(im), "webp"), "d.webp", "image/webp", SEVEN),
    ("TIFF", lambda im, d: H.encoded(seven(im), "tif"), "d.tif", "image/tiff", SEVEN),
    ("BMP", lambda im, d: H.encoded(seven(im), "bmp"), "d.bmp", "image/bmp", SEVEN),
    ("image with no MIME type, by its name", lambda im, d: jpeg7(im), "IMG_1.JPG", None, SEVEN),
    ("SVG", lambda im, d: H.SVG, "seven.svg", "image/svg+xml", NOT_AN_IMAGE),
    ("SVG as octet-stream", lambda im, d: H.SVG, "seven.svg", OCTET, NOT_AN_IMAGE),
    ("SVG named .png", lambda im, d: H.SVG, "seven.png", OCTET, UNREADABLE),
    ("PDF", lambda im, d: H.PDF, "scan.pdf", "application/pdf", NOT_AN_IMAGE),
    ("HEIC (an iPhone photo sent as a file)", lambda im, d: H.encoded(seven(im), "heic"), "IMG_0001.HEIC",
     "image/heic", SEVEN),
    ("HEIC named .jpg", lambda im, d: H.encoded(seven(im), "heic"), "IMG_0001.jpg", OCTET, SEVEN),
    ("damaged HEIC", lambda im, d: H.HEIC, "IMG_0001.HEIC", "image/heic", UNREADABLE),
    ("text file named .jpg", lambda im, d: H.TEXT, "photo.jpg", JPG, UNREADABLE),
    ("text file named .jpg, no MIME type", lambda im, d: H.TEXT, "photo.jpg", None, UNREADABLE),
    ("file without name or MIME type", lambda im, d: H.TEXT, "", None, NOT_AN_IMAGE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("maker", "name", "mime", "expect"), [c[1:] for c in FILES], ids=[c[0] for c in FILES]
)
async def test_a_file(
    bot: App,
    api: BotApiStandIn,
    digit_images: dict[int, np.ndarray],
    mnist7: np.ndarray,
    user: int,
    no_unexpected_errors: None,
    maker: Maker,
    name: str,
    mime: str | None,
    expect: Expect,
) -> None:
    message = api.send_document(user, maker(digit_images, mnist7), name, mime)
    expect.check(await api.reply_to(message))
    await next_photo_is_read(api, digit_images, user)
    only_reply(api, message["message_id"])


# Photos with nothing to read -----------------------------------------------------------------

PICTURES: list[tuple[str, Callable[[], np.ndarray], Expect]] = [
    ("all white", lambda: hostile.flat(255), NOTHING),
    ("all black", lambda: hostile.flat(0), NOTHING),
    ("pure noise", lambda: hostile.noise(), NOTHING),
    ("printed text", hostile.printed_text, Expect(clear=True)),
    ("a dense page of print (12 lines, ~430 parts)", hostile.printed_page, Expect(clear=True)),
]


@pytest.mark.parametrize(("make", "expect"), [c[1:] for c in PICTURES], ids=[c[0] for c in PICTURES])
async def test_a_photo_without_handwriting(
    bot: App,
    api: BotApiStandIn,
    digit_images: dict[int, np.ndarray],
    user: int,
    no_unexpected_errors: None,
    make: Callable[[], np.ndarray],
    expect: Expect,
) -> None:
    message = api.send_photo(user, photos.telegram_sizes(make()))
    expect.check(await api.reply_to(message))
    await next_photo_is_read(api, digit_images, user)


async def test_a_page_read_as_450_digits_gets_an_answer_that_fits_and_a_what_i_saw_file(
    bot: App,
    api: BotApiStandIn,
    digit_images: dict[int, np.ndarray],
    user: int,
    monkeypatch: pytest.MonkeyPatch,
    no_unexpected_errors: None,
) -> None:
    """A dense page of print can read as hundreds of "digits" (measured: 296-432 on a 1280x960
    page, 7-27 s of preprocessing; that page is not sent here, its reading is). The answer would
    be over Telegram's 4,096 characters, and "What I saw" over its photo size limit (width +
    height <= 10,000): both would be refused."""
    pipeline = services_of(bot).pipeline
    real = pipeline.read
    many = Reading(
        digits=[DigitResult(d % 10, 0.55, (d * 2, 0, 2, 9), [(d % 10, 0.55), (1, 0.3)]) for d in range(450)]
    )

    async def reads_a_page(data: bytes) -> Result:
        result = await real(data)
        assert result.snapshot is not None
        digits = np.zeros((450, 28, 28), np.uint8)
        return Result(many, result.model_version, dataclasses.replace(result.snapshot, digit_images=digits))

    monkeypatch.setattr(pipeline, "read", reads_a_page)
    message = api.send_photo(user, photos.telegram_sizes(digit_images[1]))
    reply = await api.reply_to(message)
    monkeypatch.undo()
    assert reply.text is not None and reply.text.startswith("0123456789") and reply.text.endswith(" …")
    assert utf16_length(reply.text) <= 4096
    api.press_button(user, reply, reply.buttons[-1]["callback_data"])
    picture = await api.reply_to(reply.message_id)
    assert (
        picture.method == "sendDocument"
        and picture.photo is not None
        and picture.photo.startswith(b"\x89PNG")
    )
    await next_photo_is_read(api, digit_images, user)


# Messages that are not pictures --------------------------------------------------------------

FILE = {"file_id": "OTHER", "file_unique_id": "OTHERU"}
STICKER = {**FILE, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
MESSAGES: list[tuple[str, dict[str, Any], str]] = [
    ("static sticker", {"sticker": STICKER}, HINTS["sticker"]),
    ("animated sticker", {"sticker": {**STICKER, "is_animated": True}}, HINTS["sticker"]),
    ("video sticker", {"sticker": {**STICKER, "is_video": True}}, HINTS["sticker"]),
    ("video", {"video": {**FILE, "width": 640, "height": 480, "duration": 3}}, HINTS["video"]),
    ("video note", {"video_note": {**FILE, "length": 240, "duration": 3}}, HINTS["video_note"]),
    ("voice", {"voice": {**FILE, "duration": 2}}, HINTS["voice"]),
    ("audio", {"audio": {**FILE, "duration": 200}}, HINTS["audio"]),
    ("animation", {"animation": {**FILE, "width": 320, "height": 240, "duration": 2},
                   "document": {**FILE, "mime_type": "video/mp4", "file_name": "funny.gif.mp4"}},
     HINTS["animation"]),
    ("location", {"location": {"latitude": 52.37, "longitude": 4.89}}, TEXT_HINT),
    ("contact", {"contact": {"phone_number": "+100200300", "first_name": "Ann"}}, TEXT_HINT),
    ("poll", {"poll": {"id": "p1", "question": "7 or 1?", "total_voter_count": 0, "is_closed": False,
              "options": [{"text": "7", "voter_count": 0, "persistent_id": "o1"},
                          {"text": "1", "voter_count": 0, "persistent_id": "o2"}],
              "is_anonymous": True, "type": "regular", "allows_multiple_answers": False,
              "allows_revoting": True, "members_only": False}}, TEXT_HINT),
    ("dice", {"dice": {"emoji": "🎲", "value": 6}}, TEXT_HINT),
    ("4,096 characters of text", {"text": "7" * 4096}, TEXT_HINT),
    ("text of odd characters", {"text": "\u202e\u200b\ufeff7\U0001f600\x00\x1b[31m"}, TEXT_HINT),
]  # fmt: skip


@pytest.mark.parametrize(("content", "hint"), [c[1:] for c in MESSAGES], ids=[c[0] for c in MESSAGES])
async def test_a_message_that_is_not_a_picture_gets_a_hint(
    bot: App,
    api: BotApiStandIn,
    digit_images: dict[int, np.ndarray],
    user: int,
    no_unexpected_errors: None,
    content: dict[str, Any],
    hint: str,
) -> None:
    message = api.send_message(user, **content)
    reply = await api.reply_to(message)
    assert reply.text == hint and not reply.buttons
    await next_photo_is_read(api, digit_images, user)
    assert not [c for c in api.calls_to("getFile") if c.params.get("file_id") == "OTHER"]


# Commands -----------------------------------------------------------------------------------

JUNK = "\u202e" + "x" * 300 + " ../../etc/passwd %s %n {0} \U0001f600 ' OR 1=1; -- \x00"
COMMANDS: list[tuple[str, str, Callable[[str], bool]]] = [
    ("/help with junk arguments", f"/help {JUNK}", lambda t: t.startswith(HELP.split("{")[0][:40])),
    ("/start with junk arguments", f"/start {JUNK}", lambda t: t.startswith(START)),
    ("/help addressed to this bot", f"/help@{BOT_USERNAME} {JUNK}", lambda t: t.startswith(HELP[:40])),
    ("/help addressed to another bot", "/help@some_other_bot", lambda t: t == HINTS["command"]),
    ("unknown command with junk", f"/frobnicate {JUNK}", lambda t: t == HINTS["command"]),
    ("a command 4,000 characters long", "/" + "a" * 4000, lambda t: t == HINTS["command"]),
]


@pytest.mark.parametrize(("text", "ok"), [c[1:] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
async def test_a_command_with_junk(
    bot: App,
    api: BotApiStandIn,
    digit_images: dict[int, np.ndarray],
    user: int,
    no_unexpected_errors: None,
    text: str,
    ok: Callable[[str], bool],
) -> None:
    message = api.send_text(user, text)
    reply = await api.reply_to(message)
    assert reply.text is not None and ok(reply.text), reply.text
    await next_photo_is_read(api, digit_images, user)


# Updates in other shapes -------------------------------------------------------------------


async def test_an_edited_message_is_ignored(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int, no_unexpected_errors: None
) -> None:
    """Deliberate silence: the bot asks Telegram for new messages only (allowed_updates); if an
    edit arrives anyway (a webhook set by another tool), the original already has its answer."""
    photo = api.send_photo(user, photos.telegram_sizes(digit_images[2]))
    first = await api.reply_to(photo)
    api.send_edited(photo, caption="now with a caption")
    text = api.send_text(user, "hello")
    await api.reply_to(text)
    api.send_edited(text, text="hello again")
    await next_photo_is_read(api, digit_images, user)
    await assert_silent(api, -1)  # a moment for any late answer to the edits
    assert api.replies_to(photo["message_id"]) == [first]
    assert len(api.replies_to(text["message_id"])) == 1  # the hint to the original, only


async def test_a_photo_in_a_group_is_answered_and_chatter_is_not(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int, no_unexpected_errors: None
) -> None:
    group = -1_000_000_000_000 - user
    sticker = api.send_message(user, chat_id=group, chat_type="supergroup", sticker=STICKER)
    chatter = api.send_text(user, "lol", chat_id=group, chat_type="supergroup")
    await next_photo_is_read(api, digit_images, user, digit=8, chat_id=group, chat_type="supergroup")
    await assert_silent(api, sticker["message_id"])
    await assert_silent(api, chatter["message_id"])


async def test_a_forwarded_photo_is_read(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int, no_unexpected_errors: None
) -> None:
    origin = {"type": "user", "date": 1_700_000_000, "sender_user": api.user(user + 1)}
    message = api.send_photo(user, photos.telegram_sizes(digit_images[5]), forward_origin=origin)
    assert read_number(await api.reply_to(message)) == "5"
    hidden = {"type": "hidden_user", "date": 1_700_000_000, "sender_user_name": "Someone"}
    message = api.send_photo(user, photos.telegram_sizes(digit_images[6]), forward_origin=hidden)
    assert read_number(await api.reply_to(message)) == "6"
    await next_photo_is_read(api, digit_images, user)


async def test_a_photo_with_a_4000_character_caption_is_read(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int, no_unexpected_errors: None
) -> None:
    caption = ("/help " + "seven? " * 600)[:4000]
    message = api.send_photo(user, photos.telegram_sizes(digit_images[9]), caption=caption)
    reply = await api.reply_to(message)
    assert read_number(reply) == "9"
    await next_photo_is_read(api, digit_images, user)
    only_reply(api, message["message_id"])


FORGED = ["saw:999999999", "saw:-1", "saw:1e3", "saw:" + "9" * 40, "zz", "", "\u202e" * 64, "ok:0", "no:x",
          "fix:1:99", "back:-5"]  # fmt: skip


async def test_forged_callback_data_gets_an_alert_and_nothing_else(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int, no_unexpected_errors: None
) -> None:
    reply = await next_photo_is_read(api, digit_images, user)
    stranger = user + 500_000
    before = len(outgoing_to(api, stranger)) + len(outgoing_to(api, user))
    queries = [api.press_button(stranger, reply, data) for data in FORGED]
    # And a tap on a message that is not in any chat (an inline message): no "message" at all.
    inline = f"cq-inline-{user}"
    api.push_update(
        {"callback_query": {"id": inline, "from": api.user(stranger), "chat_instance": "1",
                            "inline_message_id": "AAAA", "data": FORGED[0]}}
    )  # fmt: skip
    queries.append(inline)
    await api.wait_for(
        lambda: all(any(c.params.get("callback_query_id") == q for c in api.calls) for q in queries)
    )
    answers = {c.params["callback_query_id"]: c for c in api.calls_to("answerCallbackQuery")}
    for query in queries:
        assert answers[query].params.get("show_alert") is True, query  # told, not silently ignored
    assert answers[inline].params.get("text") == ANSWER_GONE
    await next_photo_is_read(api, digit_images, user)
    # Nothing was sent to either chat but the next photo's answer.
    assert len(outgoing_to(api, stranger)) + len(outgoing_to(api, user)) == before + 1
