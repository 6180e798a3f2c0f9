"""Restarts, overrides, refusing miners, the switch, observe-only and the actions."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.home_miner.const import DOMAIN

from .conftest import AddPlan, Fleet, miner_id, plan_of, settle
from .test_tou import PEAK


async def test_restart_mid_window_keeps_state_and_ends_on_time(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        tou=PEAK,
        safety={"max_length_minutes": 120, "min_off_minutes": 10},
    )
    plan = plan_of(entry)
    start = tomorrow(17)
    plan.async_decide(start)
    await settle(hass, plan)
    assert miner.paused

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    plan = plan_of(entry)
    assert plan.memory.state.window_start == start, "the window survives the restart"
    plan.async_decide(start + timedelta(minutes=30))
    await settle(hass, plan)
    assert miner.paused
    assert plan.data.decision.next_check == start + timedelta(minutes=120)

    plan.async_decide(start + timedelta(minutes=120))
    await settle(hass, plan)
    assert not miner.paused, "never curtailed past the maximum length, peak or not"


async def test_max_length_holds_when_every_feed_is_down(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    hass.states.async_set("input_boolean.grid_alert", "on")
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        dr={"dr_entities": ["input_boolean.grid_alert"]},
        safety={"max_length_minutes": 60},
    )
    plan = plan_of(entry)
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set("input_boolean.grid_alert", "unavailable")
    await settle(hass, plan)
    assert not miner.paused


async def test_user_override_is_respected_until_the_window_ends(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    first, second = await fleet("Gamma 601", "Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "stop"} for m in (first, second)], tou=PEAK
    )
    plan = plan_of(entry)
    start, end = tomorrow(17), tomorrow(20)
    plan.async_decide(start)
    await settle(hass, plan)
    assert first.paused
    assert second.paused

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.axe2_mining"}, blocking=True
    )
    await settle(hass, plan)
    plan.async_decide(start + timedelta(minutes=5))
    await settle(hass, plan)
    assert not first.paused, "the user's choice stands during the window"
    assert second.paused
    assert plan.data.overridden == {miner_id(first)}

    plan.async_decide(end)
    await settle(hass, plan)
    assert not first.paused
    assert not second.paused
    assert plan.data.overridden == set()

    plan.async_decide(start + timedelta(days=1))
    await settle(hass, plan)
    assert first.paused, "the next window drives the miner again"


async def test_refusing_miner_gets_a_repair_issue(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    good, stubborn = await fleet("Gamma 601", "Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "stop"} for m in (good, stubborn)], tou=PEAK
    )
    plan = plan_of(entry)
    stubborn.faults.ignore_commands = True
    plan.async_decide(tomorrow(17))
    for _ in range(200):
        await hass.async_block_till_done()
        if plan.actuators[miner_id(stubborn)].failures >= 3:
            break
        await __import__("asyncio").sleep(0.05)
    assert good.paused
    assert not stubborn.paused
    issue_id = f"miner_refuses_{entry.entry_id}_{miner_id(stubborn)}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    stubborn.faults.ignore_commands = False
    await settle(hass, plan)
    assert stubborn.paused
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_switch_off_resumes_and_observe_only_sends_nothing(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    hass.states.async_set("input_boolean.grid_alert", "off")
    dr = {"dr_entities": ["input_boolean.grid_alert"]}
    watched, driven = await fleet("Gamma 601", "Gamma 601")
    observer = plan_of(
        await add_plan(
            [{"miner": miner_id(watched), "action": "stop"}],
            name="Observer",
            dr=dr,
            safety={"observe_only": True},
        )
    )
    plan = plan_of(await add_plan([{"miner": miner_id(driven), "action": "stop"}], dr=dr))
    hass.states.async_set("input_boolean.grid_alert", "on")
    await settle(hass, plan)
    await settle(hass, observer)
    assert observer.data.decision.curtailed
    assert not watched.paused
    assert [c for c in watched.commands if c.command == "pause"] == []
    assert driven.paused

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.test_plan_automatic_curtailment"}, blocking=True
    )
    await settle(hass, plan)
    assert not driven.paused
    assert hass.states.get("switch.test_plan_automatic_curtailment").state == "off"
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.test_plan_automatic_curtailment"}, blocking=True
    )
    await settle(hass, plan)
    assert driven.paused


async def test_actions_curtail_resume_and_schedule(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou=PEAK)
    plan = plan_of(entry)
    ended = []
    hass.bus.async_listen("home_miner_curtailment_ended", ended.append)

    await hass.services.async_call(
        DOMAIN,
        "curtail",
        {"config_entry_id": entry.entry_id, "duration": {"minutes": 30}},
        blocking=True,
    )
    await settle(hass, plan)
    assert miner.paused
    assert hass.states.get("sensor.test_plan_curtailment_reason").state == "manual"

    schedule = await hass.services.async_call(
        DOMAIN,
        "get_schedule",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    reasons = [w["reason"] for w in schedule["windows"]]
    assert reasons[0] == "manual"
    assert "tou_peak" in reasons

    await hass.services.async_call(
        DOMAIN, "resume", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass, plan)
    assert not miner.paused
    assert ended[0].data["reason"] == "manual"

    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "curtail",
            {"config_entry_id": "nope", "duration": {"minutes": 5}},
            blocking=True,
        )
    assert err.value.translation_key == "not_a_plan"


async def test_target_power_limits_the_fleet(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """A target power is a fleet budget: the fleet ends up under it, by as little as needed."""
    first, second = await fleet("Gamma 601", "Gamma 601")
    entry = await add_plan([{"miner": miner_id(m), "action": "stop"} for m in (first, second)])
    plan = plan_of(entry)
    full = first.power_w + second.power_w
    target = full * 0.75
    await hass.services.async_call(
        DOMAIN,
        "curtail",
        {"config_entry_id": entry.entry_id, "duration": {"minutes": 30}, "target_power": target},
        blocking=True,
    )
    await settle(hass, plan)
    assert first.power_w + second.power_w <= target
    assert not (first.paused and second.paused), "one miner turned down is enough"
    assert hass.states.get("binary_sensor.test_plan_curtailed").state == "on"
