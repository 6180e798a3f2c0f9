"""URDB rates: schedules, tiers, labels, effective dates, demand charges and the API wrapper."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
import json
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.home_miner.curtailment import UrdbError, UrdbTier, parse_urdb
from custom_components.home_miner.curtailment.errors import (
    UrdbExpiredError,
    UrdbPriceError,
    UrdbTooDeepError,
    UrdbTooLargeError,
)
from custom_components.home_miner.curtailment.urdb import MAX_JSON_CHARS, load_urdb_json

from .strategies import mutated

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
PHOENIX = ZoneInfo("America/Phoenix")
END_2024 = 1735718400  # 2025-01-01 00:00 in Los Angeles
RATES = Path(__file__).parent / "urdb"
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
    """A current residential TOU rate as the URDB API (v7/v8, detail=full) spells it: a rate
    still in effect has no end date."""
    return {
        "label": "5a1b2c3d4e5f6a7b8c9d0e1f",
        "utility": "Example Electric Co",
        "name": "E-TOU Residential Time-of-Use",
        "sector": "Residential",
        "startdate": 1704096000,  # 2024-01-01 00:00 in Los Angeles
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
    tariff = parse_urdb(tou_rate() | {"enddate": END_2024}, timezone=LOS_ANGELES)
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
        (_broken(startdate=1e300), "not a valid timestamp"),
    ],
)
def test_malformed_rates_raise_urdb_error(data: object, message: str) -> None:
    with pytest.raises(UrdbError, match="Invalid URDB rate") as caught:
        parse_urdb(data, timezone=LOS_ANGELES)
    assert message in str(caught.value)


def real_rate(name: str) -> Any:
    """A rate as OpenEI serves it (tests/curtailment/urdb/), every field it has included."""
    return json.loads((RATES / f"{name}.json").read_text())


def test_expired_rate_is_refused_for_a_new_plan_with_its_dates() -> None:
    """FPL's RS-1 of 2015 reads (a stored plan keeps working), but a plan set up today would
    get no periods from it at all: asked with the current time, it is refused."""
    rate = real_rate("fpl_rs1_2015")
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    tariff = parse_urdb(rate, timezone=LOS_ANGELES)
    assert tariff.periods(now, now + timedelta(days=2)) == ()
    with pytest.raises(UrdbExpiredError, match="ended on 2015-08-30") as caught:
        parse_urdb(rate, timezone=LOS_ANGELES, now=now)
    assert caught.value.start == datetime(2015, 6, 1, tzinfo=UTC)
    assert caught.value.end == datetime(2015, 8, 30, 23, tzinfo=UTC)
    current = parse_urdb(rate, timezone=LOS_ANGELES, now=datetime(2015, 7, 1, tzinfo=UTC))
    assert current.end == caught.value.end


def test_inverted_dates_are_ignored_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    """APS's R-3 as OpenEI has it: its enddate is the day before its startdate. The schedule
    is sound, so it is used on every date and the dates are dropped, with one warning."""
    caplog.set_level(logging.WARNING)
    tariff = parse_urdb(
        real_rate("aps_r3_inverted_dates"), timezone=PHOENIX, now=datetime(2026, 7, 1, tzinfo=UTC)
    )
    assert tariff.dates_ignored
    assert (tariff.start, tariff.end) == (None, None)
    peak = tariff.period_at(datetime(2026, 7, 15, 17, 30, tzinfo=PHOENIX))
    assert peak is not None
    assert (peak.label, peak.price) == ("Summer On-Peak", pytest.approx(0.24604))
    assert (peak.start, peak.end) == (
        datetime(2026, 7, 15, 16, tzinfo=PHOENIX),
        datetime(2026, 7, 15, 19, tzinfo=PHOENIX),
    )
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "enddate 2022-12-31" in warnings[0].getMessage()
    assert "startdate 2023-01-01" in warnings[0].getMessage()
    assert not parse_urdb(tariff.as_urdb(), timezone=PHOENIX).dates_ignored
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


@pytest.mark.parametrize(
    "tier",
    [
        {"rate": 1e308, "adj": 1e308, "unit": "kWh"},
        {"rate": -1e308, "adj": -1e308, "unit": "kWh"},
    ],
)
def test_energy_price_that_is_not_finite_is_refused(tier: dict[str, Any]) -> None:
    rate = tou_rate()
    rate["energyratestructure"][1] = [tier]
    with pytest.raises(UrdbPriceError, match="period 2 tier 1: rate \\+ adj is not a finite"):
        parse_urdb(rate, timezone=LOS_ANGELES)


@pytest.mark.parametrize(
    "changes",
    [
        {"demandratestructure": [[{"rate": "n/a"}]]},
        {"demandweekdayschedule": [[5] * 24] * 12},
        {"flatdemandstructure": [[{"rate": 1e308, "adj": 1e308}]]},
        {"flatdemandmonths": "all"},
        {"demandunits": 3},
        {"fixedchargefirstmeter": "7.57 $/month", "fixedchargeunits": ["$/month"]},
        {"name": 42, "utility": None},
    ],
)
def test_malformed_fields_the_engine_does_not_use_are_ignored(changes: dict[str, Any]) -> None:
    """Demand and fixed charges are never used to curtail: broken ones must not cost the user
    the rate's energy schedule."""
    tariff = parse_urdb(tou_rate() | changes, timezone=LOS_ANGELES)
    peak = tariff.period_at(la(2024, 7, 10, 17, 30))
    assert peak is not None
    assert (peak.label, peak.price) == ("peak", pytest.approx(0.46))


