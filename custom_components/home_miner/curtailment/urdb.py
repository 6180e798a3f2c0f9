"""OpenEI Utility Rate Database (URDB) rates as time-of-use tariffs.

A URDB rate maps every hour of a weekday or weekend day in each month to an energy period
(`energyweekdayschedule`/`energyweekendschedule`, 12 x 24 indexes into `energyratestructure`).
Each period has tiers of `rate` + `adj` per `unit`; the price of a period is its first tier,
the marginal price of a household's first kWh, since a miner's consumption cannot know where
the month's tier counter stands. Demand charges are read and reported, not yet used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from ._convert import as_float, as_int, as_list, as_mapping, as_str, short
from .errors import UrdbError
from .tariff import WallClockTariff, WallSegment

_MONTHS = 12
_HOURS = 24


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
    """A URDB rate read in the plan's timezone; holidays, when given, use the weekend schedule."""

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

    @property
    def tz(self) -> tzinfo:
        return self.timezone

    def valid_between(self) -> tuple[datetime | None, datetime | None]:
        return self.start, self.end

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


def _tiers(value: object, what: str) -> tuple[UrdbTier, ...]:
    tiers: list[UrdbTier] = []
    for number, item in enumerate(as_list(value, what)):
        tier = as_mapping(item, f"{what} tier {number + 1}")
        if "rate" not in tier and "adj" not in tier:
            raise ValueError(f"{what} tier {number + 1} has neither rate nor adj")
        unit = tier.get("unit")
        maximum = tier.get("max")
        tiers.append(
            UrdbTier(
                rate=as_float(tier.get("rate", 0), f"{what} rate"),
                adj=as_float(tier.get("adj", 0), f"{what} adj"),
                unit=None if unit is None else as_str(unit, f"{what} unit"),
                maximum=None if maximum is None else as_float(maximum, f"{what} max"),
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


def _optional_str(rate: Mapping[str, object], key: str) -> str | None:
    value = rate.get(key)
    return None if value is None else as_str(value, key)


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
    if not any(key.startswith(("demand", "flatdemand")) for key in rate):
        return None
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


def parse_urdb(
    data: object,
    *,
    timezone: tzinfo,
    holidays: frozenset[date] = frozenset(),
    label: str | None = None,
) -> UrdbTariff:
    """Read one URDB rate, bare or inside the API's `{"items": [...]}` (first item, or the one
    with `label`). Raises `UrdbError`."""
    try:
        rate = _pick(data, label)
        structure = _structure(rate.get("energyratestructure"), "energyratestructure")
        if not structure:
            raise ValueError("energyratestructure is empty: the rate has no energy charges")
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
        fixed = rate.get("fixedchargefirstmeter")
        start, end = _timestamp(rate, "startdate"), _timestamp(rate, "enddate")
        if start is not None and end is not None and end <= start:
            raise ValueError("enddate is not after startdate")
        return UrdbTariff(
            label=_optional_str(rate, "label"),
            name=_optional_str(rate, "name"),
            utility=_optional_str(rate, "utility"),
            timezone=timezone,
            energy_periods=periods,
            weekday_schedule=weekday,
            weekend_schedule=weekend,
            start=start,
            end=end,
            fixed_charge_first_meter=None
            if fixed is None
            else as_float(fixed, "fixedchargefirstmeter"),
            fixed_charge_units=_optional_str(rate, "fixedchargeunits"),
            demand=_demand(rate),
            holidays=holidays,
        )
    except ValueError as err:
        raise UrdbError(f"Invalid URDB rate: {err}") from err
