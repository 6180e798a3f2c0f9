"""OpenEI Utility Rate Database (URDB) rates as time-of-use tariffs.

A URDB rate maps every hour of a weekday or weekend day in each month to an energy period
(`energyweekdayschedule`/`energyweekendschedule`, 12 x 24 indexes into `energyratestructure`).
Each period has tiers of `rate` + `adj` per `unit`; the price of a period is its first tier,
the marginal price of a household's first kWh, since a miner's consumption cannot know where
the month's tier counter stands.

What the engine uses (energy prices, schedules, labels, effective dates) must be sound or the
rate is refused; what it does not use (demand and fixed charges, reported only) is read when it
can be and ignored when it cannot. Real rates have inconsistent dates (an end before the start):
their schedule is used on every date. `UrdbTariff.as_urdb` is the part a plan stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from itertools import accumulate
import json
import logging
import math
import re
from typing import Any

from ._convert import as_float, as_int, as_list, as_mapping, as_str, short
from .errors import (
    UrdbError,
    UrdbExpiredError,
    UrdbPriceError,
    UrdbTooDeepError,
    UrdbTooLargeError,
)
from .tariff import WallClockTariff, WallSegment

_LOGGER = logging.getLogger(__name__)

_MONTHS = 12
_HOURS = 24
# One rate with detail=full is tens of kB and nests six levels (items, rate, structure,
# period, tier); anything far beyond is not a rate, and deep nesting would exhaust json's stack.
MAX_JSON_CHARS = 1_000_000
MAX_JSON_DEPTH = 16
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_NESTING = {"[": 1, "{": 1, "]": -1, "}": -1}


@dataclass(frozen=True, kw_only=True, slots=True)
class UrdbTier:
    """One tier of a URDB rate period: price `rate + adj` per `unit` up to `maximum`."""

    rate: float
    adj: float = 0.0
    unit: str | None = None
    maximum: float | None = None

    @property
    def price(self) -> float:
        return self.rate + self.adj

    def as_urdb(self) -> dict[str, Any]:
        tier: dict[str, Any] = {"rate": self.rate}
        if self.adj:
            tier["adj"] = self.adj
        if self.unit is not None:
            tier["unit"] = self.unit
        if self.maximum is not None:
            tier["max"] = self.maximum
        return tier


@dataclass(frozen=True, kw_only=True, slots=True)
class UrdbEnergyPeriod:
    label: str
    tiers: tuple[UrdbTier, ...]

    @property
    def price(self) -> float:
        return self.tiers[0].price


@dataclass(frozen=True, kw_only=True, slots=True)
class UrdbDemandCharges:
    """Demand charges as published; reported, not used by the policy yet."""

    periods: tuple[tuple[UrdbTier, ...], ...] = ()
    weekday_schedule: tuple[tuple[int, ...], ...] | None = None
    weekend_schedule: tuple[tuple[int, ...], ...] | None = None
    flat_periods: tuple[tuple[UrdbTier, ...], ...] = ()
    flat_months: tuple[int, ...] | None = None
    unit: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class UrdbTariff(WallClockTariff):
    """A URDB rate read in the plan's timezone; holidays, when given, use the weekend schedule.

    `dates_ignored`: the rate's end was not after its start, so it applies on every date.
    """

    label: str | None
    name: str | None
    utility: str | None
    timezone: tzinfo
    energy_periods: tuple[UrdbEnergyPeriod, ...]
    weekday_schedule: tuple[tuple[int, ...], ...]
    weekend_schedule: tuple[tuple[int, ...], ...]
    start: datetime | None = None
    end: datetime | None = None
    fixed_charge_first_meter: float | None = None
    fixed_charge_units: str | None = None
    demand: UrdbDemandCharges | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)
    dates_ignored: bool = False

    @property
    def tz(self) -> tzinfo:
        return self.timezone

    def valid_between(self) -> tuple[datetime | None, datetime | None]:
        return self.start, self.end

    def as_urdb(self) -> dict[str, Any]:
        """The rate as the engine uses it, in URDB's own fields (JSON-ready): what `parse_urdb`
        reads back to the same names, dates, energy periods and schedules."""
        names = {"label": self.label, "name": self.name, "utility": self.utility}
        rate: dict[str, Any] = {key: value for key, value in names.items() if value is not None}
        for key, when in (("startdate", self.start), ("enddate", self.end)):
            if when is not None:
                seconds = when.timestamp()
                rate[key] = int(seconds) if seconds.is_integer() else seconds
        rate["energyratestructure"] = [
            [tier.as_urdb() for tier in period.tiers] for period in self.energy_periods
        ]
        rate["energytoulabels"] = [period.label for period in self.energy_periods]
        rate["energyweekdayschedule"] = [list(row) for row in self.weekday_schedule]
        rate["energyweekendschedule"] = [list(row) for row in self.weekend_schedule]
        return rate

    def day_plan(self, day: date) -> Sequence[WallSegment]:
        weekend = day.weekday() >= 5 or day in self.holidays
        row = (self.weekend_schedule if weekend else self.weekday_schedule)[day.month - 1]
        segments: list[WallSegment] = []
        for hour, index in enumerate(row):
            period = self.energy_periods[index]
            if segments and segments[-1].label == period.label:
                last = segments[-1]
                segments[-1] = WallSegment(
                    start_minute=last.start_minute,
                    end_minute=(hour + 1) * 60,
                    label=last.label,
                    price=last.price,
                )
            else:
                segments.append(
                    WallSegment(
                        start_minute=hour * 60,
                        end_minute=(hour + 1) * 60,
                        label=period.label,
                        price=period.price,
                    )
                )
        return segments


def _optional_float(value: object) -> float | None:
    """A number the engine only reports: `None` when it is not one."""
    try:
        return as_float(value, "value")
    except ValueError:
        return None


def _tiers(value: object, what: str) -> tuple[UrdbTier, ...]:
    tiers: list[UrdbTier] = []
    for number, item in enumerate(as_list(value, what)):
        tier = as_mapping(item, f"{what} tier {number + 1}")
        if "rate" not in tier and "adj" not in tier:
            raise ValueError(f"{what} tier {number + 1} has neither rate nor adj")
        unit = tier.get("unit")
        tiers.append(
            UrdbTier(
                rate=as_float(tier.get("rate", 0), f"{what} rate"),
                adj=as_float(tier.get("adj", 0), f"{what} adj"),
                unit=unit if isinstance(unit, str) else None,
                maximum=_optional_float(tier.get("max")),
            )
        )
    if not tiers:
        raise ValueError(f"{what} has no tiers")
    return tuple(tiers)


def _structure(value: object, what: str) -> tuple[tuple[UrdbTier, ...], ...]:
    return tuple(
        _tiers(item, f"{what} period {index + 1}")
        for index, item in enumerate(as_list(value, what))
    )


def _check_prices(structure: tuple[tuple[UrdbTier, ...], ...]) -> None:
    """Each energy price is finite: two finite parts can still add up to infinity."""
    for period, tiers in enumerate(structure):
        for number, tier in enumerate(tiers):
            if not math.isfinite(tier.price):
                raise UrdbPriceError(
                    f"Invalid URDB rate: energyratestructure period {period + 1} tier "
                    f"{number + 1}: rate + adj is not a finite number ({tier.rate} + {tier.adj})"
                )


def _schedule(value: object, what: str, periods: int) -> tuple[tuple[int, ...], ...]:
    rows = as_list(value, what)
    if len(rows) != _MONTHS:
        raise ValueError(f"{what} must have 12 months, has {len(rows)}")
    schedule: list[tuple[int, ...]] = []
    for month, row in enumerate(rows):
        hours = tuple(as_int(item, f"{what} month {month + 1}") for item in as_list(row, what))
        if len(hours) != _HOURS:
            raise ValueError(f"{what} month {month + 1} must have 24 hours, has {len(hours)}")
        if any(not 0 <= hour < periods for hour in hours):
            raise ValueError(f"{what} month {month + 1} refers to a period that does not exist")
        schedule.append(hours)
    return tuple(schedule)


def _text(rate: Mapping[str, object], key: str) -> str | None:
    """A name or unit, reported only: `None` unless it is text."""
    value = rate.get(key)
    return value if isinstance(value, str) else None


def _timestamp(rate: Mapping[str, object], key: str) -> datetime | None:
    value = rate.get(key)
    if value is None:
        return None
    seconds = as_float(value, key)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        raise ValueError(f"{key} is not a valid timestamp: {short(value)}") from None


def _demand(rate: Mapping[str, object]) -> UrdbDemandCharges | None:
    """Demand charges, or `None` when the rate has none or they cannot be read."""
    if not any(key.startswith(("demand", "flatdemand")) for key in rate):
        return None
    try:
        return _demand_charges(rate)
    except ValueError as err:
        _LOGGER.debug("Ignoring the demand charges of URDB rate %s: %s", rate.get("label"), err)
        return None


def _demand_charges(rate: Mapping[str, object]) -> UrdbDemandCharges:
    periods = _structure(rate.get("demandratestructure", []), "demandratestructure")
    schedules = {
        key: _schedule(rate[key], key, len(periods)) if rate.get(key) is not None else None
        for key in ("demandweekdayschedule", "demandweekendschedule")
    }
    flat_months = rate.get("flatdemandmonths")
    unit = rate.get("demandunits", rate.get("flatdemandunit"))
    return UrdbDemandCharges(
        periods=periods,
        weekday_schedule=schedules["demandweekdayschedule"],
        weekend_schedule=schedules["demandweekendschedule"],
        flat_periods=_structure(rate.get("flatdemandstructure", []), "flatdemandstructure"),
        flat_months=None
        if flat_months is None
        else tuple(as_int(m, "flatdemandmonths") for m in as_list(flat_months, "flatdemandmonths")),
        unit=None if unit is None else as_str(unit, "demandunits"),
    )


def _period_label(labels: Sequence[object], index: int) -> str:
    label = labels[index] if index < len(labels) else None
    if isinstance(label, str) and label.strip():
        return label.strip()
    return f"period {index + 1}"


def _pick(data: object, label: str | None) -> Mapping[str, object]:
    root = as_mapping(data, "URDB response")
    if "items" not in root:
        return root
    items = [as_mapping(item, "URDB item") for item in as_list(root["items"], "items")]
    if label is not None:
        items = [item for item in items if item.get("label") == label]
    if not items:
        raise ValueError(
            "the response holds no rate" + (f" labelled {label!r}" if label is not None else "")
        )
    return items[0]


def _nesting(text: str) -> int:
    """How deep the arrays and objects of JSON text nest (brackets in strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_NESTING.__getitem__, brackets)), default=0)


