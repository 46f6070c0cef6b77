"""All configuration, read from the environment (prefix ``BUDDYBOT_``) and ``.env``.

This is the only module that reads the environment. Durations are seconds or ISO 8601
(``PT2H``, ``P7D``); pydantic parses both into ``timedelta``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org/bot"
TELEGRAM_FILE_API = "https://api.telegram.org/file/bot"
LANGUAGES = ("nl", "en")
WEBHOOK_SECRET_MIN = 32
ERASURE_HEX = "hex:"  # an erasure key given as hex digits (any bytes)


_DATABASES = tuple(
    f"{backend}{driver}://"
    for backend, drivers in (
        ("sqlite", ("", "+pysqlite", "+aiosqlite")),
        ("postgresql", ("", "+psycopg", "+asyncpg")),
    )
    for driver in drivers
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BUDDYBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    token: SecretStr | None = Field(default=None, description="Bot token from @BotFather")
    database_url: str = Field(
        default=f"sqlite:///{Path('buddybot.db').absolute()}",
        description="SQLAlchemy URL: sqlite:///file.db or postgresql://user@host/db",
    )
    database_concurrency: int = Field(
        default=4,
        ge=1,
        le=500,
        description="PostgreSQL units of work (pooled connections) per process at once; "
        "SQLite runs one at a time",
    )
    api_base_url: str = Field(default=TELEGRAM_API, description="Bot API base URL")
    api_file_url: str = Field(default=TELEGRAM_FILE_API, description="Bot API file URL")
    timezone: str = Field(default="Europe/Amsterdam", description="Default wijk timezone")
    default_language: Literal["nl", "en"] = Field(default="nl")
    superadmins: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), description="Telegram user ids, comma separated"
    )
    tick_seconds: timedelta = Field(default=timedelta(seconds=30))
    tick_batch: int = Field(default=200, ge=1, description="Due items claimed per tick")
    tick_concurrency: int = Field(
        default=8, ge=1, description="Wijken whose due work is delivered at the same time"
    )
    claim_lease: timedelta = Field(default=timedelta(minutes=5))
    retry_base: timedelta = Field(default=timedelta(seconds=30), gt=timedelta(0))
    retry_max: timedelta = Field(default=timedelta(hours=1))
    max_attempts: int = Field(default=8, ge=1)
    admin_cache_ttl: timedelta = Field(default=timedelta(minutes=10))
    partner_invite_ttl: timedelta = Field(
        default=timedelta(days=7),
        gt=timedelta(0),
        description="how long a partner's invitation link can be used (once)",
    )
    listener_check: timedelta = Field(
        default=timedelta(seconds=30),
        gt=timedelta(0),
        description="how often a replica checks that it still hears the others",
    )
    webhook_url: str | None = Field(default=None)
    webhook_secret: SecretStr | None = Field(default=None)
    listen: str = Field(
        default="127.0.0.1",
        description="webhook mode: the address to listen on (0.0.0.0: every interface)",
    )
    port: int = Field(default=8443, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO")
    migrate_on_start: bool = Field(default=True)
    messages_per_second: float = Field(default=30, gt=0, description="Telegram's overall cap")
    group_messages_per_minute: float = Field(default=20, gt=0, description="per group")
    send_retries: int = Field(default=3, ge=0, description="retries after a 429 answer")
    poll_timeout: timedelta = Field(default=timedelta(seconds=30))
    person_actions_per_minute: int = Field(
        default=30, ge=1, description="commands and button presses one person may send"
    )
    person_group_messages_per_minute: int = Field(
        default=5,
        ge=1,
        description="messages and edits one person's actions may make the bot send into one "
        "group in a minute (Telegram allows the bot 20 per group); over it, nothing is queued",
    )
    processed_retention: timedelta = Field(
        default=timedelta(days=7), description="how long handled update ids are kept"
    )
    concurrent_updates: int = Field(default=64, ge=1, description="Chats handled at once")
    erasure_key: SecretStr | None = Field(
        default=None,
        description="key of the hash kept of forgotten Telegram ids; default: derived from "
        "the token (set it, so that a new token keeps recognising them); 'hex:…' gives the "
        "key as hex digits (`buddybot erasure-key` prints the one derived from the token)",
    )
    prune_every: timedelta = Field(
        default=timedelta(hours=6), gt=timedelta(0), description="how often stale rows go"
    )
    prompt_retention: timedelta = Field(
        default=timedelta(days=14),
        description="how long an unanswered question, and a helper's news nobody approved "
        "or refused, is kept",
    )
    due_retention: timedelta = Field(
        default=timedelta(days=30),
        description="how long finished scheduled work (with its errors) is kept",
    )
    left_member_retention: timedelta = Field(
        default=timedelta(days=180),
        description="how long a membership is kept after the person left the group",
    )
    invite_retention: timedelta = Field(
        default=timedelta(days=1),
        description="how long a partner's invitation is kept after it was used or expired",
    )

    @field_validator("superadmins", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").split(",") if p.strip()]
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _seconds(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name is None or cls.model_fields[info.field_name].annotation is not timedelta:
            return value
        # A bare number means seconds ("30"); anything else is ISO 8601 ("PT2H").
        if isinstance(value, str):
            try:
                return timedelta(seconds=float(value))
            except ValueError:
                return value
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, value: str) -> str:
        # The driver part is optional: older configurations name the async drivers
        # (sqlite+aiosqlite, postgresql+asyncpg); storage picks the driver it runs on.
        if not value.startswith(_DATABASES):
            raise ValueError("use sqlite:///… or postgresql://…")
        return value

    @field_validator("erasure_key")
    @classmethod
    def _hex_key(cls, value: SecretStr | None) -> SecretStr | None:
        raw = value.get_secret_value() if value is not None else ""
        if raw.startswith(ERASURE_HEX):
            try:
                bytes.fromhex(raw.removeprefix(ERASURE_HEX))
            except ValueError:
                raise ValueError("after 'hex:' only hex digits (0-9, a-f)") from None
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        # Without the secret anyone who finds the URL could post updates "from" an admin.
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("BUDDYBOT_WEBHOOK_SECRET is required when BUDDYBOT_WEBHOOK_URL is set")
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("BUDDYBOT_WEBHOOK_SECRET may only hold A-Z, a-z, 0-9, _ and -")
        # Long enough that it cannot be guessed; Telegram takes up to 256 characters.
        if secret and len(secret) < WEBHOOK_SECRET_MIN:
            raise ValueError(
                f"BUDDYBOT_WEBHOOK_SECRET needs at least {WEBHOOK_SECRET_MIN} characters "
                f"(it has {len(secret)}); make one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def erasure_secret(self) -> bytes:
        """The key of the hash of forgotten ids: ``erasure_key``, or one derived from the
        token (never the token itself)."""
        if self.erasure_key_set:
            assert self.erasure_key is not None
            raw = self.erasure_key.get_secret_value()
            if raw.startswith(ERASURE_HEX):
                return bytes.fromhex(raw.removeprefix(ERASURE_HEX))
            return raw.encode()
        token = self.token.get_secret_value() if self.token else ""
        return hashlib.sha256(b"buddybot erasure key\0" + token.encode()).digest()

    @property
    def erasure_key_set(self) -> bool:
        """False: the key is derived from the token, and a new token loses it."""
        return self.erasure_key is not None and bool(self.erasure_key.get_secret_value())


class SettingsError(Exception):
    """A setting has a wrong value; the message is one line per problem."""


def describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        if item["loc"]:
            name = "BUDDYBOT_" + "_".join(str(p) for p in item["loc"]).upper()
            lines.append(f"{name}: {item['msg']}")
        else:
            lines.append(str(item["msg"]).removeprefix("Value error, "))
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None
