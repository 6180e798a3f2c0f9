"""Regression tests for the review of the plan glue: miners handed back, limits restored,
capabilities not guessed, retries that do not block, overrides, shared miners, budgets."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.config_entries import ConfigEntryDisabler
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.home_miner.const import DOMAIN
from custom_components.home_miner.plan.actuator import RUN, miner_coordinator
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.simulator.esp_miner import BitaxeMiner

from .conftest import NO_PRICE, NO_TOU, SAFETY_NONE, AddPlan, Fleet, miner_id, plan_of, settle

ALERT = "input_boolean.grid_alert"
DR = {"dr_entities": [ALERT]}


def miner_entry(hass: HomeAssistant, miner: BitaxeMiner) -> Any:
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, miner_id(miner))
    assert entry is not None
    return entry


async def wait_for(hass: HomeAssistant, check: Any, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.05)):
        await hass.async_block_till_done()
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


async def edit_plan(
    hass: HomeAssistant, entry: Any, miners: list[dict[str, Any]], **safety: Any
) -> None:
    """The options flow, as a user goes through it."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    for step in (
        {"miners": miners},
        NO_TOU,
        NO_PRICE,
        DR,
        {},
        {**SAFETY_NONE, **safety},
    ):
        result = await hass.config_entries.options.async_configure(result["flow_id"], step)
        assert not result.get("errors"), result
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


# ---- 1: a miner that has just loaded is seen ------------------------------------------------
async def test_miner_reloaded_mid_window_resumes_after_the_event_ended(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "on")
    plan = plan_of(await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR))
    await settle(hass, plan)
    assert miner.paused
    entry = miner_entry(hass, miner)
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert miner.paused, "nothing to talk to while the miner entry is unloaded"
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: not miner.paused)
    await settle(hass, plan)
    assert plan.actuators[miner_id(miner)].applied == RUN


async def test_restart_after_the_event_ended_while_down_resumes(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "on")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}], dr=DR, safety={"max_length_minutes": 120}
    )
    await settle(hass, plan_of(entry))
    assert miner.paused
    mentry = miner_entry(hass, miner)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_unload(mentry.entry_id)
    hass.states.async_set(ALERT, "off")
    # Home Assistant starts: both entries set up concurrently
    await asyncio.gather(
        hass.config_entries.async_setup(mentry.entry_id),
        hass.config_entries.async_setup(entry.entry_id),
    )
    await wait_for(hass, lambda: not miner.paused)


# ---- 2: miners are handed back -------------------------------------------------------------
async def test_disabling_or_deleting_a_plan_mid_window_hands_miners_back(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    a, b = await fleet("Gamma 601", "Gamma 601")
    hass.states.async_set(ALERT, "on")
    first = await add_plan([{"miner": miner_id(a), "action": "stop"}], name="P1", dr=DR)
    second = await add_plan([{"miner": miner_id(b), "action": "stop"}], name="P2", dr=DR)
    await settle(hass, plan_of(first))
    await settle(hass, plan_of(second))
    assert a.paused
    assert b.paused
    await hass.config_entries.async_set_disabled_by(first.entry_id, ConfigEntryDisabler.USER)
    await hass.config_entries.async_remove(second.entry_id)
    await hass.async_block_till_done()
    assert not a.paused
    assert not b.paused


async def test_observe_only_or_miner_removed_from_plan_mid_window_hands_back(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    a, b = await fleet("Gamma 601", "Gamma 601")
    hass.states.async_set(ALERT, "on")
    miners = [{"miner": miner_id(m), "action": "stop"} for m in (a, b)]
    entry = await add_plan(miners, dr=DR)
    await settle(hass, plan_of(entry))
    assert a.paused
    assert b.paused

    await edit_plan(hass, entry, miners[:1])
    await wait_for(hass, lambda: not b.paused)
    assert a.paused, "still in the plan, still curtailed"

    await edit_plan(hass, entry, miners[:1], observe_only=True)
    await wait_for(hass, lambda: not a.paused)
    await settle(hass, plan_of(entry))
    await plan_of(entry).async_save_now()
    assert miner_id(b) not in plan_of(entry).memory.applied, "a handed-back miner is forgotten"


async def test_deleting_a_curtailed_miner_resumes_it(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "on")
    plan = plan_of(await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR))
    await settle(hass, plan)
    assert miner.paused
    await hass.config_entries.async_remove(miner_entry(hass, miner).entry_id)
    await hass.async_block_till_done()
    assert not miner.paused


# ---- 3: the original limit comes back, and never holds the resume up ----------------------
async def test_original_limits_restored_after_a_limit_window(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner, add_plan: AddPlan
) -> None:
    miners: list[BitaxeMiner] = []
    settings = ((625, 1000), (625, 1060), (625, 1100), (625, 1200), (400, 1060), (400, 1250))
    for index, (frequency, voltage) in enumerate(settings, start=2):
        miner = await simulate(
            BitaxeMiner,
            f"127.0.11.{index}",
            model="Gamma 601",
            firmware="v2.14.0",
            hostname=f"ax{index}",
            command_delay=0.05,
            frequency=frequency,
            core_voltage=voltage,
        )
        await add_miner(miner.ip)
        miners.append(miner)
    before = [(m.frequency, m.power_w) for m in miners]
    hass.states.async_set(ALERT, "off")
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "limit_percent", "value": 50} for m in miners], dr=DR
    )
    plan = plan_of(entry)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert any(m.frequency < f for m, (f, _) in zip(miners, before, strict=True))
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    for miner, (frequency, power) in zip(miners, before, strict=True):
        actuator = plan.actuators[miner_id(miner)]
        assert actuator.applied == RUN
        assert actuator.restore_limit_w is None
        assert actuator.failures == 0, actuator.last_error
        assert not miner.paused
        assert miner.power_w >= power * 0.9, (miner.ip, miner.frequency, frequency)


