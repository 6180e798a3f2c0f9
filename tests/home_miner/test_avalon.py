"""Avalon home miners in Home Assistant: Nano 3 / 3s levels, the Nano 3's identity, the Mini 3
and the Q with their work modes, soft off where it exists, and a plan driving them."""

from __future__ import annotations

from typing import Any

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import format_mac
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.translation import async_get_translations
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner, miner_device
from tests.home_miner.test_luxos import entity_table
from tests.plan.conftest import AddPlan, add_plan, plan_of, settle  # noqa: F401
from tests.simulator.avalon import AvalonNanoMiner
from tests.simulator.avalon_home import AVALON_Q, MINI3, MINI3_ECO, AvalonHomeMiner

FAST = {"command_delay": 0.1}
ALERT = "input_boolean.grid_alert"


def _entity(hass: HomeAssistant, entry: ConfigEntry, domain: str, key: str) -> str:
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.domain == domain and entity.unique_id.endswith(f"_{key}"):
            return entity.entity_id
    raise AssertionError(f"no {domain} {key}")


def _has(hass: HomeAssistant, entry: ConfigEntry, domain: str, key: str) -> bool:
    try:
        _entity(hass, entry, domain, key)
    except AssertionError:
        return False
    return True


async def _user_flow(hass: HomeAssistant, host: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "host"}
    )
    answer: dict[str, Any] = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host}
    )
    return answer


async def _dhcp(hass: HomeAssistant, ip: str, mac: str) -> dict[str, Any]:
    info = DhcpServiceInfo(ip=ip, hostname="avalon", macaddress=mac.replace(":", "").lower())
    result: dict[str, Any] = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_DHCP}, data=info
    )
    return result


async def _move(miner: AvalonNanoMiner, ip: str) -> None:
    """The router gives the miner another address: the same unit answers there."""
    await miner.power_off()
    miner.ip = ip
    await miner.power_on()


# ---- Nano 3 / 3s -------------------------------------------------------------------------
async def test_levels_including_the_lowest(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    miner = await simulate(AvalonNanoMiner, "127.0.44.2", **FAST)
    entry = await add_miner(miner.ip)
    assert not _has(hass, entry, "switch", "mining")  # no softoff on this firmware
    # Finding that out is not a warning in the user's log.
    assert "Unknown option" not in caplog.text
    # Several Nanos are not devices of one name: the end of the MAC tells them apart.
    device = miner_device(hass, entry)
    assert device.name == f"Avalon Nano 3s {miner.mac.replace(':', '')[-4:]}"
    assert device.sw_version == miner.firmware
    select = _entity(hass, entry, "select", "work_mode")
    number = _entity(hass, entry, "number", "power_limit")
    assert hass.states.get(select).state == "high"

    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 80}, blocking=True
    )
    assert miner.work_level == 0
    assert float(hass.states.get(number).state) == 75
    assert hass.states.get(select).state == "low"

    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "medium"}, blocking=True
    )
    assert miner.work_level == 1


