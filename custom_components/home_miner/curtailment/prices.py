"""Price forecasts: what Home Assistant price integrations expose, as one `PriceSeries`.

Every integration is a `PriceMapping`: where its lists of intervals are, and which keys hold
the start, the end and the price. Integrations that publish only starts (Tibber, ENTSO-E,
EnergyZero) get ends from the next start when it is at most an hour away (so hourly and
15-minute intervals can mix); an interval before a longer gap, or the last one, lasts as long as
the series' most common step. Duplicates (ENTSO-E repeats today and tomorrow in "prices") are
merged. A container of the wrong shape raises `PriceFormatError`; a
single unreadable interval is skipped with a warning.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise
import logging
from types import MappingProxyType

from ._convert import as_datetime, as_float, as_list, as_mapping, require_aware, short
from .errors import PriceFormatError

_LOGGER = logging.getLogger(__name__)
# Day-ahead markets publish at most hourly intervals: a longer distance is a gap.
_LONGEST_STEP = timedelta(hours=1)
_ANY = "*"
SELECT = "{select}"


@dataclass(frozen=True, kw_only=True, slots=True)
class PricePoint:
    start: datetime
    end: datetime
    price: float

    def __post_init__(self) -> None:
        require_aware(self.start, "price interval start")
        require_aware(self.end, "price interval end")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """Non-overlapping price intervals sorted by start; gaps mean "price unknown"."""

    points: tuple[PricePoint, ...] = ()
    _starts: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(point.start for point in self.points))

    @classmethod
    def from_points(cls, points: Sequence[PricePoint]) -> PriceSeries:
        """Sort, drop duplicates (the later one listed wins) and overlapping intervals."""
        by_start: dict[datetime, PricePoint] = {}
        for point in points:
            by_start[point.start] = point
        kept: list[PricePoint] = []
        for point in sorted(by_start.values(), key=lambda p: p.start):
            if kept and point.start < kept[-1].end:
                _LOGGER.warning(
                    "Skipping price interval %s-%s: it overlaps the one before",
                    point.start.isoformat(),
                    point.end.isoformat(),
                )
                continue
            kept.append(point)
        return cls(tuple(kept))

    def __bool__(self) -> bool:
        return bool(self.points)

    def _index(self, when: datetime) -> int:
        return bisect_right(self._starts, when) - 1

    def point_at(self, when: datetime) -> PricePoint | None:
        require_aware(when)
        index = self._index(when)
        if index >= 0 and when < self.points[index].end:
            return self.points[index]
        return None

    def price_at(self, when: datetime) -> float | None:
        point = self.point_at(when)
        return None if point is None else point.price

    def next_change(self, when: datetime) -> datetime | None:
        """The first interval boundary after `when`."""
        require_aware(when)
        index = self._index(when)
        if index >= 0 and when < self.points[index].end:
            return self.points[index].end
        if index + 1 < len(self.points):
            return self.points[index + 1].start
        return None

    def between(self, start: datetime, end: datetime) -> tuple[PricePoint, ...]:
        return tuple(p for p in self.points if p.end > start and p.start < end)

    def merged(self, other: PriceSeries) -> PriceSeries:
        return PriceSeries.from_points((*self.points, *other.points))


@dataclass(frozen=True, kw_only=True, slots=True)
class PriceMapping:
    """Where a price integration keeps its intervals.

    `lists` are paths of keys to lists of intervals; `*` steps into the only value of a mapping
    (a Tibber home, a Nord Pool area) and `{select}` into the value the caller names. The first
    path that exists wins, or with `join` every path that exists is read (today + tomorrow).
    Prices are multiplied by `scale` (1e-3 turns a price per MWh into one per kWh).
    """

    lists: tuple[tuple[str, ...], ...]
    start_key: str
    value_key: str
    end_key: str | None = None
    scale: float = 1.0
    join: bool = False


class PricePreset(StrEnum):
    NORDPOOL = "nordpool"
    NORDPOOL_ACTION = "nordpool_action"
    TIBBER = "tibber"
    OCTOPUS = "octopus_energy"
    ENTSOE = "entsoe"
    AMBER = "amber"
    ENERGYZERO = "energyzero"
    GENERIC = "generic"


PRESETS: Mapping[PricePreset, PriceMapping] = MappingProxyType(
    {
        PricePreset.NORDPOOL: PriceMapping(
            lists=(("raw_today",), ("raw_tomorrow",)),
            start_key="start",
            end_key="end",
            value_key="value",
            join=True,
        ),
        # nordpool.get_prices_for_date answers {area: [{start, end, price}]} in currency/MWh.
        PricePreset.NORDPOOL_ACTION: PriceMapping(
            lists=((SELECT,), (_ANY,)),
            start_key="start",
            end_key="end",
            value_key="price",
            scale=1e-3,
        ),
        # tibber.get_prices answers {"prices": {home: [{start_time, price}]}}.
        PricePreset.TIBBER: PriceMapping(
            lists=(("prices", SELECT), ("prices", _ANY)), start_key="start_time", value_key="price"
        ),
        # Octopus Energy rate event entities carry {"rates": [{start, end, value_inc_vat}]}.
        PricePreset.OCTOPUS: PriceMapping(
            lists=(("rates",),), start_key="start", end_key="end", value_key="value_inc_vat"
        ),
        PricePreset.ENTSOE: PriceMapping(
            lists=(("prices_today",), ("prices_tomorrow",), ("prices",)),
            start_key="time",
            value_key="price",
            join=True,
        ),
        PricePreset.AMBER: PriceMapping(
            lists=(("forecasts",),), start_key="start_time", end_key="end_time", value_key="per_kwh"
        ),
        # energyzero.get_energy_prices (and easyenergy) answer {"prices": [{timestamp, price}]}.
        PricePreset.ENERGYZERO: PriceMapping(
            lists=(("prices",),), start_key="timestamp", value_key="price"
        ),
        PricePreset.GENERIC: PriceMapping(
            lists=(("raw_today",), ("raw_tomorrow",)),
            start_key="start",
            end_key="end",
            value_key="value",
            join=True,
        ),
    }
)


def _follow(root: object, path: tuple[str, ...], select: str | None) -> object | None:
    node = root
    for key in path:
        if not isinstance(node, Mapping):
            return None
        if key == SELECT:
            if select is None or select not in node:
                return None
            node = node[select]
        elif key == _ANY:
            if len(node) != 1:
                if len(node) > 1:
                    raise ValueError(
                        f"several series ({', '.join(sorted(map(str, node)))}): choose one"
                    )
                return None
            node = next(iter(node.values()))
        elif key in node:
            node = node[key]
        else:
            return None
    return node


def _lists(data: object, mapping: PriceMapping, select: str | None) -> list[Sequence[object]]:
    as_mapping(data, "price data")
    found: list[Sequence[object]] = []
    for path in mapping.lists:
        if select is not None and _ANY in path:
            continue
        node = _follow(data, path, select)
        if node is None:
            continue
        found.append(as_list(node, "/".join(path)))
        if not mapping.join:
            break
    if not found:
        wanted = " or ".join("/".join(path) for path in mapping.lists)
        raise ValueError(f"no price list found (looked for {wanted})")
    return found


def _typical_step(starts: Sequence[datetime]) -> timedelta:
    steps = Counter(b - a for a, b in pairwise(starts) if timedelta(0) < b - a)
    if not steps:
        return _LONGEST_STEP
    return min(steps.most_common(1)[0][0], _LONGEST_STEP)


def parse_prices(
    data: object,
    *,
    preset: PricePreset = PricePreset.GENERIC,
    mapping: PriceMapping | None = None,
    select: str | None = None,
    timezone: tzinfo = UTC,
) -> PriceSeries:
    """Normalise one entity's attributes or one action response into a `PriceSeries`.

    `mapping` overrides the preset (the generic attribute/key mapping); `select` names the
    Nord Pool area or Tibber home; naive times are read in `timezone`. Raises
    `PriceFormatError` when the container is not what the preset describes.
    """
    spec = mapping or PRESETS[preset]
    try:
        lists = _lists(data, spec, select)
    except ValueError as err:
        raise PriceFormatError(f"Unreadable {preset.value} prices: {err}") from err
    raw: list[tuple[datetime, datetime | None, float]] = []
    skipped: list[str] = []
    for entries in lists:
        for entry in entries:
            try:
                item = as_mapping(entry, "price interval")
                value = item.get(spec.value_key)
                if value is None:
                    raise ValueError(f"no {spec.value_key!r}")
                start = as_datetime(item.get(spec.start_key), spec.start_key, timezone)
                end = (
                    None
                    if spec.end_key is None
                    else as_datetime(item.get(spec.end_key), spec.end_key, timezone)
                )
                price = as_float(value, spec.value_key) * spec.scale
            except (ValueError, OverflowError) as err:
                skipped.append(f"{short(entry, 40)} ({err})")
                continue
            if end is not None and end <= start:
                skipped.append(f"{short(entry, 40)} (ends before it starts)")
                continue
            raw.append((start, end, price))
    if skipped:
        _LOGGER.warning(
            "Skipped %d unreadable %s price interval(s), first: %s",
            len(skipped),
            preset.value,
            skipped[0],
        )
    raw.sort(key=lambda item: item[0])
    step = _typical_step([start for start, _, _ in raw])
    points: list[PricePoint] = []
    for index, (start, given_end, price) in enumerate(raw):
        end = given_end
        if end is None:
            following = raw[index + 1][0] if index + 1 < len(raw) else None
            gap = None if following is None else following - start
            end = (
                following
                if following is not None and gap is not None and timedelta(0) < gap <= _LONGEST_STEP
                else start + step
            )
        points.append(PricePoint(start=start, end=end, price=price))
    return PriceSeries.from_points(points)
