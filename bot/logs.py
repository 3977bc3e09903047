"""Logging, set up once per process, with secrets redacted from every record.

httpx logs each request URL at INFO, and a Bot API URL carries the token
(``.../bot<token>/getUpdates``, ``.../file/bot<token>/photos/...``); PTB logs it at DEBUG.
Two defences: httpx and httpcore are raised to WARNING (their per-request lines are noise
anyway), and a filter on the one handler rewrites every record that passes through it,
from any logger, message, arguments and traceback alike, so a secret never reaches the output.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import quote

REDACTED = "[REDACTED]"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("httpx", "httpcore", "aiohttp.access", "tornado.access")
_MARK = "_digitbot_handler"


class RedactingFilter(logging.Filter):
    """Replaces each secret (and the secret half of a bot token) with ``[REDACTED]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        parts: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            # As is, and as it appears in a URL (PTB's file URLs encode the token's ":" as %3A).
            parts.update({secret, quote(secret, safe=""), quote(secret)})
            _, _, after_colon = secret.partition(":")
            if len(after_colon) >= 8:
                parts.update({after_colon, quote(after_colon, safe="")})
        # Longest first, so a whole token is replaced before its secret half.
        self._secrets = sorted(parts, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep what there is, redacted
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(level: str, secrets: Iterable[str], stream: TextIO | None = None) -> logging.Handler:
    """One stderr handler on the root logger, replacing any this function installed before."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _MARK, True)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING if level != "DEBUG" else logging.INFO)
    return handler
