"""The miners as the home's flexible load, in Home Assistant: the house form, mining on
solar surplus only, the household import limit and boost, on simulated Bitaxes."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.calendar import CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
import voluptuous as vol

from custom_components.home_miner.const import DOMAIN
from tests.simulator.esp_miner import BitaxeMiner

from .conftest import (
    NO_PRICE,
    NO_TOU,
    AddPlan,
    DrCalendar,
    Fleet,
    miner_id,
    plan_of,
    poll,
    settle,
)

GRID = "sensor.grid_power"
BATTERY = "sensor.battery"
BOOST = "input_boolean.free_power"
WATTS = {"unit_of_measurement": "W", "device_class": "power"}


async def _at_house_step(hass: HomeAssistant, fleet: Fleet) -> str:
    (miner,) = await fleet("Gamma 601")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    flow_id = result["flow_id"]
    for step in (
        {"next_step_id": "plan"},
        {"name": "House", "miners": [{"miner": miner_id(miner), "action": "stop"}]},
        NO_TOU,
        NO_PRICE,
        {},
    ):
        result = await hass.config_entries.flow.async_configure(flow_id, step)
    assert result["step_id"] == "plan_house", result
    return flow_id


@pytest.mark.parametrize(
    ("house", "errors"),
    [
        ({"surplus_only": True}, {"grid_power_entity": "grid_entity_required"}),
        ({"import_limit_kw": 10}, {"grid_power_entity": "grid_entity_required"}),
        (
            {"grid_power_entity": GRID, "battery_floor_pct": 30},
            {"battery_soc_entity": "battery_entity_required"},
        ),
        ({"grid_power_entity": "sensor.price"}, {"grid_power_entity": "not_a_power"}),
    ],
)
async def test_the_house_form_says_what_is_missing_and_stores_nothing_wrong(
    hass: HomeAssistant, fleet: Fleet, house: dict[str, object], errors: dict[str, str]
) -> None:
    hass.states.async_set(GRID, "120", WATTS)
    hass.states.async_set("sensor.price", "0.21", {"unit_of_measurement": "EUR/kWh"})
    flow_id = await _at_house_step(hass, fleet)
    result = await hass.config_entries.flow.async_configure(flow_id, house)
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"grid_power_entity": GRID, "surplus_only": True, "reserve_w": 5}
    )
    assert result["step_id"] == "plan_safety"


async def test_how_often_a_miner_follows_the_surplus_is_set_on_the_house_form(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    hass.states.async_set(GRID, "120", WATTS)
    flow_id = await _at_house_step(hass, fleet)
    house = {"grid_power_entity": GRID, "surplus_only": True}
    with pytest.raises(vol.Invalid):  # a miner that may change once an hour cannot go back
        await hass.config_entries.flow.async_configure(
            flow_id, {**house, "max_changes_per_hour": 1}
        )
    _, plan = await _surplus_plan(
        hass, fleet, add_plan, surplus_only=True, deadband_w=12, max_changes_per_hour=4
    )
    assert plan.config.flex is not None
    assert (plan.config.flex.deadband_w, plan.config.flex.max_changes_per_hour) == (12, 4)


async def _surplus_plan(hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, **house: object):
    miners = await fleet("Gamma 601", "Gamma 601")
    for miner in miners:
        await poll(hass, miner)
    drawn = sum(m.power_w for m in miners)
    hass.states.async_set(GRID, str(drawn), WATTS)  # night: all the import is the miners'
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "stop"} for m in miners],
        house={"grid_power_entity": GRID, **house},
    )
    plan = plan_of(entry)
    await settle(hass, plan)
    return miners, plan


async def test_surplus_only_mining_follows_the_grid(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    miners, plan = await _surplus_plan(hass, fleet, add_plan, surplus_only=True)
    assert all(m.paused for m in miners), "no surplus: idle"
    assert hass.states.get("sensor.test_plan_curtailment_reason").state == "surplus"
    assert hass.states.get("binary_sensor.test_plan_curtailed").state == "off", (
        "idle for lack of surplus is no curtailment"
    )
    assert plan.memory.state.window_start is None

    # The sun: 50 W exported with the miners idle, enough for both (about 16 W each)...
    for miner in miners:
        await poll(hass, miner)
    idle_w = sum(m.power_w for m in miners)  # a paused Bitaxe still draws a little
    hass.states.async_set(GRID, "-50", WATTS)
    later = dt_util.utcnow() + timedelta(seconds=31)  # past the settle time of the last move
    plan.async_decide(later)
    await settle(hass, plan)
    assert not any(m.paused for m in miners)
    assert plan.data.decision.fleet_target_w == pytest.approx(50 + idle_w)
    target = hass.states.get("sensor.test_plan_fleet_target_power")
    assert float(target.state) == pytest.approx(50 + idle_w)
    assert target.attributes["unit_of_measurement"] == "W"
    surplus = hass.states.get("sensor.test_plan_surplus")
    assert float(surplus.state) == pytest.approx(50 + idle_w, abs=0.1), "export without them"
    # ...then a cloud: 20 W exported with both mining is room for both, but not for more.
    for miner in miners:
        await poll(hass, miner)
    hass.states.async_set(GRID, str(-20), WATTS)
    plan.async_decide(later + timedelta(seconds=31))
    await settle(hass, plan)
    assert not any(m.paused for m in miners)
    # Importing 10 W with both mining: one gives way.
    hass.states.async_set(GRID, "10", WATTS)
    plan.async_decide(later + timedelta(seconds=62))
    await settle(hass, plan)
    assert [m.paused for m in miners].count(True) >= 1
    assert hass.states.get("binary_sensor.test_plan_curtailed").state == "off"


async def test_the_import_limit_turns_the_miners_down_at_once(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    miners, plan = await _surplus_plan(hass, fleet, add_plan, import_limit_kw=0.04, reserve_w=0)
    assert not any(m.paused for m in miners), "the house is under its limit"
    drawn = sum(m.power_w for m in miners)
    # The kettle: 30 W of house load, 40 W allowed in all.
    hass.states.async_set(GRID, str(drawn + 30), WATTS)
    await settle(hass, plan)
    assert plan.data.decision.reason == "import_limit"
    assert hass.states.get("binary_sensor.test_plan_curtailed").state == "on"
    assert sum(m.power_w for m in miners) <= 10 + 1e-6


async def test_a_boost_mines_without_surplus(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    hass.states.async_set(BOOST, "off")
    miners, plan = await _surplus_plan(
        hass, fleet, add_plan, surplus_only=True, boost_entities=[BOOST]
    )
    assert all(m.paused for m in miners)
    events = async_capture_events(hass, "home_miner_boost_started")
    ended = async_capture_events(hass, "home_miner_boost_ended")
    hass.states.async_set(BOOST, "on")
    await settle(hass, plan)
    assert not any(m.paused for m in miners), "free power: every miner mines"
    assert hass.states.get("sensor.test_plan_curtailment_reason").state == "boost"
    assert [e.data["plan"] for e in events] == ["Test plan"]
    hass.states.async_set(BOOST, "off")
    plan.async_decide(dt_util.utcnow() + timedelta(seconds=31))
    await settle(hass, plan)
    assert len(ended) == 1
    assert all(m.paused for m in miners), "no surplus again: idle"


async def test_below_the_battery_floor_the_miners_leave_the_battery_alone(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    hass.states.async_set(BATTERY, "25", {"unit_of_measurement": "%", "device_class": "battery"})
    miners, plan = await _surplus_plan(
        hass,
        fleet,
        add_plan,
        surplus_only=True,
        battery_soc_entity=BATTERY,
        battery_floor_pct=30,
    )
    hass.states.async_set(GRID, "-100", WATTS)  # exporting, but the battery is low
    plan.async_decide(dt_util.utcnow() + timedelta(seconds=31))
    await settle(hass, plan)
    assert all(m.paused for m in miners)
    assert plan.data.decision.fleet_target_w == 0


async def test_a_miner_a_person_runs_while_it_idles_for_surplus_stays_theirs(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Mining on surplus only must not fight a person: the miner they switch on at night
    mines for the rest of the day, the others still follow the surplus (and give way)."""
    miners, plan = await _surplus_plan(hass, fleet, add_plan, surplus_only=True)
    assert all(m.paused for m in miners)
    first = hass.states.async_all("switch")[0].entity_id
    await hass.services.async_call("switch", "turn_on", {"entity_id": first}, blocking=True)
    await settle(hass, plan)
    for _ in range(3):
        plan.async_decide(dt_util.utcnow() + timedelta(minutes=5))
        await settle(hass, plan)
    assert [m.paused for m in miners].count(False) == 1, "the person's miner mines"
    assert len(plan.data.overridden) == 1
    plan.async_decide(dt_util.start_of_local_day() + timedelta(days=1, minutes=1))
    await settle(hass, plan)
    assert all(m.paused for m in miners), "a new day: the plan's again, and no surplus"


