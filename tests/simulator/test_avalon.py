"""Conformance of the simulated Avalon Nano 3 / Nano 3s with unmodified pyasic 0.78.1.

Several tests document what pyasic does with this family (not what it should do): pyasic's
Avalon backend was written for the A-series (softoff/softon, `led,1-1`, `restart`,
`worklevel` as power limit) and most of it does not match the Nano firmware.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import json
import re
import time
from typing import Any

import httpx
import pyasic
from pyasic import APIError
from pyasic.device.algorithm import SHA256Unit
from pyasic.miners.avalonminer.cgminer.nano.nano3 import (
    CGMinerAvalonNano3,
    CGMinerAvalonNano3s,
)
import pytest

from tests.conftest import SimFactory
from tests.simulator.avalon import NANO3, NANO3S, AvalonNanoMiner, HashMeter

FAST = {"command_delay": 0.05, "reboot_seconds": 0.4}
N3 = "Avalon Nano 3"
N3S = "Avalon Nano 3s"


@pytest.fixture
def short_timeouts() -> Iterator[None]:
    """pyasic's factory timeouts are whole seconds; 1 s keeps the fault tests short."""
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


async def rpc_raw(ip: str, command: str, parameter: str | None = None) -> bytes:
    """One request the way every CGMiner client sends it: write, then read until closed."""
    reader, writer = await asyncio.open_connection(ip, 4028)
    request: dict[str, Any] = {"command": command}
    if parameter is not None:
        request["parameter"] = parameter
    writer.write(json.dumps(request).encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data


async def rpc(ip: str, command: str, parameter: str | None = None) -> dict[str, Any]:
    data = await rpc_raw(ip, command, parameter)
    assert data.endswith(b"\x00")
    result: dict[str, Any] = json.loads(data[:-1])
    return result


def status_msg(reply: dict[str, Any]) -> tuple[str, str]:
    status = reply["STATUS"][0]
    return status["STATUS"], status["Msg"]


async def mm_id0(ip: str) -> str:
    reply = await rpc(ip, "estats")
    text: str = reply["STATS"][0]["MM ID0"]
    return text


# ---- detection ---------------------------------------------------------------------------
@pytest.mark.parametrize(("model", "cls"), [(N3, CGMinerAvalonNano3), (N3S, CGMinerAvalonNano3s)])
async def test_get_miner_class(simulate: SimFactory, model: str, cls: Any) -> None:
    await simulate(AvalonNanoMiner, "127.0.3.10", model=model)
    miner = await pyasic.get_miner("127.0.3.10")
    assert type(miner) is cls
    assert cls.raw_model == model


async def test_version_replies_are_the_firmwares(simulate: SimFactory) -> None:
    """pyasic maps PROD "Avalonnano" + MODEL "nano3" and PROD "Avalon Nano3s" to its classes."""
    await simulate(AvalonNanoMiner, "127.0.3.11", model=N3)
    sim3s = await simulate(AvalonNanoMiner, "127.0.3.12", model=N3S)
    nano3 = (await rpc("127.0.3.11", "version"))["VERSION"][0]
    assert nano3 == {
        "CGMiner": "4.11.1",
        "API": "3.7",
        "PROD": "Avalonnano",
        "MODEL": "nano3",
        "HWTYPE": "PMMv1_X1",
        "SWTYPE": "MM318_X2",
        "VERSION": "24071801_42c628d",
        "HVERSION": "24071801_b906c52_6223725",
        "UPAPI": "2",
    }
    nano3s = (await rpc("127.0.3.12", "version"))["VERSION"][0]
    assert nano3s["PROD"] == "Avalon Nano3s"
    assert nano3s["MODEL"] == "Nano3s"
    assert nano3s["MAC"] == sim3s.mac.replace(":", "").lower()
    assert nano3s["LVERSION"] == "25021401_56abae7"


async def test_web_ui_is_the_login_page(simulate: SimFactory) -> None:
    await simulate(AvalonNanoMiner, "127.0.3.13", model=N3S)
    async with httpx.AsyncClient() as client:
        for path in ("/", "/dashboard.cgi", "/get_dashboard.cgi", "/anything"):
            page = await client.get(f"http://127.0.3.13{path}")
            assert page.status_code == 200
            assert "<title>Avalon Device</title>" in page.text
        auth = await client.get("http://127.0.3.13/get_auth.cgi")
        assert auth.text.startswith("getAuthCallback (")


# ---- data --------------------------------------------------------------------------------
async def test_get_data_nano3s(simulate: SimFactory) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.20", model=N3S, **FAST)
    miner = await pyasic.get_miner("127.0.3.20")
    data = await miner.get_data()

    # Hash rates: the board total is in H/s; expected hash rate is GHSmm.
    assert data.hashrate is not None
    assert float(data.hashrate.into(SHA256Unit.TH)) == pytest.approx(6.6105)
    assert float(data.hashrate.into(SHA256Unit.GH)) == pytest.approx(sim.actual_ghs)
    assert float(data.expected_hashrate.into(SHA256Unit.TH)) == pytest.approx(6.78)
    # Wall watts come from PS[6], the limit from MPO.
    assert data.wattage == 133
    assert data.wattage_limit == 133
    # J/TH, rounded down by pyasic (0.78 divided by the hash rate in H/s and gave 0).
    assert data.efficiency == int(133 / 6.6105)
    assert data.fans[0].speed == sim.fan_rpm == 4134
    board = data.hashboards[0]
    assert board.chips == 12
    assert board.temp == 90  # TAvg
    assert board.chip_temp == 95  # TMax
    assert data.temperature_avg == 90
    # The Nano 3s has no inlet sensor (ITemp[-273]); pyasic reads `Temp`, which it lacks.
    assert data.env_temp is None
    assert data.mac == sim.mac
    assert data.api_ver == "3.7"
    assert data.fw_ver == "4.11.1"  # cgminer's version, not the firmware's
    assert data.hostname is None
    assert data.fault_light is False  # the Nano 3s prints LED[], pyasic reads Led[]
    assert data.is_mining is True
    assert [p.url and str(p.url) for p in data.pools] == [
        "stratum+tcp://public-pool.io:21496",
        "stratum+tcp://solo.ckpool.org:3333",
    ]
    assert [p.active for p in data.pools] == [True, False]
    assert data.pools[0].user == sim.pools[0]["user"]
    assert data.uptime is not None
    assert 0 <= data.uptime <= 2


async def test_get_data_nano3(simulate: SimFactory) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.21", model=N3, ambient_c=22.0, **FAST)
    miner = await pyasic.get_miner("127.0.3.21")
    data = await miner.get_data()

    # The board hash rate (MGHS, the average since boot) overrides devs' "MHS 1m".
    assert float(data.hashrate.into(SHA256Unit.TH)) == pytest.approx(4.26075, rel=1e-3)
    assert float(data.expected_hashrate.into(SHA256Unit.TH)) == pytest.approx(4.37)
    # pyasic looks for WALLPOWER; the Nano 3 has its watts in PS[5].
    assert data.wattage is None
    assert "PS[0 0 0 4 2792 125 344]" in await mm_id0("127.0.3.21")
    assert data.wattage_limit == 125
    assert data.env_temp == sim.board_c == 41
    assert data.hashboards[0].chips == 10
    assert data.hashboards[0].chip_temp == 92
    assert data.fans[0].speed == sim.fan_rpm
    # The Nano 3 has no MAC in `version`; pyasic asks the web UI (see the test below).
    assert data.mac is None
    assert data.fault_light is False
    assert data.pools[0].active is True


async def test_nano3_mac_needs_get_miner_info_cgi(simulate: SimFactory) -> None:
    """The Nano 3's web UI serves `get_minerinfo.cgi?num=<random>` (its page's
    `updateMinerInfo()`), a JSONP `minerinfoCallback({...});` behind the login cookie.
    pyasic 0.79's `get_data` asks /minerinfo.cgi, then /get_miner_info.cgi; its fallback to
    /get_minerinfo.cgi is unreachable (`miner_info()` returns {} on any error instead of
    raising), so `get_data` has no MAC. `web.minerinfo()` asks /get_minerinfo.cgi first and
    reads it (pyasic/web/avalonminer.py: cookie "ff0000ff" + sha256(password)[:24], the
    callback stripped, `mac` upper-cased by `_get_mac`). A firmware that also answers
    /get_miner_info.cgi works both ways."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.22", model=N3)
    async with httpx.AsyncClient(cookies={"auth": sim._auth_cookie()}) as client:
        page = await client.get("http://127.0.3.22/get_minerinfo.cgi")
    assert page.text.startswith("minerinfoCallback({")
    info = json.loads(page.text.removeprefix("minerinfoCallback(").removesuffix(");"))
    assert info["mac"] == sim.mac.lower()
    async with httpx.AsyncClient() as client:
        anonymous = await client.get("http://127.0.3.22/get_minerinfo.cgi")
    # Without the login cookie the firmware shows its login page.
    assert "<title>Avalon Device</title>" in anonymous.text
    assert (await CGMinerAvalonNano3("127.0.3.22").get_data()).mac is None
    assert (await CGMinerAvalonNano3("127.0.3.22").web.minerinfo())["mac"] == sim.mac.lower()

    other = await simulate(
        AvalonNanoMiner,
        "127.0.3.23",
        model=N3,
        web_minerinfo_paths=("/get_minerinfo.cgi", "/get_miner_info.cgi"),
    )
    assert (await CGMinerAvalonNano3("127.0.3.23").get_data()).mac == other.mac


async def test_estats_mm_id0_fields(simulate: SimFactory) -> None:
    await simulate(AvalonNanoMiner, "127.0.3.24", model=N3S, work_level=1)
    line = await mm_id0("127.0.3.24")
    assert line.startswith("Ver[Nano3s-25021401_56abae7] LVer[25021401_56abae7]")
    for field in (
        "SYSTEMSTATU[Work: In Work, Hash Board: 1]",
        "ITemp[-273]",
        "PS[0 0 27541 3 0 3560 99]",
        "GHSmm[5400.00]",
        "GHSspd[5265.00]",
        "WORKMODE[1] WORKLEVEL[0] MPO[100]",
        "LED[0-0]",
    ):
        assert field in line
    parsed = CGMinerAvalonNano3s.parse_estats(await rpc("127.0.3.24", "estats"))
    mm = parsed["STATS"][0]["MM ID0"]
    assert mm["PVT_T0"] == [91, 92, 92, 93, 90, 88, 92, 91, 92, 89, 90, 91]
    assert mm["Fan1"] == 3276
    assert mm["FanR"] == "42%"

    await simulate(AvalonNanoMiner, "127.0.3.25", model=N3, work_level=1)
    line = await mm_id0("127.0.3.25")
    assert line.startswith("HashStatus[1] Ver[nano3-24071801_42c628d] HVer[")
    for field in ("Temp[38]", "PS[0 0 0 3 2792 89 324]", "WORKLEVEL[1] MPO[90] ADJ[1]", "Led[0]"):
        assert field in line
    assert "ATA0[60-80-310-100:293:313:333] ATA1[90-85-324-" in line


async def test_replies_are_cgminer_json(simulate: SimFactory) -> None:
    await simulate(AvalonNanoMiner, "127.0.3.26", model=N3S)
    raw = await rpc_raw("127.0.3.26", "summary")
    assert raw.startswith(b'{"STATUS":[{"STATUS":"S","When":')
    assert raw.endswith(b',"id":1}\x00')
    # No spaces, numbers printed with cgminer's fixed decimals.
    assert b", " not in raw
    assert re.search(rb'"MHS av":6610500\.00,"MHS 5s":6610500\.00,', raw)
    assert re.search(rb'"Difficulty Stale":0\.00000000,', raw)

    joined = await rpc("127.0.3.26", "version+devs+ascset+nonsense+version")
    assert list(joined) == ["version", "devs", "ascset", "nonsense", "id"]
    assert joined["version"][0]["VERSION"][0]["MODEL"] == "Nano3s"
    assert joined["devs"][0]["id"] == 1
    assert status_msg(joined["ascset"][0]) == ("E", "Access denied to 'ascset' command")
    assert status_msg(joined["nonsense"][0]) == ("E", "Invalid command")

    invalid = await rpc("127.0.3.26", "restart")
    assert invalid["STATUS"][0] == {
        "STATUS": "E",
        "When": invalid["STATUS"][0]["When"],
        "Code": 14,
        "Msg": "Invalid command",
    }


async def test_uptime_counts_from_boot(simulate: SimFactory) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.27", model=N3S)
    sim.boot_time -= 3600
    sim.meter = HashMeter(time.monotonic() - 3600, sim.actual_ghs)
    data = await CGMinerAvalonNano3s("127.0.3.27").get_data()
    assert data.uptime == 3600
    assert data.pools[0].accepted == sim._accepted(time.monotonic()) > 0


# ---- controls ----------------------------------------------------------------------------
async def test_set_power_limit_nano3(simulate: SimFactory) -> None:
    """pyasic maps watts to WORKLEVEL: >100 W -> 2, 81-100 W -> 1, else 0 (or the value
    itself below 3)."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.30", model=N3, work_level=0, **FAST)
    miner = await pyasic.get_miner("127.0.3.30")
    assert sim.power_w == 59

    assert await miner.set_power_limit(90) is True
    await wait_until(lambda: sim.work_level == 1)
    assert sim.power_w == 89
    assert (await miner.get_data()).wattage_limit == 90

    assert await miner.set_power_limit(200) is True
    await wait_until(lambda: sim.work_level == 2)
    data = await miner.get_data()
    assert data.wattage_limit == 125
    assert float(data.expected_hashrate.into(SHA256Unit.TH)) == pytest.approx(4.37)
    assert [c.params for c in sim.commands] == [
        {"option": "worklevel", "setting": "set,1"},
        {"option": "worklevel", "setting": "set,2"},
    ]


