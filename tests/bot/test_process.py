"""The bot as the operator runs it: a separate process (``python -m bot``, ``digitbot run``),
settings from the environment, exit codes, and logs with the token nowhere in them."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import numpy as np

from bot.logs import REDACTED
from tests.bot import photos
from tests.standin import BotApiStandIn, clean_environment


def environment(tmp_path: Path, standin: BotApiStandIn | None = None, **settings: str) -> dict[str, str]:
    """A clean environment (no token or DIGITBOT_* setting leaks in from the caller's, but
    ``$DIGITBOT_MODEL`` is kept, as for the tests' own bots), pointing at ``standin`` if given."""
    kept = {"DIGITBOT_MODEL": os.environ["DIGITBOT_MODEL"]} if "DIGITBOT_MODEL" in os.environ else {}
    own = {**kept, "DIGITBOT_DB": str(tmp_path / "digitbot.sqlite3"), **settings}
    return standin.bot_environment(**own) if standin is not None else clean_environment(**own)


async def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_a_missing_token_is_one_line_naming_botfather_and_exit_2(tmp_path: Path) -> None:
    env = environment(tmp_path)
    for args in ([sys.executable, "-m", "bot"], [sys.executable, "-m", "classifier", "run"]):
        code, stderr = await run(args, env, cwd=tmp_path)  # no .env in tmp_path
        assert code == 2, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0] and "BotFather" in lines[0], stderr


async def test_a_token_telegram_rejects_is_one_line_and_no_traceback(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    env = environment(tmp_path, standin, TELEGRAM_BOT_TOKEN="987654321:AAE-this-token-was-revoked-long-ago")
    code, stderr = await run([sys.executable, "-m", "bot"], env, cwd=tmp_path)
    assert code == 1, stderr
    assert "Traceback" not in stderr
    rejected = [line for line in stderr.splitlines() if "rejected TELEGRAM_BOT_TOKEN" in line]
    assert len(rejected) == 1 and "BotFather" in rejected[0]
    assert "this-token-was-revoked" not in stderr
    assert [c.status for c in standin.calls] == [401]


async def test_the_token_never_appears_in_the_logs_even_at_debug(
    tmp_path: Path, standin: BotApiStandIn, digit_images: dict[int, np.ndarray]
) -> None:
    env = environment(tmp_path, standin, DIGITBOT_LOG_LEVEL="DEBUG")
    # Queued before the bot starts: also measures the first reply after start.
    message = standin.send_photo(700, photos.telegram_sizes(digit_images[5]))
    broken = standin.send_document(700, b"\xff\xd8\xff garbage", "x.jpg", "image/jpeg")
    standin.fail("download", 500, match=lambda p: p["file_id"] == broken["document"]["file_id"])
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        reply = await standin.reply_to(message, timeout=30)
        await standin.reply_to(broken, timeout=10)
        standin.press_button(700, reply, reply.buttons[-1]["callback_data"])
        await standin.wait_for(lambda: len(standin.replies_to(reply.message_id)) == 1, timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    stderr = err.decode()
    assert process.returncode == 0, stderr[-2000:]
    assert reply.text is not None and reply.text.startswith("5 (")
    secret = standin.token.split(":")[1]
    assert standin.token not in stderr and secret not in stderr and "%3A" + secret not in stderr
    # The lines that would have carried it are there, redacted.
    assert "HTTP Request: POST" in stderr and f"/bot{REDACTED}/getUpdates" in stderr
    assert f"/file/bot{REDACTED}/photos/" in stderr
    assert [line for line in stderr.splitlines() if "WARNING" in line and "download failed" in line]


async def test_the_bot_process_never_imports_tensorflow(tmp_path: Path, model_path: Path) -> None:
    code = (
        "import sys, asyncio\n"
        "from pathlib import Path\n"
        "from bot.app import build_application\n"
        "from bot.config import Settings\n"
        "from bot.services import Services\n"
        "async def main():\n"
        f"    s = Settings(token='1:' + 'x' * 30, model_path=Path({str(model_path)!r}),\n"
        f"                 db_path=Path({str(tmp_path / 'db.sqlite3')!r}))\n"
        "    build_application(s)\n"
        "    services = await Services.start(s)\n"
        "    await services.close()\n"
        "asyncio.run(main())\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "assert 'keras' not in sys.modules, 'keras was imported'\n"
    )
    status, stderr = await run([sys.executable, "-c", code], environment(tmp_path), cwd=tmp_path)
    assert status == 0, stderr


async def test_a_missing_model_is_one_line_and_exit_2(tmp_path: Path, standin: BotApiStandIn) -> None:
    env = environment(tmp_path, standin, DIGITBOT_MODEL=str(tmp_path / "no-such-model"))
    code, stderr = await run([sys.executable, "-m", "bot"], env, cwd=tmp_path)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("digitbot: model file not found: ")
    assert not standin.calls_to("getUpdates")  # it never started serving
