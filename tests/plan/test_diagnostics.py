"""A plan's diagnostics download: its decision and memory, with the VTN secret redacted."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.home_miner.test_config_flow import (  # noqa: F401
    assert_quiet,
    collect_garbage_first,
)

from .conftest import AddPlan, Fleet, miner_id, plan_of, settle
from .test_tou import PEAK


async def test_plan_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fleet: Fleet,
    add_plan: AddPlan,
    tomorrow,
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou=PEAK)
    plan = plan_of(entry)
    plan.async_decide(tomorrow(17))
    await settle(hass, plan)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["decision"]["reason"] == "tou_peak"
    # When the engine looks at its feeds again is a diagnostic, not the plan's next change.
    assert diagnostics["decision"]["next_check"] == tomorrow(20).isoformat()
    assert diagnostics["decision"]["targets"][0]["action"] == "stop"
    assert diagnostics["memory"]["state"]["window_start"] is not None


async def test_diagnostics_of_a_plan_that_is_not_running(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fleet: Fleet,
    add_plan: AddPlan,
    caplog,
) -> None:
    """Unloaded, or failed to set up: what is stored, redacted as for a running plan (this
    used to fail with HTTP 500)."""
    from homeassistant.config_entries import ConfigEntryState

    assert await async_setup_component(hass, "diagnostics", {})
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou=PEAK)
    assert await hass.config_entries.async_unload(entry.entry_id)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["setup"] == {"state": "not_loaded", "reason": None}
    assert diagnostics["entry"]["options"]["bands"] == PEAK["bands"]
    assert diagnostics["memory"]["state"] is not None
    assert diagnostics["decision"] is None
    assert_quiet(caplog)

    # Stored settings the plan cannot read: its setup fails, its diagnostics do not.
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "bands": [], "vtn_client_secret": "s3cret"}
    )
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    caplog.clear()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["setup"]["state"] == "setup_error"
    assert diagnostics["entry"]["options"]["vtn_client_secret"] == "**REDACTED**"
    assert "s3cret" not in str(diagnostics)
    assert_quiet(caplog)
