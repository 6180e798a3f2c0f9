"""Every path of the config flow, each error recovering to CREATE_ENTRY."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import pytest

from custom_components.home_miner.config_flow import CONF_MINER, CONF_SUBNET
from custom_components.home_miner.const import CONF_POLL_INTERVAL, DOMAIN
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.simulator.antminer import AntminerStockMiner
from tests.simulator.esp_miner import BitaxeMiner

NOBODY = "127.0.5.200"


async def _host_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "host"}
    )
    assert result["step_id"] == "host"
    return str(result["flow_id"])


async def test_user_host_creates_entry(
    hass: HomeAssistant, bitaxe: BitaxeMiner, loopback: None
) -> None:
    flow_id = await _host_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: bitaxe.ip})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "bitaxe-gamma"
    assert result["data"] == {
        "entry_type": "miner",
        CONF_HOST: bitaxe.ip,
        "miner_class": "pyasic.miners.bitaxe.espminer.BM.BM1370:BitAxeGamma",
    }
    assert result["result"].unique_id == bitaxe.mac.lower()


@pytest.mark.parametrize(
    ("side_effect", "error"),
    [(None, "cannot_connect"), (RuntimeError("boom"), "unknown")],
)
async def test_user_errors_recover(
    hass: HomeAssistant,
    bitaxe: BitaxeMiner,
    loopback: None,
    side_effect: Exception | None,
    error: str,
) -> None:
    flow_id = await _host_form(hass)
    if side_effect is None:
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: NOBODY})
    else:
        with patch(
            "custom_components.home_miner.config_flow.async_connect", side_effect=side_effect
        ):
            result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: bitaxe.ip})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: bitaxe.ip})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_miner_twice_aborts_and_updates_host(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    entry = await add_miner(bitaxe.ip)
    flow_id = await _host_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: bitaxe.ip})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == bitaxe.ip


async def test_scan_and_pick(hass: HomeAssistant, simulate: SimFactory) -> None:
    first = await simulate(BitaxeMiner, "127.0.6.2", hostname="bitaxe-one")
    second = await simulate(BitaxeMiner, "127.0.6.3", hostname="bitaxe-two")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "scan"}
    )
    assert result["step_id"] == "scan"
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SUBNET: "not a net"})
    assert result["errors"] == {CONF_SUBNET: "invalid_subnet"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SUBNET: "10.0.0.0/8"})
    assert result["errors"] == {CONF_SUBNET: "subnet_too_large"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SUBNET: "127.0.6.16/29"})
    assert result["errors"] == {"base": "no_miners_found"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SUBNET: "127.0.6.0/29"})
    assert result["step_id"] == "pick"
    options = result["data_schema"].schema[CONF_MINER].config["options"]
    assert [o["value"] for o in options] == [first.ip, second.ip]
    assert "bitaxe-two" in options[1]["label"]
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_MINER: second.ip})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == second.mac.lower()


async def test_dhcp_discovery_confirm(
    hass: HomeAssistant, bitaxe: BitaxeMiner, loopback: None
) -> None:
    info = DhcpServiceInfo(
        ip=bitaxe.ip, hostname="bitaxe-gamma", macaddress=bitaxe.mac.replace(":", "").lower()
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_DHCP}, data=info
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == bitaxe.ip


async def test_dhcp_known_miner_at_new_ip_updates_host(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    entry = await add_miner(bitaxe.ip)
    info = DhcpServiceInfo(
        ip="127.0.5.99", hostname="bitaxe-gamma", macaddress=bitaxe.mac.replace(":", "").lower()
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_DHCP}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "127.0.5.99"


async def test_dhcp_nothing_answers_aborts(hass: HomeAssistant, loopback: None) -> None:
    info = DhcpServiceInfo(ip=NOBODY, hostname="bitaxe", macaddress="24587c000001")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_DHCP}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def _reconfigure(hass: HomeAssistant, entry: ConfigEntry) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
    )


async def test_reconfigure_new_host(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(BitaxeMiner, "127.0.6.20", hostname="mover")
    entry = await add_miner(miner.ip)
    await miner.power_off()
    moved = await simulate(BitaxeMiner, "127.0.6.21", hostname="mover", mac=miner.mac)
    other = await simulate(BitaxeMiner, "127.0.6.22", hostname="other")
    result = await _reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_HOST: NOBODY})
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: other.ip}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_miner"
    result = await _reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: moved.ip}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == moved.ip


async def test_options_poll_interval(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    entry = await add_miner(bitaxe.ip)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_POLL_INTERVAL: 42}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {CONF_POLL_INTERVAL: 42}
    assert entry.runtime_data.poll_interval.total_seconds() == 42


async def test_unsupported_miner_recovers(
    hass: HomeAssistant, bitaxe: BitaxeMiner, loopback: None
) -> None:
    flow_id = await _host_form(hass)
    with patch("custom_components.home_miner.miner.client.driver_for", return_value=None):
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: bitaxe.ip})
    assert result["errors"] == {"base": "unsupported_miner"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: bitaxe.ip})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_dhcp_mac_mismatch_aborts(
    hass: HomeAssistant, bitaxe: BitaxeMiner, loopback: None
) -> None:
    info = DhcpServiceInfo(ip=bitaxe.ip, hostname="bitaxe", macaddress="24587c999999")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_DHCP}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_a_miner"


async def test_dhcp_antminer_with_changed_password_asks_login(
    hass: HomeAssistant, simulate: SimFactory
) -> None:
    miner = await simulate(AntminerStockMiner, "127.0.6.40", password="pw", hostname="s19")
    info = DhcpServiceInfo(
        ip=miner.ip, hostname="antminer", macaddress=miner.mac.replace(":", "").lower()
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_DHCP}, data=info
    )
    assert result["step_id"] == "discovery_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "credentials"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "root", CONF_PASSWORD: "pw"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reconfigure_keeps_login(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(AntminerStockMiner, "127.0.6.41", password="pw", hostname="s19")
    entry = await add_miner(miner.ip, username="root", password="pw")
    result = await _reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: miner.ip}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PASSWORD] == "pw"


async def test_another_miner_at_the_address_is_reported(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(BitaxeMiner, "127.0.6.42", hostname="first")
    entry = await add_miner(miner.ip)
    await hass.config_entries.async_unload(entry.entry_id)
    await miner.power_off()
    await simulate(BitaxeMiner, "127.0.6.42", hostname="second", mac="24:58:7C:00:00:42")
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is config_entries.ConfigEntryState.SETUP_RETRY
    assert "different miner" in str(entry.reason)


async def test_redetects_after_repeated_failures(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    entry = await add_miner(bitaxe.ip)
    coordinator = entry.runtime_data
    first_client = coordinator.client
    await bitaxe.power_off()
    for _ in range(3):
        await coordinator.async_refresh()
    assert not coordinator.last_update_success
    await bitaxe.power_on()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert coordinator.client is not first_client


async def test_setup_skips_detection_for_a_known_miner(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    entry = await add_miner(bitaxe.ip)
    await hass.config_entries.async_unload(entry.entry_id)
    with patch("pyasic.get_miner", side_effect=AssertionError("detected again")):
        assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_setup_detects_again_when_the_known_class_is_wrong(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner
) -> None:
    entry = await add_miner(bitaxe.ip)
    right = entry.data["miner_class"]
    await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(
        entry,
        data={
            **entry.data,
            "miner_class": "pyasic.miners.avalonminer.cgminer.nano.nano3:CGMinerAvalonNano3s",
        },
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.data["miner_class"] == right
