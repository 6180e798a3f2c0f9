"""Future prices from a price sensor's attributes become planned windows and a timer."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.home_miner.const import DOMAIN
from tests.curtailment.test_prices import day_entries

from .conftest import AddPlan, Fleet, miner_id, plan_of, settle

PRICE = {
    "price_entity": "sensor.nordpool",
    "price_preset": "nordpool",
    "threshold_mode": "fixed",
    "threshold": 0.30,
    "hysteresis": 0.0,
    "on_missing_price": "run",
}


async def test_nord_pool_forecast_plans_the_expensive_hour(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    now = dt_util.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    expensive = (now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    next_midnight = midnight + timedelta(days=1)

    def day(start: datetime) -> list[float]:
        return [0.40 if start + timedelta(hours=h) == expensive else 0.10 for h in range(24)]

    hass.states.async_set(
        "sensor.nordpool",
        "0.10",
        {
            "unit_of_measurement": "EUR/kWh",
            "raw_today": day_entries(midnight, day(midnight), timedelta(hours=1), as_text=True),
            "raw_tomorrow": day_entries(
                next_midnight, day(next_midnight), timedelta(hours=1), as_text=True
            ),
        },
    )
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], price=PRICE)
    plan = plan_of(entry)
    await settle(hass, plan)
    assert not miner.paused
    schedule = await hass.services.async_call(
        DOMAIN,
        "get_schedule",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    windows = [w for w in schedule["windows"] if w["reason"] == "price_above_threshold"]
    assert windows, schedule
    assert dt_util.parse_datetime(windows[0]["start"]) == expensive
    assert plan.data.decision.next_check is not None
    assert plan.data.decision.next_check <= expensive

    # The hour arrives (its state now carries that hour's price): the miner stops.
    plan.async_decide(expensive + timedelta(minutes=1))
    hass.states.async_set("sensor.nordpool", "0.40", hass.states.get("sensor.nordpool").attributes)
    await settle(hass, plan)
    assert miner.paused