async def test_soft_off_where_the_firmware_has_it(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(AvalonNanoMiner, "127.0.44.3", soft_off=True, **FAST)
    entry = await add_miner(miner.ip)
    switch = _entity(hass, entry, "switch", "mining")
    assert hass.states.get(switch).state == STATE_ON
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.soft_off is True
    assert hass.states.get(switch).state == STATE_OFF
    # Home Assistant restarts while the miner is soft-off (a curtailment holds it): the
    # switch is still there, and turns it back on.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _entity(hass, entry, "switch", "mining") == switch
    assert hass.states.get(switch).state == STATE_OFF
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert miner.soft_off is False


async def test_nano3_is_added_by_the_mac_its_web_ui_gives(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """The Nano 3's `version` has no MAC; its web UI's `get_minerinfo.cgi` has, and that is
    what identifies it (as pyasic reads it), whatever address it has."""
    miner = await simulate(AvalonNanoMiner, "127.0.44.4", model="Avalon Nano 3", **FAST)
    entry = await add_miner(miner.ip)
    assert entry.unique_id == format_mac(miner.mac)
    device = miner_device(hass, entry)
    assert device.name == f"Avalon Nano 3 {miner.mac.replace(':', '')[-4:]}"
    assert device.model == "Avalon Nano 3"
    assert hass.states.get(_entity(hass, entry, "select", "work_mode")).state == "high"

    # The router moves it: adding it again at its new address updates the entry, as does
    # DHCP seeing it at a third one.
    await _move(miner, "127.0.44.5")
    result = await _user_flow(hass, "127.0.44.5")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "127.0.44.5"
    await hass.async_block_till_done()
    await _move(miner, "127.0.44.6")
    result = await _dhcp(hass, "127.0.44.6", miner.mac)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert entry.data[CONF_HOST] == "127.0.44.6"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert entry.state is config_entries.ConfigEntryState.LOADED, entry.state
    await entry.runtime_data.async_refresh()
    assert entry.runtime_data.last_update_success
    assert float(hass.states.get(_entity(hass, entry, "sensor", "hashrate")).state) > 4


async def test_nano3_whose_web_ui_refuses_takes_the_mac_dhcp_saw(
    hass: HomeAssistant, simulate: SimFactory, loopback: None
) -> None:
    """A changed web password: pyasic's login cookie gets the login page, so no MAC from
    there. Found by DHCP, the Nano 3 is the MAC the network saw, also after a restart."""
    miner = await simulate(
        AvalonNanoMiner, "127.0.44.7", model="Avalon Nano 3", web_password="changed", **FAST
    )
    result = await _dhcp(hass, miner.ip, miner.mac)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.unique_id == format_mac(miner.mac)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.last_update_success
    hashrate = _entity(hass, entry, "sensor", "hashrate")
    assert hass.states.get(hashrate).state != STATE_UNAVAILABLE


async def test_nano3_without_a_mac_is_its_serial(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """Neither the web UI nor DHCP gives a MAC: the hash board's serial (HDNA in its
    estats; its DNA is zeros) names it, and finds it again at another address."""
    miner = await simulate(
        AvalonNanoMiner, "127.0.44.8", model="Avalon Nano 3", web_password="changed", **FAST
    )
    entry = await add_miner(miner.ip)
    assert entry.unique_id == miner.dna
    assert miner_device(hass, entry).name == f"Avalon Nano 3 {miner.dna[-4:].upper()}"
    await _move(miner, "127.0.44.9")
    result = await _user_flow(hass, "127.0.44.9")
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "127.0.44.9"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# ---- Q and Mini 3 ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "ip"), [("Avalon Q", "127.0.44.40"), ("Avalon Mini 3", "127.0.44.41")]
)
async def test_added_through_the_flow_with_their_entities(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    snapshot: SnapshotAssertion,
    model: str,
    ip: str,
) -> None:
    """The MAC comes from `version`; the power is measured (PS[6]); the work modes are the
    firmware's own; there is a mining switch (soft off) and no identify."""
    miner = await simulate(
        AvalonHomeMiner, ip, model=model, mac=f"E0:E1:A9:00:44:{ip[-2:]}", **FAST
    )
    entry = await add_miner(ip)
    assert entry.unique_id == format_mac(miner.mac)
    device = miner_device(hass, entry)
    assert (device.manufacturer, device.sw_version) == ("Canaan", miner.firmware)
    power = _entity(hass, entry, "sensor", "power")
    assert float(hass.states.get(power).state) == miner.level.watts
    assert not any(
        e.domain == "button" and "identify" in e.unique_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    )
    # The room the heater warms: its inlet sensor.
    room = hass.states.get(_entity(hass, entry, "sensor", "env_temperature"))
    assert float(room.state) > 20
    translations = await async_get_translations(hass, "en", "entity", [DOMAIN])
    options = hass.states.get(_entity(hass, entry, "select", "work_mode")).attributes["options"]
    for option in options:
        assert f"component.{DOMAIN}.entity.select.work_mode.state.{option}" in translations
    assert entity_table(hass, entry) == snapshot


async def test_q_modes_power_levels_and_switch(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """Eco / Standard / Super are both its work modes and its power levels (`workmode`)."""
    miner = await simulate(AvalonHomeMiner, "127.0.44.42", model="Avalon Q", **FAST)
    entry = await add_miner(miner.ip)
    select = _entity(hass, entry, "select", "work_mode")
    number = _entity(hass, entry, "number", "power_limit")
    switch = _entity(hass, entry, "switch", "mining")
    state = hass.states.get(select)
    assert state.state == "standard"
    assert state.attributes["options"] == ["eco", "standard", "super"]
    limits = [lv.max_power for lv in AVALON_Q.levels]
    number_state = hass.states.get(number)
    assert (number_state.attributes["min"], number_state.attributes["max"]) == (
        limits[0],
        limits[-1],
    )

    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "super"}, blocking=True
    )
    assert miner.work_level == 2
    assert float(hass.states.get(number).state) == limits[2]
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 1500}, blocking=True
    )
    assert miner.work_level == 1
    assert hass.states.get(select).state == "standard"
    assert [c.params for c in miner.commands if c.params.get("option") == "workmode"] == [
        {"option": "workmode", "setting": "set,2"},
        {"option": "workmode", "setting": "set,1"},
    ]

    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.soft_off
    assert hass.states.get(switch).state == STATE_OFF
    assert float(hass.states.get(_entity(hass, entry, "sensor", "power")).state) == 18
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert not miner.soft_off
    assert miner.work_level == 1  # the mode is kept through standby


