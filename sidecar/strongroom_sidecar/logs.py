"""JSON log lines on stderr (stdout carries the audit stream).

Call sites pass only safe values in ``extra={"fields": {...}}``; nothing in this module can tell
a secret from a name, so the rule is kept where logs are written: never a credential, a user
token or an agent key, and exceptions are logged by type and safe message, without tracebacks
from the hot path.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOGGER_NAME = "strongroom.sidecar"


def get(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line["error"] = f"{type(error).__name__}: {error}"[:500]
        return json.dumps(line, default=str)


def configure(level: int = logging.INFO) -> None:
    """Send every ``strongroom`` and ``aiohttp`` log line to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log would print request lines with query strings (which may carry
    # secrets the caller put there); the audit stream is the access log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def now_ms() -> float:
    return time.monotonic() * 1000.0
