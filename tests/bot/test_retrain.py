"""The admin commands through the Bot API stand-in with the real Application: who may use them,
and real retrains, each a separate TensorFlow process on a tiny configuration (the committed
MNIST subset, one or two epochs), that pass or fail the gate as constructed; the hot swap,
/rollback, cancelling, and a job or a bot killed half way."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.app import build_application, serve
from bot.config import ConfigError, Settings, load_settings
from bot.replies import NOT_ADMIN, RETRAIN_NONE_RUNNING, RETRAIN_STARTING
from bot.retraining import tensorflow_installed
from bot.services import services_of
from classifier.model_store import ModelStore
from classifier.serving import MODEL_FILE, Classifier, default_model_path
from tests.bot.test_bot import answered, read_number
from tests.bot.test_process import environment
from tests.standin import BOT_USERNAME, TOKEN, BotApiStandIn, Sent

ADMIN = 4242
USER = 777
FINAL = ("✅", "❌", "⚠️", "⏹")  # how a retrain's last edit begins

needs_tensorflow = pytest.mark.skipif(not tensorflow_installed(), reason="the retrain job needs TensorFlow")


def rows(db: Path, sql: str, *args: Any) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(db)) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql, args).fetchall()]


def answer_version(db: Path, reply: Sent) -> str:
    """The model version that answered ``reply`` (as the bot stored it)."""
    answer_id = int(reply.buttons[-1]["callback_data"].split(":")[1])
    (row,) = rows(db, "SELECT model_version FROM answers WHERE id = ?", answer_id)
    return str(row["model_version"])


def tiny(settings: Settings, mnist: Path, **retrain: Any) -> Settings:
    """An admin, and a retrain that takes seconds: the MNIST subset, one core, niced."""
    values: dict[str, Any] = {
        "admin_ids": frozenset({ADMIN}),
        "mnist_path": mnist,
        "retrain_epochs": 2,
        "retrain_limit": 1000,
        "retrain_test_limit": 300,
        "retrain_threads": 1,
        "retrain_nice": 10,
        "retrain_gate_photos": 1,
    }
    values.update(retrain)
    return dataclasses.replace(settings, **values)


async def command(standin: BotApiStandIn, text: str, user: int = ADMIN, **kw: Any) -> Sent:
    return await standin.reply_to(standin.send_text(user, text, **kw))


async def progress_begins(
    standin: BotApiStandIn, progress: Sent, start: str | tuple[str, ...], timeout: float = 30
) -> str:
    """The retrain's progress message, once its text begins with ``start``."""

    def text() -> str:
        return standin.current[progress.message_id].text or ""

    await standin.wait_for(lambda: text().startswith(start), timeout)
    return text()


async def final_text(standin: BotApiStandIn, progress: Sent, timeout: float = 150) -> str:
    """The retrain's last edit of its progress message."""
    return await progress_begins(standin, progress, FINAL, timeout)