def test_json_text_is_bounded_in_size_and_depth() -> None:
    text = json.dumps(real_rate("aps_r3_inverted_dates"))
    assert load_urdb_json(text) == real_rate("aps_r3_inverted_dates")
    # Brackets inside strings are text, not nesting.
    assert load_urdb_json(json.dumps({"description": "[{" * 100})) == {"description": "[{" * 100}
    with pytest.raises(UrdbTooDeepError, match="nested deeper than"):
        load_urdb_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UrdbTooDeepError):
        load_urdb_json('{"a": ' * 40 + "1" + "}" * 40)
    padded = json.dumps({"items": [tou_rate() | {"description": "x" * MAX_JSON_CHARS}]})
    with pytest.raises(UrdbTooLargeError, match="larger than"):
        load_urdb_json(padded)
    with pytest.raises(UrdbError, match="not JSON"):
        load_urdb_json("{not json")


def test_the_stored_rate_holds_only_what_the_engine_uses() -> None:
    tariff = parse_urdb(real_rate("aps_r3_inverted_dates"), timezone=PHOENIX)
    stored = tariff.as_urdb()
    assert set(stored) == {
        "label",
        "name",
        "utility",
        "energyratestructure",
        "energytoulabels",
        "energyweekdayschedule",
        "energyweekendschedule",
    }
    assert stored["energyratestructure"][1] == [{"rate": 0.24092, "adj": 0.00512, "unit": "kWh"}]
    fpl = parse_urdb(real_rate("fpl_rs1_2015"), timezone=LOS_ANGELES).as_urdb()
    assert (fpl["startdate"], fpl["enddate"]) == (1433116800, 1440975600)
    assert fpl["energyratestructure"][0][0] == {
        "rate": 0.07531,
        "adj": 0.0119,
        "unit": "kWh",
        "max": 1000,
    }


def _energy_part(tariff: Any) -> Any:
    return replace(
        tariff,
        demand=None,
        fixed_charge_first_meter=None,
        fixed_charge_units=None,
        dates_ignored=False,
    )


@settings(max_examples=80, deadline=None)
@given(st.sampled_from([tou_rate(), {"items": [tou_rate()]}]).flatmap(mutated))
def test_the_stored_rate_reads_back_to_the_same_schedule(data: Any) -> None:
    try:
        tariff = parse_urdb(data, timezone=LOS_ANGELES)
    except UrdbError:
        return
    stored = tariff.as_urdb()
    assert json.loads(json.dumps(stored, allow_nan=False)) == stored
    assert parse_urdb(stored, timezone=LOS_ANGELES) == _energy_part(tariff)
