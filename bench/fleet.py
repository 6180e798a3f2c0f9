"""A simulated fleet in its own process, for the benchmarks (so its CPU is not counted)."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
import time
from typing import Any
import urllib.request

ROOT = Path(__file__).resolve().parent.parent


def start_fleet(spec: str, size: int, status: str, *extra: str) -> subprocess.Popen[bytes]:
    """Start `python -m tests.simulator` and wait until its `size` miners answer."""
    fleet = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.simulator",
            "--fleet",
            spec,
            "--status",
            status,
            "--same-model",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if len(fleet_miners(status)) == size:
                return fleet
        except OSError, KeyError, ValueError:
            pass
        time.sleep(0.2)
    fleet.kill()
    raise SystemExit("the simulated fleet did not start")


def resolve_without_mdns() -> None:
    """Home Assistant's HTTP sessions resolve names with a plain threaded resolver, no mDNS.

    Home Assistant's own resolver starts Zeroconf, which joins the mDNS multicast group: on a
    loopback without multicast (a private network namespace with only `lo` up) that fails
    with ENODEV and no session can be made. The miners are loopback addresses, so nothing is
    lost (the tests swap the resolver the same way). Call it before Home Assistant starts.
    """
    from aiohttp.resolver import ThreadedResolver
    from homeassistant.helpers import aiohttp_client

    class _Resolver(ThreadedResolver):
        async def real_close(self) -> None:
            """Home Assistant closes its resolver with this when it stops."""
            await self.close()

    aiohttp_client._async_make_resolver = lambda hass: _Resolver()


def fleet_miners(status: str) -> list[dict[str, Any]]:
    """Every simulated miner's state, from the fleet's status endpoint."""
    with urllib.request.urlopen(f"http://{status}/miners", timeout=5) as response:
        miners: list[dict[str, Any]] = json.loads(response.read())["miners"]
    return miners
