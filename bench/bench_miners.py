"""Benchmark: many simulated miners as entries of one Home Assistant.

    .venv/bin/python -m bench.bench_miners [--sizes 1,10,50,200] [--interval 15]
    .venv/bin/python -m bench.bench_miners --per-family 10

For each fleet size a simulated fleet (Bitaxe, Avalon Nano, Antminer in turn) runs in its own
process, so this process's CPU is Home Assistant's and the integration's alone. Printed:
- add: wall time to set up all entries for the first time, concurrently (their devices and
  entities are registered then), each knowing its miner's pyasic class from the config flow;
- re-setup: the same entries set up again in the same Home Assistant, with new HTTP
  connections (median of 3): close to a start (devices and entities already registered),
  except that platform code and translations are already loaded;
- refresh: one refresh of every miner at once (median of 9), wall time and CPU ms per miner;
- spread: CPU per poll over one full poll interval of normal running, each miner polling at
  its own offset (polls one at a time, Home Assistant's timers included), less the CPU the
  same Home Assistant used over an interval before any miner was set up (printed as idle);
- stall: the longest the event loop was late during one full poll interval, polls spread;
- memory: peak RSS of this process;
- redetect: CPU per miner of what an integration that re-detects on every poll does
  (`get_miner` + a full `get_data`), and its ratio to one of our polls.
asyncio debug is off, as in real use. Every timed phase starts after a full garbage
collection, so the garbage one phase leaves (the re-detection's above all) is not charged to
the next; collections the phase itself causes are counted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import gc
from pathlib import Path
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench.fleet import fleet_miners, resolve_without_mdns, start_fleet

ROOT = Path(__file__).resolve().parent.parent
STATUS = "127.0.19.1:18199"


def start_miners_fleet(size: int) -> subprocess.Popen[bytes]:
    spec = ",".join(f"127.0.{20 + i // 250}.{1 + i % 250}" for i in range(size))
    return start_fleet(spec, size, STATUS)


async def cpu_and_wall(work: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    # A full collection first: the garbage of one phase is not charged to the next.
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = await work()
    return time.process_time() - cpu, time.perf_counter() - wall, result


async def longest_stall(seconds: float, tick: float = 0.005) -> float:
    loop = asyncio.get_running_loop()
    worst = 0.0
    end = loop.time() + seconds
    while loop.time() < end:
        before = loop.time()
        await asyncio.sleep(tick)
        worst = max(worst, loop.time() - before - tick)
    return worst


async def spread_polls(coordinators: list[Any], seconds: float) -> tuple[float, int]:
    """CPU of this process over `seconds` of normal running, and the polls made meanwhile.

    Each miner polls at its own offset in the interval, so this is the cost of polls one
    at a time, as in real use, with Home Assistant's timers and scheduling included.
    """
    polls = 0

    def counted() -> None:
        nonlocal polls
        polls += 1

    removers = [c.async_add_listener(counted) for c in coordinators]
    gc.collect()
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu
    for remove in removers:
        remove()
    return cpu, polls


async def resetups(
    hass: Any, entries: list[Any], setup_all: Callable[[], Awaitable[list[bool]]], times: int = 3
) -> float:
    """Median wall time of setting every entry up again in the same Home Assistant.

    Close to a Home Assistant start: the devices and entities are in the registries, and the
    HTTP connections to the miners are new (the shared session is replaced each time); unlike
    a start, the platform code and translations are already loaded.
    """
    from homeassistant.helpers import aiohttp_client

    async def unload_all() -> None:
        await asyncio.gather(*(hass.config_entries.async_unload(e.entry_id) for e in entries))
        await hass.async_block_till_done()

    walls = []
    for _ in range(times):
        await unload_all()
        hass.data.pop(aiohttp_client.DATA_CLIENTSESSION, None)
        for connector in hass.data.pop(aiohttp_client.DATA_CONNECTOR, {}).values():
            await connector.close()
        _, wall, results = await cpu_and_wall(setup_all)
        await hass.async_block_till_done()
        assert all(results)
        walls.append(wall)
    await unload_all()
    return sorted(walls)[len(walls) // 2]


async def idle_cpu(seconds: float) -> float:
    """CPU this process uses over `seconds` with nothing to do."""
    gc.collect()
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    return time.process_time() - cpu


async def run_size(size: int, interval: int, *, polls_only: bool = False) -> dict[str, float]:
    # Home Assistant's storage goes to a directory of its own, removed afterwards.
    with tempfile.TemporaryDirectory() as config_dir:
        return await _measure(size, interval, config_dir, polls_only=polls_only)


async def _measure(
    size: int, interval: int, config_dir: str, *, polls_only: bool = False
) -> dict[str, float]:
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
        CONF_POLL_INTERVAL,
        DOMAIN,
        ENTRY_TYPE_MINER,
    )
    from custom_components.home_miner.miner import client as miner_client

    # Loopback only: resolve without mDNS, so no Zeroconf socket opens (as the tests do).
    resolve_without_mdns()

    miners = fleet_miners(STATUS)
    async with async_test_home_assistant(config_dir=config_dir) as hass:
        frame.async_setup(hass)
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        assert await async_setup_component(hass, "network", {})
        pyasic = __import__("pyasic")
        idle = await idle_cpu(interval)
        # What the config flow stored when each miner was added: its pyasic class.
        found = await asyncio.gather(*(pyasic.get_miner(m["ip"]) for m in miners))
        classes = {str(f.ip): f"{type(f).__module__}:{type(f).__qualname__}" for f in found if f}
        entries = []
        for miner in miners:
            entry = MockConfigEntry(
                domain=DOMAIN,
                title=miner["hostname"],
                unique_id=format_mac(miner["mac"]),
                data={
                    CONF_ENTRY_TYPE: ENTRY_TYPE_MINER,
                    "host": miner["ip"],
                    "miner_class": classes[miner["ip"]],
                },
                options={CONF_POLL_INTERVAL: interval},
            )
            entry.add_to_hass(hass)
            entries.append(entry)

        async def setup_all() -> list[bool]:
            return await asyncio.gather(
                *(hass.config_entries.async_setup(e.entry_id) for e in entries)
            )

        _, setup_wall, results = await cpu_and_wall(setup_all)
        await hass.async_block_till_done()
        failed = [
            (e.title, e.state, e.reason) for e, ok in zip(entries, results, strict=True) if not ok
        ]
        assert not failed, failed
        coordinators = [e.runtime_data for e in entries]

        async def refresh_all() -> None:
            await asyncio.gather(*(c.async_refresh() for c in coordinators))

        await refresh_all()  # warm
        rounds = sorted([await cpu_and_wall(refresh_all) for _ in range(9)])
        refresh_cpu, refresh_wall, _ = rounds[len(rounds) // 2]  # the median round
        assert all(c.last_update_success for c in coordinators)
        if polls_only:
            return {
                "setup_s": setup_wall,
                "refresh_wall_s": refresh_wall,
                "cpu_ms_per_miner": refresh_cpu * 1000 / size,
            }

        stall = await longest_stall(interval + 1)
        # After the stall window: by then the registries' delayed saves after setup are done.
        spread_cpu, polls = await spread_polls(coordinators, interval)

        async def redetect_all() -> None:
            async def one(ip: str) -> None:
                miner = await pyasic.get_miner(ip)
                await miner.get_data()

            await asyncio.gather(*(one(m["ip"]) for m in miners))

        redetect_cpu, _, _ = await cpu_and_wall(redetect_all)
        resetup_wall = await resetups(hass, entries, setup_all)
        del miner_client
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_miner = refresh_cpu * 1000 / size
    return {
        "setup_s": setup_wall,
        "resetup_s": resetup_wall,
        "refresh_wall_s": refresh_wall,
        "cpu_ms_per_miner": per_miner,
        "spread_ms_per_poll": max(0.0, spread_cpu - idle) * 1000 / max(polls, 1),
        "idle_ms": idle * 1000,
        "stall_ms": stall * 1000,
        "peak_rss_mb": peak_mb,
        "redetect_cpu_ms_per_miner": redetect_cpu * 1000 / size,
        "redetect_ratio": (redetect_cpu * 1000 / size) / per_miner if per_miner else 0.0,
    }


def per_family(size: int, interval: int) -> int:
    """`size` miners of one family at a time: setup, and a poll of every miner (median of 9
    rounds), wall time and CPU per miner."""
    from tests.simulator import FAMILIES

    print(f"{'family':>14} {'miners':>6} {'add s':>6} {'refresh s':>10} {'CPU ms/miner':>13}")
    ips = f"127.0.20.1-{size}"
    for family in FAMILIES:
        fleet = start_fleet(f"{family}@{ips}", size, STATUS)
        try:
            r = asyncio.run(run_size(size, interval, polls_only=True), debug=False)
        finally:
            fleet.terminate()
            fleet.wait(timeout=30)
        print(
            f"{family:>14} {size:>6} {r['setup_s']:>6.2f} {r['refresh_wall_s']:>10.2f} "
            f"{r['cpu_ms_per_miner']:>13.2f}",
            flush=True,
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50,200")
    parser.add_argument("--interval", type=int, default=15)
    parser.add_argument(
        "--per-family",
        type=int,
        metavar="N",
        help="instead: N miners of each simulated family in turn; CPU per miner per poll",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import pyasic  # noqa: F401 - imported before timing, as the integration does once

    if args.per_family:
        return per_family(args.per_family, args.interval)

    print(
        f"{'miners':>6} {'add s':>6} {'re-setup s':>10} {'refresh s':>10} {'CPU ms/miner':>13} "
        f"{'spread ms/poll':>15} {'idle ms':>8} "
        f"{'max stall ms':>13} {'peak RSS MB':>12} {'redetect ms/miner':>18} {'ratio':>6}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        fleet = start_miners_fleet(size)
        try:
            r = asyncio.run(run_size(size, args.interval), debug=False)
        finally:
            fleet.terminate()
            fleet.wait(timeout=30)
        print(
            f"{size:>6} {r['setup_s']:>6.2f} {r['resetup_s']:>10.2f} {r['refresh_wall_s']:>10.2f} "
            f"{r['cpu_ms_per_miner']:>13.2f} {r['spread_ms_per_poll']:>15.2f} {r['idle_ms']:>8.0f} "
            f"{r['stall_ms']:>13.1f} {r['peak_rss_mb']:>12.0f} "
            f"{r['redetect_cpu_ms_per_miner']:>18.2f} {r['redetect_ratio']:>6.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
