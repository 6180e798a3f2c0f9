"""The plan sees the miner it drives: each poll is compared with what the plan wants."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from custom_components.home_miner.const import DOMAIN

from .conftest import AddPlan, Fleet, miner_id, plan_of, poll, settle

ALERT = "input_boolean.grid_alert"
DR = {"dr_entities": [ALERT]}


async def test_a_paused_miner_that_reboots_is_paused_again(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Found: ESP-Miner keeps its pause in RAM; after a reboot the miner mined through the
    whole peak while three later decisions sent nothing (the plan compared with what it had
    sent, never with the miner)."""
    (miner,) = await fleet("Gamma 601")
    miner.reboot_seconds = 0.1
    hass.states.async_set(ALERT, "on")
    plan = plan_of(await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR))
    await settle(hass, plan)
    assert miner.paused
    miner.boot_time -= 3600  # up for an hour (uptime counts whole seconds)
    await poll(hass, miner)
    miner.reboot()
    await asyncio.sleep(0.5)
    assert not miner.paused, "the reboot lost the pause"
    for _ in range(3):
        plan.async_decide()
    await settle(hass, plan)
    await poll(hass, miner, 2)
    await settle(hass, plan)
    assert miner.paused, "seen mining again after a reboot: stopped again"
    assert plan.data.overridden == set()


async def test_resumed_in_the_miners_own_web_ui_is_left_to_the_person(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "on")
    plan = plan_of(await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR))
    await settle(hass, plan)
    assert miner.paused
    await poll(hass, miner)
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"http://{miner.ip}/api/system/resume")
        assert response.status == 200
    await asyncio.sleep(0.2)
    await poll(hass, miner, 2)
    await settle(hass, plan)
    assert not miner.paused, "the person's resume stands"
    assert plan.data.overridden == {miner_id(miner)}
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not miner.paused
    assert plan.data.overridden == set()


async def test_a_crash_inside_the_save_delay_does_not_strand_the_miner(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, hass_storage: dict[str, Any]
) -> None:
    """Found: the plan stopped a miner and Home Assistant died before the delayed save; on
    the disk the miner was still running, so when the window had ended the plan sent
    nothing and the miner stayed stopped."""
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR)
    plan = plan_of(entry)
    await settle(hass, plan)
    await plan.async_save_now()
    key = f"{DOMAIN}.plan.{entry.entry_id}"
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.paused
    on_disk = copy.deepcopy(hass_storage[key])  # what a crash now leaves behind

    await hass.config_entries.async_unload(entry.entry_id)
    hass_storage[key] = on_disk
    hass.states.async_set(ALERT, "off")  # the event ended while Home Assistant was down
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await settle(hass, plan_of(entry))
    assert not miner.paused, "the window is over: the miner mines"


async def test_energy_avoided_is_booked_from_what_the_miners_confirm(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Found: energy and cost avoided were booked from the targets, so a miner that ignores
    its commands (or is unreachable) still "avoided" its full power."""
    obeys, ignores = await fleet("Gamma 601", "Gamma 601")
    ignores.faults.ignore_commands = True
    hass.states.async_set(ALERT, "on")
    plan = plan_of(
        await add_plan([{"miner": miner_id(m), "action": "stop"} for m in (obeys, ignores)], dr=DR)
    )
    for _ in range(100):  # the ignored miner's commands go on being retried
        await asyncio.sleep(0.05)
        if not plan.actuators[miner_id(obeys)].busy:
            break
    assert obeys.paused
    assert not ignores.paused
    await poll(hass, obeys)
    start = plan.memory.accounted_at
    assert start is not None
    plan.async_account_energy(start)
    plan.async_account_energy(start + timedelta(hours=1))
    full = plan.data.decision.state.miner(miner_id(obeys)).full_power_w
    assert full is not None
    assert plan.data.energy_kwh == pytest.approx((full - obeys.power_w) / 1000, rel=0.05)


async def test_a_retry_waiting_out_its_delay_goes_when_the_miner_is_back(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: a command in back-off was not woken when its miner came back (a resume could
    wait out up to 300 s)."""
    monkeypatch.setattr("custom_components.home_miner.plan.const.RETRY_DELAYS", (300.0,))
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set(ALERT, "off")
    plan = plan_of(await add_plan([{"miner": miner_id(miner), "action": "stop"}], dr=DR))
    await settle(hass, plan)
    await miner.power_off()
    await poll(hass, miner)  # seen unavailable
    hass.states.async_set(ALERT, "on")
    await hass.async_block_till_done()
    actuator = plan.actuators[miner_id(miner)]
    for _ in range(100):
        await asyncio.sleep(0.05)
        if actuator.failures:
            break
    assert actuator.failures, "the stop failed once and waits out its retry delay"
    await miner.power_on()
    await poll(hass, miner)  # seen back
    for _ in range(60):
        await asyncio.sleep(0.05)
        if miner.paused:
            break
    assert miner.paused, "stopped as soon as the miner answered again"
