"""A Bitaxe in Home Assistant: set up, read, controlled, and read back from the device."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pyasic
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.home_miner.config_flow import CONF_MINER, CONF_SUBNET
from custom_components.home_miner.const import DOMAIN
from custom_components.home_miner.miner import MinerCommandError
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner, miner_device
from tests.plan.conftest import AddPlan, add_plan, plan_of, poll, settle  # noqa: F401
from tests.simulator.esp_miner import BitaxeMiner


async def test_bitaxe_entities_and_mining_switch(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    entry = await add_miner(bitaxe.ip)
    registry = er.async_get(hass)
    entities = {e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    assert "switch.bitaxe_gamma_mining" in entities, sorted(entities)

    hashrate = hass.states.get("sensor.bitaxe_gamma_hashrate")
    assert hashrate is not None
    assert hashrate.attributes["unit_of_measurement"] == "GH/s"
    assert float(hashrate.state) > 500

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.bitaxe_gamma_mining"}, blocking=True
    )
    assert bitaxe.paused
    assert hass.states.get("switch.bitaxe_gamma_mining").state == STATE_OFF
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.bitaxe_gamma_mining"}, blocking=True
    )
    assert not bitaxe.paused
    assert hass.states.get("switch.bitaxe_gamma_mining").state == STATE_ON


async def test_power_limit_sets_frequency(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    await add_miner(bitaxe.ip)
    number = hass.states.get("number.bitaxe_gamma_power_limit")
    assert number is not None
    low, high = number.attributes["min"], number.attributes["max"]
    assert low < float(number.state) <= high
    before = bitaxe.frequency
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.bitaxe_gamma_power_limit", "value": low},
        blocking=True,
    )
    assert bitaxe.frequency < before
    assert float(hass.states.get("number.bitaxe_gamma_power_limit").state) <= low + 1
    assert bitaxe.power_w < 0.9 * high


async def test_miner_off_is_unavailable_then_recovers(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, freezer: FrozenDateTimeFactory
) -> None:
    await add_miner(bitaxe.ip)
    assert hass.states.get("sensor.bitaxe_gamma_power").state not in (STATE_UNAVAILABLE, "0", "0.0")
    await bitaxe.power_off()
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    for entity in (
        "sensor.bitaxe_gamma_power",
        "sensor.bitaxe_gamma_hashrate",
        "switch.bitaxe_gamma_mining",
    ):
        assert hass.states.get(entity).state == STATE_UNAVAILABLE, entity
    await bitaxe.power_on()
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert float(hass.states.get("sensor.bitaxe_gamma_power").state) > 5
    assert hass.states.get("switch.bitaxe_gamma_mining").state == STATE_ON


async def test_steady_states_are_not_rewritten_measurements_are(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, freezer: FrozenDateTimeFactory
) -> None:
    await add_miner(bitaxe.ip)
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    # (Home Assistant updates last_reported of the State object in place.)
    before = {e: hass.states.get(e).last_reported for e in hass.states.async_entity_ids()}
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    def reported(entity_id: str) -> bool:
        return hass.states.get(entity_id).last_reported > before[entity_id]

    # A measurement is reported on every poll, even when its value stays the same.
    assert reported("sensor.bitaxe_gamma_power")
    assert reported("sensor.bitaxe_gamma_fan_1_speed")
    # A state that did not change is not written again.
    for entity_id in (
        "switch.bitaxe_gamma_mining",
        "binary_sensor.bitaxe_gamma_problem",
        "number.bitaxe_gamma_power_limit",
        "sensor.bitaxe_gamma_pool",
    ):
        assert not reported(entity_id), entity_id
    # ...and is written as soon as it changes.
    bitaxe.paused = True
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("switch.bitaxe_gamma_mining").state == STATE_OFF


async def test_energy_integrates_power_and_survives_restart(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, freezer: FrozenDateTimeFactory
) -> None:
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.bitaxe_gamma_energy", "1.5"),
                {"native_value": 1.5, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    entry = await add_miner(bitaxe.ip)
    energy = hass.states.get("sensor.bitaxe_gamma_energy")
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["device_class"] == "energy"
    assert float(energy.state) == 1.5
    power = float(hass.states.get("sensor.bitaxe_gamma_power").state)
    freezer.tick(timedelta(hours=1))
    await entry.runtime_data.async_refresh()
    added = float(hass.states.get("sensor.bitaxe_gamma_energy").state) - 1.5
    assert added == pytest.approx(power / 1000, rel=0.05)


async def test_paused_at_setup_still_offers_power_limit(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(BitaxeMiner, "127.0.5.30", hostname="sleepy")
    miner.paused = True
    await add_miner(miner.ip)
    number = hass.states.get("number.sleepy_power_limit")
    assert number is not None
    assert 5 < number.attributes["min"] < number.attributes["max"] < 40
    assert hass.states.get("binary_sensor.sleepy_mining").state == STATE_OFF


async def test_identify_says_hi_on_the_screen(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    """ESP-Miner's identify shows "Hi!" on the screen for 30 s: the button says so, and its
    state (its last press) shows that it was pressed."""
    await add_miner(bitaxe.ip)
    button = "button.bitaxe_gamma_say_hi_on_screen"
    state = hass.states.get(button)
    assert state.attributes["friendly_name"] == "bitaxe-gamma Say “Hi!” on screen"
    assert state.attributes["device_class"] == "identify"
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert bitaxe.status()["identifying"]
    assert hass.states.get(button).state not in (STATE_UNAVAILABLE, "unknown")


# ---- NerdQAxe++ (shufps/ESP-Miner-NerdQAxePlus) ------------------------------------------
NERD = "127.0.45.2"
ALERT = "input_boolean.grid_alert"


async def _nerd(simulate: SimFactory, ip: str = NERD, **kwargs: Any) -> BitaxeMiner:
    miner: BitaxeMiner = await simulate(
        BitaxeMiner,
        ip,
        model="NerdQAxe++",
        hostname="nerd-1",
        command_delay=0.05,
        reboot_seconds=0.3,
        **kwargs,
    )
    miner.boot_time -= 3600  # up for an hour: a reboot moves its last boot visibly
    return miner


def _entities(hass: HomeAssistant, entry_id: str) -> set[str]:
    return {e.entity_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry_id)}


def _last_boot(hass: HomeAssistant) -> datetime:
    return datetime.fromisoformat(hass.states.get("sensor.nerd_1_last_boot").state)


async def test_nerdqaxe_added_through_the_flow_with_its_entities(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner, snapshot: SnapshotAssertion
) -> None:
    """pyasic's detection does not know the fork; it is added by address and read and driven
    as the firmware allows: shutdown, a live power limit, its fan modes and PID target."""
    miner = await _nerd(simulate, mac="24:58:7C:45:00:02")
    assert await pyasic.get_miner(miner.ip) is None
    entry = await add_miner(miner.ip)
    assert entry.title == "nerd-1"
    assert entry.data["miner_class"] == "pyasic.miners.backends.bitaxe:BitAxe"
    device = miner_device(hass, entry)
    assert (device.manufacturer, device.model, device.sw_version) == (
        "NerdAxe",
        "NerdQAxe++",
        "v1.0.36",
    )
    assert float(hass.states.get("sensor.nerd_1_hashrate").state) == pytest.approx(
        miner.hashrate_ghs, rel=0.05
    )
    registry = er.async_get(hass)
    described = []
    for entity in sorted(
        er.async_entries_for_config_entry(registry, entry.entry_id),
        key=lambda e: (e.domain, e.unique_id),
    ):
        state = hass.states.get(entity.entity_id)
        assert state is not None
        moving = entity.unique_id.endswith(("_boot_time", "_energy"))
        described.append(
            {
                "entity_id": entity.entity_id,
                "translation_key": entity.translation_key,
                "unit": entity.unit_of_measurement,
                "category": entity.entity_category,
                "state": None if moving else state.state,
                "attributes": {
                    str(k): v for k, v in state.attributes.items() if k != "friendly_name"
                },
            }
        )
    assert described == snapshot
    # At the next start its class is known: no detection, same device.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert float(hass.states.get("sensor.nerd_1_hashrate").state) > 0


@pytest.mark.parametrize(
    ("firmware", "otp", "switch", "power_limit", "fan"),
    [
        # Before 1.0.29 a new frequency waited for the next boot, and its fan had no PID
        # target (`autofanspeed` a JSON boolean): no fan controls. Shutdown came in 1.0.36.
        ("v1.0.28", False, False, False, False),
        ("v1.0.35", False, False, True, True),
        ("v1.0.36", False, True, True, True),
        # One-time passwords on: every PATCH needs a code a person types.
        ("v1.0.36", True, True, False, False),
    ],
)
async def test_nerdqaxe_controls_follow_its_release(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    firmware: str,
    otp: bool,
    switch: bool,
    power_limit: bool,
    fan: bool,
) -> None:
    miner = await _nerd(simulate, firmware=firmware, otp=otp)
    entities = _entities(hass, (await add_miner(miner.ip)).entry_id)
    assert ("switch.nerd_1_mining" in entities) is switch
    assert ("number.nerd_1_power_limit" in entities) is power_limit
    for entity_id in (
        "select.nerd_1_fan_mode",
        "number.nerd_1_manual_fan_speed",
        "number.nerd_1_target_temperature",
    ):
        assert (entity_id in entities) is fan, entity_id
    assert "button.nerd_1_restart" in entities


async def test_nerdqaxe_switch_off_shuts_down_on_restarts(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """Off is the firmware's shutdown (ASICs off, the miner stays reachable); on is the only
    way out of it, a restart: the miner's last boot moves."""
    miner = await _nerd(simulate)
    await add_miner(miner.ip)
    booted = _last_boot(hass)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.nerd_1_mining"}, blocking=True
    )
    assert miner.paused
    assert [c.command for c in miner.commands] == ["shutdown"]
    assert hass.states.get("switch.nerd_1_mining").state == STATE_OFF
    assert float(hass.states.get("sensor.nerd_1_power").state) == 0
    assert float(hass.states.get("sensor.nerd_1_hashrate").state) == 0
    assert _last_boot(hass) == booted

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.nerd_1_mining"}, blocking=True
    )
    assert not miner.paused
    assert [c.command for c in miner.commands] == ["shutdown", "restart"]
    assert hass.states.get("switch.nerd_1_mining").state == STATE_ON
    assert _last_boot(hass) - booted > timedelta(minutes=50)

    # Mining already, "on" does not reboot it.
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.nerd_1_mining"}, blocking=True
    )
    assert [c.command for c in miner.commands] == ["shutdown", "restart"]


