"""A miner on Braiins OS+ in Home Assistant: login, entities, pause, power target, planned."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_USERNAME,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner, miner_device
from tests.home_miner.test_luxos import entity_table
from tests.plan.conftest import AddPlan, add_plan, plan_of, settle  # noqa: F401
from tests.simulator.braiins import MODELS, BraiinsMiner
from tests.simulator.test_luxos import wait_until

HOST = "127.0.41.2"
DEVICE = "bos_s19"
FAST = {"command_delay": 0.05, "tune_seconds": 0.1, "reboot_seconds": 0.3}
ALERT = "input_boolean.grid_alert"


async def _bos(simulate: SimFactory, **kwargs: Any) -> BraiinsMiner:
    miner: BraiinsMiner = await simulate(
        BraiinsMiner, HOST, hostname="bos-s19", mac="02:00:00:00:41:02", **{**FAST, **kwargs}
    )
    return miner


async def test_added_through_the_flow_with_its_entities(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner, snapshot: SnapshotAssertion
) -> None:
    """With pyasic's default login (root / root) no credentials are asked; power is the
    firmware's estimate, so it is named so, and the limit's bounds are the tuner's."""
    miner = await _bos(simulate)
    entry = await add_miner(HOST)
    assert entry.unique_id == "02:00:00:00:41:02"
    device = miner_device(hass, entry)
    assert (device.manufacturer, device.model, device.hw_version) == (
        "Bitmain",
        "Antminer S19j Pro",
        "BOS+",
    )
    assert device.sw_version == "25.03"
    assert float(hass.states.get(f"sensor.{DEVICE}_hashrate").state) == pytest.approx(104.0)
    assert float(hass.states.get(f"sensor.{DEVICE}_estimated_power").state) == 3068
    number = hass.states.get(f"number.{DEVICE}_power_limit")
    spec = MODELS[miner.model]
    assert (number.attributes["min"], number.attributes["max"]) == (spec.min_w, spec.max_w)
    assert float(number.state) == miner.power_target
    assert entity_table(hass, entry) == snapshot


async def test_a_password_is_asked_for_and_a_change_reauthenticates(
    hass: HomeAssistant, simulate: SimFactory, loopback: None
) -> None:
    miner = await _bos(simulate, password="s3cret")
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
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    # The password changes and the miner reboots (its sessions end): the next poll asks for
    # the new password.
    miner.password = "n3w"
    miner.reboot()
    await asyncio.sleep(0.5)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_pause_and_resume_keep_bosminer_up(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await _bos(simulate)
    miner._bosminer_since -= 86400
    entry = await add_miner(HOST)
    boot = hass.states.get(f"sensor.{DEVICE}_last_boot").state
    switch = f"switch.{DEVICE}_mining"
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.paused
    assert hass.states.get(switch).state == STATE_OFF
    assert float(hass.states.get(f"sensor.{DEVICE}_estimated_power").state) == 0
    assert float(hass.states.get(f"sensor.{DEVICE}_hashrate").state) == 0
    await entry.runtime_data.async_refresh()
    assert hass.states.get(f"sensor.{DEVICE}_last_boot").state == boot
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert not miner.paused
    assert hass.states.get(switch).state == STATE_ON
    assert [c.command for c in miner.commands] == ["PauseMining", "ResumeMining"]


async def test_power_limit_is_the_tuners_power_target(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await _bos(simulate)
    await add_miner(HOST)
    number = f"number.{DEVICE}_power_limit"
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 2200}, blocking=True
    )
    assert miner.power_target == 2200
    assert miner.commands[-1].params == {"watt": 2200, "save_action": 3}
    assert float(hass.states.get(number).state) == 2200
    await asyncio.sleep(0.2)
    assert miner.tuned_target == 2200
    # Outside the tuner's range the number refuses it before anything is sent.
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": 500}, blocking=True
        )
    assert miner.power_target == 2200


