"""A small OpenADR 3 VTN on 127.0.0.1 whose every answer is checked against the spec."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
import json
from typing import Any

from aiohttp import web

from .openapi import Validator

CREATED = "2025-06-01T00:00:00Z"
_SPEC_PATHS = {"/programs", "/events", "/auth/token", "/auth/server"}


def program(program_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": program_id,
        "createdDateTime": CREATED,
        "modificationDateTime": CREATED,
        "objectType": "PROGRAM",
        "programName": name,
        **extra,
    }


def event(event_id: str, program_id: str, intervals: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "createdDateTime": CREATED,
        "modificationDateTime": extra.pop("modified", CREATED),
        "objectType": "EVENT",
        "programID": program_id,
        "intervals": intervals,
        **extra,
    }


def interval(interval_id: int, kind: str, value: Any, **period: str) -> dict[str, Any]:
    found: dict[str, Any] = {"id": interval_id, "payloads": [{"type": kind, "values": [value]}]}
    if period:
        found["intervalPeriod"] = period
    return found


@dataclass
class Vtn:
    """Serves `programs` and `events`; with `credentials` it wants OAuth2 client credentials.

    `fail_status` makes resource calls fail, `garbage` answers them with broken JSON, and
    `hang` makes them wait for the event (set at shutdown). `ignore_program_filter` answers
    `/events` with every program's events, as the OpenADR 3.1 reference VTN does;
    `token_url` is what `/auth/server` names (default: its own `/auth/token`), and
    `POST /auth/moved` redirects (307, body kept) to `redirect_to`.
    """

    validator: Validator
    programs: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    credentials: tuple[str, str] | None = None
    token_lifetime: int = 3600
    advertise_token_url: bool = True
    fail_status: int | None = None
    garbage: str | None = None
    hang: bool = False
    ignore_program_filter: bool = False
    token_url: str | None = None
    redirect_to: str | None = None
    host: str = "127.0.0.1"
    revoked: set[str] = field(default_factory=set)
    token_requests: int = 0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    async def start(self) -> None:
        app = web.Application(middlewares=[self._validate])
        app.router.add_get("/programs", self._programs)
        app.router.add_get("/events", self._events)
        app.router.add_post("/auth/token", self._token)
        app.router.add_get("/auth/server", self._server)
        app.router.add_post("/auth/moved", self._moved)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _validate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.query)))
        for name in ("skip", "limit"):
            if name in request.query and request.path in {"/programs", "/events"}:
                schema = self.validator.parameter_schema(request.path, "GET", name)
                self.violations += self.validator.errors(int(request.query[name]), schema, name)
        response: web.StreamResponse = await handler(request)
        if request.path in _SPEC_PATHS and not response.headers.get("X-Garbage"):
            schema = self.validator.response_schema(request.path, request.method, response.status)
            if schema is not None and isinstance(response, web.Response):
                body = response.text or ""
                self.violations += self.validator.errors(json.loads(body), schema, request.path)
        return response

    def _problem(self, status: int, title: str) -> web.Response:
        return web.json_response({"title": title, "status": status, "detail": title}, status=status)

    async def _guard(self, request: web.Request) -> web.Response | None:
        if self.hang:
            await self._release.wait()
        if self.garbage is not None:
            return web.Response(
                text=self.garbage, content_type="application/json", headers={"X-Garbage": "1"}
            )
        if self.fail_status is not None:
            return self._problem(self.fail_status, "Internal Server Error")
        if self.credentials is not None:
            header = request.headers.get("Authorization", "")
            token = header.removeprefix("Bearer ")
            if not header.startswith("Bearer ") or not token.startswith("token-"):
                return self._problem(401, "Unauthorized")
            if token in self.revoked:
                return self._problem(401, "Unauthorized")
        return None

    @staticmethod
    def _page(items: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
        skip = int(query.get("skip", "0"))
        limit = min(int(query.get("limit", "50")), 50)
        return items[skip : skip + limit]

    async def _programs(self, request: web.Request) -> web.Response:
        if (refusal := await self._guard(request)) is not None:
            return refusal
        return web.json_response(self._page(self.programs, request.query))

    async def _events(self, request: web.Request) -> web.Response:
        if (refusal := await self._guard(request)) is not None:
            return refusal
        program_id = None if self.ignore_program_filter else request.query.get("programID")
        matching = [e for e in self.events if program_id is None or e["programID"] == program_id]
        return web.json_response(self._page(matching, request.query))

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = dict(await request.post())
        schema = {"$ref": "#/components/schemas/clientCredentialRequest"}
        self.violations += self.validator.errors(form, schema, "token request")
        if self.credentials is None or (form.get("client_id"), form.get("client_secret")) != (
            self.credentials
        ):
            return self._problem(401, "invalid_client")
        return web.json_response(
            {
                "access_token": f"token-{self.token_requests}",
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
            }
        )

    async def _server(self, request: web.Request) -> web.Response:
        if not self.advertise_token_url:
            return self._problem(500, "no auth server")
        return web.json_response({"tokenURL": self.token_url or f"{self.base_url}/auth/token"})

    async def _moved(self, request: web.Request) -> web.Response:
        if self.redirect_to is None:
            return self._problem(404, "Not Found")
        return web.Response(status=307, headers={"Location": self.redirect_to})


@dataclass
class Recorder:
    """A server the client must never talk to: it keeps every request it gets (method, path
    and body) and answers each like a willing token endpoint, so a leak does not show up
    as an error."""

    host: str = "127.0.0.1"
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.url = f"http://{self.host}:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _record(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path, await request.text()))
        return web.json_response(
            {"access_token": "token-stolen", "token_type": "Bearer", "expires_in": 3600}
        )
