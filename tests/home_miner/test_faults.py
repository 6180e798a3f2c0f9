"""Faults a real miner causes, met the way a user sees them: an error, never a crash."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.simulator.antminer import AntminerStockMiner
from tests.simulator.esp_miner import BitaxeMiner


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_command_acknowledged_but_not_applied(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_TIMEOUT", 1.0)
    await add_miner(bitaxe.ip)
    bitaxe.faults.ignore_commands = True
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.bitaxe_gamma_mining"}, blocking=True
        )
    assert err.value.translation_key == "command_failed"
    assert "did not apply" in str(err.value)
    assert not bitaxe.paused


async def test_miner_gone_mid_command(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    await add_miner(bitaxe.ip)
    await bitaxe.power_off()
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.bitaxe_gamma_say_hi_on_screen"}, blocking=True
        )
    assert err.value.translation_key == "command_unreachable"


@pytest.mark.parametrize("fault", ["malformed", "truncated", "timeout"])
async def test_bad_replies_make_entities_unavailable(
    hass: HomeAssistant,
    bitaxe: BitaxeMiner,
    add_miner: AddMiner,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    # Polled directly rather than by moving a frozen clock: a timeout needs the real one.
    monkeypatch.setattr("custom_components.home_miner.miner.client.FETCH_TIMEOUT", 1.0)
    entry = await add_miner(bitaxe.ip)
    coordinator = entry.runtime_data
    setattr(bitaxe.faults, fault, True)
    await coordinator.async_refresh()
    assert hass.states.get("sensor.bitaxe_gamma_power").state == STATE_UNAVAILABLE
    setattr(bitaxe.faults, fault, False)
    await coordinator.async_refresh()
    assert hass.states.get("sensor.bitaxe_gamma_power").state != STATE_UNAVAILABLE
    assert entry.state is ConfigEntryState.LOADED


async def test_offline_at_start_sets_up_later(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_miner(bitaxe.ip)
    await hass.config_entries.async_unload(entry.entry_id)
    await bitaxe.power_off()
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    await bitaxe.power_on()
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert float(hass.states.get("sensor.bitaxe_gamma_power").state) > 5


async def test_password_changed_starts_reauth(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    freezer: FrozenDateTimeFactory,
) -> None:
    miner = await simulate(AntminerStockMiner, "127.0.7.30", hostname="s19", command_delay=0.1)
    entry = await add_miner(miner.ip)
    miner.password = "changed"
    await _poll(hass, freezer)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    reauth = [f for f in flows if f["context"]["source"] == SOURCE_REAUTH]
    assert len(reauth) == 1
    flow_id = reauth[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: "root", CONF_PASSWORD: "still wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: "root", CONF_PASSWORD: "changed"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_PASSWORD] == "changed"
    assert entry.state is ConfigEntryState.LOADED
