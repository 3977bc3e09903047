"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import reply
from bot.replies import HELP, START
from bot.services import services


def help_text(context: ContextTypes.DEFAULT_TYPE) -> str:
    return HELP.format(days=f"{services(context).settings.retention_days:g}")


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await reply(update.effective_message, f"{START}\n\n{help_text(context)}")


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await reply(update.effective_message, help_text(context))
