"""HTTP to a miner's own API over an injected aiohttp session.

pyasic's web clients open a new httpx client per request and turn every failure into an
empty or `{"success": False}` answer, which hides a refused login and a command that never
arrived. Here requests share Home Assistant's session (kept-alive connections, digest
challenges reused) and each outcome is a typed error.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from .errors import MinerAuthError, MinerCommandError, MinerConnectionError

TIMEOUT = aiohttp.ClientTimeout(total=5)


class MinerHttp:
    """One miner's HTTP API."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        digest: tuple[str, str] | None = None,
    ) -> None:
        self._session = session
        self._base = f"http://{host}"
        self._middlewares = (aiohttp.DigestAuthMiddleware(*digest),) if digest else ()

    async def request(
        self,
        method: str,
        path: str,
        *,
        command: str,
        body: dict[str, Any] | None = None,
        limits: aiohttp.ClientTimeout | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON answer, or None for an empty/text one."""
        try:
            async with self._session.request(
                method,
                f"{self._base}{path}",
                json=body,
                timeout=limits or TIMEOUT,
                middlewares=self._middlewares,
            ) as response:
                status = response.status
                content = await response.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise MinerConnectionError(f"{command}: {type(err).__name__} {err}".strip()) from err
        if status == 401:
            raise MinerAuthError(f"{command}: the miner refused the login")
        if status == 404:
            raise MinerCommandError(command, "this firmware does not have it")
        if status >= 400:
            raise MinerCommandError(command, f"the miner answered HTTP {status}")
        if not content:
            return None
        try:
            return json.loads(content)
        except json.JSONDecodeError, UnicodeDecodeError:
            return None
