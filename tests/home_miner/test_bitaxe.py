"""A Bitaxe in Home Assistant: set up, read, controlled, and read back from the device."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner, miner_device
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


async def test_power_limit_sets_frequency(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    await add_miner(bitaxe.ip)
    number = hass.states.get("number.bitaxe_gamma_power_limit")
    assert number is not None
    low, high = number.attributes["min"], number.attributes["max"]
    assert low < float(number.state) <= high
    before = bitaxe.frequency
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.bitaxe_gamma_power_limit", "value": low},
        blocking=True,
    )
    assert bitaxe.frequency < before
    assert float(hass.states.get("number.bitaxe_gamma_power_limit").state) <= low + 1
    assert bitaxe.power_w < 0.9 * high


async def test_miner_off_is_unavailable_then_recovers(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, freezer: FrozenDateTimeFactory
) -> None:
    await add_miner(bitaxe.ip)
    assert hass.states.get("sensor.bitaxe_gamma_power").state not in (STATE_UNAVAILABLE, "0", "0.0")
    await bitaxe.power_off()
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    for entity in (
        "sensor.bitaxe_gamma_power",
        "sensor.bitaxe_gamma_hashrate",
        "switch.bitaxe_gamma_mining",
    ):
        assert hass.states.get(entity).state == STATE_UNAVAILABLE, entity
    await bitaxe.power_on()
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert float(hass.states.get("sensor.bitaxe_gamma_power").state) > 5
    assert hass.states.get("switch.bitaxe_gamma_mining").state == STATE_ON


async def test_steady_states_are_not_rewritten_measurements_are(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, freezer: FrozenDateTimeFactory
) -> None:
    await add_miner(bitaxe.ip)
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    # (Home Assistant updates last_reported of the State object in place.)
    before = {e: hass.states.get(e).last_reported for e in hass.states.async_entity_ids()}
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    def reported(entity_id: str) -> bool:
        return hass.states.get(entity_id).last_reported > before[entity_id]

    # A measurement is reported on every poll, even when its value stays the same.
    assert reported("sensor.bitaxe_gamma_power")
    assert reported("sensor.bitaxe_gamma_fan_1_speed")
    # A state that did not change is not written again.
    for entity_id in (
        "switch.bitaxe_gamma_mining",
        "binary_sensor.bitaxe_gamma_problem",
        "number.bitaxe_gamma_power_limit",
        "sensor.bitaxe_gamma_pool",
    ):
        assert not reported(entity_id), entity_id
    # ...and is written as soon as it changes.
    bitaxe.paused = True
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("switch.bitaxe_gamma_mining").state == STATE_OFF


async def test_energy_integrates_power_and_survives_restart(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, freezer: FrozenDateTimeFactory
) -> None:
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.bitaxe_gamma_energy", "1.5"),
                {"native_value": 1.5, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    entry = await add_miner(bitaxe.ip)
    energy = hass.states.get("sensor.bitaxe_gamma_energy")
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["device_class"] == "energy"
    assert float(energy.state) == 1.5
    power = float(hass.states.get("sensor.bitaxe_gamma_power").state)
    freezer.tick(timedelta(hours=1))
    await entry.runtime_data.async_refresh()
    added = float(hass.states.get("sensor.bitaxe_gamma_energy").state) - 1.5
    assert added == pytest.approx(power / 1000, rel=0.05)


async def test_paused_at_setup_still_offers_power_limit(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(BitaxeMiner, "127.0.5.30", hostname="sleepy")
    miner.paused = True
    await add_miner(miner.ip)
    number = hass.states.get("number.sleepy_power_limit")
    assert number is not None
    assert 5 < number.attributes["min"] < number.attributes["max"] < 40
    assert hass.states.get("binary_sensor.sleepy_mining").state == STATE_OFF


async def test_nerdqaxe_pyasic_cannot_detect_is_added(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """The NerdQAxe++ fork is not found by pyasic's detection; it is still added and read."""
    miner = await simulate(BitaxeMiner, "127.0.21.2", model="NerdQAxe++", hostname="nerd-1")
    entry = await add_miner(miner.ip)
    assert entry.title == "nerd-1"
    assert entry.data["miner_class"] == "pyasic.miners.backends.bitaxe:BitAxe"
    device = miner_device(hass, entry)
    assert (device.manufacturer, device.model) == ("NerdAxe", "NerdQAxe++")
    hashrate = hass.states.get("sensor.nerd_1_hashrate")
    assert hashrate is not None
    assert float(hashrate.state) == pytest.approx(miner.hashrate_ghs, rel=0.05)
    assert float(hass.states.get("sensor.nerd_1_power").state) == pytest.approx(
        miner.power_w, rel=0.05
    )
    # Its firmware has no pause and applies a frequency only after a restart: neither the
    # mining switch nor a power limit is offered; restart is.
    entities = {
        e.entity_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert "switch.nerd_1_mining" not in entities
    assert "number.nerd_1_power_limit" not in entities
    # At the next start its class is known: no detection, same device.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert float(hass.states.get("sensor.nerd_1_hashrate").state) > 0
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.nerd_1_restart"}, blocking=True
    )
    assert any(c.command == "restart" for c in miner.commands)


async def test_identify_says_hi_on_the_screen(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    """ESP-Miner's identify shows "Hi!" on the screen for 30 s: the button says so, and its
    state (its last press) shows that it was pressed."""
    await add_miner(bitaxe.ip)
    button = "button.bitaxe_gamma_say_hi_on_screen"
    state = hass.states.get(button)
    assert state.attributes["friendly_name"] == "bitaxe-gamma Say “Hi!” on screen"
    assert state.attributes["device_class"] == "identify"
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert bitaxe.status()["identifying"]
    assert hass.states.get(button).state not in (STATE_UNAVAILABLE, "unknown")
