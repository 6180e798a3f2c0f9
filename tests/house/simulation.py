"""A house in Home Assistant's test harness: a grid meter over simulated miners, a day run in
compressed time, and what the day's energy did.

At every `step_s` of simulated time (the meter's interval):

1. the step that starts now is booked at the miners' true power (their simulators'
   `power_w`). A command sent during the previous step has landed by now: a command takes
   one step of simulated time.
2. The miners whose poll is due are polled through their coordinators, `poll_s` apart at
   staggered offsets as their coordinators would.
3. The grid sensor (W, import positive) is set to house load - PV + the power the miners
   draw now, as a meter measures it: the plan sees a change in the meter at once and in
   the miner's own reading only at its next poll (or its command's read-back).
4. The controller acts (the plan, or the peer rule of `bench/bench_surplus.py`), and its
   commands are carried out, in real time, before simulated time moves on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import itertools
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import format_mac
import numpy as np
from numpy.typing import NDArray

from custom_components.home_miner.plan.actuator import miner_coordinator
from tests.simulator.antminer import AntminerStockMiner
from tests.simulator.avalon import AvalonNanoMiner
from tests.simulator.base import SimulatedMiner
from tests.simulator.esp_miner import BitaxeMiner
from tests.simulator.luxos import LuxOSMiner

from .day import Day

GRID = "sensor.grid_power"
WATTS = {"unit_of_measurement": "W", "device_class": "power", "state_class": "measurement"}
STEP_S = 5
POLL_S = 15
HOUR_S = 3600
# The meter every 5 s while the sun is up (PV from 04:30 to 20:30), every minute at night,
# when nothing changes but the load each quarter hour.
DAY = ((0, 16_200, 60), (16_200, 73_800, STEP_S), (73_800, 86_400, 60))
MIN_ON_MINUTES = MIN_OFF_MINUTES = 5

# What a miner is set to (the discrete setting a command changes: a frequency, a level, a
# work mode), or None while it does not hash.
Setting = Hashable | None


@dataclass(frozen=True, kw_only=True)
class Family:
    """How the house reads one family's simulator: its setting, hashrate and idle draw."""

    simulator: type[SimulatedMiner]
    setting: Callable[[Any], Setting]
    hashrate_ths: Callable[[Any], float]
    idle_w: Callable[[Any], float]
    """What it draws stopped (paused, soft-off, asleep): it stays plugged in."""
    label: Callable[[Any], str]
    extra: dict[str, Any] = field(default_factory=dict)


FAMILIES = {
    "bitaxe": Family(
        simulator=BitaxeMiner,
        setting=lambda sim: None if sim.paused else ("MHz", sim.frequency),
        hashrate_ths=lambda sim: sim.hashrate_ghs / 1000,
        idle_w=lambda sim: sim.idle_w,
        label=lambda sim: f"Bitaxe {sim.model}",
    ),
    "avalon_nano": Family(
        simulator=AvalonNanoMiner,
        setting=lambda sim: None if sim.soft_off else ("level", sim.work_level),
        hashrate_ths=lambda sim: sim.actual_ghs / 1000,
        idle_w=lambda sim: float(sim.spec.idle_watts),
        label=lambda sim: sim.spec.name,
    ),
    "antminer": Family(
        simulator=AntminerStockMiner,
        setting=lambda sim: None if sim.work_mode == "1" else ("mode", sim.work_mode),
        hashrate_ths=lambda sim: sim.hashrate_ths,
        idle_w=lambda sim: sim.idle_w,
        label=lambda sim: sim.model,
        # bmminer back 50 ms after a config change (tens of seconds on a real unit).
        extra={"restart_seconds": 0.05},
    ),
    "luxos": Family(
        simulator=LuxOSMiner,
        setting=lambda sim: None if sim.curtailed else ("profile", sim.profile),
        hashrate_ths=lambda sim: sim.hashrate_ths,
        idle_w=lambda sim: sim.idle_w,
        label=lambda sim: f"{sim.model} (LuxOS)",
        # A wakeup or profile change hashes at once (it ramps for minutes on a real unit; in
        # real time here, the day's outcome would hang on the machine's speed).
        extra={"ramp_seconds": 0.0},
    ),
}
# A home fleet of each family that can follow a target: ESP-Miner frequency steps on three
# boards (16, 30 and 14 W at their stock frequencies) and an Avalon Nano 3s with its three
# levels (74, 99, 133 W) on firmware with soft power off (one without it cannot stop, and
# would mine at its lowest level all night). A stock Antminer is left out: its 3 kW can
# only be on or asleep, so it takes none of a surplus smaller than itself (an S19j Pro beside
# these, the house scaled to that fleet: the best any plan could absorb of this day is 29 %,
# the plan absorbs 28 %). On LuxOS, its profiles are modes a plan can choose among.
FLEET: tuple[tuple[str, dict[str, Any]], ...] = (
    ("bitaxe", {"model": "Gamma 601"}),
    ("bitaxe", {"model": "GammaTurbo 801"}),
    ("bitaxe", {"model": "Supra 401", "firmware": "v2.14.0"}),
    ("avalon_nano", {"model": "Avalon Nano 3s", "soft_off": True}),
)
# The same beside an S19j Pro on LuxOS: an Antminer whose 25 profiles (633 W to 4.7 kW,
# 3.07 kW by default) are its modes, the small miners filling below its lowest.
ANTMINER_FLEET: tuple[tuple[str, dict[str, Any]], ...] = (
    ("luxos", {"model": "Antminer S19j Pro"}),
    *FLEET,
)


