"""Every path of the config flow, each error recovering to CREATE_ENTRY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import gc
import logging
import socket
from typing import Any
from unittest.mock import AsyncMock, patch

import aiohttp
from aiohttp import web
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
from tests.simulator.avalon import AvalonNanoMiner
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


# ---- bad input: a translated error on the form, nothing in the log -----------------------


@pytest.fixture(autouse=True)
def collect_garbage_first() -> None:
    """What earlier tests left to collect is logged now, in this test's setup, not in the
    log its `assert_quiet` looks at (pytest keeps each phase's records apart)."""
    gc.collect()


def assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """No ERROR record, and no traceback from the integration (an unretrieved task exception
    is logged when the task is collected, hence the collection first)."""
    gc.collect()
    noisy = [
        record
        for record in caplog.records
        if record.levelno >= logging.ERROR
        or (record.exc_info and record.name.startswith("custom_components"))
    ]
    assert not noisy, [record.getMessage()[:300] for record in noisy]


class _NoNameResolver(aiohttp.ThreadedResolver):
    """Home Assistant's resolver, through the (patched) system resolver."""

    async def real_close(self) -> None:
        await self.close()


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A resolver for the private test network: the names in the returned mapping resolve
    to their loopback address, any other name does not exist (as on a network whose DNS
    has no such record); IP addresses are used as they are."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in names:
            return real(names[name], *args, **kwargs)
        if name is not None:  # None: a server binding every address
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
            except OSError, ValueError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(
        "homeassistant.helpers.aiohttp_client._async_make_resolver",
        lambda hass: _NoNameResolver(),
    )
    return names


BAD_HOSTS = [
    pytest.param("x" * 10_000, "invalid_host", id="10kB"),
    pytest.param("127.0.0.2\x00", "invalid_host", id="NUL"),
    pytest.param("127.0.0.2:999999", "invalid_host", id="port-out-of-range"),
    pytest.param("[::1]:99999", "invalid_host", id="ipv6-port-out-of-range"),
    pytest.param("127.0.0.256", "invalid_host", id="not-ipv4"),
    pytest.param("0.0.0.0", "invalid_host", id="unspecified"),
    pytest.param("bitaxe..lan", "invalid_host", id="empty-label"),
    pytest.param("-bitaxe", "invalid_host", id="label-hyphen"),
    pytest.param("127.0.0.2:8080", "port_not_supported", id="port"),
    pytest.param("[::1]", "ipv6_not_supported", id="ipv6-brackets"),
    pytest.param("::1", "ipv6_not_supported", id="ipv6"),
]


@pytest.mark.parametrize(("host", "error"), BAD_HOSTS)
async def test_bad_host_is_refused_before_any_probe(
    hass: HomeAssistant,
    bitaxe: BitaxeMiner,
    caplog: pytest.LogCaptureFixture,
    host: str,
    error: str,
) -> None:
    flow_id = await _host_form(hass)
    with patch("pyasic.get_miner", AsyncMock(side_effect=AssertionError("probed"))):
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: host})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: error}
    assert_quiet(caplog)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: bitaxe.ip})
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("host", "error"),
    [BAD_HOSTS[0], BAD_HOSTS[2], BAD_HOSTS[8], BAD_HOSTS[9]],
)
async def test_reconfigure_refuses_a_bad_host(
    hass: HomeAssistant,
    bitaxe: BitaxeMiner,
    add_miner: AddMiner,
    caplog: pytest.LogCaptureFixture,
    host: str,
    error: str,
) -> None:
    entry = await add_miner(bitaxe.ip)
    result = await _reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_HOST: host})
    assert result["errors"] == {CONF_HOST: error}
    assert entry.data[CONF_HOST] == bitaxe.ip
    assert_quiet(caplog)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: bitaxe.ip}
    )
    assert result["reason"] == "reconfigure_successful"


@pytest.mark.parametrize(
    ("subnet", "error"),
    [
        ("::1/128", "ipv6_not_supported"),
        ("0.0.0.0/30", "invalid_subnet"),
        ("224.0.0.0/30", "invalid_subnet"),
        ("255.255.255.255/32", "invalid_subnet"),
        ("127.0.0.0/8" * 1000, "invalid_subnet"),
    ],
)
async def test_scan_refuses_a_subnet_it_cannot_scan(
    hass: HomeAssistant, loopback: None, caplog: pytest.LogCaptureFixture, subnet: str, error: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "scan"}
    )
    with patch("pyasic.network.MinerNetwork.scan", AsyncMock(side_effect=AssertionError)):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_SUBNET: subnet}
        )
    assert result["errors"] == {CONF_SUBNET: error}
    assert_quiet(caplog)


