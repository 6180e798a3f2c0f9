"""Conformance of the simulated ESP-Miner (Bitaxe / NerdQAxe++) with unmodified pyasic and
with the firmware sources (bitaxeorg/ESP-Miner, shufps/ESP-Miner-NerdQAxePlus) it follows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import time
from typing import Any

import httpx
import pyasic
from pyasic import APIError
from pyasic.config import FanModeConfig, MinerConfig, PoolConfig
from pyasic.device.algorithm import SHA256Unit
from pyasic.miners.backends.bitaxe import BitAxe
from pyasic.miners.bitaxe import BitAxeGamma
import pytest

from tests.conftest import SimFactory
from tests.simulator.esp_miner import MODELS, BitaxeMiner, suffix_string

FAST = {"command_delay": 0.05, "reboot_seconds": 0.3}


@pytest.fixture
def short_timeouts() -> Iterator[None]:
    """pyasic's timeouts are whole seconds; 1 s keeps the fault tests short."""
    keys = ("factory_get_timeout", "api_function_timeout", "network_ping_timeout")
    saved = {key: pyasic.settings.get(key) for key in keys}
    for key in keys:
        pyasic.settings.update(key, 1)
    yield
    for key, value in saved.items():
        pyasic.settings.update(key, value)


async def wait_until(predicate: Any, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def raw(method: str, url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.request(method, url, **kwargs)


# ---- detection ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "cls_name"),
    [
        ("Gamma 601", "BitAxeGamma"),
        ("Supra 401", "BitAxeSupra"),
        ("Ultra 204", "BitAxeUltra"),
        ("Max 102", "BitAxeMax"),
        ("Hex 302", "BitAxeUltra"),
    ],
)
async def test_get_miner_class(simulate: SimFactory, model: str, cls_name: str) -> None:
    await simulate(BitaxeMiner, "127.0.1.10", model=model)
    miner = await pyasic.get_miner("127.0.1.10")
    assert type(miner).__name__ == cls_name


async def test_nerdqaxe_is_not_detected_but_reads_as_a_gamma(simulate: SimFactory) -> None:
    """The Nerd*axe page has no "AxeOS" in it, so pyasic's factory cannot tell what it is."""
    sim = await simulate(BitaxeMiner, "127.0.1.11", model="NerdQAxe++")
    assert await pyasic.get_miner("127.0.1.11") is None
    data = await BitAxeGamma("127.0.1.11").get_data()
    assert data.hashboards[0].chips == 4
    assert data.hashrate is not None
    assert float(data.hashrate.into(SHA256Unit.GH)) == pytest.approx(sim.hashrate_ghs, rel=1e-3)
    assert float(data.expected_hashrate.into(SHA256Unit.TH)) == pytest.approx(600 * 2040 * 4 / 1e6)
    assert data.mac == sim.mac


# ---- data --------------------------------------------------------------------------------
async def test_get_data_gamma(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.12", model="Gamma 601", firmware="v2.14.0")
    miner = await pyasic.get_miner("127.0.1.12")
    assert miner is not None
    data = await miner.get_data()
    # hashRate is GH/s on the wire; pyasic converts it into its default TH/s.
    assert data.hashrate is not None
    assert float(data.hashrate.into(SHA256Unit.GH)) == pytest.approx(sim.hashrate_ghs, rel=1e-3)
    assert float(data.expected_hashrate.into(SHA256Unit.TH)) == pytest.approx(1.071)
    assert data.wattage == round(sim.power_w)
    assert 14 <= data.wattage <= 19
    board = data.hashboards[0]
    assert board.chip_temp == pytest.approx(sim.chip_temp_c, abs=0.01)
    assert board.temp == pytest.approx(sim.vr_temp_c, abs=0.01)
    # pyasic puts the 5 V input, in millivolts, into the board voltage.
    assert board.voltage == pytest.approx(sim.input_voltage_mv)
    assert board.chips == 1
    assert data.fans[0].speed == sim.fan_rpm > 0
    assert data.mac == sim.mac
    assert data.mac.startswith("24:58:7C")
    assert data.hostname == sim.hostname
    assert data.fw_ver == data.api_ver == "v2.14.0"
    assert data.uptime is not None
    assert data.uptime <= sim.uptime_s
    # ESPMiner reads no pools, errors or mining state: is_mining is pyasic's default True.
    assert data.pools == []
    assert data.errors == []
    assert data.is_mining is True
    # J/TH, rounded down (pyasic 0.78 summed the boards from 0 H/s and gave 0).
    assert data.efficiency == pytest.approx(sim.power_w / (sim.hashrate_ghs / 1000), abs=1)
    assert str(data.hashrate.unit) == "TH/s"


async def test_config_reads_pool_and_fan(simulate: SimFactory) -> None:
    await simulate(BitaxeMiner, "127.0.1.13", stratum_url="pool.example.org", stratum_port=3333)
    miner = await pyasic.get_miner("127.0.1.13")
    assert miner is not None
    config = await miner.get_config()
    pool = config.pools.groups[0].pools[0]
    assert pool.url == "stratum+tcp://pool.example.org:3333"
    assert config.fan_mode.mode == "normal"


async def test_old_firmware_layouts(simulate: SimFactory) -> None:
    """asicCount left /api/system/info in v2.9.0; bestDiff was a string before v2.11.0."""
    hex_ = await simulate(BitaxeMiner, "127.0.1.14", model="Hex 302", firmware="v2.7.0")
    info = hex_.system_info()
    assert info["asicCount"] == 6
    assert "expectedHashrate" not in info
    assert isinstance(info["bestDiff"], str)
    miner = await pyasic.get_miner("127.0.1.14")
    assert miner is not None
    data = await miner.get_data()
    assert data.hashboards[0].chips == 6
    assert float(data.expected_hashrate.into(SHA256Unit.GH)) == pytest.approx(485 * 894 * 6 / 1e3)

    turbo = await simulate(BitaxeMiner, "127.0.1.15", model="GammaTurbo 801", firmware="v2.14.0")
    info = turbo.system_info()
    assert "asicCount" not in info
    assert isinstance(info["bestDiff"], int)
    miner = await pyasic.get_miner("127.0.1.15")
    assert miner is not None
    data = await miner.get_data()
    # pyasic falls back to /api/system/asic for the ASIC count...
    assert float(data.expected_hashrate.into(SHA256Unit.GH)) == pytest.approx(525 * 2040 * 2 / 1e3)
    # ...but the board's chip count defaults to 1.
    assert data.hashboards[0].chips == 1


async def test_asic_statistics_and_unknown_routes(simulate: SimFactory) -> None:
    await simulate(BitaxeMiner, "127.0.1.16", model="Supra 401")
    asic = (await raw("GET", "http://127.0.1.16/api/system/asic")).json()
    assert asic["frequencyOptions"] == list(MODELS["Supra 401"].asic.frequency_options)
    assert asic["defaultVoltage"] == 1166
    stats = (await raw("GET", "http://127.0.1.16/api/system/statistics")).json()
    assert stats["statistics"] == []
    missing = await raw("GET", "http://127.0.1.16/api/system/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"error": "unknown route"}
    page = await raw("GET", "http://127.0.1.16/")
    assert "<title>AxeOS</title>" in page.text
    assert page.headers["content-encoding"] == "gzip"
    other = await raw("GET", "http://127.0.1.16/settings")
    assert other.status_code == 302
    assert other.headers["location"] == "/"


def test_suffix_string() -> None:
    assert suffix_string(4_290_000_000) == "4.29G"
    assert suffix_string(999) == "999"


# ---- controls ----------------------------------------------------------------------------
async def test_pause_and_resume_2_14(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.17", firmware="v2.14.0", **FAST)
    miner = await pyasic.get_miner("127.0.1.17")
    assert miner is not None
    reply = await miner.web.send_command("system/pause", post=True)
    assert reply == {"message": "Mining paused"}
    await wait_until(lambda: sim.paused)
    data = await miner.get_data()
    assert float(data.hashrate.into(SHA256Unit.GH)) == 0
    assert data.wattage == round(sim.idle_w)
    # pyasic computes the expected hashrate from the NVS frequency, which a pause keeps.
    assert float(data.expected_hashrate.into(SHA256Unit.TH)) == pytest.approx(1.071)
    info = await miner.web.system_info()
    assert info["miningPaused"] is True
    assert info["expectedHashrate"] == 0
    assert info["coreVoltageActual"] == 0

    assert await miner.web.send_command("system/resume", post=True) == {"message": "Mining resumed"}
    await wait_until(lambda: not sim.paused)
    data = await miner.get_data()
    assert float(data.hashrate.into(SHA256Unit.GH)) == pytest.approx(sim.hashrate_ghs, rel=1e-3)
    assert [c.command for c in sim.commands] == ["pause", "resume"]


async def test_no_pause_before_2_14(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.18", firmware="v2.13.0", **FAST)
    miner = await pyasic.get_miner("127.0.1.18")
    assert miner is not None
    with pytest.raises(APIError):
        await miner.web.send_command("system/pause", post=True)
    reply = await raw("POST", "http://127.0.1.18/api/system/pause")
    assert reply.status_code == 404
    assert sim.mining
    assert sim.commands == []


async def test_pyasic_offers_no_stop_resume_or_power_limit(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.19", firmware="v2.14.0", **FAST)
    miner = await pyasic.get_miner("127.0.1.19")
    assert miner is not None
    assert await miner.stop_mining() is False
    assert await miner.resume_mining() is False
    assert await miner.set_power_limit(10) is False
    assert await miner.fault_light_on() is False
    assert sim.commands == []
    assert sim.mining


async def test_patch_frequency_and_voltage_apply_live(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.20", firmware="v2.14.0", **FAST)
    miner = await pyasic.get_miner("127.0.1.20")
    assert miner is not None
    watts_before = sim.power_w
    # The firmware answers PATCH with an empty 200 body, which pyasic cannot decode.
    with pytest.raises(APIError, match="JSON decode error"):
        await miner.web.update_settings(frequency=600, coreVoltage=1200)
    await wait_until(lambda: sim.frequency == 600)
    assert sim.core_voltage == 1200
    assert sim.power_w > watts_before
    data = await miner.get_data()
    assert float(data.expected_hashrate.into(SHA256Unit.TH)) == pytest.approx(600 * 2040 / 1e6)
    assert float(data.hashrate.into(SHA256Unit.GH)) == pytest.approx(sim.hashrate_ghs, rel=1e-3)
    assert sim.commands[-1].params == {"frequency": 600, "coreVoltage": 1200}


@pytest.mark.parametrize("firmware", ["v2.14.0", "v2.11.0"])
async def test_patch_is_validated_from_2_11(simulate: SimFactory, firmware: str) -> None:
    """http_server.c `check_settings_and_update` (since v2.11.0): every key against the NVS
    table's type and bounds (nvs_config.c), one bad value rejects the whole request."""
    new = await simulate(BitaxeMiner, "127.0.1.21", firmware=firmware, **FAST)
    bad = await raw("PATCH", "http://127.0.1.21/api/system", json={"frequency": "600"})
    assert (bad.status_code, bad.text) == (400, "Wrong API input")
    bad = await raw(
        "PATCH", "http://127.0.1.21/api/system", json={"frequency": 600, "manualFanSpeed": 150}
    )
    assert bad.status_code == 400
    await asyncio.sleep(0.1)
    assert new.frequency == 525

    old = await simulate(BitaxeMiner, "127.0.1.22", firmware="v2.9.0", **FAST)
    ok = await raw(
        "PATCH", "http://127.0.1.22/api/system", json={"frequency": "600", "coreVoltage": 1100}
    )
    assert (ok.status_code, ok.text) == (200, "")
    await wait_until(lambda: old.core_voltage == 1100)
    assert old.frequency == 525


@pytest.mark.parametrize(("firmware", "manual_speed"), [("v2.14.0", 100), ("v2.9.0", 40)])
async def test_send_config(simulate: SimFactory, firmware: str, manual_speed: int) -> None:
    """pyasic sends `autoFanspeed` (cJSON matches it case-insensitively) and `fanspeed`
    (the manual-speed key only before v2.11), and the pool URL with scheme and port."""
    sim = await simulate(BitaxeMiner, "127.0.1.23", firmware=firmware, **FAST)
    miner = await pyasic.get_miner("127.0.1.23")
    assert miner is not None
    config = MinerConfig(
        fan_mode=FanModeConfig.manual(speed=40),
        pools=PoolConfig.simple(
            [{"url": "stratum+tcp://pool.new:4444", "user": "me.1", "password": "x"}]
        ),
    )
    with pytest.raises(APIError):
        await miner.send_config(config)
    await wait_until(lambda: not sim.nvs.autofanspeed)
    assert sim.nvs.manualFanSpeed == manual_speed
    assert sim.fan_percent == manual_speed
    assert sim.nvs.stratumURL == "stratum+tcp://pool.new:4444"
    assert sim.nvs.stratumUser == "me.1"
    # Read back, the stored URL gets a second scheme and port.
    read = await miner.get_config()
    assert read.pools.groups[0].pools[0].url == "stratum+tcp://stratum+tcp://pool.new:4444:21496"
    assert read.fan_mode.mode == "manual"


@pytest.mark.parametrize("firmware", ["v2.14.0", "v2.9.0"])
async def test_reboot(simulate: SimFactory, short_timeouts: None, firmware: str) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.24", firmware=firmware, **FAST)
    miner = await pyasic.get_miner("127.0.1.24")
    assert miner is not None
    booted = sim.boot_time
    if firmware == "v2.14.0":
        assert await miner.reboot() is True
    else:
        # Before v2.13 the restart reply is plain text, which pyasic fails to decode.
        with pytest.raises(APIError):
            await miner.reboot()
    await wait_until(lambda: not sim.powered)
    assert await pyasic.get_miner("127.0.1.24") is None
    await wait_until(lambda: sim.powered)
    assert sim.boot_time > booted
    data = await miner.get_data()
    assert data.uptime == 0
    assert sim.commands[-1].command == "restart"


async def test_identify(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.25", firmware="v2.12.0")
    miner = await pyasic.get_miner("127.0.1.25")
    assert miner is not None
    reply = await miner.web.send_command("system/identify", post=True)
    assert reply == {"message": 'The device says "Hi!" for 30 seconds.'}
    assert sim.identify_until > time.monotonic()


async def test_energy_and_shares_integrate(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.26", pool_difficulty=1)
    await asyncio.sleep(0.3)
    assert sim.energy_wh == pytest.approx(sim.power_w * 0.3 / 3600, rel=0.3)
    info = sim.system_info()
    assert info["sharesAccepted"] > 0
    assert info["bestSessionDiff"] > 0


# ---- faults ------------------------------------------------------------------------------
async def test_powered_off(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.27")
    miner = await pyasic.get_miner("127.0.1.27")
    assert miner is not None
    await sim.power_off()
    assert await pyasic.get_miner("127.0.1.27") is None
    # The data getters swallow web errors, but get_data's config step re-reads the device
    # and its APIError propagates.
    with pytest.raises(APIError, match="while getting data"):
        await miner.get_data()
    data = await miner.get_data(exclude=["config"])
    assert data.hashrate is None
    assert data.wattage is None
    assert data.mac is None
    with pytest.raises(APIError):
        await miner.web.system_info()


async def test_timeout(simulate: SimFactory, short_timeouts: None) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.28")
    miner = await pyasic.get_miner("127.0.1.28")
    assert miner is not None
    sim.faults.timeout = True
    started = time.monotonic()
    assert await pyasic.get_miner("127.0.1.28") is None
    # Each data getter re-requests /api/system/info when the shared request failed, one
    # after another: a full get_data() on a silent Bitaxe takes ~12 timeouts (60 s at the
    # default 5 s). One item costs two timeouts.
    data = await miner.get_data(include=["hashrate"])
    assert data.hashrate is None
    with pytest.raises(APIError):
        await miner.web.system_info()
    assert time.monotonic() - started < 5


async def test_latency(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.29")
    sim.faults.latency = 0.2
    started = time.monotonic()
    miner = await pyasic.get_miner("127.0.1.29")
    assert miner is not None
    data = await miner.get_data()
    assert data.wattage == round(sim.power_w)
    assert time.monotonic() - started >= 0.4


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_bad_replies(simulate: SimFactory, fault: str) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.30")
    miner = await pyasic.get_miner("127.0.1.30")
    assert miner is not None
    setattr(sim.faults, fault, True)
    assert await pyasic.get_miner("127.0.1.30") is None
    with pytest.raises(APIError):
        await miner.get_data()
    data = await miner.get_data(exclude=["config"])
    assert data.hashrate is None
    assert data.hostname is None
    with pytest.raises(APIError):
        await miner.web.system_info()


async def test_refused_client(simulate: SimFactory) -> None:
    """ESP-Miner's private-network check answers 401 to every API call (not to the page)."""
    sim = await simulate(BitaxeMiner, "127.0.1.31", model="Supra 401")
    sim.faults.wrong_credentials = True
    miner = await pyasic.get_miner("127.0.1.31")
    # Still AxeOS by its page, but the model is unreadable: the generic BitAxe class.
    assert type(miner).__name__ == "BitAxe"
    with pytest.raises(APIError):
        await miner.get_data()
    with pytest.raises(APIError):
        await miner.web.system_info()


async def test_command_acknowledged_not_applied(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.32", **FAST)
    sim.faults.ignore_commands = True
    reply = await raw("POST", "http://127.0.1.32/api/system/pause")
    assert reply.json() == {"message": "Mining paused"}
    await asyncio.sleep(0.15)
    assert not sim.paused
    assert sim.commands[-1].applied is False


async def test_reboot_mid_command(simulate: SimFactory, short_timeouts: None) -> None:
    sim = await simulate(BitaxeMiner, "127.0.1.33", **FAST)
    miner = await pyasic.get_miner("127.0.1.33")
    assert miner is not None
    sim.faults.reboot_on_command = True
    with pytest.raises(APIError):
        await miner.web.update_settings(frequency=600)
    await wait_until(lambda: not sim.powered)
    await wait_until(lambda: sim.powered)
    assert sim.frequency == 525
    assert sim.commands[-1].applied is False
    assert await pyasic.get_miner("127.0.1.33") is not None


# ---- fan settings (bitaxeorg/ESP-Miner) --------------------------------------------------
async def test_fan_keys_from_2_11(simulate: SimFactory) -> None:
    """nvs_config.c (v2.11+): `autofanspeed` (bool, 0-1), `manualFanSpeed` (u16, 0-100),
    `temptarget` (u16, 35-66); /api/system/info reports each back under the same name."""
    sim = await simulate(BitaxeMiner, "127.0.45.40", firmware="v2.14.0", **FAST)
    url = "http://127.0.45.40/api/system"
    ok = await raw("PATCH", url, json={"autofanspeed": 0, "manualFanSpeed": 40})
    assert (ok.status_code, ok.text) == (200, "")
    await wait_until(lambda: sim.fan_mode == "manual")
    info = (await raw("GET", f"{url}/info")).json()
    assert (info["autofanspeed"], info["manualFanSpeed"], info["fanspeed"]) == (0, 40, 40)
    for bad in ({"manualFanSpeed": 101}, {"temptarget": 67}, {"temptarget": 34}):
        reply = await raw("PATCH", url, json={"autofanspeed": 1, **bad})
        assert (reply.status_code, reply.text) == (400, "Wrong API input"), bad
    ok = await raw("PATCH", url, json={"autofanspeed": 1, "temptarget": 66})
    assert ok.status_code == 200
    await wait_until(lambda: sim.nvs.temptarget == 66)
    info = (await raw("GET", f"{url}/info")).json()
    assert (info["autofanspeed"], info["temptarget"]) == (1, 66)
    # fan_controller_task.c: a PID holding temptarget, never under minFanSpeed.
    assert info["minFanSpeed"] <= info["fanspeed"] <= 100


async def test_fan_keys_before_2_11(simulate: SimFactory) -> None:
    """http_server.c PATCH_update_settings (v2.7-v2.10): `autofanspeed`, `fanspeed` (the
    manual speed), `temptarget`, each read with cJSON's `valueint`, unchecked; the info's
    `fanspeed` is the fan's duty, there is no `manualFanSpeed`."""
    sim = await simulate(BitaxeMiner, "127.0.45.41", firmware="v2.9.0", **FAST)
    url = "http://127.0.45.41/api/system"
    await raw("PATCH", url, json={"autofanspeed": 0, "fanspeed": 35})
    await wait_until(lambda: sim.fan_mode == "manual")
    info = (await raw("GET", f"{url}/info")).json()
    assert "manualFanSpeed" not in info
    assert (info["autofanspeed"], info["fanspeed"]) == (0, 35)
    # A JSON true is valueint 1 to cJSON.
    await raw("PATCH", url, json={"autofanspeed": True, "temptarget": 70})
    await wait_until(lambda: sim.fan_mode == "auto")
    assert (await raw("GET", f"{url}/info")).json()["temptarget"] == 70


async def test_no_target_temperature_before_2_7(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.45.42", firmware="v2.6.0", **FAST)
    url = "http://127.0.45.42/api/system"
    await raw("PATCH", url, json={"temptarget": 50, "fanspeed": 50})
    await wait_until(lambda: sim.nvs.manualFanSpeed == 50)
    info = (await raw("GET", f"{url}/info")).json()
    assert "temptarget" not in info
    assert sim.nvs.temptarget == 60


async def test_paused_fan_runs_at_30(simulate: SimFactory) -> None:
    """fan_controller_task.c (v2.14): `mining_paused` sets the fan to 30 %, whatever the mode."""
    sim = await simulate(BitaxeMiner, "127.0.45.43", firmware="v2.14.0", **FAST)
    await raw("POST", "http://127.0.45.43/api/system/pause")
    await wait_until(lambda: sim.paused)
    assert (await raw("GET", "http://127.0.45.43/api/system/info")).json()["fanspeed"] == 30


# ---- the NerdQAxe++ fork (shufps/ESP-Miner-NerdQAxePlus) ----------------------------------
NERD = {"model": "NerdQAxe++", **FAST}


async def test_nerdqaxe_shutdown_then_restart(simulate: SimFactory) -> None:
    """handler_shutdown.cpp POST_shutdown (v1.0.36+): the answer is plain text, then
    PowerManagementTask::shutdown turns the buck (setVoltage(0)) and the LDOs off and sets
    `m_shutdown`, RAM state; handler_system.cpp GET_system_info reports `shutdown` and zero
    hashrates. handler_restart.cpp POST_restart (esp_restart) is the only way back."""
    sim = await simulate(BitaxeMiner, "127.0.45.50", **NERD)
    sim.boot_time -= 600
    web = BitAxe("127.0.45.50").web
    reply = await raw("POST", "http://127.0.45.50/api/system/shutdown")
    assert (reply.status_code, reply.text) == (200, "System will shutdown shortly.")
    assert reply.headers["content-type"].startswith("text/html")
    # pyasic's web client expects JSON from every command.
    with pytest.raises(APIError):
        await web.send_command("system/shutdown", post=True)
    await wait_until(lambda: sim.paused)
    info = await web.system_info()
    assert info["shutdown"] is True
    assert info["hashRate"] == info["hashRate_1m"] == info["hashRate_1d"] == 0
    assert (info["power"], info["coreVoltageActual"]) == (0.0, 0)
    assert info["uptimeSeconds"] >= 600
    assert info["fanrpm"] > 0  # the fan controller runs on
    assert sim.power_w == pytest.approx(sim.idle_w)

    reply = await raw("POST", "http://127.0.45.50/api/system/restart")
    assert (reply.status_code, reply.text) == (200, "System will restart shortly.")
    await wait_until(lambda: not sim.powered)
    await wait_until(lambda: sim.powered)
    info = await web.system_info()
    assert info["shutdown"] is False
    assert info["hashRate"] > 0
    assert info["uptimeSeconds"] < 5
    assert [c.command for c in sim.commands] == ["shutdown", "shutdown", "restart"]


async def test_nerdqaxe_before_1_0_36_has_no_shutdown(simulate: SimFactory) -> None:
    """http_server.cpp: a POST no handler takes goes to http_404_error_handler, a 302 to "/"."""
    sim = await simulate(BitaxeMiner, "127.0.45.51", firmware="v1.0.35", **NERD)
    for path in ("shutdown", "pause", "resume", "identify"):
        reply = await raw("POST", f"http://127.0.45.51/api/system/{path}")
        assert (reply.status_code, reply.headers["location"]) == (302, "/"), path
    await asyncio.sleep(0.1)
    assert sim.mining
    assert sim.commands == []


async def test_nerdqaxe_patch_keys(simulate: SimFactory) -> None:
    """handler_system.cpp PATCH_update_settings: ArduinoJson, case-sensitive, a number only
    where is<uint16_t>() holds: `autofanspeed` (0 manual, 2 PID), `manualFanSpeed`,
    `pidTargetTemp`, `frequency` (applied live by checkAsicFrequencyChanged since v1.0.29)."""
    sim = await simulate(BitaxeMiner, "127.0.45.52", **NERD)
    url = "http://127.0.45.52/api/system"
    info = (await raw("GET", f"{url}/info")).json()
    assert (info["autofanspeed"], info["manualFanSpeed"], info["pidTargetTemp"]) == (0, 100, 55)
    ignored = [{"manualFanSpeed": 40.5}, {"ManualFanSpeed": 40}, {"autofanspeed": True}]
    for body in [*ignored, {"manualFanSpeed": -1}, {"frequency": "550"}]:
        reply = await raw("PATCH", url, json=body)
        assert (reply.status_code, reply.text) == (200, ""), body
    await asyncio.sleep(0.1)
    assert (sim.nvs.autofanspeed, sim.nvs.manualFanSpeed, sim.frequency) == (0, 100, 600)
    await raw("PATCH", url, json={"autofanspeed": 2, "pidTargetTemp": 60, "frequency": 550})
    await wait_until(lambda: sim.fan_mode == "auto")
    info = (await raw("GET", f"{url}/info")).json()
    assert (info["autofanspeed"], info["pidTargetTemp"], info["frequency"]) == (2, 60, 550)
    assert sim.frequency == 550
    assert 15 <= info["fanspeed"] <= 100  # the PID's output limits
    await raw("PATCH", url, json={"autofanspeed": 0, "manualFanSpeed": 40})
    await wait_until(lambda: sim.fan_percent == 40)


async def test_nerdqaxe_frequency_waited_for_a_boot_before_1_0_29(simulate: SimFactory) -> None:
    sim = await simulate(BitaxeMiner, "127.0.45.53", firmware="v1.0.28", **NERD)
    await raw("PATCH", "http://127.0.45.53/api/system", json={"frequency": 550})
    await wait_until(lambda: sim.nvs.frequency == 550)
    # board->loadSettings() reports the setting at once; the ASICs run it from the next boot.
    info = (await raw("GET", "http://127.0.45.53/api/system/info")).json()
    assert (info["frequency"], sim.frequency) == (550, 600)
    sim.reboot()
    await wait_until(lambda: not sim.powered)
    await wait_until(lambda: sim.powered)
    assert sim.frequency == 550


async def test_nerdqaxe_one_time_passwords_refuse_settings(simulate: SimFactory) -> None:
    """http_utils.cpp validateOTP: without a code, 401 "OTP/Session required"."""
    sim = await simulate(BitaxeMiner, "127.0.45.54", otp=True, **NERD)
    assert (await raw("GET", "http://127.0.45.54/api/system/info")).json()["otp"] is True
    reply = await raw("PATCH", "http://127.0.45.54/api/system", json={"manualFanSpeed": 40})
    assert (reply.status_code, reply.text) == (401, "OTP/Session required")
    await asyncio.sleep(0.1)
    assert sim.nvs.manualFanSpeed == 100


async def test_nerdqaxe_migrates_the_old_automatic_fan_at_boot(simulate: SimFactory) -> None:
    """nvs_config.cpp migrate_config: mode 1 (the deprecated curve) becomes manual 100 %."""
    sim = await simulate(BitaxeMiner, "127.0.45.55", **NERD)
    await raw("PATCH", "http://127.0.45.55/api/system", json={"autofanspeed": 1})
    await wait_until(lambda: sim.nvs.autofanspeed == 1)
    assert sim.fan_percent == 100  # fan_controller: an unknown mode runs the fan at 100 %
    sim.nvs.manualFanSpeed = 50
    sim.reboot()
    await wait_until(lambda: not sim.powered)
    await wait_until(lambda: sim.powered)
    assert (sim.nvs.autofanspeed, sim.nvs.manualFanSpeed) == (0, 100)


async def test_nerdqaxe_fan_keys_before_1_0_35(simulate: SimFactory) -> None:
    """handler_system.cpp (v1.0.29-v1.0.34): the manual speed is `fanspeed`, not reported
    back (the info's `fanspeed` is the fan's duty); before v1.0.29 there is no PID target and
    `autofanspeed` is read with is<bool>()."""
    sim = await simulate(BitaxeMiner, "127.0.45.56", firmware="v1.0.33", **NERD)
    url = "http://127.0.45.56/api/system"
    info = (await raw("GET", f"{url}/info")).json()
    assert "manualFanSpeed" not in info
    assert info["pidTargetTemp"] == 55
    await raw("PATCH", url, json={"autofanspeed": 0, "manualFanSpeed": 30})
    await asyncio.sleep(0.1)
    assert sim.fan_percent == 100
    await raw("PATCH", url, json={"autofanspeed": 0, "fanspeed": 30})
    await wait_until(lambda: sim.fan_percent == 30)
    assert (await raw("GET", f"{url}/info")).json()["fanspeed"] == 30

    old = await simulate(BitaxeMiner, "127.0.45.57", firmware="v1.0.28", **NERD)
    url = "http://127.0.45.57/api/system"
    assert "pidTargetTemp" not in (await raw("GET", f"{url}/info")).json()
    await raw("PATCH", url, json={"autofanspeed": 1})
    await asyncio.sleep(0.1)
    assert old.fan_mode == "manual"
    await raw("PATCH", url, json={"autofanspeed": True})
    await wait_until(lambda: old.fan_mode == "auto")
