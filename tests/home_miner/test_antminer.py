"""A stock Antminer in Home Assistant: login, entities, sleep/normal, work mode, identify."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from homeassistant import config_entries
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_USERNAME,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util
import pytest

from custom_components.home_miner.const import DOMAIN, SIGNAL_USER_CHANGED
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.simulator.antminer import AntminerStockMiner

HOST = "127.0.7.2"


async def test_changed_password_asks_for_login_then_works(
    hass: HomeAssistant, simulate: SimFactory
) -> None:
    miner = await simulate(AntminerStockMiner, HOST, password="s3cret", command_delay=0.1)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "host"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_HOST: HOST})
    assert result["step_id"] == "credentials"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "root", CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "root", CONF_PASSWORD: "s3cret"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PASSWORD] == "s3cret"
    assert result["result"].unique_id == miner.mac.lower()


async def test_stop_resume_and_work_mode_keep_pools(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(
        AntminerStockMiner, HOST, command_delay=0.1, restart_seconds=0.2, hostname="s19"
    )
    pools = [dict(p) for p in miner.pools]
    await add_miner(HOST)
    power = hass.states.get("sensor.s19_estimated_power")
    assert power is not None
    assert float(power.state) > 2000
    assert hass.states.get("sensor.s19_hashrate").attributes["unit_of_measurement"] == "TH/s"
    assert hass.states.get("select.s19_work_mode").state == "normal"

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.s19_mining"}, blocking=True
    )
    assert miner.status()["mode"] == "sleep"
    assert hass.states.get("switch.s19_mining").state == STATE_OFF
    assert float(hass.states.get("sensor.s19_estimated_power").state) < 50

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.s19_mining"}, blocking=True
    )
    assert hass.states.get("switch.s19_mining").state == STATE_ON
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.s19_work_mode", "option": "low_power"},
        blocking=True,
    )
    assert miner.status()["mode"] == "low"
    assert miner.pools == pools


async def test_identify_blinks_the_fault_light_for_a_while(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Named for what to look for at the miner; the press shows as the button's state (its
    last press), the light blinks, and stops by itself at the first poll after its time."""
    monkeypatch.setattr("custom_components.home_miner.miner.drivers.antminer.IDENTIFY_SECONDS", 0.3)
    miner = await simulate(AntminerStockMiner, HOST, command_delay=0.05, hostname="s19")
    entry = await add_miner(HOST)
    button = "button.s19_blink_fault_light"
    assert hass.states.get(button).attributes["device_class"] == "identify"
    assert hass.states.get(button).state == STATE_UNKNOWN
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    pressed = dt_util.parse_datetime(hass.states.get(button).state)
    assert pressed is not None
    assert abs(dt_util.utcnow() - pressed) < timedelta(seconds=5)
    await asyncio.sleep(0.1)
    assert miner.blink is True
    # Pressed again while it blinks: it keeps blinking (a press never turns it off).
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    await asyncio.sleep(0.1)
    assert miner.blink is True
    await entry.runtime_data.async_refresh()
    assert miner.blink is True
    await asyncio.sleep(0.4)
    await entry.runtime_data.async_refresh()
    await asyncio.sleep(0.1)
    assert miner.blink is False


async def _poll_while(hass: HomeAssistant, coordinator: Any, command: Awaitable[Any]) -> list[bool]:
    """Poll the miner as its interval would, every 50 ms, for as long as `command` runs."""
    task = asyncio.ensure_future(command)
    outcomes = []
    while not task.done():
        await coordinator.async_refresh()
        outcomes.append(coordinator.last_update_success)
        await asyncio.sleep(0.05)
    await task
    return outcomes


