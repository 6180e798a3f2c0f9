"""Time-of-use bands: days, months, midnight, holidays and DST in the plan's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.home_miner.curtailment import (
    BandTariff,
    TariffError,
    TouBand,
    parse_bands,
)

WEEKDAYS = frozenset(range(5))


def weekday_peak(tz: ZoneInfo, **kwargs: object) -> BandTariff:
    return BandTariff(
        bands=(TouBand(label="peak", price=0.40, start=time(17), end=time(21), days=WEEKDAYS),),
        timezone=tz,
        default_label="off-peak",
        default_price=0.20,
        **kwargs,  # type: ignore[arg-type]
    )


def night_and_day(tz: ZoneInfo) -> BandTariff:
    return BandTariff(
        bands=(
            TouBand(label="night", price=0.20, start=time(0), end=time(7)),
            TouBand(label="day", price=0.30, start=time(7), end=time(0)),
        ),
        timezone=tz,
    )


def test_weekday_peak(berlin: ZoneInfo) -> None:
    tariff = weekday_peak(berlin)
    friday_evening = datetime(2025, 6, 6, 18, 0, tzinfo=berlin)
    period = tariff.period_at(friday_evening)
    assert period is not None
    assert (period.label, period.price) == ("peak", 0.40)
    assert period.start == datetime(2025, 6, 6, 17, 0, tzinfo=berlin)
    assert period.end == datetime(2025, 6, 6, 21, 0, tzinfo=berlin)
    saturday = tariff.period_at(datetime(2025, 6, 7, 18, 0, tzinfo=berlin))
    assert saturday is not None
    assert saturday.label == "off-peak"
    assert tariff.next_change(datetime(2025, 6, 6, 12, 0, tzinfo=berlin)) == datetime(
        2025, 6, 6, 17, 0, tzinfo=berlin
    )
    assert tariff.next_change(friday_evening) == datetime(2025, 6, 6, 21, 0, tzinfo=berlin)
    # From Friday night the next change is Monday 17:00: the weekend merges into one period.
    assert tariff.next_change(datetime(2025, 6, 6, 22, 0, tzinfo=berlin)) == datetime(
        2025, 6, 9, 17, 0, tzinfo=berlin
    )


def test_time_is_read_in_the_tariff_timezone(berlin: ZoneInfo) -> None:
    tariff = weekday_peak(berlin)
    period = tariff.period_at(datetime(2025, 6, 6, 15, 30, tzinfo=UTC))
    assert period is not None
    assert period.label == "peak"


def test_band_crossing_midnight_belongs_to_each_wall_clock_day(berlin: ZoneInfo) -> None:
    tariff = BandTariff(
        bands=(TouBand(label="night", price=0.1, start=time(22), end=time(6)),),
        timezone=berlin,
        default_label="day",
        default_price=0.3,
    )
    at_late = tariff.period_at(datetime(2025, 6, 3, 23, 30, tzinfo=berlin))
    assert at_late is not None
    assert at_late.label == "night"
    assert at_late.start == datetime(2025, 6, 3, 22, 0, tzinfo=berlin)
    assert at_late.end == datetime(2025, 6, 4, 6, 0, tzinfo=berlin)
    at_six = tariff.period_at(datetime(2025, 6, 4, 6, 0, tzinfo=berlin))
    assert at_six is not None
    assert at_six.label == "day"


def test_monday_only_night_band_covers_monday_both_ends(berlin: ZoneInfo) -> None:
    tariff = BandTariff(
        bands=(TouBand(label="night", start=time(22), end=time(6), days=frozenset({0})),),
        timezone=berlin,
    )
    monday = date(2025, 6, 2)
    labels = [
        (p.start.astimezone(berlin).time(), p.end.astimezone(berlin).time())
        for p in tariff.day_periods(monday)
    ]
    assert labels == [(time(0), time(6)), (time(22), time(0))]
    assert tariff.period_at(datetime(2025, 6, 3, 3, 0, tzinfo=berlin)) is None


def test_holiday_counts_as_weekend(berlin: ZoneInfo) -> None:
    christmas = date(2025, 12, 25)
    tariff = BandTariff(
        bands=(
            TouBand(label="peak", price=0.4, start=time(17), end=time(21), days=WEEKDAYS),
            TouBand(label="weekend", price=0.15, days=frozenset({5, 6})),
        ),
        timezone=berlin,
        holidays=frozenset({christmas}),
        default_label="off-peak",
    )
    on_holiday = tariff.period_at(datetime(2025, 12, 25, 18, 0, tzinfo=berlin))
    on_workday = tariff.period_at(datetime(2025, 12, 24, 18, 0, tzinfo=berlin))
    assert on_holiday is not None
    assert on_workday is not None
    assert (on_holiday.label, on_holiday.price) == ("weekend", 0.15)
    assert on_workday.label == "peak"


def test_months_and_first_band_wins(berlin: ZoneInfo) -> None:
    tariff = BandTariff(
        bands=(
            TouBand(
                label="summer-peak",
                price=0.5,
                start=time(14),
                end=time(20),
                months=frozenset({6, 7, 8, 9}),
            ),
            TouBand(label="flat", price=0.25),
        ),
        timezone=berlin,
    )
    july = tariff.period_at(datetime(2025, 7, 1, 15, 0, tzinfo=berlin))
    january = tariff.period_at(datetime(2025, 1, 7, 15, 0, tzinfo=berlin))
    assert july is not None
    assert january is not None
    assert (july.label, january.label) == ("summer-peak", "flat")
    assert tariff.next_change(datetime(2025, 1, 7, 15, 0, tzinfo=berlin)) is None


@pytest.mark.parametrize(
    ("zone", "day", "night_hours", "day_hours"),
    [
        ("Europe/Berlin", date(2025, 3, 30), 6, 17),
        ("Europe/Berlin", date(2025, 10, 26), 8, 17),
        ("America/New_York", date(2025, 3, 9), 6, 17),
        ("America/New_York", date(2025, 11, 2), 8, 17),
    ],
)
def test_dst_days_are_23_and_25_hours(
    zone: str, day: date, night_hours: int, day_hours: int
) -> None:
    tz = ZoneInfo(zone)
    periods = night_and_day(tz).day_periods(day)
    assert [p.label for p in periods] == ["night", "day"]
    assert periods[0].end - periods[0].start == timedelta(hours=night_hours)
    assert periods[1].end - periods[1].start == timedelta(hours=day_hours)
    assert periods[0].start == datetime(day.year, day.month, day.day, tzinfo=tz)


def test_band_starting_in_the_skipped_hour_starts_when_clocks_jump(berlin: ZoneInfo) -> None:
    tariff = BandTariff(
        bands=(
            TouBand(label="early", start=time(0), end=time(2, 30)),
            TouBand(label="rest", start=time(2, 30), end=time(0)),
        ),
        timezone=berlin,
    )
    early, rest = tariff.day_periods(date(2025, 3, 30))
    assert early.end == rest.start == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert early.end - early.start == timedelta(hours=2)


def test_band_at_a_repeated_time_uses_its_first_occurrence(new_york: ZoneInfo) -> None:
    tariff = BandTariff(
        bands=(
            TouBand(label="early", start=time(0), end=time(1, 30)),
            TouBand(label="rest", start=time(1, 30), end=time(0)),
        ),
        timezone=new_york,
    )
    early, rest = tariff.day_periods(date(2025, 11, 2))
    assert early.end == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    assert rest.end - rest.start == timedelta(hours=23, minutes=30)


def test_next_change_and_periods_across_spring_forward(berlin: ZoneInfo) -> None:
    tariff = night_and_day(berlin)
    assert tariff.next_change(datetime(2025, 3, 30, 1, 0, tzinfo=berlin)) == datetime(
        2025, 3, 30, 5, 0, tzinfo=UTC
    )
    start = datetime(2025, 3, 29, 12, 0, tzinfo=berlin).astimezone(UTC)
    periods = tariff.periods(start, start + timedelta(hours=48))
    assert [p.label for p in periods] == ["day", "night", "day", "night", "day"]
    assert sum((p.end - p.start for p in periods), timedelta()) == timedelta(hours=48)
    assert periods[1].end - periods[1].start == timedelta(hours=6)


def test_gaps_without_default_have_no_period(berlin: ZoneInfo) -> None:
    tariff = BandTariff(
        bands=(TouBand(label="peak", start=time(17), end=time(21)),), timezone=berlin
    )
    assert tariff.period_at(datetime(2025, 6, 2, 12, 0, tzinfo=berlin)) is None
    assert tariff.next_change(datetime(2025, 6, 2, 12, 0, tzinfo=berlin)) == datetime(
        2025, 6, 2, 17, 0, tzinfo=berlin
    )


def test_parse_bands_from_config_flow_data(berlin: ZoneInfo) -> None:
    tariff = parse_bands(
        {
            "bands": [
                {
                    "label": "peak",
                    "price": "0.42",
                    "start": "17:00",
                    "end": "24:00",
                    "days": ["mon", "Tuesday", 2, 3, 4],
                    "months": [1, 2, 12],
                },
            ],
            "holidays": ["2025-12-25"],
            "default_label": "off-peak",
            "default_price": 0.2,
        },
        timezone=berlin,
    )
    assert tariff.bands == (
        TouBand(
            label="peak",
            price=0.42,
            start=time(17),
            end=time(0),
            days=WEEKDAYS,
            months=frozenset({1, 2, 12}),
        ),
    )
    assert tariff.holidays == frozenset({date(2025, 12, 25)})
    bare = parse_bands([{"label": "flat", "price": 0.3}], timezone=berlin)
    assert bare.bands[0].days == frozenset(range(7))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("peak", "must be an object"),
        ({"bands": []}, "at least one band"),
        ({"bands": [{"price": 1}]}, "label must be a string"),
        ({"bands": [{"label": " "}]}, "must not be empty"),
        ({"bands": [{"label": "x", "start": "25:00"}]}, "not a time of day"),
        ({"bands": [{"label": "x", "days": [7]}]}, "0 (Monday) to 6 (Sunday)"),
        ({"bands": [{"label": "x", "days": ["funday"]}]}, "unknown day"),
        ({"bands": [{"label": "x", "months": [0, 13]}]}, "months are 1 to 12"),
        ({"bands": [{"label": "x", "price": "cheap"}]}, "must be a number"),
        ({"bands": [{"label": "x"}], "holidays": ["xmas"]}, "Invalid"),
    ],
)
def test_parse_bands_rejects_bad_input(data: object, message: str, berlin: ZoneInfo) -> None:
    with pytest.raises(TariffError, match="Invalid time-of-use bands") as caught:
        parse_bands(data, timezone=berlin)
    assert message in str(caught.value)


def test_naive_time_is_refused(berlin: ZoneInfo) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        weekday_peak(berlin).period_at(datetime(2025, 6, 2, 12, 0))
