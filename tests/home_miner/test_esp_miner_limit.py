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


async def test_a_bitaxe_seen_paused_keeps_its_own_limit(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """A Gamma draws 16.0 W at 525 MHz and 3.0 W paused. Seen paused, the driver learned the
    board's draw but kept the ASICs' share per MHz worked out from a typical board's 5 W: its
    limit read 14 W, so a plan that limited it and gave that limit back left it at 400 MHz
    for good (found by the simulated house)."""
    gamma: BitaxeMiner = await simulate(
        BitaxeMiner, "127.0.31.3", model="Gamma 601", hostname="gamma", command_delay=0.01
    )
    await add_miner(gamma.ip)
    limit = "number.gamma_power_limit"
    own = float(hass.states.get(limit).state)
    assert own == 16
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.gamma_mining"}, blocking=True
    )
    assert gamma.paused
    assert float(hass.states.get(limit).state) == own
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.gamma_mining"}, blocking=True
    )
    await hass.services.async_call(
        "number", "set_value", {"entity_id": limit, "value": own}, blocking=True
    )
    assert gamma.frequency == 525
