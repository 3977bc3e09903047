"""``python -m bot``: run the Telegram bot (the same as ``digitbot run``)."""

from bot.app import run_bot

raise SystemExit(run_bot())
