"""Masking happens where every log record is made, so no handler or formatter can undo it."""

from __future__ import annotations

import io
import logging

import pytest

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


def test_a_partner_invitation_link_is_masked_in_every_record() -> None:
    """PTB at DEBUG logs whole updates and requests: a partner's invitation link in them
    would let whoever reads the log link themselves as the partner."""
    protect(TOKEN)
    invite = "ptn_" + "Ab9_-xYz0123456789abcd"
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(_OwnTraceback())
    logger = logging.getLogger("tests.unit.redact.invite")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("update %s", {"message": {"text": f"/start {invite}"}})
        logger.debug("sent: https://t.me/buddy_bot?start=%s", invite)
        try:
            raise ValueError(f"bad link {invite}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert invite[4:] not in text
    assert text.count(f"ptn_{MASK}") == 3  # the update, the URL, the error in the traceback
    assert redact(f"/start {invite}") == f"/start ptn_{MASK}"


def test_a_handler_that_cannot_write_prints_no_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A handler whose stream is closed fails to emit. Logging would then print the
    exception being handled at the time, the one with the URL, to stderr: not any more."""
    protect(TOKEN)
    closed = io.StringIO()
    closed.close()
    handler = logging.StreamHandler(closed)
    logger = logging.getLogger("tests.unit.redact.closed")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ConnectionError(f"GET https://api.telegram.org/bot{TOKEN}/getMe failed")
        except ConnectionError:
            logger.error("request failed")
    finally:
        logger.removeHandler(handler)
    printed = capsys.readouterr()
    assert SECRET not in printed.out + printed.err
