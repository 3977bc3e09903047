"""Shared pieces of the reliability suites (hostile input, Telegram faults, security): one
real bot per test module against one stand-in, and the checks every case ends with."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bot.app import App, build_application, serve
from bot.config import Settings
from tests.bot import photos
from tests.standin import BotApiStandIn, Sent

ANSWER = re.compile(r"^(\d+) \((\d{1,3}\.\d)%\)")
CANNOT_READ = "Sorry, I couldn't read this picture"
NO_DIGITS = "No digits found"
SILENCE = 0.3  # seconds a deliberate silence is watched after the bot has moved on


def settings_for(standin: BotApiStandIn, data_dir: Path, model_path: Path, **overrides: Any) -> Settings:
    """Settings pointing at the stand-in. Photos per minute are raised so that a module's many
    cases from one bot never meet the rate limit (its own tests set it low)."""
    base = Settings(
        token=standin.token,
        api_url=standin.api_url,
        file_url=standin.file_url,
        model_path=model_path,
        data_dir=data_dir,
        db_path=data_dir / "digitbot.sqlite3",
        workers=2,
        download_timeout=5.0,
        photos_per_minute=10_000,
    )
    return dataclasses.replace(base, **overrides)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[App]:
    async with serve(build_application(settings)) as application:
        yield application


def read_number(reply: Sent) -> str:
    assert reply.text is not None
    match = ANSWER.match(reply.text)
    assert match, f"not an answer: {reply.text!r}"
    return match.group(1)


async def photo_reply(
    standin: BotApiStandIn, image: np.ndarray, user: int, timeout: float = 15.0, **kw: Any
) -> Sent:
    message = standin.send_photo(user, photos.telegram_sizes(image), **kw)
    return await standin.reply_to(message, timeout)


async def next_photo_is_read(
    standin: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int, digit: int = 3, **kw: Any
) -> Sent:
    """The same user's next photo is answered, right, exactly once."""
    reply = await photo_reply(standin, digit_images[digit], user, **kw)
    assert read_number(reply) == str(digit)
    assert reply.reply_to is not None and len(standin.replies_to(reply.reply_to)) == 1
    return reply


async def assert_silent(standin: BotApiStandIn, message_id: int) -> None:
    """Nothing quotes ``message_id``, even a moment after later messages were answered."""
    await asyncio.sleep(SILENCE)
    assert standin.replies_to(message_id) == [], [s.text for s in standin.replies_to(message_id)]


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Until ``predicate()`` holds, for state the stand-in does not see (the bot's counters,
    captured logs)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout} s")
        await asyncio.sleep(0.02)


def only_reply(standin: BotApiStandIn, message_id: int) -> Sent:
    replies = standin.replies_to(message_id)
    assert len(replies) == 1, [r.text for r in replies]
    return replies[0]


def forge_tap(standin: BotApiStandIn, user_id: int, chat_id: int, message_id: int, data: str) -> str:
    """A tap with forged data on message ``message_id`` of chat ``chat_id`` (whatever is there):
    pushed as is, not through ``press_button``, which looks the message up."""
    query_id = f"forged-{user_id}-{chat_id}-{message_id}-{len(standin.calls)}-{data[:20]}"
    standin.push_update(
        {
            "callback_query": {
                "id": query_id,
                "from": standin.user(user_id),
                "chat_instance": str(chat_id),
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": 1_700_000_000,
                    "chat": standin.chat(chat_id, "private" if chat_id > 0 else "supergroup"),
                    "from": standin.bot_user(),
                    "text": "an answer",
                },
            }
        }
    )
    return query_id


def outgoing_to(standin: BotApiStandIn, chat_id: int) -> list[Sent]:
    return [s for s in standin.sent if s.chat_id == chat_id]
