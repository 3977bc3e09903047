"""Helpers the handlers share."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, MessageLimit

CUT_MARK = " …"


async def reply(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Answer ``message``, quoting it (so answers to several photos are not confused); still
    answered, unquoted, if the user deleted it meanwhile."""
    return await message.reply_text(
        fit(text), do_quote=True, allow_sending_without_reply=True, reply_markup=markup
    )


def utf16_length(text: str) -> int:
    """Telegram counts a message's length in UTF-16 code units (an emoji is often 2)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> str:
    """``text`` cut to Telegram's message limit, the cut marked: Telegram refuses a longer
    message outright (a photo of a page of print can read as hundreds of "digits")."""
    if len(text) <= limit // 2 or utf16_length(text) <= limit:
        return text
    room = limit - utf16_length(CUT_MARK)
    # Cut in UTF-16 code units; "ignore" drops half a surrogate pair at the cut.
    cut = text.encode("utf-16-le")[: 2 * room].decode("utf-16-le", "ignore")
    return cut.rstrip() + CUT_MARK


def user_key(update: Update) -> int:
    """Whom a limit applies to: the sender, else (channel posts) the chat."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return 0


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE
