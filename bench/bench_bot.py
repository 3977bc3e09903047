"""Benchmark the bot end to end: the real bot process against the Bot API stand-in on loopback.

50 users each send 10 phone photos (1280x960 JPEGs, offered in Telegram's four sizes):
first at 25 photos per second (about Telegram's own ceiling for one bot), then all 500 at
once. Prints, for each run: photos answered (each quoting its photo, and read right), reply
latency p50/p95/max, photos per second, the bot's peak RSS, and the time from starting the
bot process to its first reply.

The "all at once" run is repeated with the outgoing flood limit switched off
(DIGITBOT_OUTGOING_PER_SECOND=0) to show how fast the bot itself reads; with the limit on,
replies can leave no faster than 30 per second, as Telegram requires.

    .venv/bin/python bench/bench_bot.py [--users 50] [--photos 10] [--rate 25]

``--during-retrain`` measures instead what an admin's /retrain costs the users: the paced run
once before any retrain, then ``--rounds`` pairs of runs while a real retrain job exists (a
separate, niced TensorFlow process; by default the full configuration, on ``--mnist``): one
with the job stopped (SIGSTOP), one with it training. Alternating them spreads the machine's
other load over both kinds alike. It prints each run, the p95 latency of each kind pooled, the
CPU the job used, and how long its first epoch took. ``--retrain-to-end`` lets the job finish
and prints its verdict and duration; otherwise it is cancelled after the first epoch.

    .venv/bin/python bench/bench_bot.py --during-retrain [--mnist mnist.npz] [--retrain-limit N]

The stand-in and the load generator run in this process, the bot in its own (so its memory
is its own); everything shares this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from classifier.serving import default_model_path  # noqa: E402
from tests.bot import photos  # noqa: E402
from tests.standin import BotApiStandIn  # noqa: E402


@dataclass
class RunResult:
    name: str
    bot_cpu: float  # seconds of CPU the bot used during the run
    own_cpu: float  # seconds of CPU this process (stand-in + load) used
    sent: int
    answered: int
    quoted: int
    correct: int
    latencies: list[float]
    seconds: float

    def report(self) -> str:
        lat = sorted(self.latencies) or [float("nan")]
        p50 = statistics.median(lat) * 1000
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))] * 1000
        return (
            f"{self.name:<34} answered {self.answered}/{self.sent} (quoting {self.quoted}, read right "
            f"{self.correct})  latency p50 {p50:.0f} ms  p95 {p95:.0f} ms  max {lat[-1] * 1000:.0f} ms  "
            f"{self.answered / self.seconds:.1f} photos/s\n"
            f"{'':<36} CPU per photo: bot {1000 * self.bot_cpu / max(1, self.answered):.1f} ms, "
            f"stand-in + load {1000 * self.own_cpu / max(1, self.answered):.1f} ms"
        )


class BotProcess:
    def __init__(self, standin: BotApiStandIn, data_dir: Path, extra_env: dict[str, str]) -> None:
        self.standin = standin
        self.data_dir = data_dir
        self.extra_env = extra_env
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self.peak_sampled_kb = 0
        self._sampler: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = self.standin.bot_environment(
            DIGITBOT_MODEL=str(default_model_path()),
            DIGITBOT_DB=str(self.data_dir / "digitbot.sqlite3"),
            DIGITBOT_LOG_LEVEL="WARNING",
            **self.extra_env,
        )
        self.started_at = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.data_dir, env=env, stderr=asyncio.subprocess.PIPE
        )
        self._sampler = asyncio.create_task(self._sample())

    def _status_kb(self, field: str) -> int:
        assert self.process is not None
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    async def _sample(self) -> None:
        while True:
            self.peak_sampled_kb = max(self.peak_sampled_kb, self._status_kb("VmRSS"))
            await asyncio.sleep(0.1)

    def cpu_seconds(self) -> float:
        """User + system CPU time the bot process has used so far."""
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def peak_rss_mb(self) -> float:
        """VmHWM: the kernel's own record of the process's peak resident memory."""
        return max(self._status_kb("VmHWM"), self.peak_sampled_kb) / 1024

    async def stop(self) -> str:
        assert self.process is not None
        if self._sampler is not None:
            self._sampler.cancel()
        self.process.terminate()
        _, err = await asyncio.wait_for(self.process.communicate(), 60)
        return err.decode()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_photos(count: int) -> list[tuple[list[tuple[bytes, int, int]], str]]:
    """``count`` distinct phone photos of single MNIST test digits, in Telegram's sizes."""
    with np.load(ROOT / "tests" / "data" / "mnist_subset.npz") as data:
        x, y = data["x_test"], data["y_test"]
    out = []
    for i in range(count):
        out.append((photos.telegram_sizes(photos.photo([x[i]], seed=i)), str(int(y[i]))))
    return out


