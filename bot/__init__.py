"""digitbot's Telegram bot: photos of handwritten digits in, the digits read out.

``bot.app`` builds and runs the python-telegram-bot ``Application``; ``docs/bot.md`` describes it.
"""
