"""House fixtures: simulated miners of every family added as a user adds them, in a home on
the TMY's clock (UTC-5), and a plan added through its flow."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from tests.home_miner.conftest import (  # noqa: F401
    AddMiner,
    add_miner,
    auto_enable_custom_integrations,
)
from tests.plan.conftest import add_plan  # noqa: F401
from tests.simulator.base import SimulatedMiner

from .day import TIME_ZONE
from .simulation import HouseMiner


@pytest.fixture(autouse=True)
def quick_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read commands back every 10 ms (the simulators apply them in 10 ms)."""
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_INTERVAL", 0.01)
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_TIMEOUT", 2.0)
    monkeypatch.setattr("custom_components.home_miner.plan.const.RETRY_DELAYS", (0.1, 0.2))


@pytest.fixture
async def midnight(hass: HomeAssistant) -> datetime:
    """Tomorrow's local midnight on the TMY's clock: every simulated instant of the day is
    ahead of the real clock, so no timer set for one fires by itself."""
    await hass.config.async_set_time_zone(TIME_ZONE)
    local = dt_util.now() + timedelta(days=1)
    return dt_util.as_utc(local.replace(hour=0, minute=0, second=0, microsecond=0))


HouseFleet = Callable[[Sequence[tuple[str, dict[str, Any]]]], Awaitable[list[HouseMiner]]]


@pytest.fixture
async def house_fleet(
    hass: HomeAssistant,
    add_miner: AddMiner,  # noqa: F811
) -> AsyncIterator[HouseFleet]:
    """Start simulated miners, add each as a user does, and poll each once: what it draws
    then (at the setting it came with) is its full power. They are unplugged at the end."""
    started: list[SimulatedMiner] = []

    async def _start(spec: Sequence[tuple[str, dict[str, Any]]]) -> list[HouseMiner]:
        miners = []
        for index, (family, options) in enumerate(spec):
            miner = HouseMiner.start(index, family, options)
            await miner.sim.power_on()
            started.append(miner.sim)
            await add_miner(miner.sim.ip)
            await miner.added(hass)
            miners.append(miner)
        await hass.async_block_till_done()
        return miners

    yield _start
    for sim in started:
        await sim.power_off()
