"""Conformance of the simulated Avalon Q and Mini 3 with unmodified pyasic 0.79.

What each command looks like on the wire comes from what owners captured from real units:
pyasic issue #312 (a Mini 3's `version` and `stats`), pyasic issue #350 (a Q's `estats`,
`litestats` and the `softoff`/`softon` and `workmode` commands its app sends), the
ha-avalon-mini integration (the Mini 3's `workmode` 0/1/2 = Heating/Mining/Night and
`worklevel` -1/0 = Eco/Super) and a Q's `ascset|0,help` list. Several tests pin what pyasic
does with these miners, which is not what their firmware takes.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pyasic
from pyasic.device.algorithm import SHA256Unit
from pyasic.miners.avalonminer.cgminer.mini.mini3 import CGMinerAvalonMini3
from pyasic.miners.avalonminer.cgminer.Q.Q import CGMinerAvalonQHome
import pytest

from tests.conftest import SimFactory
from tests.simulator.avalon_home import AVALON_Q, HELP, MINI3, AvalonHomeMiner
from tests.simulator.test_avalon import rpc, status_msg, wait_until

FAST = {"command_delay": 0.05, "reboot_seconds": 0.4}
Q = "Avalon Q"
MINI = "Avalon Mini 3"


async def stats_line(ip: str) -> str:
    stats = (await rpc(ip, "estats"))["STATS"][0]
    key = next(k for k in stats if k.startswith("MM ID0"))
    text: str = stats[key]
    return text


# ---- detection and reading ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "cls", "raw"),
    [(Q, CGMinerAvalonQHome, "Avalon Q Home"), (MINI, CGMinerAvalonMini3, "Avalon Mini 3")],
)
async def test_get_miner_class(simulate: SimFactory, model: str, cls: Any, raw: str) -> None:
    """pyasic's factory upper-cases `PROD`: "AVALON Q" and "AVALON MINI3" are its keys."""
    await simulate(AvalonHomeMiner, "127.0.44.10", model=model)
    miner = await pyasic.get_miner("127.0.44.10")
    assert type(miner) is cls
    assert str(miner.raw_model) == raw


async def test_version_replies_are_the_firmwares(simulate: SimFactory) -> None:
    """Field by field as captured: the Mini 3 in pyasic issue #312 (MAC=e0e1a93e2c7d, no
    UPAPI), the Q with its hash-board and fan-board MCU versions."""
    mini = await simulate(AvalonHomeMiner, "127.0.44.11", model=MINI)
    info = (await rpc("127.0.44.11", "version"))["VERSION"][0]
    assert list(info) == [
        "CGMiner",
        "API",
        "PROD",
        "MODEL",
        "HWTYPE",
        "SWTYPE",
        "LVERSION",
        "BVERSION",
        "CGVERSION",
        "MCUVERSION",
        "DNA",
        "MAC",
    ]
    assert (info["PROD"], info["MODEL"], info["HWTYPE"], info["SWTYPE"]) == (
        "Avalon Mini3",
        "Mini3",
        "M_MM1v1_X1",
        "MM319",
    )
    assert info["MAC"] == mini.mac.replace(":", "").lower()
    await simulate(AvalonHomeMiner, "127.0.44.12", model=Q)
    info = (await rpc("127.0.44.12", "version"))["VERSION"][0]
    assert (info["PROD"], info["MODEL"], info["HBMCUVERSION"], info["FANMCUVERSION"]) == (
        "Avalon Q",
        "Q",
        "Q_hb_v1.1",
        "Q_fb_v1.2",
    )


async def test_q_estats_is_a_summary_with_hbinfo(simulate: SimFactory) -> None:
    """The Q names its line `MM ID0:Summary`, wraps it in `'STATS':{…}` and puts the 160
    chips in `HBinfo` (pyasic issue #350); pyasic's `parse_estats` undoes both."""
    await simulate(AvalonHomeMiner, "127.0.44.13", model=Q, work_level=0)
    raw = await rpc("127.0.44.13", "estats")
    stats = raw["STATS"][0]
    assert stats["ID"] == "AVALON0"
    assert stats["MM ID0:Summary"].startswith("'STATS':{Ver[Q-25052801_14a19a2] LVer[")
    assert stats["HBinfo"].startswith("'HB0':{PVT_T0[")
    for field in (
        "CPU[K230]",
        "STATE[1]",
        "SYSTEMSTATU[Work: In Work, Hash Board: 1]",
        "SoftOffTime[0] SoftOnTime[0]",
        "PS[0 1217 2250 37 808 2251 834]",
        "WORKMODE[0] WORKLEVEL[0] MPO[800]",
    ):
        assert field in stats["MM ID0:Summary"]
    assert "SoftOFF[" not in stats["MM ID0:Summary"]
    parsed = CGMinerAvalonQHome.parse_estats(raw)["STATS"][0]
    assert parsed["MM ID0"]["MPO"] == 800
    assert len(parsed["HBinfo"]["HB0"]["PVT_T0"]) == 160
    lite = (await rpc("127.0.44.13", "litestats"))["STATS"][0]
    assert "MM ID0:Summary" in lite
    assert "HBinfo" not in lite


