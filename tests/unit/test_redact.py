"""Masking happens where every log record is made, so no handler or formatter can undo it."""

from __future__ import annotations

import io
import logging

from buddybot.redact import MASK, protect, redact

TOKEN = "7000000003:AAFtestSecretPartForTheRedactUnitTest0"
SECRET = TOKEN.split(":", 1)[1]


class _OwnTraceback(logging.Formatter):
    """A formatter that prints the exception itself, as JSON and error-tracking handlers do."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info:
            text += " | " + self.formatException(record.exc_info)
        if record.exc_text:
            text += " | " + record.exc_text
        return text


def test_a_library_logger_with_its_own_handler_prints_no_secret() -> None:
    protect(TOKEN)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(_OwnTraceback())
    logger = logging.getLogger("tests.unit.redact.library")
    logger.propagate = False  # never reaches the root logger's handlers or filters
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("calling %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
        logger.info("encoded: bot7000000003%%3A%s", SECRET)
        logger.warning({"url": f"/bot{TOKEN}/x"})
        try:
            raise ConnectionError(f"redirected to http://elsewhere/bot{TOKEN.upper()}/getMe")
        except ConnectionError:
            logger.exception("request failed")
        logger.error("bad arguments %s %s", TOKEN)
    finally:
        logger.removeHandler(handler)
    printed = out.getvalue()
    assert printed.count(MASK) == 5, printed  # one in each record
    assert SECRET.lower() not in printed.lower()
    assert "request failed" in printed and "ConnectionError" in printed


def test_redact_masks_the_secret_part_and_keeps_the_bot_id() -> None:
    protect(TOKEN)
    assert redact(f"NetworkError('url=/bot{TOKEN}/sendMessage')") == (
        f"NetworkError('url=/bot7000000003:{MASK}/sendMessage')"
    )
