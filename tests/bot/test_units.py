"""The bot's pure parts: what it says, which photo size it takes, settings, limits, redaction."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import threading
from pathlib import Path

import pytest
from telegram import Document, PhotoSize

from bot.config import MISSING_TOKEN, ConfigError, Settings, load_settings
from bot.handlers.photos import choose_photo_size, is_image_document
from bot.limits import Overloaded, PhotoRateLimiter, Verdict, WorkSlots
from bot.logs import REDACTED, RedactingFilter, setup_logging
from bot.replies import (
    OTHER_LINES,
    PIECES_LEFT_OUT,
    answer_keyboard,
    format_reading,
    parse_callback,
    percent,
)
from bot.services import Services
from classifier.reader import UNSURE_BELOW, DigitResult, Reading
from tests.standin import TOKEN


def digit(d: int, p: float, *others: tuple[int, float]) -> DigitResult:
    return DigitResult(digit=d, confidence=p, box=(0, 0, 10, 10), top=[(d, p), *others])


# What the bot says ---------------------------------------------------------------------------


def test_a_sure_digit_is_the_digit_then_the_confidence() -> None:
    assert format_reading(Reading(digits=[digit(7, 0.99123, (1, 0.005))])) == "7 (99.1%)"


def test_confidence_is_rounded_down_never_to_a_certain_100() -> None:
    assert percent(0.99996) == "99.9%"
    assert percent(1.0) == "100.0%"
    assert percent(0.5) == "50.0%"


def test_an_unsure_digit_says_so_and_lists_alternatives() -> None:
    p = UNSURE_BELOW / 2
    text = format_reading(Reading(digits=[digit(7, p, (1, 0.25), (9, 0.1))]))
    assert text.startswith(f"7 ({percent(p)})")
    assert "not sure" in text
    assert "1 (25.0%)" in text and "9 (10.0%)" in text


def test_a_number_gives_each_digits_confidence() -> None:
    reading = Reading(digits=[digit(4, 0.99), digit(2, 0.98)])
    text = format_reading(reading)
    assert text.startswith(f"42 ({percent(0.99 * 0.98)})")
    assert "4 99.0%" in text and "2 98.0%" in text
    assert "not sure" not in text


def test_an_unsure_digit_in_a_number_is_marked() -> None:
    p = UNSURE_BELOW / 2
    text = format_reading(Reading(digits=[digit(4, 0.99), digit(2, p, (7, 0.45))]))
    assert "not sure" in text and f"2 {percent(p)} (maybe 7 (45.0%))" in text


def test_a_number_parted_where_its_digits_touch_is_marked_unsure() -> None:
    # Pieces read at 0.96: each sure enough alone, but where they were parted is a guess.
    guessed = Reading(digits=[digit(5, 0.99), digit(4, 0.96), digit(8, 0.97)], guessed_pieces=2)
    text = format_reading(guessed)
    assert text.startswith("548 (") and "digits touch" in text and "not sure" in text
    assert guessed.unsure
    plain = Reading(digits=[digit(5, 0.99), digit(4, 0.96), digit(8, 0.97)])
    assert "not sure" not in format_reading(plain) and not plain.unsure


def test_a_blob_left_out_beside_the_digits_is_mentioned() -> None:
    one = format_reading(Reading(digits=[digit(7, 0.99)], kept=[1], dropped=1))
    assert one.startswith("7 (99.0%). ") and "left out a filled shape" in one
    two = format_reading(Reading(digits=[digit(4, 0.99), digit(2, 0.98)], kept=[0, 2], dropped=1))
    assert two.splitlines()[-1].startswith("I left out a filled shape")
    assert "left out" not in format_reading(Reading(digits=[digit(4, 0.99), digit(2, 0.98)]))


def test_pieces_left_out_beside_the_digits_make_the_reply_unsure() -> None:
    one = format_reading(Reading(digits=[digit(8, 0.99)], left_out=True))
    assert one == f"8 (99.0%). {PIECES_LEFT_OUT}" and "not sure" in one
    two = format_reading(Reading(digits=[digit(4, 0.99), digit(2, 0.98)], left_out=True))
    assert two.splitlines()[-1] == PIECES_LEFT_OUT
    assert "not sure" not in format_reading(Reading(digits=[digit(4, 0.99), digit(2, 0.98)]))


def test_writing_on_another_line_is_mentioned() -> None:
    one = format_reading(Reading(digits=[digit(7, 0.99)], other_lines=True))
    assert one == f"7 (99.0%). {OTHER_LINES}"
    two = format_reading(Reading(digits=[digit(4, 0.99), digit(2, 0.98)], other_lines=True))
    assert two.splitlines()[-1] == OTHER_LINES
    assert OTHER_LINES not in format_reading(Reading(digits=[digit(4, 0.99), digit(2, 0.98)]))


def test_no_digit_gives_the_hint() -> None:
    text = format_reading(Reading(hint="the page is empty"))
    assert text.startswith("No digits found: the page is empty.")


def test_an_unreadable_file_says_why() -> None:
    assert "this file is not an image" in format_reading(Reading(error="this file is not an image"))


def test_callback_data_round_trip_and_forgeries() -> None:
    data = answer_keyboard(12345).inline_keyboard[0][0].callback_data
    assert isinstance(data, str) and len(data.encode()) <= 64
    assert parse_callback(data, "saw") == 12345
    for forged in ("saw:", "saw:-1", "saw:1e3", "saw:12:3", "xyz:5", "saw:" + "9" * 40, "", None):
        assert parse_callback(forged, "saw") is None


# Which photo size ---------------------------------------------------------------------------


def size(w: int, h: int) -> PhotoSize:
    return PhotoSize(file_id=f"{w}x{h}", file_unique_id=f"u{w}x{h}", width=w, height=h, file_size=w * h // 10)


def test_the_smallest_size_at_least_800_pixels_is_taken() -> None:
    offered = [size(90, 68), size(320, 240), size(800, 600), size(1280, 960), size(2560, 1920)]
    assert choose_photo_size(offered).file_id == "800x600"
    assert choose_photo_size(list(reversed(offered))).file_id == "800x600"
    portrait = [size(68, 90), size(600, 800), size(960, 1280)]
    assert choose_photo_size(portrait).file_id == "600x800"


def test_a_small_photo_is_taken_at_its_largest() -> None:
    assert choose_photo_size([size(90, 40), size(320, 140), size(512, 224)]).file_id == "512x224"


@pytest.mark.parametrize(
    ("mime", "name", "expected"),
    [
        ("image/jpeg", "a.jpg", True),
        ("image/png", "scan", True),
        ("image/webp", None, True),
        ("image/bmp", "x.bmp", True),
        ("image/tiff", "x.tif", True),
        ("image/gif", "x.gif", True),
        ("image/heic", "x.heic", True),
        ("application/octet-stream", "IMG_0001.HEIC", True),
        ("image/svg+xml", "x.svg", False),
        ("application/pdf", "x.pdf", False),
        ("text/plain", "x.jpg", False),
        (None, "x.PNG", True),
        ("application/octet-stream", "x.jpeg", True),
        ("application/octet-stream", "x.zip", False),
    ],
)
def test_which_files_are_images(mime: str | None, name: str | None, expected: bool) -> None:
    document = Document(file_id="f", file_unique_id="u", mime_type=mime, file_name=name)
    assert is_image_document(document) is expected


# Settings -----------------------------------------------------------------------------------


def test_a_missing_token_names_botfather(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BotFather") as caught:
        load_settings({}, env_file=tmp_path / ".env")
    assert str(caught.value) == MISSING_TOKEN
    assert "\n" not in MISSING_TOKEN


def test_settings_come_from_the_environment_over_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nDIGITBOT_PHOTOS_PER_MINUTE=5\nDIGITBOT_ADMIN_IDS=1, 22 ,333\n"
        "DIGITBOT_DATA_DIR=/srv/digitbot\n"
    )
    settings = load_settings({"DIGITBOT_PHOTOS_PER_MINUTE": "7"}, env_file=env_file)
    assert settings.token == TOKEN
    assert settings.photos_per_minute == 7
    assert settings.admin_ids == frozenset({1, 22, 333})
    assert settings.db_path == Path("/srv/digitbot/digitbot.sqlite3")
    assert settings.api_url == "https://api.telegram.org/bot"
    assert settings.file_url == "https://api.telegram.org/file/bot"
    assert not settings.webhook
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "does not look like"),
        ({"DIGITBOT_ADMIN_IDS": "@alice"}, "numeric Telegram user ids"),
        ({"DIGITBOT_PHOTOS_PER_MINUTE": "0"}, "at least 1"),
        ({"DIGITBOT_LOG_LEVEL": "chatty"}, "DIGITBOT_LOG_LEVEL"),
        ({"DIGITBOT_WEBHOOK_URL": "https://bot.example.com/hook"}, "DIGITBOT_WEBHOOK_SECRET is required"),
        (
            {"DIGITBOT_WEBHOOK_URL": "https://bot.example.com/hook", "DIGITBOT_WEBHOOK_SECRET": "a b"},
            "may only hold",
        ),
    ],
)
def test_bad_settings_are_one_clear_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, **env}, env_file=None)


def test_webhook_settings() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "DIGITBOT_WEBHOOK_URL": "https://bot.example.com/tg/hook",
            "DIGITBOT_WEBHOOK_SECRET": "s3cret_-X",
            "DIGITBOT_WEBHOOK_PORT": "8080",
        },
        env_file=None,
    )
    assert settings.webhook and settings.webhook_path == "tg/hook" and settings.webhook_port == 8080
    assert "s3cret_-X" in settings.secrets


# Limits -------------------------------------------------------------------------------------


def test_over_the_rate_limit_one_notice_then_silence_until_the_window_passes() -> None:
    now = [0.0]
    limiter = PhotoRateLimiter(per_minute=3, clock=lambda: now[0])
    verdicts = [limiter.check(1) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTIFY, Verdict.DROP, Verdict.DROP]
    assert limiter.check(2) is Verdict.ALLOW  # other users are not affected
    assert 59 < limiter.retry_in(1) <= 60
    now[0] = 60.5
    assert limiter.check(1) is Verdict.ALLOW
    assert [limiter.check(1) for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTIFY]


async def test_work_slots_bound_each_user_and_everyone() -> None:
    slots = WorkSlots(total=3, per_user=2, max_waiting=2)
    inside: list[int] = []
    release = asyncio.Event()
    peak_user, peak_total = 0, 0

    async def work(user: int) -> None:
        nonlocal peak_user, peak_total
        async with slots.slot(user):
            inside.append(user)
            peak_user = max(peak_user, inside.count(1))
            peak_total = max(peak_total, len(inside))
            await release.wait()
            inside.remove(user)

    tasks = [asyncio.create_task(work(1)) for _ in range(3)] + [asyncio.create_task(work(2))]
    for _ in range(5):
        await asyncio.sleep(0)
    assert inside.count(1) == 2 and inside.count(2) == 1  # user 1's third photo waits
    assert slots.waiting == 1
    tasks.append(asyncio.create_task(work(3)))  # no free slot overall: waits (2 waiting now)
    for _ in range(5):
        await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        async with slots.slot(4):
            pass
    release.set()
    await asyncio.gather(*tasks)
    assert peak_user == 2 and peak_total == 3
    assert slots.waiting == 0 and slots.active == 0 and not slots._users


# Logs ---------------------------------------------------------------------------------------


def test_redaction_covers_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = setup_logging("DEBUG", [TOKEN, "hook-secret-123"], stream=stream)
    try:
        log = logging.getLogger("httpx")
        log.info('HTTP Request: POST https://api.telegram.org/bot%s/getMe "HTTP/1.1 200 OK"', TOKEN)
        logging.getLogger("x").warning("secret %s and half %s", "hook-secret-123", TOKEN.split(":")[1])
        log.info("GET http://h/file/bot%s/photos/1.jpg", TOKEN.replace(":", "%3A"))
        try:
            raise RuntimeError(f"failed for https://api.telegram.org/file/bot{TOKEN}/photos/1.jpg")
        except RuntimeError:
            logging.getLogger("y").exception("download")
    finally:
        logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output and TOKEN.split(":")[1] not in output and "hook-secret-123" not in output
    assert output.count(REDACTED) >= 5 and "%3A" not in output
    assert "Traceback" in output


def test_httpx_request_lines_are_not_logged_at_info() -> None:
    handler = setup_logging("INFO", [TOKEN], stream=io.StringIO())
    try:
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        logging.getLogger().removeHandler(handler)


def test_the_filter_leaves_other_records_alone() -> None:
    record = logging.LogRecord("n", logging.INFO, __file__, 1, "value %d", (5,), None)
    assert RedactingFilter([TOKEN]).filter(record)
    assert record.getMessage() == "value 5"


def test_env_example_documents_exactly_the_settings_the_bot_reads(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    sources = ("bot/config.py", "classifier/serving.py", "classifier/data.py")  # DIGITBOT_MNIST
    source = "".join((root / name).read_text() for name in sources)
    read = set(re.findall(r'"((?:TELEGRAM|DIGITBOT)_[A-Z_]+)"', source))
    example = (root / ".env.example").read_text()
    documented = set(re.findall(r"^(?:# )?((?:TELEGRAM|DIGITBOT)_[A-Z_]+)=", example, re.MULTILINE))
    assert documented == read
    # Every value shown is the default: uncommented, the example gives the default settings.
    uncommented = tmp_path / ".env"
    uncommented.write_text(re.sub(r"^# ((?:TELEGRAM|DIGITBOT)_)", r"\1", example, flags=re.MULTILINE))
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=uncommented)
    defaults = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert settings == defaults
    # As copied, only the token is set.
    assert re.findall(r"^((?:TELEGRAM|DIGITBOT)_[A-Z_]+)=", example, re.MULTILINE) == ["TELEGRAM_BOT_TOKEN"]


async def test_every_worker_thread_starts_with_the_bot(tmp_path: Path, model_path: Path) -> None:
    """The pool's threads are made and warmed up before the first photo, not under it."""
    settings = Settings(token=TOKEN, model_path=model_path, db_path=tmp_path / "digitbot.sqlite3", workers=3)
    # Threads themselves, not their idents: a thread that ends meanwhile (an earlier test's
    # pool winding down) may hand its ident to a new worker.
    before = set(threading.enumerate())
    services = await Services.start(settings)
    try:
        workers = [t for t in threading.enumerate() if t.name.startswith("digitbot-work") and t not in before]
        assert len(workers) == 3
    finally:
        await services.close()