async def run_load(
    bot: BotProcess,
    standin: BotApiStandIn,
    name: str,
    pool: list[tuple[list[tuple[bytes, int, int]], str]],
    users: int,
    per_user: int,
    rate: float | None,
    first_user: int,
) -> RunResult:
    total = users * per_user
    sent: list[tuple[int, str]] = []
    bot_cpu, own_cpu = bot.cpu_seconds(), time.process_time()
    started = time.monotonic()
    for i in range(total):
        if rate:
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        sizes, label = pool[i % len(pool)]
        message = standin.send_photo(first_user + i % users, sizes)
        sent.append((message["message_id"], label))
    ids = {m for m, _ in sent}

    def done() -> bool:
        return sum(1 for s in standin.sent if s.reply_to in ids) >= total

    try:
        await standin.wait_for(done, timeout=180)
    except TimeoutError:
        print(f"  {name}: timed out waiting for replies", file=sys.stderr)
    replies = {s.reply_to: s for s in standin.sent if s.reply_to in ids}
    latencies = [replies[m].at - standin.pushed_at[m] for m, _ in sent if m in replies]
    correct = sum(1 for m, label in sent if m in replies and (replies[m].text or "").startswith(f"{label} ("))
    last = max((r.at for r in replies.values()), default=time.monotonic())
    return RunResult(
        name=name,
        bot_cpu=bot.cpu_seconds() - bot_cpu,
        own_cpu=time.process_time() - own_cpu,
        sent=total,
        answered=len(replies),
        quoted=sum(1 for m, _ in sent if m in replies and replies[m].reply_to == m),
        correct=correct,
        latencies=latencies,
        seconds=max(1e-9, last - started),
    )


async def session(
    args: argparse.Namespace, pool: list[tuple[list[tuple[bytes, int, int]], str]], flood_limit: bool
) -> None:
    extra = {} if flood_limit else {"DIGITBOT_OUTGOING_PER_SECOND": "0"}
    async with BotApiStandIn() as standin:
        with tempfile.TemporaryDirectory(prefix="digitbot-bench-") as tmp:
            bot = BotProcess(standin, Path(tmp), extra)
            # The first photo waits at the stand-in before the bot even starts.
            first = standin.send_photo(1, pool[0][0])
            await bot.start()
            try:
                reply = await standin.reply_to(first, timeout=60)
                first_reply = reply.at - bot.started_at
                results = []
                if flood_limit:
                    print(f"  first reply {first_reply:.2f} s after starting the bot process")
                    results.append(
                        await run_load(
                            bot,
                            standin,
                            f"{args.rate:g} photos/s",
                            pool,
                            args.users,
                            args.photos,
                            args.rate,
                            1000,
                        )
                    )
                    print("  " + results[-1].report())
                name = "all at once" + ("" if flood_limit else " (no flood limit)")
                results.append(await run_load(bot, standin, name, pool, args.users, args.photos, None, 5000))
                print("  " + results[-1].report())
                print(f"  bot peak RSS {bot.peak_rss_mb():.0f} MB")
            finally:
                stderr = await bot.stop()
            errors = [line for line in stderr.splitlines() if " ERROR " in line or "Traceback" in line]
            if errors:
                print(f"  bot logged {len(errors)} errors, first: {errors[0]}")


ADMIN = 99  # the admin's user id in the retrain session
FINAL = ("✅", "❌", "⚠️", "⏹")  # how a retrain's last message begins


