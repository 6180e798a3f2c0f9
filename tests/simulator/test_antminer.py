"""Conformance of the simulated stock-firmware Antminer with unmodified pyasic 0.78.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import json
import time
from typing import Any

import httpx
import pyasic
from pyasic import APIError
from pyasic.config import FanModeConfig, MiningModeConfig
from pyasic.device.algorithm import SHA256Unit
from pyasic.miners.antminer import BMMinerS19jPro, BMMinerS19Pro, BMMinerS21
import pytest

from tests.conftest import SimFactory
from tests.simulator.antminer import REALM, AntminerStockMiner

FAST = {"command_delay": 0.05, "restart_seconds": 0.2, "reboot_seconds": 0.4}


@pytest.fixture
def short_timeouts() -> Iterator[None]:
    """pyasic's factory timeout is whole seconds; 1 s keeps the fault tests short."""
    keys = ("factory_get_timeout", "api_function_timeout")
    saved = {key: pyasic.settings.get(key) for key in keys}
    for key in keys:
        pyasic.settings.update(key, 1)
    yield
    for key, value in saved.items():
        pyasic.settings.update(key, value)


async def wait_until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def rpc(ip: str, request: dict[str, Any]) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection(ip, 4028)
    writer.write(json.dumps(request).encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert raw.endswith(b"\x00")
    reply: dict[str, Any] = json.loads(raw[:-1])
    return reply


def ths(value: Any) -> float:
    return float(value.into(SHA256Unit.TH))


# ---- detection ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ip", "model", "cls"),
    [
        ("127.0.4.1", "Antminer S19j Pro", BMMinerS19jPro),
        ("127.0.4.2", "Antminer S19 Pro", BMMinerS19Pro),
        ("127.0.4.3", "Antminer S21", BMMinerS21),
    ],
)
async def test_get_miner_class(simulate: SimFactory, ip: str, model: str, cls: type) -> None:
    await simulate(AntminerStockMiner, ip, model=model)
    miner = await pyasic.get_miner(ip)
    assert type(miner) is cls


async def test_web_is_digest_protected_like_lighttpd(simulate: SimFactory) -> None:
    ip = "127.0.4.4"
    await simulate(AntminerStockMiner, ip, password="hunter2")
    url = f"http://{ip}/cgi-bin/get_system_info.cgi"
    async with httpx.AsyncClient() as client:
        bare = await client.get(f"http://{ip}/")
        challenge = bare.headers["www-authenticate"]
        assert bare.status_code == 401
        assert challenge.startswith(f'Digest realm="{REALM}"')
        assert 'qop="auth"' in challenge
        assert "401 Unauthorized" in bare.text
        wrong = await client.get(url, auth=httpx.DigestAuth("root", "root"))
        assert wrong.status_code == 401
        basic = await client.get(url, auth=("root", "hunter2"))
        assert basic.status_code == 401
        ok = await client.get(url, auth=httpx.DigestAuth("root", "hunter2"))
        assert ok.status_code == 200
        assert ok.json()["minertype"] == "Antminer S19j Pro"
        # A response computed for another URI or with a made-up nonce is refused.
        forged = ok.request.headers["authorization"].replace("get_system_info", "get_miner_conf")
        assert (
            await client.get(
                url.replace("get_system_info", "get_miner_conf"), headers={"Authorization": forged}
            )
        ).status_code == 401
        made_up = ok.request.headers["authorization"].replace('nonce="', 'nonce="0')
        assert (await client.get(url, headers={"Authorization": made_up})).status_code == 401
        missing = await client.get(
            f"http://{ip}/cgi-bin/nope.cgi", auth=httpx.DigestAuth("root", "hunter2")
        )
        assert missing.status_code == 404