async def test_get_data_q(simulate: SimFactory) -> None:
    sim = await simulate(AvalonHomeMiner, "127.0.44.14", model=Q, **FAST)
    data = await (await pyasic.get_miner("127.0.44.14")).get_data()
    assert data.mac == sim.mac  # from `version`
    # The rate since boot (MGHS) of its one board; expected is GHSmm.
    assert float(data.hashrate.into(SHA256Unit.TH)) == pytest.approx(sim.actual_ghs / 1000)
    assert float(data.expected_hashrate.into(SHA256Unit.TH)) == pytest.approx(78.5)
    # pyasic looks for WALLPOWER; the Q has its watts in PS[6].
    assert data.wattage is None
    assert data.wattage_limit == 1300
    # pyasic expects two fans; the Q has four.
    assert [f.speed for f in data.fans] == [sim.fan_rpm + 14, sim.fan_rpm + 28]
    assert "Fan4[" in await stats_line("127.0.44.14")
    board = data.hashboards[0]
    assert board.chips == 160  # from HBinfo's PVT_T0
    assert board.chip_temp == sim.chip_max_c
    assert data.env_temp is None  # pyasic reads Temp; the Q has ITemp
    assert data.pools[0].active is True


async def test_get_data_mini3_and_its_web_login(simulate: SimFactory) -> None:
    """pyasic reads the Mini 3's MAC from its web UI with a cookie made from "root"; the
    Mini 3's password is "admin" from the factory, so pyasic gets the login page and no MAC
    (pyasic issue #400), while `version` has it."""
    sim = await simulate(AvalonHomeMiner, "127.0.44.15", model=MINI, **FAST)
    miner = await pyasic.get_miner("127.0.44.15")
    data = await miner.get_data()
    assert data.mac is None
    assert data.wattage is None
    assert data.wattage_limit == 800
    assert data.hashboards[0].chips == 66  # PVT_T0 in MM ID0
    assert [f.speed for f in data.fans] == [sim.fan_rpm]
    assert "PS[0 1210 2250 37 760 2085 824]" in await stats_line("127.0.44.15")

    async with httpx.AsyncClient() as client:
        page = await client.get("http://127.0.44.15/get_minerinfo.cgi")
        assert "<title>Avalon Device</title>" in page.text
        auth = await client.get("http://127.0.44.15/get_auth.cgi?num=0.5")
        assert auth.text.startswith('getAuthCallback({"auth":"ff0000ff","code":"')
    async with httpx.AsyncClient(cookies={"auth": sim._auth_cookie()}) as client:
        page = await client.get("http://127.0.44.15/get_minerinfo.cgi")
    info = json.loads(page.text.removeprefix("minerinfoCallback(").removesuffix(");"))
    assert info["mac"] == sim.mac.lower()
    assert info["hwtype"] == "Avalon Mini3"


# ---- controls ----------------------------------------------------------------------------
async def test_workmode_is_set_and_read_back(simulate: SimFactory) -> None:
    """`ascset|0,workmode,set,N` (the verb-prefixed form; `workmode,1` is "unknown
    argument"), read back with `workmode,get` and in estats as WORKMODE[N] / MPO[W]."""
    sim = await simulate(AvalonHomeMiner, "127.0.44.16", model=Q, work_level=1, **FAST)
    assert status_msg(await rpc("127.0.44.16", "ascset", "0,workmode,set,2")) == (
        "S",
        "ASC 0 set OK",
    )
    await wait_until(lambda: sim.work_level == 2)
    assert sim.power_w == AVALON_Q.levels[2].watts
    assert "WORKMODE[2] WORKLEVEL[0] MPO[1674]" in await stats_line("127.0.44.16")
    assert status_msg(await rpc("127.0.44.16", "ascset", "0,workmode,get")) == (
        "I",
        "ASC 0 set info: workmode 2",
    )
    assert status_msg(await rpc("127.0.44.16", "ascset", "0,workmode,1"))[0] == "E"
    assert status_msg(await rpc("127.0.44.16", "ascset", "0,help")) == (
        "I",
        f"ASC 0 set info: {HELP}",
    )


