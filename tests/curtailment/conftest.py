"""Fixtures of the curtailment engine tests: timezones, a fleet, and a VTN on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from .openapi import Validator, load_spec, spec_301
from .vtn import Vtn

VtnFactory = Callable[..., Awaitable[Vtn]]


@pytest.fixture(scope="session")
def openadr_spec() -> dict[str, Any]:
    return load_spec()


@pytest.fixture
def berlin() -> ZoneInfo:
    return ZoneInfo("Europe/Berlin")


@pytest.fixture
def new_york() -> ZoneInfo:
    return ZoneInfo("America/New_York")


@pytest.fixture
async def http(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def start_vtn(
    socket_enabled: None, openadr_spec: dict[str, Any]
) -> AsyncIterator[VtnFactory]:
    """Start a VTN: `await start_vtn(programs=[...], events=[...], target_shape="3.0.1")`.

    Every answer it gives is validated against the OpenADR 3.1.0 spec (3.0.1's target shape
    when asked); the test fails at teardown if one was not valid.
    """
    started: list[Vtn] = []

    async def _start(*, target_shape: str = "3.1.0", **kwargs: Any) -> Vtn:
        spec = spec_301(openadr_spec) if target_shape == "3.0.1" else openadr_spec
        vtn = Vtn(validator=Validator(spec), **kwargs)
        await vtn.start()
        started.append(vtn)
        return vtn

    yield _start
    for vtn in started:
        await vtn.stop()
    for vtn in started:
        assert vtn.violations == []
