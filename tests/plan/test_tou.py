"""A time-of-use peak: the right miners stop at the boundary and come back staggered."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .conftest import AddPlan, Fleet, miner_id, plan_of, settle

PEAK = {
    "tou_mode": "bands",
    "bands": [{"label": "peak", "start": "17:00:00", "end": "20:00:00"}],
    "peak_labels": ["peak"],
}


async def test_tou_peak_stops_at_boundary_and_restarts_staggered(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    first, second, outsider = await fleet("Gamma 601", "Gamma 601", "Gamma 601")
    entry = await add_plan(
        [
            {"miner": miner_id(second), "action": "stop", "priority": 2},
            {"miner": miner_id(first), "action": "stop", "priority": 1},
        ],
        tou=PEAK,
        safety={"restart_stagger_seconds": 60},
    )
    plan = plan_of(entry)
    start, end = tomorrow(17), tomorrow(20)

    plan.async_decide(start - timedelta(minutes=1))
    await settle(hass, plan)
    assert plan.data.decision.next_check == start
    assert not first.paused
    assert not second.paused
    assert hass.states.get("binary_sensor.test_plan_curtailed").state == "off"

    async_fire_time_changed(hass, start)
    await settle(hass, plan)
    assert first.paused
    assert second.paused
    assert not outsider.paused
    assert hass.states.get("binary_sensor.test_plan_curtailed").state == "on"
    assert hass.states.get("sensor.test_plan_curtailment_reason").state == "tou_peak"
    assert hass.states.get("switch.axe2_mining").state == "off"

    async_fire_time_changed(hass, end)
    await settle(hass, plan)
    assert not first.paused, "the most important miner comes back first"
    assert second.paused
    assert plan.data.decision.next_check == end + timedelta(seconds=60)

    async_fire_time_changed(hass, end + timedelta(seconds=60))
    await settle(hass, plan)
    assert not first.paused
    assert not second.paused
    assert hass.states.get("binary_sensor.test_plan_curtailed").state == "off"
    assert hass.states.get("sensor.test_plan_curtailment_reason").state == "none"