async def test_rpc_is_bmminer(simulate: SimFactory) -> None:
    ip = "127.0.4.5"
    sim = await simulate(AntminerStockMiner, ip)
    version = await rpc(ip, {"command": "version"})
    assert version["VERSION"][0] == {
        "BMMiner": "1.0.0",
        "API": "3.1",
        "Miner": "49.0.1.3",
        "CompileTime": sim.firmware,
        "Type": "Antminer S19j Pro",
    }
    denied = await rpc(ip, {"command": "devdetails"})
    assert denied["STATUS"][0]["Code"] == 45
    joined = await rpc(ip, {"command": "summary+stats"})
    assert joined["STATUS"][0]["Msg"] == "Invalid command"
    new = await rpc(ip, {"command": "stats", "new_api": True})
    assert new["STATUS"]["STATUS"] == "S"
    assert [c["asic_num"] for c in new["STATS"][0]["chain"]] == [126, 126, 126]
    legacy = (await rpc(ip, {"command": "stats"}))["STATS"][1]
    assert legacy["chain_rate1"] == f"{sim.board_ghs(0):.2f}"
    assert legacy["chain_rate4"] == ""
    assert legacy["temp_pcb1"].count("-") == 3
    # pyasic falls back to one connection per command when the joined form is refused.
    miner = BMMinerS19jPro(ip)
    data = await miner.rpc.multicommand("summary", "pools")
    assert data["multicommand"] is True
    assert data["summary"][0]["SUMMARY"][0]["GHS 5s"] == pytest.approx(sim.hashrate_ths * 1000)
    with pytest.raises(APIError, match="Access denied"):
        await miner.rpc.send_command("devdetails")


# ---- data --------------------------------------------------------------------------------
async def test_get_data(simulate: SimFactory) -> None:
    ip = "127.0.4.10"
    pools = [
        {"url": "stratum+tcp://pool.example.org:3333", "user": "me.s19", "pass": "x"},
        {"url": "", "user": "", "pass": ""},
        {"url": "", "user": "", "pass": ""},
    ]
    sim = await simulate(
        AntminerStockMiner, ip, hostname="garage-s19", pools=pools, nominal_ths=100.0
    )
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    data = await miner.get_data()
    assert ths(data.hashrate) == pytest.approx(100.0, rel=1e-4)
    # pyasic 0.79 sums the boards in their own unit (0.78 gave H/s): convert before reading.
    assert data.hashrate.unit == SHA256Unit.TH
    assert ths(data.raw_hashrate) == pytest.approx(100.0, rel=1e-4)
    assert ths(data.expected_hashrate) == pytest.approx(100.0)
    for index, board in enumerate(data.hashboards):
        _pic, pcb, chip = sim.board_temps(index)
        assert ths(board.hashrate) == pytest.approx(sim.board_ghs(index) / 1000, rel=1e-4)
        assert board.chips == 126
        assert board.temp == pytest.approx(sum(pcb) / 4)
        assert board.chip_temp == pytest.approx(sum(chip) / 4)
        assert board.serial_number
        assert board.missing is False
    assert [fan.speed for fan in data.fans] == sim.fan_rpms()
    assert all(3000 < fan.speed < 6000 for fan in data.fans)
    assert data.mac == sim.mac
    assert data.mac.startswith("02:")
    assert data.hostname == "garage-s19"
    assert data.serial_number == sim.serial
    assert data.fw_ver == "Mon Dec 26 17:10:01 CST 2022"
    assert data.api_ver == "3.1"
    assert data.is_mining is True
    assert data.fault_light is False
    assert data.errors == []
    assert data.uptime is not None
    assert data.uptime == pytest.approx(sim.elapsed_s, abs=1)
    assert [(str(p.url), p.user, p.active, p.alive) for p in data.pools] == [
        ("stratum+tcp://pool.example.org:3333", "me.s19", True, True)
    ]
    assert data.config is not None
    assert data.config.mining_mode.mode == "normal"
    assert data.config.pools.groups[0].pools[0].user == "me.s19"
    # Stock firmware of this generation reports no power figure, so pyasic has none.
    assert data.wattage is None
    assert sim.power_w == pytest.approx(100.0 * 29.5, rel=1e-3)


async def test_temperatures_and_fans_follow_power(simulate: SimFactory) -> None:
    s19 = await simulate(AntminerStockMiner, "127.0.4.11")
    s21 = await simulate(AntminerStockMiner, "127.0.4.12", model="Antminer S21")
    assert s21.power_w == pytest.approx(200 * 17.5, rel=1e-3)
    assert max(s21.board_temps(0)[2]) > max(s19.board_temps(0)[2])
    assert max(s21.fan_rpms()) >= max(s19.fan_rpms())
    hot = await simulate(AntminerStockMiner, "127.0.4.13", ambient_c=35.0)
    assert max(hot.board_temps(0)[1]) == max(s19.board_temps(0)[1]) + 10


