"""A plan across Home Assistant restarts and time-zone changes: restarts keep their
stagger, and the tariff follows the zone Home Assistant is set to now."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.home_miner.const import DOMAIN
from custom_components.home_miner.curtailment import Reason
from custom_components.home_miner.plan.owed import STORAGE_KEY as OWED_KEY
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.simulator.esp_miner import BitaxeMiner

from .conftest import AddPlan, Fleet, miner_id, plan_of, poll, settle
from .test_tou import PEAK

ALERT = "input_boolean.grid_alert"
STAGGER = 120


@pytest.mark.parametrize("crash", [False, True], ids=["stopped", "killed"])
async def test_restarts_right_after_a_home_assistant_restart_keep_the_stagger(
    hass: HomeAssistant,
    fleet: Fleet,
    add_plan: AddPlan,
    hass_storage: dict[str, Any],
    crash: bool,
) -> None:
    """Found: restarts after a Home Assistant restart came closer than the stagger. Either
    way down: stopped (the plan saves), or killed before the delayed save had run."""
    miners = await fleet("Gamma 601", "Gamma 601", "Gamma 601")
    hass.states.async_set(ALERT, "on")
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "stop", "priority": i} for i, m in enumerate(miners)],
        dr={"dr_entities": [ALERT]},
        safety={"restart_stagger_seconds": STAGGER},
    )
    await settle(hass, plan_of(entry))
    assert all(m.paused for m in miners)
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan_of(entry))
    assert [m.paused for m in miners] == [False, True, True], "one restart per stagger"
    first = plan_of(entry).memory.state.last_restart_at
    assert first is not None

    key = f"{DOMAIN}.plan.{entry.entry_id}"
    on_disk = copy.deepcopy(hass_storage.get(key))
    assert await hass.config_entries.async_unload(entry.entry_id)
    if crash:
        hass_storage.pop(key)
        if on_disk is not None:
            hass_storage[key] = on_disk
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plan = plan_of(entry)
    await settle(hass, plan)
    assert [m.paused for m in miners] == [False, True, True], "the stagger outlives a restart"
    plan.async_decide(first + timedelta(seconds=STAGGER - 1))
    await settle(hass, plan)
    assert [m.paused for m in miners] == [False, True, True]
    plan.async_decide(first + timedelta(seconds=STAGGER))
    await settle(hass, plan)
    assert [m.paused for m in miners] == [False, False, True]


async def test_the_tariff_follows_a_time_zone_changed_after_setup(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Found: the tariff's time zone was read once, at setup; after the person set their
    home's zone right, the peak still began at 17:00 in the old one."""
    (miner,) = await fleet("Gamma 601")
    plan = plan_of(await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou=PEAK))
    await settle(hass, plan)
    before = next(w for w in plan.data.windows if w.reason is Reason.TOU_PEAK)
    assert dt_util.as_local(before.start).hour == 17

    east = int((dt_util.now().utcoffset() or timedelta()).total_seconds() // 3600) + 3
    zone = f"Etc/GMT{-east:+d}" if east else "UTC"  # three hours east of the zone set now
    await hass.config.async_update(time_zone=zone)
    await settle(hass, plan)
    after = next(w for w in plan.data.windows if w.reason is Reason.TOU_PEAK)
    assert dt_util.as_local(after.start).hour == 17, "17:00 where the home is now"
    assert after.start != before.start


@pytest.fixture
def quick_hand_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("custom_components.home_miner.plan.const.HAND_BACK_TIMEOUT", 1.0)


@pytest.mark.usefixtures("quick_hand_back")
@pytest.mark.parametrize("next_plan", [True, False], ids=["a new plan", "no plan"])
async def test_a_hand_back_that_failed_is_owed_to_the_miner(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, next_plan: bool
) -> None:
    """Found: a plan deleted while its limited miner could not be reached left it limited,
    and the next plan took that curtailed level for the miner's normal one."""
    (miner,) = await fleet("Gamma 601")
    power = miner.power_w
    miners = [{"miner": miner_id(miner), "action": "limit_percent", "value": 50}]
    hass.states.async_set(ALERT, "on")
    entry = await add_plan(miners, dr={"dr_entities": [ALERT]})
    await settle(hass, plan_of(entry))
    curtailed = miner.power_w
    assert curtailed < power * 0.9

    miner.faults.timeout = True  # gone while the plan is deleted
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert miner.power_w == curtailed, "could not be handed back"
    miner.faults.timeout = False

    if next_plan:
        plan = plan_of(await add_plan(miners, name="Next plan", dr={"dr_entities": [ALERT]}))
        await settle(hass, plan)
        assert miner.power_w == pytest.approx(curtailed, rel=0.1)
        hass.states.async_set(ALERT, "off")
        await settle(hass, plan)
    else:
        await poll(hass, miner)
        for _ in range(40):
            await hass.async_block_till_done()
            await asyncio.sleep(0.05)
    assert miner.power_w >= power * 0.9, "the miner's own limit, not the curtailed one"


@pytest.mark.usefixtures("quick_hand_back")
async def test_a_hand_back_owed_is_kept_on_disk_and_waits_for_the_miner(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    hass_storage: dict[str, Any],
) -> None:
    """Owed before Home Assistant restarted (the store of the integration), to a miner that
    a gone plan left paused: its first good poll resumes it; one that refuses the resume is
    owed it still, and gets it at the poll after it answers again."""
    miner: BitaxeMiner = await simulate(
        BitaxeMiner, "127.0.12.40", model="Gamma 601", hostname="owed", command_delay=0.05
    )
    miner.paused = True
    hass_storage[OWED_KEY] = {
        "version": 1,
        "key": OWED_KEY,
        "data": {
            miner.mac.lower(): {
                "applied": {"action": "stop", "limit_w": None},
                "restore_limit_w": None,
                "plan": "Gone plan",
            },
            "not-a-miner": "unreadable",
        },
    }
    miner.faults.ignore_commands = True
    await add_miner(miner.ip)
    for _ in range(40):
        await hass.async_block_till_done()
        await asyncio.sleep(0.05)
    assert miner.paused, "it refused: still owed"
    miner.faults.ignore_commands = False
    await poll(hass, miner)
    for _ in range(40):
        await hass.async_block_till_done()
        await asyncio.sleep(0.05)
        if not miner.paused:
            break
    assert not miner.paused, "handed back at last"
