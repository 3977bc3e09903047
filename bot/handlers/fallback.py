"""Everything that is not a picture or a known command: a one-line hint, in private chats.

In groups the bot stays silent about other messages: it must not answer every chat line.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.handlers.common import is_private, reply
from bot.replies import HINTS, TEXT_HINT

# Checked in this order: an animation also carries a `document`, a command is also `text`.
KINDS = ("sticker", "animation", "video", "video_note", "voice", "audio", "document")


def message_kind(message: Message) -> str:
    if message.text and message.text.startswith("/"):
        return "command"
    for kind in KINDS:
        if getattr(message, kind, None):
            return kind
    return "text" if message.text else "other"


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not is_private(message):
        return
    await reply(message, HINTS.get(message_kind(message), TEXT_HINT))
