"""Photos and images sent as files: download, read, answer with the digits.

Which photo size: Telegram offers each photo in several sizes (longer side about 90, 320,
800, 1280 and sometimes 2560 pixels). The bot downloads the smallest one whose longer side
is at least ``MIN_PHOTO_SIDE`` (800) pixels, else the largest offered. Preprocessing works
on at most 1024 pixels anyway, and at 800 pixels a number of ten digits written across the
page still gives each digit about 80 pixels, far more than the 28 the model sees; the
1280/2560 sizes would cost 2.5-10x the download and decode time for nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from telegram import Bot, Document, PhotoSize, Update
from telegram.constants import FileSizeLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.handlers.common import is_private, reply, user_key
from bot.handlers.errors import UserFacingError
from bot.limits import Overloaded, Verdict
from bot.pipeline import Result
from bot.replies import (
    BUSY,
    DOWNLOAD_FAILED,
    HINTS,
    IMAGE_EXTENSIONS,
    IMAGE_TYPES,
    RATE_LIMITED,
    TOO_LARGE_FILE,
    answer_keyboard,
    format_reading,
    megabytes,
)
from bot.services import Services, services
from bot.storage import Answer
from classifier.photo_ink import CROP_SIDE

log = logging.getLogger(__name__)

MIN_PHOTO_SIDE = CROP_SIDE  # 800: a smaller picture may be read as a tight crop, not a photo
MAX_DOWNLOAD = FileSizeLimit.FILESIZE_DOWNLOAD  # Telegram's 20 MB limit for bots


def choose_photo_size(sizes: Sequence[PhotoSize]) -> PhotoSize:
    """The smallest offered size whose longer side is >= MIN_PHOTO_SIDE, else the largest."""
    ordered = sorted(sizes, key=lambda s: (s.width * s.height, s.file_size or 0))
    for size in ordered:
        if max(size.width, size.height) >= MIN_PHOTO_SIDE:
            return size
    return ordered[-1]


def is_image_document(document: Document) -> bool:
    """By MIME type; by the file name when the type says nothing (the decoder has the last word)."""
    mime = (document.mime_type or "").lower()
    if mime in IMAGE_TYPES:
        return True
    if mime and mime != "application/octet-stream":
        return False
    return (document.file_name or "").lower().endswith(IMAGE_EXTENSIONS)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.photo:
        return
    size = choose_photo_size(message.photo)
    await read_and_answer(update, context, size.file_id, size.file_size, "photo")


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    if not is_image_document(document):
        if is_private(message):
            await reply(message, HINTS["document"])
        return
    await read_and_answer(update, context, document.file_id, document.file_size, "document")


async def read_and_answer(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    file_id: str,
    file_size: int | None,
    source: str,
) -> None:
    message = update.effective_message
    assert message is not None
    svc = services(context)
    user = user_key(update)
    verdict = svc.rate.check(user)
    if verdict is Verdict.DROP:
        log.debug("user %d is over the rate limit: photo %d dropped", user, message.message_id)
        return
    if verdict is Verdict.NOTIFY:
        seconds = max(1, round(svc.rate.retry_in(user)))
        await reply(message, RATE_LIMITED.format(limit=svc.settings.photos_per_minute, seconds=seconds))
        return
    if file_size is not None and file_size > MAX_DOWNLOAD:
        await reply(message, TOO_LARGE_FILE.format(size=megabytes(file_size)))
        return

    started = time.perf_counter()
    try:
        async with svc.slots.slot(user):
            data = await download(context.bot, file_id, svc.settings.download_timeout)
            result = await svc.pipeline.read(data)
            # Still in the slot: an answer waiting for Telegram's flood limit counts against
            # its user's in-flight bound, so one user's backlog of answers never queues in
            # front of everyone else's.
            await answer(update, svc, result, source, started)
    except Overloaded:
        log.warning("overloaded: %d photos waiting; refused one from user %d", svc.slots.waiting, user)
        await reply(message, BUSY)


async def answer(update: Update, svc: Services, result: Result, source: str, started: float) -> None:
    """Store the answer, send it quoting the photo, link the two."""
    message = update.effective_message
    assert message is not None
    text = format_reading(result.reading)
    answer_id = await store_answer(svc, update, result, source)
    # Feedback buttons only where there are digits to learn from and a sender to ask.
    digits = len(result.reading.digits) if update.effective_user is not None else 0
    sent = await reply(message, text, answer_keyboard(answer_id, digits) if answer_id is not None else None)
    if answer_id is not None:
        try:
            await svc.storage.set_reply_message(answer_id, sent.message_id)
        except Exception:  # the answer is out; only the link to it is lost
            log.exception("could not record the reply to answer %d", answer_id)
    log.debug(
        "answered message %d in chat %d: %r in %.0f ms",
        message.message_id,
        message.chat.id,
        result.reading.number,
        (time.perf_counter() - started) * 1000,
    )


async def store_answer(svc: Services, update: Update, result: Result, source: str) -> int | None:
    """Keep the answer for "What I saw"; None when there is nothing to show (an unreadable
    file) or the database failed (the user still gets the answer, without the button)."""
    message = update.effective_message
    assert message is not None
    if result.snapshot is None or result.model_version is None:
        return None
    answer = Answer(
        chat_id=message.chat.id,
        user_id=update.effective_user.id if update.effective_user else None,
        message_id=message.message_id,
        source=source,
        model_version=result.model_version,
        digits=result.reading.digits,
        # Only the parts read: a blob the model was not sure of is left out of the answer.
        digit_images=result.reading.of_digits(result.snapshot.digit_images),
        image=result.snapshot.image,
        image_scale=result.snapshot.scale,
        hint=result.reading.hint,
        dropped=result.reading.dropped,
        guessed_pieces=result.reading.guessed_pieces,
        left_out=result.reading.left_out,
    )
    try:
        return await svc.storage.add_answer(answer)
    except Exception:
        log.exception(
            "could not store the answer to message %d; answering without the button", message.message_id
        )
        return None


async def download(bot: Bot, file_id: str, timeout: float) -> bytes:
    """The file's bytes, in memory; a UserFacingError when Telegram cannot give them.

    Each of getFile and the download is bounded by ``timeout`` as a whole, the transport's
    retries included (``bot.transport``: each try waits at most its read timeout for the next
    bytes, so a stalled connection is tried again while time is left). A download shorter than
    the size getFile announced is fetched once more, then refused: a cut-off image is never
    read as if it were whole.
    """
    try:
        telegram_file = await asyncio.wait_for(bot.get_file(file_id), timeout)
    except BadRequest as exc:
        if "too big" in exc.message.lower():
            raise UserFacingError(TOO_LARGE_FILE.format(size="over 20 MB"), "file too big") from exc
        raise UserFacingError(DOWNLOAD_FAILED, "getFile failed") from exc
    except (TelegramError, TimeoutError) as exc:
        raise UserFacingError(DOWNLOAD_FAILED, "getFile failed") from exc
    if telegram_file.file_size is not None and telegram_file.file_size > MAX_DOWNLOAD:
        size = megabytes(telegram_file.file_size)
        raise UserFacingError(TOO_LARGE_FILE.format(size=size), f"file of {size}")
    if not remote_file_path(telegram_file.file_path):
        # PTB reads a file_path that names an existing local file from the disk instead of
        # downloading it ("local mode" guessed from the path): never let the API pick a file.
        raise UserFacingError(DOWNLOAD_FAILED, "getFile gave no remote file path")
    expected = telegram_file.file_size

    async def fetch() -> bytearray:
        data = bytearray()
        for _ in range(2):
            data = await telegram_file.download_as_bytearray()
            if expected is None or len(data) >= expected:
                break
            log.warning("download of %s incomplete: %d of %d bytes", file_id, len(data), expected)
        return data

    try:
        # The read timeout bounds each read; wait_for the whole (possibly trickling) download.
        data = await asyncio.wait_for(fetch(), timeout)
    except (TelegramError, TimeoutError) as exc:
        raise UserFacingError(DOWNLOAD_FAILED, "download failed") from exc
    if expected is not None and len(data) < expected:
        raise UserFacingError(DOWNLOAD_FAILED, f"download incomplete: {len(data)} of {expected} bytes")
    if len(data) > MAX_DOWNLOAD:
        raise UserFacingError(TOO_LARGE_FILE.format(size=megabytes(len(data))), "download too large")
    return bytes(data)


def remote_file_path(path: str | None) -> bool:
    """A file path from getFile that PTB will download over HTTP: set, relative, without
    ``..``, and not the name of a file on this machine."""
    if not path:
        return False
    local = Path(path)
    if local.is_absolute() or ".." in local.parts:
        return False
    try:
        return not local.exists()
    except OSError:  # e.g. a name too long for this file system: not a local file either
        return True
