"""Conformance of the simulated Whatsminers with unmodified pyasic 0.79.

The payloads are checked against MicroBT's own documentation, not against the simulator:
- API v2: "WhatsMiner API V2.0.5" (MicroBT), as its commands are transcribed in
  QRB-Labs/PyWhatsminer `core/methods/power.py` and implemented by MicroBT's own client,
  whatsminer/whatsminer-mdk-worker `lib/protocols/wm-api-v2.js`: `get_token` → time, salt,
  newsalt; key = md5-crypt(password, salt), sign = md5-crypt(key + time, newsalt); writes are
  `{"enc": 1, "data": base64(AES-256-ECB(SHA-256(key), {"cmd", "token": sign, ...}))}`;
  `power_off` takes `respbefore` ("true": answer, then turn the power board off),
  `adjust_power_limit` takes `power_limit` as a string of watts (0-99999, never above the
  machine's ordinary power; the machine restarts to apply it); success is Code 131
  "API command OK", a stale token Code 135.
- API v3: "WhatsMiner API V3" (apidoc.whatsminer.com; MicroBT's client
  `lib/protocols/wm-api-v3.js` and mock `mock/api-v3-server.js` in the same repository):
  4-byte little-endian length + JSON on TCP 4433; `set.*` carry `ts`, `account` and
  `token` = Base64(SHA-256(cmd + password + salt + ts))[:8], the salt from
  `get.device.info`; `set.miner.service` takes "start"/"stop"/"restart",
  `set.miner.power_limit` a number of watts; answers are `{"code": 0, "msg": "ok", ...}`.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
import hashlib
import json
import struct
import time
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from passlib.hash import md5_crypt
import pyasic
from pyasic.device.algorithm import SHA256Unit
from pyasic.miners.backends import BTMinerV2, BTMinerV3
import pytest

from tests.conftest import SimFactory
from tests.simulator.whatsminer import WhatsminerV2Miner, WhatsminerV3Miner

FAST = {"command_delay": 0.05, "restart_seconds": 0.3, "reboot_seconds": 0.4}


@pytest.fixture
def short_timeouts() -> Iterator[None]:
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


async def probes_done() -> None:
    """pyasic's detection leaves its probes running when it gives up; let them end."""
    for _ in range(100):
        current = asyncio.current_task()
        if not any(
            "pyasic" in repr(task.get_coro()) for task in asyncio.all_tasks() if task is not current
        ):
            return
        await asyncio.sleep(0.05)


def ths(value: Any) -> float:
    return float(value.into(SHA256Unit.TH))


async def v2_plain(ip: str, request: dict[str, Any]) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection(ip, 4028)
    writer.write(json.dumps(request).encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    answer: dict[str, Any] = json.loads(raw)
    return answer


async def v3_frame(ip: str, request: dict[str, Any]) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection(ip, 4433)
    body = json.dumps(request).encode()
    writer.write(struct.pack("<I", len(body)) + body)
    await writer.drain()
    length = struct.unpack("<I", await reader.readexactly(4))[0]
    answer: dict[str, Any] = json.loads(await reader.readexactly(length))
    writer.close()
    return answer


# ---- detection -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "ip", "model", "backend"),
    [
        (WhatsminerV2Miner, "127.0.42.2", "M30S++ VH30", BTMinerV2),
        (WhatsminerV2Miner, "127.0.42.3", "M50S VH30", BTMinerV2),
        (WhatsminerV3Miner, "127.0.42.4", "M60S VK10", BTMinerV3),
    ],
)
async def test_detected_as_its_api_generation(
    simulate: SimFactory, cls: type, ip: str, model: str, backend: type
) -> None:
    """pyasic finds the family by "btminer" in the 4028 replies, the model in `devdetails`
    and the API generation from the firmware's date in `get_version` (after 2024.11: v3)."""
    await simulate(cls, ip, model=model)
    miner = await pyasic.get_miner(ip)
    assert isinstance(miner, backend)
    assert miner.raw_model == model


