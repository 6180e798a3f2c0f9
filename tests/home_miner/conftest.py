"""Home Assistant fixtures: the integration set up through its own config flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.simulator.esp_miner import BitaxeMiner


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test here."""


@pytest.fixture(autouse=True)
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read back commands every 0.1 s instead of 0.5 s; the simulator applies them in 0.3 s."""
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_INTERVAL", 0.1)


AddMiner = Callable[..., Awaitable[ConfigEntry]]


@pytest.fixture
def add_miner(hass: HomeAssistant, loopback: None) -> AddMiner:
    """Add a miner the way a user does: Add integration → Enter its address → Submit."""

    async def _add(host: str, **credentials: Any) -> ConfigEntry:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "host"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host}
        )
        if result["type"] is FlowResultType.FORM and result["step_id"] == "credentials":
            result = await hass.config_entries.flow.async_configure(result["flow_id"], credentials)
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        entry = result["result"]
        assert isinstance(entry, ConfigEntry)
        return entry

    return _add


@pytest.fixture
async def bitaxe(simulate: SimFactory) -> BitaxeMiner:
    """A Bitaxe Gamma on firmware 2.14 (pause/resume, identify)."""
    miner: BitaxeMiner = await simulate(BitaxeMiner, "127.0.5.2", hostname="bitaxe-gamma")
    return miner


def miner_device(hass: HomeAssistant, entry: ConfigEntry) -> dr.DeviceEntry:
    """The one device of a miner's entry, with the identifier the integration gives it."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.identifiers for device in devices] == [{(DOMAIN, entry.unique_id)}]
    return devices[0]
