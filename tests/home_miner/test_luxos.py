"""An Antminer on LuxOS in Home Assistant: added, read, curtailed, limited by profile, planned."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from pyasic.rpc.luxminer import LUXMinerRPCAPI
import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner, miner_device
from tests.plan.conftest import AddPlan, add_plan, plan_of, settle  # noqa: F401
from tests.simulator.luxos import MODELS, LuxOSMiner, build_profiles
from tests.simulator.test_luxos import wait_until

HOST = "127.0.40.2"
DEVICE = "lux_s19"
FAST = {"command_delay": 0.05, "ramp_seconds": 0.2, "reboot_seconds": 0.3}
ALERT = "input_boolean.grid_alert"
# Values that move with the clock rather than with the miner's state.
VOLATILE = ("_boot_time", "_energy")


def entity_table(hass: HomeAssistant, entry: ConfigEntry) -> list[dict[str, Any]]:
    """Every entity of an entry as the user gets it: registry entry and state."""
    registry = er.async_get(hass)
    rows = []
    for entity in sorted(
        er.async_entries_for_config_entry(registry, entry.entry_id),
        key=lambda e: (e.domain, e.unique_id),
    ):
        state = hass.states.get(entity.entity_id)
        rows.append(
            {
                "entity_id": entity.entity_id,
                "translation_key": entity.translation_key,
                "device_class": entity.device_class or entity.original_device_class,
                "unit": entity.unit_of_measurement,
                "category": entity.entity_category,
                "disabled": entity.disabled_by,
                "state": None
                if state is None or entity.unique_id.endswith(VOLATILE)
                else state.state,
                "attributes": None
                if state is None
                else {str(k): v for k, v in state.attributes.items() if k != "friendly_name"},
            }
        )
    return rows


async def _lux(simulate: SimFactory, **kwargs: Any) -> LuxOSMiner:
    miner: LuxOSMiner = await simulate(
        LuxOSMiner, HOST, hostname="lux-s19", mac="02:00:00:00:40:02", **{**FAST, **kwargs}
    )
    return miner


async def test_added_through_the_flow_with_its_entities(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner, snapshot: SnapshotAssertion
) -> None:
    """LuxOS asks no login; the device is the Antminer with its LuxOS version, its MAC read
    from `config` (pyasic 0.79 drops it), its power measured and its limit in profiles."""
    miner = await _lux(simulate)
    entry = await add_miner(HOST)
    assert entry.unique_id == "02:00:00:00:40:02"
    device = miner_device(hass, entry)
    assert (device.manufacturer, device.model, device.hw_version) == (
        "Bitmain",
        "Antminer S19j Pro",
        "LuxOS",
    )
    assert device.sw_version == miner.firmware
    assert float(hass.states.get(f"sensor.{DEVICE}_hashrate").state) == pytest.approx(104.0)
    assert float(hass.states.get(f"sensor.{DEVICE}_power").state) == miner.active_profile.watts
    assert entity_table(hass, entry) == snapshot


async def test_curtail_sleeps_and_wakes_without_a_reboot(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """The switch is LuxOS's curtailment: the boards and the power supply go off, LUXminer
    stays up (its last boot stays), and each control drops the session it opened."""
    miner = await _lux(simulate)
    miner.boot_time -= 86400
    entry = await add_miner(HOST)
    boot = hass.states.get(f"sensor.{DEVICE}_last_boot").state
    switch = f"switch.{DEVICE}_mining"
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.curtailed
    assert hass.states.get(switch).state == STATE_OFF
    assert float(hass.states.get(f"sensor.{DEVICE}_power").state) == miner.idle_w
    assert float(hass.states.get(f"sensor.{DEVICE}_hashrate").state) == 0
    await entry.runtime_data.async_refresh()
    assert hass.states.get(f"sensor.{DEVICE}_last_boot").state == boot
    assert [c.command for c in miner.commands] == ["logon", "curtail", "logoff"]
    assert miner.commands[1].params == {"action": "sleep"}
    assert miner.status()["session"] is False

    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert not miner.curtailed
    assert hass.states.get(switch).state == STATE_ON
    assert miner.commands[-2].params == {"action": "wakeup"}
    assert hass.states.get(f"sensor.{DEVICE}_last_boot").state == boot


async def test_power_limit_chooses_the_profile_that_fits(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """Bounds are the lowest and highest profile; a wattage selects the highest profile at or
    under it, and the number reads back that profile's watts."""
    miner = await _lux(simulate)
    entry = await add_miner(HOST)
    number = f"number.{DEVICE}_power_limit"
    profiles = build_profiles(MODELS["Antminer S19j Pro"])
    # What a plan's budget may choose among: the profiles.
    assert entry.runtime_data.client.power_levels == tuple(sorted({p.watts for p in profiles}))
    state = hass.states.get(number)
    assert (state.attributes["min"], state.attributes["max"]) == (
        profiles[0].watts,
        profiles[-1].watts,
    )
    assert float(state.state) == miner.active_profile.watts
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 2000}, blocking=True
    )
    fitting = max((p for p in profiles if p.watts <= 2000), key=lambda p: p.watts)
    assert miner.profile == fitting.name
    assert float(hass.states.get(number).state) == fitting.watts
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": profiles[0].watts}, blocking=True
    )
    assert miner.profile == profiles[0].name


