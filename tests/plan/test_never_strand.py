"""A plan never strands a miner: numbers that are not numbers, a plan stopped mid-window, a
maximum that no setting stretches, and a stored state that cannot be read."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.config_entries import ConfigEntry, ConfigEntryDisabler, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
import pytest

from custom_components.home_miner.const import DOMAIN
from custom_components.home_miner.plan import PlanCoordinator, const as plan_const
from tests.simulator.esp_miner import BitaxeMiner

from .conftest import AddPlan, Fleet, miner_id, plan_of, settle
from .test_tou import PEAK

PRICE_UNIT = {"unit_of_measurement": "EUR/kWh"}


def _price(on_missing: str) -> dict[str, object]:
    return {
        "price_entity": "sensor.price",
        "price_preset": "none",
        "threshold_mode": "fixed",
        "threshold": 0.30,
        "hysteresis": 0,
        "on_missing_price": on_missing,
    }


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
async def test_a_price_that_is_not_a_number_is_a_missing_price(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, value: str
) -> None:
    """`nan` used to be a price below every threshold (the miner ran although the plan says
    "curtail when the price is unavailable"), `inf` one above every threshold."""
    hass.states.async_set("sensor.price", "0.10", PRICE_UNIT)
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], price=_price("curtail"))
    plan = plan_of(entry)
    await settle(hass, plan)
    assert not miner.paused
    hass.states.async_set("sensor.price", value, PRICE_UNIT)
    await settle(hass, plan)
    assert miner.paused, "a missing price follows the plan's setting (curtail)"
    assert hass.states.get("sensor.test_plan_current_price").state == "unknown"
    # Found: reported as price_above_threshold.
    assert hass.states.get("sensor.test_plan_curtailment_reason").state == "price_unavailable"


async def test_an_infinite_price_neither_poisons_the_store_nor_strands_the_miner(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    """Found: cost avoided became infinite, was stored as null, and the plan then failed to
    load after a restart: setup-retry for good, the miner still paused past the maximum."""
    hass.states.async_set("sensor.price", "0.35", PRICE_UNIT)
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        price=_price("run"),
        safety={"max_length_minutes": 4},
    )
    plan = plan_of(entry)
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set("sensor.price", "inf", PRICE_UNIT)
    await settle(hass, plan)
    assert not miner.paused, "an infinite price is no price: the setting says run"
    plan.async_account_energy(plan.memory.accounted_at + timedelta(minutes=2))
    await plan.async_save_now()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    cost = hass.states.get("sensor.test_plan_cost_avoided")
    assert cost is not None
    assert cost.state not in ("unknown", "unavailable", "inf")


async def test_unreadable_stored_state_hands_back_and_says_so(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    """Whatever is in the store, the plan loads, its miners mine, a repair issue tells."""
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou=PEAK)
    plan = plan_of(entry)
    plan.async_decide(tomorrow(17))
    await settle(hass, plan)
    assert miner.paused
    await hass.config_entries.async_unload(entry.entry_id)
    store = Store[dict[str, object]](
        hass, plan_const.STORAGE_VERSION, f"{DOMAIN}.plan.{entry.entry_id}"
    )
    stored = await store.async_load()
    assert stored is not None
    await store.async_save({**stored, "cost": None, "restore_limits": {"x": "many"}})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await settle(hass, plan_of(entry))
    assert entry.state is ConfigEntryState.LOADED
    assert not miner.paused, "nothing known about the miner: it is handed back"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"plan_state_lost_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "plan_state_lost"

    await store.async_save({"state": "garbage"})
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"plan_state_lost_{entry.entry_id}") is None


async def test_disabling_a_plan_mid_window_stops_it_deciding_before_the_hand_back(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Found: a feed update during a slow hand-back re-decided and paused the miner that had
    just been handed back (commands pause, resume, pause; the plan NOT_LOADED)."""
    hass.states.async_set("sensor.price", "0.35", PRICE_UNIT)
    quick, slow = await fleet("Gamma 601", "Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "stop"} for m in (quick, slow)], price=_price("run")
    )
    await settle(hass, plan_of(entry))
    assert quick.paused
    assert slow.paused
    slow.command_delay = 1.5
    disabling = hass.async_create_task(
        hass.config_entries.async_set_disabled_by(entry.entry_id, ConfigEntryDisabler.USER)
    )
    for _ in range(100):
        await asyncio.sleep(0.02)
        if not quick.paused:
            break
    assert not quick.paused, "the quick miner is handed back first"
    hass.states.async_set("sensor.price", "0.36", PRICE_UNIT)
    await disabling
    await hass.async_block_till_done()
    await asyncio.sleep(0.5)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not quick.paused
    assert not slow.paused
    assert [c.command for c in quick.commands][-1] == "resume"


async def _raise_min_off(hass: HomeAssistant, entry: ConfigEntry, minutes: int) -> None:
    """What the options flow does on submit (OptionsFlowWithReload): new options, a reload."""
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, plan_const.CONF_MIN_OFF: minutes}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def test_min_off_longer_than_the_maximum_is_cut_to_it(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    """Found: min-off raised above the maximum mid-window made every decision raise (the plan
    in setup-retry, the miner left off)."""
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        tou=PEAK,
        safety={"max_length_minutes": 60, "min_off_minutes": 10},
    )
    start = tomorrow(17)
    plan_of(entry).async_decide(start)
    await settle(hass, plan_of(entry))
    assert miner.paused
    await _raise_min_off(hass, entry, 90)
    assert entry.state is ConfigEntryState.LOADED
    plan = plan_of(entry)
    plan.async_decide(start + timedelta(minutes=60))
    await settle(hass, plan)
    assert not miner.paused, "back at window start + maximum, whatever min-off says"


ALERT = "input_boolean.grid_alert"


async def _restarted_with_the_alert_not_loaded(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> tuple[BitaxeMiner, PlanCoordinator]:
    """A miner stopped by a DR alert, then Home Assistant restarted before the alert's
    entity has loaded."""
    hass.states.async_set(ALERT, "on")
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        dr={"dr_entities": [ALERT]},
        safety={"max_length_minutes": 120},
    )
    await settle(hass, plan_of(entry))
    assert miner.paused
    await hass.config_entries.async_unload(entry.entry_id)
    hass.states.async_remove(ALERT)  # as at a start, before input_boolean has loaded
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return miner, plan_of(entry)


async def test_a_restart_keeps_the_window_until_its_feeds_have_loaded(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Found: after a restart, a DR entity not loaded yet counted as "no event": the miners
    restarted mid-event (and with the default min-on stayed on at least 5 min)."""
    miner, plan = await _restarted_with_the_alert_not_loaded(hass, fleet, add_plan)
    await settle(hass, plan)
    assert miner.paused, "the event is still on as far as anyone knows"
    assert plan.data.decision.curtailed
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not miner.paused


async def test_a_feed_that_never_loads_is_missing_after_the_grace(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    miner, plan = await _restarted_with_the_alert_not_loaded(hass, fleet, add_plan)
    assert plan.feeds.grace_until is not None
    assert plan._timer_at is not None
    assert plan._timer_at <= plan.feeds.grace_until, "a decision is due when the grace ends"
    plan.async_decide(plan.feeds.grace_until)
    await settle(hass, plan)
    assert not miner.paused, "gone for good: no event"
