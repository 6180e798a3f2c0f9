"""A person's change to a miner is theirs, by whatever path it reaches the miner's entities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    label_registry as lr,
)
from homeassistant.setup import async_setup_component
import pytest

from custom_components.home_miner.const import DOMAIN

from .conftest import AddPlan, Fleet, miner_id, plan_of, poll, settle

ALERT = "input_boolean.grid_alert"
DR = {"dr_entities": [ALERT]}
SWITCH = "switch.axe2_mining"


def _device_id(hass: HomeAssistant) -> str:
    entity = er.async_get(hass).async_get(SWITCH)
    assert entity is not None
    assert entity.device_id is not None
    return entity.device_id


def _by_device(hass: HomeAssistant) -> tuple[str, str, dict[str, Any]]:
    return "switch", "turn_off", {"device_id": _device_id(hass)}


def _by_area(hass: HomeAssistant) -> tuple[str, str, dict[str, Any]]:
    area = ar.async_get(hass).async_create("Garage")
    dr.async_get(hass).async_update_device(_device_id(hass), area_id=area.id)
    return "switch", "turn_off", {"area_id": area.id}


def _by_floor(hass: HomeAssistant) -> tuple[str, str, dict[str, Any]]:
    floor = fr.async_get(hass).async_create("Basement")
    area = ar.async_get(hass).async_create("Workshop", floor_id=floor.floor_id)
    dr.async_get(hass).async_update_device(_device_id(hass), area_id=area.id)
    return "switch", "turn_off", {"floor_id": floor.floor_id}


def _by_label(hass: HomeAssistant) -> tuple[str, str, dict[str, Any]]:
    label = lr.async_get(hass).async_create("Miners")
    er.async_get(hass).async_update_entity(SWITCH, labels={label.label_id})
    return "switch", "turn_off", {"label_id": label.label_id}


def _homeassistant_turn_off(hass: HomeAssistant) -> tuple[str, str, dict[str, Any]]:
    return "homeassistant", "turn_off", {"entity_id": SWITCH}


def _all_switches(hass: HomeAssistant) -> tuple[str, str, dict[str, Any]]:
    """Every switch: the plan's *Automatic curtailment* too, which then hands miners back."""
    return "switch", "turn_off", {"entity_id": "all"}


def _renamed(hass: HomeAssistant) -> tuple[str, str, dict[str, Any]]:
    er.async_get(hass).async_update_entity(SWITCH, new_entity_id="switch.garage_miner")
    return "switch", "turn_off", {"entity_id": "switch.garage_miner"}


@pytest.mark.parametrize(
    "target",
    [_by_device, _by_area, _by_floor, _by_label, _homeassistant_turn_off, _all_switches, _renamed],
)
async def test_switched_off_during_a_window_stays_off_after_it(
    hass: HomeAssistant,
    fleet: Fleet,
    add_plan: AddPlan,
    target: Callable[[HomeAssistant], tuple[str, str, dict[str, Any]]],
) -> None:
    """Found: only `switch.*` calls naming the entity id were seen; every other path left the
    plan to turn the miner back on when the window ended."""
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "on")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR)
    plan = plan_of(entry)
    await settle(hass, plan)
    assert miner.paused
    assert await async_setup_component(hass, "homeassistant", {})
    domain, service, data = target(hass)
    await hass.services.async_call(domain, service, data, blocking=True)
    await settle(hass, plan)
    assert plan.memory.user_stopped == {miner_id(miner)}
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not plan.data.decision.curtailed
    assert miner.paused, "the person switched it off: it stays off after the window"
    assert [c.command for c in miner.commands].count("resume") == 0


async def test_switched_off_before_a_window_stays_off_after_it(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Found: the plan stopped the (already stopped) miner with the window and restarted it
    when the window ended."""
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR)
    plan = plan_of(entry)
    await hass.services.async_call("switch", "turn_off", {"entity_id": SWITCH}, blocking=True)
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert miner.paused, "stopped by the person before the window, stopped after it"
    commands = [c.command for c in miner.commands]
    assert "resume" not in commands

    # Turned on again by the person, the plan drives it at the next window.
    await hass.services.async_call("switch", "turn_on", {"entity_id": SWITCH}, blocking=True)
    await settle(hass, plan)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not miner.paused


async def test_the_plans_own_commands_are_not_overrides(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "on")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR)
    plan = plan_of(entry)
    await settle(hass, plan)
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not miner.paused
    assert plan.data.overridden == set()
    assert plan.memory.user_stopped == set()


async def test_a_miner_the_person_runs_counts_in_the_fleet_budget(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Found: a miner the person turned on during a window counted as 0 W in the fleet
    budget, so the budget was exceeded."""
    first, second = await fleet("Gamma 601", "Gamma 601")
    entry = await add_plan([{"miner": miner_id(m), "action": "stop"} for m in (first, second)])
    plan = plan_of(entry)
    full = first.power_w + second.power_w
    target = full * 0.65  # a paused Bitaxe still draws about 3 W
    await hass.services.async_call(
        DOMAIN,
        "curtail",
        {"config_entry_id": entry.entry_id, "duration": {"minutes": 30}, "target_power": target},
        blocking=True,
    )
    await settle(hass, plan)
    assert first.power_w + second.power_w <= target
    turned_down = first if first.power_w < second.power_w else second
    other = second if turned_down is first else first
    switch = f"switch.{turned_down.hostname}_mining"
    if turned_down.paused:
        await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    else:  # limited: the person sets its power limit back to the top
        number = f"number.{turned_down.hostname}_power_limit"
        top = hass.states.get(number).attributes["max"]
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": top}, blocking=True
        )
    await settle(hass, plan)
    await poll(hass, turned_down)
    plan.async_decide()
    await settle(hass, plan)
    assert plan.data.overridden == {miner_id(turned_down)}
    assert other.paused or other.power_w < turned_down.power_w, "the other gives way"
    assert first.power_w + second.power_w <= target * 1.1
