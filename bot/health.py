"""The bot's health in one log line: memory, file handles, threads, asyncio tasks and every
queue or table that could grow. ``kill -USR1 <pid>`` logs it (``bot.app`` installs the
handler); ``bench/bench_soak.py`` uses it to show that nothing grows over a long run.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.services import KEY as SERVICES_KEY
from bot.services import Services
from bot.transport import RetryingRequest

log = logging.getLogger(__name__)


def _proc_status_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return -1


def open_files() -> int:
    """File descriptors this process holds (-1 where /proc is missing)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def snapshot(application: Application[Any, Any, Any, Any, Any, Any]) -> dict[str, int]:
    """Counts that must stay flat while the bot runs (memory aside, in KB)."""
    counts: dict[str, int] = {
        "rss_kb": _proc_status_kb("VmRSS"),
        "fds": open_files(),
        "threads": threading.active_count(),
        "tasks": len(asyncio.all_tasks()),
        "update_queue": application.update_queue.qsize(),
        "user_data": len(application.user_data),
        "chat_data": len(application.chat_data),
        "objects": len(gc.get_objects()),  # Python objects the collector tracks (a leak grows them)
    }
    limiter = application.bot.rate_limiter
    groups = getattr(limiter, "_group_limiters", None)  # AIORateLimiter: one per group chat
    if isinstance(groups, dict):
        counts["group_limiters"] = len(groups)
    request = getattr(application.bot, "request", None)
    if isinstance(request, RetryingRequest):
        counts["resends"] = request.retries
    services = application.bot_data.get(SERVICES_KEY)
    if isinstance(services, Services):
        counts.update(
            photos_active=services.slots.active,
            photos_waiting=services.slots.waiting,
            slot_users=services.slots.users,
            rate_users=len(services.rate),
            batch_pending=services.batcher.pending,
            batches=services.batcher.batches,
            images=services.batcher.images,
        )
    return counts


def log_health(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    counts = snapshot(application)
    log.info("health: %s", " ".join(f"{k}={v}" for k, v in counts.items()))