async def test_nerdqaxe_power_limit_applies_live(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await _nerd(simulate)
    await add_miner(miner.ip)
    number = hass.states.get("number.nerd_1_power_limit")
    low = number.attributes["min"]
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.nerd_1_power_limit", "value": low}, True
    )
    # handler_system.cpp takes `frequency` as an integer (is<uint16_t>), one of /api/system/asic's.
    assert miner.commands[-1].params == {"frequency": 500}
    assert miner.frequency == 500
    assert float(hass.states.get("number.nerd_1_power_limit").state) <= low + 1


@pytest.mark.parametrize(
    ("firmware", "speed_key"), [("v1.0.36", "manualFanSpeed"), ("v1.0.33", "fanspeed")]
)
async def test_nerdqaxe_fan_round_trips(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner, firmware: str, speed_key: str
) -> None:
    """The fork's keys (handler_system.cpp PATCH_update_settings): `autofanspeed` 2 (PID) or
    0 (manual), the manual speed (`fanspeed` until 1.0.35), `pidTargetTemp`; each read back
    from /api/system/info."""
    miner = await _nerd(simulate, firmware=firmware)
    await add_miner(miner.ip)
    assert hass.states.get("select.nerd_1_fan_mode").state == "manual"  # its factory setting
    assert float(hass.states.get("number.nerd_1_manual_fan_speed").state) == 100
    target = hass.states.get("number.nerd_1_target_temperature")
    assert (target.attributes["min"], target.attributes["max"], float(target.state)) == (30, 80, 55)

    await hass.services.async_call(
        "select", "select_option", {"entity_id": "select.nerd_1_fan_mode", "option": "auto"}, True
    )
    assert miner.commands[-1].params == {"autofanspeed": 2}
    assert miner.fan_mode == "auto"
    assert hass.states.get("select.nerd_1_fan_mode").state == "auto"

    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.nerd_1_target_temperature", "value": 62},
        blocking=True,
    )
    assert miner.commands[-1].params == {"autofanspeed": 2, "pidTargetTemp": 62}
    assert miner.nvs.pidTargetTemp == 62
    assert float(hass.states.get("number.nerd_1_target_temperature").state) == 62

    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.nerd_1_manual_fan_speed", "value": 45},
        blocking=True,
    )
    assert miner.commands[-1].params == {"autofanspeed": 0, speed_key: 45}
    assert (miner.fan_mode, miner.fan_percent) == ("manual", 45)
    assert hass.states.get("select.nerd_1_fan_mode").state == "manual"
    assert float(hass.states.get("number.nerd_1_manual_fan_speed").state) == 45
    assert float(hass.states.get("sensor.nerd_1_fan_1_speed").state) == 45 * 4500 // 100


