"""OpenADR 3 VEN client: polls a VTN's programs and events over an injected aiohttp session.

The only module of the engine that does I/O. Authentication is anonymous, or OAuth2 client
credentials: the token endpoint comes from the configuration, else from `GET /auth/server`,
else `/auth/token`; the token is cached until shortly before it expires, and fetched again
once if the VTN answers 401. Every failure surfaces as an `OpenAdrError` subclass.

The VTN is trusted as little as possible. Credentials travel only over https (plain http
only to this machine) and only to the VTN's own origin or to the token URL configured; the
token request follows no redirect. Events are kept only if they belong to the program they
were asked for, since some VTNs (the 3.1 reference implementation) ignore `?programID=`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import ipaddress
import json
import logging
import time
from typing import Final
from urllib.parse import urljoin, urlsplit

import aiohttp

from ._convert import as_float, as_list, as_mapping, as_str, require_aware, short
from .errors import (
    OpenAdrAuthError,
    OpenAdrConnectionError,
    OpenAdrError,
    OpenAdrForeignTokenUrlError,
    OpenAdrFormatError,
    OpenAdrInsecureUrlError,
)
from .events import DrEvent
from .openadr import DEFAULT_SIMPLE_LEVELS, OadrOptions, OadrProgram, parse_event, parse_program

_LOGGER = logging.getLogger(__name__)

_DEFAULT_TOKEN_LIFETIME: Final = 3600.0
# Renew this long before the VTN says the token expires, so a poll never races the expiry.
_TOKEN_MARGIN: Final = 30.0
_MAX_PAGE_SIZE: Final = 50
_HTTP_UNAUTHORIZED: Final = 401
_HTTP_FORBIDDEN: Final = 403
_HTTP_SERVER_ERROR: Final = 500
_HTTP_CLIENT_ERROR: Final = 400
_HTTP_REDIRECT: Final = range(300, 400)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, parts.hostname or "", port or _DEFAULT_PORTS.get(scheme)


def _on_this_machine(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _require_encrypted(url: str) -> None:
    """Raise before a secret would travel where others on the way can read it."""
    scheme, host, _ = _origin(url)
    if (scheme == "https" and host) or (scheme == "http" and _on_this_machine(host)):
        return
    raise OpenAdrInsecureUrlError(
        f"Not sending OpenADR credentials to {url}: they go only over https "
        "(plain http only to this machine)",
        url=url,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class VenConfig:
    """Where the VTN is and who we are. `programs` names the programs to follow (by id or
    programName; empty follows all)."""

    base_url: str
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    scope: str | None = None
    programs: tuple[str, ...] = ()
    targets: frozenset[str] = frozenset()
    simple_levels: Mapping[int, float] = field(default_factory=lambda: DEFAULT_SIMPLE_LEVELS)
    seed: str = "home_miner"
    timeout: float = 10.0
    page_size: int = _MAX_PAGE_SIZE
    max_pages: int = 100

    def __post_init__(self) -> None:
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("client_id and client_secret go together")
        if not 1 <= self.page_size <= _MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {_MAX_PAGE_SIZE}")


class VenClient:
    """A polling VEN. Keep one per plan: it caches the token and when it first saw events."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: VenConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._config = config
        self._clock = clock
        self._base = config.base_url.rstrip("/") + "/"
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_url = config.token_url
        self._first_seen: dict[tuple[str, str], datetime] = {}
        self._told_filter_ignored = False
        self._options = OadrOptions(
            targets=config.targets, simple_levels=config.simple_levels, seed=config.seed
        )

    @property
    def authenticated(self) -> bool:
        return self._config.client_id is not None

    async def programs(self) -> tuple[OadrProgram, ...]:
        """The programs we follow. Programs that cannot be read are skipped with a warning."""
        wanted = set(self._config.programs)
        found: list[OadrProgram] = []
        for item in await self._paged("programs", {}):
            try:
                program = parse_program(item)
            except OpenAdrFormatError as err:
                _LOGGER.warning("Skipping OpenADR program %s: %s", short(item), err)
                continue
            if not wanted or program.program_id in wanted or program.name in wanted:
                found.append(program)
        return tuple(found)

    async def events(self, *, now: datetime) -> tuple[DrEvent, ...]:
        """Every event of the followed programs, as `DrEvent`s (targeted elsewhere: none).

        What is wrong with an event is logged as a warning once per version of it, then at
        debug level on every later poll."""
        require_aware(now)
        seen: dict[tuple[str, str], datetime] = {}
        found: dict[str, DrEvent] = {}
        for program in await self.programs():
            for item in await self._paged("events", {"programID": program.program_id}):
                if self._of_another_program(item, program):
                    continue
                key = self._version(item)
                anchor = self._first_seen.get(key, now) if key else now
                notes: list[str] = []
                if key:
                    seen[key] = anchor
                try:
                    parsed = parse_event(
                        item,
                        now=anchor,
                        options=self._options,
                        program=program,
                        report=notes.append,
                    )
                except OpenAdrFormatError as err:
                    notes.append(f"Skipping OpenADR event {short(item)}: {err}")
                    parsed = ()
                level = logging.DEBUG if key in self._first_seen else logging.WARNING
                for note in notes:
                    _LOGGER.log(level, "%s", note)
                found.update((event.event_id, event) for event in parsed)
        self._first_seen = seen
        return tuple(sorted(found.values(), key=lambda e: (e.start, e.event_id)))

    def _of_another_program(self, item: object, program: OadrProgram) -> bool:
        program_id = item.get("programID") if isinstance(item, Mapping) else None
        if not isinstance(program_id, str) or program_id == program.program_id:
            return False
        if not self._told_filter_ignored:
            self._told_filter_ignored = True
            _LOGGER.debug(
                "VTN %s ignores the programID filter of /events; reading only the events of"
                " the program asked for",
                self._base,
            )
        return True

    @staticmethod
    def _version(item: object) -> tuple[str, str] | None:
        if not isinstance(item, Mapping):
            return None
        event_id, modified = item.get("id"), item.get("modificationDateTime")
        if not isinstance(event_id, str):
            return None
        return event_id, modified if isinstance(modified, str) else ""

    async def _paged(self, path: str, params: Mapping[str, str]) -> list[object]:
        items: list[object] = []
        size = self._config.page_size
        for page in range(self._config.max_pages):
            query = {**params, "skip": str(page * size), "limit": str(size)}
            body = await self._get(path, query)
            try:
                batch = as_list(body, path)
            except ValueError as err:
                raise OpenAdrFormatError(f"VTN answered /{path} with {err}") from err
            items.extend(batch)
            if len(batch) < size:
                return items
        _LOGGER.warning("VTN still had more %s after %d pages", path, self._config.max_pages)
        return items

    async def _get(self, path: str, params: Mapping[str, str]) -> object:
        if self.authenticated:
            _require_encrypted(self._config.base_url)
        for attempt in range(2):
            headers = {"Accept": "application/json"}
            if self.authenticated:
                headers["Authorization"] = f"Bearer {await self._access_token()}"
            status, body, _ = await self._request(
                "GET", self._base + path, params=params, headers=headers
            )
            if status in (_HTTP_UNAUTHORIZED, _HTTP_FORBIDDEN) and self.authenticated:
                self._token = None
                if attempt == 0 and status == _HTTP_UNAUTHORIZED:
                    continue
                raise OpenAdrAuthError(f"VTN refused our token for /{path} ({status})")
            if status in (_HTTP_UNAUTHORIZED, _HTTP_FORBIDDEN):
                raise OpenAdrAuthError(f"VTN wants credentials for /{path} ({status})")
            self._raise_for_status(status, path, body)
            return self._decode(body, path)
        raise OpenAdrAuthError(f"VTN refused a fresh token for /{path}")

    async def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
    ) -> tuple[int, str, str | None]:
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                headers=headers,
                data=data,
                allow_redirects=allow_redirects,
                timeout=aiohttp.ClientTimeout(total=self._config.timeout),
            ) as response:
                location = response.headers.get("Location")
                return response.status, await response.text(), location
        except TimeoutError as err:
            raise OpenAdrConnectionError(f"VTN did not answer {url} in time") from err
        except (aiohttp.ClientError, UnicodeDecodeError, ValueError) as err:
            raise OpenAdrConnectionError(f"VTN request {url} failed: {err}") from err

    @staticmethod
    def _raise_for_status(status: int, what: str, body: str) -> None:
        if status >= _HTTP_SERVER_ERROR:
            raise OpenAdrConnectionError(f"VTN answered /{what} with {status}: {body[:200]}")
        if status >= _HTTP_CLIENT_ERROR:
            raise OpenAdrError(f"VTN rejected /{what} with {status}: {body[:200]}")

    @staticmethod
    def _decode(body: str, what: str) -> object:
        try:
            decoded: object = json.loads(body)
        except ValueError as err:
            raise OpenAdrFormatError(f"VTN answered /{what} with something not JSON") from err
        return decoded

    async def _access_token(self) -> str:
        if self._token is not None and self._clock() < self._token_expires:
            return self._token
        token_url = self._token_url or await self._discover_token_url()
        _require_encrypted(token_url)
        self._token_url = token_url
        form = {
            "grant_type": "client_credentials",
            "client_id": self._config.client_id or "",
            "client_secret": self._config.client_secret or "",
        }
        if self._config.scope:
            form["scope"] = self._config.scope
        # aiohttp resends the body on a 307/308: following one would hand the secret to
        # whatever address the answer names.
        status, body, location = await self._request(
            "POST", token_url, data=form, allow_redirects=False
        )
        if status in _HTTP_REDIRECT:
            target = urljoin(token_url, location or "")
            raise OpenAdrForeignTokenUrlError(
                f"The token endpoint {token_url} redirects ({status}) to {target}; the"
                " credentials are not sent on. Configure the token URL that answers itself",
                url=target,
            )
        if status in (_HTTP_CLIENT_ERROR, _HTTP_UNAUTHORIZED, _HTTP_FORBIDDEN):
            raise OpenAdrAuthError(f"token endpoint refused our credentials ({status})")
        self._raise_for_status(status, "auth/token", body)
        try:
            answer = as_mapping(self._decode(body, "auth/token"), "token response")
            token = as_str(answer.get("access_token"), "access_token")
            if not token:
                raise ValueError("access_token is empty")
            token_type = answer.get("token_type", "Bearer")
            if not isinstance(token_type, str) or token_type.lower() != "bearer":
                raise ValueError(f"token_type {short(token_type)} is not Bearer")
            lifetime = as_float(answer.get("expires_in", _DEFAULT_TOKEN_LIFETIME), "expires_in")
        except (ValueError, OpenAdrFormatError) as err:
            raise OpenAdrAuthError(f"token endpoint gave no usable token: {err}") from err
        self._token = token
        self._token_expires = self._clock() + max(lifetime - _TOKEN_MARGIN, lifetime / 2, 0.0)
        return token

    async def _discover_token_url(self) -> str:
        """The VTN's advice, taken only when it stays on the VTN's own origin."""
        fallback = self._base + "auth/token"
        try:
            status, body, _ = await self._request(
                "GET", self._base + "auth/server", headers={"Accept": "application/json"}
            )
        except OpenAdrConnectionError:
            return fallback
        if status != 200:
            return fallback
        try:
            info = as_mapping(json.loads(body), "auth server info")
            token_url = urljoin(self._base, as_str(info.get("tokenURL"), "tokenURL"))
        except ValueError:
            return fallback
        if _origin(token_url) != _origin(self._base):
            raise OpenAdrForeignTokenUrlError(
                f"The VTN names the token endpoint {token_url}, outside its own origin"
                f" {self._base}; credentials go only to the VTN's origin or to a token URL"
                " that is configured",
                url=token_url,
            )
        return token_url
