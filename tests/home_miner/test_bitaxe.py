"""A Bitaxe in Home Assistant: set up, read, controlled, and read back from the device."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from tests.home_miner.conftest import AddMiner
from tests.simulator.esp_miner import BitaxeMiner


async def test_bitaxe_entities_and_mining_switch(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    entry = await add_miner(bitaxe.ip)
    registry = er.async_get(hass)
    entities = {e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    assert "switch.bitaxe_gamma_mining" in entities, sorted(entities)

    hashrate = hass.states.get("sensor.bitaxe_gamma_hashrate")
    assert hashrate is not None
    assert hashrate.attributes["unit_of_measurement"] == "GH/s"
    assert float(hashrate.state) > 500

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.bitaxe_gamma_mining"}, blocking=True
    )
    assert bitaxe.paused
    assert hass.states.get("switch.bitaxe_gamma_mining").state == STATE_OFF
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.bitaxe_gamma_mining"}, blocking=True
    )
    assert not bitaxe.paused
    assert hass.states.get("switch.bitaxe_gamma_mining").state == STATE_ON
