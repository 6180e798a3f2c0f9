"""Holidays billed as weekend days, from the core Holiday integration's calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
import json
from typing import Any

import holidays
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_miner.const import DOMAIN

from .conftest import AddPlan, Fleet, miner_id, plan_of, settle, tou_steps

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
BANDS = {
    "tou_mode": "bands",
    "bands": [{"label": "peak", "start": "17:00:00", "end": "20:00:00", "days": WEEKDAYS}],
    "peak_labels": ["peak"],
}


def _urdb() -> dict[str, Any]:
    """A rate with a 17:00-20:00 weekday peak all year and no peak at weekends."""
    weekday = [0] * 17 + [1] * 3 + [0] * 4
    return {
        "label": "holiday-test",
        "name": "Residential TOU",
        "startdate": 1704067200,
        "energyratestructure": [[{"rate": 0.2}], [{"rate": 0.5}]],
        "energytoulabels": ["off-peak", "peak"],
        "energyweekdayschedule": [weekday] * 12,
        "energyweekendschedule": [[0] * 24] * 12,
    }


URDB = {"tou_mode": "urdb_json", "urdb_json": json.dumps(_urdb()), "peak_labels": ["peak"]}


def _next_weekday_holiday() -> date:
    """The next US federal holiday on a weekday whose eve is a weekday too."""
    today = dt_util.now().date()
    days = holidays.country_holidays("US", years=[today.year, today.year + 1])
    return next(
        day
        for day in sorted(days)
        if day > today + timedelta(days=1) and day.weekday() in range(1, 5)
    )


def _at(day: date, hour: int) -> datetime:
    local = datetime.combine(day, time(hour, 30), tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(local)


@pytest.mark.parametrize("tou", [BANDS, URDB], ids=["bands", "urdb"])
async def test_a_us_holiday_is_billed_as_a_weekend_day(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tou: dict[str, Any]
) -> None:
    """Found: holidays never reached the tariffs; US utilities bill them as weekends, so the
    plan curtailed through a holiday's "peak"."""
    holiday_entry = MockConfigEntry(domain="holiday", data={"country": "US"}, title="United States")
    holiday_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(holiday_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("calendar.united_states") is not None

    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        tou={**tou, "holiday_calendar": "calendar.united_states"},
    )
    plan = plan_of(entry)
    holiday = _next_weekday_holiday()
    await plan.async_read_holidays(_at(holiday - timedelta(days=1), 4))

    plan.async_decide(_at(holiday - timedelta(days=1), 17))
    await settle(hass, plan)
    assert miner.paused, "the weekday before is a weekday: its peak curtails"
    plan.async_decide(_at(holiday - timedelta(days=1), 21))
    await settle(hass, plan)
    assert not miner.paused
    plan.async_decide(_at(holiday, 17))
    await settle(hass, plan)
    assert not plan.data.decision.curtailed, f"{holiday} is a holiday: no weekday peak"
    assert not miner.paused


async def test_the_holiday_calendar_must_be_a_calendar(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "plan"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "P", "miners": [{"miner": miner_id(miner), "action": "stop"}]}
    )
    source, bands = tou_steps(BANDS)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], source)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**bands, "holiday_calendar": "calendar.nowhere"}
    )
    assert result["errors"] == {"holiday_calendar": "not_a_calendar"}
