"""Direct HTTP to a miner's own API, for what pyasic's web clients get wrong or lack.

pyasic's clients turn every failure into an empty or `{"success": False}` answer, which hides
a refused login and a command that never arrived; here each outcome is a typed error.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from .errors import MinerAuthError, MinerCommandError, MinerConnectionError

TIMEOUT = 5.0


async def request(
    method: str,
    url: str,
    *,
    command: str,
    body: dict[str, Any] | None = None,
    digest: tuple[str, str] | None = None,
) -> Any:
    """Send one request; return the decoded JSON answer, or None for an empty/text answer."""
    httpx = importlib.import_module("httpx")
    settings = importlib.import_module("pyasic.settings")
    auth = httpx.DigestAuth(*digest) if digest else None
    try:
        async with httpx.AsyncClient(transport=settings.transport()) as client:
            response = await client.request(method, url, json=body, auth=auth, timeout=TIMEOUT)
    except httpx.HTTPError as err:
        raise MinerConnectionError(f"{command}: {type(err).__name__} {err}".strip()) from err
    if response.status_code == 401:
        raise MinerAuthError(f"{command}: the miner refused the login")
    if response.status_code == 404:
        raise MinerCommandError(command, "this firmware does not have it")
    if response.status_code >= 400:
        raise MinerCommandError(command, f"the miner answered HTTP {response.status_code}")
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
