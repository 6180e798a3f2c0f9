"""Price forecasts of every supported integration, normalised into one `PriceSeries`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
import logging
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.home_miner.curtailment import (
    PriceFormatError,
    PriceMapping,
    PricePoint,
    PricePreset,
    PriceSeries,
    parse_prices,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LONDON = ZoneInfo("Europe/London")


def day_entries(
    local_midnight: datetime, values: Sequence[float | None], step: timedelta, *, as_text: bool
) -> list[dict[str, Any]]:
    """Nord Pool custom-component style entries, stepping in real (UTC) time."""
    start = local_midnight.astimezone(UTC)
    entries = []
    for index, value in enumerate(values):
        begin = (start + index * step).astimezone(local_midnight.tzinfo)
        end = (start + (index + 1) * step).astimezone(local_midnight.tzinfo)
        entries.append(
            {
                "start": begin.isoformat() if as_text else begin,
                "end": end.isoformat() if as_text else end,
                "value": value,
            }
        )
    return entries


def test_nordpool_custom_attributes_with_datetimes() -> None:
    midnight = datetime(2025, 6, 2, tzinfo=STOCKHOLM)
    attributes = {
        "raw_today": day_entries(
            midnight, [0.10 + h / 100 for h in range(24)], timedelta(hours=1), as_text=False
        ),
        "raw_tomorrow": [],
        "tomorrow_valid": False,
    }
    series = parse_prices(attributes, preset=PricePreset.NORDPOOL)
    assert len(series.points) == 24
    assert series.price_at(datetime(2025, 6, 2, 17, 30, tzinfo=STOCKHOLM)) == pytest.approx(0.27)
    assert series.price_at(datetime(2025, 6, 3, 0, 0, tzinfo=STOCKHOLM)) is None
    assert series.next_change(datetime(2025, 6, 2, 17, 30, tzinfo=STOCKHOLM)) == datetime(
        2025, 6, 2, 18, 0, tzinfo=STOCKHOLM
    )


def test_nordpool_15_minute_today_and_tomorrow_as_text() -> None:
    today = datetime(2025, 10, 1, tzinfo=STOCKHOLM)
    tomorrow = datetime(2025, 10, 2, tzinfo=STOCKHOLM)
    quarter = timedelta(minutes=15)
    attributes = {
        "raw_today": day_entries(today, [1.0] * 96, quarter, as_text=True),
        "raw_tomorrow": day_entries(tomorrow, [2.0] * 95 + [None], quarter, as_text=True),
    }
    series = parse_prices(attributes, preset=PricePreset.NORDPOOL)
    assert len(series.points) == 96 + 95
    assert series.price_at(datetime(2025, 10, 1, 23, 59, tzinfo=STOCKHOLM)) == 1.0
    assert series.price_at(datetime(2025, 10, 2, 0, 0, tzinfo=STOCKHOLM)) == 2.0
    assert series.price_at(datetime(2025, 10, 2, 23, 50, tzinfo=STOCKHOLM)) is None


@pytest.mark.parametrize(
    ("midnight", "hours"), [(datetime(2025, 3, 30), 23), (datetime(2025, 10, 26), 25)]
)
def test_nordpool_dst_days(midnight: datetime, hours: int) -> None:
    local = midnight.replace(tzinfo=STOCKHOLM)
    values = [float(h) for h in range(hours)]
    series = parse_prices(
        {
            "raw_today": day_entries(local, values, timedelta(hours=1), as_text=True),
            "raw_tomorrow": [],
        },
        preset=PricePreset.NORDPOOL,
    )
    assert series.points[-1].end - series.points[0].start == timedelta(hours=hours)
    # 04:30 local is the 4th hour on the short day (02:00-03:00 does not exist) and the 6th
    # on the long one (02:00-03:00 happens twice).
    at_half_past_four = series.price_at(local.replace(hour=4, minute=30))
    assert at_half_past_four == (3.0 if hours == 23 else 5.0)


def test_nordpool_action_response_in_mwh() -> None:
    response = {
        "SE3": [
            {
                "start": "2025-06-01T22:00:00+00:00",
                "end": "2025-06-01T22:15:00+00:00",
                "price": 123.4,
            },
            {
                "start": "2025-06-01T22:15:00+00:00",
                "end": "2025-06-01T22:30:00+00:00",
                "price": -5.0,
            },
        ],
        "SE4": [
            {
                "start": "2025-06-01T22:00:00+00:00",
                "end": "2025-06-01T22:15:00+00:00",
                "price": 200.0,
            }
        ],
    }
    se3 = parse_prices(response, preset=PricePreset.NORDPOOL_ACTION, select="SE3")
    assert [p.price for p in se3.points] == [pytest.approx(0.1234), pytest.approx(-0.005)]
    with pytest.raises(PriceFormatError, match="several series"):
        parse_prices(response, preset=PricePreset.NORDPOOL_ACTION)
    with pytest.raises(PriceFormatError, match="no price list"):
        parse_prices(response, preset=PricePreset.NORDPOOL_ACTION, select="FI")
    only = parse_prices({"FI": response["SE4"]}, preset=PricePreset.NORDPOOL_ACTION)
    assert only.points[0].price == pytest.approx(0.2)


def test_tibber_prices_have_ends_from_the_next_start() -> None:
    response = {
        "prices": {
            "Home": [
                {"start_time": "2025-06-02T00:00:00.000+02:00", "price": 0.2512},
                {"start_time": "2025-06-02T00:15:00.000+02:00", "price": 0.2498},
                {"start_time": "2025-06-02T00:30:00.000+02:00", "price": 0.2401},
            ]
        }
    }
    series = parse_prices(response, preset=PricePreset.TIBBER)
    assert series.points == (
        PricePoint(
            start=datetime(2025, 6, 1, 22, 0, tzinfo=UTC),
            end=datetime(2025, 6, 1, 22, 15, tzinfo=UTC),
            price=0.2512,
        ),
        PricePoint(
            start=datetime(2025, 6, 1, 22, 15, tzinfo=UTC),
            end=datetime(2025, 6, 1, 22, 30, tzinfo=UTC),
            price=0.2498,
        ),
        PricePoint(
            start=datetime(2025, 6, 1, 22, 30, tzinfo=UTC),
            end=datetime(2025, 6, 1, 22, 45, tzinfo=UTC),
            price=0.2401,
        ),
    )
    two_homes = {"prices": {"Home": response["prices"]["Home"], "Cabin": []}}
    assert len(parse_prices(two_homes, preset=PricePreset.TIBBER, select="Home").points) == 3


def test_octopus_rate_events_merge_across_days() -> None:
    current = {
        "rates": [
            {
                "start": "2025-06-02T00:00:00+01:00",
                "end": "2025-06-02T00:30:00+01:00",
                "value_inc_vat": 0.1502,
                "is_capped": False,
            },
            {
                "start": "2025-06-02T00:30:00+01:00",
                "end": "2025-06-02T01:00:00+01:00",
                "value_inc_vat": 0.1421,
                "is_capped": False,
            },
        ],
        "tariff_code": "E-1R-AGILE-24-10-01-C",
    }
    following = {
        "rates": [
            {
                "start": "2025-06-03T00:00:00+01:00",
                "end": "2025-06-03T00:30:00+01:00",
                "value_inc_vat": 0.31,
                "is_capped": True,
            }
        ]
    }
    series = parse_prices(current, preset=PricePreset.OCTOPUS).merged(
        parse_prices(following, preset=PricePreset.OCTOPUS)
    )
    assert series.price_at(datetime(2025, 6, 2, 0, 45, tzinfo=LONDON)) == 0.1421
    assert series.price_at(datetime(2025, 6, 2, 12, 0, tzinfo=LONDON)) is None
    assert series.price_at(datetime(2025, 6, 3, 0, 10, tzinfo=LONDON)) == 0.31


def test_entsoe_attributes_with_duplicates_and_mixed_resolution() -> None:
    hourly = [
        {"time": "2025-09-30T22:00:00+00:00", "price": 0.10},
        {"time": "2025-09-30T23:00:00+00:00", "price": 0.11},
    ]
    quarters = [
        {"time": f"2025-10-01T00:{minute:02d}:00+00:00", "price": 0.20 + minute / 1000}
        for minute in (0, 15, 30, 45)
    ]
    attributes = {"prices_today": hourly, "prices_tomorrow": quarters, "prices": hourly + quarters}
    series = parse_prices(attributes, preset=PricePreset.ENTSOE)
    assert [(p.end - p.start) for p in series.points] == [timedelta(hours=1)] * 2 + [
        timedelta(minutes=15)
    ] * 4
    assert series.price_at(datetime(2025, 9, 30, 23, 59, tzinfo=UTC)) == 0.11
    assert series.price_at(datetime(2025, 10, 1, 0, 50, tzinfo=UTC)) == pytest.approx(0.245)
    only_all = parse_prices({"prices": hourly}, preset=PricePreset.ENTSOE)
    assert len(only_all.points) == 2


def test_amber_forecasts() -> None:
    attributes = {
        "forecasts": [
            {
                "duration": 30,
                "date": "2025-06-02",
                "nem_date": "2025-06-02T10:30:00+10:00",
                "per_kwh": 0.31,
                "spot_per_kwh": 0.09,
                "start_time": "2025-06-02T00:00:01+00:00",
                "end_time": "2025-06-02T00:30:00+00:00",
                "renewables": 41.2,
                "spike_status": "none",
                "descriptor": "high",
            }
        ]
    }
    series = parse_prices(attributes, preset=PricePreset.AMBER)
    assert series.price_at(datetime(2025, 6, 2, 0, 15, tzinfo=UTC)) == 0.31


def test_energyzero_hourly_response_with_a_gap() -> None:
    response = {
        "prices": [
            {"timestamp": "2025-06-01 22:00:00+00:00", "price": 0.21},
            {"timestamp": "2025-06-01 23:00:00+00:00", "price": 0.19},
            {"timestamp": "2025-06-02 03:00:00+00:00", "price": 0.25},
        ]
    }
    series = parse_prices(response, preset=PricePreset.ENERGYZERO)
    after_gap_start = datetime(2025, 6, 2, 0, 30, tzinfo=UTC)
    assert series.price_at(datetime(2025, 6, 2, 0, 30, tzinfo=AMSTERDAM)) == 0.21
    assert series.price_at(after_gap_start) is None
    assert series.next_change(after_gap_start) == datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    assert series.points[-1].end == datetime(2025, 6, 2, 4, 0, tzinfo=UTC)


def test_generic_mapping_with_naive_times_in_a_timezone() -> None:
    data = {"data": [{"from": "2025-06-02T10:00", "till": "2025-06-02T11:00", "ct": 31.5}]}
    mapping = PriceMapping(
        lists=(("data",),), start_key="from", end_key="till", value_key="ct", scale=0.01
    )
    series = parse_prices(data, mapping=mapping, timezone=AMSTERDAM)
    assert series.points == (
        PricePoint(
            start=datetime(2025, 6, 2, 8, tzinfo=UTC),
            end=datetime(2025, 6, 2, 9, tzinfo=UTC),
            price=0.315,
        ),
    )
    epoch = {"raw_today": [{"start": 1748858400, "end": 1748862000, "value": "0.5"}]}
    assert parse_prices(epoch).points[0].start == datetime(2025, 6, 2, 10, tzinfo=UTC)


def test_unreadable_intervals_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    attributes = {
        "raw_today": [
            {
                "start": "2025-06-02T10:00:00+00:00",
                "end": "2025-06-02T11:00:00+00:00",
                "value": 0.3,
            },
            {"start": "soon", "end": "later", "value": 0.3},
            {
                "start": "2025-06-02T12:00:00+00:00",
                "end": "2025-06-02T11:00:00+00:00",
                "value": 0.3,
            },
            {
                "start": "2025-06-02T13:00:00+00:00",
                "end": "2025-06-02T14:00:00+00:00",
                "value": "NaN",
            },
            "not an interval",
        ]
    }
    with caplog.at_level(logging.WARNING):
        series = parse_prices(attributes)
    assert len(series.points) == 1
    assert "Skipped 4 unreadable generic price interval(s)" in caplog.text


def test_overlapping_intervals_keep_the_first(caplog: pytest.LogCaptureFixture) -> None:
    start = datetime(2025, 6, 2, 10, tzinfo=UTC)
    with caplog.at_level(logging.WARNING):
        series = PriceSeries.from_points(
            [
                PricePoint(start=start, end=start + timedelta(hours=1), price=1.0),
                PricePoint(
                    start=start + timedelta(minutes=30), end=start + timedelta(hours=2), price=2.0
                ),
            ]
        )
    assert [p.price for p in series.points] == [1.0]
    assert "overlaps" in caplog.text


@pytest.mark.parametrize(
    ("data", "preset", "message"),
    [
        ([1, 2], PricePreset.NORDPOOL, "must be an object"),
        ({"state": 3}, PricePreset.NORDPOOL, "no price list found"),
        ({"raw_today": "x"}, PricePreset.NORDPOOL, "must be a list"),
        ({"prices": {"a": [], "b": []}}, PricePreset.TIBBER, "choose one"),
        ({"prices": 5}, PricePreset.ENERGYZERO, "must be a list"),
        ({1: []}, PricePreset.NORDPOOL_ACTION, "not a string"),
    ],
)
def test_wrong_containers_raise(data: object, preset: PricePreset, message: str) -> None:
    with pytest.raises(PriceFormatError, match=f"Unreadable {preset.value} prices") as caught:
        parse_prices(data, preset=preset)
    assert message in str(caught.value)