async def test_a_name_for_a_miner_pyasic_reaches_by_ip_only(
    hass: HomeAssistant,
    simulate: SimFactory,
    fake_dns: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """pyasic's RPC clients take an IP address: by name, an Avalon cannot be driven."""
    miner = await simulate(AvalonNanoMiner, "127.0.6.50")
    fake_dns["avalon.lan"] = miner.ip
    flow_id = await _host_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: "avalon.lan"})
    assert result["errors"] == {"base": "ip_address_required"}
    assert_quiet(caplog)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: miner.ip})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_a_name_that_does_not_resolve(
    hass: HomeAssistant, loopback: None, fake_dns: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    flow_id = await _host_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: "nobody.lan"})
    assert result["errors"] == {"base": "cannot_connect"}
    assert_quiet(caplog)


@pytest.fixture
async def axeos_page(loopback: None) -> AsyncIterator[str]:
    """A web server on 127.0.6.51 whose page says AxeOS, but that has no miner API."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<html><title>AxeOS</title></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.6.51", 80).start()
    yield "127.0.6.51"
    await runner.cleanup()


async def test_a_web_server_that_is_no_miner(
    hass: HomeAssistant, axeos_page: str, caplog: pytest.LogCaptureFixture
) -> None:
    flow_id = await _host_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: axeos_page})
    assert result["errors"] == {"base": "unsupported_miner"}
    assert_quiet(caplog)


def _pyasic_tasks() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if "pyasic" in getattr(getattr(task.get_coro(), "cr_code", None), "co_filename", "")
    ]


@pytest.mark.parametrize("family", [BitaxeMiner, AvalonNanoMiner, AntminerStockMiner])
async def test_a_probe_that_times_out_leaves_no_pyasic_task_behind(
    hass: HomeAssistant,
    simulate: SimFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    family: type[Any],
) -> None:
    """The miner accepts connections and never answers: pyasic's probes would run on (and
    fail, unretrieved) after the flow has given up."""
    monkeypatch.setattr("custom_components.home_miner.miner.client.DETECT_TIMEOUT", 0.5)
    miner = await simulate(family, "127.0.6.52")
    miner.faults.timeout = True
    flow_id = await _host_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: miner.ip})
    assert result["errors"] == {"base": "cannot_connect"}
    assert _pyasic_tasks() == []
    assert_quiet(caplog)


@pytest.mark.parametrize(
    ("login", "errors"),
    [
        ({CONF_USERNAME: "ro:ot", CONF_PASSWORD: "pw"}, {CONF_USERNAME: "invalid_characters"}),
        ({CONF_USERNAME: "root", CONF_PASSWORD: "p\nw"}, {CONF_PASSWORD: "invalid_characters"}),
        ({CONF_USERNAME: "root", CONF_PASSWORD: "x" * 257}, {CONF_PASSWORD: "too_long"}),
    ],
)
async def test_a_login_http_cannot_carry(
    hass: HomeAssistant,
    simulate: SimFactory,
    caplog: pytest.LogCaptureFixture,
    login: dict[str, str],
    errors: dict[str, str],
) -> None:
    """A colon in the username made aiohttp's digest authentication raise (unknown error,
    with a traceback)."""
    miner = await simulate(AntminerStockMiner, "127.0.6.61", password="pw", hostname="s19")
    flow_id = await _host_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOST: miner.ip})
    assert result["step_id"] == "credentials"
    result = await hass.config_entries.flow.async_configure(flow_id, login)
    assert result["errors"] == errors
    assert_quiet(caplog)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: "root", CONF_PASSWORD: "pw"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_options_poll_interval_that_is_no_number(
    hass: HomeAssistant, bitaxe: BitaxeMiner, add_miner: AddMiner, caplog: pytest.LogCaptureFixture
) -> None:
    """NaN passes the number selector's range check; int(NaN) raised."""
    entry = await add_miner(bitaxe.ip)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_POLL_INTERVAL: "nan"}
    )
    assert result["errors"] == {CONF_POLL_INTERVAL: "invalid_number"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_POLL_INTERVAL: 42}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert_quiet(caplog)


async def test_a_picked_miner_that_went_away(
    hass: HomeAssistant, simulate: SimFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The list comes back with the error; it used to come back as an address field under the
    pick step, whose answer then failed the pick step (KeyError: 'miner')."""
    miner = await simulate(BitaxeMiner, "127.0.6.66", hostname="goes-away")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "scan"}
    )
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SUBNET: "127.0.6.66/32"})
    assert result["step_id"] == "pick"
    await miner.power_off()
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_MINER: miner.ip})
    assert result["step_id"] == "pick"
    assert result["errors"] == {"base": "cannot_connect"}
    assert list(result["data_schema"].schema) == [CONF_MINER]
    await miner.power_on()
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_MINER: miner.ip})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert_quiet(caplog)
