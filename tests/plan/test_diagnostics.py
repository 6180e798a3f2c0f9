"""A plan's diagnostics download: its decision and memory, with the VTN secret redacted."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

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
    assert diagnostics["decision"]["targets"][0]["action"] == "stop"
    assert diagnostics["memory"]["state"]["window_start"] is not None