@pytest.mark.parametrize("watts", [0, 50, 80])
async def test_pyasic_cannot_select_level_0(simulate: SimFactory, watts: int) -> None:
    """pyasic/miners/backends/avalonminer.py:111-126 computes level 0 and calls
    `rpc.ascset(0, "worklevel,set", 0)`; pyasic/rpc/cgminer.py:665 (`if val:`) then drops the
    falsy 0 and sends "0,worklevel,set". The firmware answers "worklevel unknown argument",
    pyasic raises APIError internally and returns False; the miner stays where it was."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.31", model=N3, work_level=2, **FAST)
    miner = CGMinerAvalonNano3("127.0.3.31")
    assert await miner.set_power_limit(watts) is False
    await asyncio.sleep(0.15)
    assert sim.work_level == 2
    assert sim.commands[-1].params == {"option": "worklevel", "setting": "set"}
    assert sim.commands[-1].applied is False
    reply = await miner.rpc.send_command("ascset", parameters="0,worklevel,set", ignore_errors=True)
    assert status_msg(reply) == ("E", "ASC 0 set failed: worklevel unknown argument")


async def test_level_0_works_when_sent_directly(simulate: SimFactory) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.32", model=N3, work_level=2, **FAST)
    reply = await rpc("127.0.3.32", "ascset", "0,worklevel,set,0")
    assert status_msg(reply) == ("S", "ASC 0 set OK")
    assert reply["STATUS"][0]["Code"] == 119
    await wait_until(lambda: sim.work_level == 0)
    assert sim.power_w == 59
    assert "WORKLEVEL[0] MPO[60]" in await mm_id0("127.0.3.32")
    got = await rpc("127.0.3.32", "ascset", "0,worklevel,get")
    assert status_msg(got) == ("I", "ASC 0 set info: worklevel 0")
    assert status_msg(await rpc("127.0.3.32", "ascset", "0,worklevel,set,3")) == (
        "E",
        "ASC 0 set failed: worklevel unknown argument",
    )


async def test_nano3s_power_level_is_workmode(simulate: SimFactory) -> None:
    """On the Nano 3s, Low/Medium/High is WORKMODE; WORKLEVEL is a level inside the mode
    that this firmware keeps at 0, so pyasic's set_power_limit never succeeds on it."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.33", model=N3S, **FAST)
    miner = CGMinerAvalonNano3s("127.0.3.33")
    for watts in (60, 90, 140):
        assert await miner.set_power_limit(watts) is False
    assert sim.work_level == 2

    reply = await rpc("127.0.3.33", "ascset", "0,workmode,set,0")
    assert status_msg(reply) == ("S", "ASC 0 set OK")
    await wait_until(lambda: sim.work_level == 0)
    data = await miner.get_data()
    assert data.wattage == 74
    assert data.wattage_limit == 75
    assert float(data.hashrate.into(SHA256Unit.TH)) == pytest.approx(4.1 * 0.975)
    assert status_msg(await rpc("127.0.3.33", "ascset", "0,workmode,get")) == (
        "I",
        "ASC 0 set info: workmode 0",
    )
    assert status_msg(await rpc("127.0.3.33", "ascset", "0,workmode,set,3")) == (
        "E",
        "ASC 0 set failed: error:1 not support set workmode max_mode[2]",
    )

    wider = await simulate(
        AvalonNanoMiner, "127.0.3.34", model=N3S, worklevel_range=(-2, 2), **FAST
    )
    assert await CGMinerAvalonNano3s("127.0.3.34").set_power_limit(90) is True
    await wait_until(lambda: wider.worklevel == 1)
    assert wider.work_level == 2  # the mode is untouched