async def test_mini3_modes_and_eco_super_levels(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """Heating / Mining / Night is the work mode (`workmode`); Eco / Super is the power level
    inside it (`worklevel` -1 / 0), the power limit's two steps."""
    miner = await simulate(AvalonHomeMiner, "127.0.44.43", model="Avalon Mini 3", **FAST)
    entry = await add_miner(miner.ip)
    select = _entity(hass, entry, "select", "work_mode")
    number = _entity(hass, entry, "number", "power_limit")
    assert hass.states.get(select).attributes["options"] == ["heating", "mining", "night"]
    assert hass.states.get(select).state == "mining"
    state = hass.states.get(number)
    assert (state.attributes["min"], state.attributes["max"]) == (500, 800)

    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 600}, blocking=True
    )
    assert miner.worklevel == -1
    assert float(hass.states.get(number).state) == 500
    power = _entity(hass, entry, "sensor", "power")
    assert float(hass.states.get(power).state) == MINI3_ECO[1].watts

    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "heating"}, blocking=True
    )
    assert (miner.work_level, miner.worklevel) == (0, -1)
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 800}, blocking=True
    )
    assert miner.worklevel == 0
    assert float(hass.states.get(power).state) == MINI3.levels[0].watts
    sent = [(c.params["option"], c.params["setting"]) for c in miner.commands if c.applied]
    assert sent[-3:] == [("worklevel", "set,-1"), ("workmode", "set,0"), ("worklevel", "set,0")]

    switch = _entity(hass, entry, "switch", "mining")
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert miner.soft_off
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert not miner.soft_off


@pytest.mark.parametrize(
    ("model", "ip", "action"),
    [
        ("Avalon Q", "127.0.44.50", {"action": "stop"}),
        ("Avalon Q", "127.0.44.51", {"action": "limit_w", "value": 1000}),
        ("Avalon Mini 3", "127.0.44.52", {"action": "stop"}),
        ("Avalon Mini 3", "127.0.44.53", {"action": "limit_w", "value": 600}),
    ],
    ids=["q-stop", "q-limit", "mini3-stop", "mini3-limit"],
)
async def test_a_plan_curtails_and_restores_it(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
    model: str,
    ip: str,
    action: dict[str, Any],
) -> None:
    """A demand-response event puts the miner in standby (soft off) or at the level that
    fits; when it ends the miner mines again at the mode and level it had."""
    miner = await simulate(
        AvalonHomeMiner, ip, model=model, work_level=2 if model == "Avalon Q" else 1, **FAST
    )
    await add_miner(ip)
    before = (miner.work_level, miner.worklevel)
    hass.states.async_set(ALERT, "off")
    plan = plan_of(
        await add_plan([{"miner": format_mac(miner.mac), **action}], dr={"dr_entities": [ALERT]})
    )
    await settle(hass, plan)
    hass.states.async_set(ALERT, "on")
    await settle(hass, plan)
    if action["action"] == "stop":
        assert miner.soft_off
        assert miner.power_w == miner.spec.idle_watts
    else:
        assert not miner.soft_off
        assert miner.level.max_power <= action["value"]
    hass.states.async_set(ALERT, "off")
    await settle(hass, plan)
    assert not miner.soft_off
    assert (miner.work_level, miner.worklevel) == before


async def test_each_level_is_asked_for_by_what_it_draws(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    """A plan's budget counts a level at what it draws (the Nano 3s: 74, 99 and 133 W, each a
    watt or none under its limit): asking for that gets the level, not the one below (found
    by the simulated house: 99 W asked for gave the 75 W level)."""
    from custom_components.home_miner.plan.actuator import miner_coordinator

    miner = await simulate(AvalonNanoMiner, "127.0.44.7", **FAST)
    entry = await add_miner(miner.ip)
    number = _entity(hass, entry, "number", "power_limit")
    for watts, level in ((99, 1), (74, 0), (133, 2), (98, 0)):
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": watts}, blocking=True
        )
        assert miner.work_level == level, watts
    coordinator = miner_coordinator(hass, format_mac(miner.mac))
    assert coordinator is not None
    assert coordinator.client.power_levels == (74, 99, 133)
