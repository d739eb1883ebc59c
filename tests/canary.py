"""Canary secrets: tests register every secret they create, and a suite-wide log handler fails
the run if any registered secret ever reaches a log record (message, arguments or exception
text). Dedicated tests also scan stdout, metrics, problem bodies and audit records."""

from __future__ import annotations

import logging
import secrets
import traceback

_registered: set[str] = set()
leaks: list[str] = []


def new(prefix: str = "canary") -> str:
    """A fresh secret value, registered as a canary."""
    value = f"{prefix}-{secrets.token_hex(12)}"
    register(value)
    return value


def register(value: str) -> None:
    if len(value) >= 8:  # shorter values would match by accident
        _registered.add(value)


def found_in(text: str) -> list[str]:
    return [value for value in _registered if value in text]


class LeakWatcher(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is not our concern here
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += "".join(traceback.format_exception(record.exc_info[1]))
        for value in found_in(text):
            leaks.append(f"{record.name}: a registered secret reached a log record ({value[:6]}…)")