@pytest.mark.parametrize("model", [N3, N3S])
async def test_stop_and_resume_are_unknown_options(simulate: SimFactory, model: str) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.35", model=model, **FAST)
    miner = await pyasic.get_miner("127.0.3.35")
    assert await miner.stop_mining() is False
    assert await miner.resume_mining() is False
    assert sim.hashing
    assert sim.power_w == sim.level.watts
    assert [c.params["option"] for c in sim.commands] == ["softoff", "softon"]
    reply = await rpc("127.0.3.35", "ascset", "0,softoff,1:0")
    assert status_msg(reply) == ("E", "ASC 0 set failed: Unknown option: softoff")


@pytest.mark.parametrize("model", [N3, N3S])
async def test_soft_off_firmware(simulate: SimFactory, model: str) -> None:
    """With soft power commands, pyasic's stop is scheduled 5 s ahead on the device's clock;
    the simulated clock runs 5 s ahead so that moment is now."""
    sim = await simulate(
        AvalonNanoMiner, "127.0.3.36", model=model, soft_off=True, clock_offset=5, **FAST
    )
    miner = await pyasic.get_miner("127.0.3.36")
    assert await miner.stop_mining() is True
    await wait_until(lambda: sim.soft_off)
    assert sim.power_w == sim.spec.idle_watts
    assert sim.fan_pct < 20
    line = await mm_id0("127.0.3.36")
    assert "GHSspd[0.00]" in line
    assert "GHSmm[0.00]" in line
    assert "SoftOFF[1]" in line
    data = await miner.get_data()
    assert float(data.expected_hashrate) == 0
    assert data.is_mining is True  # pyasic never reads the mining state of an Avalon
    if model == N3S:
        assert data.wattage == 7
        assert float(data.hashrate) == 0
        assert "SYSTEMSTATU[Work: In Idle, Hash Board: 1]" in line

    assert await miner.resume_mining() is True
    await wait_until(lambda: not sim.soft_off)
    assert sim.power_w == sim.level.watts

    # Without the clock skew the command waits for its time on the device.
    sim.clock_offset = 0
    reply = await rpc("127.0.3.36", "ascset", f"0,softoff,1:{int(time.time()) + 2}")
    assert status_msg(reply)[0] == "I"
    assert "success softoff:" in status_msg(reply)[1]
    await asyncio.sleep(0.3)
    assert not sim.soft_off
    await wait_until(lambda: sim.soft_off, within=3)


