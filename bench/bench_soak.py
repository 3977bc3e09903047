"""Load and soak: the real bot process against the Bot API stand-in on 127.0.0.1.

load  100 users x 20 photos, concurrently, mixed with commands, "What I saw" taps, forged taps
      and junk (stickers, text, broken and non-image files, group chatter, edits). Every update
      is accounted for: answered (a reply quoting it, or its button tap answered), deliberately
      unanswered (group chatter, edits), or logged by the bot as failed with its reason; no
      update is answered twice. Reports photo reply latency p50/p95/max.
soak  10,000 updates of the same mix, paced, with a few Telegram faults injected (a failing
      download, a 502 on an answer, a dropped getUpdates). At checkpoints the script waits for
      the bot to catch up, then reads the bot's RSS, open file handles and threads from /proc
      and asks it (SIGUSR1) to log its own counts: asyncio tasks, update queue, photos in
      flight, rate-limiter and slot tables, PTB's per-user/chat data. RSS after the first 1,000
      updates vs at the end must differ by less than 10%; the counts must not grow.

    .venv/bin/python bench/bench_soak.py [--phase load|soak|both] [--users 100] [--photos 20]
        [--rate 25] [--updates 10000]

Everything runs on loopback, bounded in count and time; the bot is its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot.replies import BUSY, DOWNLOAD_FAILED, RATE_LIMITED, TRY_AGAIN  # noqa: E402
from classifier.serving import default_model_path  # noqa: E402
from tests.bot import hostile, photos  # noqa: E402
from tests.standin import DOWNLOAD, BotApiStandIn, Sent  # noqa: E402

STICKER = {"file_id": "S", "file_unique_id": "SU", "type": "regular", "width": 512, "height": 512,
           "is_animated": False, "is_video": False}  # fmt: skip
RATE_TEXT = RATE_LIMITED.split("(")[0]


@dataclass
class Pushed:
    """One update the script sent, and what it expects."""

    update_id: int
    kind: str
    user: int
    at: float
    expect: str  # "reply" (a message quoting it), "tap" (answerCallbackQuery), "silence"
    message_id: int | None = None
    query_id: str | None = None
    label: str | None = None  # a photo's digit
    file_id: str | None = None  # a photo's size the bot downloads (800 px)


@dataclass
class BotProcess:
    standin: BotApiStandIn
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = self.standin.bot_environment(
            DIGITBOT_MODEL=str(default_model_path()),
            DIGITBOT_DATA_DIR=str(self.data_dir),
            DIGITBOT_LOG_LEVEL="INFO",
            **self.extra_env,
        )
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.data_dir, env=env, stderr=asyncio.subprocess.PIPE
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        """Drain stderr as it comes (a full pipe would block the bot)."""
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def proc(self) -> dict[str, int]:
        """RSS (KB), threads and open file handles (all, and how many are sockets: idle HTTP
        keep-alive connections come and go with the load), from /proc."""
        out = {"rss_kb": 0, "threads": 0, "fds": 0, "sockets": 0}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out["rss_kb"] = int(line.split()[1])
                elif line.startswith("Threads:"):
                    out["threads"] = int(line.split()[1])
            folder = Path(f"/proc/{self.pid}/fd")
            for fd in folder.iterdir():
                out["fds"] += 1
                with contextlib.suppress(OSError):
                    out["sockets"] += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
        return out

    async def health(self) -> dict[str, int]:
        """Ask the bot for its own counts (SIGUSR1 -> one "health:" log line)."""
        before = len(self.lines)
        os.kill(self.pid, signal.SIGUSR1)
        for _ in range(100):
            await asyncio.sleep(0.05)
            for line in self.lines[before:]:
                if "health: " in line:
                    return {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", line.split("health: ", 1)[1])}
        return {}

    async def stop(self) -> int:
        assert self.process is not None
        self.process.terminate()
        code = await asyncio.wait_for(self.process.wait(), 60)
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._reader, 5)
        return code


# The traffic -------------------------------------------------------------------------------


class Traffic:
    """Plays users: photos, commands, taps and junk, each recorded with what it expects."""

    def __init__(self, standin: BotApiStandIn, pool: list[tuple[list[tuple[bytes, int, int]], str]],
                 junk: dict[str, tuple[bytes, str, str]], seed: int) -> None:  # fmt: skip
        self.standin = standin
        self.pool = pool
        self.junk = junk
        self.rng = random.Random(seed)
        self.pushed: list[Pushed] = []
        self.answers: dict[int, list[Sent]] = {}  # user -> the bot's answers to their photos

    def _record(self, kind: str, user: int, expect: str, message: dict[str, Any], **kw: Any) -> Pushed:
        p = Pushed(self.standin.update_of[message["message_id"]], kind, user, time.monotonic(), expect,
                   message_id=message["message_id"], **kw)  # fmt: skip
        self.pushed.append(p)
        return p

    def photo(self, user: int) -> Pushed:
        sizes, label = self.pool[self.rng.randrange(len(self.pool))]
        message = self.standin.send_photo(user, sizes)
        return self._record(
            "photo", user, "reply", message, label=label, file_id=message["photo"][2]["file_id"]
        )

    def other(self, user: int) -> Pushed:
        """Anything but a photo."""
        roll = self.rng.random()
        s = self.standin
        if roll < 0.25:
            text = self.rng.choice(["/help", "/start", "/model", "/help junk \u202e args"])
            return self._record("command", user, "reply", s.send_text(user, text))
        if roll < 0.35:
            return self._record("sticker", user, "reply", s.send_message(user, sticker=STICKER))
        if roll < 0.45:
            return self._record(
                "text", user, "reply", s.send_text(user, "what is this? " * self.rng.randint(1, 50))
            )
        if roll < 0.6:
            name = self.rng.choice(sorted(self.junk))
            data, file_name, mime = self.junk[name]
            return self._record(f"file:{name}", user, "reply", s.send_document(user, data, file_name, mime))
        if roll < 0.7:
            group = -100_000_000 - user % 7
            return self._record("group chatter", user, "silence",
                                s.send_text(user, "lol", chat_id=group, chat_type="supergroup"))  # fmt: skip
        if roll < 0.75:
            original = s.send_text(user, "typo")
            self._record("text", user, "reply", original)
            update_id = s.push_update({"edited_message": {**original, "text": "typo fixed", "edit_date": 1}})
            p = Pushed(update_id, "edited", user, time.monotonic(), "silence")
            self.pushed.append(p)
            return p
        answers = self.answers.get(user)
        if roll < 0.9 and answers:
            answer = self.rng.choice(answers)
            tap: str = answer.buttons[-1]["callback_data"] if answer.buttons else "saw:1"
            return self._tap("tap: what I saw", user, answer, tap)
        if answers:
            return self._tap(
                "tap: forged", user, answers[0], self.rng.choice(["saw:999999999", "zz", "ok:-1"])
            )
        return self._record("command", user, "reply", s.send_text(user, "/help"))

    def _tap(self, kind: str, user: int, answer: Sent, data: str) -> Pushed:
        before = len(self.standin._updates)
        query_id = self.standin.press_button(user, answer, data)
        update_id = self.standin._updates[before]["update_id"] if len(self.standin._updates) > before else -1
        p = Pushed(update_id, kind, user, time.monotonic(), "tap", query_id=query_id)
        self.pushed.append(p)
        return p

    def collect_answers(self) -> None:
        """Remember each user's answered photos, for "What I saw" taps."""
        by_message = {p.message_id: p for p in self.pushed if p.kind == "photo"}
        self.answers.clear()
        for sent in self.standin.sent:
            p = by_message.get(sent.reply_to)
            if p is not None and sent.buttons:
                self.answers.setdefault(p.user, []).append(sent)


