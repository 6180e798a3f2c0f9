"""Demand-response events from calendars and on/off entities; break-even prices."""

from __future__ import annotations

from datetime import UTC, datetime
import logging
from zoneinfo import ZoneInfo

import pytest

from custom_components.home_miner.curtailment import (
    DrEvent,
    DrSignal,
    DrSource,
    EventFormatError,
    break_even_price,
    event_from_entity_state,
    events_from_calendar,
    fleet_break_even_price,
    hashprice_from_network,
    miner_break_even_price,
)

LONDON = ZoneInfo("Europe/London")


def test_calendar_get_events_response() -> None:
    response = {
        "calendar.grid_events": {
            "events": [
                {
                    "start": "2025-01-14T17:30:00+00:00",
                    "end": "2025-01-14T18:30:00+00:00",
                    "summary": "Saving Session",
                    "description": "Octoplus",
                },
                {"start": "2025-01-15", "end": "2025-01-16", "summary": "Grid maintenance"},
            ]
        }
    }
    events = events_from_calendar(response, calendar_id="calendar.grid_events", timezone=LONDON)
    assert events == (
        DrEvent(
            event_id="calendar.grid_events:0",
            source=DrSource.CALENDAR,
            signal=DrSignal.CURTAIL,
            start=datetime(2025, 1, 14, 17, 30, tzinfo=UTC),
            end=datetime(2025, 1, 14, 18, 30, tzinfo=UTC),
            name="Saving Session",
        ),
        DrEvent(
            event_id="calendar.grid_events:1",
            source=DrSource.CALENDAR,
            signal=DrSignal.CURTAIL,
            start=datetime(2025, 1, 15, tzinfo=LONDON),
            end=datetime(2025, 1, 16, tzinfo=LONDON),
            name="Grid maintenance",
        ),
    )
    assert events[0].is_active(datetime(2025, 1, 14, 18, 0, tzinfo=UTC))
    assert not events[0].is_active(datetime(2025, 1, 14, 18, 30, tzinfo=UTC))


def test_calendar_summary_filter_and_other_keys() -> None:
    items = [
        {
            "start": "2025-01-14T17:30:00Z",
            "end": "2025-01-14T18:30:00Z",
            "summary": "Saving session",
        },
        {"start": "2025-01-14T19:00:00Z", "end": "2025-01-14T20:00:00Z", "summary": "Dentist"},
    ]
    events = events_from_calendar(
        {"events": items}, calendar_id="calendar.home", summary_contains="SAVING"
    )
    assert [e.name for e in events] == ["Saving session"]
    joined = [
        {"start": "2025-01-20T17:00:00Z", "end": "2025-01-20T18:00:00Z", "octopoints_per_kwh": 800}
    ]
    sessions = events_from_calendar(joined, calendar_id="event.octoplus_saving_sessions")
    assert sessions[0].end == datetime(2025, 1, 20, 18, tzinfo=UTC)


def test_bad_calendar_entries_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    items = [
        {"start": "2025-01-14T17:30:00Z", "end": "2025-01-14T16:30:00Z", "summary": "backwards"},
        {"start": "tomorrow", "end": "2025-01-14T16:30:00Z"},
        42,
        {"start": "2025-01-14T17:30:00Z", "end": "2025-01-14T18:30:00Z", "uid": "abc"},
    ]
    with caplog.at_level(logging.WARNING):
        events = events_from_calendar(items, calendar_id="calendar.x")
    assert [e.event_id for e in events] == ["calendar.x:abc"]
    assert caplog.text.count("Skipping calendar entry") == 3


@pytest.mark.parametrize("data", ["events", {"a": {"events": []}, "b": {}}, {"events": 3}])
def test_calendar_container_errors(data: object) -> None:
    with pytest.raises(EventFormatError, match=r"Unreadable events of calendar\.x"):
        events_from_calendar(data, calendar_id="calendar.x")


def test_entity_state() -> None:
    since = "2025-01-14T17:30:00+00:00"
    event = event_from_entity_state(entity_id="binary_sensor.dr", state="on", last_changed=since)
    assert event == DrEvent(
        event_id="binary_sensor.dr",
        source=DrSource.ENTITY,
        signal=DrSignal.CURTAIL,
        start=datetime(2025, 1, 14, 17, 30, tzinfo=UTC),
    )
    assert event.end is None
    for state in ("off", "unavailable", "unknown"):
        assert event_from_entity_state(entity_id="x", state=state, last_changed=since) is None
    stop = event_from_entity_state(
        entity_id="input_boolean.grid_alert", state="On", last_changed=since, signal=DrSignal.STOP
    )
    assert stop is not None
    assert stop.signal is DrSignal.STOP


@pytest.mark.parametrize(
    ("state", "changed"), [("maybe", "2025-01-14T17:30:00Z"), (1, "x"), ("on", "x")]
)
def test_entity_state_errors(state: object, changed: object) -> None:
    with pytest.raises(EventFormatError, match=r"Unreadable state of switch\.dr"):
        event_from_entity_state(entity_id="switch.dr", state=state, last_changed=changed)


def test_event_model_validates() -> None:
    start = datetime(2025, 1, 14, 17, tzinfo=UTC)
    with pytest.raises(ValueError, match="ends before it starts"):
        DrEvent(event_id="e", source=DrSource.OPENADR, signal=DrSignal.STOP, start=start, end=start)
    with pytest.raises(ValueError, match="needs a value"):
        DrEvent(event_id="e", source=DrSource.OPENADR, signal=DrSignal.PRICE, start=start)
    with pytest.raises(ValueError, match="timezone-aware"):
        DrEvent(
            event_id="e",
            source=DrSource.OPENADR,
            signal=DrSignal.STOP,
            start=start.replace(tzinfo=None),
        )


def test_break_even_prices() -> None:
    # 0.05 per TH/s per day at 20 J/TH: 20 W x 24 h = 0.48 kWh per TH/s per day.
    assert break_even_price(hashprice=0.05, efficiency_jth=20) == pytest.approx(0.05 / 0.48)
    # An S19 (95 TH/s, 3250 W) and a Bitaxe (1.2 TH/s, 18 W).
    assert miner_break_even_price(hashprice=0.05, hashrate_ths=95, power_w=3250) == pytest.approx(
        0.05 * 95 / (3.25 * 24)
    )
    assert fleet_break_even_price(hashprice=0.05, miners=[(95, 3250), (1.2, 18), (0, 0)]) == (
        pytest.approx(0.05 * 96.2 / (3.268 * 24))
    )
    assert break_even_price(hashprice=0.05, efficiency_jth=0) is None
    assert miner_break_even_price(hashprice=0.05, hashrate_ths=0, power_w=10) is None
    # 3.125 BTC x 144 blocks at 100 000 a coin over 800 EH/s.
    assert hashprice_from_network(btc_price=100_000, network_hashrate_ehs=800) == pytest.approx(
        0.05625
    )
    with pytest.raises(ValueError, match="positive"):
        hashprice_from_network(btc_price=1, network_hashrate_ehs=0)