async def test_summary_alerts_become_errors(simulate: SimFactory) -> None:
    ip = "127.0.4.14"
    sim = await simulate(AntminerStockMiner, ip)
    sim.alerts["fans"] = ("e", 3, "Fan 2 speed too low")
    data = await BMMinerS19jPro(ip).get_data(include=["errors"])
    assert [e.error_message for e in data.errors] == ["Fan 2 speed too low"]


async def test_energy_and_uptime(simulate: SimFactory) -> None:
    sim = await simulate(AntminerStockMiner, "127.0.4.15")
    await asyncio.sleep(0.2)
    assert sim.energy_wh == pytest.approx(sim.power_w * 0.2 / 3600, rel=0.3)
    status = sim.status()
    assert status["mode"] == "normal"
    assert status["hashrate_ths"] == pytest.approx(104.0)
    assert status["uptime_s"] >= status["elapsed_s"]


# ---- controls ----------------------------------------------------------------------------
async def test_stop_and_resume_through_sleep_mode(simulate: SimFactory) -> None:
    ip = "127.0.4.20"
    sim = await simulate(AntminerStockMiner, ip, **{**FAST, "restart_seconds": 0.8})
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    assert miner.supports_shutdown
    assert await miner.stop_mining() is True
    assert sim.commands[-1].params["miner-mode"] == 1
    # The config is written, then bmminer restarts: its API refuses connections for a while,
    # which pyasic reads as an empty reply rather than an error.
    await wait_until(lambda: sim.work_mode == "1")
    assert not sim.bmminer_up
    assert await miner.rpc.summary() == {}
    during = await miner.get_data()
    assert during.hashrate is None
    assert during.uptime is None
    assert during.is_mining is False
    # The web UI stays up, so the factory still recognises the unit.
    assert type(await pyasic.get_miner(ip)) is BMMinerS19jPro
    assert not sim.bmminer_up
    await wait_until(lambda: sim.bmminer_up)
    asleep = await miner.get_data()
    assert asleep.is_mining is False
    assert ths(asleep.hashrate) == 0
    assert asleep.config is not None
    assert asleep.config.mining_mode.mode == "sleep"
    assert [fan.speed for fan in asleep.fans] == [0, 0, 0, 0]
    assert [board.chips for board in asleep.hashboards] == [0, 0, 0]
    assert sim.power_w == 15.0
    # Pools and fan settings survive the round trip through get_config/send_config.
    assert sim.pools[0]["url"] == "stratum+tcp://stratum.braiins.com:3333"

    assert await miner.resume_mining() is True
    await wait_until(lambda: sim.hashing)
    awake = await miner.get_data()
    assert awake.is_mining is True
    assert ths(awake.hashrate) == pytest.approx(104.0, rel=1e-4)
    assert awake.uptime is not None
    assert awake.uptime <= 1
    assert [c.params["miner-mode"] for c in sim.commands] == [1, 0]
    assert all(c.applied for c in sim.commands)


async def test_low_power_mode(simulate: SimFactory) -> None:
    ip = "127.0.4.21"
    sim = await simulate(AntminerStockMiner, ip, **FAST)
    miner = BMMinerS19jPro(ip)
    config = await miner.get_config()
    config.mining_mode = MiningModeConfig.low()
    await miner.send_config(config)
    await wait_until(lambda: sim.hashing and sim.running_mode == "3")
    data = await miner.get_data()
    assert data.is_mining is True
    assert data.config is not None
    assert data.config.mining_mode.mode == "low"
    assert ths(data.hashrate) == pytest.approx(104.0 * 0.7, rel=1e-4)
    assert ths(data.expected_hashrate) == pytest.approx(104.0 * 0.7)
    assert sim.power_w == pytest.approx(104.0 * 0.7 * 29.5 * 0.9, rel=1e-3)


