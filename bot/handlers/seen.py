"""The "what I saw" button: one PNG of the boxes found and the 28x28 digits the model got.

The answer comes from the database, so the button works after a restart (until the answer
is pruned). A button only opens an answer given in the same chat, under that very message:
forged callback data cannot fetch anyone else's photo.
"""

from __future__ import annotations

from telegram import ReplyParameters, Update
from telegram.ext import ContextTypes

from bot.handlers.common import user_key
from bot.limits import Verdict
from bot.replies import ANSWER_GONE, SEEN_CAPTION, SEEN_PREFIX, parse_callback
from bot.services import services

SLOW_DOWN = "Too many requests: please wait a minute."
FILE_NAME = "what-i-saw.png"
PHOTO_MAX_BYTES = 10_000_000
PHOTO_MAX_SIDES = 10_000  # width + height
PHOTO_MAX_RATIO = 20


async def on_what_i_saw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    message = query.message
    answer_id = parse_callback(query.data, SEEN_PREFIX)
    answer = await svc.storage.get_answer(answer_id) if answer_id is not None else None
    if (
        answer is None
        or message is None
        or answer.chat_id != message.chat.id
        or (answer.reply_message_id is not None and answer.reply_message_id != message.message_id)
    ):
        await query.answer(ANSWER_GONE, show_alert=True)
        return
    if svc.rate.check(user_key(update)) is not Verdict.ALLOW:
        await query.answer(SLOW_DOWN, show_alert=True)
        return
    await query.answer()
    png = await svc.pipeline.render(answer)
    quoted = ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)
    chat_id = message.chat.id
    if fits_as_photo(png):
        await context.bot.send_photo(
            chat_id, photo=png, filename=FILE_NAME, caption=SEEN_CAPTION, reply_parameters=quoted
        )
    else:  # Telegram refuses it as a photo (hundreds of digits make it very tall): a file then
        await context.bot.send_document(
            chat_id, document=png, filename=FILE_NAME, caption=SEEN_CAPTION, reply_parameters=quoted
        )


def fits_as_photo(png: bytes) -> bool:
    """Within Telegram's limits for sendPhoto: at most 10 MB, width + height at most 10,000
    and neither side over 20 times the other (read from the PNG header)."""
    if len(png) > PHOTO_MAX_BYTES or png[12:16] != b"IHDR":
        return False
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    if not 0 < width + height <= PHOTO_MAX_SIDES:
        return False
    return max(width, height) <= PHOTO_MAX_RATIO * min(width, height)
