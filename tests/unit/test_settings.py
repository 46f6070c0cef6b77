"""Settings: every one documented, durations in two notations, one clear line when wrong."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from buddybot.cli import main
from buddybot.settings import Settings, SettingsError, load_settings
from tests.support.virtual_time import run_virtual

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_env_example() -> None:
    documented = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"BUDDYBOT_{name.upper()}=" in documented, name


def test_durations_take_seconds_or_iso8601(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDDYBOT_TICK_SECONDS", "PT2M")
    monkeypatch.setenv("BUDDYBOT_RETRY_BASE", "45")
    monkeypatch.setenv("BUDDYBOT_SUPERADMINS", "12, 34")
    s = load_settings()
    assert s.tick_seconds == timedelta(minutes=2)
    assert s.retry_base == timedelta(seconds=45)
    assert s.superadmins == {12, 34}


def test_the_erasure_key_is_set_or_derived_from_the_token_never_the_token() -> None:
    derived = Settings(_env_file=None, token="123:abc", erasure_key="")
    assert derived.erasure_secret not in (b"", b"123:abc")
    other = Settings(_env_file=None, token="123:xyz")
    assert other.erasure_secret != derived.erasure_secret
    chosen = Settings(_env_file=None, token="123:xyz", erasure_key="k" * 32)
    assert chosen.erasure_secret == b"k" * 32


def test_a_wrong_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDDYBOT_TIMEZONE", "Europe/Nowhere")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith("BUDDYBOT_TIMEZONE: ")
    assert "\n" not in str(err.value)


def test_cli_says_one_line_for_a_wrong_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BUDDYBOT_PORT", "many")
    with pytest.raises(SystemExit) as stop:
        main(["check"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Wrong setting: BUDDYBOT_PORT") and "\n" not in err


def test_run_without_token_points_to_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BUDDYBOT_TOKEN", raising=False)
    monkeypatch.chdir(ROOT / "tests")  # no .env here
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert "@BotFather" in err and "buddybot demo" in err and "\n" not in err


def test_check_reports_database_and_migrations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("BUDDYBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert main(["check"]) == 4
    assert "migrations: NOT current" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert main(["check"]) == 0
    monkeypatch.setenv("BUDDYBOT_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/x")
    assert main(["check"]) == 3


async def _send_times(limiter: AIORateLimiter, chat_ids: list[int]) -> list[float]:
    """When each message, asked for all at once, went out through ``limiter``."""
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def send() -> bool:
        sent.append(loop.time())
        return True

    await limiter.initialize()
    await asyncio.gather(
        *(
            limiter.process_request(send, (), {}, "sendMessage", {"chat_id": c}, None)
            for c in chat_ids
        )
    )
    await limiter.shutdown()
    return sent


@pytest.mark.parametrize(("per_second", "per_minute"), [(30, 20), (10, 3), (1, 1), (10_000, 1_000)])
def test_the_rate_limiter_never_exceeds_telegrams_window(per_second: int, per_minute: int) -> None:
    """Telegram answers 429 to a message over its cap in any window (30 a second, 20 a minute
    in one group), and PTB then holds back every request of the bot. However many messages
    are asked for at once, message ``n + cap`` goes out more than one window after message
    ``n``, and the limiter still sends at least half the cap a window."""
    from buddybot.app import rate_limiter

    s = Settings(
        _env_file=None, messages_per_second=per_second, group_messages_per_minute=per_minute
    )
    for cap, window, chat_ids in [
        (per_second, 1.0, list(range(1, 2 * per_second + 3))),  # private chats
        (per_minute, 60.0, [-100] * (2 * per_minute + 2)),  # one group
    ]:
        sent = run_virtual(_send_times(rate_limiter(s), chat_ids))
        assert len(sent) == len(chat_ids)
        assert min(b - a for a, b in zip(sent, sent[cap:], strict=False)) > window
        assert sent[-1] - sent[0] <= 2 * window * len(sent) / cap


def test_the_printed_erasure_key_still_recognises_the_forgotten_after_a_new_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SECURITY.md's token revoke: `buddybot erasure-key` first, its line into .env, then the
    new token; the key of the hash of forgotten ids stays the same."""
    monkeypatch.chdir(ROOT / "tests")  # no .env here
    monkeypatch.setenv("BUDDYBOT_TOKEN", "123:old")
    monkeypatch.delenv("BUDDYBOT_ERASURE_KEY", raising=False)
    before = load_settings().erasure_secret
    assert main(["erasure-key"]) == 0
    name, value = capsys.readouterr().out.strip().split("=", 1)
    assert name == "BUDDYBOT_ERASURE_KEY"
    monkeypatch.setenv("BUDDYBOT_TOKEN", "123:new")
    assert load_settings().erasure_secret != before  # a new token alone would lose them
    monkeypatch.setenv(name, value)
    assert load_settings().erasure_secret == before
    assert main(["erasure-key"]) == 0 and "already set" in capsys.readouterr().err
    monkeypatch.setenv(name, "hex:not-hex")
    with pytest.raises(SettingsError, match="BUDDYBOT_ERASURE_KEY"):
        load_settings()
