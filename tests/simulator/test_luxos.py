"""Conformance of the simulated LuxOS Antminer with unmodified pyasic 0.79.0.

Payloads are checked against Luxor's published API documentation (docs.luxor.tech/firmware/api):
`sessions` (logon / session, one session at a time, a minute's lifetime renewed by each use),
`luxminer/curtail` (`{"command": "curtail", "parameter": "yJN2nlj1,sleep"}`, code 335,
`CURTAIL[0].Action`), `luxminer/profileset` (`"yJN2nlj1,default"`, code 321,
`PROFILE[0].Profile`), `luxminer/atm` and `luxminer/atmset` (`"tjqw4aNI,enabled=true"`, codes
339 / 340), `cgminer/version` (code 22, `API` "3.7", `LUXminer`, `Type`) and the "Features"
page (25 built-in profiles, 25 MHz and 0.1 V apart: 16 under the nameplate, 8 over).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
from typing import Any

import pyasic
from pyasic.device.algorithm import SHA256Unit
from pyasic.miners.antminer import LUXMinerS19jPro, LUXMinerS19kPro, LUXMinerS21
from pyasic.miners.factory import MinerFactory, MinerTypes
import pytest

from tests.conftest import SimFactory
from tests.simulator.luxos import MODELS, LuxOSMiner, build_profiles

FAST = {"command_delay": 0.05, "ramp_seconds": 0.2, "reboot_seconds": 0.3}
Requests = list[dict[str, Any]]


def spy(sim: LuxOSMiner) -> Requests:
    """Every request the miner receives, as it arrives on the wire (JSON decoded)."""
    seen: Requests = []
    real = sim.handle_rpc

    async def _handle(request: dict[str, Any]) -> dict[str, Any]:
        seen.append(request)
        return await real(request)

    sim.handle_rpc = _handle  # type: ignore[method-assign]
    return seen


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


async def wait_until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


def ths(value: Any) -> float:
    return float(value.into(SHA256Unit.TH))


# ---- detection ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ip", "model", "cls"),
    [
        ("127.0.40.10", "Antminer S19j Pro", LUXMinerS19jPro),
        ("127.0.40.11", "Antminer S19k Pro", LUXMinerS19kPro),
        ("127.0.40.12", "Antminer S21", LUXMinerS21),
    ],
)
async def test_get_miner_class(simulate: SimFactory, ip: str, model: str, cls: type) -> None:
    await simulate(LuxOSMiner, ip, model=model)
    miner = await pyasic.get_miner(ip)
    assert type(miner) is cls
    assert str(miner.firmware) == "LuxOS"


async def test_both_probes_say_luxos(simulate: SimFactory) -> None:
    """pyasic's web probe finds "Luxor Firmware" in the page, its socket probe "LUXminer" in
    the `version` reply, whose shape is the documented one."""
    ip = "127.0.40.13"
    sim = await simulate(LuxOSMiner, ip)
    factory = MinerFactory()
    assert await factory._get_miner_web(ip) is MinerTypes.LUX_OS
    assert await factory._get_miner_socket(ip) is MinerTypes.LUX_OS
    version = await rpc(ip, {"command": "version"})
    assert version["STATUS"][0]["Code"] == 22
    assert version["STATUS"][0]["Description"] == f"LUXminer {sim.firmware}"
    assert version["VERSION"][0]["API"] == "3.7"
    assert version["VERSION"][0]["LUXminer"] == sim.firmware
    assert version["VERSION"][0]["Type"] == "Antminer S19j Pro"
    joined = await rpc(ip, {"command": "summary+power"})
    assert set(joined) == {"summary", "power", "id"}
    assert joined["power"][0]["POWER"][0]["Watts"] == round(sim.power_w)


# ---- data --------------------------------------------------------------------------------
async def test_get_data(simulate: SimFactory) -> None:
    ip = "127.0.40.14"
    sim = await simulate(LuxOSMiner, ip, hostname="garage-lux", profile="520MHz")
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    data = await miner.get_data()
    profile = sim.active_profile
    assert profile.freq_mhz == 520
    assert ths(data.hashrate) == pytest.approx(profile.hashrate_ths, rel=1e-3)
    assert ths(data.expected_hashrate) == pytest.approx(profile.hashrate_ths)
    assert data.wattage == profile.watts
    assert data.wattage_limit == profile.watts
    assert data.fw_ver == sim.firmware.split("-")[0]
    assert data.api_ver == "3.7"
    assert data.uptime == sim.uptime_s
    assert data.fault_light is False
    assert [f.speed for f in data.fans] == sim.fan_rpms()
    for index, board in enumerate(data.hashboards):
        assert board.chips == 126
        assert ths(board.hashrate) == pytest.approx(sim.board_ghs(index) / 1000, rel=1e-3)
        assert board.missing is False
    assert [(str(p.url), p.user, p.active) for p in data.pools] == [
        ("stratum+tcp://btc.global.luxor.tech:700", "homeminer.lux1", True)
    ]
    # pyasic 0.79.0's LuxOS MAC reader returns before it parses `config`; the driver reads it.
    assert data.mac is None
    config = await miner.rpc.config()
    assert config["CONFIG"][0]["MACAddr"].upper() == sim.mac


async def test_profiles_are_the_documented_steps(simulate: SimFactory) -> None:
    """25 profiles around the nameplate (545 MHz, 13.4 V on an S19j Pro), named by
    frequency, power growing with frequency x voltage²; pyasic reads them as presets."""
    ip = "127.0.40.15"
    await simulate(LuxOSMiner, ip)
    profiles = build_profiles(MODELS["Antminer S19j Pro"])
    assert len(profiles) == 25
    assert [p.freq_mhz for p in profiles[14:19]] == [495, 520, 545, 570, 595]
    assert [p.volt for p in profiles[14:19]] == [13.2, 13.3, 13.4, 13.5, 13.6]
    assert profiles[0].name == "145MHz"
    assert profiles[16].name == "default"
    watts = [p.watts for p in profiles]
    assert watts == sorted(watts)
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    config = await miner.get_config()
    presets = config.mining_mode.available_presets  # type: ignore[union-attr]
    assert [p.name for p in presets] == [p.name for p in profiles]
    assert config.mining_mode.active_preset.power == profiles[16].watts  # type: ignore[union-attr]


# ---- sessions ----------------------------------------------------------------------------
async def test_one_session_at_a_time_lasting_a_minute_of_disuse(simulate: SimFactory) -> None:
    ip = "127.0.40.16"
    sim = await simulate(LuxOSMiner, ip, session_seconds=0.3, **FAST)
    assert (await rpc(ip, {"command": "session"}))["SESSION"][0]["SessionID"] == ""
    created = await rpc(ip, {"command": "logon"})
    assert created["STATUS"][0]["Code"] == 316
    assert created["STATUS"][0]["Msg"] == "Session created"
    session = created["SESSION"][0]["SessionID"]
    assert len(session) == 8
    refused = await rpc(ip, {"command": "logon"})
    assert refused["STATUS"][0]["STATUS"] == "E"
    active = await rpc(ip, {"command": "session"})
    assert active["STATUS"][0]["Code"] == 319
    assert active["SESSION"][0]["SessionID"] == session
    # Used, it lives on; unused for its lifetime, it is gone and its ID refused.
    await asyncio.sleep(0.2)
    assert (await rpc(ip, {"command": "ledset", "parameter": f"{session},red,on"}))["STATUS"][0][
        "STATUS"
    ] == "S"
    await asyncio.sleep(0.2)
    assert (await rpc(ip, {"command": "session"}))["SESSION"][0]["SessionID"] == session
    await asyncio.sleep(0.35)
    stale = await rpc(ip, {"command": "curtail", "parameter": f"{session},sleep"})
    assert stale["STATUS"][0]["STATUS"] == "E"
    assert not sim.curtailed
    without = await rpc(ip, {"command": "curtail", "parameter": "sleep"})
    assert without["STATUS"][0]["STATUS"] == "E"


# ---- controls ----------------------------------------------------------------------------
async def _lux(simulate: SimFactory, ip: str, **kwargs: Any) -> tuple[LuxOSMiner, Any, Requests]:
    sim: LuxOSMiner = await simulate(LuxOSMiner, ip, **{**FAST, **kwargs})
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    return sim, miner, spy(sim)


async def test_stop_and_resume_are_curtail_sleep_and_wakeup(simulate: SimFactory) -> None:
    sim, miner, sent = await _lux(simulate, "127.0.40.20")
    sim.boot_time -= 3600
    assert miner.supports_shutdown
    assert await miner.stop_mining() is True
    session = sim.session_id
    # pyasic asks for the active session first, then logs on, as the docs describe.
    assert sent == [
        {"command": "session"},
        {"command": "logon"},
        {"command": "curtail", "parameter": f"{session},sleep"},
    ]
    await wait_until(lambda: sim.curtailed)
    summary = await miner.rpc.summary()
    assert summary["SUMMARY"][0]["GHS 5s"] == 0
    # LUXminer keeps running: its uptime goes on.
    assert summary["SUMMARY"][0]["Elapsed"] >= 3600
    power = await miner.rpc.power()
    assert power["POWER"][0]["Watts"] == sim.idle_w
    assert sim.board_temps(0) == []
    assert sim.fan_rpms() == [0, 0, 0, 0]

    assert await miner.resume_mining() is True
    assert sent[-1] == {"command": "curtail", "parameter": f"{session},wakeup"}
    await wait_until(lambda: not sim.curtailed)
    # The boards ramp: they hash at a fraction of the profile first, then all of it.
    assert sim.ramping
    assert 0 < sim.hashrate_ths < sim.active_profile.hashrate_ths
    await wait_until(lambda: not sim.ramping)
    assert sim.hashrate_ths == sim.active_profile.hashrate_ths
    assert sim.uptime_s >= 3600


async def test_curtail_reply_is_the_documented_one(simulate: SimFactory) -> None:
    ip = "127.0.40.21"
    sim = await simulate(LuxOSMiner, ip, **FAST)
    session = (await rpc(ip, {"command": "logon"}))["SESSION"][0]["SessionID"]
    reply = await rpc(ip, {"command": "curtail", "parameter": f"{session},sleep"})
    assert reply["CURTAIL"] == [{"Action": "sleep mode"}]
    assert reply["STATUS"][0]["Code"] == 335
    assert reply["STATUS"][0]["Msg"] == "Curtailment command sent"
    reply = await rpc(ip, {"command": "curtail", "parameter": f"{session},wakeup"})
    assert reply["CURTAIL"] == [{"Action": "wake up"}]
    bad = await rpc(ip, {"command": "curtail", "parameter": f"{session},nap"})
    assert bad["STATUS"][0]["STATUS"] == "E"
    await wait_until(lambda: len([c for c in sim.commands if c.applied]) == 2)


async def test_power_limit_is_profileset_around_atm(simulate: SimFactory) -> None:
    """pyasic picks the highest preset at or under the wattage and, with ATM on, turns it
    off for `profileset` and on again after."""
    sim, miner, sent = await _lux(simulate, "127.0.40.22", atm=True)
    profiles = build_profiles(MODELS["Antminer S19j Pro"])
    fitting = max((p for p in profiles if p.watts <= 2500), key=lambda p: p.watts)
    assert await miner.set_power_limit(2500) is True
    session = sim.session_id
    writes = [r for r in sent if "parameter" in r]
    assert writes == [
        {"command": "atmset", "parameter": f"{session},enabled=false"},
        {"command": "profileset", "parameter": f"{session},{fitting.name}"},
        {"command": "atmset", "parameter": f"{session},enabled=true"},
    ]
    await wait_until(lambda: sim.profile == fitting.name)
    assert sim.atm is True
    assert sim.ramping
    await wait_until(lambda: not sim.ramping)
    assert sim.power_w == fitting.watts
    atm = await miner.rpc.atm()
    assert atm["STATUS"][0]["Code"] == 339
    assert atm["ATM"][0]["Enabled"] is True


async def test_profileset_reply_and_refusals(simulate: SimFactory) -> None:
    ip = "127.0.40.23"
    sim = await simulate(LuxOSMiner, ip, **FAST)
    session = (await rpc(ip, {"command": "logon"}))["SESSION"][0]["SessionID"]
    reply = await rpc(ip, {"command": "profileset", "parameter": f"{session},520MHz"})
    assert reply["STATUS"][0]["Code"] == 321
    assert reply["STATUS"][0]["Msg"] == "Profile Set"
    assert reply["PROFILE"][0]["Profile"] == "520MHz"
    unknown = await rpc(ip, {"command": "profileset", "parameter": f"{session},9000MHz"})
    assert unknown["STATUS"][0]["STATUS"] == "E"
    atm_on = await rpc(ip, {"command": "atmset", "parameter": f"{session},enabled=true"})
    assert atm_on["STATUS"][0]["Code"] == 340
    await wait_until(lambda: sim.atm)
    blocked = await rpc(ip, {"command": "profileset", "parameter": f"{session},default"})
    assert blocked["STATUS"][0]["STATUS"] == "E"
    await wait_until(lambda: sim.profile == "520MHz")


async def test_fault_light_and_reboot(simulate: SimFactory) -> None:
    """`ledset red blink|off` shows in `config`'s RedLed; a reboot takes the unit away and it
    comes back asleep if it was (the curtailment persists), its LED off."""
    sim, miner, sent = await _lux(simulate, "127.0.40.24")
    assert await miner.fault_light_on() is True
    assert sent[-1] == {"command": "ledset", "parameter": f"{sim.session_id},red,blink"}
    await wait_until(lambda: sim.red_led == "blink")
    assert (await miner.get_data(include=["fault_light"])).fault_light is True
    assert await miner.fault_light_off() is True
    await wait_until(lambda: sim.red_led == "off")

    await miner.stop_mining()
    await wait_until(lambda: sim.curtailed)
    await miner.fault_light_on()
    assert await miner.reboot() is True
    assert sent[-1] == {"command": "rebootdevice", "parameter": sim.session_id}
    await wait_until(lambda: not sim.powered)
    await wait_until(lambda: sim.powered)
    assert sim.curtailed
    assert sim.red_led == "off"
    assert sim.session_id == ""
    assert sim.uptime_s < 5


async def test_acknowledged_but_not_applied(simulate: SimFactory) -> None:
    sim, miner, _ = await _lux(simulate, "127.0.40.25")
    sim.faults.ignore_commands = True
    assert await miner.stop_mining() is True
    await asyncio.sleep(0.2)
    assert not sim.curtailed
    assert sim.commands[-1].applied is False


@pytest.mark.parametrize("fault", ["malformed", "truncated", "refused"])
async def test_faults_read_as_no_data(simulate: SimFactory, fault: str) -> None:
    sim, miner, _ = await _lux(simulate, "127.0.40.26")
    if fault == "refused":
        await sim.power_off()
    else:
        setattr(sim.faults, fault, True)
    result = await miner.get_data(include=["wattage", "uptime", "hashboards"])
    assert result.wattage is None
    assert result.uptime is None
    assert all(board.hashrate is None for board in result.hashboards)
