"""The bot's settings: the environment, then a ``.env`` file, then the defaults.

The variable names are a contract (``.env.example`` and ``docs/bot.md`` document each one).
``load_settings`` reads but never changes ``os.environ``: the environment wins over ``.env``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from classifier.data import ENV_VAR as MNIST_ENV
from classifier.serving import MODEL_ENV, SHIPPED_MODELS

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_DATA_DIR = Path("data")
DB_FILE = "digitbot.sqlite3"
MODELS_FOLDER = "models"  # under the data dir: retrained versions (classifier.model_store)
JOBS_FOLDER = "retrain"  # under the data dir: one temporary folder per running retrain
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# A token from BotFather: "<bot id>:<secret>".
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
# What Telegram accepts as a webhook secret token.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

MISSING_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set: talk to @BotFather in Telegram (/newbot) to get a token, "
    "then put it in .env (see .env.example) or the environment"
)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    file_url: str = DEFAULT_FILE_URL
    admin_ids: frozenset[int] = frozenset()
    model_path: Path = SHIPPED_MODELS
    data_dir: Path = DEFAULT_DATA_DIR
    db_path: Path = DEFAULT_DATA_DIR / DB_FILE
    log_level: str = "INFO"
    # Webhook mode (polling when webhook_url is None).
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_path: str = ""
    webhook_secret: str | None = field(default=None, repr=False)
    # Limits.
    photos_per_minute: int = 30
    max_in_flight: int = 16
    max_in_flight_per_user: int = 3
    max_queued: int = 1000
    outgoing_per_second: float = 30.0
    download_timeout: float = 20.0
    # Work.
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    batch_wait_ms: float = 5.0
    max_batch: int = 64
    retention_days: float = 30.0
    # The admin /retrain (a separate, low-priority TensorFlow process: classifier.retrain).
    mnist_path: Path | None = None  # None: Keras's own download (cached in ~/.keras)
    retrain_epochs: int = 10
    retrain_limit: int = 0  # train on the first N MNIST training digits; 0: all 60,000
    retrain_test_limit: int = 0  # gate on the first N MNIST test digits; 0: all 10,000
    retrain_gate_photos: int = 20  # ... and on digits read from N photos per style rendered from them
    retrain_threads: int = 1
    retrain_nice: int = 10

    @property
    def webhook(self) -> bool:
        return self.webhook_url is not None

    @property
    def models_dir(self) -> Path:
        """The ModelStore root: retrained versions and the pointer to the served one."""
        return self.data_dir / MODELS_FOLDER

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / JOBS_FOLDER

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be logged."""
        return tuple(s for s in (self.token, self.webhook_secret) if s)

    @property
    def concurrent_updates(self) -> int:
        """PTB's bound on updates handled at once: every queued photo fits, and commands and
        button presses always find a free slot on top."""
        return self.max_queued + self.max_in_flight + 64


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Settings from ``environ`` (default ``os.environ``) over ``env_file`` (if it exists)."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return _parse(values)