# Accounting --------------------------------------------------------------------------------


@dataclass
class Accounting:
    outcomes: Counter[str]
    kinds: Counter[tuple[str, str]]
    duplicates: list[Pushed]
    lost: list[Pushed]
    latencies: list[float]
    wrong: int

    def report(self) -> str:
        lat = sorted(self.latencies) or [float("nan")]
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
        total = sum(self.outcomes.values())
        lines = [
            f"  updates {total}: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
            f"  duplicate answers {len(self.duplicates)}, unaccounted {len(self.lost)}, photos read wrong "
            f"{self.wrong} (the model's accuracy, not the bot's plumbing)",
            f"  photo reply latency p50 {statistics.median(lat) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {lat[-1] * 1000:.0f} ms ({len(self.latencies)} photos)",
            "  by kind: " + ", ".join(f"{k}/{o} {v}" for (k, o), v in sorted(self.kinds.items())),
        ]
        for p in self.lost[:5]:
            lines.append(f"  UNACCOUNTED: update {p.update_id} {p.kind} user {p.user}")
        return "\n".join(lines)


def account(traffic: Traffic, bot_lines: list[str]) -> Accounting:
    standin = traffic.standin
    replies: dict[int, list[Sent]] = {}
    for sent in standin.sent:
        if sent.reply_to is not None:
            replies.setdefault(sent.reply_to, []).append(sent)
    taps = Counter(
        c.params.get("callback_query_id") for c in standin.calls_to("answerCallbackQuery") if c.status == 200
    )
    logged: dict[int, str] = {}
    named = re.compile(r"\bupdate (\d+)\b")
    for line in bot_lines:
        if " WARNING " in line or " ERROR " in line:
            for match in named.finditer(line):
                logged.setdefault(int(match.group(1)), line)
    outcomes: Counter[str] = Counter()
    kinds: Counter[tuple[str, str]] = Counter()
    duplicates, lost, latencies, wrong = [], [], [], 0
    for p in traffic.pushed:
        if p.expect == "tap":
            count = taps.get(p.query_id, 0)
            outcome = "tap answered" if count else ("failed, logged" if p.update_id in logged else "LOST")
            if count > 1:
                duplicates.append(p)
        else:
            got = replies.get(p.message_id or -1, [])
            if len(got) > 1:
                duplicates.append(p)
            if p.expect == "silence":
                outcome = "deliberately silent" if not got else "ANSWERED A SILENCE"
            elif got:
                text = got[0].text or ""
                outcome = (
                    "busy" if text == BUSY
                    else "rate limited" if text.startswith(RATE_TEXT)
                    else "download failed" if text == DOWNLOAD_FAILED
                    else "try again" if text == TRY_AGAIN
                    else "answered"
                )  # fmt: skip
                if p.kind == "photo":
                    latencies.append(got[0].at - standin.pushed_at[p.message_id or -1])
                    wrong += outcome == "answered" and not text.startswith(f"{p.label} (")
            else:
                outcome = "failed, logged" if p.update_id in logged else "LOST"
        if outcome in ("LOST", "ANSWERED A SILENCE"):
            lost.append(p)
        outcomes[outcome] += 1
        kinds[(p.kind.split(":")[0], outcome)] += 1
    return Accounting(outcomes, kinds, duplicates, lost, latencies, wrong)


