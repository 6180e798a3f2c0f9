"""Benchmark: from a price change to the last of 50 miners confirmed curtailed.

    .venv/bin/python -m bench.bench_plan [--size 50] [--rounds 5]

A simulated fleet of Bitaxes (firmware with pause/resume, the simulator's own command delay)
runs in its own process; Home Assistant runs here with every miner added and one plan (fixed
price threshold, no stagger, no minimum times). Each round sets the price above the threshold
and times until every miner's command has been read back from the miner as applied, then
sets it below and times the resume. Printed: per round and the median, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import statistics
import sys
import time
from typing import Any

from bench.fleet import fleet_miners, resolve_without_mdns, start_fleet

ROOT = Path(__file__).resolve().parent.parent
STATUS = "127.0.12.250:18197"
PRICE = "sensor.bench_price"


async def wait_until(done: Any, limit: float = 30.0) -> float:
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > limit:
            raise SystemExit("the fleet did not follow the plan in time")
        await asyncio.sleep(0.002)
    return time.perf_counter() - start


async def run(size: int, rounds: int) -> tuple[list[float], list[float]]:
    from homeassistant import loader
    from homeassistant.helpers import frame
    from homeassistant.helpers.device_registry import format_mac
    from homeassistant.setup import async_setup_component
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_test_home_assistant,
    )

    from custom_components.home_miner.const import (
        CONF_ENTRY_TYPE,
        DOMAIN,
        ENTRY_TYPE_MINER,
        ENTRY_TYPE_PLAN,
    )
    from custom_components.home_miner.curtailment import TargetAction

    # Loopback only: resolve without mDNS, so no Zeroconf socket opens (as the tests do).
    resolve_without_mdns()
    miners = fleet_miners(STATUS)
    stops: list[float] = []
    resumes: list[float] = []
    async with async_test_home_assistant() as hass:
        frame.async_setup(hass)
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        assert await async_setup_component(hass, "network", {})
        entries = []
        for miner in miners:
            entry = MockConfigEntry(
                domain=DOMAIN,
                title=miner["hostname"],
                unique_id=format_mac(miner["mac"]),
                data={CONF_ENTRY_TYPE: ENTRY_TYPE_MINER, "host": miner["ip"]},
            )
            entry.add_to_hass(hass)
            entries.append(entry)
        results = await asyncio.gather(
            *(hass.config_entries.async_setup(e.entry_id) for e in entries)
        )
        assert all(results), "a miner did not set up"
        hass.states.async_set(PRICE, "0.10", {"unit_of_measurement": "EUR/kWh"})
        plan = MockConfigEntry(
            domain=DOMAIN,
            title="Bench",
            data={CONF_ENTRY_TYPE: ENTRY_TYPE_PLAN},
            options={
                "miners": [
                    {"miner": e.unique_id, "action": "stop", "priority": 100} for e in entries
                ],
                "tou_mode": "none",
                "price_entity": PRICE,
                "price_preset": "none",
                "threshold_mode": "fixed",
                "threshold": 0.30,
                "hysteresis": 0,
                "on_missing_price": "run",
                "min_on_minutes": 0,
                "min_off_minutes": 0,
                "restart_stagger_seconds": 0,
                "max_length_minutes": 0,
                "observe_only": False,
            },
        )
        plan.add_to_hass(hass)
        assert await hass.config_entries.async_setup(plan.entry_id)
        await hass.async_block_till_done()
        actuators = plan.runtime_data.actuators.values()

        def all_applied(action: TargetAction) -> bool:
            return all(
                a.applied is not None and a.applied.action is action and not a.busy
                for a in actuators
            )

        for _ in range(rounds):
            hass.states.async_set(PRICE, "0.50", {"unit_of_measurement": "EUR/kWh"})
            stops.append(await wait_until(lambda: all_applied(TargetAction.STOP)))
            assert all(m["paused"] for m in await hass.async_add_executor_job(fleet_miners, STATUS))
            hass.states.async_set(PRICE, "0.10", {"unit_of_measurement": "EUR/kWh"})
            resumes.append(await wait_until(lambda: all_applied(TargetAction.RUN)))
            assert not any(
                m["paused"] for m in await hass.async_add_executor_job(fleet_miners, STATUS)
            )
        await hass.config_entries.async_unload(plan.entry_id)
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    return stops, resumes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import pyasic  # noqa: F401 - imported before timing, as the integration does once

    fleet = start_fleet(
        f"127.0.11.1-127.0.11.{args.size}", args.size, STATUS, "--families", "bitaxe"
    )
    try:
        stops, resumes = asyncio.run(run(args.size, args.rounds), debug=False)
    finally:
        fleet.terminate()
        fleet.wait(timeout=30)
    print(f"{args.size} miners, trigger (price state change) to the last miner confirmed:")
    for name, times in (("curtail", stops), ("resume", resumes)):
        rounds = " ".join(f"{t * 1000:.0f}" for t in times)
        print(f"  {name:8} median {statistics.median(times) * 1000:6.0f} ms   rounds: {rounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
