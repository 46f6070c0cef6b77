"""Fixtures: a fakegram server, its control client, and a PTB Application pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from telegram.ext import Application, ApplicationBuilder

from buddybot.fakegram import FakegramClient, FakegramServer

TOKEN = "7000000001:TEST-fakegram-token"


@pytest.fixture
async def server() -> AsyncIterator[FakegramServer]:
    async with FakegramServer(token=TOKEN, bot_username="buddy_test_bot") as srv:
        yield srv


@pytest.fixture
async def tg(server: FakegramServer) -> AsyncIterator[FakegramClient]:
    async with FakegramClient(server.url) as client:
        yield client


def build_app(server: FakegramServer, token: str = TOKEN) -> Application:  # type: ignore[type-arg]
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(server.api_base_url)
        .base_file_url(server.file_base_url)
        .build()
    )


@pytest.fixture
def app_factory() -> Callable[..., Application]:  # type: ignore[type-arg]
    """``app_factory(server)`` builds an Application for another server (fake clock etc.)."""
    return build_app


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
async def app(server: FakegramServer) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = build_app(server)
    async with application:
        yield application
