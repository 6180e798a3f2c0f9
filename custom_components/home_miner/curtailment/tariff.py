"""Time-of-use tariffs: simple bands entered by the user, and the wall-clock machinery shared
with URDB rates.

A tariff is a weekly/monthly pattern on the wall clock of the plan's own timezone. Every minute
belongs to the day its wall clock shows, so a band from 22:00 to 06:00 on Mondays covers Monday
00:00-06:00 and Monday 22:00-24:00. Across DST changes a wall time that does not exist (the
hour skipped in spring) starts at the instant the clocks jump, and a wall time that happens
twice (autumn) is its first occurrence; a 23-hour day simply has one hour less of whatever
band covers the skipped hour.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Protocol

from ._convert import as_float, as_int, as_list, as_mapping, as_str, require_aware, short
from .errors import TariffError

MINUTES_PER_DAY = 24 * 60
ALL_DAYS: frozenset[int] = frozenset(range(7))
ALL_MONTHS: frozenset[int] = frozenset(range(1, 13))
WEEKEND: frozenset[int] = frozenset({5, 6})
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far `next_change` looks before concluding the price never changes.
_LOOKAHEAD_DAYS = 8


@dataclass(frozen=True, kw_only=True, slots=True)
class TariffPeriod:
    """A stretch of time with one TOU label and price (price `None` when unknown)."""

    start: datetime
    end: datetime
    label: str
    price: float | None


class Tariff(Protocol):
    """What the policy needs from any time-of-use tariff."""

    def period_at(self, when: datetime) -> TariffPeriod | None: ...

    def periods(self, start: datetime, end: datetime) -> tuple[TariffPeriod, ...]: ...

    def next_change(self, when: datetime) -> datetime | None: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class WallSegment:
    """Part of one day on the wall clock, in minutes after local midnight."""

    start_minute: int
    end_minute: int
    label: str
    price: float | None


def wall_to_instant(day: date, minute: int, tz: tzinfo) -> datetime:
    """The instant (in UTC) a wall-clock minute of `day` happens (DST: see the module doc).

    Instants are kept in UTC because Python subtracts and compares datetimes sharing one
    tzinfo by their wall clock, which is wrong across a DST change.
    """
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    first = naive.replace(tzinfo=tz)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    after = high.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


class WallClockTariff(ABC):
    """A tariff defined day by day on the wall clock; subclasses say what each day looks like."""

    __slots__ = ()

    @property
    @abstractmethod
    def tz(self) -> tzinfo: ...

    @abstractmethod
    def day_plan(self, day: date) -> Sequence[WallSegment]: ...

    def valid_between(self) -> tuple[datetime | None, datetime | None]:
        return None, None

    def day_periods(self, day: date) -> list[TariffPeriod]:
        periods: list[TariffPeriod] = []
        previous: datetime | None = None
        valid_from, valid_until = self.valid_between()
        for segment in self.day_plan(day):
            start = wall_to_instant(day, segment.start_minute, self.tz)
            end = wall_to_instant(day, segment.end_minute, self.tz)
            if previous is not None and start < previous:
                start = previous
            end = max(end, start)
            previous = end
            if valid_from is not None and start < valid_from:
                start = min(valid_from, end)
            if valid_until is not None and end > valid_until:
                end = max(valid_until, start)
            if end > start:
                periods.append(
                    TariffPeriod(start=start, end=end, label=segment.label, price=segment.price)
                )
        return periods

    def _iter_periods(self, start: datetime, days: int) -> Iterator[TariffPeriod]:
        """Merged periods that end after `start`, in order, over at most `days` days."""
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        pending: TariffPeriod | None = None
        for _ in range(days + 2):
            for period in self.day_periods(day):
                if period.end <= start:
                    continue
                if (
                    pending is not None
                    and pending.end == period.start
                    and pending.label == period.label
                    and pending.price == period.price
                ):
                    pending = TariffPeriod(
                        start=pending.start, end=period.end, label=period.label, price=period.price
                    )
                    continue
                if pending is not None:
                    yield pending
                pending = period
            day += timedelta(days=1)
        if pending is not None:
            yield pending

    def period_at(self, when: datetime) -> TariffPeriod | None:
        """The merged period containing `when`, or `None` where the tariff says nothing."""
        require_aware(when)
        for period in self._iter_periods(when, 2):
            return period if period.start <= when else None
        return None

    def periods(self, start: datetime, end: datetime) -> tuple[TariffPeriod, ...]:
        """Merged periods overlapping `[start, end)`, clipped to it."""
        require_aware(start)
        require_aware(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        days = (end - start).days + 2
        found: list[TariffPeriod] = []
        for period in self._iter_periods(start, days):
            if period.start >= end:
                break
            found.append(
                TariffPeriod(
                    start=max(period.start, start),
                    end=min(period.end, end),
                    label=period.label,
                    price=period.price,
                )
            )
        return tuple(found)

    def next_change(self, when: datetime) -> datetime | None:
        """The first instant after `when` at which the label or price changes."""
        require_aware(when)
        for period in self._iter_periods(when, _LOOKAHEAD_DAYS):
            boundary = period.start if period.start > when else period.end
            horizon = when + timedelta(days=_LOOKAHEAD_DAYS)
            return boundary if boundary < horizon else None
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class TouBand:
    """One time-of-use band: on these days and months, from `start` to `end`, this price.

    `end` at or before `start` wraps past midnight; `start == end` covers the whole day.
    Times are taken to the minute.
    """

    label: str
    price: float | None = None
    start: time = time(0)
    end: time = time(0)
    days: frozenset[int] = ALL_DAYS
    months: frozenset[int] = ALL_MONTHS

    def minutes(self) -> tuple[tuple[int, int], ...]:
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        if start == end:
            return ((0, MINUTES_PER_DAY),)
        if start < end:
            return ((start, end),)
        return ((start, MINUTES_PER_DAY), (0, end))

    def applies(self, day: date, *, holiday: bool) -> bool:
        if day.month not in self.months:
            return False
        if holiday:
            return bool(self.days & WEEKEND)
        return day.weekday() in self.days


@dataclass(frozen=True, kw_only=True, slots=True)
class BandTariff(WallClockTariff):
    """A tariff made of `TouBand`s; where bands overlap, the one listed first wins.

    Holidays, when given, count as weekend days: a band applies on a holiday when it applies on
    Saturday or Sunday. Minutes no band covers get `default_label` (or no period at all).
    """

    bands: tuple[TouBand, ...]
    timezone: tzinfo
    holidays: frozenset[date] = field(default_factory=frozenset)
    default_label: str | None = None
    default_price: float | None = None

    @property
    def tz(self) -> tzinfo:
        return self.timezone

    def day_plan(self, day: date) -> Sequence[WallSegment]:
        holiday = day in self.holidays
        active = [band for band in self.bands if band.applies(day, holiday=holiday)]
        cuts = {0, MINUTES_PER_DAY}
        for band in active:
            for start, end in band.minutes():
                cuts.update((start, end))
        edges = sorted(cuts)
        segments: list[WallSegment] = []
        for start, end in pairwise(edges):
            owner = next(
                (b for b in active if any(s <= start and end <= e for s, e in b.minutes())), None
            )
            if owner is not None:
                label, price = owner.label, owner.price
            elif self.default_label is not None:
                label, price = self.default_label, self.default_price
            else:
                continue
            last = segments[-1] if segments else None
            if last and last.end_minute == start and (last.label, last.price) == (label, price):
                segments[-1] = WallSegment(
                    start_minute=last.start_minute, end_minute=end, label=label, price=price
                )
            else:
                segments.append(
                    WallSegment(start_minute=start, end_minute=end, label=label, price=price)
                )
        return segments


def _parse_time(value: object, what: str) -> time:
    text = as_str(value, what).strip()
    if text in {"24:00", "24:00:00"}:
        return time(0)
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} is not a time of day (HH:MM): {short(value)}") from None


def _parse_days(value: object, what: str) -> frozenset[int]:
    days: set[int] = set()
    for item in as_list(value, what):
        if isinstance(item, str):
            name = item.strip().lower()[:3]
            if name not in _DAY_NAMES:
                raise ValueError(f"{what} has an unknown day {short(item)}")
            days.add(_DAY_NAMES.index(name))
        else:
            number = as_int(item, what)
            if number not in ALL_DAYS:
                raise ValueError(f"{what} days are 0 (Monday) to 6 (Sunday), got {number}")
            days.add(number)
    return frozenset(days)


def _parse_months(value: object, what: str) -> frozenset[int]:
    months = frozenset(as_int(item, what) for item in as_list(value, what))
    if not months <= ALL_MONTHS:
        raise ValueError(f"{what} months are 1 to 12, got {sorted(months - ALL_MONTHS)}")
    return months


def _parse_band(value: object, what: str) -> TouBand:
    data = as_mapping(value, what)
    label = as_str(data.get("label"), f"{what} label").strip()
    if not label:
        raise ValueError(f"{what} label must not be empty")
    price = data.get("price")
    return TouBand(
        label=label,
        price=None if price is None else as_float(price, f"{what} price"),
        start=_parse_time(data.get("start", "00:00"), f"{what} start"),
        end=_parse_time(data.get("end", "00:00"), f"{what} end"),
        days=_parse_days(data["days"], f"{what} days") if "days" in data else ALL_DAYS,
        months=_parse_months(data["months"], f"{what} months") if "months" in data else ALL_MONTHS,
    )


def parse_bands(data: object, *, timezone: tzinfo) -> BandTariff:
    """Read bands as stored by the config flow.

    `data` is a list of bands, or `{"bands": [...], "holidays": [...], "default_label": ...,
    "default_price": ...}`; a band is `{"label", "price", "start": "HH:MM", "end": "HH:MM",
    "days": [0-6 or "mon".."sun"], "months": [1-12]}`. Raises `TariffError`.
    """
    try:
        spec: Mapping[str, object] = (
            {"bands": data} if isinstance(data, list) else as_mapping(data, "tariff")
        )
        bands = tuple(
            _parse_band(item, f"band {index + 1}")
            for index, item in enumerate(as_list(spec.get("bands"), "bands"))
        )
        if not bands:
            raise ValueError("a tariff needs at least one band")
        holidays = frozenset(
            date.fromisoformat(as_str(item, "holiday"))
            for item in as_list(spec.get("holidays", []), "holidays")
        )
        default_label = spec.get("default_label")
        default_price = spec.get("default_price")
        return BandTariff(
            bands=bands,
            timezone=timezone,
            holidays=holidays,
            default_label=None if default_label is None else as_str(default_label, "default_label"),
            default_price=None
            if default_price is None
            else as_float(default_price, "default_price"),
        )
    except (ValueError, KeyError) as err:
        raise TariffError(f"Invalid time-of-use bands: {err}") from err