async def test_a_plan_curtails_and_restores_the_nerdqaxe(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
) -> None:
    """A demand-response event shuts the NerdQAxe++ down; a reboot of its own in the window
    (the shutdown lives in RAM) is seen and it is shut down again; at the end the plan's own
    restart brings it back, and that reboot is no person's doing."""
    miner = await _nerd(simulate)
    await add_miner(miner.ip)
    hass.states.async_set(ALERT, "off")
    plan = plan_of(
        await add_plan(
            [{"miner": miner.mac.lower(), "action": "stop"}], dr={"dr_entities": [ALERT]}
        )
    )
    await settle(hass, plan)
    booted = _last_boot(hass)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.paused
    assert [c.command for c in miner.commands] == ["shutdown"]

    await poll(hass, miner)
    miner.reboot()
    await asyncio.sleep(0.5)
    assert miner.mining, "the reboot ended the shutdown"
    await poll(hass, miner, 2)
    await settle(hass, plan)
    assert miner.paused, "seen mining after a reboot: shut down again"
    assert [c.command for c in miner.commands] == ["shutdown", "shutdown"]
    assert plan.data.overridden == set()

    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert miner.mining
    assert [c.command for c in miner.commands] == ["shutdown", "shutdown", "restart"]
    await poll(hass, miner, 2)
    await settle(hass, plan)
    assert plan.data.overridden == set()
    assert plan.memory.user_stopped == set()
    assert hass.states.get("switch.nerd_1_mining").state == STATE_ON
    assert _last_boot(hass) - booted > timedelta(minutes=50)
    assert [c.command for c in miner.commands] == ["shutdown", "shutdown", "restart"]