def load_urdb_json(text: str) -> object:
    """Decode JSON text holding a URDB rate or API answer, refusing text too long or nested too
    deep to be one. Raises `UrdbError`."""
    if len(text) > MAX_JSON_CHARS:
        raise UrdbTooLargeError(
            f"Invalid URDB rate: {len(text)} characters, larger than any one rate "
            f"({MAX_JSON_CHARS})"
        )
    if (depth := _nesting(text)) > MAX_JSON_DEPTH:
        raise UrdbTooDeepError(
            f"Invalid URDB rate: nested deeper than any rate ({depth} > {MAX_JSON_DEPTH} levels)"
        )
    try:
        return json.loads(text)
    except ValueError as err:
        raise UrdbError(f"Invalid URDB rate: not JSON: {err}") from None


def _day(when: datetime, timezone: tzinfo) -> date:
    """The date of an instant on the plan's wall clock (UTC's at the ends of the calendar)."""
    try:
        return when.astimezone(timezone).date()
    except OverflowError:
        return when.date()


def _dates(
    rate: Mapping[str, object], timezone: tzinfo
) -> tuple[datetime | None, datetime | None, bool]:
    """The effective dates, and whether they were dropped for ending before they start."""
    start, end = _timestamp(rate, "startdate"), _timestamp(rate, "enddate")
    if start is None or end is None or end > start:
        return start, end, False
    _LOGGER.warning(
        "URDB rate %s (%s) has enddate %s not after its startdate %s; using its schedule on "
        "every date",
        short(rate.get("label")),
        short(rate.get("name")),
        _day(end, timezone),
        _day(start, timezone),
    )
    return None, None, True


