"""The miner layer's edges against the simulators: what each firmware refuses or garbles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import AsyncMock, patch

import aiohttp
import pytest

from custom_components.home_miner.miner import (
    MinerCommandError,
    MinerConnectionError,
    UnsupportedMinerError,
    async_connect,
)
from custom_components.home_miner.miner.client import _known_miner
from custom_components.home_miner.miner.drivers.avalon import AvalonNanoDriver
from tests.conftest import SimFactory
from tests.simulator.antminer import AntminerStockMiner
from tests.simulator.avalon import AvalonNanoMiner
from tests.simulator.esp_miner import BitaxeMiner


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_INTERVAL", 0.05)
    monkeypatch.setattr("custom_components.home_miner.miner.client.VERIFY_TIMEOUT", 1.0)


@pytest.fixture
async def session(loopback: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def test_known_class_must_be_pyasic() -> None:
    assert _known_miner("os:system", "127.0.0.1") is None
    assert _known_miner("pyasic.nothing.here:Miner", "127.0.0.1") is None
    assert _known_miner("pyasic.miners.backends:NoSuchClass", "127.0.0.1") is None


async def test_old_bitaxe_cannot_pause(
    simulate: SimFactory, session: aiohttp.ClientSession
) -> None:
    miner = await simulate(BitaxeMiner, "127.0.18.2", firmware="v2.10.0", command_delay=0.05)
    client = await async_connect(miner.ip, session)
    assert not client.capabilities.can_stop
    with pytest.raises(MinerCommandError, match="does not have it"):
        await client.async_set_mining(False)
    miner.faults.malformed = True
    with pytest.raises(MinerConnectionError):
        await client.async_fetch()


async def test_bitaxe_power_limit_bounds_and_reboot(
    simulate: SimFactory, session: aiohttp.ClientSession
) -> None:
    miner = await simulate(BitaxeMiner, "127.0.18.3", command_delay=0.05, reboot_seconds=0.2)
    client = await async_connect(miner.ip, session)
    limit = client.capabilities.power_limit
    assert limit is not None
    with pytest.raises(MinerCommandError, match="outside"):
        await client.async_set_power_limit(limit.maximum + 50)
    await client.async_reboot()
    assert [c.command for c in miner.commands][-1] == "restart"


async def test_avalon_refusals_and_garbage(
    simulate: SimFactory, session: aiohttp.ClientSession
) -> None:
    miner = await simulate(AvalonNanoMiner, "127.0.18.4", command_delay=0.05)
    client = await async_connect(miner.ip, session)
    assert not client.capabilities.can_stop
    with pytest.raises(MinerCommandError):
        await client.async_set_mining(False)
    await client.async_reboot()
    assert any(c.command == "ascset" and c.params.get("option") == "reboot" for c in miner.commands)
    miner.faults.malformed = True
    with pytest.raises(MinerConnectionError):
        await client.async_fetch()
    miner.faults.malformed = False
    await miner.power_off()
    with pytest.raises(MinerConnectionError):
        await client.async_fetch()


async def test_antminer_garbage_and_reboot(
    simulate: SimFactory, session: aiohttp.ClientSession
) -> None:
    miner = await simulate(AntminerStockMiner, "127.0.18.5", command_delay=0.05)
    client = await async_connect(miner.ip, session)
    await client.async_identify_light()
    await asyncio.sleep(0.05)
    assert miner.blink
    # An identify lights it, whatever it was; it is turned off by a poll after its time.
    await client.async_identify_light()
    await asyncio.sleep(0.05)
    assert miner.blink
    await client.async_reboot()
    assert any(c.command == "reboot" for c in miner.commands)
    miner.faults.malformed = True
    with pytest.raises(MinerConnectionError):
        await client.async_fetch()


async def test_antminer_never_writes_without_pools(
    simulate: SimFactory, session: aiohttp.ClientSession
) -> None:
    miner = await simulate(AntminerStockMiner, "127.0.18.6", command_delay=0.05, pools=[])
    client = await async_connect(miner.ip, session)
    with pytest.raises(MinerCommandError, match="pools"):
        await client.async_set_mining(False)
    assert not any(c.command == "set_miner_conf" for c in miner.commands)


@pytest.mark.parametrize(
    "answer",
    [
        {"pools": [{"POOLS": []}]},
        {"estats": [{"STATS": [{"ID": "AVA100"}]}], "pools": [{"POOLS": []}]},
        {"estats": [{"STATS": [{"MM ID0": "GHSspd[6611] Fan1[fast]"}]}], "pools": [{}]},
        # Without its hashrate the answer is not a reading (rather than a row of zeros).
        {"estats": [{"STATS": [{"MM ID0": "Elapsed[10] Fan1[4000]"}]}], "pools": [{}]},
        {"estats": [{"STATS": [{"MM ID0": "GHSspd[6611]"}]}], "pools": ["x"]},
        {"estats": [{"STATS": [{"MM ID0": "GHSspd[6611] Elapsed[inf]"}]}], "pools": [{}]},
    ],
)
async def test_avalon_estats_without_what_is_shown(
    simulate: SimFactory, session: aiohttp.ClientSession, answer: dict[str, Any]
) -> None:
    miner = await simulate(AvalonNanoMiner, "127.0.18.5")
    client = await async_connect(miner.ip, session)
    await client.async_fetch()
    rpc = client._miner.rpc
    with (
        patch.object(rpc, "send_command", AsyncMock(return_value=answer)),
        pytest.raises(MinerConnectionError, match="estats could not be read"),
    ):
        await client.async_fetch()


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"STATUS": [{"STATUS": "S"}]}, MinerConnectionError),
        ({"VERSION": ["Nano3s"]}, MinerConnectionError),
        ({"VERSION": [{"MODEL": "Nano3s", "MAC": "e0e1a9"}]}, UnsupportedMinerError),
    ],
)
async def test_avalon_version_without_identity(
    answer: dict[str, Any], error: type[Exception]
) -> None:
    miner = _known_miner(
        "pyasic.miners.avalonminer.cgminer.nano.nano3:CGMinerAvalonNano3s", "127.0.18.6"
    )
    assert miner is not None
    driver = AvalonNanoDriver()
    with (
        patch.object(miner.rpc, "send_command", AsyncMock(return_value=answer)),
        pytest.raises(error),
    ):
        await driver.read_identity("127.0.18.6", miner)


async def test_avalon_firmware_without_joined_commands(
    simulate: SimFactory, session: aiohttp.ClientSession
) -> None:
    """A firmware that refuses `estats+pools` is asked twice per poll, and no longer joined."""
    miner = await simulate(AvalonNanoMiner, "127.0.18.7")
    client = await async_connect(miner.ip, session)
    rpc = client._miner.rpc
    real = rpc.send_command
    asked: list[str] = []

    async def no_joins(command: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(command)
        if "+" in command:
            raise OSError("Invalid command")
        return await real(command, *args, **kwargs)

    with patch.object(rpc, "send_command", no_joins):
        first = await client.async_fetch()  # the read made at connect
        second = await client.async_fetch()
        third = await client.async_fetch()
    assert all(s.is_mining for s in (first, second, third))
    assert second.hashrate_ths == pytest.approx(miner.actual_ghs / 1000, rel=0.05)
    assert second.pool is not None
    assert asked == ["estats+pools", "estats", "pools", "estats", "pools"]


async def test_avalon_command_without_an_answer(
    simulate: SimFactory, session: aiohttp.ClientSession
) -> None:
    miner = await simulate(AvalonNanoMiner, "127.0.18.8")
    client = await async_connect(miner.ip, session)
    rpc = client._miner.rpc
    for failure in (AsyncMock(return_value={}), AsyncMock(side_effect=OSError("reset"))):
        with (
            patch.object(rpc, "send_command", failure),
            pytest.raises(MinerConnectionError, match="reboot"),
        ):
            await client.async_reboot()


async def test_antminer_pool_counts_that_are_not_numbers(
    simulate: SimFactory, session: aiohttp.ClientSession
) -> None:
    miner = await simulate(AntminerStockMiner, "127.0.18.9")
    client = await async_connect(miner.ip, session)
    http = client._driver.http
    real = http.request

    async def garbled(method: str, path: str, **kwargs: Any) -> Any:
        if path.endswith("/pools.cgi"):
            return {"POOLS": [{"url": "stratum+tcp://pool:3333", "accepted": "many"}]}
        return await real(method, path, **kwargs)

    with (
        patch.object(http, "request", garbled),
        pytest.raises(MinerConnectionError, match="pools could not be read"),
    ):
        await client.async_fetch()
    snapshot = await client.async_fetch()  # a good answer is read, as before
    assert snapshot.pool is not None
