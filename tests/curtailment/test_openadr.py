"""OpenADR 3 events as `DrEvent`s: timing rules, payloads and both target shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from types import MappingProxyType
from typing import Any

import pytest

from custom_components.home_miner.curtailment import (
    DrSignal,
    OadrOptions,
    OadrProgram,
    OpenAdrFormatError,
    parse_event,
    parse_events,
    parse_program,
)
from custom_components.home_miner.curtailment.openadr import PayloadDescriptor

from .vtn import event, interval, program

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)


def simple_event(**extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "intervalPeriod": {"start": "2025-06-02T16:00:00Z", "duration": "PT1H"},
        "priority": 2,
        "eventName": "Evening peak",
    }
    return event(
        "evt-1",
        "prog-1",
        [interval(0, "SIMPLE", 1), interval(1, "SIMPLE", 2), interval(2, "SIMPLE", 3)],
        **(fields | extra),
    )


def test_intervals_follow_each_other_and_simple_levels_become_fractions() -> None:
    parsed = parse_event(simple_event(), now=NOW)
    assert [(e.start.hour, e.end.hour if e.end else None, e.value) for e in parsed] == [
        (16, 17, 0.75),
        (17, 18, 0.5),
        (18, 19, 0.0),
    ]
    assert {e.signal for e in parsed} == {DrSignal.POWER_FRACTION}
    assert parsed[0].event_id == "evt-1/0/power_fraction"
    assert (parsed[0].priority, parsed[0].name) == (2, "Evening peak")


def test_interval_period_overrides_the_event_default() -> None:
    data = event(
        "evt-2",
        "prog-1",
        [
            interval(0, "SIMPLE", 2),
            interval(1, "SIMPLE", 3, start="2025-06-02T20:00:00Z", duration="PT30M"),
            interval(2, "SIMPLE", 1),
        ],
        intervalPeriod={"start": "2025-06-02T18:00:00Z", "duration": "PT15M"},
    )
    starts_ends = [(e.start, e.end) for e in parse_event(data, now=NOW)]
    assert starts_ends == [
        (datetime(2025, 6, 2, 18, 0, tzinfo=UTC), datetime(2025, 6, 2, 18, 15, tzinfo=UTC)),
        (datetime(2025, 6, 2, 20, 0, tzinfo=UTC), datetime(2025, 6, 2, 20, 30, tzinfo=UTC)),
        (datetime(2025, 6, 2, 20, 30, tzinfo=UTC), datetime(2025, 6, 2, 20, 45, tzinfo=UTC)),
    ]


def test_start_now_and_until_cancelled() -> None:
    data = event(
        "alert",
        "prog-1",
        [{"id": 0, "payloads": [{"type": "ALERT_GRID_EMERGENCY", "values": ["Stage 3"]}]}],
        intervalPeriod={"start": "0001-01-01", "duration": "P9999Y"},
    )
    (parsed,) = parse_event(data, now=NOW)
    assert (parsed.signal, parsed.start, parsed.end) == (DrSignal.STOP, NOW, None)
    with_time = data | {"intervalPeriod": {"start": "0001-01-01T00:00:00Z"}}
    assert parse_event(with_time, now=NOW)[0].start == NOW


def test_randomize_start_is_deterministic_and_bounded() -> None:
    data = simple_event(
        intervalPeriod={
            "start": "2025-06-02T16:00:00Z",
            "duration": "PT1H",
            "randomizeStart": "PT10M",
        }
    )
    first = parse_event(data, now=NOW)
    again = parse_event(data, now=NOW)
    other_ven = parse_event(data, now=NOW, options=OadrOptions(seed="another-ven"))
    assert first == again
    base = datetime(2025, 6, 2, 16, tzinfo=UTC)
    assert timedelta(0) <= first[0].start - base < timedelta(minutes=10)
    assert first[1].start == first[0].end
    assert other_ven[0].start != first[0].start


def test_price_capacity_units_and_unknown_payloads() -> None:
    data = event(
        "evt-3",
        "prog-1",
        [
            {
                "id": 0,
                "payloads": [
                    {"type": "PRICE", "values": [150.0]},
                    {"type": "IMPORT_CAPACITY_LIMIT", "values": [2500]},
                    {"type": "CHARGE_STATE_SETPOINT", "values": [80]},
                ],
            }
        ],
        intervalPeriod={"start": "2025-06-02T16:00:00Z", "duration": "PT2H"},
        payloadDescriptors=[
            {
                "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                "payloadType": "PRICE",
                "units": "MWH",
                "currency": "EUR",
            },
            {
                "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                "payloadType": "IMPORT_CAPACITY_LIMIT",
                "units": "W",
            },
        ],
    )
    by_signal = {e.signal: e.value for e in parse_event(data, now=NOW)}
    assert by_signal == {DrSignal.PRICE: pytest.approx(0.15), DrSignal.CAPACITY_LIMIT: 2.5}
    no_units = event(
        "evt-4",
        "prog-1",
        [interval(0, "IMPORT_CAPACITY_LIMIT", 3.5)],
        intervalPeriod={"start": "2025-06-02T16:00:00Z", "duration": "PT2H"},
    )
    assert parse_event(no_units, now=NOW)[0].value == 3.5
    from_program = OadrProgram(
        program_id="prog-1",
        name="Capacity",
        descriptors=(PayloadDescriptor(payload_type="IMPORT_CAPACITY_LIMIT", units="MW"),),
    )
    assert parse_event(no_units, now=NOW, program=from_program)[0].value == 3500


def test_targets_in_both_shapes() -> None:
    ours = OadrOptions(targets=frozenset({"group-1"}))
    v31 = simple_event(targets=["group-1", "ven-7"])
    v301 = simple_event(targets=[{"type": "GROUP", "values": ["group-1"]}])
    elsewhere = simple_event(targets=[{"type": "GROUP", "values": ["group-2"]}])
    assert len(parse_event(v31, now=NOW, options=ours)) == 3
    assert len(parse_event(v301, now=NOW, options=ours)) == 3
    assert parse_event(elsewhere, now=NOW, options=ours) == ()
    assert len(parse_event(elsewhere, now=NOW)) == 3


def test_custom_simple_level_map() -> None:
    options = OadrOptions(simple_levels=MappingProxyType({0: 1.0, 1: 0.0, 2: 0.0, 3: 0.0}))
    assert [e.value for e in parse_event(simple_event(), now=NOW, options=options)] == [0.0] * 3


def test_program_both_shapes() -> None:
    parsed = parse_program(
        program("prog-1", "ResTOU", targets=[{"type": "GROUP", "values": ["a"]}])
    )
    assert parsed == OadrProgram(program_id="prog-1", name="ResTOU", targets=frozenset({"a"}))
    with pytest.raises(OpenAdrFormatError, match="programName"):
        parse_program({"id": "p"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "event must be an object"),
        ({"programID": "p"}, "event id must be a string"),
        ({"id": "e"}, "programID must be a string"),
        ({"id": "e", "programID": "p", "intervals": {}}, "intervals must be a list"),
        (
            {"id": "e", "programID": "p", "intervalPeriod": {"duration": "1 hour"}},
            "not an ISO 8601 duration",
        ),
        ({"id": "e", "programID": "p", "priority": "high"}, "priority must be an integer"),
        (
            {"id": "e", "programID": "p", "targets": [{"values": ["x"]}]},
            "target type must be a string",
        ),
    ],
)
def test_unreadable_events_raise(data: object, message: str) -> None:
    with pytest.raises(OpenAdrFormatError, match="Invalid OpenADR event") as caught:
        parse_event(data, now=NOW)
    assert message in str(caught.value)


def test_unreadable_intervals_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    data = event(
        "evt-5",
        "prog-1",
        [
            interval(0, "SIMPLE", 9),
            interval(1, "IMPORT_CAPACITY_LIMIT", -1, start="2025-06-02T16:00:00Z", duration="PT1H"),
            interval(2, "SIMPLE", 1, start="2025-06-02T18:00:00Z", duration="PT0S"),
            {"id": 3, "payloads": "SIMPLE"},
            interval(4, "SIMPLE", 1, start="2025-06-02T19:00:00Z", duration="-PT1H"),
            interval(5, "SIMPLE", 1, start="2025-06-02T20:00:00Z", duration="PT1H"),
        ],
    )
    with caplog.at_level(logging.WARNING):
        parsed = parse_event(data, now=NOW)
    assert [e.event_id for e in parsed] == ["evt-5/5/power_fraction"]
    assert caplog.text.count("Skipping interval") == 5


def test_event_list_skips_bad_events(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        parsed = parse_events([simple_event(), {"id": 3}, "junk"], now=NOW)
    assert len(parsed) == 3
    assert caplog.text.count("Skipping OpenADR event") == 2
    with pytest.raises(OpenAdrFormatError, match="must be a list"):
        parse_events({"events": []}, now=NOW)


def test_a_price_without_units_anywhere_is_not_read_as_a_price(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = event(
        "evt-6",
        "prog-1",
        [
            {
                "id": 0,
                "payloads": [
                    {"type": "PRICE", "values": [900.0]},
                    {"type": "SIMPLE", "values": [1]},
                ],
            }
        ],
        intervalPeriod={"start": "2025-06-02T16:00:00Z", "duration": "PT1H"},
    )
    capacity_only = OadrProgram(
        program_id="prog-1",
        name="Wholesale",
        descriptors=(PayloadDescriptor(payload_type="IMPORT_CAPACITY_LIMIT", units="KW"),),
    )
    with caplog.at_level(logging.WARNING):
        parsed = parse_event(data, now=NOW, program=capacity_only)
    assert [(e.signal, e.value) for e in parsed] == [(DrSignal.POWER_FRACTION, 0.75)]
    assert caplog.text.count("PRICE without units") == 1
    assert "evt-6" in caplog.text
    per_mwh = OadrProgram(
        program_id="prog-1",
        name="Wholesale",
        descriptors=(PayloadDescriptor(payload_type="PRICE", units="MWH", currency="EUR"),),
    )
    prices = [e.value for e in parse_event(data, now=NOW, program=per_mwh)]
    assert prices == [pytest.approx(0.9), 0.75]
    unitless_descriptor = data | {
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "currency": "EUR"}
        ]
    }
    prices = [e.value for e in parse_event(unitless_descriptor, now=NOW, program=per_mwh)]
    assert prices == [pytest.approx(0.9), 0.75]
    notes: list[str] = []
    assert len(parse_event(data, now=NOW, report=notes.append)) == 1
    assert len(notes) == 1
    assert "PRICE without units" in notes[0]
