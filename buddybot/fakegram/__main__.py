"""Run fakegram standalone: ``python -m buddybot.fakegram --port 8081 [--token T --username U]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from buddybot.fakegram.server import FakegramServer


async def _serve(args: argparse.Namespace) -> None:
    server = FakegramServer(
        host=args.host,
        port=args.port,
        enforce_flood_limits=args.enforce_flood_limits,
        token=args.token,
        bot_username=args.username,
        bot_first_name=args.first_name,
    )
    async with server:
        print(f"fakegram listening on {server.url}", flush=True)
        print(f"  Bot API base URL:  {server.api_base_url}", flush=True)
        print(f"  file base URL:     {server.file_base_url}", flush=True)
        print(f"  control endpoints: {server.url}/control/<action>", flush=True)
        if args.token:
            print(f"  bot token:         {args.token} (@{args.username})", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m buddybot.fakegram", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=None, help="create this bot at start")
    parser.add_argument("--username", default="buddy_test_bot")
    parser.add_argument("--first-name", default="Buddy")
    parser.add_argument("--enforce-flood-limits", action="store_true")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