# ---- the network scan ----------------------------------------------------------------------
@pytest.fixture
def short_timeouts() -> Iterator[None]:
    keys = ("factory_get_timeout", "network_ping_timeout")
    saved = {key: pyasic.settings.get(key) for key in keys}
    for key in keys:
        pyasic.settings.update(key, 1)
    yield
    for key, value in saved.items():
        pyasic.settings.update(key, value)


async def _scan(hass: HomeAssistant, subnet: str) -> Any:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "scan"}
    )
    return await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SUBNET: subnet})


async def test_the_scan_finds_the_nerdqaxe(
    hass: HomeAssistant, simulate: SimFactory, short_timeouts: None
) -> None:
    """pyasic's scan misses the fork (its page has no "AxeOS"); every address that answers
    is asked for AxeOS's system info too, within the time pyasic's scan takes. A host that
    accepts connections and never answers holds neither up for longer."""
    gamma = await simulate(BitaxeMiner, "127.0.45.10", hostname="gamma")
    nerd = await _nerd(simulate, "127.0.45.11")
    silent = await simulate(BitaxeMiner, "127.0.45.12", hostname="silent")
    silent.faults.timeout = True
    assert [
        str(m.ip) for m in await pyasic.network.MinerNetwork.from_subnet("127.0.45.8/29").scan()
    ] == [gamma.ip]
    started = time.monotonic()
    result = await _scan(hass, "127.0.45.8/29")
    # pyasic's own budget: a second to connect, a second to detect (and its slack).
    assert time.monotonic() - started < 3.5
    assert result["step_id"] == "pick"
    options = result["data_schema"].schema[CONF_MINER].config["options"]
    assert [o["value"] for o in options] == [gamma.ip, nerd.ip]
    assert options[1]["label"] == f"NerdQAxe++ — nerd-1 ({nerd.ip})"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MINER: nerd.ip}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == nerd.mac.lower()