@dataclass
class HouseMiner:
    """One simulated miner in the house, as Home Assistant polls it."""

    family: Family
    sim: SimulatedMiner
    poll_offset_s: int
    full_w: float = 0.0
    """Its power at the setting it was added with (what the plan never exceeds)."""
    full_setting: Setting = None
    full_ths: float = 0.0
    next_poll_s: float = 0.0
    changes: list[tuple[float, Setting]] = field(default_factory=list)

    @classmethod
    def start(cls, index: int, family: str, options: dict[str, Any]) -> HouseMiner:
        """The fleet's `index`-th miner on 127.0.30.x, applying commands in 10 ms, polled at
        its own offset in the poll interval (unplugged: call `sim.power_on()`)."""
        kind = FAMILIES[family]
        sim = kind.simulator(f"127.0.30.{index + 2}", command_delay=0.01, **kind.extra, **options)
        return cls(family=kind, sim=sim, poll_offset_s=(index * STEP_S) % POLL_S)

    @property
    def miner_id(self) -> str:
        return format_mac(self.sim.mac)

    @property
    def name(self) -> str:
        return self.family.label(self.sim)

    @property
    def setting(self) -> Setting:
        return self.family.setting(self.sim)

    @property
    def hashrate_ths(self) -> float:
        return self.family.hashrate_ths(self.sim)

    async def poll(self, hass: HomeAssistant) -> None:
        coordinator = miner_coordinator(hass, self.miner_id)
        assert coordinator is not None, f"{self.name} is not loaded"
        await coordinator.async_refresh()

    async def added(self, hass: HomeAssistant) -> None:
        """Polled once as it was added: its power, setting and hashrate then are its full
        ones."""
        await self.poll(hass)
        self.full_w = self.sim.power_w
        self.full_setting = self.setting
        self.full_ths = self.hashrate_ths


# The controller at one meter reading: (simulated now, grid power W) -> acts.
Controller = Callable[[datetime, float], Awaitable[None]]