async def test_boosts_ahead_are_in_the_plans_calendar(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, dr_calendar: DrCalendar
) -> None:
    """A free-electricity session in a boost calendar two hours ahead is a Boost window in
    the plan's calendar (as its curtailment windows are)."""
    now = dt_util.now().replace(second=0, microsecond=0)
    dr_calendar.events.append(
        CalendarEvent(
            start=now + timedelta(hours=2), end=now + timedelta(hours=3), summary="Power-up"
        )
    )
    _, plan = await _surplus_plan(
        hass, fleet, add_plan, surplus_only=True, boost_entities=["calendar.saving_sessions"]
    )
    boosts = [w for w in plan.data.windows if w.reason == "boost"]
    assert [(w.start, w.end) for w in boosts] == [
        (dt_util.as_utc(now + timedelta(hours=2)), dt_util.as_utc(now + timedelta(hours=3)))
    ]
    answer = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": "calendar.test_plan_curtailment_windows",
            "start_date_time": now,
            "end_date_time": now + timedelta(hours=6),
        },
        blocking=True,
        return_response=True,
    )
    events = answer["calendar.test_plan_curtailment_windows"]["events"]
    assert [e["summary"] for e in events] == ["Boost"], events


async def test_a_boost_calendar_that_cannot_be_read_leaves_the_plan_as_it_was(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, caplog: pytest.LogCaptureFixture
) -> None:
    _, plan = await _surplus_plan(
        hass, fleet, add_plan, surplus_only=True, boost_entities=["calendar.gone"]
    )
    assert plan.feeds.boost_sessions == ()
    assert not [w for w in plan.data.windows if w.reason == "boost"]
    assert "Cannot read the boost calendars" in caplog.text


