"""The miners as the home's flexible load: a fleet power that follows the solar surplus,
holds the house under its import limit, and lifts when power is free (boost).

The grid reading is signed (import positive, export negative) and includes the miners, as a
real meter's does. So the fleet may draw

    surplus target = miners' measured power - grid + grid allowance - reserve

(the allowance is how much import mining may use; 0 = only surplus), and, under an import
limit, at most `limit - (grid - miners' measured power)`. The surplus target is *followed*:
it does not move within `settle` of its last move, so the miners' own measurement lag (their
new power shows in the meter at once, in their polls a little later) does not make it
oscillate. Discrete loads (levels, modes, frequency steps) track it without flapping through
the allocator: a miner's setting changes only for more than `deadband_w` watts' worth of its
hashrate, and at most `max_changes_per_hour` times in any hour (fleet.Following). The import
limit is not followed but met at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math

from .model import CurtailmentWindow, Reason
from .prices import PriceSeries

_WATT = 1e-6
# Following the surplus, by default: a miner's setting changes only for more than 5 W worth
# of its hashrate, and at most 6 times in any hour.
DEADBAND_W = 5.0
MAX_CHANGES_PER_HOUR = 6


@dataclass(frozen=True, kw_only=True, slots=True)
class HouseReading:
    """The house now: grid power (W, import positive; `None` = unknown), battery state of
    charge (%), and whether a boost (a free-power session) is on."""

    grid_w: float | None = None
    battery_pct: float | None = None
    boost: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class FlexSettings:
    """How the fleet follows the house. `surplus_only`: mine only on surplus (a miner idle
    for lack of it is in its intended state, not curtailed). `boost_price`: at or below this
    price every miner mines flat out, surplus or not."""

    surplus_only: bool = False
    reserve_w: float = 0.0
    grid_allowance_w: float = 0.0
    battery_floor_pct: float | None = None
    import_limit_w: float | None = None
    boost_price: float | None = None
    deadband_w: float = DEADBAND_W
    settle: timedelta = timedelta(seconds=30)
    max_changes_per_hour: int = MAX_CHANGES_PER_HOUR

    def __post_init__(self) -> None:
        changes = self.max_changes_per_hour
        if isinstance(changes, bool) or not isinstance(changes, int) or changes < 2:
            raise ValueError("max_changes_per_hour must be a whole number >= 2")
        for name in ("reserve_w", "grid_allowance_w", "deadband_w"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0")
        if self.import_limit_w is not None and not (
            math.isfinite(self.import_limit_w) and self.import_limit_w >= 0
        ):
            raise ValueError("import_limit_w must be a finite number >= 0")


@dataclass(frozen=True, kw_only=True, slots=True)
class Followed:
    """The surplus target as followed: its value and when it last moved."""

    target_w: float | None = None
    changed_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class FlexBudget:
    """What the house allows the fleet now, and the followed surplus target to keep."""

    budget_w: float | None
    reason: Reason
    followed: Followed
    held: Followed
    boosting: bool


def boosting(settings: FlexSettings, house: HouseReading, price: float | None) -> bool:
    return house.boost or (
        settings.boost_price is not None and price is not None and price <= settings.boost_price
    )


def surplus_target(settings: FlexSettings, house: HouseReading, miners_w: float) -> float:
    """What the fleet may draw on surplus (and the allowance) now: 0 when the grid is not
    known, or the battery is below its floor (mining must not drain it)."""
    if house.grid_w is None:
        return 0.0
    floor = settings.battery_floor_pct
    if floor is not None and (house.battery_pct is None or house.battery_pct < floor):
        return max(min(settings.grid_allowance_w, miners_w - house.grid_w), 0.0)
    target = miners_w - house.grid_w + settings.grid_allowance_w - settings.reserve_w
    return max(target, 0.0)


def follow(settings: FlexSettings, raw_w: float, followed: Followed, now: datetime) -> Followed:
    """Move the followed target to `raw_w`, not within `settle` of its last move."""
    if followed.target_w is None or followed.changed_at is None:
        return Followed(target_w=raw_w, changed_at=now)
    if now < followed.changed_at + settings.settle or abs(raw_w - followed.target_w) <= _WATT:
        return followed
    return Followed(target_w=raw_w, changed_at=now)


def limit(settings: FlexSettings, raw_w: float, held: Followed, now: datetime) -> Followed:
    """The import limit's room for the fleet: down at once, up only `settle` after its last
    move (a miner's new power shows in its poll and in the meter a little apart: room that
    appears meanwhile is that lag, not the house)."""
    if held.target_w is None or held.changed_at is None or raw_w < held.target_w - _WATT:
        return Followed(target_w=raw_w, changed_at=now)
    if raw_w > held.target_w + _WATT and now >= held.changed_at + settings.settle:
        return Followed(target_w=raw_w, changed_at=now)
    return held


def flex_budget(
    settings: FlexSettings | None,
    house: HouseReading,
    *,
    miners_w: float,
    price: float | None,
    followed: Followed,
    held: Followed,
    now: datetime,
) -> FlexBudget:
    """The tighter of the import limit and (mining on surplus only, no boost) the followed
    surplus target, and why."""
    if settings is None:
        return FlexBudget(
            budget_w=None, reason=Reason.NONE, followed=Followed(), held=Followed(), boosting=False
        )
    boost = boosting(settings, house, price)
    options: list[tuple[float, Reason]] = []
    if settings.surplus_only and not boost:
        followed = follow(settings, surplus_target(settings, house, miners_w), followed, now)
        assert followed.target_w is not None
        options.append((followed.target_w, Reason.SURPLUS))
    else:
        followed = Followed()
    if settings.import_limit_w is not None and house.grid_w is not None:
        house_load = house.grid_w - miners_w
        room = max(settings.import_limit_w - house_load, 0.0)
        held = limit(settings, room, held, now)
        assert held.target_w is not None
        options.append((held.target_w, Reason.IMPORT_LIMIT))
    else:
        held = Followed()
    if not options:
        return FlexBudget(
            budget_w=None, reason=Reason.NONE, followed=followed, held=held, boosting=boost
        )
    budget, reason = min(options, key=lambda option: option[0])
    return FlexBudget(budget_w=budget, reason=reason, followed=followed, held=held, boosting=boost)


def boost_windows(
    settings: FlexSettings | None,
    prices: PriceSeries | None,
    sessions: Sequence[tuple[datetime, datetime]],
    *,
    now: datetime,
    horizon: timedelta,
) -> tuple[CurtailmentWindow, ...]:
    """The boosts ahead, for the plan's calendar: hours priced at or below the boost price,
    and the boost calendars' sessions, merged where they meet."""
    if settings is None:
        return ()
    end = now + horizon
    spans = [(start, stop) for start, stop in sessions if stop > now and start < end]
    if settings.boost_price is not None and prices is not None:
        spans.extend(
            (point.start, point.end)
            for point in prices.points
            if point.end > now and point.start < end and point.price <= settings.boost_price
        )
    merged: list[list[datetime]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return tuple(
        CurtailmentWindow(
            start=start, end=stop, reason=Reason.BOOST, reasons=frozenset({Reason.BOOST})
        )
        for start, stop in merged
    )