@dataclass
class Ledger:
    """Every step of the day: its length, PV, load, and the miners' true power and hashrate."""

    fleet_max_w: float
    idle_all_w: float
    seconds: list[float] = field(default_factory=list)
    step_s: list[float] = field(default_factory=list)
    pv_w: list[float] = field(default_factory=list)
    load_w: list[float] = field(default_factory=list)
    miners_w: list[float] = field(default_factory=list)
    hashing_w: list[float] = field(default_factory=list)
    hashrate_ths: list[float] = field(default_factory=list)

    def book(self, seconds: float, step_s: float, pv: float, load: float) -> None:
        self.seconds.append(seconds)
        self.step_s.append(step_s)
        self.pv_w.append(pv)
        self.load_w.append(load)

    def _kwh(self, watts: NDArray[np.float64]) -> float:
        return float(np.dot(watts, self.step_s)) / 3.6e6

    def arrays(self) -> tuple[NDArray[np.float64], ...]:
        return tuple(
            np.asarray(values, dtype=np.float64)
            for values in (self.pv_w, self.load_w, self.miners_w, self.hashing_w)
        )

    def totals(self) -> Totals:
        pv, load, miners, hashing = self.arrays()
        house = load - pv  # the grid without the miners
        export = np.clip(-house, 0.0, None)
        with_miners = np.clip(house + miners, 0.0, None)
        without = np.clip(house, 0.0, None)
        idle = np.clip(house + self.idle_all_w, 0.0, None)
        return Totals(
            absorbable_kwh=self._kwh(np.minimum(export, self.fleet_max_w)),
            absorbed_kwh=self._kwh(np.minimum(miners, export)),
            import_caused_kwh=self._kwh(with_miners - without),
            import_by_mining_kwh=self._kwh(np.clip(with_miners - idle, 0.0, None)),
            idle_import_kwh=self._kwh(idle - without),
            mining_kwh=self._kwh(hashing),
            miners_kwh=self._kwh(miners),
            hashrate_th_hours=float(np.dot(self.hashrate_ths, self.step_s)) / HOUR_S,
        )

    def import_limit_exceeded_s(self, limit_w: float) -> float:
        """The longest stretch (s) with the house importing more than `limit_w` (by over
        0.5 W) where the house alone would not have: the miners' doing."""
        pv, load, miners, _ = self.arrays()
        over = (load - pv + miners > limit_w + 0.5) & (load - pv <= limit_w)
        longest = run = 0.0
        for flag, step in zip(over, self.step_s, strict=True):
            run = run + step if flag else 0.0
            longest = max(longest, run)
        return longest


@dataclass(frozen=True)
class Totals:
    absorbable_kwh: float
    absorbed_kwh: float
    import_caused_kwh: float
    """Grid import with the miners minus without them (they unplugged)."""
    import_by_mining_kwh: float
    """Grid import with the miners minus with every miner stopped (plugged in, idle)."""
    idle_import_kwh: float
    """Grid import of the stopped miners' idle draw (the rest of `import_caused_kwh`)."""
    mining_kwh: float
    """Drawn by the miners while hashing."""
    miners_kwh: float
    hashrate_th_hours: float

    @property
    def absorbed_share(self) -> float:
        return self.absorbed_kwh / self.absorbable_kwh if self.absorbable_kwh else 1.0

    def lines(self) -> list[str]:
        return [
            f"surplus absorbable {self.absorbable_kwh:.3f} kWh, absorbed {self.absorbed_kwh:.3f}"
            f" kWh ({self.absorbed_share:.1%})",
            f"import caused {self.import_caused_kwh:.3f} kWh"
            f" ({self.import_caused_kwh / max(self.mining_kwh, 1e-9):.1%} of mining energy"
            f" {self.mining_kwh:.3f} kWh): by mining {self.import_by_mining_kwh:.3f} kWh,"
            f" idle draw of stopped miners {self.idle_import_kwh:.3f} kWh",
            f"miners drew {self.miners_kwh:.3f} kWh, {self.hashrate_th_hours:.3f} TH·h",
        ]


def starts_and_stops(changes: Sequence[tuple[float, Setting]]) -> int:
    """How often the miner started or stopped hashing along `changes` (its first entry is
    where it began)."""
    settings = [setting for _, setting in changes]
    return sum(1 for a, b in itertools.pairwise(settings) if (a is None) != (b is None))


def changes_in_any_hour(changes: Sequence[tuple[float, Setting]]) -> int:
    """The most setting changes inside one hour (a sliding window)."""
    times = [at for at, _ in changes]
    return max(
        (sum(1 for other in times[i:] if other < at + HOUR_S) for i, at in enumerate(times)),
        default=0,
    )


