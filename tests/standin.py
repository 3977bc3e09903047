"""A Telegram Bot API stand-in on 127.0.0.1, for tests and benchmarks (no network needed).

It speaks the Bot API over HTTP the way api.telegram.org does (``/bot<token>/<method>`` and
``/file/bot<token>/<path>``), so the real python-telegram-bot ``Application`` runs against it
through ``TELEGRAM_API_URL``/``TELEGRAM_FILE_URL``. The test side:

- plays users: ``send_text``, ``send_photo``, ``send_document``, ``send_message`` (any
  content), ``press_button``: each queues an update for getUpdates (long poll);
- records every call (``calls``) and every message the bot sent (``sent``), keeps each of
  those messages as edited since (``current``, ``edits``), and lets a test
  ``await wait_for(...)`` any condition on them instead of sleeping;
- injects faults: ``fail(method, status=..., retry_after=..., delay=..., times=...)`` for any
  Bot API method, or ``"download"`` for the file URL (a delay alone makes a slow download);
  ``drop="before"``/``"after"`` closes the connection without an answer (before or after the
  call took effect), and for the download ``cut=0.5`` sends half the file under the full
  ``Content-Length`` and hangs up, ``short=0.5`` sends half the file as if it were all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import itertools
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from PIL import Image

TOKEN = "123456789:AAH-standin-token_0123456789abcdefXYZ"
BOT_ID = int(TOKEN.split(":")[0])
BOT_USERNAME = "digitbot_standin_bot"
DOWNLOAD = "download"  # the pseudo-method name of the file URL, for faults and calls
DROPPED, CUT, SHORT = 0, 1, 2  # Call.status of a hung-up call, a cut and a short download
_INT = re.compile(r"-?\d+")
_INT_KEYS = {"offset", "limit", "timeout", "chat_id", "message_id", "user_id", "from_chat_id"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float  # time.monotonic()
    status: int = 200


@dataclass
class Sent:
    """A message the bot sent (sendMessage, sendPhoto, ...)."""

    method: str
    chat_id: int
    message_id: int
    text: str | None
    reply_to: int | None  # the message it quotes
    reply_markup: dict[str, Any] | None
    photo: bytes | None
    at: float

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class Fault:
    method: str
    status: int | None = 500  # None: no error, only the delay
    description: str = "Internal Server Error"
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1  # how many matching calls it hits (-1: all)
    match: Callable[[dict[str, Any]], bool] | None = None
    hits: int = 0
    drop: str | None = None  # "before" / "after" the call takes effect: hang up, no answer
    cut: float | None = None  # download: send this share of the file, then hang up
    short: float | None = None  # download: send only this share of the file, as a whole answer


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    path: str
    data: bytes
    declared_size: int | None  # what getFile reports (None: the real size)


@dataclass
class Webhook:
    url: str
    secret_token: str | None


def clean_environment(**settings: str) -> dict[str, str]:
    """The environment for a bot process: the caller's, without any TELEGRAM_* or DIGITBOT_*
    setting of its own (none may leak in, least of all a real token), with the repository
    importable, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DIGITBOT_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    env.update(settings)
    return env


