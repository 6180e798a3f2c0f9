"""Conformance of the simulated VNish Antminer with unmodified pyasic 0.79.

The payloads are checked against VNish's web API as the firmware documents it at `/docs`
on the miner (VNish 1.2.6, transcribed with observed answers in a public "VNish API
Documentation"): `POST /api/v1/unlock {"pw": "admin"}` → `{"token": ...}` for the
`Authorization` header; `POST /api/v1/mining/stop|start|pause|resume` answer nothing on
success and `{"err": "CGMiner err: Cgminer error failed-to-activate-<mode>-mode "}` when
refused; presets are named by their watts and described "<W> watt ~ <TH> TH"; `POST
/api/v1/settings` takes a nested partial update (`{"miner": {...}}`); `/api/v1/find-miner`
toggles the LED and answers `{"on": <bool>}`; the web UI of 1.2.7 and later is "AnthillOS".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time
from typing import Any

import httpx
import pyasic
from pyasic import APIError
from pyasic.device.algorithm import SHA256Unit
from pyasic.miners.antminer import VNishS19jPro, VNishS19XP
from pyasic.miners.backends import VNish
import pytest

from tests.conftest import SimFactory
from tests.simulator.vnish import VNishMiner

FAST = {"command_delay": 0.05, "restart_seconds": 0.2, "reboot_seconds": 0.4}


async def wait_until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


def ths(value: Any) -> float:
    return float(value.into(SHA256Unit.TH))


@pytest.mark.parametrize(
    ("ip", "model", "cls"),
    [
        ("127.0.43.2", "Antminer S19j Pro", VNishS19jPro),
        ("127.0.43.3", "Antminer S19 XP", VNishS19XP),
    ],
)
async def test_detected_by_its_web_page_and_stats(
    simulate: SimFactory, ip: str, model: str, cls: type
) -> None:
    await simulate(VNishMiner, ip, model=model)
    assert type(await pyasic.get_miner(ip)) is cls


async def test_unlock_and_token(simulate: SimFactory) -> None:
    ip = "127.0.43.4"
    await simulate(VNishMiner, ip, password="s3cret")
    async with httpx.AsyncClient(base_url=f"http://{ip}/api/v1") as client:
        assert (await client.get("/summary")).status_code == 401
        assert (await client.post("/unlock", json={"pw": "admin"})).status_code == 401
        token = (await client.post("/unlock", json={"pw": "s3cret"})).json()["token"]
        for header in (f"Bearer {token}", token):
            summary = await client.get("/summary", headers={"Authorization": header})
            assert summary.json()["miner"]["miner_type"] == "Antminer S19j Pro (Vnish 1.2.7)"
        # What needs no login.
        assert (await client.get("/info")).json()["fw_name"] == "Vnish"
        assert (await client.get("/perf-summary")).json()["current_preset"]["name"] == "2950"


async def test_get_data(simulate: SimFactory) -> None:
    """pyasic reads the web summary and the cgminer stats; its hostname comes from a
    `system` section the 1.2.x summary does not have."""
    ip = "127.0.43.10"
    sim = await simulate(VNishMiner, ip, hostname="garage-s19")
    miner = await pyasic.get_miner(ip)
    assert isinstance(miner, VNish)
    data = await miner.get_data()
    assert ths(data.hashrate) == pytest.approx(sim.hashrate_ths, rel=1e-3)
    assert data.wattage == sim.power_w == 2950
    assert data.wattage_limit == 2950
    assert data.mac == sim.mac
    assert data.hostname is None
    assert data.fw_ver == "1.2.7"
    assert data.is_mining is True
    assert [b.chips for b in data.hashboards] == [126, 126, 126]
    assert [f.speed for f in data.fans] == [sim.fan_rpm()] * 4
    assert [(str(p.url), p.user) for p in data.pools] == [
        ("stratum+tcp://stratum.braiins.com:3333", "homeminer.vnish")
    ]


async def test_stop_then_start(simulate: SimFactory) -> None:
    """pyasic stops with `mining/stop` and resumes with `mining/resume`, which the firmware
    only takes after a pause: a miner it stopped stays stopped. The documented empty answer
    of a successful command is an error to pyasic."""
    ip = "127.0.43.11"
    sim = await simulate(VNishMiner, ip, **FAST)
    miner = await pyasic.get_miner(ip)
    assert isinstance(miner, VNish)
    with pytest.raises(APIError, match="empty response"):
        await miner.stop_mining()
    await wait_until(lambda: sim.state == "stopped")
    assert sim.power_w == sim.idle_w
    assert (await miner.get_data(include=["is_mining"])).is_mining is False
    with pytest.raises(APIError):
        await miner.resume_mining()
    await asyncio.sleep(0.2)
    assert sim.state == "stopped"
    assert sim.commands[-1].command == "mining/resume"
    assert sim.commands[-1].applied is False
    async with httpx.AsyncClient(base_url=f"http://{ip}/api/v1") as client:
        token = (await client.post("/unlock", json={"pw": "admin"})).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        refused = await client.post("/mining/resume", headers=auth)
        assert refused.json() == {
            "err": "CGMiner err: Cgminer error failed-to-activate-resume-mode "
        }
        started = await client.post("/mining/start", headers=auth)
        assert (started.status_code, started.content) == (200, b"")
        await wait_until(lambda: sim.hashing)
        # Pause and resume are the other pair.
        await client.post("/mining/pause", headers=auth)
        await wait_until(lambda: sim.state == "paused")
        await client.post("/mining/resume", headers=auth)
        await wait_until(lambda: sim.hashing)


async def test_presets(simulate: SimFactory) -> None:
    """Presets are power targets; pyasic lists them but reads every mode as "normal", so its
    `set_power_limit` sends nothing. The documented partial update changes the preset."""
    ip = "127.0.43.12"
    sim = await simulate(VNishMiner, ip, **FAST)
    miner = await pyasic.get_miner(ip)
    assert isinstance(miner, VNish)
    presets = await miner.web.autotune_presets()
    assert isinstance(presets, list)
    assert presets[0]["name"] == "disabled"
    assert {p["name"]: p["pretty"] for p in presets}["2100"].startswith("2100 watt ~ ")
    assert [p["name"] for p in presets if p["status"] == "tuned"] == [
        "1900",
        "2100",
        "2350",
        "2620",
        "2950",
    ]
    assert (await miner.get_config()).mining_mode.mode == "normal"
    assert await miner.set_power_limit(2400) is False
    assert sim.commands == []
    answer = await miner.web.send_command(
        "settings", privileged=True, miner={"overclock": {"preset": "2350"}}
    )
    assert answer == {"restart_required": False, "reboot_required": False}
    await wait_until(lambda: sim.preset == "2350")
    await wait_until(lambda: sim.hashing)
    assert sim.power_w == 2350
    assert (await miner.web.perf_summary())["current_preset"]["name"] == "2350"


async def test_find_miner_toggles(simulate: SimFactory) -> None:
    ip = "127.0.43.13"
    sim = await simulate(VNishMiner, ip, **FAST)
    miner = await pyasic.get_miner(ip)
    assert isinstance(miner, VNish)
    assert await miner.web.find_miner() == {"on": True}
    await wait_until(lambda: sim.find_miner)
    assert (await miner.web.status())["find_miner"] is True
    assert await miner.web.find_miner() == {"on": False}
    await wait_until(lambda: not sim.find_miner)


async def test_powered_off(simulate: SimFactory) -> None:
    ip = "127.0.43.14"
    sim = await simulate(VNishMiner, ip)
    await sim.power_off()
    assert await pyasic.get_miner(ip) is None
