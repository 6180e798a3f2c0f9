"""What a plan's device shows: its next change, only the entities that can have a value, its
miners' totals, and calendar texts in the configured language."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.curtailment.test_prices import day_entries
from tests.home_miner.conftest import AddMiner
from tests.simulator.antminer import AntminerStockMiner

from .conftest import AddPlan, Fleet, miner_id, plan_of, poll, settle
from .test_tou import PEAK

PRICE_UNIT = {"unit_of_measurement": "EUR/kWh"}


def _timestamp(hass: HomeAssistant, entity_id: str) -> datetime | None:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return dt_util.parse_datetime(state.state)


async def test_next_change_is_the_next_window_not_the_next_price(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Hourly prices, one hour above the threshold seven hours ahead: the engine looks again
    at every hour's price, but the plan next changes what it does when that hour starts,
    and then when it ends."""
    now = dt_util.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    expensive = (now + timedelta(hours=7)).replace(minute=0, second=0, microsecond=0)

    def day(start: datetime) -> list[float]:
        return [0.40 if start + timedelta(hours=h) == expensive else 0.10 for h in range(24)]

    tomorrow = midnight + timedelta(days=1)
    forecast = {
        **PRICE_UNIT,
        "raw_today": day_entries(midnight, day(midnight), timedelta(hours=1), as_text=True),
        "raw_tomorrow": day_entries(tomorrow, day(tomorrow), timedelta(hours=1), as_text=True),
    }
    hass.states.async_set("sensor.nordpool", "0.10", forecast)
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        price={
            "price_entity": "sensor.nordpool",
            "price_preset": "nordpool",
            "threshold_mode": "fixed",
            "threshold": 0.30,
            "hysteresis": 0.0,
            "on_missing_price": "run",
        },
    )
    plan = plan_of(entry)
    await settle(hass, plan)
    recheck = plan.data.decision.next_check
    assert recheck is not None
    assert recheck < expensive, "the engine looks again within the hour"
    assert _timestamp(hass, "sensor.test_plan_next_change") == expensive

    # The expensive hour, its price now the sensor's state (decided at that instant).
    plan.async_decide(expensive + timedelta(minutes=1))
    hass.states.async_set("sensor.nordpool", "0.40", forecast)
    await settle(hass, plan)
    assert miner.paused
    assert _timestamp(hass, "sensor.test_plan_next_change") == expensive + timedelta(hours=1)

    plan.async_decide(expensive + timedelta(hours=1))
    hass.states.async_set("sensor.nordpool", "0.10", forecast)
    await settle(hass, plan)
    assert not miner.paused
    # Nothing above the threshold in the prices known: nothing known will change.
    assert hass.states.get("sensor.test_plan_next_change").state == "unknown"