async def test_manual_fan_speed(simulate: SimFactory) -> None:
    ip = "127.0.4.22"
    sim = await simulate(AntminerStockMiner, ip, **FAST)
    miner = BMMinerS19jPro(ip)
    config = await miner.get_config()
    config.fan_mode = FanModeConfig.manual(speed=50)
    await miner.send_config(config)
    await wait_until(lambda: sim.fan_ctrl and sim.hashing)
    assert sim.fan_rpms()[0] == 3000
    back = await miner.get_config()
    assert back.fan_mode.mode == "manual"
    # pyasic's "normal" fan mode posts "bitmain-fan-pwn" (sic), so the PWM value stays.
    back.fan_mode = FanModeConfig.normal()
    await miner.send_config(back)
    await wait_until(lambda: not sim.fan_ctrl and sim.hashing)
    assert sim.fan_pwm == "50"
    assert "bitmain-fan-pwn" in sim.commands[-1].params


async def test_fault_light(simulate: SimFactory) -> None:
    ip = "127.0.4.23"
    sim = await simulate(AntminerStockMiner, ip, **FAST)
    miner = BMMinerS19jPro(ip)
    assert await miner.fault_light_on() is True
    await wait_until(lambda: sim.blink)
    assert (await miner.get_data(include=["fault_light"])).fault_light is True
    # fault_light_off returns the light's state, so success reads as False.
    assert await miner.fault_light_off() is False
    await wait_until(lambda: not sim.blink)
    assert (await BMMinerS19jPro(ip).get_data(include=["fault_light"])).fault_light is False


async def test_fault_light_is_cached_by_pyasic(simulate: SimFactory) -> None:
    """pyasic remembers a light it saw on and stops asking the miner."""
    ip = "127.0.4.24"
    sim = await simulate(AntminerStockMiner, ip)
    sim.blink = True
    miner = BMMinerS19jPro(ip)
    assert (await miner.get_data(include=["fault_light"])).fault_light is True
    sim.blink = False
    assert (await miner.get_data(include=["fault_light"])).fault_light is True


async def test_set_hostname(simulate: SimFactory) -> None:
    ip = "127.0.4.25"
    sim = await simulate(AntminerStockMiner, ip, **FAST)
    miner = BMMinerS19jPro(ip)
    await miner.set_hostname("shed-s19")
    await wait_until(lambda: sim.hostname == "shed-s19")
    assert await miner.get_hostname() == "shed-s19"
    assert sim.nettype == "DHCP"


async def test_reboot(simulate: SimFactory, short_timeouts: None) -> None:
    ip = "127.0.4.26"
    sim = await simulate(AntminerStockMiner, ip, **FAST)
    miner = BMMinerS19jPro(ip)
    await asyncio.sleep(1.1)
    assert await miner.reboot() is True
    await wait_until(lambda: not sim.powered)
    assert await pyasic.get_miner(ip) is None
    await wait_until(lambda: sim.powered)
    assert sim.uptime_s == 0
    assert type(await pyasic.get_miner(ip)) is BMMinerS19jPro
    assert (await miner.get_data(include=["hashrate"])).hashrate is not None


# ---- faults ------------------------------------------------------------------------------
async def test_wrong_password(simulate: SimFactory) -> None:
    """pyasic raises nothing: the web fields come back None and every control "succeeds"."""
    ip = "127.0.4.30"
    sim = await simulate(AntminerStockMiner, ip, password="not-root", **FAST)
    miner = await pyasic.get_miner(ip)
    # Detection needs no login: the realm names the family and the RPC names the model.
    assert type(miner) is BMMinerS19jPro
    assert miner is not None
    data = await miner.get_data()
    assert data.mac is None
    assert data.hostname is None
    assert data.serial_number is None
    assert data.fault_light is None
    assert data.is_mining is True  # pyasic's default when it cannot read the work mode
    assert ths(data.hashrate) == pytest.approx(104.0, rel=1e-4)
    assert await miner.web.get_system_info() == {
        "success": False,
        "message": "Unknown error occurred",
    }
    assert await miner.stop_mining() is True
    assert await miner.reboot() is True
    await asyncio.sleep(0.2)
    assert sim.commands == []
    assert sim.hashing
    assert sim.powered

    # Credentials go on the web client (per miner) or in pyasic's global default.
    miner.web.pwd = "not-root"
    assert (await miner.get_data(include=["mac"])).mac == sim.mac
    saved = pyasic.settings.get("default_antminer_web_password")
    pyasic.settings.update("default_antminer_web_password", "not-root")
    try:
        assert (await BMMinerS19jPro(ip).get_data(include=["mac"])).mac == sim.mac
    finally:
        pyasic.settings.update("default_antminer_web_password", saved)