class BotApiStandIn:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.current: dict[int, Sent] = {}  # bot message id -> the message as edited since
        self.usernames: dict[int, str] = {}  # user id -> @username, for users who have one
        self.pushed_at: dict[int, float] = {}  # user message id -> when it was queued
        self.update_of: dict[int, int] = {}  # user message id -> the id of the update carrying it
        self.webhook: Webhook | None = None
        self.unknown_methods: list[str] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._files: dict[str, StoredFile] = {}
        self._paths: dict[str, StoredFile] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._faults: list[Fault] = []
        self._new_update = asyncio.Event()
        self._changed = asyncio.Condition()
        self._closing = False
        self._closed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # Server ---------------------------------------------------------------------------------

    async def start(self) -> BotApiStandIn:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        self._closing = True
        self._closed.set()
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotApiStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def bot_environment(self, **settings: str) -> dict[str, str]:
        """The environment for a bot process that talks to this stand-in (see
        ``clean_environment``), plus ``settings``."""
        pointed = {
            "TELEGRAM_BOT_TOKEN": self.token,
            "TELEGRAM_API_URL": self.api_url,
            "TELEGRAM_FILE_URL": self.file_url,
        }
        return clean_environment(**{**pointed, **settings})

    # Playing users -------------------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "en"}
        if user_id in self.usernames:
            user["username"] = self.usernames[user_id]
        return user

    def chat(self, chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User{chat_id}"
        else:
            chat["title"] = f"Group {chat_id}"
        self._chats[chat_id] = chat
        return chat

    def send_message(
        self, user_id: int, chat_id: int | None = None, chat_type: str = "private", **content: Any
    ) -> dict[str, Any]:
        """A user's message with any content (``text=``, ``sticker=``, ...), queued as an update."""
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(user_id if chat_id is None else chat_id, chat_type),
            "from": self.user(user_id),
            **content,
        }
        self.update_of[message["message_id"]] = self.push_update({"message": message})
        self.pushed_at[message["message_id"]] = time.monotonic()
        return message

    def send_edited(self, message: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """The user edits ``message`` (one of theirs): an ``edited_message`` update."""
        edited = {**message, **changes, "edit_date": int(time.time())}
        self.push_update({"edited_message": edited})
        return edited

    def send_text(self, user_id: int, text: str, reply_to: Sent | None = None, **kw: Any) -> dict[str, Any]:
        """A text message; ``reply_to``: as a reply to that message of the bot's."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            content["reply_to_message"] = self._as_bot_message(reply_to)
        return self.send_message(user_id, **content, **kw)

    def _as_bot_message(self, message: Sent) -> dict[str, Any]:
        edited = self.current.get(message.message_id)
        if edited is not None and edited.chat_id == message.chat_id:  # (a test may forge the chat)
            message = edited
        content: dict[str, Any] = {"text": message.text or ""}
        if message.reply_markup:
            content["reply_markup"] = message.reply_markup
        return {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self._chats.get(message.chat_id) or self.chat(message.chat_id),
            "from": self.bot_user(),
            **content,
        }

    def send_photo(
        self, user_id: int, sizes: Sequence[tuple[bytes, int, int]], caption: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        """A photo offered in several sizes: (JPEG bytes, width, height), smallest first."""
        photo = []
        for data, width, height in sizes:
            stored = self.add_file(data, "photos", "jpg")
            photo.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(data),
                }
            )
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return self.send_message(user_id, **content, **kw)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str | None,
        file_size: int | None = None,
        file_path: str | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """A file; ``file_size`` overrides the size Telegram reports (e.g. an oversized file),
        ``file_path`` the path getFile gives for it."""
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = self.add_file(data, "documents", ext, declared_size=file_size, path=file_path)
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "file_size": len(data) if file_size is None else file_size,
        }
        if mime_type is not None:
            document["mime_type"] = mime_type
        return self.send_message(user_id, document=document, **kw)

    def press_button(self, user_id: int, message: Sent, data: str) -> str:
        """A tap on an inline button under ``message`` (a message the bot sent)."""
        query_id = f"cq{next(self._update_ids)}"
        bot_message = self._as_bot_message(message)
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user(user_id),
                    "chat_instance": str(message.chat_id),
                    "message": bot_message,
                    "data": data,
                }
            }
        )
        return query_id

    def push_update(self, content: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **content})
        self._new_update.set()
        return update_id

    def take_updates(self) -> list[dict[str, Any]]:
        """The queued updates, removed from the getUpdates queue (to deliver by webhook)."""
        updates, self._updates = self._updates, []
        return updates

    async def deliver(self, update: dict[str, Any], secret_token: str | None) -> int:
        """POST ``update`` to the webhook the bot set, as Telegram does; the HTTP status."""
        assert self.webhook is not None, "the bot has not set a webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token is not None else {}
        async with (
            ClientSession() as session,
            session.post(self.webhook.url, json=update, headers=headers) as r,
        ):
            return r.status

    def add_file(
        self, data: bytes, folder: str, ext: str, declared_size: int | None = None, path: str | None = None
    ) -> StoredFile:
        n = next(self._file_ids)
        stored = StoredFile(
            file_id=f"FILE{n:06d}-{folder}",
            file_unique_id=f"U{n:06d}",
            path=path or f"{folder}/file_{n}.{ext}",
            data=data,
            declared_size=declared_size,
        )
        self._files[stored.file_id] = stored
        self._paths[stored.path] = stored
        return stored

    # Faults ----------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int | None = 500,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
        match: Callable[[dict[str, Any]], bool] | None = None,
        drop: str | None = None,
        cut: float | None = None,
        short: float | None = None,
    ) -> Fault:
        """The next ``times`` matching calls fail. With ``drop``, ``cut`` or ``short`` (for
        those, pass ``status=None``) the connection misbehaves instead of answering an error."""
        if drop not in (None, "before", "after"):
            raise ValueError(f"drop must be 'before' or 'after', not {drop!r}")
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                429: f"Too Many Requests: retry after {retry_after}",
                502: "Bad Gateway",
            }.get(status or 0, "Internal Server Error")
        fault = Fault(method, status, description, retry_after, delay, times, match, drop=drop, cut=cut,
                      short=short)  # fmt: skip
        self._faults.append(fault)
        return fault

    def _fault_for(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self._faults:
            if fault.method != method or (fault.match is not None and not fault.match(params)):
                continue
            if fault.times >= 0 and fault.hits >= fault.times:
                continue
            fault.hits += 1
            return fault
        return None

    # Looking at what happened ---------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def replies_to(self, message_id: int) -> list[Sent]:
        return [s for s in self.sent if s.reply_to == message_id]

    def edits(self, message_id: int) -> list[Call]:
        """Successful edits of the bot's message ``message_id``, oldest first."""
        return [
            c
            for c in self.calls
            if c.method.startswith("editMessage")
            and c.status == 200
            and c.params.get("message_id") == message_id
        ]

    def buttons_of(self, message: Sent) -> list[dict[str, Any]]:
        """The buttons under the bot's ``message`` now, after any edits."""
        return self.current.get(message.message_id, message).buttons

    def query_answer(self, query_id: str) -> Call | None:
        """How the bot answered a button tap (answerCallbackQuery), once it has."""
        found = [
            c for c in self.calls_to("answerCallbackQuery") if c.params.get("callback_query_id") == query_id
        ]
        return found[0] if found else None

    async def answered_query(self, query_id: str, timeout: float = 15.0) -> Call:
        await self.wait_for(lambda: self.query_answer(query_id) is not None, timeout)
        answer = self.query_answer(query_id)
        assert answer is not None
        return answer

    def downloaded(self) -> list[str]:
        """File paths the bot downloaded successfully."""
        return [c.params["file_path"] for c in self.calls if c.method == DOWNLOAD and c.status == 200]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        """Until ``predicate()`` holds (checked after every call the bot makes)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def reply_to(self, message: dict[str, Any] | int, timeout: float = 15.0) -> Sent:
        """The first message the bot sent quoting ``message``, once it exists."""
        message_id = message if isinstance(message, int) else message["message_id"]
        await self.wait_for(lambda: bool(self.replies_to(message_id)), timeout)
        return self.replies_to(message_id)[0]

    # The Bot API -------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Digit Bot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, files = await _read_params(request)
        if request.match_info["token"] != self.token:
            await self._record(Call(method, params, files, time.monotonic(), 401))
            return _error(401, "Unauthorized")
        fault = self._fault_for(method, params)
        if fault is not None:
            if fault.delay:
                await self._pause(fault.delay)
            if fault.drop == "before":
                await self._record(Call(method, params, files, time.monotonic(), DROPPED))
                return _hang_up(request)
            if fault.status is not None:
                await self._record(Call(method, params, files, time.monotonic(), fault.status))
                return _error(fault.status, fault.description, fault.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self.unknown_methods.append(method)
            await self._record(Call(method, params, files, time.monotonic(), 404))
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params, files)
        except _ApiError as exc:
            await self._record(Call(method, params, files, time.monotonic(), exc.status))
            return _error(exc.status, exc.description)
        if fault is not None and fault.drop == "after":  # it took effect, but no one hears so
            await self._record(Call(method, params, files, time.monotonic(), DROPPED))
            return _hang_up(request)
        await self._record(Call(method, params, files, time.monotonic()))
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        stored = self._paths.get(path)
        params = {"file_path": path, "file_id": stored.file_id if stored else None}
        if request.match_info["token"] != self.token:
            await self._record(Call(DOWNLOAD, params, {}, time.monotonic(), 401))
            return _error(401, "Unauthorized")
        fault = self._fault_for(DOWNLOAD, params)
        if fault is not None:
            if fault.delay:
                await self._pause(fault.delay)
            if fault.drop is not None:
                await self._record(Call(DOWNLOAD, params, {}, time.monotonic(), DROPPED))
                return _hang_up(request)
            if fault.status is not None:
                await self._record(Call(DOWNLOAD, params, {}, time.monotonic(), fault.status))
                return web.Response(status=fault.status, text=fault.description)
        if stored is None:
            await self._record(Call(DOWNLOAD, params, {}, time.monotonic(), 404))
            return web.Response(status=404, text="Not Found")
        if fault is not None and fault.short is not None:
            await self._record(Call(DOWNLOAD, params, {}, time.monotonic(), SHORT))
            part = stored.data[: int(len(stored.data) * fault.short)]
            return web.Response(body=part, content_type="application/octet-stream")
        if fault is not None and fault.cut is not None:
            await self._record(Call(DOWNLOAD, params, {}, time.monotonic(), CUT))
            response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
            response.content_length = len(stored.data)
            await response.prepare(request)
            await response.write(stored.data[: int(len(stored.data) * fault.cut)])
            return _hang_up(request, response)
        await self._record(Call(DOWNLOAD, params, {}, time.monotonic()))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake when the stand-in stops (so a long fault never delays teardown)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), seconds)

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chats.get(chat_id) or self.chat(chat_id),
            "from": self.bot_user(),
            **content,
        }

    def _remember(
        self, method: str, params: dict[str, Any], message: dict[str, Any], photo: bytes | None
    ) -> None:
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        if reply_to is None and params.get("reply_to_message_id") is not None:
            reply_to = int(params["reply_to_message_id"])
        sent = Sent(
            method=method,
            chat_id=int(params["chat_id"]),
            message_id=message["message_id"],
            text=params.get("text", params.get("caption")),
            reply_to=reply_to,
            reply_markup=params.get("reply_markup"),
            photo=photo,
            at=time.monotonic(),
        )
        self.sent.append(sent)
        self.current[sent.message_id] = sent

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self.bot_user()

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if self.webhook is not None:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if self._updates or self._closing:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), remaining)
        return self._updates[:limit]

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        size = stored.declared_size if stored.declared_size is not None else len(stored.data)
        if size > 20_000_000:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": size,
            "file_path": stored.path,
        }

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        content: dict[str, Any] = {"text": params.get("text", "")}
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        message = self._bot_message(int(params["chat_id"]), **content)
        self._remember("sendMessage", params, message, None)
        return message

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        ref = params.get("photo")
        data = (
            files.get(ref[len("attach://") :])
            if isinstance(ref, str) and ref.startswith("attach://")
            else None
        )
        data = data or files.get("photo") or next(iter(files.values()), None)
        if data is None:
            raise _ApiError(400, "Bad Request: there is no photo in the request")
        if not _valid_photo(data):
            raise _ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        stored = self.add_file(data, "photos", "jpg")
        size = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 640}
        content: dict[str, Any] = {"photo": [{**size, "height": 480, "file_size": len(data)}]}
        if params.get("caption"):
            content["caption"] = params["caption"]
        message = self._bot_message(int(params["chat_id"]), **content)
        self._remember("sendPhoto", params, message, data)
        return message

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        ref = params.get("document")
        data = (
            files.get(ref[len("attach://") :])
            if isinstance(ref, str) and ref.startswith("attach://")
            else None
        )
        data = data or files.get("document") or next(iter(files.values()), None)
        if data is None:
            raise _ApiError(400, "Bad Request: there is no document in the request")
        stored = self.add_file(data, "documents", "bin")
        document: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        document["file_size"] = len(data)
        content: dict[str, Any] = {"document": document}
        if params.get("caption"):
            content["caption"] = params["caption"]
        message = self._bot_message(int(params["chat_id"]), **content)
        self._remember("sendDocument", params, message, data)
        return message

    def _edit(self, params: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Edit one of the bot's messages as Telegram does: it must exist in that chat, and an
        edit that changes nothing is refused."""
        message = self.current.get(int(params.get("message_id") or 0))
        if message is None or message.chat_id != int(params["chat_id"]):
            raise _ApiError(400, "Bad Request: message to edit not found")
        edited = dataclasses.replace(message, **changes, at=time.monotonic())
        if (edited.text, edited.reply_markup) == (message.text, message.reply_markup):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        self.current[message.message_id] = edited
        content: dict[str, Any] = {"text": edited.text or ""}
        if edited.reply_markup:
            content["reply_markup"] = edited.reply_markup
        return {**self._bot_message(message.chat_id, **content), "message_id": message.message_id}

    async def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        # Like Telegram: an edit without reply_markup removes the buttons.
        return self._edit(params, text=params.get("text", ""), reply_markup=params.get("reply_markup"))

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._edit(params, reply_markup=params.get("reply_markup"))

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = Webhook(str(params["url"]), params.get("secret_token")) if params.get("url") else None
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = None
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {"url": self.webhook.url if self.webhook else "", "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}  # fmt: skip

    async def _m_true(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    _m_answerCallbackQuery = _m_true
    _m_setMyCommands = _m_true
    _m_deleteMyCommands = _m_true
    _m_sendChatAction = _m_true
    _m_deleteMessage = _m_true
    _m_close = _m_true
    _m_logOut = _m_true


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _valid_photo(data: bytes) -> bool:
    """Telegram's limits for sendPhoto: at most 10 MB, width + height at most 10,000, and
    neither side more than 20 times the other."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:
        return True  # not for the stand-in to judge: Telegram would try to read it
    return (
        len(data) <= 10_000_000 and width + height <= 10_000 and max(width, height) <= 20 * min(width, height)
    )


def _hang_up(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
    """Close the connection at once: the client gets no (or no complete) answer."""
    if request.transport is not None:
        request.transport.abort()
    if response is None:
        response = web.Response(status=500)
    return response


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """PTB posts form fields (JSON-encoded values) or multipart data with files."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params, files
    if request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            else:
                params[key] = _decode(key, str(value))
    return params, files


def _decode(key: str, value: str) -> Any:
    if value[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    if (key in _INT_KEYS or key.endswith("_id")) and _INT.fullmatch(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    return value


@dataclass
class Timeline:
    """Reply latencies: user message id -> seconds from queued to the bot's quoting reply."""

    latencies: dict[int, float] = field(default_factory=dict)

    @classmethod
    def of(cls, standin: BotApiStandIn) -> Timeline:
        timeline = cls()
        for sent in standin.sent:
            if sent.reply_to in standin.pushed_at and sent.reply_to not in timeline.latencies:
                timeline.latencies[sent.reply_to] = sent.at - standin.pushed_at[sent.reply_to]
        return timeline