def _parse(env: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    token = get("TELEGRAM_BOT_TOKEN")
    if token is None:
        raise ConfigError(MISSING_TOKEN)
    if not _TOKEN.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN does not look like a token from @BotFather (expected <digits>:<secret>)"
        )

    data_dir = Path(get("DIGITBOT_DATA_DIR") or DEFAULT_DATA_DIR)
    webhook_url = get("DIGITBOT_WEBHOOK_URL")
    webhook_secret = get("DIGITBOT_WEBHOOK_SECRET")
    webhook_path = get("DIGITBOT_WEBHOOK_PATH")
    if webhook_url is not None:
        parts = urlsplit(webhook_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"DIGITBOT_WEBHOOK_URL must be an https:// URL, not {webhook_url!r}")
        if webhook_secret is None:
            raise ConfigError(
                "DIGITBOT_WEBHOOK_SECRET is required in webhook mode "
                "(1-256 characters: letters, digits, _ and -)"
            )
        if webhook_path is None:
            webhook_path = parts.path
    if webhook_secret is not None and not _WEBHOOK_SECRET.match(webhook_secret):
        raise ConfigError("DIGITBOT_WEBHOOK_SECRET may only hold 1-256 letters, digits, _ and -")

    log_level = (get("DIGITBOT_LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"DIGITBOT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")

    defaults = Settings(token=token)
    return Settings(
        token=token,
        api_url=get("TELEGRAM_API_URL") or DEFAULT_API_URL,
        file_url=get("TELEGRAM_FILE_URL") or DEFAULT_FILE_URL,
        admin_ids=_admin_ids(get("DIGITBOT_ADMIN_IDS")),
        model_path=Path(get(MODEL_ENV) or SHIPPED_MODELS),
        data_dir=data_dir,
        db_path=Path(get("DIGITBOT_DB") or data_dir / DB_FILE),
        log_level=log_level,
        webhook_url=webhook_url,
        webhook_listen=get("DIGITBOT_WEBHOOK_LISTEN") or defaults.webhook_listen,
        webhook_port=_int(env, "DIGITBOT_WEBHOOK_PORT", defaults.webhook_port, low=1, high=65535),
        webhook_path=(webhook_path or "").lstrip("/"),
        webhook_secret=webhook_secret,
        photos_per_minute=_int(env, "DIGITBOT_PHOTOS_PER_MINUTE", defaults.photos_per_minute, low=1),
        max_in_flight=_int(env, "DIGITBOT_MAX_IN_FLIGHT", defaults.max_in_flight, low=1),
        max_in_flight_per_user=_int(
            env, "DIGITBOT_MAX_IN_FLIGHT_PER_USER", defaults.max_in_flight_per_user, low=1
        ),
        max_queued=_int(env, "DIGITBOT_MAX_QUEUED", defaults.max_queued, low=0),
        outgoing_per_second=_float(env, "DIGITBOT_OUTGOING_PER_SECOND", defaults.outgoing_per_second, low=0),
        download_timeout=_float(env, "DIGITBOT_DOWNLOAD_TIMEOUT", defaults.download_timeout, low=0.1),
        workers=_int(env, "DIGITBOT_WORKERS", defaults.workers, low=1),
        batch_wait_ms=_float(env, "DIGITBOT_BATCH_WAIT_MS", defaults.batch_wait_ms, low=0),
        max_batch=_int(env, "DIGITBOT_MAX_BATCH", defaults.max_batch, low=1),
        retention_days=_float(env, "DIGITBOT_RETENTION_DAYS", defaults.retention_days, low=0),
        mnist_path=Path(mnist) if (mnist := get(MNIST_ENV)) else None,
        retrain_epochs=_int(env, "DIGITBOT_RETRAIN_EPOCHS", defaults.retrain_epochs, low=1, high=1000),
        retrain_limit=_int(env, "DIGITBOT_RETRAIN_LIMIT", defaults.retrain_limit, low=0),
        retrain_test_limit=_int(env, "DIGITBOT_RETRAIN_TEST_LIMIT", defaults.retrain_test_limit, low=0),
        retrain_gate_photos=_int(
            env, "DIGITBOT_RETRAIN_GATE_PHOTOS", defaults.retrain_gate_photos, low=0, high=1000
        ),
        retrain_threads=_int(env, "DIGITBOT_RETRAIN_THREADS", defaults.retrain_threads, low=1, high=64),
        retrain_nice=_int(env, "DIGITBOT_RETRAIN_NICE", defaults.retrain_nice, low=0, high=19),
    )


def _admin_ids(text: str | None) -> frozenset[int]:
    if not text:
        return frozenset()
    ids = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d+", part):
            raise ConfigError(
                f"DIGITBOT_ADMIN_IDS holds numeric Telegram user ids separated by commas, not {part!r}"
            )
        ids.add(int(part))
    return frozenset(ids)


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {text!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} must be {bound}, not {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, low: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if not value >= low:
        raise ConfigError(f"{name} must be at least {low:g}, not {text}")
    return value
