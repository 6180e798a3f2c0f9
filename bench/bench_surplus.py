"""Benchmark: a day of solar surplus mined by the plan, and by the peer rule.

    unshare --net bash -c 'ip link set lo up; .venv/bin/python -m bench.bench_surplus'

The house and fleet of tests/house/: 13 June of pvlib's TMY year for Greensboro, NC (sun,
then afternoon clouds) on a 5 kWp array and a BDEW H0 household of 3000 kWh a year, both
scaled so that the day's highest export equals the fleet's maximum power; three Bitaxes
(Gamma, GammaTurbo, Supra) and an Avalon Nano 3s, simulated here on loopback addresses. The
meter reads house load - PV + what the miners draw, every 5 s (every minute at night); each
miner is polled every 15 s; a command takes one meter step.
The day runs twice, each time on a fresh Home Assistant and fresh miners:

- **plan**: a curtailment plan mining on surplus only (minimum on and off times 5 minutes);
- **peer rule** (PV_Mining_HA's): at every meter reading each miner in turn, most efficient
  first, is switched on when the surplus left covers 95 % of its rated power and off when it
  does not, through its mining switch, as an automation would. The surplus is what the meter
  exports plus what the miners switched on draw (their power sensors).

With `--antminer` the fleet has an S19j Pro on LuxOS beside them (its profiles are its
modes), and the house is scaled to that fleet.

Printed for both: the surplus absorbed, the import caused (and how much of it is the stopped
miners' idle draw), setting changes and starts/stops per miner, hashrate-hours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
import sys
from typing import TYPE_CHECKING, Any

from bench.fleet import resolve_without_mdns

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from tests.house.simulation import House, HouseMiner, Totals

ROOT = Path(__file__).resolve().parent.parent
PEER_SHARE = 0.95
RULES = ("plan", "peer")

Controller = Callable[[datetime, float], Awaitable[None]]


class PeerRule:
    """PV_Mining_HA's rule over the miners' mining switches and power sensors."""

    def __init__(self, hass: HomeAssistant, miners: list[HouseMiner]) -> None:
        from homeassistant.helpers import entity_registry as er

        from custom_components.home_miner.const import DOMAIN

        self.hass = hass
        # Most efficient first: the order a person would give them.
        self.miners = sorted(miners, key=lambda m: m.full_w / m.full_ths)
        registry = er.async_get(hass)
        self.switch: dict[str, str] = {}
        self.power: dict[str, str] = {}
        for miner in miners:
            switch = registry.async_get_entity_id("switch", DOMAIN, f"{miner.miner_id}_mining")
            power = registry.async_get_entity_id("sensor", DOMAIN, f"{miner.miner_id}_power")
            assert switch is not None, f"{miner.name} cannot be switched"
            assert power is not None, f"{miner.name} reports no power"
            self.switch[miner.miner_id], self.power[miner.miner_id] = switch, power

    def _drawn(self, miner: HouseMiner) -> float:
        state = self.hass.states.get(self.power[miner.miner_id])
        try:
            return float(state.state) if state is not None else 0.0
        except ValueError:
            return 0.0

    async def __call__(self, now: datetime, grid_w: float) -> None:
        from tests.house.simulation import GRID, WATTS

        hass = self.hass
        hass.states.async_set(GRID, f"{grid_w:.1f}", WATTS)
        running = {
            m.miner_id
            for m in self.miners
            if (state := hass.states.get(self.switch[m.miner_id])) is not None
            and state.state == "on"
        }
        left = -grid_w + sum(self._drawn(m) for m in self.miners if m.miner_id in running)
        for miner in self.miners:
            on = left >= PEER_SHARE * miner.full_w
            if on:
                left -= miner.full_w
            if on != (miner.miner_id in running):
                await hass.services.async_call(
                    "switch",
                    "turn_on" if on else "turn_off",
                    {"entity_id": self.switch[miner.miner_id]},
                    blocking=True,
                )


async def _add_miners(hass: HomeAssistant, miners: list[HouseMiner]) -> None:
    from homeassistant.helpers.device_registry import format_mac
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.home_miner.const import CONF_ENTRY_TYPE, DOMAIN, ENTRY_TYPE_MINER

    entries = []
    for miner in miners:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=miner.sim.hostname,
            unique_id=format_mac(miner.sim.mac),
            data={CONF_ENTRY_TYPE: ENTRY_TYPE_MINER, "host": miner.sim.ip},
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    # Setting up one entry of the domain sets up every one added.
    assert await hass.config_entries.async_setup(entries[0].entry_id)
    await hass.async_block_till_done()
    assert all(entry.runtime_data for entry in entries), "a miner did not set up"
    for miner in miners:
        await miner.added(hass)


async def _plan(
    hass: HomeAssistant, miners: list[HouseMiner]
) -> tuple[Controller, Callable[[], Awaitable[None]]]:
    """A plan mining on surplus only, and the meter that drives it at injected instants."""
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.home_miner.const import CONF_ENTRY_TYPE, DOMAIN, ENTRY_TYPE_PLAN
    from tests.house.simulation import (
        GRID,
        MIN_OFF_MINUTES,
        MIN_ON_MINUTES,
        WATTS,
        settle_actuators,
    )

    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Surplus",
        data={CONF_ENTRY_TYPE: ENTRY_TYPE_PLAN},
        options={
            "miners": [{"miner": m.miner_id, "action": "stop", "priority": 100} for m in miners],
            "tou_mode": "none",
            "price_preset": "none",
            "threshold_mode": "none",
            "hysteresis": 0,
            "grid_power_entity": GRID,
            "surplus_only": True,
            "reserve_w": 0,
            "grid_allowance_w": 0,
            "min_on_minutes": MIN_ON_MINUTES,
            "min_off_minutes": MIN_OFF_MINUTES,
            "restart_stagger_seconds": 0,
            "max_length_minutes": 0,
            "observe_only": False,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plan = entry.runtime_data

    async def meter(now: datetime, grid_w: float) -> None:
        plan.async_decide(now)
        hass.states.async_set(GRID, f"{grid_w:.1f}", WATTS)

    async def settle() -> None:
        await settle_actuators(hass, lambda: list(plan.actuators.values()))

    return meter, settle


async def _day(rule: str, antminer: bool) -> tuple[House, float]:
    """One day with `rule` ("plan" or "peer"): the house after it, and the house's scale."""
    from homeassistant import loader
    from homeassistant.helpers import frame
    from homeassistant.setup import async_setup_component
    from homeassistant.util import dt as dt_util
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    from tests.house.day import TIME_ZONE, june_day
    from tests.house.simulation import (
        ANTMINER_FLEET,
        DAY,
        FLEET,
        GRID,
        WATTS,
        House,
        HouseMiner,
    )

    fleet = ANTMINER_FLEET if antminer else FLEET
    miners = [HouseMiner.start(i, family, options) for i, (family, options) in enumerate(fleet)]
    for miner in miners:
        await miner.sim.power_on()
    try:
        async with async_test_home_assistant() as hass:
            frame.async_setup(hass)
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            assert await async_setup_component(hass, "network", {})
            await hass.config.async_set_time_zone(TIME_ZONE)
            await _add_miners(hass, miners)
            fleet_max = sum(m.full_w for m in miners)
            day, factor = june_day().scaled_to(fleet_max)
            pv, load = day.at(0)
            hass.states.async_set(GRID, f"{load - pv + fleet_max:.1f}", WATTS)
            if rule == "plan":
                controller, settle = await _plan(hass, miners)
            else:
                controller, settle = PeerRule(hass, miners), hass.async_block_till_done
            local = dt_util.now() + timedelta(days=1)
            midnight = dt_util.as_utc(local.replace(hour=0, minute=0, second=0, microsecond=0))
            house = House(
                hass, day, miners, midnight=midnight, controller=controller, settle=settle
            )
            await house.run(*DAY)
            for entry in reversed(hass.config_entries.async_entries()):
                await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
            return house, factor
    finally:
        for miner in miners:
            await miner.sim.power_off()


