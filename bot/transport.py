"""How the bot talks to the Bot API: bounded retries that never answer twice, and polling that
survives an update python-telegram-bot cannot parse.

Retries (``RetryingRequest``: every Bot API call except getUpdates, and every file download)
depend on whether the failed call may already have taken effect:

- Telegram answered 500, 502 or 503: the call failed and did nothing. Sent again, at most
  ``len(RETRY_DELAYS)`` times, after ``RETRY_DELAYS`` seconds.
- The connection could not be opened, or no pooled connection came free: the request never
  left. Sent again, the same way.
- A read timeout, the connection closed before the whole answer, or 504: Telegram may have
  done it. Sent again only if doing it twice is harmless (``SAFE_TO_REPEAT`` and file
  downloads); a ``sendMessage``, ``sendPhoto``, edit or ``answerCallbackQuery`` is not: the
  caller gets the error (the error handler logs it with the update id) and the user never
  gets the same answer twice.
- 429 "retry after N": PTB's ``AIORateLimiter`` waits N seconds and sends again (up to
  ``SEND_RETRIES`` times).

getUpdates is not retried here: PTB's polling loop already retries it forever (a timeout at
once, a 429 after its ``retry_after``, anything else after a pause growing from 1 s to 30 s).

Polling (``DigitBot``): PTB parses a getUpdates batch all at once; one update it cannot parse
fails the whole batch, the offset never moves past it, and PTB fetches the same batch again
and again: every later update is stuck behind it. ``DigitBot`` parses each update on its own
and replaces an unreadable one by an empty ``Update`` with the same id (logged with that id),
which no handler takes: the offset moves on and the rest of the batch is handled. And a
401/404 on getUpdates, which makes PTB stop polling for good, is retried like any network
error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from telegram import Update
from telegram import __version__ as PTB_VERSION
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest, RequestData

from bot.config import Settings

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0)  # seconds before each resend of a call that did not take effect
SEND_RETRIES = 3  # resends after a 429 "retry after" (AIORateLimiter honours retry_after)
FAILED = frozenset({500, 502, 503})  # Telegram's answer: the call did nothing
MAYBE_DONE = frozenset({504})  # a gateway gave up waiting: the call may have been done
# Calls that change nothing when they are repeated.
SAFE_TO_REPEAT = frozenset(
    {
        "getMe",
        "getFile",
        "getWebhookInfo",
        "getMyCommands",
        "getChat",
        "getChatMember",
        "setMyCommands",
        "deleteMyCommands",
        "setWebhook",
        "deleteWebhook",
    }
)
# Connection failures that mean the request never reached Telegram.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# HTTP timeouts, seconds (PTB's defaults, the pool's raised: photos wait for a connection).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
POOL_TIMEOUT = 10.0
CONNECTIONS = 256  # PTB's default pool for everything but getUpdates
# A getUpdates long poll may take its timeout plus this before it counts as timed out.
POLL_READ_TIMEOUT = 5.0


def call_name(url: str, method: str) -> str:
    """``.../bot<token>/sendMessage`` -> ``sendMessage``; a file download -> ``download``.
    Never the URL itself: it holds the token."""
    if method == "GET" and "/file/" in url:
        return "download"
    return url.rsplit("/", 1)[-1].split("?", 1)[0] or method


def may_have_taken_effect(error: BaseException) -> bool:
    """For an error from sending a call: could Telegram have carried it out anyway?
    False only when the request surely never reached Telegram, or Telegram answered that it
    failed (``TelegramError`` from an error answer carries no transport cause)."""
    cause = error.__cause__
    if isinstance(cause, NOT_SENT):
        return False
    return isinstance(error, TimedOut) or isinstance(cause, httpx.HTTPError)


class RetryingRequest(HTTPXRequest):
    """PTB's HTTPX transport, with the bounded retries described in the module docstring."""

    def __init__(self, delays: tuple[float, ...] = RETRY_DELAYS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delays = delays
        self.retries = 0  # statistics: resends made

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        name = call_name(url, method)
        repeatable = method == "GET" or name in SAFE_TO_REPEAT
        attempt = 0
        while True:
            try:
                status, payload = await super().do_request(
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            except (TimedOut, NetworkError) as exc:
                retry = attempt < len(self.delays) and (repeatable or not may_have_taken_effect(exc))
                if not retry or name == "getUpdates":
                    raise
                reason = f"{type(exc.__cause__ or exc).__name__}"
            else:
                retry = attempt < len(self.delays) and (
                    status in FAILED or (status in MAYBE_DONE and repeatable)
                )
                if not retry or name == "getUpdates":
                    return status, payload
                reason = f"HTTP {status}"
            delay = self.delays[attempt]
            attempt += 1
            self.retries += 1
            log.warning(
                "%s failed (%s); sending it again in %.1f s (%d of %d)",
                name,
                reason,
                delay,
                attempt,
                len(self.delays),
            )
            await asyncio.sleep(delay)


def readable_updates(raw: list[Any], bot: ExtBot[Any]) -> list[JSONDict]:
    """The getUpdates result with each update PTB cannot parse replaced by ``{"update_id": n}``
    (an update no handler takes), so polling moves past it. Costs one extra parse, about
    0.1 ms per update."""
    out: list[JSONDict] = []
    for item in raw:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        try:
            Update.de_json(item, bot)
        except Exception as exc:
            if not isinstance(update_id, int):
                log.error("skipped an update without an id that cannot be read: %s", type(exc).__name__)
                continue
            kinds = sorted(k for k in item if k != "update_id")
            log.error(
                "update %d (%s) cannot be read by python-telegram-bot %s (%s: %s); skipped",
                update_id,
                ", ".join(kinds) or "empty",
                PTB_VERSION,
                type(exc).__name__,
                str(exc)[:200],
            )
            out.append({"update_id": update_id})
        else:
            out.append(item)
    return out


class DigitBot(ExtBot[int]):  # int: AIORateLimiter's per-call argument
    """PTB's ``ExtBot`` whose getUpdates survives updates it cannot parse."""

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        try:
            result = await super()._do_post(
                endpoint,
                data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except InvalidToken as exc:
            if endpoint != "getUpdates":
                raise
            # PTB's polling loop gives up for good on InvalidToken (401/404), leaving a process
            # that runs but never polls again. As a NetworkError it is logged and retried after
            # the loop's growing pause: a passing 401 costs a pause, a revoked token shows in
            # the log every 30 s.
            raise NetworkError(f"getUpdates refused the token ({exc.message})") from exc
        if endpoint == "getUpdates" and isinstance(result, list):
            return readable_updates(result, self)
        return result


def make_bot(settings: Settings) -> DigitBot:
    """The bot object the Application uses: retrying transport, flood limits, robust polling."""
    return DigitBot(
        token=settings.token,
        base_url=settings.api_url,
        base_file_url=settings.file_url,
        request=RetryingRequest(
            delays=RETRY_DELAYS,
            connection_pool_size=CONNECTIONS,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            write_timeout=WRITE_TIMEOUT,
            pool_timeout=POOL_TIMEOUT,
        ),
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=POLL_READ_TIMEOUT),
        rate_limiter=AIORateLimiter(overall_max_rate=settings.outgoing_per_second, max_retries=SEND_RETRIES),
    )