@pytest.fixture(scope="module")
def weak_model(tmp_path_factory: pytest.TempPathFactory, mnist_subset_path: Path) -> Path:
    """A model that has barely learnt anything (one epoch on 300 digits: about 14% on MNIST),
    trained by the same job process, to be beaten by a tiny but real retrain."""
    job = tmp_path_factory.mktemp("weak")
    done = subprocess.run(
        [sys.executable, "-m", "classifier.retrain", "--job", str(job),
         "--serving", str(default_model_path()), "--data", str(mnist_subset_path),
         "--epochs", "1", "--limit", "300", "--test-limit", "100",
         "--version", "weak-1", "--threads", "1", "--nice", "5"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return job / "model"


# Settings -----------------------------------------------------------------------------------


def test_retrain_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DIGITBOT_DATA_DIR": str(tmp_path),
        "DIGITBOT_MNIST": "/srv/mnist.npz",
        "DIGITBOT_RETRAIN_EPOCHS": "2",
        "DIGITBOT_RETRAIN_LIMIT": "1000",
        "DIGITBOT_RETRAIN_TEST_LIMIT": "300",
        "DIGITBOT_RETRAIN_THREADS": "2",
        "DIGITBOT_RETRAIN_NICE": "0",
        "DIGITBOT_RETRAIN_GATE_PHOTOS": "3",
    }
    settings = load_settings(env, env_file=None)
    assert (settings.mnist_path, settings.retrain_epochs, settings.retrain_limit) == (
        Path("/srv/mnist.npz"), 2, 1000,
    )  # fmt: skip
    assert (settings.retrain_test_limit, settings.retrain_threads, settings.retrain_nice) == (300, 2, 0)
    assert settings.retrain_gate_photos == 3
    no_photos = load_settings({**env, "DIGITBOT_RETRAIN_GATE_PHOTOS": "0"}, env_file=None)
    assert no_photos.retrain_gate_photos == 0
    assert settings.models_dir == tmp_path / "models" and settings.jobs_dir == tmp_path / "retrain"
    for name, bad in [("DIGITBOT_RETRAIN_EPOCHS", "0"), ("DIGITBOT_RETRAIN_NICE", "20"),
                      ("DIGITBOT_RETRAIN_LIMIT", "all"), ("DIGITBOT_ADMIN_IDS", "4242,bob"),
                      ("DIGITBOT_RETRAIN_GATE_PHOTOS", "-1")]:  # fmt: skip
        with pytest.raises(ConfigError, match=name):
            load_settings({**env, name: bad}, env_file=None)


# Who may -----------------------------------------------------------------------------------


async def test_admin_commands_are_refused_to_everyone_else_and_logged(
    standin: BotApiStandIn,
    settings: Settings,
    mnist_subset_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin.usernames[USER + 1] = str(ADMIN)  # a username that looks like the admin's id
    standin.usernames[USER + 2] = "admin"
    group = -100555
    async with serve(build_application(tiny(settings, mnist_subset_path))):
        attempts = [
            standin.send_text(USER, "/retrain"),
            standin.send_text(USER, "/retrain cancel"),
            standin.send_text(USER, "/rollback"),
            standin.send_text(USER + 1, "/retrain"),
            standin.send_text(USER + 2, "/rollback"),
            standin.send_text(USER, f"/retrain@{BOT_USERNAME}", chat_id=group, chat_type="supergroup"),
        ]
        with caplog.at_level(logging.WARNING, logger="bot.handlers.admin"):
            replies = [await standin.reply_to(m) for m in attempts]
        commands = ("retrain", "retrain", "rollback", "retrain", "rollback", "retrain")
        assert [r.text for r in replies] == [NOT_ADMIN.format(command=c) for c in commands]
        refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert len(refusals) == 6
        assert f"user {USER + 1} (username {ADMIN})" in refusals[3] and f"chat {group}" in refusals[5]
        assert not rows(settings.db_path, "SELECT * FROM retrain_jobs")
        # /model is for everyone; the admin sees more. The admin's own commands do reach them.
        public = (await command(standin, "/model", user=USER)).text or ""
        assert public.startswith("Serving model ") and "MNIST test accuracy" in public
        assert "Samples" not in public
        private = (await command(standin, "/model")).text or ""
        assert "Samples: 0 stored" in private and "Nothing to roll back to." in private
        nothing = await command(standin, "/rollback")
        assert nothing.text == "Cannot roll back: already serving the base model, there is nothing before it."
        assert (await command(standin, "/retrain cancel")).text == RETRAIN_NONE_RUNNING
        admin_menu = [c for c in standin.calls_to("setMyCommands") if "scope" in c.params]
        assert [c.params["scope"] for c in admin_menu] == [{"type": "chat", "chat_id": ADMIN}]


async def test_a_retrain_that_cannot_run_says_why_and_starts_nothing(
    standin: BotApiStandIn, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-mnist.npz"
    async with serve(build_application(tiny(settings, missing))):
        progress = await command(standin, "/retrain")
        text = await progress_begins(standin, progress, "Cannot retrain")
        assert text == f"Cannot retrain: DIGITBOT_MNIST points to {missing}, which is not a file."
        monkeypatch.setattr("bot.retraining.tensorflow_installed", lambda: False)
        progress = await command(standin, "/retrain")
        text = await progress_begins(standin, progress, "Cannot retrain")
        assert "training needs TensorFlow" in text and "EXTRAS=train" in text
        assert not rows(settings.db_path, "SELECT * FROM retrain_jobs")


# Real retrains -----------------------------------------------------------------------------


@needs_tensorflow
async def test_a_retrain_that_fails_the_gate_keeps_the_serving_model(
    standin: BotApiStandIn, settings: Settings, mnist_subset_path: Path, digit_images: dict[int, np.ndarray]
) -> None:
    """Two epochs on 1,000 digits against the shipped model: the candidate must be refused."""
    config = tiny(settings, mnist_subset_path)
    async with serve(build_application(config)) as bot:
        shipped = services_of(bot).models.current.version
        # Ten users' samples first (ids 1-10; the fixed split holds ids 5 and 8 out for the gate).
        for digit, image in digit_images.items():
            reply = await answered(standin, image, user=USER + digit)
            data = reply.buttons[0]["callback_data"]
            await standin.answered_query(standin.press_button(USER + digit, reply, data))
        assert len(rows(config.db_path, "SELECT id FROM samples")) == 10

        progress = await command(standin, "/retrain")
        assert progress.text == RETRAIN_STARTING
        plan = await progress_begins(standin, progress, "🛠 Retrain #1")
        assert "2 epochs on the first 1,000 MNIST training digits + 10 user samples" in plan
        assert "on the first 300 MNIST test digits and the digits read from 1 photo of each style" in plan
        # Photos are answered while it trains; a second /retrain shows the progress.
        during = await answered(standin, digit_images[3], user=USER)
        assert read_number(during) == "3" and services_of(bot).retrainer.job is not None
        again = await command(standin, "/retrain")
        assert again.text is not None and again.text.startswith("🛠 Retrain #1")

        text = await final_text(standin, progress)
        assert text.startswith(f"❌ Retrain #1 did not pass the gate: still serving {shipped}.")
        assert "MNIST test accuracy fell from" in text
        assert re.search(r"MNIST test \(300 digits\): new \d+\.\d\d%, serving \d+\.\d\d%", text), text
        assert re.search(r"Held-out user samples \(2\): new \d+\.\d\d%, serving 100\.00%", text), text
        assert re.search(r"Digits read from photos \(\d\d\): new \d+\.\d\d%, serving \d+\.\d\d%", text), text
        edits = [e.params.get("text", "") for e in standin.edits(progress.message_id)]
        assert any(re.search(r"Epoch [12]/2 done: validation accuracy \d+\.\d\d%", e) for e in edits), edits
        notice = await standin.reply_to(progress.message_id)  # an edit does not notify; this does
        assert notice.text == "Retrain #1 did not pass. Details above."

        after = await answered(standin, digit_images[5], user=USER)
        assert read_number(after) == "5" and answer_version(config.db_path, after) == shipped
        assert ModelStore(config.models_dir, config.model_path).list_versions() == []
        assert not any(config.jobs_dir.iterdir())  # the job's folder is gone
        (job,) = rows(config.db_path, "SELECT status, result_json FROM retrain_jobs")
        assert job["status"] == "failed" and '"feedback_n": 2' in job["result_json"]


@needs_tensorflow
async def test_a_retrain_that_passes_is_served_at_once_survives_a_restart_and_rolls_back(
    standin: BotApiStandIn,
    settings: Settings,
    mnist_subset_path: Path,
    weak_model: Path,
    digit_images: dict[int, np.ndarray],
) -> None:
    """Against a weak serving model, two epochs on 5,000 digits (about 90%) must win. (With
    fewer digits two epochs learn nothing: the batch-norm statistics need more steps.)"""
    config = dataclasses.replace(tiny(settings, mnist_subset_path, retrain_limit=5000), model_path=weak_model)
    db = config.db_path
    async with serve(build_application(config)) as bot:
        before = await answered(standin, digit_images[1], user=USER)
        assert answer_version(db, before) == "weak-1"
        progress = await command(standin, "/retrain")
        text = await final_text(standin, progress)
        match = re.match(r"✅ Retrain #1 passed the gate: now serving (\S+) \(was weak-1\)\.", text)
        assert match, text
        version = match.group(1)
        assert re.fullmatch(r"\d{8}-\d{4}-r1", version)
        assert re.search(r"MNIST test \(300 digits\): new (\d+)\.\d\d%, serving \d+\.\d\d%", text)
        assert re.search(r"Digits read from photos \(\d\d\): new \d+\.\d\d%, serving \d+\.\d\d%", text), text
        assert services_of(bot).models.current.version == version
        after = await answered(standin, digit_images[1], user=USER)
        assert answer_version(db, after) == version  # the next photo, same process, new model
        store = ModelStore(config.models_dir, config.model_path)
        assert store.current() == version and (store.current_dir() / MODEL_FILE).is_file()
        assert Classifier(store.current_dir()).version == version
        model = (await command(standin, "/model")).text or ""
        assert model.startswith(f"Serving model {version} (retrained by /retrain).")
        assert "/rollback returns to the base model." in model and "Last retrain: #1 passed" in model

    async with serve(build_application(config)):  # a restart serves the published version
        reply = await answered(standin, digit_images[2], user=USER)
        assert answer_version(db, reply) == version
        rolled = await command(standin, "/rollback")
        assert rolled.text == f"↩ Rolled back: now serving weak-1 (was {version})."
        reply = await answered(standin, digit_images[2], user=USER)
        assert answer_version(db, reply) == "weak-1"
        assert store.current() is None and store.list_versions() == [version]
        assert (await command(standin, "/rollback")).text is not None


# Stopping and killing ------------------------------------------------------------------------


def process_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


async def wait_gone(pid: int, timeout: float = 15) -> None:
    for _ in range(int(timeout * 10)):
        if process_gone(pid):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"process {pid} is still running")


@needs_tensorflow
async def test_cancel_and_a_killed_job_leave_everything_serving(
    standin: BotApiStandIn, settings: Settings, mnist_subset_path: Path, digit_images: dict[int, np.ndarray]
) -> None:
    config = tiny(settings, mnist_subset_path, retrain_epochs=50)
    async with serve(build_application(config)) as bot:
        retrainer = services_of(bot).retrainer
        serving = services_of(bot).models.current.version
        first = await command(standin, "/retrain")
        await standin.wait_for(lambda: retrainer.job is not None and retrainer.job.process is not None)
        assert retrainer.job is not None and retrainer.job.process is not None
        pid = retrainer.job.process.pid
        assert (await command(standin, "/retrain cancel")).text == "Stopping retrain #1…"
        text = await final_text(standin, first, timeout=30)
        assert text.startswith("⏹ Retrain #1 cancelled after ") and text.endswith(f"still serving {serving}.")
        await wait_gone(pid)

        second = await command(standin, "/retrain")
        await standin.wait_for(lambda: retrainer.job is not None and retrainer.job.id == 2)
        assert retrainer.job is not None and retrainer.job.process is not None
        os.kill(retrainer.job.process.pid, signal.SIGKILL)  # the OOM killer, say
        text = await final_text(standin, second, timeout=30)
        assert text.startswith(
            "⚠️ Retrain #2 stopped: the training process was killed (SIGKILL) without a verdict"
        )
        assert text.endswith(f"Still serving {serving}.")

        assert read_number(await answered(standin, digit_images[6], user=USER)) == "6"
        jobs = rows(config.db_path, "SELECT id, status, finished_at FROM retrain_jobs ORDER BY id")
        assert [(j["id"], j["status"]) for j in jobs] == [(1, "cancelled"), (2, "error")]
        assert all(j["finished_at"] for j in jobs)
        assert not any(config.jobs_dir.iterdir())


@needs_tensorflow
async def test_a_bot_killed_mid_retrain_takes_the_job_along_and_reports_it_on_the_next_start(
    tmp_path: Path, standin: BotApiStandIn, mnist_subset_path: Path, digit_images: dict[int, np.ndarray]
) -> None:
    env = environment(
        tmp_path,
        standin,
        DIGITBOT_DATA_DIR=str(tmp_path / "data"),
        DIGITBOT_ADMIN_IDS=str(ADMIN),
        DIGITBOT_MNIST=str(mnist_subset_path),
        DIGITBOT_RETRAIN_EPOCHS="50",
        DIGITBOT_RETRAIN_LIMIT="1000",
    )
    db = Path(env["DIGITBOT_DB"])

    async def start_bot() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.DEVNULL
        )

    bot = await start_bot()
    try:
        progress = await command(standin, "/retrain")
        await progress_begins(standin, progress, "🛠 Retrain #1")
        (job,) = rows(db, "SELECT pid, folder FROM retrain_jobs")
        folder = Path(job["folder"])
        assert job["pid"] and folder.is_dir()  # noqa: ASYNC240 (a test: a blocking stat is fine)
        await asyncio.sleep(2)  # well into TensorFlow's start-up
        bot.kill()
        await bot.wait()
        await wait_gone(job["pid"], timeout=10)  # the job died with the bot
        assert folder.is_dir()  # noqa: ASYNC240 ... and left its folder

        bot = await start_bot()
        await standin.wait_for(lambda: any((s.text or "").startswith("⚠️ Retrain #1") for s in standin.sent))
        (notice,) = [s for s in standin.sent if (s.text or "").startswith("⚠️ Retrain #1")]
        assert notice.chat_id == ADMIN and notice.reply_to == progress.message_id
        assert "was failed: interrupted: the bot stopped while it ran. Now serving " in (notice.text or "")
        assert (standin.current[progress.message_id].text or "").startswith("⚠️ Retrain #1")
        assert rows(db, "SELECT status FROM retrain_jobs") == [{"status": "failed"}]
        assert not folder.exists()  # noqa: ASYNC240
        assert read_number(await answered(standin, digit_images[8], user=USER)) == "8"
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)
