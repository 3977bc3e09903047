"""Admin commands (/retrain, /rollback) and /model (for everyone; admins see more).

Admins are the numeric user ids in ``DIGITBOT_ADMIN_IDS``. The check is on the id of the
user who sent the command, never on a username or a name (anyone can pick those, including
one that looks like an admin's id), and it is the same in groups: there the sender must be an
admin too, being a group admin is not enough. Every refusal is logged.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from functools import partial
from typing import Any

from telegram import Bot, Message, ReplyParameters, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot.config import Settings
from bot.feedback import count_samples
from bot.handlers.common import reply
from bot.replies import (
    BASE_MODEL,
    NOT_ADMIN,
    RETRAIN_CANNOT,
    RETRAIN_NONE_RUNNING,
    RETRAIN_STARTING,
    RETRAIN_STOPPING,
    RETRAIN_USAGE,
    ROLLBACK_CANNOT,
    ROLLED_BACK,
    interrupted_notice,
    job_summary,
    model_admin_lines,
    model_summary,
    retrain_notice,
    retrain_outcome,
    retrain_progress,
)
from bot.retraining import Job, Outcome, RetrainError, Versions
from bot.services import Services, services, services_of

log = logging.getLogger(__name__)

EDIT_EVERY = 5.0  # seconds between two edits of a progress message (Telegram limits edits)


def is_admin(update: Update, admin_ids: frozenset[int]) -> bool:
    user = update.effective_user
    return user is not None and not user.is_bot and user.id in admin_ids


async def admin_allowed(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
    """True for an admin; anyone else is refused, and the attempt is logged."""
    if is_admin(update, services(context).settings.admin_ids):
        return True
    user, chat = update.effective_user, update.effective_chat
    log.warning(
        "refused /%s: user %s (username %s) in chat %s is not in DIGITBOT_ADMIN_IDS",
        command,
        user.id if user else None,
        user.username if user else None,
        chat.id if chat else None,
    )
    if update.effective_message is not None:
        await reply(update.effective_message, NOT_ADMIN.format(command=command))
    return False


class ProgressMessage:
    """Tells the admin how a retrain goes by editing one message: at most one edit every
    ``every`` seconds and none that would not change it (Telegram rate-limits edits and refuses
    "not modified" ones); the end always gets its edit, and a short new message that notifies."""

    def __init__(self, bot: Bot, message: Message, settings: Settings, every: float = EDIT_EVERY) -> None:
        self.bot = bot
        self.settings = settings
        self.chat_id = message.chat_id
        self.message_id = message.message_id
        self.every = every
        self._text = message.text
        self._edited_at = -math.inf

    async def progress(self, job: Job) -> None:
        text = retrain_progress(job, self.settings, time.monotonic())
        if text != self._text and time.monotonic() - self._edited_at >= self.every:
            await self.edit(text)

    async def finished(self, job: Job, outcome: Outcome) -> None:
        text = retrain_outcome(job, outcome)
        if not await self.edit(text):
            await self.bot.send_message(self.chat_id, text)
            return
        await self.bot.send_message(
            self.chat_id,
            retrain_notice(job, outcome),
            reply_parameters=ReplyParameters(message_id=self.message_id, allow_sending_without_reply=True),
        )

    async def edit(self, text: str) -> bool:
        self._edited_at = time.monotonic()
        try:
            await self.bot.edit_message_text(text, chat_id=self.chat_id, message_id=self.message_id)
        except TelegramError as exc:  # deleted, too old, flood control: the job goes on regardless
            if not (isinstance(exc, BadRequest) and "not modified" in exc.message.lower()):
                log.info("could not edit the retrain message %d: %s", self.message_id, exc)
                return False
        self._text = text
        return True


async def on_retrain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not await admin_allowed(update, context, "retrain"):
        return
    svc = services(context)
    retrainer = svc.retrainer
    args = [arg.lower() for arg in context.args or []]
    if args == ["cancel"]:
        job = await retrainer.cancel()
        await reply(message, RETRAIN_STOPPING.format(id=job.id) if job else RETRAIN_NONE_RUNNING)
        return
    if args not in ([], ["status"]):
        await reply(message, RETRAIN_USAGE)
        return
    running = retrainer.job
    if running is not None:
        await reply(message, retrain_progress(running, svc.settings, time.monotonic()))
        return
    if args == ["status"]:
        last = await retrainer.last_job()
        await reply(message, job_summary(last) if last else RETRAIN_NONE_RUNNING)
        return
    user = update.effective_user
    assert user is not None  # admin_allowed checked it
    sent = await reply(message, RETRAIN_STARTING)
    reporter = ProgressMessage(context.bot, sent, svc.settings)
    try:
        job = await retrainer.start(user.id, sent.chat_id, sent.message_id, reporter)
    except RetrainError as exc:
        await reporter.edit(RETRAIN_CANNOT.format(why=exc))
        return
    await reporter.progress(job)


async def on_rollback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not await admin_allowed(update, context, "rollback"):
        return
    try:
        old, new = await services(context).retrainer.rollback()
    except RetrainError as exc:
        await reply(message, ROLLBACK_CANNOT.format(why=exc))
        return
    log.info("rolled back from %s to %s", old, new)
    await reply(message, ROLLED_BACK.format(version=new, old=old))


async def on_model(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    model = svc.models.current
    versions = await svc.retrainer.versions()
    text = model_summary(model, retrained=versions.current is not None)
    if is_admin(update, svc.settings.admin_ids):
        text += "\n\n" + await admin_details(svc, versions)
    await reply(message, text)


async def admin_details(svc: Services, versions: Versions) -> str:
    model = svc.models.current
    trained_up_to = await svc.retrainer.trained_up_to(model.version)
    counts = await svc.storage.run(partial(count_samples, after_id=trained_up_to))
    running = svc.retrainer.job
    last: str | None = None
    if running is not None:
        progress = retrain_progress(running, svc.settings, time.monotonic()).splitlines()[1]
        last = f"Retrain #{running.id} running: {progress}"
    else:
        record = await svc.retrainer.last_job()
        last = job_summary(record) if record else None
    rollback_to = (versions.previous or BASE_MODEL) if versions.current is not None else None
    return model_admin_lines(counts, versions.published, model.version, rollback_to, last)


async def report_interrupted_jobs(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """At start: tell the admin who started a retrain that the bot's end interrupted it."""
    svc = services_of(application)
    for record in svc.interrupted_jobs:
        text = interrupted_notice(record, svc.models.current.version)
        quoted = None
        if record.message_id is not None:
            quoted = ReplyParameters(message_id=record.message_id, allow_sending_without_reply=True)
            with contextlib.suppress(TelegramError):  # too old or deleted: the new message says it
                await application.bot.edit_message_text(
                    text, chat_id=record.chat_id, message_id=record.message_id
                )
        try:
            await application.bot.send_message(record.chat_id, text, reply_parameters=quoted)
        except TelegramError as exc:
            log.warning("could not tell chat %d about retrain #%d: %s", record.chat_id, record.id, exc)
    svc.interrupted_jobs.clear()
