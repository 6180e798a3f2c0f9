"""An ESP-Miner's power limit is what the board draws at most (found by the simulated house,
tests/house/: its miners stayed a watt or two over a household import limit for minutes)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest

from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.simulator.esp_miner import BitaxeMiner


@pytest.mark.parametrize("watts", [25, 28])
async def test_a_bitaxe_draws_no_more_than_its_power_limit(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner, watts: int
) -> None:
    """A GammaTurbo draws 30.5 W at its stock 525 MHz, 4.5 W of it the board around the two
    chips (what it still draws paused). Limited to 24 W it runs at 400 MHz and draws 24.3 W;
    to 28 W, at 490 MHz and 28.7 W: the frequency is chosen as if all 30.5 W scaled with it,
    and half a watt over the limit is taken as fitting."""
    turbo: BitaxeMiner = await simulate(
        BitaxeMiner, "127.0.31.2", model="GammaTurbo 801", hostname="turbo", command_delay=0.01
    )
    await add_miner(turbo.ip)
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.turbo_power_limit", "value": watts},
        blocking=True,
    )
    assert turbo.frequency < 525
    assert turbo.power_w <= watts
