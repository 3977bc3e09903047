"""The bot's handlers: small typed functions, registered in ``bot.app.add_handlers``."""
