"""Limits that keep one user (or a crowd) from starving everyone else.

``PhotoRateLimiter``: at most N photos per user per sliding minute. The first photo over the
limit gets one polite message; the rest of that burst is dropped silently (no queue).

``WorkSlots``: at most ``total`` photos downloaded/read at once overall and ``per_user`` per
user. Photos waiting for a slot hold no image bytes (the download starts only with a slot);
when more than ``max_waiting`` wait, a new photo is refused at once ("busy") instead.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class Verdict(enum.Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # over the limit: tell the user, once
    DROP = "drop"  # over the limit and already told


class PhotoRateLimiter:
    def __init__(
        self, per_minute: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_window = per_minute
        self.window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._told: set[int] = set()
        self._checks = 0

    def check(self, user_id: int) -> Verdict:
        now = self._clock()
        self._checks += 1
        if self._checks % 1024 == 0:
            self._forget_idle(now)
        times = self._seen.setdefault(user_id, deque(maxlen=self.per_window))
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.per_window:
            times.append(now)
            self._told.discard(user_id)
            return Verdict.ALLOW
        if user_id in self._told:
            return Verdict.DROP
        self._told.add(user_id)
        return Verdict.NOTIFY

    def retry_in(self, user_id: int) -> float:
        """Seconds until this user may send a photo again."""
        times = self._seen.get(user_id)
        if not times or len(times) < self.per_window:
            return 0.0
        return max(0.0, times[0] + self.window - self._clock())

    def _forget_idle(self, now: float) -> None:
        idle = [u for u, times in self._seen.items() if not times or times[-1] <= now - self.window]
        for user_id in idle:
            del self._seen[user_id]
            self._told.discard(user_id)

    def __len__(self) -> int:
        return len(self._seen)


class Overloaded(Exception):
    """Too many photos are already waiting: refuse this one now rather than queue it."""


class WorkSlots:
    def __init__(self, total: int, per_user: int, max_waiting: int) -> None:
        self._total = asyncio.Semaphore(total)
        self._per_user_limit = per_user
        self._users: dict[int, tuple[asyncio.Semaphore, int]] = {}  # semaphore, holders+waiters
        self.max_waiting = max_waiting
        self.waiting = 0
        self.active = 0

    @asynccontextmanager
    async def slot(self, user_id: int) -> AsyncIterator[None]:
        if self.waiting >= self.max_waiting and (self._total.locked() or self._user_busy(user_id)):
            raise Overloaded
        semaphore, users = self._users.get(user_id, (asyncio.Semaphore(self._per_user_limit), 0))
        self._users[user_id] = (semaphore, users + 1)
        self.waiting += 1
        waiting = True
        try:
            async with semaphore, self._total:
                self.waiting -= 1
                waiting = False
                self.active += 1
                try:
                    yield
                finally:
                    self.active -= 1
        finally:
            if waiting:
                self.waiting -= 1
            semaphore, users = self._users[user_id]
            if users <= 1:
                del self._users[user_id]
            else:
                self._users[user_id] = (semaphore, users - 1)

    @property
    def users(self) -> int:
        """Users with a photo being read or waiting (for health logs: must not grow idle)."""
        return len(self._users)

    def _user_busy(self, user_id: int) -> bool:
        entry = self._users.get(user_id)
        return entry is not None and entry[0].locked()