async def test_a_known_nerdqaxe_is_not_offered_again(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    nerd = await _nerd(simulate, "127.0.45.20")
    await add_miner(nerd.ip)
    result = await _scan(hass, "127.0.45.20/32")
    assert result["errors"] == {"base": "no_miners_found"}


# ---- ESP-Miner's fan ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("firmware", "speed_key", "target"),
    [
        # main/nvs_config.c (v2.11+): rest names `autofanspeed`, `manualFanSpeed` (0-100),
        # `temptarget` (35-66); http_server.c before v2.11: `fanspeed`; `temptarget` from v2.7.
        ("v2.14.0", "manualFanSpeed", True),
        ("v2.9.0", "fanspeed", True),
        ("v2.6.0", "fanspeed", False),
    ],
)
async def test_fan_round_trips(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    firmware: str,
    speed_key: str,
    target: bool,
) -> None:
    miner = await simulate(
        BitaxeMiner, "127.0.45.30", hostname="axe", firmware=firmware, command_delay=0.05
    )
    entry = await add_miner(miner.ip)
    assert ("number.axe_target_temperature" in _entities(hass, entry.entry_id)) is target
    assert hass.states.get("select.axe_fan_mode").state == "auto"
    speed = hass.states.get("number.axe_manual_fan_speed")
    assert (speed.attributes["min"], speed.attributes["max"]) == (0, 100)
    # Before 2.11 the manual speed is not reported while the fan runs automatically.
    assert speed.state == ("100" if speed_key == "manualFanSpeed" else STATE_UNKNOWN)

    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.axe_manual_fan_speed", "value": 40}, True
    )
    assert miner.commands[-1].params == {"autofanspeed": 0, speed_key: 40}
    assert (miner.fan_mode, miner.fan_percent) == ("manual", 40)
    assert hass.states.get("select.axe_fan_mode").state == "manual"
    assert float(hass.states.get("number.axe_manual_fan_speed").state) == 40

    if target:
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.axe_target_temperature", "value": 50},
            blocking=True,
        )
        assert miner.commands[-1].params == {"autofanspeed": 1, "temptarget": 50}
        assert (miner.fan_mode, miner.nvs.temptarget) == ("auto", 50)
        assert float(hass.states.get("number.axe_target_temperature").state) == 50
    await hass.services.async_call(
        "select", "select_option", {"entity_id": "select.axe_fan_mode", "option": "manual"}, True
    )
    assert miner.commands[-1].params == {"autofanspeed": 0}
    assert hass.states.get("select.axe_fan_mode").state == "manual"
    await hass.services.async_call(
        "select", "select_option", {"entity_id": "select.axe_fan_mode", "option": "auto"}, True
    )
    assert miner.commands[-1].params == {"autofanspeed": 1}
    assert miner.fan_mode == "auto"


async def test_a_fan_setting_the_miner_does_not_apply_is_an_error(
    hass: HomeAssistant,
    bitaxe: BitaxeMiner,
    add_miner: AddMiner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_TIMEOUT", 0.5)
    await add_miner(bitaxe.ip)
    bitaxe.faults.ignore_commands = True
    with pytest.raises(HomeAssistantError, match="acknowledged but did not apply"):
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.bitaxe_gamma_target_temperature", "value": 55},
            blocking=True,
        )
    assert bitaxe.nvs.temptarget == 60


async def test_fan_settings_outside_the_models_bounds_are_refused(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    """Home Assistant's number bounds stop a person; the miner layer stops any other caller."""
    client = (await add_miner(bitaxe.ip)).runtime_data.client
    with pytest.raises(MinerCommandError, match="outside 0-100"):
        await client.async_set_manual_fan_speed(101)
    with pytest.raises(MinerCommandError, match="outside 35-66"):
        await client.async_set_target_temperature(70)
    with pytest.raises(MinerCommandError, match="unknown mode"):
        await client.async_set_fan_mode("turbo")
    assert bitaxe.commands == []