async def test_fault_light(simulate: SimFactory) -> None:
    """pyasic sends the A-series "led,1-1"; neither Nano understands it. The Nano 3 LED is
    driven with led,setmode and shows in estats as Led[], which pyasic reads."""
    sim3 = await simulate(AvalonNanoMiner, "127.0.3.37", model=N3, **FAST)
    sim3s = await simulate(AvalonNanoMiner, "127.0.3.38", model=N3S, **FAST)
    nano3 = CGMinerAvalonNano3("127.0.3.37")
    assert await nano3.fault_light_on() is False
    assert await CGMinerAvalonNano3s("127.0.3.38").fault_light_on() is False
    assert sim3s.commands[-1].applied is False

    reply = await rpc("127.0.3.37", "ascset", "0,led,setmode,2")
    assert status_msg(reply) == ("I", "ASC 0 set info: led setmode ok")
    await wait_until(lambda: sim3.led_mode == 2)
    assert (await nano3.get_data()).fault_light is True
    got = await rpc("127.0.3.37", "ascset", "0,led,get")
    assert status_msg(got) == ("I", "ASC 0 set info: led[2-100-100-255-128-0]")


async def test_reboot(simulate: SimFactory, short_timeouts: None) -> None:
    """pyasic's reboot sends `restart`, which this API does not have; the firmware's reboot is
    `ascset|0,reboot,<delay s>`."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.39", model=N3S, work_level=1, **FAST)
    miner = CGMinerAvalonNano3s("127.0.3.39")
    assert await miner.reboot() is False
    assert sim.powered

    sim.meter.start -= 100
    reply = await rpc("127.0.3.39", "ascset", "0,reboot,0")
    assert status_msg(reply) == ("S", "ASC 0 set OK")
    await wait_until(lambda: not sim.powered, within=1)
    assert await pyasic.get_miner("127.0.3.39") is None
    await wait_until(lambda: sim.powered, within=2)
    data = await miner.get_data()
    assert data.uptime is not None
    assert data.uptime < 2
    assert data.wattage_limit == 100  # the work mode is a saved setting
    assert status_msg(await rpc("127.0.3.39", "ascset", "0,reboot,301")) == (
        "E",
        "ASC 0 set failed: reboot value should be 0~300 seconds",
    )


async def test_fan_speed_override_nano3s(simulate: SimFactory) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.40", model=N3S, **FAST)
    assert status_msg(await rpc("127.0.3.40", "ascset", "0,fan-spd,80"))[0] == "S"
    await wait_until(lambda: sim.fan_override == 80)
    assert (await CGMinerAvalonNano3s("127.0.3.40").get_data()).fans[0].speed == 80 * 78
    assert status_msg(await rpc("127.0.3.40", "ascset", "0,fan-spd,5")) == (
        "E",
        "ASC 0 set failed: invalid fan value, valid range 15-100 for stable pwm,-1 for auto adjust",
    )


# ---- physics -----------------------------------------------------------------------------
def test_models_are_consistent() -> None:
    for spec in (NANO3, NANO3S):
        assert [lv.watts for lv in spec.levels] == sorted(lv.watts for lv in spec.levels)
        for lv in spec.levels:
            assert lv.watts <= lv.max_power
            assert 15 < lv.watts / (lv.ghs / 1000) < 35  # J/TH of an A3197/A3198 Nano


def test_hash_meter_windows() -> None:
    meter = HashMeter(0.0, 100.0)
    meter.set(60.0, 0.0)
    assert meter.total(120.0) == 6000.0
    assert meter.average(120.0) == 50.0
    assert meter.average(120.0, 60) == 0.0
    assert meter.average(90.0, 60) == 50.0
    assert meter.average(0.0) == 0.0


async def test_rolling_averages_lag_a_change(simulate: SimFactory) -> None:
    """cgminer's MHS figures are window averages: 10 s after dropping from level 2 to
    level 0, "MHS 5s" shows the new rate and "MHS 1m" still mostly the old one."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.41", model=N3, **FAST)
    now = time.monotonic()
    high, low = NANO3.levels[2].ghs * 0.975, NANO3.levels[0].ghs * 0.975
    sim.meter = HashMeter(now - 120, high)
    sim.meter.set(now - 10, low)
    sim.work_level = 0
    devs = (await rpc("127.0.3.41", "devs"))["DEVS"][0]
    assert devs["MHS 5s"] == pytest.approx(low * 1000)
    assert devs["MHS 1m"] == pytest.approx((50 * high + 10 * low) / 60 * 1000, rel=1e-3)
    assert devs["MHS av"] == pytest.approx((110 * high + 10 * low) / 120 * 1000, rel=1e-3)
    # The Nano 3 board rate pyasic reports is the average since boot.
    data = await CGMinerAvalonNano3("127.0.3.41").get_data()
    assert float(data.hashrate.into(SHA256Unit.GH)) == pytest.approx(
        (110 * high + 10 * low) / 120, rel=1e-3
    )


