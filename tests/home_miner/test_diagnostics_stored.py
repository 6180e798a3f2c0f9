"""The diagnostics of a miner that is not running: what is stored, redacted."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.home_miner.test_config_flow import (  # noqa: F401
    assert_quiet,
    collect_garbage_first,
)
from tests.simulator.antminer import AntminerStockMiner


async def test_diagnostics_of_a_miner_that_is_off(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulate: SimFactory,
    add_miner: AddMiner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Set up later when it answers; its diagnostics used to fail with HTTP 500 meanwhile."""
    assert await async_setup_component(hass, "diagnostics", {})
    miner = await simulate(AntminerStockMiner, "127.0.6.60", password="pw", hostname="s19")
    entry = await add_miner(miner.ip, username="root", password="pw")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await miner.power_off()
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    caplog.clear()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["setup"]["state"] == "setup_retry"
    assert diagnostics["entry"]["data"]["host"] == miner.ip
    assert diagnostics["entry"]["data"]["password"] == "**REDACTED**"
    assert diagnostics["identity"] is None
    assert_quiet(caplog)