def settled(traffic: Traffic) -> Callable[[], bool]:
    """Every update that expects something has got it."""

    def check() -> bool:
        standin = traffic.standin
        replied = {s.reply_to for s in standin.sent}
        tapped = {c.params.get("callback_query_id") for c in standin.calls_to("answerCallbackQuery")}
        return all(
            (p.message_id in replied) if p.expect == "reply" else (p.query_id in tapped)
            for p in traffic.pushed
            if p.expect != "silence"
        )

    return check


async def catch_up(traffic: Traffic, timeout: float) -> bool:
    """Until every update is answered, or nothing has happened for 10 s, or ``timeout``."""
    standin = traffic.standin
    check = settled(traffic)
    deadline = time.monotonic() + timeout
    last_count, last_change = len(standin.calls), time.monotonic()
    while time.monotonic() < deadline:
        if check():
            await asyncio.sleep(0.5)  # late duplicates would show now
            return True
        await asyncio.sleep(0.25)
        if len(standin.calls) != last_count:
            last_count, last_change = len(standin.calls), time.monotonic()
        elif time.monotonic() - last_change > 10:
            return False
    return False


# Phases ------------------------------------------------------------------------------------


async def load_phase(args: argparse.Namespace, pool: Any, junk: Any) -> None:
    print(
        f"load: {args.users} users x {args.photos} photos, mixed with other updates, "
        f"at {args.rate:g} updates/s"
    )
    async with BotApiStandIn() as standin:
        with tempfile.TemporaryDirectory(prefix="digitbot-load-") as tmp:
            bot = BotProcess(standin, Path(tmp))
            await bot.start()
            traffic = Traffic(standin, pool, junk, seed=1)
            warm = traffic.photo(1)  # the bot is up and has read one photo
            await standin.reply_to(warm.message_id or 0, 60)
            traffic.pushed.clear()
            per_user_gap = args.users / args.rate if args.rate > 0 else 0.0
            started = time.monotonic()

            async def user(uid: int) -> None:
                rng = random.Random(uid)
                plan = ["photo"] * args.photos + ["other"] * round(args.photos * 0.3)
                rng.shuffle(plan)
                for step in plan:
                    if per_user_gap:
                        await asyncio.sleep(rng.expovariate(1 / per_user_gap))
                    if step == "photo":
                        traffic.photo(uid)
                    else:
                        if rng.random() < 0.2:
                            traffic.collect_answers()
                        traffic.other(uid)

            await asyncio.gather(*(user(10_000 + u) for u in range(args.users)))
            sent_in = time.monotonic() - started
            done = await catch_up(traffic, timeout=600)
            elapsed = time.monotonic() - started
            proc = bot.proc()
            health = await bot.health()
            code = await bot.stop()
            result = account(traffic, bot.lines)
            photos_sent = sum(p.kind == "photo" for p in traffic.pushed)
            print(f"  sent {len(traffic.pushed)} updates ({photos_sent} photos) in {sent_in:.0f} s; "
                  f"all settled {done} after {elapsed:.0f} s; bot exit {code}")  # fmt: skip
            print(result.report())
            print(f"  bot at the end: RSS {proc['rss_kb'] / 1024:.0f} MB, {proc['fds']} fds "
                  f"({proc['sockets']} sockets), "
                  f"{proc['threads']} threads; {fmt(health)}")  # fmt: skip
            errors = [line for line in bot.lines if " ERROR " in line or "Traceback" in line]
            print(
                f"  bot logged {len(errors)} ERROR lines" + (f"; first: {errors[0][:160]}" if errors else "")
            )