def min_time_breaks(
    changes: Sequence[tuple[float, Setting]],
    full: Setting,
    *,
    min_on_s: float,
    min_off_s: float,
    tolerance_s: float,
) -> list[str]:
    """Where a miner changed faster than its minimum times allow: curtailed (turned down or
    stopped) within `min_on_s` of running at its own setting again, back within `min_off_s`
    of being curtailed; stopped within `min_on_s` of starting to hash, restarted within
    `min_off_s` of stopping."""
    breaks: list[str] = []
    curtail_at = hash_at = -np.inf
    before: Setting = full
    for at, now in changes:
        since: list[float] = []
        if (before == full) != (now == full):
            need = min_on_s if before == full else min_off_s
            if at - curtail_at < need - tolerance_s:
                since.append(at - curtail_at)
            curtail_at = at
        if (before is None) != (now is None):
            need = min_off_s if before is None else min_on_s
            if at - hash_at < need - tolerance_s:
                since.append(at - hash_at)
            hash_at = at
        if since:
            breaks.append(f"{before}->{now} at {at:.0f} s, {min(since):.0f} s after")
        before = now
    return breaks


class House:
    """The day's loop over a house with `miners`, driven by `controller`."""

    def __init__(
        self,
        hass: HomeAssistant,
        day: Day,
        miners: Sequence[HouseMiner],
        *,
        midnight: datetime,
        controller: Controller,
        settle: Callable[[], Awaitable[None]],
        poll_s: int = POLL_S,
    ) -> None:
        self.hass = hass
        self.day = day
        self.miners = list(miners)
        self.midnight = midnight
        self.controller = controller
        self.settle = settle
        self.poll_s = poll_s
        self.fleet_max_w = sum(m.full_w for m in self.miners)
        self.ledger = Ledger(
            fleet_max_w=self.fleet_max_w,
            idle_all_w=sum(m.family.idle_w(m.sim) for m in self.miners),
        )
        self.real_s = 0.0

    async def run(self, *segments: tuple[int, int, int]) -> Ledger:
        """Run `(start s, end s, step s)` segments of the day, in order."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        debug = loop.get_debug()
        # asyncio's debug mode (on in Home Assistant's tests) records a stack for every
        # callback: a third of the run time of a day.
        loop.set_debug(False)
        try:
            for start_s, end_s, step_s in segments:
                await self._run(start_s, end_s, step_s)
        finally:
            loop.set_debug(debug)
        self.real_s += time.perf_counter() - started
        return self.ledger

    async def _run(self, start_s: int, end_s: int, step_s: int) -> None:
        for miner in self.miners:
            if not miner.changes:
                miner.changes = [(start_s, miner.setting)]
            miner.next_poll_s = max(miner.next_poll_s, start_s + miner.poll_offset_s)
        for seconds in range(start_s, end_s, step_s):
            now = self.midnight + timedelta(seconds=seconds)
            pv, load = self.day.at(seconds)
            self._book(seconds, step_s, pv, load)
            for miner in self.miners:
                if seconds >= miner.next_poll_s:
                    await miner.poll(self.hass)
                    miner.next_poll_s = seconds + self.poll_s
            grid = load - pv + sum(m.sim.power_w for m in self.miners)
            await self.controller(now, grid)
            await self.settle()

    def _book(self, seconds: float, step_s: float, pv: float, load: float) -> None:
        ledger = self.ledger
        ledger.book(seconds, step_s, pv, load)
        ledger.miners_w.append(sum(m.sim.power_w for m in self.miners))
        ledger.hashing_w.append(sum(m.sim.power_w for m in self.miners if m.setting is not None))
        ledger.hashrate_ths.append(sum(m.hashrate_ths for m in self.miners))
        for miner in self.miners:
            now = miner.setting
            if now != miner.changes[-1][1]:
                miner.changes.append((seconds, now))

    def report(self) -> list[str]:
        lines = self.ledger.totals().lines()
        for miner in self.miners:
            changes = miner.changes[1:]
            lines.append(
                f"{miner.name}: {len(changes)} setting changes"
                f" ({starts_and_stops(miner.changes)} starts/stops),"
                f" at most {changes_in_any_hour(changes)} in an hour"
            )
        lines.append(f"{self.real_s:.1f} s of real time")
        return lines


async def settle_actuators(hass: HomeAssistant, actuators: Callable[[], Sequence[object]]) -> None:
    """Wait (in real time) until no command of the plan is under way."""
    for _ in range(2000):
        await hass.async_block_till_done()
        if not any(getattr(actuator, "busy", False) for actuator in actuators()):
            return
        await asyncio.sleep(0.002)
    raise AssertionError("commands still running")
