"""An Avalon Nano in Home Assistant: levels (the lowest one too), soft off where it exists."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.const import CONF_HOST, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner, miner_device
from tests.simulator.avalon import AvalonNanoMiner


def _entity(hass: HomeAssistant, entry_id: str, domain: str, key: str) -> str | None:
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry_id):
        if entity.domain == domain and entity.unique_id.endswith(f"_{key}"):
            return entity.entity_id
    return None


async def test_levels_including_the_lowest(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    miner = await simulate(AvalonNanoMiner, "127.0.17.2", command_delay=0.1)
    entry = await add_miner(miner.ip)
    assert _entity(hass, entry.entry_id, "switch", "mining") is None  # no softoff on this firmware
    # Finding that out is not a warning in the user's log.
    assert "Unknown option" not in caplog.text
    # Several Nanos are not devices of one name: the end of the MAC tells them apart.
    device = miner_device(hass, entry)
    assert device.name == f"Avalon Nano 3s {miner.mac.replace(':', '')[-4:]}"
    assert device.sw_version == miner.firmware
    select = _entity(hass, entry.entry_id, "select", "work_mode")
    number = _entity(hass, entry.entry_id, "number", "power_limit")
    assert select is not None
    assert number is not None
    assert hass.states.get(select).state == "high"

    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 80}, blocking=True
    )
    assert miner.work_level == 0
    assert float(hass.states.get(number).state) == 75
    assert hass.states.get(select).state == "low"

    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "medium"}, blocking=True
    )
    assert miner.work_level == 1


async def test_soft_off_where_the_firmware_has_it(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(AvalonNanoMiner, "127.0.17.3", command_delay=0.1, soft_off=True)
    entry = await add_miner(miner.ip)
    switch = _entity(hass, entry.entry_id, "switch", "mining")
    assert switch is not None
    assert hass.states.get(switch).state == STATE_ON
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.soft_off is True
    assert hass.states.get(switch).state == STATE_OFF
    # Home Assistant restarts while the miner is soft-off (a curtailment holds it): the
    # switch is still there, and turns it back on.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _entity(hass, entry.entry_id, "switch", "mining") == switch
    assert hass.states.get(switch).state == STATE_OFF
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert miner.soft_off is False


async def test_nano3_without_mac_is_unsupported(
    hass: HomeAssistant, simulate: SimFactory, loopback: None
) -> None:
    miner = await simulate(AvalonNanoMiner, "127.0.17.4", model="Avalon Nano 3")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "host"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: miner.ip}
    )
    assert result["errors"] == {"base": "unsupported_miner"}