async def test_sleep_is_a_curtailment_not_a_reboot(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """Sleep and resume restart bmminer (its stats are empty meanwhile); the miner reads as
    curtailed throughout, and only a real reboot moves its last boot."""
    miner = await simulate(
        AntminerStockMiner, HOST, command_delay=0.05, restart_seconds=0.5, reboot_seconds=0.5
    )
    # Up for a day: a bmminer restart would put its last boot at today's minute.
    miner._bmminer_since -= 86400
    entry = await add_miner(HOST)
    coordinator = entry.runtime_data
    device = "antminer_s19j_pro_" + miner.mac.replace(":", "")[-4:].lower()
    boot = hass.states.get(f"sensor.{device}_last_boot").state
    temperatures = [
        f"sensor.{device}_average_temperature",
        f"sensor.{device}_maximum_temperature",
        *(f"sensor.{device}_board_{n}_temperature" for n in (1, 2, 3)),
    ]
    assert all(float(hass.states.get(t).state) > 30 for t in temperatures)

    turn_off = hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{device}_mining"}, blocking=True
    )
    polls = await _poll_while(hass, coordinator, turn_off)
    await asyncio.sleep(0.6)
    polls += await _poll_while(hass, coordinator, asyncio.sleep(0.3))
    assert miner.status()["running_mode"] == "sleep"
    assert all(polls), "no poll fails while bmminer restarts"
    assert hass.states.get(f"switch.{device}_mining").state == STATE_OFF
    assert hass.states.get(f"binary_sensor.{device}_mining").state == STATE_OFF
    assert hass.states.get(f"select.{device}_work_mode").state == "sleep"
    assert float(hass.states.get(f"sensor.{device}_estimated_power").state) == 0
    assert float(hass.states.get(f"sensor.{device}_hashrate").state) == 0
    assert hass.states.get(f"sensor.{device}_last_boot").state == boot
    # Its hashboards are off: the firmware reports no temperature at all.
    assert all(hass.states.get(t).state == STATE_UNAVAILABLE for t in temperatures)

    turn_on = hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{device}_mining"}, blocking=True
    )
    polls = await _poll_while(hass, coordinator, turn_on)
    assert all(polls)
    assert hass.states.get(f"switch.{device}_mining").state == STATE_ON
    assert hass.states.get(f"select.{device}_work_mode").state == "normal"
    assert hass.states.get(f"sensor.{device}_last_boot").state == boot
    assert all(float(hass.states.get(t).state) > 30 for t in temperatures)

    # A reboot is one: the miner goes away, then comes back freshly booted.
    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{device}_restart"}, blocking=True
    )
    await asyncio.sleep(0.2)
    await coordinator.async_refresh()
    assert hass.states.get(f"sensor.{device}_last_boot").state == STATE_UNAVAILABLE
    for _ in range(40):
        await asyncio.sleep(0.1)
        await coordinator.async_refresh()
        if coordinator.last_update_success and miner.status()["hashing"]:
            break
    assert coordinator.last_update_success
    assert hass.states.get(f"sensor.{device}_last_boot").state != boot


async def test_sleep_chosen_as_work_mode_is_a_persons_stop(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """Stock firmware offers sleep among its work modes; choosing it stops mining, and it
    reads as the person's stop (a plan will not resume it)."""
    miner = await simulate(AntminerStockMiner, HOST, command_delay=0.05, restart_seconds=0.2)
    await add_miner(HOST)
    device = "antminer_s19j_pro_" + miner.mac.replace(":", "")[-4:].lower()
    select = hass.states.get(f"select.{device}_work_mode")
    assert select.attributes["options"] == ["normal", "low_power", "sleep"]
    told: list[tuple[str, bool | None]] = []
    async_dispatcher_connect(
        hass, SIGNAL_USER_CHANGED, lambda mac, change, mining: told.append((change, mining))
    )
    for option in ("sleep", "normal", "low_power"):
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": f"select.{device}_work_mode", "option": option},
            blocking=True,
        )
    assert told == [("work_mode", False), ("work_mode", True), ("work_mode", None)]
    assert miner.status()["mode"] == "low"
