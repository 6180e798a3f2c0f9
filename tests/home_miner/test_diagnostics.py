"""The diagnostics download: useful for a bug report, with nothing private in it."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.home_miner.conftest import AddMiner
from tests.simulator.esp_miner import BitaxeMiner


async def test_diagnostics_redacts_worker(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    bitaxe: BitaxeMiner,
    add_miner: AddMiner,
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    entry = await add_miner(bitaxe.ip)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["identity"]["mac"] == bitaxe.mac
    assert diagnostics["capabilities"]["can_stop"] is True
    pool = diagnostics["snapshot"]["pool"]
    assert pool["user"] == "**REDACTED**"
    assert "bc1q" not in str(diagnostics)
    assert "simulatedminer" not in str(diagnostics)
