"""The gate every update passes first: only what the bot asked Telegram for gets through.

``bot.app.ALLOWED_UPDATES`` asks for new messages and button taps only. Anything else is
stopped here, silently (logged at DEBUG), before any handler sees it:

- an edited message: delivered anyway when a webhook was set by another tool with other
  ``allowed_updates``; its original already has its answer, and an edited photo must not get
  a second one (PTB's message filters match edited messages too);
- a channel post, a join request, a reaction ... for the same reason;
- the empty stand-in for an update PTB could not parse (``bot.transport.readable_updates``).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

log = logging.getLogger(__name__)


def requested(update: Update) -> bool:
    return update.message is not None or update.callback_query is not None


async def only_requested(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if requested(update):
        return
    if log.isEnabledFor(logging.DEBUG):
        kinds = [k for k, v in update.to_dict().items() if k != "update_id" and v]
        log.debug("update %d (%s): not asked for, ignored", update.update_id, ", ".join(kinds) or "empty")
    raise ApplicationHandlerStop
