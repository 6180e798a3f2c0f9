"""A day of a house with solar, in Home Assistant: a plan mines on the surplus, another holds
the house under an import limit, over simulated miners of the families that can follow a
target: ESP-Miner frequency steps, Avalon levels, and an Antminer's modes (LuxOS profiles;
why no stock Antminer: simulation.FLEET).

The house (day.py): 13 June of pvlib's TMY year for Greensboro, NC (sun, then afternoon
clouds) on a 5 kWp array, and a BDEW H0 household of 3000 kWh a year, both scaled so that
the day's highest export equals the fleet's maximum: by 0.079 for the small miners' 193 W (a
0.40 kWp array and a 238 kWh household), by 1.34 with the S19j Pro beside them (3.26 kW: a
6.7 kWp array and a 4010 kWh household).

The meter (simulation.py) reads house load - PV + what the miners draw, every 5 s (every
minute at night); each miner is polled every 15 s through its coordinator, so its own
reading lags the meter; a command takes one meter step.

Measured, with *absorbable* = at each instant min(export without the miners, the fleet's
maximum power) and *import caused* = import with the miners minus import without them:

- absorbed energy at least 90 % of absorbable;
- import caused by mining at most 2 % of the mining energy. A stopped miner stays plugged
  in: a paused Bitaxe draws 3-4.5 W, a soft-off Nano 7 W, 17 W in all, 0.21 kWh of import
  over the day that no plan can avoid (several times 2 % of what this fleet can mine in a
  day). So the baseline is the house with every miner stopped (`import_by_mining_kwh`); the
  import of their idle draw is reported beside it (`idle_import_kwh`);
- no miner changes its setting (frequency, level, a stop) more than 6 times in any hour, nor
  faster than its minimum on and off times (5 minutes each);
- with an import limit, the house over it for no longer than one poll and one command.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.home_miner.plan import PlanCoordinator
from tests.plan.conftest import AddPlan, plan_of

from .conftest import HouseFleet
from .day import june_day
from .simulation import (
    ANTMINER_FLEET,
    DAY,
    FLEET,
    GRID,
    HOUR_S,
    MIN_OFF_MINUTES,
    MIN_ON_MINUTES,
    POLL_S,
    STEP_S,
    WATTS,
    House,
    changes_in_any_hour,
    min_time_breaks,
    settle_actuators,
)

SAFETY = {"min_on_minutes": MIN_ON_MINUTES, "min_off_minutes": MIN_OFF_MINUTES}


async def _house(
    hass: HomeAssistant,
    house_fleet: HouseFleet,
    add_plan: AddPlan,
    midnight: datetime,
    house: dict[str, object],
    *,
    start_s: int = 0,
    limit_of: float = 0.0,
    fleet: Sequence[tuple[str, dict[str, Any]]] = FLEET,
) -> tuple[House, PlanCoordinator]:
    """The fleet added, the house scaled to it as it is at `start_s`, and a plan of every
    miner following it (with an import limit `limit_of` of the fleet's maximum above the
    house's own highest import, if given)."""
    miners = await house_fleet(fleet)
    fleet_max = sum(m.full_w for m in miners)
    day, _ = june_day().scaled_to(fleet_max)
    if limit_of:
        house_peak = float((day.load_w - day.pv_w).max())
        house = {**house, "import_limit_kw": round((house_peak + limit_of * fleet_max) / 1000, 4)}
    pv, load = day.at(start_s)
    hass.states.async_set(GRID, f"{load - pv + fleet_max:.1f}", WATTS)
    entry = await add_plan(
        [{"miner": m.miner_id, "action": "stop"} for m in miners],
        house={"grid_power_entity": GRID, **house},
        safety=SAFETY,
    )
    plan = plan_of(entry)

    async def meter(now: datetime, grid_w: float) -> None:
        plan.async_decide(now)  # time has moved on: the plan decides at `now` from here
        hass.states.async_set(GRID, f"{grid_w:.1f}", WATTS)

    house_loop = House(
        hass,
        day,
        miners,
        midnight=midnight,
        controller=meter,
        settle=lambda: settle_actuators(hass, lambda: list(plan.actuators.values())),
    )
    return house_loop, plan


@pytest.mark.parametrize("fleet", [FLEET, ANTMINER_FLEET], ids=["small miners", "with an Antminer"])
async def test_a_day_of_solar_surplus_is_mined_without_importing(
    hass: HomeAssistant,
    house_fleet: HouseFleet,
    add_plan: AddPlan,
    midnight: datetime,
    fleet: Sequence[tuple[str, dict[str, Any]]],
) -> None:
    house, _ = await _house(
        hass, house_fleet, add_plan, midnight, {"surplus_only": True}, fleet=fleet
    )
    await house.run(*DAY)
    totals = house.ledger.totals()
    report = "\n".join(house.report())
    assert totals.absorbed_kwh >= 0.9 * totals.absorbable_kwh, report
    assert totals.import_by_mining_kwh <= 0.02 * totals.mining_kwh, report
    for miner in house.miners:
        changes = miner.changes[1:]
        assert changes_in_any_hour(changes) <= 6, f"{miner.name}: {changes}\n{report}"
        breaks = min_time_breaks(
            changes,
            miner.full_setting,
            min_on_s=MIN_ON_MINUTES * 60,
            min_off_s=MIN_OFF_MINUTES * 60,
            tolerance_s=STEP_S,
        )
        assert not breaks, f"{miner.name}: {breaks}\n{report}"


async def test_the_import_limit_holds_from_the_afternoon_to_the_evening_peak(
    hass: HomeAssistant, house_fleet: HouseFleet, add_plan: AddPlan, midnight: datetime
) -> None:
    """No surplus mode: the miners run, and give way to the house. The limit is the house's
    own highest import (33 W, at the evening peak) plus a quarter of the fleet (48 W): it
    holds them back whenever the house exports less than 112 W, 84 % of the time from 15:00
    (PV 114 W, 136 W at 16:30, none from 20:30) to 21:00 (the house importing 31 W)."""
    start = 15 * HOUR_S
    house, plan = await _house(
        hass, house_fleet, add_plan, midnight, {}, start_s=start, limit_of=0.25
    )
    assert plan.config.flex is not None
    limit_w = plan.config.flex.import_limit_w
    assert limit_w is not None
    await house.run((start, 21 * HOUR_S, STEP_S))
    report = "\n".join(house.report())
    longest = house.ledger.import_limit_exceeded_s(limit_w)
    assert longest <= POLL_S + STEP_S, f"over {limit_w:.1f} W for {longest:.0f} s\n{report}"
