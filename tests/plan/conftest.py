"""Plan fixtures: simulated Bitaxes added as miners, and a plan added through its flow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from homeassistant import config_entries
from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.calendar.const import DATA_COMPONENT as CALENDAR_COMPONENT
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

from custom_components.home_miner.const import DOMAIN
from custom_components.home_miner.plan import PlanCoordinator
from custom_components.home_miner.plan.actuator import miner_coordinator
from tests.conftest import SimFactory
from tests.curtailment.conftest import VtnFactory, openadr_spec, start_vtn  # noqa: F401
from tests.home_miner.conftest import (  # noqa: F401
    AddMiner,
    add_miner,
    auto_enable_custom_integrations,
)
from tests.simulator.esp_miner import BitaxeMiner

SAFETY_NONE = {
    "min_on_minutes": 0,
    "min_off_minutes": 0,
    "restart_stagger_seconds": 0,
    "max_length_minutes": 0,
    "observe_only": False,
}
NO_TOU = {"tou_mode": "none"}
NO_PRICE = {"price_preset": "none", "threshold_mode": "none", "hysteresis": 0}


def tou_steps(tou: dict[str, Any]) -> list[dict[str, Any]]:
    """Time-of-use input as its forms take it: the source, then that source's own form."""
    source = {"tou_mode": tou["tou_mode"]}
    rest = {key: value for key, value in tou.items() if key != "tou_mode"}
    return [source] if tou["tou_mode"] == "none" else [source, rest]


@pytest.fixture(autouse=True)
def fast_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read commands back every 50 ms, give up after 1 s, retry refused ones within 0.2 s."""
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_INTERVAL", 0.05)
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_TIMEOUT", 1.0)
    monkeypatch.setattr("custom_components.home_miner.plan.const.RETRY_DELAYS", (0.1, 0.2))


@pytest.fixture(autouse=True)
async def early_morning(hass: HomeAssistant) -> None:
    """Run every plan test at about 04:00 local time, whatever the real clock says: a
    fixed-offset zone (no DST) whose hour is 4 now. No plan set up here is then in (or about
    to enter) the 17:00-20:00 peak, and no "now + 2 h" crosses midnight or a DST change.
    (Time zones with DST are the engine tests' business, on fixed dates.)"""
    offset = (4 - dt_util.utcnow().hour + 12) % 24 - 12  # hours east of UTC, -12..+11
    await hass.config.async_set_time_zone(f"Etc/GMT{-offset:+d}" if offset else "UTC")


@pytest.fixture
def tomorrow() -> Callable[[int, int], datetime]:
    """A wall-clock time tomorrow (in UTC): injected instants stay ahead of the real clock,
    so no timer the plan sets for them fires by itself during a test."""

    def _at(hour: int, minute: int = 0) -> datetime:
        local = dt_util.now() + timedelta(days=1)
        return dt_util.as_utc(local.replace(hour=hour, minute=minute, second=0, microsecond=0))

    return _at


Fleet = Callable[..., Awaitable[list[BitaxeMiner]]]


@pytest.fixture
def fleet(simulate: SimFactory, add_miner: AddMiner) -> Fleet:  # noqa: F811
    """Start Bitaxes on 127.0.10.x (fast command delay) and add each as a miner."""

    started: list[BitaxeMiner] = []

    async def _start(*models: str) -> list[BitaxeMiner]:
        miners = []
        for index, model in enumerate(models, start=len(started) + 2):
            miner: BitaxeMiner = await simulate(
                BitaxeMiner,
                f"127.0.10.{index}",
                model=model,
                firmware="v2.14.0",
                hostname=f"axe{index}",
                command_delay=0.05,
            )
            await add_miner(miner.ip)
            miners.append(miner)
            started.append(miner)
        return miners

    return _start


def miner_id(miner: BitaxeMiner) -> str:
    return miner.mac.lower()


async def run_flow(
    hass: HomeAssistant, flow: Any, flow_id: str, steps: list[dict[str, Any]]
) -> FlowResult:
    result: FlowResult | None = None
    for step in steps:
        result = await flow.async_configure(flow_id, step)
        assert result["type"] in (FlowResultType.FORM, FlowResultType.CREATE_ENTRY), result
        assert not result.get("errors"), result
    assert result is not None
    return result


AddPlan = Callable[..., Awaitable[ConfigEntry]]


@pytest.fixture
def add_plan(hass: HomeAssistant) -> AddPlan:
    """Add a plan as a user does: Add integration → Add a curtailment plan → five forms."""

    async def _add(
        miners: list[dict[str, Any]],
        *,
        name: str = "Test plan",
        tou: dict[str, Any] | None = None,
        price: dict[str, Any] | None = None,
        dr: dict[str, Any] | None = None,
        house: dict[str, Any] | None = None,
        safety: dict[str, Any] | None = None,
    ) -> ConfigEntry:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "plan"}
        )
        assert result["step_id"] == "plan"
        result = await run_flow(
            hass,
            hass.config_entries.flow,
            result["flow_id"],
            [
                {"name": name, "miners": miners},
                *tou_steps(tou or NO_TOU),
                price or NO_PRICE,
                dr or {},
                house or {},
                {**SAFETY_NONE, **(safety or {})},
            ],
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        entry = result["result"]
        assert isinstance(entry, ConfigEntry)
        return entry

    return _add


def plan_of(entry: ConfigEntry) -> PlanCoordinator:
    coordinator = entry.runtime_data
    assert isinstance(coordinator, PlanCoordinator)
    return coordinator


async def settle(hass: HomeAssistant, plan: PlanCoordinator) -> None:
    """Wait (in real time) until every command the plan sent is done."""
    for _ in range(200):
        await hass.async_block_till_done()
        if not any(actuator.busy for actuator in plan.actuators.values()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("commands still running")


async def poll(hass: HomeAssistant, miner: BitaxeMiner, count: int = 1) -> None:
    """Let the miner's coordinator poll it `count` times, as its interval would."""
    coordinator = miner_coordinator(hass, miner_id(miner))
    assert coordinator is not None
    for _ in range(count):
        await coordinator.async_refresh()
        await hass.async_block_till_done()


@pytest.fixture
async def vtn_factory(start_vtn: VtnFactory) -> AsyncIterator[VtnFactory]:  # noqa: F811
    return start_vtn


class DrCalendar(CalendarEntity):
    """A calendar whose events the test writes (like a utility's saving sessions)."""

    _attr_name = "Saving sessions"

    def __init__(self) -> None:
        self.events: list[CalendarEvent] = []

    @property
    def event(self) -> CalendarEvent | None:
        now = dt_util.now()
        return next(
            (e for e in self.events if e.start_datetime_local <= now < e.end_datetime_local), None
        )

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        return [
            e
            for e in self.events
            if e.start_datetime_local < end_date and e.end_datetime_local > start_date
        ]


@pytest.fixture
async def dr_calendar(hass: HomeAssistant) -> DrCalendar:
    assert await async_setup_component(hass, "calendar", {})
    calendar = DrCalendar()
    await hass.data[CALENDAR_COMPONENT].async_add_entities([calendar])
    return calendar
