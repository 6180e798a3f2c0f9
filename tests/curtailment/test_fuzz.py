"""Arbitrary input of every kind raises the engine's typed errors, nothing else."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.home_miner.curtailment import (
    CurtailmentError,
    EventFormatError,
    OpenAdrError,
    OpenAdrFormatError,
    PlanSettings,
    PlanState,
    PriceFormatError,
    PricePreset,
    StateFormatError,
    TariffError,
    UrdbError,
    VenClient,
    VenConfig,
    decide,
    event_from_entity_state,
    events_from_calendar,
    parse_bands,
    parse_event,
    parse_events,
    parse_prices,
    parse_program,
    parse_urdb,
    windows,
)

from .conftest import VtnFactory
from .strategies import json_like, mutated
from .test_openadr import simple_event
from .test_urdb import tou_rate
from .vtn import program

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2025, 6, 2, 15, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
BANDS = {
    "bands": [{"label": "peak", "price": 0.4, "start": "17:00", "end": "21:00", "days": [0, 1]}],
    "holidays": ["2025-12-25"],
}
NORDPOOL = {
    "raw_today": [
        {"start": "2025-06-02T10:00:00+02:00", "end": "2025-06-02T11:00:00+02:00", "value": 0.3}
    ],
    "raw_tomorrow": [],
}
CALENDAR = {
    "calendar.x": {
        "events": [
            {"start": "2025-06-02T10:00:00Z", "end": "2025-06-02T11:00:00Z", "summary": "DR"}
        ]
    }
}


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)


@FUZZ
@given(json_like() | mutated(tou_rate()) | mutated({"items": [tou_rate()]}))
def test_urdb(data: Any) -> None:
    try:
        tariff = parse_urdb(data, timezone=BERLIN)
    except UrdbError:
        return
    tariff.period_at(NOW)
    tariff.next_change(NOW)
    tariff.periods(NOW, NOW + timedelta(hours=48))


@FUZZ
@given(json_like() | mutated(BANDS))
def test_bands(data: Any) -> None:
    try:
        tariff = parse_bands(data, timezone=BERLIN)
    except TariffError:
        return
    windows(now=NOW, settings=PlanSettings(), tariff=tariff)


@FUZZ
@given(
    json_like() | mutated(NORDPOOL),
    st.sampled_from(list(PricePreset)),
    st.none() | st.text(max_size=4),
)
def test_prices(data: Any, preset: PricePreset, select: str | None) -> None:
    try:
        series = parse_prices(data, preset=preset, select=select)
    except PriceFormatError:
        return
    series.price_at(NOW)
    decide(now=NOW, settings=PlanSettings(), fleet=[], state=PlanState(), prices=series)


@FUZZ
@given(json_like() | mutated(CALENDAR), json_like(3), json_like(3))
def test_calendar_and_entities(data: Any, state: Any, changed: Any) -> None:
    with contextlib.suppress(EventFormatError):
        events_from_calendar(data, calendar_id="calendar.x", timezone=BERLIN)
    with contextlib.suppress(EventFormatError):
        event_from_entity_state(entity_id="binary_sensor.dr", state=state, last_changed=changed)


@FUZZ
@given(json_like() | mutated(simple_event()) | mutated([simple_event()]))
def test_openadr_json(data: Any) -> None:
    for parse in (
        lambda: parse_event(data, now=NOW),
        lambda: parse_events(data, now=NOW),
        lambda: parse_program(data),
    ):
        try:
            found = parse()
        except OpenAdrFormatError:
            continue
        if isinstance(found, tuple):
            decide(now=NOW, settings=PlanSettings(), fleet=[], state=PlanState(), events=found)


@FUZZ
@given(json_like() | mutated(PlanState().to_dict()))
def test_persisted_state(data: Any) -> None:
    with contextlib.suppress(StateFormatError):
        PlanState.from_dict(data)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=json_like()
    | mutated([program("p1", "DR")])
    | st.binary(max_size=40).map(lambda b: b.decode("latin-1"))
)
async def test_vtn_answering_anything(
    start_vtn: VtnFactory, http: aiohttp.ClientSession, body: Any
) -> None:
    vtn = await start_vtn(garbage=body if isinstance(body, str) else json.dumps(body))
    try:
        await VenClient(http, VenConfig(base_url=vtn.base_url, timeout=2)).events(now=NOW)
    except OpenAdrError:
        pass
    finally:
        await vtn.stop()


def test_every_typed_error_is_a_curtailment_error() -> None:
    for error in (
        UrdbError,
        TariffError,
        PriceFormatError,
        EventFormatError,
        OpenAdrError,
        StateFormatError,
    ):
        assert issubclass(error, CurtailmentError)
