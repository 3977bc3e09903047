"""Helpers the handlers share."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType


async def reply(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Answer ``message``, quoting it (so answers to several photos are not confused); still
    answered, unquoted, if the user deleted it meanwhile."""
    return await message.reply_text(
        text, do_quote=True, allow_sending_without_reply=True, reply_markup=markup
    )


def user_key(update: Update) -> int:
    """Whom a limit applies to: the sender, else (channel posts) the chat."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return 0


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE
