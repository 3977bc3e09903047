"""Security: admin commands by numeric id only, secrets nowhere they could leak, the webhook
secret required and compared in constant time, one user unable to starve the others, and
users' files read in memory, never under a name the user (or the API) chose."""

from __future__ import annotations

import asyncio
import builtins
import hmac
import io
import itertools
import logging
import re
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
import telegram

from bot import webhook
from bot.app import App
from bot.config import ConfigError, load_settings
from bot.logs import setup_logging
from bot.replies import ANSWER_GONE, DOWNLOAD_FAILED, FEEDBACK_GONE, NOT_ADMIN, NOT_YOUR_PHOTO, TRY_AGAIN
from bot.services import services_of
from tests.bot import hostile, photos
from tests.bot.harness import (
    forge_tap,
    next_photo_is_read,
    photo_reply,
    read_number,
    running,
    settings_for,
    until,
)
from tests.standin import BotApiStandIn, Sent

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[2]
ADMIN = 424_242
WEBHOOK_SECRET = "s3cret-Token_42-" + "k" * 40
ADMIN_COMMANDS = ["/retrain", "/retrain cancel", "/retrain status", "/rollback"]
_users = itertools.count(40_000)


@pytest_asyncio.fixture(loop_scope="module")
async def own_api() -> AsyncIterator[BotApiStandIn]:
    """A stand-in of the test's own, for a test that runs a bot of its own: two bots polling
    one stand-in would share its updates."""
    async with BotApiStandIn() as server:
        yield server


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("security")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(api: BotApiStandIn, data_dir: Path, model_path: Path) -> AsyncIterator[App]:
    settings = settings_for(api, data_dir, model_path, admin_ids=frozenset({ADMIN}))
    async with running(settings) as application:
        yield application


@pytest.fixture
def user() -> int:
    return next(_users)


def command_name(text: str) -> str:
    return text.split()[0].lstrip("/")


async def samples(application: App) -> int:
    storage = services_of(application).storage
    return int(await storage.run(lambda c: c.execute("SELECT COUNT(*) FROM samples").fetchone()[0]))


# Admin commands ------------------------------------------------------------------------------


async def refused(api: BotApiStandIn, message: dict[str, Any], text: str) -> None:
    reply = await api.reply_to(message)
    assert reply.text == NOT_ADMIN.format(command=command_name(text))