async def test_identify_blinks_then_stops(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Braiins' locate mode blinks until it is turned off: a poll within its time leaves it,
    the first one after turns it off."""
    monkeypatch.setattr("custom_components.home_miner.miner.drivers.braiins.IDENTIFY_SECONDS", 1)
    miner = await _bos(simulate)
    entry = await add_miner(HOST)
    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{DEVICE}_blink_fault_light"}, blocking=True
    )
    await entry.runtime_data.async_refresh()
    await asyncio.sleep(0.05)
    assert miner.locate
    await asyncio.sleep(1)
    await entry.runtime_data.async_refresh()
    await asyncio.sleep(0.05)
    assert not miner.locate
    assert [c.params for c in miner.commands] == [{"enable": True}, {"enable": False}]


@pytest.mark.parametrize(
    ("action", "paused"),
    [({"action": "stop"}, True), ({"action": "limit_w", "value": 1500}, False)],
    ids=["stop", "limit"],
)
async def test_a_plan_curtails_and_restores_it(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
    action: dict[str, Any],
    paused: bool,
) -> None:
    """A demand-response event pauses the miner (or holds it to 1500 W); when it ends the
    miner mines again at the power target it had."""
    miner = await _bos(simulate, power_target=2800)
    await add_miner(HOST)
    hass.states.async_set(ALERT, "off")
    plan = plan_of(
        await add_plan([{"miner": miner.mac.lower(), **action}], dr={"dr_entities": [ALERT]})
    )
    await settle(hass, plan)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.paused is paused
    if not paused:
        assert miner.power_target == 1500
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not miner.paused
    assert miner.power_target == 2800


async def test_the_braiins_mini_miner(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """The BMM 101, a home miner of Braiins' own: one board, one fan, a 15-45 W target."""
    miner: BraiinsMiner = await simulate(
        BraiinsMiner, "127.0.41.3", model="Braiins Mini Miner BMM 101", hostname="bmm", **FAST
    )
    entry = await add_miner(miner.ip)
    device = miner_device(hass, entry)
    assert (device.manufacturer, device.model) == ("Braiins", "Braiins BMM101")
    number = hass.states.get("number.bmm_power_limit")
    assert (number.attributes["min"], number.attributes["max"]) == (15, 45)
    assert float(hass.states.get("sensor.bmm_estimated_power").state) == 40
    assert hass.states.get("sensor.bmm_hashrate").attributes["unit_of_measurement"] == "TH/s"
    assert hass.states.get("sensor.bmm_fan_1_speed") is not None
    assert hass.states.get("sensor.bmm_fan_2_speed") is None
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.bmm_power_limit", "value": 20}, blocking=True
    )
    assert miner.power_target == 20


async def test_unplugged_is_unavailable_then_back(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await _bos(simulate)
    entry = await add_miner(HOST)
    await miner.power_off()
    await entry.runtime_data.async_refresh()
    assert hass.states.get(f"sensor.{DEVICE}_hashrate").state == STATE_UNAVAILABLE
    assert hass.states.get(f"switch.{DEVICE}_mining").state == STATE_UNAVAILABLE
    await miner.power_on()
    await entry.runtime_data.async_refresh()
    assert float(hass.states.get(f"sensor.{DEVICE}_hashrate").state) > 100


async def test_a_target_the_firmware_refuses_says_why(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """The tuner's range moved since setup (a firmware update): the miner's own reason for
    refusing reaches the user, and nothing changes."""
    miner = await _bos(simulate)
    await add_miner(HOST)
    miner.spec = replace(miner.spec, max_w=3000)
    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": f"number.{DEVICE}_power_limit", "value": 3400},
            blocking=True,
        )
    assert refused.value.translation_key == "command_failed"
    assert "out of range" in refused.value.translation_placeholders["error"]
    assert miner.power_target == 3068


async def test_restart_reboots_and_a_gone_miner_is_unreachable(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """A reboot ends the miner's sessions (pyasic logs in again) and its pause; a control
    sent to a miner that is gone says it could not reach it."""
    miner = await _bos(simulate)
    entry = await add_miner(HOST)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{DEVICE}_mining"}, blocking=True
    )
    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{DEVICE}_restart"}, blocking=True
    )
    await wait_until(lambda: not miner.powered)
    await wait_until(lambda: miner.powered)
    await entry.runtime_data.async_refresh()
    assert entry.runtime_data.last_update_success
    assert hass.states.get(f"switch.{DEVICE}_mining").state == STATE_ON

    await miner.power_off()
    with pytest.raises(HomeAssistantError) as gone:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": f"switch.{DEVICE}_mining"}, blocking=True
        )
    assert gone.value.translation_key == "command_unreachable"