async def test_the_import_limit_turns_down_a_miner_a_person_holds_and_gives_it_back(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """The household's limit outranks a person's own change: the Bitaxe they run at 14 W
    while the kettle is on is turned down at once, and given back as they left it when the
    house has room again. The one they stopped it never runs."""
    miners, plan = await _surplus_plan(hass, fleet, add_plan, import_limit_kw=0.04, reserve_w=0)
    first, second = miners

    def entity(domain: str, miner: BitaxeMiner, key: str) -> str:
        host = miner.hostname
        return next(
            s.entity_id
            for s in hass.states.async_all(domain)
            if host in s.entity_id and s.entity_id.endswith(key)
        )

    async def meter(house_w: float, seconds: float) -> None:
        for miner in miners:
            await poll(hass, miner)
        hass.states.async_set(GRID, f"{house_w + sum(m.power_w for m in miners):.1f}", WATTS)
        plan.async_decide(dt_util.utcnow() + timedelta(seconds=seconds))
        await settle(hass, plan)

    await meter(30, 0)  # the kettle: 10 W left of the 40 W allowed
    assert first.paused
    assert second.paused
    calls = (
        ("switch", "turn_on", {"entity_id": entity("switch", first, "_mining")}),
        (
            "number",
            "set_value",
            {"entity_id": entity("number", first, "_power_limit"), "value": 14},
        ),
        ("switch", "turn_off", {"entity_id": entity("switch", second, "_mining")}),
    )
    for domain, service, data in calls:
        await hass.services.async_call(domain, service, data, blocking=True)
        await settle(hass, plan)
    assert first.frequency == 400
    await meter(30, 1)  # mining, it does not fit beside the kettle
    assert first.paused, "turned down though a person holds it"
    assert plan.data.decision.target(miner_id(first)).reason == "import_limit"
    assert len(plan.data.overridden) == 2, "both are the person's for the rest of the window"
    await meter(0, 40)  # the kettle is off: room for both again
    assert not first.paused, "given back"
    assert first.frequency == 400, "as the person left it"
    assert second.paused, "the import limit never runs a miner a person stopped"
