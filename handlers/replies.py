"""Replies to the bot's own questions (a ForceReply prompt), dispatched by kind through the
steps ``buddybot.app`` hands in (prompt kind -> step).

A step runs inside the update's one unit of work (``turn.run``): it is
synchronous, awaits nothing and does not touch the update. It returns what to send after
the commit (or None). A reply to no question of this person is talk about an idea card.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram import ForceReply, Message

from buddybot.domain.plain_text import plain
from buddybot.handlers.common import Callback, Turn, command
from buddybot.handlers.privacy import remember_named
from buddybot.i18n import Html
from buddybot.services import ideas, prompts
from buddybot.services.people import Caller
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Prompt

After = Callable[[], Awaitable[None]]
Step = Callable[[Turn, UnitOfWork, Caller, Prompt, str], After | None]


async def ask(turn: Turn, caller: Caller, message_id: int, kind: str, **payload: object) -> None:
    """Remember that the bot's message ``message_id`` asks ``caller`` a ``kind`` question."""
    if caller.person is None or turn.chat is None:
        return
    chat_id, person_id = turn.chat.tg_chat_id, caller.person.id
    wijk_id = caller.wijk.id if caller.wijk else None
    await turn.deps.db.run(
        lambda uow: prompts.ask(
            uow,
            tg_chat_id=chat_id,
            message_id=message_id,
            person_id=person_id,
            wijk_id=wijk_id,
            kind=kind,
            payload=dict(payload),
        )
    )


async def put_question(
    turn: Turn, question: Html, *, placeholder: str | None = None
) -> Message | None:
    """Send a dialogue's question with a reply box for the person asked only. The box is a
    selective ForceReply, which Telegram shows to the sender of the message it replies to
    and to the people it mentions: a typed message is quoted; after a button press (the
    pressed message is the bot's own) the question mentions the one who pressed."""
    markup = ForceReply(selective=True, input_field_placeholder=placeholder)
    user, query = turn.update.effective_user, turn.update.callback_query
    if query is None or user is None or not turn.in_group or turn.chat is None:
        return await turn.reply(question, markup=markup)
    mention = Html(user.mention_html(plain(user.first_name)))
    text = turn.t("dialogue.for", name=mention, question=question)
    pressed = turn.update.effective_message
    if pressed is not None:  # in the pressed message's chat and forum topic, not quoting it
        msg = await pressed.reply_text(text, reply_markup=markup, do_quote=False)
    else:
        msg = await turn.context.bot.send_message(turn.chat.tg_chat_id, text, reply_markup=markup)
    await remember_named(turn.deps, user.id, msg, "question")
    return msg


def answers(steps: Mapping[str, Step]) -> Callback:
    """The handler for replies: an answer to an open question of this person goes to the
    step of its kind; any other reply is talk about an idea card."""
    kinds = list(steps)

    @command
    async def reply(turn: Turn) -> None:
        msg = turn.update.effective_message
        assert msg is not None and msg.reply_to_message is not None
        if turn.actor is None or turn.chat is None:
            return
        # Only an answer to the bot's own question may need facilitator rights (on-behalf
        # ideas, the meeting dialogue); other replies are just talk and cost no admin lookup.
        replied = msg.reply_to_message.from_user
        to_bot = replied is not None and replied.id == turn.context.bot.id
        chat_id, question = turn.chat.tg_chat_id, msg.reply_to_message.message_id
        text = (msg.text or msg.caption or "").strip()

        def work(uow: UnitOfWork, caller: Caller) -> After | None:
            if caller.person is None and not caller.authority.anonymous_admin:
                # Someone who was forgotten and only talks: nothing of theirs is open.
                ideas.replied_to_card(uow, caller, chat_id, question)
                return None
            prompt = prompts.take(
                uow,
                tg_chat_id=chat_id,
                message_id=question,
                person_id=caller.person.id if caller.person else None,
                kind=kinds,
            )
            if prompt is None:
                ideas.replied_to_card(uow, caller, chat_id, question)
                return None
            return steps[prompt.kind](turn, uow, caller, prompt, text)

        # A reply is talk: it stores nobody who asked to be forgotten (an open question of
        # theirs would have kept them stored).
        after = await turn.run(work, need_admin=to_bot, remember=False)
        if after is not None:
            await after()

    return reply


SKIP = {"-", "—"}
Check = Callable[[UnitOfWork, Caller, str, str], None]
Finish = Callable[[Turn, UnitOfWork, Caller, dict[str, str]], After]


class Form:
    """A guided dialogue: one question per field, each a reply prompt; the answers collect
    in the prompt's payload. ``check`` refuses a bad answer (the same question stays open);
    ``finish`` runs in the last answer's unit of work and returns what to send after it.
    Both are synchronous steps (see ``Step``)."""

    def __init__(self, name: str, questions: dict[str, str], check: Check, finish: Finish) -> None:
        self.name = name
        self.questions = questions  # field -> text key of the question
        self.fields = list(questions)
        self.check = check
        self.finish = finish

    @property
    def steps(self) -> dict[str, Step]:
        """Prompt kind -> step, one per question."""
        return {f"{self.name}.{field}": self._answer(field) for field in self.fields}

    async def start(self, turn: Turn, caller: Caller) -> None:
        await self._ask(turn, caller, self.fields[0], {})

    async def _ask(self, turn: Turn, caller: Caller, field: str, payload: dict[str, str]) -> None:
        msg = await put_question(turn, turn.t(self.questions[field]))
        if msg is not None:
            await ask(turn, caller, msg.message_id, f"{self.name}.{field}", **payload)

    def _answer(self, field: str) -> Step:
        position = self.fields.index(field)
        following = self.fields[position + 1] if position + 1 < len(self.fields) else None

        def answer(
            turn: Turn, uow: UnitOfWork, caller: Caller, prompt: Prompt, text: str
        ) -> After | None:
            payload = {k: str(v) for k, v in prompt.payload.items()}
            payload[field] = "" if text.strip() in SKIP else text
            self.check(uow, caller, field, payload[field])
            if following is None:
                return self.finish(turn, uow, caller, payload)

            async def next_question() -> None:
                await self._ask(turn, caller, following, payload)

            return next_question

        return answer