async def test_v2_token_and_encryption_as_documented(simulate: SimFactory) -> None:
    ip = "127.0.42.5"
    sim = await simulate(WhatsminerV2Miner, ip, password="s3cret", **FAST)
    token = await v2_plain(ip, {"cmd": "get_token"})
    assert token["STATUS"] == "S"
    assert set(token["Msg"]) == {"time", "salt", "newsalt"}
    # The documented derivation, computed here rather than by the simulator or pyasic.
    salt, stamp, newsalt = token["Msg"]["salt"], token["Msg"]["time"], token["Msg"]["newsalt"]
    key = md5_crypt.using(salt=salt).hash("s3cret").split("$")[3]
    sign = md5_crypt.using(salt=newsalt).hash(key + stamp).split("$")[3]
    aes = Cipher(algorithms.AES(hashlib.sha256(key.encode()).digest()), modes.ECB())
    plain = json.dumps({"cmd": "power_off", "respbefore": "true", "token": sign}).encode()
    encryptor = aes.encryptor()
    data = encryptor.update(plain + b"\x00" * (-len(plain) % 16)) + encryptor.finalize()
    answer = await v2_plain(ip, {"enc": 1, "data": base64.b64encode(data).decode()})
    decryptor = aes.decryptor()
    reply = json.loads(
        (decryptor.update(base64.b64decode(answer["enc"])) + decryptor.finalize()).rstrip(b"\0")
    )
    assert (reply["STATUS"], reply["Code"], reply["Msg"]) == ("S", 131, "API command OK")
    await wait_until(lambda: not sim.mining)
    # Another sign is refused; so is a key made from another password.
    bad = json.dumps({"cmd": "power_on", "token": "x" * 22}).encode()
    encryptor = aes.encryptor()
    data = encryptor.update(bad + b"\x00" * (-len(bad) % 16)) + encryptor.finalize()
    refused = await v2_plain(ip, {"enc": 1, "data": base64.b64encode(data).decode()})
    assert (refused["Code"], refused["Msg"]) == (135, "check token err")
    assert not sim.mining


# ---- data --------------------------------------------------------------------------------
async def test_v2_get_data(simulate: SimFactory) -> None:
    ip = "127.0.42.10"
    sim = await simulate(WhatsminerV2Miner, ip, hostname="garage-wm", power_limit=3000)
    sim.error_codes["329"] = "2024-01-17 11:28:11"
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    data = await miner.get_data()
    assert ths(data.hashrate) == pytest.approx(sim.hashrate_ths, rel=1e-4)
    assert sim.hashrate_ths < 112.0
    assert ths(data.expected_hashrate) == pytest.approx(112.0)
    assert data.wattage == sim.power_w == 2970
    assert data.wattage_limit == 3000
    assert data.mac == sim.mac
    assert data.hostname == "garage-wm"
    assert data.fw_ver == "20230714.15.Rel"
    assert data.serial_number == sim.serial
    assert data.is_mining is True
    assert data.env_temp == 25.0
    assert [f.speed for f in data.fans] == list(sim.fan_rpm())
    assert [b.chip_temp for b in data.hashboards] == [round(sim.chip_temps(i)[1]) for i in range(3)]
    assert [b.chips for b in data.hashboards] == [111, 111, 111]
    assert [e.error_code for e in data.errors] == [329]
    assert [(str(p.url), p.user, p.active) for p in data.pools] == [
        ("stratum+tcp://btc.f2pool.com:1314", "homeminer.wm", True)
    ]
    assert data.uptime == sim.elapsed_s


