"""The bot's ``Application``: built in one place, run by ``run_bot`` (``digitbot run``,
``python -m bot``).

Lifecycle (``serve``, used by ``run_bot`` and by the tests alike):
``initialize`` (getMe: checks the token) -> ``post_init`` (model, database, thread pools,
batcher) -> polling or webhook -> ... -> stop -> ``shutdown`` -> ``post_shutdown``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import ConfigError, Settings, load_settings
from bot.handlers.admin import on_model, on_retrain, on_rollback, report_interrupted_jobs
from bot.handlers.commands import on_help, on_start
from bot.handlers.errors import on_error
from bot.handlers.fallback import on_other
from bot.handlers.feedback import on_correction, on_feedback_button, on_forget
from bot.handlers.gate import only_requested
from bot.handlers.photos import on_document, on_photo
from bot.handlers.seen import on_what_i_saw
from bot.health import log_health
from bot.logs import RedactingFilter, setup_logging
from bot.replies import ANSWER_GONE, BACK, DIGIT, RIGHT, SEEN_PREFIX, WRONG
from bot.services import KEY as SERVICES_KEY
from bot.services import Services
from bot.storage import StorageError
from bot.transport import make_bot
from bot.webhook import MissingSecret
from bot.webhook import install as install_webhook_secret_check
from classifier.serving import ModelError

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]

SETTINGS_KEY = "digitbot.settings"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
COMMANDS = [
    BotCommand("help", "what I do, how to take a good photo, what I keep"),
    BotCommand("start", "say hello"),
    BotCommand("model", "which model reads your digits, and how well"),
    BotCommand("forget", "delete everything I keep about you"),
]
# Shown in the admins' own chats only; the commands check the sender's id whatever the menu says.
ADMIN_COMMANDS = [
    *COMMANDS,
    BotCommand("retrain", "train a new model on MNIST and the users' samples"),
    BotCommand("rollback", "serve the previous model version again"),
]
POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits
STARTUP_ATTEMPTS = 4  # getMe tries when Telegram cannot be reached (1 + 2 + 4 s apart)


def build_application(settings: Settings) -> App:
    """The Application with its handlers; nothing is started or connected yet."""
    application = (
        ApplicationBuilder()
        .bot(make_bot(settings))  # token, URLs, retries, flood limits: bot/transport.py
        .concurrent_updates(settings.concurrent_updates)
        .job_queue(None)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data[SETTINGS_KEY] = settings
    # Before every handler: updates the bot did not ask for (edits, ...) stop here.
    application.add_handler(TypeHandler(Update, only_requested), group=-1)
    add_handlers(application)
    return application


def add_handlers(application: App) -> None:
    # Commands first; then pictures; then replies to answers (corrections); then everything
    # else gets a hint.
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CommandHandler("help", on_help))
    application.add_handler(CommandHandler("forget", on_forget))
    application.add_handler(CommandHandler("model", on_model))
    application.add_handler(CommandHandler("retrain", on_retrain))
    application.add_handler(CommandHandler("rollback", on_rollback))
    application.add_handler(MessageHandler(filters.PHOTO, on_photo))
    application.add_handler(MessageHandler(filters.Document.ALL & ~filters.ANIMATION, on_document))
    application.add_handler(MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, on_correction))
    application.add_handler(MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, on_other))
    application.add_handler(CallbackQueryHandler(on_what_i_saw, pattern=rf"^{SEEN_PREFIX}:"))
    application.add_handler(
        CallbackQueryHandler(on_feedback_button, pattern=rf"^(?:{RIGHT}|{WRONG}|{DIGIT}|{BACK}):")
    )
    application.add_handler(CallbackQueryHandler(on_unknown_button))
    application.add_error_handler(on_error)


async def on_unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(ANSWER_GONE, show_alert=True)


def settings_of(application: App) -> Settings:
    settings = application.bot_data.get(SETTINGS_KEY)
    if not isinstance(settings, Settings):
        raise RuntimeError("the application was not built by bot.app.build_application")
    return settings


async def post_init(application: App) -> None:
    settings = settings_of(application)
    application.bot_data[SERVICES_KEY] = await Services.start(settings)
    try:
        await application.bot.set_my_commands(COMMANDS)
    except TelegramError as exc:  # the menu is a nicety: never a reason not to start
        log.warning("could not set the command menu: %s", exc)
    for admin_id in sorted(settings.admin_ids):
        try:
            await application.bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:  # e.g. the admin has not talked to the bot yet
            log.info("could not set the admin command menu for %d: %s", admin_id, exc)
    await report_interrupted_jobs(application)


async def post_shutdown(application: App) -> None:
    services = application.bot_data.pop(SERVICES_KEY, None)
    if isinstance(services, Services):
        await services.close()


async def _initialize(application: App) -> None:
    """``initialize`` (getMe), retried while Telegram cannot be reached; a rejected token
    (InvalidToken) is final."""
    for attempt in range(STARTUP_ATTEMPTS):
        try:
            await application.initialize()
            return
        except InvalidToken:
            raise
        except NetworkError as exc:
            if attempt == STARTUP_ATTEMPTS - 1:
                raise
            delay = 2**attempt
            log.warning("cannot reach Telegram (%s); trying again in %d s", exc, delay)
            await asyncio.sleep(delay)


@asynccontextmanager
async def serve(application: App) -> AsyncIterator[App]:
    """Run the bot (polling or webhook, as configured) for the body of the ``async with``."""
    settings = settings_of(application)
    try:
        await _initialize(application)
    except BaseException:
        with suppress(Exception):  # close the HTTP clients initialize opened
            await application.bot.shutdown()
            await application.bot.request.shutdown()
        raise
    try:
        if application.post_init is not None:
            await application.post_init(application)
        updater = application.updater
        assert updater is not None
        if settings.webhook:
            install_webhook_secret_check(settings.webhook_secret)  # required, constant time
            await updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=settings.webhook_path,
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=3,
            )
        else:

            def polling_failed(exc: TelegramError) -> None:
                application.create_task(application.process_error(update=None, error=exc))

            await updater.start_polling(
                timeout=POLL_TIMEOUT,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=3,
                error_callback=polling_failed,
            )
        await application.start()
        log.info(
            "digitbot is running as @%s (%s)",
            application.bot.username,
            f"webhook on {settings.webhook_listen}:{settings.webhook_port}"
            if settings.webhook
            else "polling",
        )
        try:
            yield application
        finally:
            # While the bot can still say so: a running retrain is stopped and reported.
            services = application.bot_data.get(SERVICES_KEY)
            if isinstance(services, Services):
                await services.retrainer.stop()
            try:
                if updater.running:
                    await updater.stop()
            except Exception:  # e.g. the final getUpdates failed: still stop the rest
                log.exception("stopping the updater failed")
            if application.running:
                await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _main(settings: Settings) -> None:
    application = build_application(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    with suppress(NotImplementedError, AttributeError):  # `kill -USR1 <pid>`: log the bot's health
        loop.add_signal_handler(signal.SIGUSR1, log_health, application)
    async with serve(application):
        await stop.wait()
    log.info("digitbot stopped")


def run_bot() -> int:
    """Run until SIGINT/SIGTERM. Exit status: 0 stopped, 1 cannot run, 2 bad configuration."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"digitbot: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.secrets)
    redact = RedactingFilter(settings.secrets).redact
    try:
        asyncio.run(_main(settings))
    except InvalidToken as exc:
        print(
            f"digitbot: Telegram rejected TELEGRAM_BOT_TOKEN ({redact(str(exc))}): "
            "check it with @BotFather (/mybots -> API Token)",
            file=sys.stderr,
        )
        return 1
    except NetworkError as exc:
        print(
            f"digitbot: cannot reach the Telegram Bot API at {settings.api_url}: {redact(str(exc))}",
            file=sys.stderr,
        )
        return 1
    except (ModelError, StorageError, MissingSecret) as exc:
        print(f"digitbot: {redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
