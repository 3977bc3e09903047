"""The error handler: log the failure with the update's context, tell the user to try again.

Whatever goes wrong with one update (a failed download, a Telegram error, a broken image,
a bug) ends here; the bot keeps running and other users' updates are not affected.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.handlers.common import reply
from bot.replies import TRY_AGAIN
from bot.transport import may_have_taken_effect

log = logging.getLogger(__name__)


class UserFacingError(Exception):
    """A failure with a known cause: ``reply`` is told to the user, ``reason`` is logged
    (as a warning, without a traceback)."""

    def __init__(self, reply: str, reason: str) -> None:
        super().__init__(reason)
        self.reply = reply
        self.reason = reason


def describe(update: object) -> str:
    """The update's context for a log line: ids and the kind of update, no message content."""
    if not isinstance(update, Update):
        return "no update" if update is None else f"update {update!r}"[:200]
    parts = [f"update {update.update_id}"]
    if update.effective_chat is not None:
        parts.append(f"chat {update.effective_chat.id}")
    if update.effective_user is not None:
        parts.append(f"user {update.effective_user.id}")
    message = update.effective_message
    if update.callback_query is not None:
        parts.append(f"button {update.callback_query.data!r}"[:80])
    elif message is not None:
        parts.append(f"message {message.message_id}")
        kind = next(
            (k for k in ("photo", "document", "text", "sticker") if getattr(message, k, None)), "other"
        )
        parts.append(kind)
    return ", ".join(parts)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    where = describe(update)
    if isinstance(error, UserFacingError):
        cause = f" ({error.__cause__!r})" if error.__cause__ is not None else ""
        log.warning("%s: %s%s", where, error.reason, cause)
        text = error.reply
    elif isinstance(error, Forbidden):
        log.info("%s: Telegram refused (%s): the user may have blocked the bot", where, error)
        return
    elif update is None and isinstance(error, NetworkError):
        log.warning("fetching updates failed: %s", error)  # PTB keeps polling
        return
    elif isinstance(error, NetworkError) and may_have_taken_effect(error):
        # A call to Telegram timed out or lost its connection after the transport's retries
        # (bot.transport): it may have been carried out. Saying "try again" could follow an
        # answer that did arrive, and resending could answer twice: log it, say nothing.
        log.error("%s: a reply may not have been delivered (%s); not sent again", where, _cause(error))
        return
    elif isinstance(error, NetworkError):
        log.error("%s: a reply could not be delivered (%s)", where, _cause(error))
        text = TRY_AGAIN  # it surely did not arrive: worth one more try, best effort
    elif isinstance(error, RetryAfter):
        log.error("%s: a reply was refused by Telegram's flood control (%s); given up", where, error)
        return
    else:
        log.error("%s: unexpected error", where, exc_info=error)
        text = TRY_AGAIN
    if isinstance(update, Update):
        await tell(update, text)


def _cause(error: BaseException) -> str:
    cause = error.__cause__
    return f"{error}: {type(cause).__name__}" if cause is not None else str(error)


async def tell(update: Update, text: str) -> None:
    """Best effort: if telling the user fails too, log it and give up."""
    try:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(text[:200], show_alert=True)
                return
            except TelegramError:  # already answered, or too old: say it in the chat instead
                message = update.callback_query.message
                if message is not None:
                    await update.get_bot().send_message(message.chat.id, text)
        elif update.effective_message is not None:
            await reply(update.effective_message, text)
    except TelegramError as exc:
        log.warning("%s: could not tell the user about the failure: %s", describe(update), exc)
