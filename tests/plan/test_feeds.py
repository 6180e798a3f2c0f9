"""Price, calendar, on/off and OpenADR feeds driving simulated miners."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.calendar import CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from tests.curtailment.vtn import event, interval, program

from .conftest import AddPlan, DrCalendar, Fleet, miner_id, plan_of, settle

PRICE_UNIT = {"unit_of_measurement": "EUR/kWh"}


async def test_price_above_threshold_curtails_and_hysteresis_prevents_flapping(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    hass.states.async_set("sensor.price", "0.20", PRICE_UNIT)
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        price={
            "price_entity": "sensor.price",
            "price_preset": "none",
            "threshold_mode": "fixed",
            "threshold": 0.30,
            "hysteresis": 0.05,
            "on_missing_price": "run",
        },
    )
    plan = plan_of(entry)
    assert hass.states.get("sensor.test_plan_current_price").state == "0.2"
    assert not miner.paused

    events = []
    hass.bus.async_listen("home_miner_curtailment_started", events.append)
    hass.states.async_set("sensor.price", "0.35", PRICE_UNIT)
    await settle(hass, plan)
    assert miner.paused
    assert hass.states.get("sensor.test_plan_curtailment_reason").state == "price_above_threshold"
    assert events[0].data["reason"] == "price_above_threshold"
    assert events[0].data["miners"] == ["axe2"]

    commands = len(miner.commands)
    hass.states.async_set("sensor.price", "0.28", PRICE_UNIT)
    await settle(hass, plan)
    hass.states.async_set("sensor.price", "0.31", PRICE_UNIT)
    await settle(hass, plan)
    hass.states.async_set("sensor.price", "0.27", PRICE_UNIT)
    await settle(hass, plan)
    assert miner.paused, "inside the hysteresis band the miner stays curtailed"
    assert len(miner.commands) == commands, "no command while the price wobbles"

    hass.states.async_set("sensor.price", "0.24", PRICE_UNIT)
    await settle(hass, plan)
    assert not miner.paused


async def test_price_feed_down_follows_the_setting(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    hass.states.async_set("sensor.price", "0.50", PRICE_UNIT)
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        price={
            "price_entity": "sensor.price",
            "price_preset": "none",
            "threshold_mode": "fixed",
            "threshold": 0.30,
            "hysteresis": 0,
            "on_missing_price": "curtail",
        },
    )
    plan = plan_of(entry)
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set("sensor.price", "0.10", PRICE_UNIT)
    await settle(hass, plan)
    assert not miner.paused
    hass.states.async_set("sensor.price", "unavailable", PRICE_UNIT)
    await settle(hass, plan)
    assert miner.paused, "the price feed is down and the plan says curtail then"
    assert hass.states.get("sensor.test_plan_current_price").state == "unknown"


async def test_calendar_dr_event(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, dr_calendar: DrCalendar
) -> None:
    first, second = await fleet("Gamma 601", "Gamma 601")
    now = dt_util.now()
    dr_calendar.events.append(
        CalendarEvent(
            start=now + timedelta(hours=2),
            end=now + timedelta(hours=3),
            summary="Saving session",
        )
    )
    entry = await add_plan(
        [
            {"miner": miner_id(first), "action": "stop"},
            {"miner": miner_id(second), "action": "limit_percent", "value": 50},
        ],
        dr={"calendars": ["calendar.saving_sessions"], "calendar_match": "saving"},
    )
    plan = plan_of(entry)
    windows = plan.data.windows
    assert len(windows) == 1
    assert windows[0].reason == "dr_event"
    calendar = hass.states.get("calendar.test_plan_curtailment_windows")
    assert calendar.attributes["message"] == "Demand-response event"

    full, frequency = second.power_w, second.frequency
    plan.async_decide(dt_util.as_utc(now + timedelta(hours=2, minutes=1)))
    await settle(hass, plan)
    assert first.paused
    assert not second.paused
    assert second.frequency < frequency, "limited: the lowest frequency that fits"
    assert second.power_w < full
    assert hass.states.get("sensor.test_plan_curtailment_reason").state == "dr_event"


async def test_on_off_entity_dr_event(hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan) -> None:
    hass.states.async_set("input_boolean.grid_alert", "off")
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        dr={"dr_entities": ["input_boolean.grid_alert"]},
    )
    plan = plan_of(entry)
    hass.states.async_set("input_boolean.grid_alert", "on")
    await settle(hass, plan)
    assert miner.paused
    hass.states.async_set("input_boolean.grid_alert", "off")
    await settle(hass, plan)
    assert not miner.paused


async def test_openadr_simple_level_2_halves_fleet_power(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, vtn_factory
) -> None:
    miners = await fleet("Gamma 601", "Gamma 601", "Ultra 204", "Ultra 204")
    vtn = await vtn_factory(programs=[program("p1", "residential")], credentials=("ven", "s3cret"))
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "stop"} for m in miners],
        dr={
            "vtn_url": vtn.base_url,
            "vtn_client_id": "ven",
            "vtn_client_secret": "s3cret",
            "vtn_program": "residential",
        },
    )
    plan = plan_of(entry)
    hashing_before = sum(m.asic_power_w for m in miners)
    start = dt_util.utcnow() - timedelta(minutes=1)
    vtn.events.append(
        event(
            "e1",
            "p1",
            [interval(0, "SIMPLE", 2)],
            intervalPeriod={"start": start.isoformat(), "duration": "PT1H"},
        )
    )
    await plan.async_poll_vtn()
    await settle(hass, plan)
    assert plan.data.decision.reason == "dr_event"
    hashing_after = sum(m.asic_power_w for m in miners)
    assert hashing_after <= 0.5 * hashing_before + 0.5
    assert hashing_after >= 0.3 * hashing_before, "turned down to half, not off"
    stopped = [m for m in miners if m.paused]
    assert all(m.model == "Ultra 204" for m in stopped), "least efficient first"

    vtn.fail_status = 500
    await plan.async_poll_vtn()
    await settle(hass, plan)
    assert plan.data.decision.reason == "dr_event", "a VTN that goes down keeps its events"


async def test_capacity_limit_keeps_the_most_hashrate_under_the_cap(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, vtn_factory
) -> None:
    """Under a cap that leaves the efficient Gammas their full power and the Ultras half of
    one's, the efficient Gammas keep hashing and the fleet stays under the cap (an Ultra
    hashes too only if its lowest limit fits: the allocator chooses)."""
    gammas = await fleet("Gamma 601", "Gamma 601")
    ultras = await fleet("Ultra 204", "Ultra 204")
    vtn = await vtn_factory(programs=[program("p1", "capacity")])
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "stop"} for m in (*gammas, *ultras)],
        dr={"vtn_url": vtn.base_url},
    )
    plan = plan_of(entry)
    cap_w = sum(m.power_w for m in gammas) + 0.5 * ultras[0].power_w
    vtn.events.append(
        event(
            "cap",
            "p1",
            [interval(0, "IMPORT_CAPACITY_LIMIT", cap_w / 1000)],
            intervalPeriod={
                "start": (dt_util.utcnow() - timedelta(minutes=1)).isoformat(),
                "duration": "PT1H",
            },
            payloadDescriptors=[
                {
                    "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                    "payloadType": "IMPORT_CAPACITY_LIMIT",
                    "units": "KW",
                }
            ],
        )
    )
    await plan.async_poll_vtn()
    await settle(hass, plan)
    assert plan.data.decision.reason == "capacity_limit"
    assert not any(m.paused for m in gammas), "the efficient miners keep hashing"
    assert sum(m.asic_power_w for m in (*gammas, *ultras)) <= cap_w
