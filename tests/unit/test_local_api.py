"""The benchmarks' in-process Bot API answers every call the bot makes in a shape PTB reads,
so a benchmark that closes a vote or sends a chart measures the bot instead of crashing."""

from __future__ import annotations

from io import BytesIO

from telegram import Bot

from benchmarks.local_api import LocalBotApi
from benchmarks.mix import TOKEN


async def test_polls_photos_and_documents_come_back_as_telegram_would_send_them() -> None:
    async with Bot(TOKEN, request=LocalBotApi()) as bot:
        sent = await bot.send_poll(-100, "Wat eerst?", ["Bankje", "Moestuin"], is_anonymous=False)
        assert sent.poll is not None
        assert [o.text for o in sent.poll.options] == ["Bankje", "Moestuin"]
        assert not sent.poll.is_closed and not sent.poll.is_anonymous

        closed = await bot.stop_poll(-100, sent.message_id)
        assert closed.is_closed and closed.total_voter_count == 0

        photo = await bot.send_photo(-100, BytesIO(b"png"), caption="Wijkfoto")
        assert photo.photo and photo.caption == "Wijkfoto"

        doc = await bot.send_document(-100, BytesIO(b"ics"), filename="avond.ics")
        assert doc.document is not None

        edited = await bot.edit_message_text("Nieuw", chat_id=-100, message_id=sent.message_id)
        assert not isinstance(edited, bool) and edited.message_id == sent.message_id
        assert await bot.answer_callback_query("q1") is True