def _fast_commands() -> None:
    """Commands read back every 10 ms (the simulators apply them in 10 ms), as the tests do."""
    from custom_components.home_miner.miner import client
    from custom_components.home_miner.plan import const

    client.VERIFY_INTERVAL = 0.01
    client.VERIFY_TIMEOUT = 2.0
    const.RETRY_DELAYS = (0.1, 0.2)


def _share(part: float, whole: float) -> str:
    return f"{part:.3f} ({part / whole:.1%})" if whole else f"{part:.3f}"


ROWS: tuple[tuple[str, Callable[[Totals], str]], ...] = (
    ("surplus absorbable (kWh)", lambda t: f"{t.absorbable_kwh:.3f}"),
    ("surplus absorbed (kWh, of absorbable)", lambda t: _share(t.absorbed_kwh, t.absorbable_kwh)),
    ("import caused (kWh, of mining)", lambda t: _share(t.import_caused_kwh, t.mining_kwh)),
    ("  of it the stopped miners' idle draw", lambda t: f"{t.idle_import_kwh:.3f}"),
    ("  of it mining", lambda t: _share(t.import_by_mining_kwh, t.mining_kwh)),
    ("mining energy (kWh)", lambda t: f"{t.mining_kwh:.3f}"),
    ("hashrate-hours (TH·h)", lambda t: f"{t.hashrate_th_hours:.2f}"),
)


def _print(houses: dict[str, House], factor: float) -> None:
    from tests.house.day import ANNUAL_KWH, PV_KWP
    from tests.house.simulation import changes_in_any_hour, starts_and_stops

    plan = houses["plan"]
    print(
        f"A day of solar surplus: 13 June, TMY Greensboro NC, fleet {plan.fleet_max_w:.0f} W;"
        f" house x{factor:.4f} ({PV_KWP * factor:.2f} kWp, {ANNUAL_KWH * factor:.0f} kWh a year)"
    )
    totals = {rule: house.ledger.totals() for rule, house in houses.items()}
    print(f"{'':40}{'plan':>18}{'peer rule':>18}")
    for label, value in ROWS:
        print(f"{label:40}{value(totals['plan']):>18}{value(totals['peer']):>18}")
    print("per miner: setting changes / starts+stops / most in one hour")
    for index, miner in enumerate(plan.miners):
        cells = []
        for rule in RULES:
            changes = houses[rule].miners[index].changes
            cells.append(
                f"{len(changes) - 1} / {starts_and_stops(changes)}"
                f" / {changes_in_any_hour(changes[1:])}"
            )
        print(f"  {miner.name:38}{cells[0]:>18}{cells[1]:>18}")
    print(" ".join(f"{rule}: {houses[rule].real_s:.0f} s of real time;" for rule in RULES))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    resolve_without_mdns()
    _fast_commands()
    antminer = "--antminer" in sys.argv[1:]
    houses: dict[str, Any] = {}
    factor = 0.0
    for rule in RULES:
        houses[rule], factor = asyncio.run(_day(rule, antminer))
    _print(houses, factor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