async def test_power_limit_pauses_atm_around_the_change(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await _lux(simulate, atm=True)
    await add_miner(HOST)
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": f"number.{DEVICE}_power_limit", "value": 2500},
        blocking=True,
    )
    assert miner.profile != "default"
    assert miner.atm is True
    sent = [(c.command, c.params) for c in miner.commands]
    assert sent == [
        ("logon", {}),
        ("atmset", {"enabled": "false"}),
        ("profileset", {"profile": miner.profile}),
        ("atmset", {"enabled": "true"}),
        ("logoff", {}),
    ]


async def test_a_session_someone_else_holds_is_used_and_left(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """Only one LUXminer session exists at a time; one the person's own tool holds is used,
    as pyasic does, and not dropped under them."""
    miner = await _lux(simulate)
    await add_miner(HOST)
    answer = await LUXMinerRPCAPI(HOST).logon()  # the person's own tool, over the same API
    held = answer["SESSION"][0]["SessionID"]
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{DEVICE}_mining"}, blocking=True
    )
    assert miner.curtailed
    assert miner.session_id == held
    assert "logoff" not in [c.command for c in miner.commands]


async def test_identify_blinks_then_stops_and_reboot_keeps_the_curtailment(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The red LED blinks until told otherwise, so it is turned off after a while; a sleeping
    LuxOS stays asleep across a reboot (the firmware persists its curtailment)."""
    monkeypatch.setattr("custom_components.home_miner.miner.drivers.luxos.IDENTIFY_SECONDS", 1)
    miner = await _lux(simulate)
    entry = await add_miner(HOST)
    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{DEVICE}_blink_fault_light"}, blocking=True
    )
    await entry.runtime_data.async_refresh()
    assert miner.red_led == "blink"
    await asyncio.sleep(1)
    await entry.runtime_data.async_refresh()
    assert miner.red_led == "off"

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
    assert miner.curtailed
    assert hass.states.get(f"switch.{DEVICE}_mining").state == STATE_OFF


@pytest.mark.parametrize(
    ("action", "curtailed"),
    [({"action": "stop"}, True), ({"action": "limit_w", "value": 1500}, False)],
    ids=["stop", "limit"],
)
async def test_a_plan_curtails_and_restores_it(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
    action: dict[str, Any],
    curtailed: bool,
) -> None:
    """A demand-response event sleeps the miner (or limits it to a profile under 1500 W);
    when it ends the miner mines again at the profile it had."""
    miner = await _lux(simulate, profile="570MHz")
    await add_miner(HOST)
    hass.states.async_set(ALERT, "off")
    plan = plan_of(
        await add_plan([{"miner": miner.mac.lower(), **action}], dr={"dr_entities": [ALERT]})
    )
    await settle(hass, plan)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    assert miner.curtailed is curtailed
    if not curtailed:
        assert miner.active_profile.watts <= 1500
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not miner.curtailed
    assert miner.profile == "570MHz"


async def test_unplugged_is_unavailable_then_back(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await _lux(simulate)
    entry = await add_miner(HOST)
    await miner.power_off()
    await entry.runtime_data.async_refresh()
    assert hass.states.get(f"sensor.{DEVICE}_hashrate").state == STATE_UNAVAILABLE
    assert hass.states.get(f"switch.{DEVICE}_mining").state == STATE_UNAVAILABLE
    await miner.power_on()
    await entry.runtime_data.async_refresh()
    # Booting, its boards ramp up to the profile.
    assert 0 < float(hass.states.get(f"sensor.{DEVICE}_hashrate").state) < 104


async def test_garbled_answers_are_unavailable_and_refusals_say_why(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await _lux(simulate)
    entry = await add_miner(HOST)
    miner.faults.malformed = True
    await entry.runtime_data.async_refresh()
    assert hass.states.get(f"sensor.{DEVICE}_power").state == STATE_UNAVAILABLE
    miner.faults.malformed = False
    await entry.runtime_data.async_refresh()
    # The session lapses before the command arrives (a stalled network, a slow miner): the
    # firmware's refusal is shown, and nothing is left behind.
    miner.session_seconds = 0
    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": f"switch.{DEVICE}_mining"}, blocking=True
        )
    assert refused.value.translation_key == "command_failed"
    assert refused.value.translation_placeholders["error"] == "Invalid session id"
    assert not miner.curtailed


async def test_a_control_to_a_gone_miner_says_it_is_unreachable(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await _lux(simulate)
    await add_miner(HOST)
    await miner.power_off()
    with pytest.raises(HomeAssistantError) as gone:
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": f"number.{DEVICE}_power_limit", "value": 2000},
            blocking=True,
        )
    assert gone.value.translation_key == "command_unreachable"