async def job_pid(db: Path, timeout: float = 60) -> int:
    """The pid of the retrain job the bot started (from its retrain_jobs table)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db) as connection:
                row = connection.execute("SELECT pid FROM retrain_jobs WHERE status = 'running'").fetchone()
            if row and row[0]:
                return int(row[0])
        except sqlite3.Error:
            pass  # not created yet
        await asyncio.sleep(0.2)
    raise TimeoutError("the bot started no retrain job")


async def retrain_session(
    args: argparse.Namespace, pool: list[tuple[list[tuple[bytes, int, int]], str]]
) -> None:
    """Paced runs with no retrain, then rounds of [job stopped (SIGSTOP), job training]: the
    two kinds alternate so that the machine's other load drifts over both alike."""
    async with BotApiStandIn() as standin:
        with tempfile.TemporaryDirectory(prefix="digitbot-bench-") as tmp:
            extra = {
                "DIGITBOT_DATA_DIR": tmp,
                "DIGITBOT_ADMIN_IDS": str(ADMIN),
                "DIGITBOT_MNIST": args.mnist,
                "DIGITBOT_RETRAIN_EPOCHS": str(args.retrain_epochs),
                "DIGITBOT_RETRAIN_LIMIT": str(args.retrain_limit),
                "DIGITBOT_RETRAIN_TEST_LIMIT": str(args.retrain_test_limit),
            }
            bot = BotProcess(standin, Path(tmp), extra)
            first = standin.send_photo(1, pool[0][0])
            await bot.start()
            runs = iter(range(10_000, 10_000_000, 10_000))  # fresh user ids: no rate limit

            async def load(name: str) -> RunResult:
                result = await run_load(
                    bot, standin, name, pool, args.users, args.photos, args.rate, next(runs)
                )
                print("  " + result.report())
                return result

            try:
                await standin.reply_to(first, timeout=60)
                idle = [await load("no retrain")]
                started = time.monotonic()
                progress = await standin.reply_to(standin.send_text(ADMIN, "/retrain"), timeout=30)
                pid = await job_pid(Path(tmp) / "digitbot.sqlite3")
                # Past TensorFlow's start-up and the data loading: training proper.
                while cpu_seconds(pid) < args.retrain_warmup_cpu:  # noqa: ASYNC110 (polling /proc)
                    await asyncio.sleep(0.5)
                print(f"  retrain job (pid {pid}) training after {time.monotonic() - started:.0f} s")
                during: list[RunResult] = []
                job_cpu = 0.0
                for _ in range(args.rounds):
                    os.kill(pid, signal.SIGSTOP)
                    try:
                        idle.append(await load("retrain job stopped"))
                    finally:
                        os.kill(pid, signal.SIGCONT)
                    before = cpu_seconds(pid)
                    during.append(await load("retrain job training"))
                    job_cpu += cpu_seconds(pid) - before
                busy = sum(r.seconds for r in during)
                print(f"  the job used {job_cpu:.1f} s of CPU while training ({job_cpu / busy:.2f} cores)")
                idle_ms, during_ms = pooled_p95(idle) * 1000, pooled_p95(during) * 1000
                print(f"  p95 without the job training {idle_ms:.0f} ms, with it {during_ms:.0f} ms "
                      f"({sum(len(r.latencies) for r in idle)} and "
                      f"{sum(len(r.latencies) for r in during)} photos)")  # fmt: skip

                def text() -> str:
                    return standin.current[progress.message_id].text or ""

                if args.retrain_to_end:
                    await standin.wait_for(lambda: text().startswith(FINAL), timeout=6 * 3600)
                    print(f"  retrain finished {time.monotonic() - started:.0f} s after /retrain:")
                    print("    " + text().replace("\n", "\n    "))
                else:
                    await standin.wait_for(lambda: "Epoch 1/" in text() or text().startswith(FINAL), 3600)
                    status = text().splitlines()[1:2] or [text()]
                    print(f"  {time.monotonic() - started:.0f} s after /retrain: {status[0]}")
                    print(f"  the job had used {cpu_seconds(pid):.0f} s of CPU by then")
                    await standin.reply_to(standin.send_text(ADMIN, "/retrain cancel"), timeout=30)
                    await standin.wait_for(lambda: text().startswith(FINAL), timeout=60)
            finally:
                stderr = await bot.stop()
            errors = [line for line in stderr.splitlines() if " ERROR " in line or "Traceback" in line]
            if errors:
                print(f"  bot logged {len(errors)} errors, first: {errors[0]}")


def pooled_p95(results: list[RunResult]) -> float:
    lat = sorted(x for r in results for x in r.latencies) or [float("nan")]
    return lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--photos", type=int, default=10, help="photos per user")
    parser.add_argument("--rate", type=float, default=25.0, help="photos per second in the paced run")
    parser.add_argument("--distinct", type=int, default=40, help="distinct photos to cycle through")
    parser.add_argument("--during-retrain", action="store_true", help="latency idle vs during a /retrain")
    parser.add_argument(
        "--mnist",
        default=os.environ.get("DIGITBOT_MNIST") or str(ROOT / "tests" / "data" / "mnist_subset.npz"),
        help="MNIST npz the retrain trains on (default $DIGITBOT_MNIST, else the test subset)",
        type=lambda text: str(Path(text).resolve()),  # the bot runs in another folder
    )
    parser.add_argument("--retrain-epochs", type=int, default=10)
    parser.add_argument("--retrain-limit", type=int, default=0, help="MNIST training digits (0: all)")
    parser.add_argument("--retrain-test-limit", type=int, default=0, help="MNIST test digits (0: all)")
    parser.add_argument("--rounds", type=int, default=3, help="job stopped / job training rounds")
    parser.add_argument("--retrain-to-end", action="store_true", help="let the retrain finish")
    parser.add_argument(
        "--retrain-warmup-cpu", type=float, default=20.0, help="job CPU seconds before measuring (start-up)"
    )
    args = parser.parse_args()

    print(f"model {default_model_path()}  cores {os.cpu_count()}  load average {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    pool = make_photos(args.distinct)
    print(f"rendered {len(pool)} phone photos (1280x960, offered as 90/320/800/1280 px) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    if args.during_retrain:
        print(f"reply latency at {args.rate:g} photos/s, idle and during a /retrain "
              f"({args.retrain_epochs} epochs, MNIST {args.mnist}):")  # fmt: skip
        await retrain_session(args, pool)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return 0
    print("with Telegram's flood limit (30 messages/s):")
    await session(args, pool, flood_limit=True)
    print("without the outgoing flood limit:")
    await session(args, pool, flood_limit=False)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