async def test_mini3_modes_and_levels(simulate: SimFactory) -> None:
    """Mini 3: `workmode` 0/1/2 = Heating/Mining/Night, `worklevel` -1/0 = Eco/Super."""
    sim = await simulate(AvalonHomeMiner, "127.0.44.17", model=MINI, work_level=0, **FAST)
    assert sim.power_w == MINI3.levels[0].watts
    assert status_msg(await rpc("127.0.44.17", "ascset", "0,worklevel,set,-1"))[0] == "S"
    await wait_until(lambda: sim.worklevel == -1)
    assert sim.power_w < MINI3.levels[0].watts
    assert "WORKMODE[0] WORKLEVEL[-1] MPO[500]" in await stats_line("127.0.44.17")
    assert status_msg(await rpc("127.0.44.17", "ascset", "0,workmode,set,2"))[0] == "S"
    await wait_until(lambda: sim.work_level == 2)
    assert status_msg(await rpc("127.0.44.17", "ascset", "0,worklevel,set,1")) == (
        "E",
        "ASC 0 set failed: worklevel unknown argument",
    )


async def test_pyasic_power_limit_sends_worklevel(simulate: SimFactory) -> None:
    """pyasic/miners/backends/avalonminer.py `set_power_limit`: >100 W → `worklevel,set,2`,
    which neither model has (the Q's worklevel is a step inside its mode, kept at 0); a
    value under 3 is sent as it is, so `set_power_limit(-1)` is the Mini 3's Eco."""
    q = await simulate(AvalonHomeMiner, "127.0.44.18", model=Q, **FAST)
    assert await CGMinerAvalonQHome("127.0.44.18").set_power_limit(800) is False
    assert q.commands[-1].params == {"option": "worklevel", "setting": "set,2"}
    assert q.work_level == 1
    mini = await simulate(AvalonHomeMiner, "127.0.44.19", model=MINI, **FAST)
    assert await CGMinerAvalonMini3("127.0.44.19").set_power_limit(-1) is True
    await wait_until(lambda: mini.worklevel == -1)


@pytest.mark.parametrize("model", [Q, MINI])
async def test_pyasic_soft_off_and_on(simulate: SimFactory, model: str) -> None:
    """pyasic sends `softoff,1:<now + 5>` (its stop) and `softon,1:<now + 5>`; the firmware
    answers "success softoff:<time>" and acts at that time on its clock, here 5 s ahead."""
    sim = await simulate(AvalonHomeMiner, "127.0.44.20", model=model, clock_offset=5, **FAST)
    miner = await pyasic.get_miner("127.0.44.20")
    assert await miner.stop_mining() is True
    await wait_until(lambda: sim.soft_off)
    assert sim.power_w == sim.spec.idle_watts
    line = await stats_line("127.0.44.20")
    assert "SYSTEMSTATU[Work: In Idle, Hash Board: 1]" in line
    assert "GHSspd[0.00]" in line
    assert "TMax[0]" in line
    if model == MINI:
        assert "SoftOFF[1]" in line
    assert await miner.resume_mining() is True
    await wait_until(lambda: not sim.soft_off)
    assert sim.power_w == sim.level.watts
    reply = await rpc("127.0.44.20", "ascset", f"0,softoff,1:{int(time.time())}")
    assert status_msg(reply)[1].startswith("ASC 0 set info: success softoff:")


@pytest.mark.parametrize("model", [Q, MINI])
async def test_pyasic_reboot_and_led_are_not_these_firmwares(
    simulate: SimFactory, model: str
) -> None:
    """pyasic's reboot sends `restart` (not a command here) and its fault light `led,1-1`
    (not in the Q's option list); the reboot is `ascset|0,reboot,0`."""
    sim = await simulate(AvalonHomeMiner, "127.0.44.21", model=model, **FAST)
    miner = await pyasic.get_miner("127.0.44.21")
    assert await miner.reboot() is False
    assert await miner.fault_light_on() is False
    assert status_msg(await rpc("127.0.44.21", "ascset", "0,led,1-1")) == (
        "E",
        "ASC 0 set failed: Unknown option: led",
    )
    assert status_msg(await rpc("127.0.44.21", "ascset", "0,reboot,0")) == ("S", "ASC 0 set OK")
    await wait_until(lambda: not sim.powered, within=1)
    await wait_until(lambda: sim.powered, within=2)


async def test_lcd_on_off(simulate: SimFactory) -> None:
    sim = await simulate(AvalonHomeMiner, "127.0.44.22", model=MINI, **FAST)
    assert status_msg(await rpc("127.0.44.22", "ascset", "0,lcd,0:0"))[0] == "S"
    await wait_until(lambda: not sim.lcd_on)
    assert "LcdOnoff[0]" in await stats_line("127.0.44.22")