async def test_energy_integrates(simulate: SimFactory) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.42", model=N3S, **FAST)
    await asyncio.sleep(0.5)
    assert sim.energy_wh == pytest.approx(133 * 0.5 / 3600, rel=0.2)
    status = sim.status()
    assert status["model"] == N3S
    assert status["power_w"] == 133
    assert status["hashing"]


# ---- faults ------------------------------------------------------------------------------
async def test_powered_off(simulate: SimFactory) -> None:
    """A refused connection does not raise in pyasic's CGMiner client: `_send_bytes` turns
    the OSError into b"{}", so commands return {} and get_data returns empty fields."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.50", model=N3S)
    miner = CGMinerAvalonNano3s("127.0.3.50")
    await sim.power_off()
    assert await pyasic.get_miner("127.0.3.50") is None
    assert await miner.rpc.version() == {}
    data = await miner.get_data()
    assert data.hashrate is None
    assert data.wattage is None
    assert data.mac is None
    assert data.is_mining is True  # the default, not a reading


async def test_timeout(simulate: SimFactory, short_timeouts: None) -> None:
    """pyasic's CGMiner read timeout is a fixed 100 s (rpc/base.py `_send_bytes`), not a
    setting: callers must bound get_data themselves."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.51", model=N3S)
    miner = CGMinerAvalonNano3s("127.0.3.51")
    sim.faults.timeout = True
    started = time.monotonic()
    assert await pyasic.get_miner("127.0.3.51") is None
    assert time.monotonic() - started < 3
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await miner.get_data()