@pytest.mark.parametrize("text", ADMIN_COMMANDS)
async def test_a_non_admin_is_refused_and_the_attempt_logged(
    bot: App, api: BotApiStandIn, user: int, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    serving = services_of(bot).models.current.version
    caplog.set_level(logging.WARNING)
    await refused(api, api.send_text(user, text), text)
    assert any(f"user {user}" in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)
    svc = services_of(bot)
    assert svc.retrainer.job is None and svc.models.current.version == serving


@pytest.mark.parametrize("text", ADMIN_COMMANDS)
async def test_an_admin_command_in_a_group_by_a_non_admin_is_refused(
    bot: App, api: BotApiStandIn, user: int, text: str
) -> None:
    """Being an admin of the group (or its creator) changes nothing: only the sender's id counts."""
    group = -100_777_000 - user
    await refused(api, api.send_text(user, text, chat_id=group, chat_type="supergroup"), text)
    assert services_of(bot).retrainer.job is None


@pytest.mark.parametrize(
    "sender",
    [
        {"username": str(ADMIN)},  # an admin's id given as a username
        {"first_name": str(ADMIN), "last_name": "admin"},
        {"username": "admin", "first_name": "Admin"},
        {"is_bot": True, "id": ADMIN},  # a bot account with the admin's id: never an admin
    ],
    ids=["username is the admin id", "name is the admin id", "username admin", "bot with the admin id"],
)
async def test_looking_like_an_admin_is_not_enough(
    bot: App, api: BotApiStandIn, user: int, sender: dict[str, Any]
) -> None:
    text = "/retrain"
    content: dict[str, Any] = {
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
        "from": {**api.user(user), **sender},
    }
    message = api.send_message(user, **content)
    await refused(api, message, text)


async def test_admin_ids_are_numeric_user_ids_never_usernames() -> None:
    token = "123:" + "x" * 30
    for bad in ("@alice", "alice", "424242,@bob", "4242 42"):
        with pytest.raises(ConfigError, match="numeric"):
            load_settings({"TELEGRAM_BOT_TOKEN": token, "DIGITBOT_ADMIN_IDS": bad}, env_file=None)
    ok = load_settings({"TELEGRAM_BOT_TOKEN": token, "DIGITBOT_ADMIN_IDS": " 424242, 7 "}, env_file=None)
    assert ok.admin_ids == frozenset({424242, 7})


async def test_the_admin_is_let_in_by_numeric_id(bot: App, api: BotApiStandIn) -> None:
    """The other side of the check (harmless commands: nothing is trained)."""
    for text in ("/retrain status", "/rollback"):
        reply = await api.reply_to(api.send_text(ADMIN, text))
        assert reply.text != NOT_ADMIN.format(command=command_name(text)), text
    assert services_of(bot).retrainer.job is None


async def test_forged_callbacks_cannot_act_for_someone_else(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int
) -> None:
    owner, stranger = user, user + 1_000_000
    answer = await photo_reply(api, digit_images[4], owner)
    assert read_number(answer) == "4"
    answer_id = int(re.findall(r"\d+", answer.buttons[-1]["callback_data"])[0])
    before = await samples(bot)
    # The stranger taps the owner's buttons in the owner's chat (a group, say) ...
    for button in answer.buttons:
        if not button["callback_data"].startswith("saw:"):
            api.press_button(stranger, answer, button["callback_data"])
    # ... and forges taps on a message of their own chat naming the owner's answer.
    forged = [
        f"saw:{answer_id}",
        f"ok:{answer_id}",
        f"no:{answer_id}",
        f"fix:{answer_id}:9",
        f"back:{answer_id}",
    ]
    queries = [forge_tap(api, stranger, stranger, answer.message_id, data) for data in forged]
    # ... and with the right message in the owner's chat, but as the stranger.
    queries += [forge_tap(api, stranger, owner, answer.message_id, data) for data in forged[1:]]
    await api.wait_for(
        lambda: all(any(c.params.get("callback_query_id") == q for c in api.calls) for q in queries)
    )
    alerts = {c.params.get("text") for c in api.calls_to("answerCallbackQuery") if c.params.get("show_alert")}
    assert NOT_YOUR_PHOTO in alerts and FEEDBACK_GONE in alerts and ANSWER_GONE in alerts
    assert await samples(bot) == before
    assert not [s for s in api.sent if s.chat_id == stranger]
    assert not api.calls_to("editMessageReplyMarkup") or all(
        c.params.get("chat_id") != stranger for c in api.calls_to("editMessageReplyMarkup")
    )


# Secrets ------------------------------------------------------------------------------------


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The bot's own logging set-up (redaction included), at DEBUG, into a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "aiohttp.access")}
    handler = setup_logging("DEBUG", [api_token(), WEBHOOK_SECRET], stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name, old in noisy.items():
            logging.getLogger(name).setLevel(old)


def api_token() -> str:
    from tests.standin import TOKEN

    return TOKEN


def leaks(text: str, token: str) -> list[str]:
    secret = token.split(":", 1)[1]
    return [form for form in (token, secret, token.replace(":", "%3A")) if form in text]


async def test_the_token_is_in_no_log_line_and_no_message(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int, debug_log: io.StringIO
) -> None:
    token = api.token
    # Failures whose descriptions carry the token, as a misbehaving proxy's might.
    reply = await photo_reply(api, digit_images[2], user)
    message = api.send_photo(user, photos.telegram_sizes(digit_images[5]))
    api.fail("getFile", 400, f"Bad Request: no file at /bot{token}/x", match=lambda p: p["file_id"] ==
             message["photo"][2]["file_id"])  # fmt: skip
    assert (await api.reply_to(message)).text == DOWNLOAD_FAILED
    message = api.send_photo(user, photos.telegram_sizes(digit_images[6]))
    api.fail("sendMessage", 500, f"Internal error for bot{token}", times=4,
             match=lambda p: (p.get("reply_parameters") or {}).get("message_id") == message["message_id"]
             and "reply_markup" in p)  # fmt: skip
    assert (await api.reply_to(message)).text == TRY_AGAIN
    seen = api.press_button(user, reply, reply.buttons[-1]["callback_data"])
    await api.wait_for(lambda: any(c.params.get("callback_query_id") == seen for c in api.calls))
    await api.wait_for(
        lambda: any(s.method == "sendPhoto" and s.reply_to == reply.message_id for s in api.sent)
    )
    await next_photo_is_read(api, digit_images, user)
    output = debug_log.getvalue()
    assert "HTTP Request: POST" in output and "[REDACTED]" in output  # the lines that carried it
    assert leaks(output, token) == []
    outgoing = " ".join(str(c.params.get("text", "")) + str(c.params.get("caption", "")) for c in api.calls)
    assert leaks(outgoing, token) == []


async def test_what_i_saw_holds_no_secret(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int
) -> None:
    reply = await photo_reply(api, digit_images[8], user)
    api.press_button(user, reply, reply.buttons[-1]["callback_data"])
    await api.wait_for(
        lambda: any(s.method == "sendPhoto" and s.reply_to == reply.message_id for s in api.sent)
    )
    picture = next(s for s in api.sent if s.method == "sendPhoto" and s.reply_to == reply.message_id)
    assert picture.photo is not None and picture.photo.startswith(b"\x89PNG")
    assert leaks(picture.photo.decode("latin-1"), api.token) == []
    assert not {b"tEXt", b"zTXt", b"iTXt", b"eXIf"} & set(png_chunks(picture.photo))
    assert picture.text is not None and leaks(picture.text, api.token) == []


def png_chunks(data: bytes) -> list[bytes]:
    kinds, at = [], 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kinds.append(data[at + 4 : at + 8])
        at += 12 + length
    return kinds


async def git(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec("git", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return int(process.returncode or 0), out.decode()


async def test_dot_env_is_git_ignored_and_not_tracked() -> None:
    assert (await git("check-ignore", "-q", ".env"))[0] == 0
    assert (await git("ls-files", ".env"))[1].strip() == ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_needs_a_secret() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123:" + "x" * 30, "DIGITBOT_WEBHOOK_URL": "https://bot.example.com/hook"}
    with pytest.raises(ConfigError, match="DIGITBOT_WEBHOOK_SECRET"):
        load_settings(env, env_file=None)
    with pytest.raises(webhook.MissingSecret):
        webhook.install(None)
    with pytest.raises(webhook.MissingSecret):
        webhook.install("")


async def test_settings_without_a_secret_never_serve_a_webhook(
    own_api: BotApiStandIn, data_dir: Path, model_path: Path
) -> None:
    port = free_port()
    settings = settings_for(own_api, data_dir / "nosecret", model_path, webhook_url=f"http://127.0.0.1:{port}/h",
                            webhook_listen="127.0.0.1", webhook_port=port, webhook_path="h")  # fmt: skip
    with pytest.raises(webhook.MissingSecret):
        async with running(settings):
            pass
    assert own_api.webhook is None


async def test_the_webhook_secret_is_required_and_compared_in_constant_time(
    own_api: BotApiStandIn,
    data_dir: Path,
    model_path: Path,
    digit_images: dict[int, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    debug_log: io.StringIO,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module bot.webhook calls it from
    secret = WEBHOOK_SECRET
    port = free_port()
    settings = settings_for(own_api, data_dir / "webhook", model_path, webhook_url=f"http://127.0.0.1:{port}/tg/hook",
                            webhook_listen="127.0.0.1", webhook_port=port, webhook_path="tg/hook",
                            webhook_secret=secret)  # fmt: skip
    user = next(_users)
    async with running(settings):
        assert webhook.installed()
        assert own_api.webhook is not None and own_api.webhook.secret_token == secret
        message = own_api.send_photo(user, photos.telegram_sizes(digit_images[0]))
        (update,) = own_api.take_updates()
        near_miss = secret[:-1] + "x"
        for wrong in (near_miss, secret[:-1], secret + "x", "x" * len(secret), None, "", "s\u00e9cret"):
            assert await own_api.deliver(update, wrong) == 403, wrong
        assert len(compared) >= 4  # every non-empty candidate went through compare_digest
        assert await own_api.deliver(update, secret) == 200
        assert read_number(await own_api.reply_to(message)) == "0"
        assert not own_api.calls_to("getUpdates")
    # Neither the secret nor a near miss of it is logged, even at DEBUG.
    output = debug_log.getvalue()
    assert secret not in output and near_miss not in output


# Resource limits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_minute", "outgoing", "per_user"),
    [(30, 30.0, 3), (10_000, 30.0, 3), (40, 4.0, 1)],
    ids=[
        "default limits",
        "rate limit off: in-flight bounds alone",
        "rate limit off, replies slower than reading",
    ],
)
async def test_one_user_flooding_500_photos_does_not_starve_another(
    own_api: BotApiStandIn,
    data_dir: Path,
    model_path: Path,
    digit_images: dict[int, np.ndarray],
    per_minute: int,
    outgoing: float,
    per_user: int,
) -> None:
    """The last case: photos are read faster than Telegram's flood limit lets answers out (on
    a fast machine that is so at 30 a second; here the limit is lowered to 4 a second), so
    answers queue for the limit. The flooder's queued answers must not stand in front of
    everyone else's. Before the fix (answers were sent after the photo's in-flight slot was
    given back) the other user's photo, with the limit at 3 a second, was not answered in 10 s."""
    flooder, other = next(_users), next(_users)
    settings = settings_for(
        own_api,
        data_dir / f"flood{per_minute}-{outgoing:g}",
        model_path,
        photos_per_minute=per_minute,
        outgoing_per_second=outgoing,
        max_in_flight_per_user=per_user,
    )
    sizes = photos.telegram_sizes(digit_images[1])
    async with running(settings) as application:
        flood = [own_api.send_photo(flooder, sizes) for _ in range(500)]
        # The flood is being worked on ...
        await own_api.wait_for(lambda: sum(1 for s in own_api.sent if s.chat_id == flooder) >= 5, timeout=30)
        # ... when another user's photo comes.
        reply = await photo_reply(own_api, digit_images[7], other, timeout=10)
        latency = reply.at - own_api.pushed_at[reply.reply_to or 0]
        assert read_number(reply) == "7"
        assert latency < 1.0, f"{latency:.2f} s"
        answered = sum(bool(own_api.replies_to(m["message_id"])) for m in flood)
        svc = services_of(application)
        print(
            f"\nflood ({per_minute}/min, {outgoing:g} out/s): other user answered in "
            f"{latency * 1000:.0f} ms; flooder answered {answered}/500 so far, "
            f"{svc.slots.active} active, {svc.slots.waiting} waiting"
        )
        if per_minute == 30:
            await own_api.wait_for(
                lambda: sum(1 for s in own_api.sent if s.chat_id == flooder) >= 31, timeout=30
            )
            texts = [s.text or "" for s in own_api.sent if s.chat_id == flooder]
            assert sum("faster than I can read" in t for t in texts) == 1  # one polite message
            assert len(texts) == 31  # 30 answers, 1 notice, the rest dropped (no queue)


# Files stay in memory ------------------------------------------------------------------------

NAMES = [
    "../../../../../tmp/digitbot-pwned.jpg",
    "/etc/digitbot-pwned.jpg",
    "C:\\Windows\\digitbot-pwned.jpg",
    "con.jpg",
    "digitbot-pwned" + "a" * 300 + ".jpg",
    "digitbot-pwned.jpg\x00.sh",
    "~/.ssh/digitbot-pwned.jpg",
]


async def test_files_are_read_in_memory_never_under_the_name_the_user_chose(
    bot: App,
    api: BotApiStandIn,
    digit_images: dict[int, np.ndarray],
    user: int,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    real_open = builtins.open

    def watched_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a user's file was written to disk")

    monkeypatch.setattr(builtins, "open", watched_open)
    monkeypatch.setattr(telegram.File, "download_to_drive", never)
    before = files_in(ROOT, data_dir)
    data = photos.jpeg(hostile.small(digit_images[7]))
    for name in NAMES:
        reply = await api.reply_to(api.send_document(user, data, name, "image/jpeg"))
        assert read_number(reply) == "7", name
    monkeypatch.undo()
    assert not [path for path in opened if "pwned" in path]
    assert not files_in(Path("/tmp"), Path("/etc")) & {"digitbot-pwned.jpg"}
    # Nothing new in the working directory or the data folder, but the database's own files.
    assert {n for n in files_in(ROOT, data_dir) - before if not n.startswith("digitbot.sqlite3")} == set()


def files_in(*folders: Path) -> set[str]:
    return {p.name for folder in folders for p in folder.iterdir() if p.is_file()}


async def test_a_file_path_that_names_a_local_file_is_never_read(
    bot: App, api: BotApiStandIn, digit_images: dict[int, np.ndarray], user: int, tmp_path: Path
) -> None:
    """PTB reads a getFile path that exists on this machine from the disk instead of
    downloading it. Telegram gives relative paths of its own; a proxy or a broken API must not
    make the bot read (and answer about) a file of the server's."""
    local = tmp_path / "server-secret.png"
    local.write_bytes(photos.encode(hostile.small(digit_images[7]), "png"))
    for path in (str(local), "../" * 12 + str(local).lstrip("/")):
        message = api.send_document(user, b"\x89PNG not this one", "d.png", "image/png", file_path=path)
        assert (await api.reply_to(message)).text == DOWNLOAD_FAILED, path
    await next_photo_is_read(api, digit_images, user)


async def test_a_user_waiting_for_photos_holds_no_image_bytes(
    own_api: BotApiStandIn, data_dir: Path, model_path: Path, digit_images: dict[int, np.ndarray]
) -> None:
    """Photos beyond the in-flight bound wait without having been downloaded."""
    user = next(_users)
    settings = settings_for(own_api, data_dir / "inflight", model_path, max_in_flight_per_user=2)
    sizes = photos.telegram_sizes(digit_images[2])
    async with running(settings) as application:
        own_api.fail("download", status=None, delay=1.0, times=2)
        sent = [own_api.send_photo(user, sizes) for _ in range(6)]
        svc = services_of(application)
        await own_api.wait_for(lambda: len(own_api.calls_to("getFile")) >= 2)
        await until(lambda: (svc.slots.active, svc.slots.waiting) == (2, 4), timeout=5)
        ids = {m["photo"][2]["file_id"] for m in sent}
        assert len([c for c in own_api.calls_to("getFile") if c.params["file_id"] in ids]) == 2
        for message in sent:
            assert read_number(await own_api.reply_to(message)) == "2"
        await until(lambda: svc.slots.users == 0 and svc.slots.active == 0, timeout=5)  # nothing kept


__all__ = ["Sent"]