async def test_v3_get_data(simulate: SimFactory) -> None:
    """pyasic reads v3 well but has no mining state: a stopped miner still reads as mining
    (its `is_mining` is the default), which is why the driver reads `miner.working`."""
    ip = "127.0.42.11"
    sim = await simulate(WhatsminerV3Miner, ip, hostname="shed-m60", **FAST)
    miner = await pyasic.get_miner(ip)
    assert isinstance(miner, BTMinerV3)
    data = await miner.get_data()
    assert ths(data.hashrate) == pytest.approx(172.0, rel=1e-3)
    assert data.wattage == sim.power_w == 3422
    assert data.wattage_limit == 3422
    assert data.mac == sim.mac
    assert data.hostname == "shed-m60"
    assert data.fw_ver == "20250915.16.Rel2"
    assert data.api_ver == "3.0.2"
    assert [b.chips for b in data.hashboards] == [215, 215, 215]
    assert [f.speed for f in data.fans] == list(sim.fan_rpm())
    assert data.uptime == sim.elapsed_s
    assert await miner.stop_mining() is True
    await wait_until(lambda: not sim.hashing)
    stopped = await miner.get_data(include=["is_mining", "hashrate", "wattage"])
    assert stopped.is_mining is True
    assert ths(stopped.hashrate) == 0
    info = await v3_frame(ip, {"cmd": "get.device.info", "param": "miner"})
    assert info["msg"] == {"miner": {**info["msg"]["miner"], "working": "false"}}


# ---- controls ----------------------------------------------------------------------------
async def test_v2_power_off_and_on(simulate: SimFactory) -> None:
    ip = "127.0.42.20"
    sim = await simulate(WhatsminerV2Miner, ip, **FAST)
    miner = await pyasic.get_miner(ip)
    assert isinstance(miner, BTMinerV2)
    assert await miner.stop_mining() is True
    assert sim.wire[-1] == {
        "cmd": "power_off",
        "respbefore": "true",
        "token": miner.rpc.token.host_sign,
    }
    await wait_until(lambda: not sim.mining)
    data = await miner.get_data(include=["is_mining", "hashrate", "wattage"])
    assert data.is_mining is False
    assert ths(data.hashrate) == 0
    # The control board stays up and draws a little: the power board is off.
    assert data.wattage == sim.idle_w
    assert await miner.resume_mining() is True
    assert sim.wire[-1]["cmd"] == "power_on"
    await wait_until(lambda: sim.hashing)
    assert (await miner.get_data(include=["is_mining", "hashrate"])).is_mining is True


async def test_v2_power_limit_restarts_btminer(simulate: SimFactory) -> None:
    ip = "127.0.42.21"
    sim = await simulate(WhatsminerV2Miner, ip, **{**FAST, "restart_seconds": 0.6})
    sim.boot_time -= 3600
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    assert await miner.set_power_limit(2600) is True
    assert {k: v for k, v in sim.wire[-1].items() if k != "token"} == {
        "cmd": "adjust_power_limit",
        "power_limit": "2600",
    }
    await wait_until(lambda: not sim.btminer_up)
    # btminer's API goes with it; pyasic reads nothing rather than failing.
    assert await miner.rpc.summary() == {}
    await wait_until(lambda: sim.btminer_up)
    summary = (await miner.rpc.summary())["SUMMARY"][0]
    assert summary["Power Limit"] == 2600
    assert summary["Elapsed"] <= 1
    assert summary["Uptime"] >= 3600
    # Above the machine's ordinary power the firmware keeps its ordinary power.
    assert await miner.set_power_limit(5000) is True
    await wait_until(lambda: sim.power_limit == 3472 and sim.btminer_up)


async def test_v2_fault_light_and_reboot(simulate: SimFactory, short_timeouts: None) -> None:
    ip = "127.0.42.22"
    sim = await simulate(WhatsminerV2Miner, ip, **FAST)
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    assert await miner.fault_light_on() is True
    assert {k: v for k, v in sim.wire[-1].items() if k != "token"} == {
        "cmd": "set_led",
        "color": "red",
        "period": 200,
        "duration": 100,
        "start": 0,
    }
    assert (await miner.get_data(include=["fault_light"])).fault_light is True
    assert await miner.fault_light_off() is True
    assert sim.wire[-1]["param"] == "auto"
    assert sim.led == "auto"
    assert await miner.reboot() is True
    await wait_until(lambda: not sim.powered)
    await wait_until(lambda: sim.powered)
    # A reboot forgets the tokens; pyasic keeps its own for 30 minutes and is refused.
    assert await miner.stop_mining() is False
    assert sim.mining