async def test_latency(simulate: SimFactory) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.52", model=N3S)
    sim.faults.latency = 0.3
    started = time.monotonic()
    data = await CGMinerAvalonNano3s("127.0.3.52").get_data()
    assert time.monotonic() - started >= 0.3
    assert data.wattage == 133


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_bad_replies(simulate: SimFactory, fault: str) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.53", model=N3S)
    miner = CGMinerAvalonNano3s("127.0.3.53")
    setattr(sim.faults, fault, True)
    with pytest.raises(APIError):
        await miner.rpc.version()
    # get_data swallows the errors: every field is empty.
    data = await miner.get_data()
    assert data.hashrate is None
    assert data.wattage is None
    assert data.mac is None


async def test_wrong_credentials_only_touch_the_web_login(simulate: SimFactory) -> None:
    """The CGMiner API has no credentials; only the Nano 3 web pages check the login cookie."""
    sim = await simulate(AvalonNanoMiner, "127.0.3.54", model=N3)
    sim.faults.wrong_credentials = True
    async with httpx.AsyncClient(cookies={"auth": sim._auth_cookie()}) as client:
        page = await client.get("http://127.0.3.54/get_minerinfo.cgi")
    assert "<title>Avalon Device</title>" in page.text
    assert (await CGMinerAvalonNano3("127.0.3.54").get_data()).wattage_limit == 125


async def test_command_acknowledged_not_applied(simulate: SimFactory) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.55", model=N3, work_level=0, **FAST)
    sim.faults.ignore_commands = True
    assert await CGMinerAvalonNano3("127.0.3.55").set_power_limit(125) is True
    await asyncio.sleep(0.2)
    assert sim.work_level == 0
    assert sim.commands[-1].applied is False


async def test_reboot_mid_command(simulate: SimFactory, short_timeouts: None) -> None:
    sim = await simulate(AvalonNanoMiner, "127.0.3.56", model=N3, work_level=0, **FAST)
    miner = CGMinerAvalonNano3("127.0.3.56")
    sim.faults.reboot_on_command = True
    # The firmware answers before it goes down: pyasic sees success.
    assert await miner.set_power_limit(125) is True
    await wait_until(lambda: not sim.powered, within=1)
    assert await miner.rpc.version() == {}
    await wait_until(lambda: sim.powered, within=2)
    assert sim.work_level == 0
    assert sim.commands[-1].applied is False
    assert (await miner.get_data()).wattage_limit == 60
