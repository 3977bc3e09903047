"""Feedback on answers: the "Right"/"Wrong" buttons, the 0-9 keypad, a text reply with the right
number, and /forget.

Button data is never trusted: it is parsed strictly, the answer it names must have been sent
as that very message in that very chat, and only the user who sent the photo may say what it
shows (others get a short alert). Every tap is idempotent: the keyboard is drawn from what is
stored, and the same feedback twice writes nothing. The user is thanked only after the samples
are committed.
"""

from __future__ import annotations

import logging
from functools import partial

from telegram import CallbackQuery, InlineKeyboardMarkup, MaybeInaccessibleMessage, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.feedback import Recorded, forget_user, record, recorded_labels
from bot.handlers.common import reply
from bot.handlers.fallback import on_other
from bot.replies import (
    ALREADY_RECORDED,
    BACK,
    CORRECTION_HOW,
    CORRECTION_THANKS,
    COUNT_MISMATCH,
    DIGIT,
    FEEDBACK_GONE,
    FORGOTTEN,
    NOT_YOUR_PHOTO,
    NOTHING_TO_LEARN,
    REPLY_WITH_NUMBER,
    RIGHT,
    THANKS_CORRECTED,
    THANKS_RIGHT,
    WHICH_DIGIT,
    WRONG,
    answer_keyboard,
    keypad_keyboard,
    number_hint_keyboard,
    parse_feedback,
    parse_number,
    plural,
    recorded_keyboard,
)
from bot.services import Services, services
from bot.storage import Answer

log = logging.getLogger(__name__)


def sent_as(answer: Answer, message: MaybeInaccessibleMessage) -> bool:
    """Whether ``message`` is the bot's reply that carried ``answer`` (forged data is not)."""
    return answer.chat_id == message.chat.id and (
        answer.reply_message_id is None or answer.reply_message_id == message.message_id
    )


async def on_feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    tap = parse_feedback(query.data)
    answer = await svc.storage.get_answer(tap.answer_id) if tap is not None else None
    if tap is None or answer is None or answer.id is None or query.message is None:
        await query.answer(FEEDBACK_GONE, show_alert=True)
        return
    if not sent_as(answer, query.message):
        who = query.from_user.id
        log.warning("user %d: button %r names answer %d of another message", who, query.data, answer.id)
        await query.answer(FEEDBACK_GONE, show_alert=True)
        return
    if answer.user_id is None or query.from_user.id != answer.user_id:
        await query.answer(NOT_YOUR_PHOTO, show_alert=True)
        return
    if not answer.digits:
        await query.answer(NOTHING_TO_LEARN, show_alert=True)
        return
    digits = len(answer.digits)
    single = digits == 1
    if tap.action == RIGHT or (tap.action == DIGIT and single and tap.digit is not None):
        labels = answer.number if tap.action == RIGHT else str(tap.digit)
        done = await save(svc, answer, labels, query.from_user.id)
        await query.answer(thanks(done))
        await show(query, recorded_keyboard(answer.id, done.labels))
    elif tap.action == WRONG and single:
        await query.answer(WHICH_DIGIT)
        await show(query, keypad_keyboard(answer.id))
    elif tap.action in (WRONG, DIGIT):  # a number: the right one comes as a text reply
        await query.answer(REPLY_WITH_NUMBER, show_alert=True)
        await show(query, number_hint_keyboard(answer.id))
    elif tap.action == BACK:
        recorded = await svc.storage.run(partial(recorded_labels, answer_id=answer.id, digits=digits))
        await query.answer()
        keyboard = recorded_keyboard(answer.id, recorded) if recorded else answer_keyboard(answer.id, digits)
        await show(query, keyboard)


def thanks(done: Recorded) -> str:
    if not done.changed:
        return ALREADY_RECORDED.format(labels=done.labels)
    return (THANKS_CORRECTED if done.corrected else THANKS_RIGHT).format(labels=done.labels)


async def on_correction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text reply to one of the bot's answers: the right number (anything else is chat)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.reply_to_message is None:
        return
    svc = services(context)
    answer = await svc.storage.find_answer_by_reply(message.chat.id, message.reply_to_message.message_id)
    labels = parse_number(message.text)
    if (
        answer is None
        or answer.id is None
        or (labels is None and not any(c.isdigit() for c in message.text or ""))
    ):
        await on_other(update, context)  # not a correction of an answer
        return
    if user is None or answer.user_id != user.id:
        await reply(message, NOT_YOUR_PHOTO)
        return
    if not answer.digits:
        await reply(message, NOTHING_TO_LEARN)
        return
    if labels is None:
        await reply(message, CORRECTION_HOW)
        return
    if len(labels) != len(answer.digits):
        found = plural(len(answer.digits), "digit")
        await reply(message, COUNT_MISMATCH.format(found=found, written=len(labels)))
        return
    done = await save(svc, answer, labels, user.id)
    corrected = plural(done.corrected, "digit") + " corrected" if done.corrected else "every digit right"
    await reply(message, CORRECTION_THANKS.format(labels=done.labels, corrected=corrected))
    if answer.reply_message_id is not None:
        try:
            await context.bot.edit_message_reply_markup(
                chat_id=answer.chat_id,
                message_id=answer.reply_message_id,
                reply_markup=recorded_keyboard(answer.id, done.labels),
            )
        except TelegramError as exc:  # recorded and thanked; only the buttons are stale
            if not _not_modified(exc):
                log.info("could not update the buttons of answer %d: %s", answer.id, exc)


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    forgotten = await services(context).storage.run(partial(forget_user, user_id=user.id))
    log.info(
        "user %d: /forget deleted %d samples and %d answers", user.id, forgotten.samples, forgotten.answers
    )
    await reply(
        message,
        FORGOTTEN.format(
            samples=plural(forgotten.samples, "sample"),
            answers=plural(forgotten.answers, "stored answer"),
        ),
    )


async def save(svc: Services, answer: Answer, labels: str, user_id: int) -> Recorded:
    done = await svc.storage.run(partial(record, answer=answer, labels=labels, user_id=user_id))
    if done.changed:
        log.info(
            "user %d: answer %d (%s by %s) recorded as %s", user_id, answer.id, answer.number,
            answer.model_version, labels,
        )  # fmt: skip
    return done


async def show(query: CallbackQuery, keyboard: InlineKeyboardMarkup) -> None:
    """Redraw the buttons under the answer. Best effort: what counts is already stored."""
    try:
        await query.edit_message_reply_markup(reply_markup=keyboard)
    except TelegramError as exc:
        if not _not_modified(exc):
            log.info("could not redraw the buttons under message %s: %s", _message_id(query), exc)


def _not_modified(exc: TelegramError) -> bool:
    """A repeated tap redraws the same buttons; Telegram refuses that, harmlessly."""
    return isinstance(exc, BadRequest) and "not modified" in exc.message.lower()


def _message_id(query: CallbackQuery) -> int | None:
    return query.message.message_id if query.message is not None else None