def parse_urdb(
    data: object,
    *,
    timezone: tzinfo,
    holidays: frozenset[date] = frozenset(),
    label: str | None = None,
    now: datetime | None = None,
) -> UrdbTariff:
    """Read one URDB rate, bare or inside the API's `{"items": [...]}` (first item, or the one
    with `label`). With `now`, a rate that has ended by then raises `UrdbExpiredError` (a plan
    set up now would get nothing from it). Raises `UrdbError`."""
    try:
        rate = _pick(data, label)
        structure = _structure(rate.get("energyratestructure"), "energyratestructure")
        if not structure:
            raise ValueError("energyratestructure is empty: the rate has no energy charges")
        _check_prices(structure)
        weekday = _schedule(
            rate.get("energyweekdayschedule"), "energyweekdayschedule", len(structure)
        )
        weekend = (
            _schedule(rate["energyweekendschedule"], "energyweekendschedule", len(structure))
            if rate.get("energyweekendschedule") is not None
            else weekday
        )
        raw_labels = rate.get("energytoulabels")
        labels = [] if raw_labels is None else as_list(raw_labels, "energytoulabels")
        periods = tuple(
            UrdbEnergyPeriod(label=_period_label(labels, index), tiers=tiers)
            for index, tiers in enumerate(structure)
        )
        if len({period.label for period in periods}) != len(periods):
            raise ValueError("energytoulabels gives two periods the same label")
        start, end, dates_ignored = _dates(rate, timezone)
    except ValueError as err:
        raise UrdbError(f"Invalid URDB rate: {err}") from err
    if now is not None and end is not None and end <= now:
        raise UrdbExpiredError(
            f"URDB rate {short(rate.get('label'))} ended on {_day(end, timezone)}",
            start=start,
            end=end,
        )
    return UrdbTariff(
        label=_text(rate, "label"),
        name=_text(rate, "name"),
        utility=_text(rate, "utility"),
        timezone=timezone,
        energy_periods=periods,
        weekday_schedule=weekday,
        weekend_schedule=weekend,
        start=start,
        end=end,
        fixed_charge_first_meter=_optional_float(rate.get("fixedchargefirstmeter")),
        fixed_charge_units=_text(rate, "fixedchargeunits"),
        demand=_demand(rate),
        holidays=holidays,
        dates_ignored=dates_ignored,
    )