async def test_wrong_credentials_fault(simulate: SimFactory) -> None:
    ip = "127.0.4.31"
    sim = await simulate(AntminerStockMiner, ip, **FAST)
    miner = BMMinerS19jPro(ip)
    sim.faults.wrong_credentials = True
    data = await miner.get_data(include=["mac", "hostname", "is_mining"])
    assert (data.mac, data.hostname) == (None, None)
    await miner.stop_mining()
    await asyncio.sleep(0.15)
    assert sim.commands == []
    sim.faults.wrong_credentials = False
    assert (await miner.get_data(include=["mac"])).mac == sim.mac


async def test_powered_off(simulate: SimFactory) -> None:
    """Connection refused everywhere: no class from the factory, and get_data raises nothing."""
    ip = "127.0.4.32"
    sim = await simulate(AntminerStockMiner, ip)
    miner = BMMinerS19jPro(ip)
    await sim.power_off()
    assert await pyasic.get_miner(ip) is None
    data = await miner.get_data()
    assert (data.hashrate, data.mac, data.uptime, data.hostname) == (None, None, None, None)
    assert data.is_mining is True
    assert await miner.rpc.version() == {}


async def test_timeout(simulate: SimFactory, short_timeouts: None) -> None:
    """pyasic's RPC read waits 100 s and web GETs 5 s whatever the settings: bound get_data."""
    ip = "127.0.4.33"
    sim = await simulate(AntminerStockMiner, ip)
    miner = BMMinerS19jPro(ip)
    sim.faults.timeout = True
    started = time.monotonic()
    assert await pyasic.get_miner(ip) is None
    assert time.monotonic() - started < 2.5
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.0):
            await miner.get_data()


async def test_latency(simulate: SimFactory) -> None:
    ip = "127.0.4.34"
    sim = await simulate(AntminerStockMiner, ip)
    sim.faults.latency = 0.15
    started = time.monotonic()
    miner = await pyasic.get_miner(ip)
    data = await miner.get_data() if miner else None
    assert data is not None
    assert data.mac == sim.mac
    assert time.monotonic() - started > 0.3


@pytest.mark.parametrize(
    ("ip", "fault"), [("127.0.4.35", "malformed"), ("127.0.4.36", "truncated")]
)
async def test_bad_replies(simulate: SimFactory, ip: str, fault: str) -> None:
    sim = await simulate(AntminerStockMiner, ip)
    miner = BMMinerS19jPro(ip)
    setattr(sim.faults, fault, True)
    assert await pyasic.get_miner(ip) is None
    data = await miner.get_data()
    assert (data.hashrate, data.mac, data.uptime) == (None, None, None)
    with pytest.raises(APIError):
        await miner.rpc.summary()
    if fault == "truncated":
        # pyasic "repairs" a cut reply by dropping its last field: the version parses as a
        # success that has lost its VERSION section.
        version = await miner.rpc.version()
        assert version["STATUS"][0]["STATUS"] == "S"
        assert "VERSION" not in version
    else:
        with pytest.raises(APIError):
            await miner.rpc.version()


async def test_command_acknowledged_not_applied(simulate: SimFactory) -> None:
    ip = "127.0.4.37"
    sim = await simulate(AntminerStockMiner, ip, **FAST)
    miner = BMMinerS19jPro(ip)
    sim.faults.ignore_commands = True
    assert await miner.stop_mining() is True
    await asyncio.sleep(0.4)
    assert sim.work_mode == "0"
    assert sim.hashing
    assert sim.commands[-1].applied is False
    assert (await miner.get_data(include=["is_mining"])).is_mining is True


async def test_reboot_mid_command(simulate: SimFactory, short_timeouts: None) -> None:
    ip = "127.0.4.38"
    sim = await simulate(AntminerStockMiner, ip, **FAST)
    miner = BMMinerS19jPro(ip)
    sim.faults.reboot_on_command = True
    assert await miner.stop_mining() is True
    await wait_until(lambda: not sim.powered)
    assert await pyasic.get_miner(ip) is None
    await wait_until(lambda: sim.powered)
    # The sleep was never written, so the unit boots back into normal mining.
    assert sim.work_mode == "0"
    assert (await miner.get_data(include=["is_mining", "hashrate"])).is_mining is True
    assert sim.hashing
