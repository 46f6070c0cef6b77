"""Secrets (the bot token, the webhook secret) never reach a log line or a stored error text.

The token is part of every Bot API URL, so it turns up wherever a URL is shown: PTB's debug
lines, the text of a network error, a body a proxy or Telegram answers. Rather than guard
each of those, ``protect`` installs one log record factory. Every record of every logger
(buddybot, telegram, aiohttp, apscheduler, asyncio, ...) is made by it before any handler
or filter sees it, so the masking holds for every handler, formatter and level, including
handlers added later (pytest's, a JSON formatter, Sentry). Error texts the bot stores go
through ``redact`` in the one place that stores them (``scheduling.due.retry``).

A partner invitation's secret (``/start ptn_<22 characters>``, ``handlers.partners``) is
masked the same way: PTB at DEBUG logs whole updates and requests, and whoever reads the log
could otherwise link themselves as the partner.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "[redacted]"

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_pattern: re.Pattern[str] | None = None
_installed = False
_formatter = logging.Formatter()
# The prefix stays readable (what it was); the secret is token_urlsafe(16): 22 characters.
_INVITE = re.compile(r"(ptn_)[A-Za-z0-9_-]{22}")


def protect(*secrets: str | None) -> None:
    """From now on mask these strings in every log record and in ``redact``.

    A bot token ``<bot id>:<secret>`` is masked by its secret part, which also covers the
    token percent-encoded (``%3A``) and leaves the public bot id readable. Matching ignores
    case: PTB lowercases most of an error text Telegram sends ("Bad Request: ...")."""
    global _secrets, _pattern, _installed
    parts = {s.split(":", 1)[1] if ":" in s else s for s in secrets if s}
    parts.discard("")
    with _lock:
        _secrets = _secrets | parts
        if _secrets:
            # Longest first, so a secret inside another is masked whole.
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)
        if not _installed:
            _install()
            _installed = True


def redact(text: str) -> str:
    """``text`` with every protected secret and every partner invitation's secret replaced
    by ``MASK``."""
    if _pattern is not None:
        text = _pattern.sub(MASK, text)
    return _INVITE.sub(rf"\g<1>{MASK}", text) if "ptn_" in text else text


def _install() -> None:
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(factory)
    # A handler that fails to write (a closed stream, a full disk) makes logging print the
    # exception being handled at the time to stderr, unmasked: a Telegram error with the
    # Bot API URL. Logging's documented switch for production turns that printout off.
    logging.raiseExceptions = False


def _scrub(record: logging.LogRecord) -> None:
    """Format the record now, masked: the message with its arguments, the traceback (the
    exception objects are dropped, so no formatter can print them unmasked later), the
    stack."""
    try:
        message = record.getMessage()
    except Exception:  # bad arguments: keep what logging would show for them, masked
        message = f"{record.msg!r} (arguments {record.args!r} do not fit)"
    record.msg, record.args = redact(message), ()
    if record.exc_info:
        record.exc_text = redact(_formatter.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