async def test_v3_service_and_power_limit(simulate: SimFactory) -> None:
    ip = "127.0.42.23"
    sim = await simulate(WhatsminerV3Miner, ip, **FAST)
    miner = await pyasic.get_miner(ip)
    assert isinstance(miner, BTMinerV3)
    assert await miner.stop_mining() is True
    request = sim.wire[-1]
    assert set(request) == {"cmd", "param", "ts", "account", "token"}
    assert (request["cmd"], request["param"], request["account"]) == (
        "set.miner.service",
        "stop",
        "super",
    )
    # The documented token, computed here: Base64(SHA-256(cmd + password + salt + ts))[:8].
    salt = (await v3_frame(ip, {"cmd": "get.device.info", "param": "salt"}))["msg"]["salt"]
    digest = hashlib.sha256(f"set.miner.servicesuper{salt}{request['ts']}".encode()).digest()
    assert request["token"] == base64.b64encode(digest).decode()[:8]
    await wait_until(lambda: not sim.mining)
    assert await miner.resume_mining() is True
    assert sim.wire[-1]["param"] == "start"
    await wait_until(lambda: sim.hashing)
    assert await miner.set_power_limit(2800) is True
    assert (sim.wire[-1]["cmd"], sim.wire[-1]["param"]) == ("set.miner.power_limit", 2800)
    await wait_until(lambda: sim.power_limit == 2800 and sim.hashing)
    summary = (await miner.rpc.get_miner_status_summary() or {})["msg"]["summary"]
    assert summary["power-limit"] == 2800
    assert summary["elapsed"] <= 1
    assert summary["power-realtime"] == sim.power_w < 2800


async def test_v3_wrong_password_and_write_switch(simulate: SimFactory) -> None:
    ip = "127.0.42.24"
    sim = await simulate(WhatsminerV3Miner, ip, password="changed", **FAST)
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    assert await miner.stop_mining() is False
    assert sim.mining
    miner.rpc.pwd = "changed"
    assert await miner.stop_mining() is True
    await wait_until(lambda: not sim.mining)
    sim.write_api = False
    answer = await miner.rpc.set_miner_service("start")
    assert answer is not None
    assert (answer["code"], answer["msg"]) == (-4, "no permission")
    info = await v3_frame(ip, {"cmd": "get.device.info", "param": "system"})
    assert info["msg"]["system"]["apiswitch"] == "0"


async def test_v2_wrong_password_and_write_switch(simulate: SimFactory) -> None:
    ip = "127.0.42.25"
    sim = await simulate(WhatsminerV2Miner, ip, password="changed", **FAST)
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    # The key derives from the password: the miner cannot read what pyasic sends.
    assert await miner.stop_mining() is False
    assert sim.mining
    miner.rpc.pwd = "changed"
    miner.rpc.token = None
    assert await miner.stop_mining() is True
    sim.write_api = False
    answer = await miner.rpc.send_privileged_command("power_on", ignore_errors=True)
    assert (answer["Code"], answer["Msg"]) == (45, "can't access write cmd")


# ---- faults ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "ip"), [(WhatsminerV2Miner, "127.0.42.30"), (WhatsminerV3Miner, "127.0.42.31")]
)
async def test_powered_off_and_silent(
    simulate: SimFactory, short_timeouts: None, cls: type, ip: str
) -> None:
    sim = await simulate(cls, ip)
    await sim.power_off()
    assert await pyasic.get_miner(ip) is None
    await sim.power_on()
    sim.faults.timeout = True
    started = time.monotonic()
    assert await pyasic.get_miner(ip) is None
    assert time.monotonic() - started < 3.5
    await sim.power_off()
    await probes_done()


async def test_ignored_command(simulate: SimFactory) -> None:
    ip = "127.0.42.32"
    sim = await simulate(WhatsminerV2Miner, ip, **FAST)
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    sim.faults.ignore_commands = True
    assert await miner.stop_mining() is True
    await asyncio.sleep(0.2)
    assert sim.mining
    assert sim.commands[-1].applied is False
