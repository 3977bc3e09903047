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
    await context.bot.send_photo(
        chat_id=message.chat.id,
        photo=png,
        filename="what-i-saw.png",
        caption=SEEN_CAPTION,
        reply_parameters=ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True),
    )