async def test_limit_then_stop_then_run_hashes_again(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "limit_percent", "value": 50}], dr=DR
    )
    plan = plan_of(entry)
    frequency = miner.frequency
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.frequency < frequency
    # the plan moves the miner to stop (a refusing limit restore must not keep it paused)
    await edit_plan(hass, entry, [{"miner": miner_id(miner), "action": "stop"}])
    plan = plan_of(entry)
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not miner.paused
    assert miner.frequency == frequency


# ---- 4: an unavailable miner is not treated as "stop only" ---------------------------------
async def test_failed_poll_does_not_pause_a_limited_miner(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "limit_percent", "value": 70}], dr=DR
    )
    plan = plan_of(entry)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert not miner.paused
    limited = miner.frequency
    coordinator = miner_coordinator(hass, miner_id(miner))
    assert coordinator is not None
    miner.faults.malformed = True
    await coordinator.async_refresh()
    await settle(hass, plan)
    miner.faults.malformed = False
    await coordinator.async_refresh()
    await settle(hass, plan)
    assert not miner.paused
    assert miner.frequency == limited
    assert "pause" not in " ".join(str(c.command) for c in miner.commands)


async def test_restart_with_miner_not_loaded_keeps_limit_mode(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "limit_percent", "value": 70}], dr=DR
    )
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan_of(entry))
    mentry = miner_entry(hass, miner)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_unload(mentry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    plan = plan_of(entry)
    assert plan.data.decision.targets[0].action.value == "limit"
    assert await hass.config_entries.async_setup(mentry.entry_id)
    await settle(hass, plan)
    assert not miner.paused


# ---- 5: a retry delay does not hold a new decision up --------------------------------------
async def test_new_decision_interrupts_a_retry_delay_and_clears_the_issue(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("custom_components.home_miner.plan.const.RETRY_DELAYS", (60.0,))
    monkeypatch.setattr("custom_components.home_miner.plan.const.REPAIR_AFTER_FAILURES", 1)
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR)
    plan = plan_of(entry)
    actuator = plan.actuators[miner_id(miner)]
    miner.faults.ignore_commands = True
    hass.states.async_set(ALERT, "on")
    await wait_for(hass, lambda: actuator.failures >= 1)
    issue_id = f"miner_refuses_{entry.entry_id}_{miner_id(miner)}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    miner.faults.ignore_commands = False
    hass.states.async_set(ALERT, "off")
    await wait_for(hass, lambda: not actuator.busy, seconds=2)
    assert actuator.failures == 0
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert not miner.paused


# ---- 6: a limit window does not switch on a miner the user switched off -------------------
async def test_limit_window_leaves_a_user_stopped_miner_off(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "limit_percent", "value": 50}], dr=DR
    )
    plan = plan_of(entry)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.axe2_mining"}, blocking=True
    )
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert miner.paused, "the window's end does not switch it on either"


