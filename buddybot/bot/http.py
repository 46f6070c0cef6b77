"""The bot's HTTP client for the Bot API: aiohttp under PTB, instead of PTB's default httpx.

Every press costs a getUpdates, an answer and a card edit, so the client's CPU per call
bounds the bot's throughput, and aiohttp spends several times less per call than httpx.
PTB's request contract is small: send a form (or multipart, with files), give back the
status and the body, map timeouts and network failures to PTB's errors.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        *,
        pool_size: int = 256,
        read_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        pool_timeout: float = 1.0,
        media_timeout: float = 20.0,
    ) -> None:
        self._pool_size = pool_size
        self._read = read_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media = media_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            context = ssl.create_default_context(cafile=certifi.where())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=context),
                # No proxy or netrc lookup from the environment: aiohttp would do that in a
                # thread for every request, and settings.py is what reads the environment.
                trust_env=False,
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @staticmethod
    def _seconds(value: Any, default: float | None) -> float | None:
        return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        body: aiohttp.FormData | dict[str, str] | None = None
        files = request_data.multipart_data if request_data else None
        if request_data is not None and files:
            form = aiohttp.FormData(quote_fields=False)
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            body = form
        elif request_data is not None:
            body = request_data.json_parameters
        read = self._seconds(read_timeout, self._read)
        connect = self._seconds(connect_timeout, self._connect)
        pool = self._seconds(pool_timeout, self._pool)
        write = self._seconds(write_timeout, self._media if files else None)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout: an upload may take its write time on top
            total=None if write is None or read is None else read + write,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            # The Bot API never redirects. A redirect (a proxy, a captive portal, a wrong
            # base URL) is answered as an error, never followed: the token in the URL must
            # not travel to another address or into a redirect error's text.
            async with self._session.request(
                method, url, data=body, timeout=timeout, allow_redirects=False
            ) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
