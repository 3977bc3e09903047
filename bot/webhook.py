"""Webhook mode's secret token: required, and compared in constant time.

Telegram sends the secret given to setWebhook in the ``X-Telegram-Bot-Api-Secret-Token``
header of every update it posts. PTB's webhook handler (``telegram.ext._utils.webhookhandler``)
compares it with ``!=``, which returns as soon as one character differs: a caller measuring
response times could learn the secret a character at a time. ``install`` replaces that
handler class with one that compares with ``hmac.compare_digest`` and refuses every request
when no secret is configured.

PTB's ``WebhookAppClass`` looks the handler class up by its module-level name each time a
webhook server is built, so replacing that name is enough; ``install`` checks the hook is still
where it expects (a PTB upgrade that moves it fails loudly at start, not silently).
"""

from __future__ import annotations

import hmac
import logging
from http import HTTPStatus

import tornado.web
from telegram.ext._utils import webhookhandler

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class MissingSecret(ValueError):
    """Webhook mode without a secret token: anyone could post updates to the bot."""


def secret_matches(given: str | None, expected: str | None) -> bool:
    """Constant time in the secret's content (length aside, as for any such comparison)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


class ConstantTimeTelegramHandler(webhookhandler.TelegramHandler):
    """PTB's webhook handler with the secret token required and compared in constant time."""

    def _validate_post(self) -> None:
        if self.request.headers.get("Content-Type", None) != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        if not secret_matches(self.request.headers.get(SECRET_HEADER), self.secret_token):
            # The given value is not logged: it may be a near miss of the real secret.
            log.debug("webhook request from %s without the right secret token", self.request.remote_ip)
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN, reason="Wrong or missing secret token")


def install(secret: str | None) -> None:
    """Make PTB's webhook server use ``ConstantTimeTelegramHandler``; refuse to run without a
    secret. Call before ``Updater.start_webhook``; calling it again is harmless."""
    if not secret:
        raise MissingSecret("webhook mode needs a secret token (DIGITBOT_WEBHOOK_SECRET)")
    current = getattr(webhookhandler, "TelegramHandler", None)
    if not (isinstance(current, type) and issubclass(current, tornado.web.RequestHandler)) or not hasattr(
        webhookhandler, "WebhookAppClass"
    ):
        raise RuntimeError("python-telegram-bot's webhook handler moved: update bot/webhook.py")
    webhookhandler.TelegramHandler = ConstantTimeTelegramHandler  # type: ignore[misc]


def installed() -> bool:
    return webhookhandler.TelegramHandler is ConstantTimeTelegramHandler