# ---- 7: overrides end with the window and hand the miner back ------------------------------
async def test_override_ends_with_the_window_and_restores_the_limit(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "limit_percent", "value": 50}], dr=DR
    )
    plan = plan_of(entry)
    frequency = miner.frequency
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.frequency < frequency
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.axe2_mining"}, blocking=True
    )
    await settle(hass, plan)
    assert plan.data.overridden == {miner_id(miner)}
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert plan.data.overridden == set()
    assert miner.frequency == frequency, "the plan's limit does not outlive the window"
    assert miner.paused, "the user's switch stays as the user left it"


async def test_override_of_a_miner_removed_from_the_plan_is_dropped(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    a, b = await fleet("Gamma 601", "Gamma 601")
    hass.states.async_set(ALERT, "on")
    miners = [{"miner": miner_id(m), "action": "stop"} for m in (a, b)]
    entry = await add_plan(miners, dr=DR)
    await settle(hass, plan_of(entry))
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.axe2_mining"}, blocking=True
    )
    await settle(hass, plan_of(entry))
    assert plan_of(entry).data.overridden == {miner_id(a)}
    await edit_plan(hass, entry, miners[1:])
    plan = plan_of(entry)
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert plan.last_update_success
    assert plan.data.decision.curtailed is False
    assert not b.paused
    assert not a.paused


# ---- 8: a miner belongs to one plan --------------------------------------------------------
async def test_a_miner_already_in_a_plan_cannot_join_another(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    # A third miner, free: with every miner in a plan, a new plan's flow ends at once.
    a, b, _free = await fleet("Gamma 601", "Gamma 601", "Gamma 601")
    await add_plan([{"miner": miner_id(a), "action": "stop"}], name="P1")
    other = await add_plan([{"miner": miner_id(b), "action": "stop"}], name="P2")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "plan"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "P3", "miners": [{"miner": miner_id(a), "action": "stop"}]}
    )
    assert result["errors"] == {"miners": "miner_in_other_plan"}
    result = await hass.config_entries.options.async_init(other.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"miners": [{"miner": miner_id(m), "action": "stop"} for m in (a, b)]},
    )
    assert result["errors"] == {"miners": "miner_in_other_plan"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"miners": [{"miner": miner_id(b), "action": "stop"}]}
    )
    assert result["step_id"] == "plan_tou", "a plan's own miners are fine"


# ---- 9: target power is a fleet budget -----------------------------------------------------
async def test_target_power_zero_stops_every_miner(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    a, b = await fleet("Gamma 601", "Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "limit_percent", "value": 80} for m in (a, b)]
    )
    plan = plan_of(entry)
    ended = async_capture_events(hass, "home_miner_curtailment_ended")
    await hass.services.async_call(
        DOMAIN,
        "curtail",
        {"config_entry_id": entry.entry_id, "duration": {"minutes": 30}, "target_power": 0},
        blocking=True,
    )
    await settle(hass, plan)
    assert a.paused
    assert b.paused
    await hass.services.async_call(
        DOMAIN, "resume", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass, plan)
    assert not a.paused
    assert not b.paused
    assert len(ended) == 1


async def test_ended_event_lists_the_curtailed_miners_only(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    a, b = await fleet("Gamma 601", "Gamma 601")
    entry = await add_plan([{"miner": miner_id(m), "action": "stop"} for m in (a, b)])
    plan = plan_of(entry)
    ended = async_capture_events(hass, "home_miner_curtailment_ended")
    await hass.services.async_call(
        DOMAIN,
        "curtail",
        {
            "config_entry_id": entry.entry_id,
            "duration": {"minutes": 30},
            "target_power": (a.power_w + b.power_w) * 0.6,
        },
        blocking=True,
    )
    await settle(hass, plan)
    stopped = [m for m in (a, b) if m.paused]
    assert len(stopped) == 1
    await hass.services.async_call(
        DOMAIN, "resume", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass, plan)
    assert ended[0].data["miner_ids"] == [miner_id(stopped[0])]