def fmt(health: dict[str, int]) -> str:
    keys = ("tasks", "update_queue", "photos_active", "photos_waiting", "slot_users", "rate_users",
            "batch_pending", "user_data", "chat_data", "group_limiters", "objects", "resends")  # fmt: skip
    return " ".join(f"{k}={health[k]}" for k in keys if k in health)


async def soak_phase(args: argparse.Namespace, pool: Any, junk: Any) -> None:
    total = args.updates
    print(f"soak: {total} updates at {args.rate:g}/s, with faults injected (~1 in {args.fault_every})")
    checkpoints = sorted({c for c in (1_000, *range(2_000, total + 1, 2_000)) if c < total} | {total})
    async with BotApiStandIn() as standin:
        with tempfile.TemporaryDirectory(prefix="digitbot-soak-") as tmp:
            bot = BotProcess(standin, Path(tmp))
            await bot.start()
            traffic = Traffic(standin, pool, junk, seed=2)
            first = traffic.photo(1)
            await standin.reply_to(first.message_id or 0, 60)
            traffic.pushed.clear()
            rng = random.Random(3)
            faults = {"download 500": 0, "answer 502": 0, "getUpdates dropped": 0}
            rows = []
            started = time.monotonic()
            sent = 0
            for checkpoint in checkpoints:
                # Pace from here: the pause at the last checkpoint must not turn into a burst.
                paced_from, sent_before = time.monotonic(), sent
                while sent < checkpoint:
                    uid = 20_000 + rng.randrange(300)  # 300 users come and go
                    if rng.random() < 0.7:
                        p = traffic.photo(uid)
                        if rng.randrange(args.fault_every) == 0:
                            kind = rng.choice(sorted(faults))
                            faults[kind] += 1
                            inject(standin, kind, p)
                    else:
                        if rng.random() < 0.1:
                            traffic.collect_answers()
                        traffic.other(uid)
                    sent = len(traffic.pushed)
                    if args.rate > 0:
                        delay = paced_from + (sent - sent_before) / args.rate - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)
                caught = await catch_up(traffic, timeout=300)
                await asyncio.sleep(1.0)
                proc, health = bot.proc(), await bot.health()
                rows.append((checkpoint, caught, proc, health))
                print(f"  {checkpoint:>6} updates ({time.monotonic() - started:4.0f} s): RSS "
                      f"{proc['rss_kb'] / 1024:6.1f} MB  fds {proc['fds']:3} ({proc['sockets']} sockets)  "
                      f"threads {proc['threads']:3}  "
                      f"{fmt(health)}{'' if caught else '  (not caught up)'}", flush=True)  # fmt: skip
            code = await bot.stop()
            result = account(traffic, bot.lines)
            print(result.report())
            first_rss, last_rss = rows[0][2]["rss_kb"], rows[-1][2]["rss_kb"]
            growth = (last_rss - first_rss) / first_rss * 100
            print(f"  RSS after {rows[0][0]} updates {first_rss / 1024:.1f} MB, after {rows[-1][0]} "
                  f"{last_rss / 1024:.1f} MB: {growth:+.1f}% (limit 10%)")  # fmt: skip
            print(
                f"  faults injected: {faults}; resends by the bot {rows[-1][3].get('resends', '?')}; "
                f"bot exit {code}"
            )
            errors = [line for line in bot.lines if " ERROR " in line or "Traceback" in line]
            print(
                f"  bot logged {len(errors)} ERROR lines" + (f"; first: {errors[0][:160]}" if errors else "")
            )


