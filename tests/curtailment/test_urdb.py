"""URDB rates: schedules, tiers, labels, effective dates, demand charges and the API wrapper."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.home_miner.curtailment import UrdbError, UrdbTier, parse_urdb

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SUMMER = range(5, 9)  # June..September, 0-based months
OFF_PEAK, PEAK, WINTER = 0, 1, 2


def _weekday_row(month: int) -> list[int]:
    if month in SUMMER:
        return [OFF_PEAK] * 16 + [PEAK] * 5 + [OFF_PEAK] * 3
    return [WINTER] * 24


def _weekend_row(month: int) -> list[int]:
    if month in SUMMER:
        return [OFF_PEAK] * 24
    return [OFF_PEAK] * 7 + [WINTER] * 17


def tou_rate() -> dict[str, Any]:
    """A residential TOU rate as the URDB API (v7/v8, detail=full) spells it."""
    return {
        "label": "5a1b2c3d4e5f6a7b8c9d0e1f",
        "utility": "Example Electric Co",
        "name": "E-TOU Residential Time-of-Use",
        "sector": "Residential",
        "startdate": 1704096000,  # 2024-01-01 00:00 in Los Angeles
        "enddate": 1735718400,  # 2025-01-01 00:00 in Los Angeles
        "fixedchargefirstmeter": 10.5,
        "fixedchargeunits": "$/month",
        "energyratestructure": [
            [{"rate": 0.30, "adj": 0.01, "unit": "kWh"}],
            [{"rate": 0.45, "adj": 0.01, "unit": "kWh", "max": 500}, {"rate": 0.5, "unit": "kWh"}],
            [{"rate": 0.25, "unit": "kWh"}],
        ],
        "energytoulabels": ["off-peak", "peak", "winter"],
        "energyweekdayschedule": [_weekday_row(m) for m in range(12)],
        "energyweekendschedule": [_weekend_row(m) for m in range(12)],
        "demandratestructure": [[{"rate": 12.5, "adj": 0.5}], [{"rate": 3.0}]],
        "demandweekdayschedule": [[0] * 16 + [1] * 5 + [0] * 3 for _ in range(12)],
        "demandweekendschedule": [[0] * 24 for _ in range(12)],
        "demandunits": "kW",
        "flatdemandstructure": [[{"rate": 5.0, "unit": "kW"}]],
        "flatdemandmonths": [0] * 12,
        "flatdemandunit": "kW",
    }


def la(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOS_ANGELES)


def test_prices_by_season_day_and_hour() -> None:
    tariff = parse_urdb(tou_rate(), timezone=LOS_ANGELES)
    peak = tariff.period_at(la(2024, 7, 10, 17, 30))
    assert peak is not None
    assert peak.label == "peak"
    assert peak.price == pytest.approx(0.46)
    assert (peak.start, peak.end) == (la(2024, 7, 10, 16), la(2024, 7, 10, 21))
    weekend = tariff.period_at(la(2024, 7, 13, 17, 30))
    assert weekend is not None
    assert weekend.label == "off-peak"
    assert weekend.price == pytest.approx(0.31)
    winter = tariff.period_at(la(2024, 1, 10, 12))
    assert winter is not None
    assert (winter.label, winter.price) == ("winter", 0.25)
    assert tariff.next_change(la(2024, 7, 10, 12)) == la(2024, 7, 10, 16)


def test_tiers_fixed_and_demand_charges_are_reported() -> None:
    tariff = parse_urdb(tou_rate(), timezone=LOS_ANGELES)
    assert tariff.energy_periods[1].tiers == (
        UrdbTier(rate=0.45, adj=0.01, unit="kWh", maximum=500),
        UrdbTier(rate=0.5, unit="kWh"),
    )
    assert (tariff.fixed_charge_first_meter, tariff.fixed_charge_units) == (10.5, "$/month")
    assert (tariff.label, tariff.utility) == ("5a1b2c3d4e5f6a7b8c9d0e1f", "Example Electric Co")
    demand = tariff.demand
    assert demand is not None
    assert [tiers[0].price for tiers in demand.periods] == [13.0, 3.0]
    assert demand.weekday_schedule is not None
    assert demand.weekday_schedule[6][17] == 1
    assert demand.flat_months == (0,) * 12
    assert demand.unit == "kW"


def test_holidays_use_the_weekend_schedule() -> None:
    tariff = parse_urdb(tou_rate(), timezone=LOS_ANGELES, holidays=frozenset({date(2024, 7, 4)}))
    holiday = tariff.period_at(la(2024, 7, 4, 17))
    assert holiday is not None
    assert holiday.label == "off-peak"


def test_outside_effective_dates_there_is_no_price() -> None:
    tariff = parse_urdb(tou_rate(), timezone=LOS_ANGELES)
    assert tariff.period_at(la(2023, 12, 31, 12)) is None
    assert tariff.period_at(la(2025, 1, 1, 12)) is None
    last = tariff.period_at(la(2024, 12, 31, 23, 30))
    assert last is not None
    assert last.end == la(2025, 1, 1)


@pytest.mark.parametrize(
    ("day", "off_peak_hours"), [(date(2024, 3, 10), 6), (date(2024, 11, 3), 8)]
)
def test_dst_sundays(day: date, off_peak_hours: int) -> None:
    tariff = parse_urdb(tou_rate(), timezone=LOS_ANGELES)
    first, second = tariff.day_periods(day)
    assert (first.label, second.label) == ("off-peak", "winter")
    assert first.end - first.start == timedelta(hours=off_peak_hours)
    assert second.end - second.start == timedelta(hours=17)


def test_items_wrapper_picks_the_first_or_the_labelled_rate() -> None:
    other = copy.deepcopy(tou_rate()) | {
        "label": "other",
        "energyratestructure": [[{"rate": 0.1}]] * 3,
    }
    wrapped = {"items": [other, tou_rate()]}
    assert parse_urdb(wrapped, timezone=LOS_ANGELES).label == "other"
    chosen = parse_urdb(wrapped, timezone=LOS_ANGELES, label="5a1b2c3d4e5f6a7b8c9d0e1f")
    assert chosen.name == "E-TOU Residential Time-of-Use"
    with pytest.raises(UrdbError, match="no rate labelled 'missing'"):
        parse_urdb(wrapped, timezone=LOS_ANGELES, label="missing")


def test_flat_rate_without_labels_or_weekend_schedule() -> None:
    rate = {
        "energyratestructure": [[{"rate": 0.12, "unit": "kWh"}]],
        "energyweekdayschedule": [[0] * 24] * 12,
    }
    tariff = parse_urdb(rate, timezone=UTC)
    period = tariff.period_at(datetime(2024, 6, 1, 12, tzinfo=UTC))
    assert period is not None
    assert (period.label, period.price) == ("period 1", 0.12)
    assert tariff.demand is None
    assert tariff.next_change(datetime(2024, 6, 1, 12, tzinfo=UTC)) is None


def _broken(**changes: Any) -> dict[str, Any]:
    rate = tou_rate()
    for key, value in changes.items():
        if value is None:
            rate.pop(key)
        else:
            rate[key] = value
    return rate


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be an object"),
        ({"items": []}, "holds no rate"),
        ({"items": "x"}, "must be a list"),
        (_broken(energyratestructure=None), "energyratestructure must be a list"),
        (_broken(energyratestructure=[]), "no energy charges"),
        (_broken(energyratestructure=[[]] * 3), "has no tiers"),
        (_broken(energyratestructure=[[{"unit": "kWh"}]] * 3), "neither rate nor adj"),
        (_broken(energyratestructure=[[{"rate": "x"}]] * 3), "must be a number"),
        (_broken(energyweekdayschedule=[[0] * 24] * 11), "must have 12 months"),
        (_broken(energyweekdayschedule=[[0] * 23] * 12), "must have 24 hours"),
        (_broken(energyweekdayschedule=[[3] * 24] * 12), "period that does not exist"),
        (_broken(energyweekendschedule=[["a"] * 24] * 12), "must be an integer"),
        (_broken(energytoulabels=["a", "a", "b"]), "same label"),
        (_broken(startdate="yesterday"), "must be a number"),
        (_broken(enddate=1704096000), "enddate is not after startdate"),
        (_broken(startdate=1e300), "not a valid timestamp"),
        (_broken(demandweekdayschedule=[[5] * 24] * 12), "period that does not exist"),
    ],
)
def test_malformed_rates_raise_urdb_error(data: object, message: str) -> None:
    with pytest.raises(UrdbError, match="Invalid URDB rate") as caught:
        parse_urdb(data, timezone=LOS_ANGELES)
    assert message in str(caught.value)
