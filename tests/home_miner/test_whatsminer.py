"""A Whatsminer in Home Assistant, on API v2 and v3: login, entities, its own stop, power
limit, and a plan that curtails it and gives it back."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner, miner_device
from tests.home_miner.test_snapshots import test_entities as entities_of
from tests.plan.conftest import (  # noqa: F401
    AddPlan,
    add_plan,
    early_morning,
    fast_commands,
    plan_of,
    settle,
)
from tests.simulator.whatsminer import WhatsminerMiner, WhatsminerV2Miner, WhatsminerV3Miner

ALERT = "input_boolean.grid_alert"
FAST = {"command_delay": 0.05, "restart_seconds": 0.2}
GENERATIONS = pytest.mark.parametrize(
    ("cls", "ip"),
    [(WhatsminerV2Miner, "127.0.42.100"), (WhatsminerV3Miner, "127.0.42.101")],
    ids=["api_v2", "api_v3"],
)


def _entity(hass: HomeAssistant, entry_id: str, domain: str, key: str) -> str:
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry_id):
        if entity.domain == domain and entity.unique_id.endswith(f"_{key}"):
            return entity.entity_id
    raise AssertionError(f"no {domain} {key}")


@pytest.mark.parametrize(
    ("cls", "ip", "kwargs"),
    [
        (WhatsminerV2Miner, "127.0.42.50", {}),
        (WhatsminerV3Miner, "127.0.42.51", {}),
        (WhatsminerV2Miner, "127.0.42.52", {"hostname": "attic", "write_api": False}),
    ],
    ids=["api_v2", "api_v3", "api_v2_read_only"],
)
async def test_entities(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    snapshot: SnapshotAssertion,
    cls: type[WhatsminerMiner],
    ip: str,
    kwargs: dict[str, Any],
) -> None:
    """Measured power, the power limit up to the model's ordinary power, a mining switch,
    restart and a light to find it by; write access off in WhatsMinerTool: readings only."""
    await entities_of(hass, simulate, add_miner, snapshot, cls, ip, kwargs)


@GENERATIONS
async def test_changed_password_asks_for_it(
    hass: HomeAssistant, simulate: SimFactory, loopback: None, cls: type[WhatsminerMiner], ip: str
) -> None:
    miner = await simulate(cls, ip, password="n3w-pass", **FAST)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "host"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_HOST: ip})
    assert result["step_id"] == "credentials"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "admin", CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "admin", CONF_PASSWORD: "n3w-pass"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == miner.mac.lower()
    await hass.async_block_till_done()
    switch = _entity(hass, result["result"].entry_id, "switch", "mining")
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.mining is False


@GENERATIONS
async def test_mining_switch_and_power_limit(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    cls: type[WhatsminerMiner],
    ip: str,
) -> None:
    miner = await simulate(cls, ip, hostname="wm", **FAST)
    miner.boot_time -= 86400
    entry = await add_miner(ip)
    device = miner_device(hass, entry)
    assert device.manufacturer == "MicroBT"
    assert device.sw_version == miner.firmware
    switch = _entity(hass, entry.entry_id, "switch", "mining")
    number = _entity(hass, entry.entry_id, "number", "power_limit")
    power = _entity(hass, entry.entry_id, "sensor", "power")
    boot = hass.states.get(_entity(hass, entry.entry_id, "sensor", "boot_time")).state
    assert float(hass.states.get(power).state) == miner.power_w
    assert hass.states.get(number).attributes["max"] == miner.spec.rated_w

    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.mining is False
    assert hass.states.get(switch).state == STATE_OFF
    # The power board is off, the control board is not: the supply measures its draw.
    assert float(hass.states.get(power).state) == miner.idle_w

    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert miner.mining is True
    assert hass.states.get(switch).state == STATE_ON

    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 2500}, blocking=True
    )
    assert miner.power_limit == 2500
    assert float(hass.states.get(number).state) == 2500
    await entry.runtime_data.async_refresh()
    assert float(hass.states.get(power).state) < 2500
    # btminer restarted to apply the limit: that is no reboot.
    assert hass.states.get(_entity(hass, entry.entry_id, "sensor", "boot_time")).state == boot


@GENERATIONS
async def test_a_plan_stops_it_and_gives_it_back(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
    cls: type[WhatsminerMiner],
    ip: str,
) -> None:
    miner = await simulate(cls, ip, **FAST)
    await add_miner(ip)
    hass.states.async_set(ALERT, "off")
    plan = plan_of(
        await add_plan(
            [{"miner": miner.mac.lower(), "action": "stop"}], dr={"dr_entities": [ALERT]}
        )
    )
    await settle(hass, plan)
    assert miner.mining
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.mining is False, "curtailed with the firmware's own stop"
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert miner.mining is True
    assert miner.hashing


@GENERATIONS
async def test_a_plan_limits_it_and_restores_its_own_limit(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
    cls: type[WhatsminerMiner],
    ip: str,
) -> None:
    miner = await simulate(cls, ip, power_limit=3000, **FAST)
    await add_miner(ip)
    hass.states.async_set(ALERT, "off")
    plan = plan_of(
        await add_plan(
            [{"miner": miner.mac.lower(), "action": "limit_w", "value": 2000}],
            dr={"dr_entities": [ALERT]},
        )
    )
    await settle(hass, plan)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.power_limit == 2000
    assert miner.mining
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert miner.power_limit == 3000


async def test_btminer_restarting_for_a_limit_reads_as_not_mining(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """API v2 goes away while btminer restarts to apply a limit; polls meanwhile see a
    miner that does not hash (and do not fail), then the new limit."""
    miner = await simulate(
        WhatsminerV2Miner, "127.0.42.102", command_delay=0.05, restart_seconds=0.6
    )
    entry = await add_miner(miner.ip)
    coordinator = entry.runtime_data
    number = _entity(hass, entry.entry_id, "number", "power_limit")
    switch = _entity(hass, entry.entry_id, "switch", "mining")
    task = hass.async_create_task(
        hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": 3000}, blocking=True
        )
    )
    seen: list[tuple[bool, str]] = []
    while not task.done():
        await coordinator.async_refresh()
        seen.append((coordinator.last_update_success, hass.states.get(switch).state))
        await asyncio.sleep(0.05)
    await task
    assert all(ok for ok, _ in seen), "no poll fails while btminer restarts"
    assert (True, STATE_OFF) in seen
    assert hass.states.get(switch).state == STATE_ON
    assert float(hass.states.get(number).state) == 3000
    # Unasked, a closed port is a miner gone.
    await miner.power_off()
    await coordinator.async_refresh()
    assert not coordinator.last_update_success


@GENERATIONS
async def test_identify_blinks_then_gives_the_led_back(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    monkeypatch: pytest.MonkeyPatch,
    cls: type[WhatsminerMiner],
    ip: str,
) -> None:
    monkeypatch.setattr(
        "custom_components.home_miner.miner.drivers.whatsminer.IDENTIFY_SECONDS", 0.2
    )
    miner = await simulate(cls, ip, **FAST)
    entry = await add_miner(ip)
    button = _entity(hass, entry.entry_id, "button", "identify")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert miner.led == "manual"
    await entry.runtime_data.async_refresh()
    assert miner.led == "manual"
    await asyncio.sleep(0.3)
    await entry.runtime_data.async_refresh()
    assert miner.led == "auto"


async def test_commands_after_a_reboot_get_a_new_token(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """The firmware forgets its tokens when it reboots; pyasic would keep sending the old
    one for 30 minutes (and be refused): the driver asks for a new one."""
    miner = await simulate(
        WhatsminerV2Miner, "127.0.42.103", hostname="wm", reboot_seconds=0.2, **FAST
    )
    entry = await add_miner(miner.ip)
    switch = _entity(hass, entry.entry_id, "switch", "mining")
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    miner.reboot()
    await asyncio.sleep(0.5)
    assert miner.powered
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert miner.mining is True


@GENERATIONS
async def test_an_error_code_the_miner_reports_is_a_problem_with_its_message(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner, cls: type, ip: str
) -> None:
    """Whatsminer reports faults as codes with a time (`{"329": "2022-01-17 11:28:11"}`):
    the Problem sensor turns on and names them in the words pyasic's code table has."""
    miner = await simulate(cls, ip.replace(".10", ".20"), **FAST)
    entry = await add_miner(miner.ip)
    problem = _entity(hass, entry.entry_id, "binary_sensor", "problem")
    assert hass.states.get(problem).state == STATE_OFF
    miner.error_codes = {"329": "2022-01-17 11:28:11", "99999": "2022-01-17 11:29:00"}
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    state = hass.states.get(problem)
    assert state.state == STATE_ON
    assert entry.runtime_data.data.errors, entry.runtime_data.data
