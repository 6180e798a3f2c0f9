"""The miner layer below Home Assistant: pyasic's answers turned into our data and errors.

Families without a simulator (Braiins, VNish, LuxOS, Whatsminer…) go through the generic
driver, which trusts pyasic; these tests pin what that driver does with pyasic's objects.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock, patch

import aiohttp
import pytest

from custom_components.home_miner.miner import (
    Credentials,
    MinerAuthError,
    MinerCommandError,
    MinerConnectionError,
    UnsupportedMinerError,
    async_connect,
    load_pyasic,
)
from custom_components.home_miner.miner.client import MinerClient
from custom_components.home_miner.miner.drivers import Driver, driver_for
from custom_components.home_miner.miner.http import MinerHttp
from custom_components.home_miner.miner.model import Family, MinerIdentity
from tests.conftest import SimFactory
from tests.simulator.esp_miner import BitaxeMiner

load_pyasic()

from pyasic.data import Fan, HashBoard, MinerData  # noqa: E402
from pyasic.data.pools import PoolMetrics, PoolUrl  # noqa: E402
from pyasic.device.algorithm import SHA256Algo, SHA256Unit  # noqa: E402


def _th(value: float) -> Any:
    return SHA256Algo.hashrate(rate=value, unit=SHA256Unit.TH)


class FakeMiner:
    """Stands in for a pyasic miner of a family we have no simulator for."""

    ip = "127.0.16.1"
    make = "AntMiner"
    raw_model = "S19"
    model = "S19 (BOS+)"
    firmware = None
    expected_hashboards = 3
    expected_fans = 4
    supports_shutdown = True
    web = None
    rpc = None

    def __init__(self, **results: bool) -> None:
        self.results = {
            "stop_mining": True,
            "resume_mining": True,
            "set_power_limit": True,
            "reboot": True,
            "fault_light_on": True,
            **results,
        }
        self.calls: list[str] = []
        self.data = MinerData(
            ip=self.ip,
            mac="aa:bb:cc:00:16:01",
            hostname="braiins",
            fw_ver="2024.1",
            expected_hashrate=_th(95),
            hashboards=[
                HashBoard(
                    slot=i,
                    hashrate=_th(31.5),
                    temp=60 + i,
                    chip_temp=70 + i,
                    chips=76,
                    expected_chips=76,
                    missing=False,
                )
                for i in range(3)
            ],
            wattage=3100,
            wattage_limit=3200,
            fans=[Fan(speed=4000 + i) for i in range(4)],
            is_mining=True,
            uptime=3600,
            pools=[
                PoolMetrics(
                    url=PoolUrl.from_str("stratum+tcp://pool.example:3333"),
                    user="worker",
                    active=True,
                    accepted=5,
                    rejected=1,
                )
            ],
        )

    async def get_data(self, include: list[str] | None = None) -> MinerData:
        return self.data

    def __getattr__(self, name: str) -> Any:
        if name in ("stop_mining", "resume_mining", "set_power_limit", "reboot", "fault_light_on"):

            async def call(*args: Any) -> bool:
                self.calls.append(name)
                return self.results[name]

            return call
        raise AttributeError(name)


async def _generic_client(miner: FakeMiner) -> MinerClient:
    async with aiohttp.ClientSession() as session:
        client = MinerClient(miner.ip, miner, Driver(), session, Credentials())
        await client.async_identify()
        return client


async def test_generic_driver_reads_pyasic_data() -> None:
    client = await _generic_client(FakeMiner())
    assert client.identity.mac == "AA:BB:CC:00:16:01"
    assert client.identity.model == "AntMiner S19"
    assert client.capabilities.can_stop
    assert client.capabilities.boards == 3
    assert client.capabilities.hashrate_unit == "TH/s"
    snapshot = await client.async_fetch()
    assert snapshot.hashrate_ths == pytest.approx(94.5)
    assert snapshot.power_w == 3100
    assert snapshot.efficiency_j_th == pytest.approx(3100 / 94.5)
    assert snapshot.temperature_max == 72
    assert snapshot.fans == (4000, 4001, 4002, 4003)
    assert snapshot.pool is not None
    assert snapshot.pool.user == "worker"
    assert snapshot.is_mining
    assert not snapshot.problem


async def test_generic_driver_is_mining_needs_hashrate() -> None:
    miner = FakeMiner()
    miner.data.hashboards = [HashBoard(slot=0, hashrate=_th(0), missing=False)]
    client = await _generic_client(miner)
    # pyasic says is_mining=True by default; no hashrate means it is not.
    assert not (await client.async_fetch()).is_mining


@pytest.mark.parametrize("command", ["stop_mining", "reboot", "fault_light_on"])
async def test_generic_driver_refusal_is_an_error(command: str) -> None:
    miner = FakeMiner(**{command: False})
    client = await _generic_client(miner)
    call = {
        "stop_mining": lambda: client.async_set_mining(False),
        "reboot": client.async_reboot,
        "fault_light_on": client.async_identify_light,
    }[command]
    with pytest.raises(MinerCommandError):
        await call()
    assert miner.calls == [command]


async def test_generic_driver_power_limit_bounds() -> None:
    client = await _generic_client(FakeMiner())
    with pytest.raises(MinerCommandError, match="not supported"):
        await client.async_set_power_limit(1000)
    with pytest.raises(MinerCommandError, match="unknown mode"):
        await client.async_set_work_mode("turbo")


async def test_nothing_answers(loopback: None) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(MinerConnectionError):
            await async_connect("127.0.16.9", session)


async def test_unknown_miner_is_unsupported(loopback: None) -> None:
    async with aiohttp.ClientSession() as session:
        with (
            patch("pyasic.get_miner", AsyncMock(return_value=object())),
            patch("custom_components.home_miner.miner.client.driver_for", return_value=None),
            pytest.raises(UnsupportedMinerError),
        ):
            await async_connect("127.0.16.9", session)


def test_unknown_pyasic_class_has_no_driver() -> None:
    from pyasic.miners.backends import UnknownMiner

    assert driver_for(UnknownMiner("127.0.16.1")) is None
    assert type(driver_for(FakeMiner())) is Driver


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, MinerAuthError), (404, MinerCommandError), (500, MinerCommandError)],
)
async def test_http_status_errors(
    simulate: SimFactory, status: int, error: type[Exception]
) -> None:
    from aiohttp import web

    app = web.Application()
    app.router.add_get("/x", lambda _: web.Response(status=status))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.16.20", 8080).start()
    try:
        async with aiohttp.ClientSession() as session:
            http = MinerHttp(session, "127.0.16.20:8080")
            with pytest.raises(error):
                await http.request("GET", "/x", command="x")
    finally:
        await runner.cleanup()


async def test_http_text_answer_is_none(simulate: SimFactory) -> None:
    miner = await simulate(BitaxeMiner, "127.0.16.21", firmware="v2.10.0")
    async with aiohttp.ClientSession() as session:
        http = MinerHttp(session, miner.ip)
        assert await http.request("POST", "/api/system/restart", command="restart") is None
        with pytest.raises(MinerConnectionError):
            await MinerHttp(session, "127.0.16.22").request("GET", "/", command="x")


async def test_generic_driver_controls_succeed() -> None:
    miner = FakeMiner()
    miner.data.env_temp = 24.5
    client = await _generic_client(miner)
    assert client.capabilities.has_env_temp
    assert (await client.async_fetch()).env_temperature == 24.5
    assert (await client.async_set_mining(True)).is_mining
    await client.async_reboot()
    await client.async_identify_light()
    assert miner.calls == ["resume_mining", "reboot", "fault_light_on"]


async def test_generic_driver_errors_become_connection_errors() -> None:
    miner = FakeMiner()
    client = await _generic_client(miner)
    miner.get_data = AsyncMock(side_effect=RuntimeError("socket closed"))  # type: ignore[method-assign]
    with pytest.raises(MinerConnectionError, match="socket closed"):
        await client.async_fetch()
    miner.get_data = AsyncMock(return_value=MinerData(ip=miner.ip))  # type: ignore[method-assign]
    with pytest.raises(MinerConnectionError, match="did not answer"):
        await client.async_fetch()


@pytest.mark.parametrize(
    ("hostname", "name"),
    [
        ("garage-bitaxe", "garage-bitaxe"),
        ("Antminer", "Antminer S19j Pro 1E8D"),
        ("bitaxe", "Antminer S19j Pro 1E8D"),
        ("  ", "Antminer S19j Pro 1E8D"),
        (None, "Antminer S19j Pro 1E8D"),
    ],
)
def test_device_name_is_never_a_factory_default(hostname: str | None, name: str) -> None:
    identity = MinerIdentity(
        host="127.0.0.1",
        mac="02:9C:62:0F:1E:8D",
        hostname=hostname,
        make="AntMiner",
        model="Antminer S19j Pro",
        firmware="Stock",
        firmware_version=None,
        family=Family.ANTMINER_STOCK,
    )
    assert identity.name == name


async def test_first_poll_is_the_read_made_at_connect(simulate: SimFactory) -> None:
    """Setting a Bitaxe up reads its system info once, not once to connect and once to poll."""
    miner = await simulate(BitaxeMiner, "127.0.18.9")
    info_reads: list[str] = []

    async def on_request(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
        if params.url.path == "/api/system/info":
            info_reads.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = await async_connect(miner.ip, session)
        first = await client.async_fetch()
        assert len(info_reads) == 1
        assert first.hashrate_ths == pytest.approx(miner.hashrate_ghs / 1000, rel=0.05)
        await client.async_fetch()
        assert len(info_reads) == 2


async def test_a_web_server_that_is_no_miner(loopback: None) -> None:
    """Something on port 80 answers /api/system/info, but not as ESP-Miner: no miner there."""
    from aiohttp import web

    async def not_axeos(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/api/system/info", not_axeos)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.16.23", 80).start()
    try:
        async with aiohttp.ClientSession() as session:
            with (
                patch("pyasic.get_miner", AsyncMock(return_value=None)),
                pytest.raises(MinerConnectionError, match="no miner answered"),
            ):
                await async_connect("127.0.16.23", session)
    finally:
        await runner.cleanup()
