"""``buddybot run`` as a real process, against a fakegram whose ``getMe`` redirects, so the
bot stops at once: for what a process prints at start (warnings, masked secrets)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from buddybot.fakegram import FakegramClient, FakegramServer


async def run_until_it_stops(tmp_path: Path, token: str, **settings: str) -> tuple[int, str]:
    """Exit code and everything the process printed (stdout and stderr)."""
    async with FakegramServer(token=token, bot_username="wijkbot") as server:
        async with FakegramClient(server.url) as tg:
            await tg.inject_fault(kind="redirect", method="getMe", count=20)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUDDYBOT_")}
        env.update(
            BUDDYBOT_TOKEN=token,
            BUDDYBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
            BUDDYBOT_API_BASE_URL=server.api_base_url,
            BUDDYBOT_API_FILE_URL=server.file_base_url,
            **settings,
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "buddybot.cli",
            "run",
            cwd=tmp_path,  # no stray .env is read
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()
