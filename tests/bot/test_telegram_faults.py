"""Telegram's bad minutes, injected by the stand-in: 429 with retry_after, 500/502/503,
timeouts, dropped connections and cut-off downloads, on getUpdates, getFile, the file
download and sendMessage. The bot retries within bounds, honours retry_after, keeps polling,
never answers twice, and a reply that finally fails is logged with its update id.

Each case sends one photo into one kind of fault and records whether its right answer was
delivered; ``test_how_many_faults_ended_in_a_delivered_answer`` sums them up (the numbers are
in docs/reliability.md). The module's bot has short timeouts (1 s reads, 1 s long polls) and
short resend pauses, so the whole module takes seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

import bot.app as app_module
from bot import transport
from bot.app import App
from bot.replies import DOWNLOAD_FAILED, TRY_AGAIN
from tests.bot import photos
from tests.bot.harness import next_photo_is_read, read_number, running, settings_for, until
from tests.standin import DOWNLOAD, BotApiStandIn, Fault

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("ignore:Deprecated since version v22.2"),  # inside PTB's RetryAfter
]

DELAYS = (0.2, 0.4, 0.8)  # this module's resend pauses (the bot's own: transport.RETRY_DELAYS)
ATTEMPTS = 1 + len(DELAYS)
READ = 1.0  # seconds a Bot API call or download read may take before it times out
_users = itertools.count(30_000)

# Which photos ended in their right answer, per case: (faults injected, delivered).
OUTCOMES: dict[str, tuple[int, bool]] = {}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    api: BotApiStandIn, tmp_path_factory: pytest.TempPathFactory, model_path: Path
) -> AsyncIterator[App]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transport, "RETRY_DELAYS", DELAYS)
        patch.setattr(transport, "READ_TIMEOUT", READ)
        patch.setattr(transport, "POLL_READ_TIMEOUT", 0.5)
        patch.setattr(app_module, "POLL_TIMEOUT", 1)
        settings = settings_for(api, tmp_path_factory.mktemp("faults"), model_path, download_timeout=5.0)
        async with running(settings) as application:
            yield application


@dataclass(frozen=True)
class Case:
    name: str
    method: str  # "getUpdates", "getFile", "download", "sendMessage"
    fault: dict[str, Any]
    outcome: str  # "answer", "download failed", "try again", "nothing"
    logged: bool = False  # the failure must be logged with the update's id
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    # getUpdates: PTB's polling loop keeps going; the photo waiting meanwhile is answered.
    Case("getUpdates 429 retry_after=1", "getUpdates", {"status": 429, "retry_after": 1}, "answer"),
    Case("getUpdates 500 twice", "getUpdates", {"status": 500, "times": 2}, "answer"),
    Case("getUpdates 502", "getUpdates", {"status": 502}, "answer"),
    Case("getUpdates 401 (PTB alone stops polling for good)", "getUpdates", {"status": 401}, "answer"),
    Case("getUpdates timeout", "getUpdates", {"status": None, "delay": 3.0}, "answer"),
    Case("getUpdates dropped connection twice", "getUpdates", {"status": None, "drop": "before", "times": 2},
         "answer"),
    # getFile: safe to repeat, so every kind of failure is retried.
    Case("getFile 429 retry_after=1", "getFile", {"status": 429, "retry_after": 1}, "answer"),
    Case("getFile 500", "getFile", {"status": 500}, "answer"),
    Case("getFile 502", "getFile", {"status": 502}, "answer"),
    Case("getFile 503 twice", "getFile", {"status": 503, "times": 2}, "answer"),
    Case("getFile 500 every time", "getFile", {"status": 500, "times": ATTEMPTS}, "download failed"),
    Case("getFile timeout", "getFile", {"status": None, "delay": 2.0}, "answer"),
    Case("getFile dropped before it was done", "getFile", {"status": None, "drop": "before"}, "answer"),
    Case("getFile dropped after it was done", "getFile", {"status": None, "drop": "after"}, "answer"),
    # The file download.
    Case("download 500", DOWNLOAD, {"status": 500}, "answer"),
    Case("download 502 every time", DOWNLOAD, {"status": 502, "times": ATTEMPTS}, "download failed"),
    Case("download stalls", DOWNLOAD, {"status": None, "delay": 2.0}, "answer"),
    Case("download dropped connection", DOWNLOAD, {"status": None, "drop": "before"}, "answer"),
    Case("download cut off half way", DOWNLOAD, {"status": None, "cut": 0.5}, "answer"),
    Case("download cut off every time", DOWNLOAD, {"status": None, "cut": 0.5, "times": ATTEMPTS},
         "download failed"),
    Case("download half the file, as if whole", DOWNLOAD, {"status": None, "short": 0.5}, "answer"),
    Case("download half the file, twice", DOWNLOAD, {"status": None, "short": 0.5, "times": 2},
         "download failed"),
    # sendMessage (the answer): resent only when Telegram surely did not do it.
    Case("sendMessage 429 retry_after=1", "sendMessage", {"status": 429, "retry_after": 1}, "answer",
         extra={"after": 1.0}),
    Case("sendMessage 500", "sendMessage", {"status": 500}, "answer"),
    Case("sendMessage 502", "sendMessage", {"status": 502}, "answer"),
    Case("sendMessage 503 twice", "sendMessage", {"status": 503, "times": 2}, "answer"),
    Case("sendMessage 500 every time", "sendMessage", {"status": 500, "times": ATTEMPTS}, "try again",
         logged=True),
    Case("sendMessage timeout (delivered late)", "sendMessage", {"status": None, "delay": 2.0}, "answer",
         logged=True),
    Case("sendMessage dropped before it was done", "sendMessage", {"status": None, "drop": "before"},
         "nothing", logged=True),
    Case("sendMessage dropped after it was done", "sendMessage", {"status": None, "drop": "after"}, "answer",
         logged=True),
]  # fmt: skip


def errors_about(caplog: pytest.LogCaptureFixture, update_id: int) -> list[str]:
    """ERROR lines that name the update (``bot.handlers.errors.describe``: "update 7, chat ...")."""
    named = re.compile(rf"\bupdate {update_id}\b")
    return [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and named.search(r.getMessage())
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_fault(
    bot: App,
    api: BotApiStandIn,
    digit_images: dict[int, np.ndarray],
    caplog: pytest.LogCaptureFixture,
    case: Case,
) -> None:
    caplog.set_level(logging.INFO)
    user = next(_users)
    digit = user % 10
    fault: Fault
    if case.method == "getUpdates":
        # The photo arrives while getUpdates is failing: wait for the first fault first.
        fault = api.fail("getUpdates", **case.fault)
        await api.wait_for(lambda: fault.hits >= 1)
        message = api.send_photo(user, photos.telegram_sizes(digit_images[digit]))
    else:
        message = api.send_photo(user, photos.telegram_sizes(digit_images[digit]))
        file_id = message["photo"][2]["file_id"]  # the size the bot downloads
        mine: Callable[[dict[str, Any]], bool] = (
            (lambda p: (p.get("reply_parameters") or {}).get("message_id") == message["message_id"])
            if case.method == "sendMessage"
            else (lambda p: p.get("file_id") == file_id)
        )
        fault = api.fail(case.method, **case.fault, match=mine)
    update_id = api.update_of[message["message_id"]]

    if case.outcome == "nothing":
        await until(lambda: bool(errors_about(caplog, update_id)))
        await asyncio.sleep(0.5)
        replies = api.replies_to(message["message_id"])
        assert replies == [], [r.text for r in replies]
    else:
        reply = await api.reply_to(message)
        if case.outcome == "answer":
            assert read_number(reply) == str(digit)
        else:
            assert reply.text == {"download failed": DOWNLOAD_FAILED, "try again": TRY_AGAIN}[case.outcome]
        if "after" in case.extra:
            refused = [c for c in api.calls_to(case.method) if c.status == 429 and mine(c.params)]
            assert reply.at - refused[-1].at >= case.extra["after"]
    assert fault.hits == fault.times, "the fault did not happen as often as planned"
    if case.logged:
        await until(lambda: bool(errors_about(caplog, update_id)))
    OUTCOMES[case.name] = (fault.hits, case.outcome == "answer")
    await next_photo_is_read(api, digit_images, user)
    # By now a (wrong) second answer to the faulted photo would have arrived too.
    assert len(api.replies_to(message["message_id"])) <= 1, "answered twice"


async def test_polling_waits_out_a_429_on_getupdates(bot: App, api: BotApiStandIn) -> None:
    fault = api.fail("getUpdates", 429, retry_after=1)
    await api.wait_for(lambda: fault.hits == 1)
    refused = max(c.at for c in api.calls_to("getUpdates") if c.status == 429)
    await api.wait_for(lambda: any(c.at > refused for c in api.calls_to("getUpdates")), timeout=5)
    again = min(c.at for c in api.calls_to("getUpdates") if c.at > refused)
    assert again - refused >= 1.0


async def test_an_update_ptb_cannot_parse_does_not_stall_polling(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], caplog: pytest.LogCaptureFixture
) -> None:
    """Without ``bot.transport.DigitBot`` PTB fails the whole batch, never moves the offset
    past it, and fetches the same batch again forever: no update after it is ever handled."""
    caplog.set_level(logging.INFO)
    user = next(_users)
    before = api.send_photo(user, photos.telegram_sizes(digit_images[1]))
    chat = api.chat(user)
    broken = api.push_update(
        {"message": {"message_id": 1, "date": 0, "chat": chat, "photo": [{"file_id": "NO-SIZES"}]}}
    )
    after = api.send_photo(user, photos.telegram_sizes(digit_images[4]))
    assert read_number(await api.reply_to(before)) == "1"
    assert read_number(await api.reply_to(after)) == "4"
    logged = [r.getMessage() for r in caplog.records if f"update {broken} (message)" in r.getMessage()]
    assert logged and "cannot be read" in logged[0]
    # The offset moved past it.
    await api.wait_for(
        lambda: any(int(c.params.get("offset") or 0) > broken for c in api.calls_to("getUpdates"))
    )
    await next_photo_is_read(api, digit_images, user)


async def test_how_many_faults_ended_in_a_delivered_answer() -> None:
    """The summary the issue asks for (run after the cases above)."""
    if len(OUTCOMES) < len(CASES):
        pytest.skip("runs after every fault case")
    faults = sum(hits for hits, _ in OUTCOMES.values())
    delivered = sum(hits for hits, ok in OUTCOMES.values() if ok)
    photos_delivered = sum(ok for _, ok in OUTCOMES.values())
    print(
        f"\n{faults} faults injected into {len(OUTCOMES)} photos: "
        f"{delivered} faults ended in a delivered answer ({photos_delivered}/{len(OUTCOMES)} photos); "
        "the rest were told to send again, or (one unknowable case) logged"
    )
    # Every fault that can be recovered from without risking a second answer was.
    assert photos_delivered >= sum(c.outcome == "answer" for c in CASES)
