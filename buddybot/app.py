"""The bot, assembled: every handler in order, the tick and what it delivers, start and stop.

This module wires ``buddybot.handlers`` into PTB's Application; nothing else registers a
handler, a job or a deliverer. Services, scheduling, storage and ``buddybot.bot`` never
import the handlers.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Awaitable, Callable
from functools import partial
from zoneinfo import ZoneInfo

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    JobQueue,
    MessageHandler,
    PollAnswerHandler,
    PollHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from buddybot import redact
from buddybot.bot import redelivery
from buddybot.bot.context import BotApp, BotContext, BotData
from buddybot.bot.http import AiohttpRequest
from buddybot.bot.live import LiveMessages
from buddybot.bot.processor import ChatOrderedProcessor
from buddybot.bot.runtime import Deps
from buddybot.bot.shares import SharedRateLimiter
from buddybot.handlers import (
    announcements,
    basics,
    command_words,
    commands,
    errors,
    flood,
    ideas,
    meetings,
    membership,
    notices,
    nudges,
    partners,
    polls,
    privacy,
    replies,
    wijkfoto,
)
from buddybot.handlers.callbacks import Button, pattern
from buddybot.handlers.common import Callback
from buddybot.scheduling import due
from buddybot.scheduling import nudges as nudging
from buddybot.scheduling import tick as due_tick
from buddybot.services import retention
from buddybot.services.announcements import ANNOUNCEMENT, DIGEST
from buddybot.services.meetings import FOLLOWUP, REMINDER
from buddybot.services.polls import CLOSE as POLL_CLOSE
from buddybot.services.polls import RESULT as POLL_RESULT
from buddybot.settings import Settings
from buddybot.storage.models import DueItem

log = logging.getLogger(__name__)

# Explicit, because Telegram remembers the last list: chat_member must be asked for.
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
]

# PTB 22.2+ deprecates int retry_after; opt in to timedelta (checklist §1).
os.environ.setdefault("PTB_TIMEDELTA", "1")

Deliverer = Callable[[Bot, Deps, DueItem], Awaitable[due.Status]]

# Commands (Dutch name, English alias) -> handler; not for edited messages.
COMMANDS: list[tuple[list[str], Callback]] = [
    (["facilitator", "appoint"], membership.appoint_facilitator),
    (["buddy"], membership.appoint_buddy),
    (["start"], basics.start),
    (["hulp", "help"], basics.help_),
    (["wie", "who"], basics.who),
    (["taal", "language"], basics.language),
    (["idee", "idea"], ideas.idea),
    (["ideeen", "ideas"], ideas.list_ideas),
    (["toon", "show"], ideas.show),
    (["steun", "support"], ideas.support),
    (["meedoen", "join"], ideas.join),
    (["kampioen", "champion"], ideas.champion),
    (["bijwerken", "update"], ideas.progress),
    (["status", "setstatus"], ideas.set_status),
    (["verberg", "hide"], ideas.hide),
    (["herstel", "restore"], ideas.restore),
    (["thema", "themes"], ideas.set_themes),
    (["bijeenkomst", "meeting"], meetings.announce_meeting),
    (["bijeenkomsten", "meetings"], meetings.list_meetings),
    (["verzetten", "reschedule"], meetings.reschedule),
    (["afzeggen", "cancelmeeting"], meetings.cancel),
    (["aankondiging", "announce"], announcements.announce),
    (["stemming", "poll"], polls.start_poll),
    (["sluitstemming", "closepoll"], polls.close_poll),
    (["partner", "addpartner"], partners.partner),
    (["alliantie", "partners"], partners.alliance),
    (["koppel", "link"], partners.link),
    (["instellingen", "settings"], nudges.settings_command),
    (["profiel", "profile"], wijkfoto.profile),
    (["wijkfoto", "report"], wijkfoto.report),
    (["export"], wijkfoto.export_zip),
    (["mijngegevens", "mydata"], privacy.my_data),
    (["vergeetmij", "forgetme"], privacy.forget_me),
    (["privacy"], privacy.privacy_info),
    (["wijkwissen", "purge"], privacy.purge),
]

# Buttons: the kind of button pressed (``callbacks.Button``) -> handler.
BUTTONS: list[tuple[Button, Callback]] = [
    (Button.CHOOSE_LANGUAGE, basics.language_button),
    (Button.SHOW_MY_NAME, basics.name_button),
    (Button.CONTACT_OK, basics.contact_button),
    (Button.SUPPORT, ideas.support_button),
    (Button.JOIN, ideas.join_button),
    (Button.CHAMPION, ideas.champion_button),
    (Button.CONFIRM_CHAMPION, ideas.confirm_champion_button),
    (Button.NEWS_APPROVE, ideas.news_approve_button),
    (Button.NEWS_REJECT, ideas.news_reject_button),
    (Button.STATUS_MENU, ideas.status_menu_button),
    (Button.STATUS_BACK, ideas.status_back_button),
    (Button.SET_STATUS, ideas.status_set_button),
    (Button.IDEAS_PAGE, ideas.page_button),
    (Button.SHOW_IDEA, ideas.show_button),
    (Button.SUPPORT_SIMILAR, ideas.similar_support_button),
    (Button.PROPOSE_ANYWAY, ideas.similar_new_button),
    (Button.MEETING_DRAFT_OK, meetings.draft_ok),
    (Button.MEETING_DRAFT_CHANGE, meetings.draft_change),
    (Button.MEETING_TEXT, meetings.other_channels),
    (Button.RSVP, meetings.rsvp_button),
    (Button.CALENDAR_FILE, meetings.calendar_button),
    (Button.ADD_IDEA, meetings.add_idea_button),
    (Button.CANCEL_ANNOUNCEMENT, announcements.cancel_button),
    (Button.ANNOUNCEMENT_TEXT, announcements.text_button),
    (Button.POLL_CONFIRM, polls.confirm_button),
    (Button.POLL_DISCARD, polls.discard_button),
    (Button.REMOVE_PARTNER, partners.remove_button),
    (Button.PARTNER_MATCHES, partners.matches_button),
    (Button.LINK_PARTNER, partners.link_button),
    (Button.PARTNER_INVITE, partners.invite_button),
    (Button.PARK_IDEA, nudges.park_button),
    (Button.STOP_NUDGES, nudges.stop_button),
    (Button.PLAN_MEETING, nudges.meeting_button),
    (Button.WIJKFOTO_OF, wijkfoto.pick),
    (Button.FORGET_ME_YES, privacy.forget_yes),
    (Button.FORGET_ME_NO, privacy.forget_no),
    (Button.PURGE_ASK, privacy.purge_first),
    (Button.PURGE_CONFIRM, privacy.purge_second),
]

# Due-item kind -> what delivers it (the tick claims the items, see ``run_tick``).
DELIVERERS: dict[str, Deliverer] = {
    notices.KIND: notices.deliver,
    REMINDER: meetings.deliver_reminder,
    FOLLOWUP: meetings.deliver_followup,
    ANNOUNCEMENT: announcements.deliver_announcement,
    DIGEST: announcements.deliver_digest,
    POLL_CLOSE: polls.deliver_close,
    POLL_RESULT: polls.deliver_result,
}

# Answers to the bot's own questions (ForceReply prompts): prompt kind -> step.
REPLY_STEPS: dict[str, replies.Step] = {
    "idea": ideas.idea_reply,
    **meetings.FORM.steps,
    **partners.FORM.steps,
}

# Messages the bot keeps up to date: kind -> how it looks now.
LIVE_MESSAGES = {"idea": ideas.render_card, "meeting": meetings.render}

MESSAGES = filters.UpdateType.MESSAGE  # not edited messages: an edit must not run a command
REPLIES = MESSAGES & filters.REPLY & ~filters.COMMAND & ~filters.StatusUpdate.ALL
GROUP_TALK = filters.ChatType.GROUPS & MESSAGES & ~filters.COMMAND & ~filters.StatusUpdate.ALL


def build_application(deps: Deps, *, request: BaseRequest | None = None) -> BotApp:
    """The bot. ``request`` replaces the HTTP client (benchmarks answer the Bot API locally)."""
    s = deps.settings
    if s.token is None:
        raise ValueError("no bot token")
    # Before PTB logs its first URL: the token and the secret stay out of every log line.
    redact.protect(
        s.token.get_secret_value(),
        s.webhook_secret.get_secret_value() if s.webhook_secret else None,
    )
    builder = ApplicationBuilder()
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(pool_size=2, read_timeout=10)  # PTB adds the poll timeout
        )
    app = (
        builder.token(s.token.get_secret_value())
        .base_url(s.api_base_url)
        .base_file_url(s.api_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=ZoneInfo(s.timezone),
                allow_sending_without_reply=True,
            )
        )
        .rate_limiter(SharedRateLimiter(rate_limiter(s), deps.shares))
        .concurrent_updates(ChatOrderedProcessor(s.concurrent_updates))
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .job_queue(JobQueue[BotContext]())
        .build()
    )
    app.bot_data.deps = deps
    app.bot_data.live = LiveMessages(deps, LIVE_MESSAGES)
    add_handlers(app, deps)
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        tick,
        interval=s.tick_seconds,
        first=s.tick_seconds,  # deterministic in tests; a restart catches up at the first tick
        name="tick",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    app.job_queue.run_repeating(
        prune,
        interval=s.prune_every,
        first=s.tick_seconds,  # soon after start: a bot that restarts often still prunes
        name="prune",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    return app


def add_handlers(app: BotApp, deps: Deps) -> None:
    """Every handler. PTB tries them in order and the first that matches an update wins:
    commands and buttons never compete (each name and kind once), replies to questions come
    before ordinary group talk, and the button nobody knows comes last."""
    # Before everything else (group -1): one person hammering the bot, or using up their
    # share of a group's messages (bot.shares), is stopped here.
    guard = flood.FloodGuard(deps.settings.person_actions_per_minute)
    app.add_handler(TypeHandler(Update, partial(flood.guard, guard)), group=-1)

    app.add_handler(ChatMemberHandler(membership.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(ChatMemberHandler(membership.member_change, ChatMemberHandler.CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, membership.migrated))
    app.add_handler(MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, membership.member_gone))
    # First the commands CommandHandler would misread (``/ideeën``, a photo's caption).
    for names, command in COMMANDS:
        app.add_handler(command_words.TypedCommandHandler(names, command, MESSAGES))
    for names, command in COMMANDS:
        app.add_handler(CommandHandler(names, command, filters=MESSAGES))
    for kind, on_press in BUTTONS:
        app.add_handler(CallbackQueryHandler(on_press, pattern=pattern(kind)))
    app.add_handler(PollAnswerHandler(polls.poll_answer))
    app.add_handler(PollHandler(polls.poll_update))
    app.add_handler(MessageHandler(REPLIES, replies.answers(REPLY_STEPS)))
    app.add_handler(MessageHandler(GROUP_TALK, membership.seen))  # who takes part
    app.add_handler(CallbackQueryHandler(basics.unknown_button))  # old or forged buttons

    # Webhook mode: an update the database could not take is answered 503 and comes again.
    app.add_error_handler(redelivery.note_failure)
    app.add_error_handler(errors.on_error)


async def tick(context: BotContext) -> None:
    """The one repeating job."""
    await run_tick(context.bot, context.deps)


async def run_tick(bot: Bot, deps: Deps) -> int:
    """Due items through ``DELIVERERS``, then the nudge ladder; returns how many due items
    and quiet ideas were claimed."""
    claimed = await due_tick.run(
        deps.db, deps.settings, deliverers(bot, deps), worker=deps.worker, retry=deps.retry
    )
    try:
        claimed += await nudging.run(deps.db, deps.settings, nudges.TelegramNudges(bot, deps))
    except Exception:
        log.exception("the nudge job failed")
    return claimed


async def prune(context: BotContext) -> None:
    """The cleaning job: stale rows go (``services.retention``)."""
    await run_prune(context.deps)


async def run_prune(deps: Deps) -> retention.Pruned:
    s = deps.settings
    keep = retention.Retention(
        prompts=s.prompt_retention,
        due_items=s.due_retention,
        left_members=s.left_member_retention,
        invites=s.invite_retention,
    )
    pruned = await deps.db.run(lambda uow: retention.prune(uow, keep))
    log.info(
        "pruned %s unanswered questions, %s finished due items, %s old memberships, "
        "%s undecided news, %s used or expired partner invitations",
        pruned.prompts,
        pruned.due_items,
        pruned.memberships,
        pruned.held_news,
        pruned.invites,
    )
    return pruned


def deliverers(bot: Bot, deps: Deps) -> dict[str, due_tick.Deliver]:
    """``DELIVERERS`` bound to this bot; a Telegram error is a failed delivery (retried)."""

    def bound(deliver: Deliverer) -> due_tick.Deliver:
        async def run(item: DueItem) -> due.Status:
            try:
                return await deliver(bot, deps, item)
            except TelegramError as exc:
                raise due_tick.DeliveryFailed(repr(exc)) from exc

        return run

    return {kind: bound(deliver) for kind, deliver in DELIVERERS.items()}


# Room for network jitter and event-loop stalls: the message one over the cap leaves at
# least this long after the window that would count it.
PACING_JITTER = 0.05


def rate_limiter(s: Settings) -> AIORateLimiter:
    """PTB's limiter, set so that no window ever holds more than Telegram's cap.

    Telegram counts messages per sliding window (30 in any second, 20 in any minute per
    group; fakegram enforces exactly that). AIORateLimiter is a leaky bucket: ``C`` at once,
    then one every ``1/r``. PTB's default (a bucket of 30, 30 per second) sends up to 59 in
    the first second and is answered with 429, and after a 429 PTB holds back every request
    of the bot. Here message ``cap + 1`` comes ``(cap + 1 − C) / r`` after the first: the
    window plus ``PACING_JITTER``. Overall the bucket holds two (a late wake-up of the event
    loop does not slow the rate: 27.6 a second for a cap of 30); a group may burst half its
    cap (a conversation), the rest spread over the minute.
    """

    def bucket(cap: float, window: float, burst: float) -> dict[str, float]:
        burst = max(1.0, burst)
        rate = (cap + 1 - burst) / (window + PACING_JITTER)
        return {"max_rate": burst, "time_period": burst / rate}

    overall = bucket(s.messages_per_second, 1, min(2, s.messages_per_second // 2))
    group = bucket(s.group_messages_per_minute, 60, s.group_messages_per_minute // 2)
    return AIORateLimiter(
        overall_max_rate=overall["max_rate"],
        overall_time_period=overall["time_period"],
        group_max_rate=group["max_rate"],
        group_time_period=group["time_period"],
        max_retries=s.send_retries,
    )


def tune_gc() -> None:
    """For a long-running bot, once it has started: what start-up built (modules,
    catalogs, mappers) is set aside from the cyclic collector, and collections run less
    often, so that no chat waits while a full collection walks objects that live for good.
    Not for tests, which build many bots in one process: frozen objects are never freed."""
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def processor(app: BotApp) -> ChatOrderedProcessor:
    proc = app.update_processor
    assert isinstance(proc, ChatOrderedProcessor)
    return proc


async def start(app: BotApp, *, polling: bool = True) -> None:
    """Initialize, publish the command menus, start fetching updates (long polling or
    webhook)."""
    deps = app.bot_data.deps
    s = deps.settings
    await app.initialize()
    deps.bot_username = app.bot.username
    await deps.admins.start()
    await commands.publish(app.bot, deps.policy.default_language)
    assert app.updater is not None
    if s.webhook_url:
        await app.start()
        await _start_webhook(app, s.webhook_url, s)
        return
    if polling:
        await app.updater.start_polling(
            timeout=s.poll_timeout,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,  # queued votes and commands must not be lost
        )
    await app.start()


async def _start_webhook(app: BotApp, url: str, s: Settings) -> None:
    # Our own server, not PTB's: it answers Telegram only once the update is handled, which
    # keeps each chat in order when several replicas share the address (see bot.webhook).
    from buddybot.bot.webhook import WebhookServer  # aiohttp: only loaded in webhook mode

    secret = s.webhook_secret.get_secret_value() if s.webhook_secret else None
    server = WebhookServer(
        app, listen=s.listen, port=s.port, path=_webhook_path(url), secret=secret
    )
    await server.start()
    app.bot_data.webhook = server
    await app.bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,  # queued votes and commands must not be lost
        # A push now holds its connection while the update is handled: allow Telegram's most.
        max_connections=100,
    )


async def stop(app: BotApp) -> None:
    """Stop fetching, finish the updates in hand and the edits they started, then close."""
    server, app.bot_data.webhook = app.bot_data.webhook, None
    if server is not None:
        await server.stop()
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    deps = app.bot_data.deps
    await deps.wait_background()
    await deps.admins.stop()
    await app.shutdown()


def _webhook_path(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).path.lstrip("/")
