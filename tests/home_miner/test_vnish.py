"""An Antminer on VNish in Home Assistant: login, entities, stop/start, the autotune
presets as its power limit, and a plan that curtails it and gives it back."""

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
from tests.simulator.vnish import VNishMiner

ALERT = "input_boolean.grid_alert"
FAST = {"command_delay": 0.05, "restart_seconds": 0.2}


def _entity(hass: HomeAssistant, entry_id: str, domain: str, key: str) -> str | None:
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry_id):
        if entity.domain == domain and entity.unique_id.endswith(f"_{key}"):
            return entity.entity_id
    return None


@pytest.mark.parametrize(
    ("ip", "kwargs"),
    [
        ("127.0.43.50", {"hostname": "s19-vnish"}),
        ("127.0.43.51", {"hostname": "untuned", "tuned": (), "preset": "disabled"}),
    ],
    ids=["tuned_presets", "no_tuned_preset"],
)
async def test_entities(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    snapshot: SnapshotAssertion,
    ip: str,
    kwargs: dict[str, Any],
) -> None:
    """Power as the firmware reports it, a power limit over the tuned presets (none before
    autotune has tuned one), a mining switch, restart and the locate light."""
    await entities_of(hass, simulate, add_miner, snapshot, VNishMiner, ip, kwargs)


async def test_changed_password_asks_for_it(
    hass: HomeAssistant, simulate: SimFactory, loopback: None
) -> None:
    miner = await simulate(VNishMiner, "127.0.43.100", password="n3w-pass", **FAST)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "host"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: miner.ip}
    )
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


async def test_mining_switch_and_presets(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(VNishMiner, "127.0.43.101", hostname="s19", **FAST)
    entry = await add_miner(miner.ip)
    device = miner_device(hass, entry)
    assert (device.manufacturer, device.sw_version) == ("Bitmain", "1.2.7")
    switch, number = "switch.s19_mining", "number.s19_power_limit"
    assert hass.states.get(number).attributes["min"] == 1900
    assert hass.states.get(number).attributes["max"] == 2950
    assert float(hass.states.get("sensor.s19_power").state) == 2950
    # What a plan's budget may choose among: the tuned presets.
    levels = entry.runtime_data.client.power_levels
    assert levels[0] == 1900
    assert levels[-1] == 2950
    assert "2350" in {str(w) for w in levels}

    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.state == "stopped"
    assert hass.states.get(switch).state == STATE_OFF
    assert float(hass.states.get("sensor.s19_power").state) == miner.idle_w
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert miner.state in ("initializing", "mining")
    assert hass.states.get(switch).state == STATE_ON

    # The highest tuned preset at or below the watts asked.
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 2500}, blocking=True
    )
    assert miner.preset == "2350"
    assert float(hass.states.get(number).state) == 2350
    await asyncio.sleep(0.3)
    await entry.runtime_data.async_refresh()
    assert float(hass.states.get("sensor.s19_power").state) == 2350


async def test_resume_after_a_pause_from_its_own_ui(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(VNishMiner, "127.0.43.102", hostname="s19", **FAST)
    await add_miner(miner.ip)
    miner.state = "paused"
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.s19_mining"}, blocking=True
    )
    assert miner.state == "mining"
    assert miner.commands[-1].command == "mining/resume"


async def test_identify_lights_then_turns_off(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("custom_components.home_miner.miner.drivers.vnish.IDENTIFY_SECONDS", 0.2)
    miner = await simulate(VNishMiner, "127.0.43.103", hostname="s19", **FAST)
    entry = await add_miner(miner.ip)
    button = _entity(hass, entry.entry_id, "button", "identify")
    assert button is not None
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    await asyncio.sleep(0.05)
    assert miner.find_miner is True
    # Pressed again while lit: it stays lit (the firmware's command toggles).
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    await asyncio.sleep(0.05)
    assert miner.find_miner is True
    await asyncio.sleep(0.3)
    await entry.runtime_data.async_refresh()
    await asyncio.sleep(0.05)
    assert miner.find_miner is False


async def test_a_plan_stops_it_and_gives_it_back(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
) -> None:
    miner = await simulate(VNishMiner, "127.0.43.104", **FAST)
    await add_miner(miner.ip)
    hass.states.async_set(ALERT, "off")
    plan = plan_of(
        await add_plan(
            [{"miner": miner.mac.lower(), "action": "stop"}], dr={"dr_entities": [ALERT]}
        )
    )
    await settle(hass, plan)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.state == "stopped"
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert miner.state in ("initializing", "mining")


async def test_a_plan_limits_it_to_a_preset_and_restores_its_own(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
) -> None:
    miner = await simulate(VNishMiner, "127.0.43.105", preset="2620", **FAST)
    await add_miner(miner.ip)
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
    assert miner.preset == "1900"
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert miner.preset == "2620"