async def test_next_change_of_a_tou_plan_and_the_release_after_it(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    """A shoulder band before the peak is a tariff boundary, not a change of the plan; the
    staggered release after the peak is one (the last miner resumes a minute later)."""
    first, second = await fleet("Gamma 601", "Gamma 601")
    peak = PEAK["bands"][0]
    shoulder = {
        "label": "shoulder",
        "start": peak["start"].replace("17", "07", 1),
        "end": peak["start"],
    }
    entry = await add_plan(
        [
            {"miner": miner_id(first), "action": "stop", "priority": 1},
            {"miner": miner_id(second), "action": "stop", "priority": 2},
        ],
        tou={**PEAK, "bands": [shoulder, peak]},
        safety={"restart_stagger_seconds": 60},
    )
    plan = plan_of(entry)
    plan.async_decide(tomorrow(4))
    await settle(hass, plan)
    assert plan.data.decision.next_check == tomorrow(7)
    assert _timestamp(hass, "sensor.test_plan_next_change") == tomorrow(17)

    plan.async_decide(tomorrow(17))
    await settle(hass, plan)
    assert _timestamp(hass, "sensor.test_plan_next_change") == tomorrow(20)

    plan.async_decide(tomorrow(20))
    await settle(hass, plan)
    assert second.paused
    assert not first.paused
    assert _timestamp(hass, "sensor.test_plan_next_change") == tomorrow(20) + timedelta(seconds=60)

    plan.async_decide(tomorrow(20) + timedelta(seconds=60))
    await settle(hass, plan)
    assert not second.paused
    assert _timestamp(hass, "sensor.test_plan_next_change") == tomorrow(17) + timedelta(days=1)


def _break_even(hass: HomeAssistant, entry_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry_id}_break_even_price")


async def test_break_even_only_where_the_threshold_is_break_even(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    hass.states.async_set("sensor.price", "0.10", PRICE_UNIT)
    fixed_miner, break_even_miner = await fleet("Gamma 601", "Gamma 601")
    price = {
        "price_entity": "sensor.price",
        "price_preset": "none",
        "hysteresis": 0,
        "on_missing_price": "run",
    }
    fixed = await add_plan(
        [{"miner": miner_id(fixed_miner), "action": "stop"}],
        name="Fixed",
        price={**price, "threshold_mode": "fixed", "threshold": 0.30},
    )
    assert _break_even(hass, fixed.entry_id) is None
    assert hass.states.get("sensor.fixed_break_even_price") is None

    break_even = await add_plan(
        [{"miner": miner_id(break_even_miner), "action": "stop"}],
        name="Break even",
        price={**price, "threshold_mode": "break_even", "hashprice": 0.05},
    )
    entity_id = _break_even(hass, break_even.entry_id)
    assert entity_id == "sensor.break_even_break_even_price"
    assert float(hass.states.get(entity_id).state) > 0

    # Options changed to a fixed threshold: the sensor that can no longer have a value goes.
    hass.config_entries.async_update_entry(
        break_even, options={**break_even.options, "threshold_mode": "fixed", "threshold": 0.3}
    )
    assert await hass.config_entries.async_reload(break_even.entry_id)
    await hass.async_block_till_done()
    assert _break_even(hass, break_even.entry_id) is None
    assert hass.states.get(entity_id) is None


async def test_a_plan_without_prices_has_no_price_sensors(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Time of use alone: no price entity, no VTN; nothing could give its price sensors a
    value."""
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou=PEAK)
    registry = er.async_get(hass)
    sensors = {
        e.unique_id.removeprefix(f"{entry.entry_id}_")
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.domain == "sensor"
    }
    assert "current_price" not in sensors
    assert "break_even_price" not in sensors
    assert {"reason", "next_change", "energy_avoided", "fleet_power"} <= sensors


async def test_fleet_totals_are_the_sum_of_the_miners_entities(
    hass: HomeAssistant,
    fleet: Fleet,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,
) -> None:
    """Two Bitaxes (GH/s, measured power) and a stock Antminer (TH/s, estimated power) in the
    plan, a Bitaxe outside it."""
    first, second, outsider = await fleet("Gamma 601", "Gamma 601", "Gamma 601")
    antminer = await simulate(
        AntminerStockMiner, "127.0.11.2", hostname="s19", command_delay=0.05, restart_seconds=0.2
    )
    await add_miner(antminer.ip)
    await add_plan([{"miner": miner_id(m), "action": "stop"} for m in (first, second, antminer)])
    mining = "sensor.test_plan_miners_mining"
    hashrate = "sensor.test_plan_fleet_hashrate"
    power = "sensor.test_plan_fleet_power"
    assert hass.states.get(hashrate).attributes["unit_of_measurement"] == "TH/s"
    assert hass.states.get(power).attributes["unit_of_measurement"] == "W"

    def number(entity_id: str) -> float:
        return float(hass.states.get(entity_id).state)

    def assert_totals(miners: list[str]) -> None:
        """The plan's totals against the miners' own sensors, as a person would add them."""
        on = [m for m in miners if hass.states.get(f"binary_sensor.{m}_mining").state == "on"]
        assert number(mining) == len(on)
        ths = [
            number(f"sensor.{m}_hashrate")
            / (
                1000
                if hass.states.get(f"sensor.{m}_hashrate").attributes["unit_of_measurement"]
                == "GH/s"
                else 1
            )
            for m in miners
        ]
        assert number(hashrate) == round(sum(ths), 4)
        watts = [
            number(f"sensor.{m}_power" if m.startswith("axe") else f"sensor.{m}_estimated_power")
            for m in miners
        ]
        assert number(power) == round(sum(watts), 1)

    for miner in (first, second, outsider, antminer):
        await poll(hass, miner)
    assert number(mining) == 3
    assert_totals(["axe2", "axe3", "s19"])
    assert number(power) > 3000

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.axe2_mining"}, blocking=True
    )
    await poll(hass, first)
    assert number(mining) == 2
    assert_totals(["axe2", "axe3", "s19"])

    # A miner that does not answer is left out, not counted as zero.
    await antminer.power_off()
    await poll(hass, antminer)
    assert hass.states.get("sensor.s19_hashrate").state == STATE_UNAVAILABLE
    assert number(mining) == 1
    assert_totals(["axe2", "axe3"])

    for miner in (first, second):
        await miner.power_off()
        await poll(hass, miner)
    for total in (mining, hashrate, power):
        assert hass.states.get(total).state == STATE_UNAVAILABLE


async def test_calendar_texts_in_the_configured_language(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow
) -> None:
    """Tomorrow's peak, its first hour also priced above the threshold: one window, named for
    the peak, described by both reasons, in English and then in German."""
    midnight = dt_util.now().replace(hour=0, minute=0, second=0, microsecond=0)
    next_midnight = midnight + timedelta(days=1)
    hass.states.async_set(
        "sensor.nordpool",
        "0.10",
        {
            **PRICE_UNIT,
            "raw_today": day_entries(midnight, [0.10] * 24, timedelta(hours=1), as_text=True),
            "raw_tomorrow": day_entries(
                next_midnight,
                [0.40 if hour == 17 else 0.10 for hour in range(24)],
                timedelta(hours=1),
                as_text=True,
            ),
        },
    )
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        tou=PEAK,
        price={
            "price_entity": "sensor.nordpool",
            "price_preset": "nordpool",
            "threshold_mode": "fixed",
            "threshold": 0.30,
            "hysteresis": 0,
            "on_missing_price": "run",
        },
    )
    await settle(hass, plan_of(entry))
    calendar = "calendar.test_plan_curtailment_windows"

    async def events() -> list[tuple[str, str]]:
        answer = await hass.services.async_call(
            "calendar",
            "get_events",
            {
                "entity_id": calendar,
                "start_date_time": tomorrow(0).isoformat(),
                "end_date_time": tomorrow(23).isoformat(),
            },
            blocking=True,
            return_response=True,
        )
        assert isinstance(answer, dict)
        return [(e["summary"], e["description"]) for e in answer[calendar]["events"]]

    assert await events() == [("Time-of-use peak", "Time-of-use peak, Price above threshold")]
    assert hass.states.get(calendar).attributes["message"] == "Time-of-use peak"

    await hass.config.async_update(language="de")
    await hass.async_block_till_done()
    assert await events() == [("Hochtarifzeit", "Hochtarifzeit, Preis über der Schwelle")]
    assert hass.states.get(calendar).attributes["message"] == "Hochtarifzeit"


async def test_next_change_of_a_peak_months_away_is_its_date(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Found in the browser: a URDB rate with summer peaks, seen in winter, showed "Next
    change: Unknown" (nothing in the 48 h schedule). The next peak is months away, on a
    known day: that is the next change."""
    (miner,) = await fleet("Gamma 601")
    today = dt_util.now()
    month = (today.month + 2 - 1) % 12 + 1  # the month after next
    band = {**PEAK["bands"][0], "months": [str(month)]}
    await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou={**PEAK, "bands": [band]})
    change = _timestamp(hass, "sensor.test_plan_next_change")
    assert change is not None, "a date, not Unknown"
    local = dt_util.as_local(change)
    assert (local.month, local.day, local.hour, local.minute) == (month, 1, 17, 0)