def inject(standin: BotApiStandIn, kind: str, photo: Pushed) -> None:
    """One fault for this photo (all recoverable without risking a second answer)."""
    message_id, file_id = photo.message_id, photo.file_id
    if kind == "download 500":
        standin.fail(DOWNLOAD, 500, match=lambda p: p.get("file_id") == file_id)
    elif kind == "answer 502":
        standin.fail(
            "sendMessage",
            502,
            match=lambda p: (p.get("reply_parameters") or {}).get("message_id") == message_id,
        )
    else:
        standin.fail("getUpdates", status=None, drop="before")


# Inputs ------------------------------------------------------------------------------------


def make_pool(count: int) -> list[tuple[list[tuple[bytes, int, int]], str]]:
    """``count`` distinct phone photos of single MNIST test digits, in Telegram's sizes."""
    with np.load(ROOT / "tests" / "data" / "mnist_subset.npz") as data:
        x, y = data["x_test"], data["y_test"]
    return [(photos.telegram_sizes(photos.photo([x[i]], seed=i)), str(int(y[i]))) for i in range(count)]


def make_junk() -> dict[str, tuple[bytes, str, str]]:
    """Broken, hostile and odd files (tests/bot/hostile.py), and two images that must be read."""
    with np.load(ROOT / "tests" / "data" / "mnist_subset.npz") as data:
        x, y = data["x_test"], data["y_test"]
    seven = np.asarray(x[int(np.flatnonzero(y == 7)[0])])
    small = hostile.small(photos.photo([seven], seed=7))
    good = photos.jpeg(small)
    return {
        "empty": (b"", "empty.jpg", "image/jpeg"),
        "truncated": (hostile.truncated(good), "cut.jpg", "image/jpeg"),
        "bomb": (hostile.bomb_header(), "bomb.png", "image/png"),
        "pdf": (hostile.PDF, "scan.pdf", "application/pdf"),
        "text as jpg": (hostile.TEXT, "photo.jpg", "image/jpeg"),
        "rgba": (hostile.transparent_drawing(seven), "draw.png", "image/png"),
        "webp": (hostile.encoded(small, "webp"), "d.webp", "image/webp"),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phase", choices=("load", "soak", "both"), default="both")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--photos", type=int, default=20, help="photos per user (load)")
    parser.add_argument(
        "--rate", type=float, default=25.0, help="updates per second offered (0: all at once)"
    )
    parser.add_argument("--updates", type=int, default=10_000, help="updates in the soak")
    parser.add_argument("--fault-every", type=int, default=50, help="soak: one photo in N gets a fault")
    parser.add_argument("--distinct", type=int, default=40, help="distinct photos to cycle through")
    args = parser.parse_args()
    print(f"model {default_model_path()}  cores {os.cpu_count()}  load average {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    pool = make_pool(args.distinct)
    junk = make_junk()
    print(f"rendered {len(pool)} photos and {len(junk)} junk files in {time.perf_counter() - started:.1f} s")
    if args.phase in ("load", "both"):
        await load_phase(args, pool, junk)
    if args.phase in ("soak", "both"):
        await soak_phase(args, pool, junk)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
