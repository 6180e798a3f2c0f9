"""The fleet, its status endpoint, the CLI, and a pyasic network scan of a simulated /28."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import dataclasses
import json
import os
from pathlib import Path
import selectors
import signal
import subprocess
import sys
import time
from typing import Any
import urllib.request

import httpx
import pyasic
from pyasic.network import MinerNetwork
import pytest

from tests.simulator import (
    FAMILIES,
    AntminerStockMiner,
    AvalonHomeMiner,
    AvalonNanoMiner,
    BitaxeMiner,
    BraiinsMiner,
    LuxOSMiner,
    VNishMiner,
    WhatsminerV2Miner,
    WhatsminerV3Miner,
)
from tests.simulator.base import Faults
from tests.simulator.fleet import Fleet, expand_addresses, parse_spec

REPO = Path(__file__).resolve().parents[2]
STATUS_HOST = "127.0.1.254"


def test_registry() -> None:
    assert {
        "bitaxe": BitaxeMiner,
        "avalon_nano": AvalonNanoMiner,
        "avalon_home": AvalonHomeMiner,
        "antminer": AntminerStockMiner,
        "luxos": LuxOSMiner,
        "braiins": BraiinsMiner,
        "whatsminer": WhatsminerV2Miner,
        "whatsminer_v3": WhatsminerV3Miner,
        "vnish": VNishMiner,
    } == FAMILIES


def test_expand_addresses() -> None:
    assert expand_addresses("127.0.1.2-127.0.1.4") == ["127.0.1.2", "127.0.1.3", "127.0.1.4"]
    assert expand_addresses("127.0.1.254-127.0.2.1") == [
        "127.0.1.254",
        "127.0.1.255",
        "127.0.2.0",
        "127.0.2.1",
    ]
    assert expand_addresses("127.0.1.8-9") == ["127.0.1.8", "127.0.1.9"]
    assert expand_addresses("127.0.1.8") == ["127.0.1.8"]
    with pytest.raises(ValueError, match="loopback"):
        expand_addresses("192.168.1.10")
    with pytest.raises(ValueError, match="empty"):
        expand_addresses("127.0.1.9-8")


def test_parse_spec() -> None:
    assert parse_spec("127.0.1.2-5") == [
        ("bitaxe", None, "127.0.1.2"),
        ("avalon_nano", None, "127.0.1.3"),
        ("antminer", None, "127.0.1.4"),
        ("bitaxe", None, "127.0.1.5"),
    ]
    assert parse_spec(
        "antminer@127.0.1.2, 127.0.1.3-4, bitaxe:NerdQAxe++@127.0.1.9", ["avalon_nano"]
    ) == [
        ("antminer", None, "127.0.1.2"),
        ("avalon_nano", None, "127.0.1.3"),
        ("avalon_nano", None, "127.0.1.4"),
        ("bitaxe", "NerdQAxe++", "127.0.1.9"),
    ]
    with pytest.raises(ValueError, match="twice"):
        parse_spec("127.0.1.2-4,bitaxe@127.0.1.3")
    with pytest.raises(ValueError, match="unknown family"):
        parse_spec("cheetah@127.0.1.2")
    with pytest.raises(ValueError, match="unknown family"):
        parse_spec("127.0.1.2", ["cheetah"])


def test_from_spec_mixes_models() -> None:
    fleet = Fleet.from_spec("bitaxe@127.0.1.2-7, bitaxe:Hex 302@127.0.1.8", command_delay=0.1)
    models = [getattr(m, "model", None) for m in fleet.miners.values()]
    assert models == [
        "Gamma 601",
        "Supra 401",
        "Gamma 602",
        "Ultra 204",
        "GammaTurbo 801",
        "Gamma 601",
        "Hex 302",
    ]
    assert all(m.command_delay == 0.1 for m in fleet.miners.values())
    same = Fleet.from_spec("bitaxe@127.0.1.2-3", variants=False)
    assert [getattr(m, "model", None) for m in same.miners.values()] == ["Gamma 601"] * 2


@pytest.fixture
async def fleet(loopback: None) -> AsyncIterator[Fleet]:
    fleet = Fleet.from_spec(
        "bitaxe@127.0.1.2-3, avalon_nano@127.0.1.5, antminer@127.0.1.9",
        command_delay=0.05,
        reboot_seconds=0.3,
    )
    await fleet.start(status=(STATUS_HOST, 0))
    yield fleet
    await fleet.stop()


async def test_scan_finds_exactly_the_fleet(fleet: Fleet) -> None:
    found = await MinerNetwork.from_subnet("127.0.1.0/28").scan()
    assert sorted(str(m.ip) for m in found) == sorted(fleet.miners)
    by_ip = {str(m.ip): type(m).__name__ for m in found}
    assert by_ip["127.0.1.2"] == "BitAxeGamma"
    assert by_ip["127.0.1.3"] == "BitAxeSupra"
    assert "Avalon" in by_ip["127.0.1.5"]
    assert "S19j" in by_ip["127.0.1.9"]


async def test_status_endpoint(fleet: Fleet) -> None:
    url = fleet.status_url
    assert url is not None
    assert url.startswith(f"http://{STATUS_HOST}:")
    bitaxe = fleet["127.0.1.2"]
    async with httpx.AsyncClient(base_url=url) as client:
        everything = (await client.get("/")).json()
        assert everything["count"] == 4
        assert {m["ip"] for m in everything["miners"]} == set(fleet.miners)

        # A command sent to a miner shows in its log.
        async with httpx.AsyncClient() as device:
            await device.post("http://127.0.1.2/api/system/pause")
        one = (await client.get("/miners/127.0.1.2")).json()
        assert one["status"]["family"] == "bitaxe"
        assert [c["command"] for c in one["commands"]] == ["pause"]
        assert (await client.get("/miners/127.0.1.2/commands")).json()[0]["command"] == "pause"

        reply = await client.post(
            "/miners/127.0.1.2/faults", json={"latency": 0.1, "timeout": True}
        )
        assert reply.json()["timeout"] is True
        assert bitaxe.faults.latency == 0.1
        assert bitaxe.faults.timeout
        bad = await client.post("/miners/127.0.1.2/faults", json={"explode": True})
        assert bad.status_code == 400
        bad = await client.post("/miners/127.0.1.2/faults", json={"timeout": "yes"})
        assert bad.status_code == 400
        cleared = await client.delete("/miners/127.0.1.2/faults")
        assert cleared.json() == dataclasses.asdict(Faults())
        assert bitaxe.faults == Faults()

        off = await client.post("/miners/127.0.1.3/power", json={"on": False})
        assert off.json()["powered"] is False
        assert await pyasic.get_miner("127.0.1.3") is None
        on = await client.post("/miners/127.0.1.3/power", json={"state": "on"})
        assert on.json()["powered"] is True
        assert await pyasic.get_miner("127.0.1.3") is not None
        assert (await client.post("/miners/127.0.1.3/power", json={})).status_code == 400

        boot = fleet["127.0.1.9"].boot_time
        reboot = await client.post("/miners/127.0.1.9/reboot")
        assert reboot.json()["rebooting"] is True
        deadline = time.monotonic() + 5
        while fleet["127.0.1.9"].boot_time == boot or not fleet["127.0.1.9"].powered:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)

        missing = await client.get("/miners/127.0.1.99")
        assert missing.status_code == 404


def _read_until(proc: subprocess.Popen[bytes], marker: str, timeout: float) -> list[str]:
    """The lines printed up to and including the one holding `marker` (raw fd reads, so no
    text buffered out of the selector's sight)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    output = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=0.2):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            output += chunk
            lines = output.decode().split("\n")
            for index, line in enumerate(lines[:-1]):
                if marker in line:
                    return lines[: index + 1]
    raise AssertionError(f"{marker!r} not printed; got {output.decode()!r}")


def test_cli_starts_prints_and_stops(loopback: None) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.simulator",
            "--fleet",
            "127.0.1.50-52,antminer@127.0.1.60",
            "--status",
            f"{STATUS_HOST}:0",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        lines = _read_until(proc, "status: ", timeout=20)
        header, *rows = lines
        assert header.split() == ["FAMILY", "MODEL", "FIRMWARE", "IP", "PORTS", "MAC", "HOSTNAME"]
        table = "\n".join(rows)
        assert "bitaxe" in table
        assert "127.0.1.50" in table
        assert "avalon_nano" in table
        assert "127.0.1.60" in table
        assert "24:58:7C:" in table
        assert any("4 simulated miners started" in line for line in lines)
        url = lines[-1].removeprefix("status: ")
        with urllib.request.urlopen(url, timeout=5) as reply:
            snapshot: dict[str, Any] = json.load(reply)
        assert snapshot["count"] == 4
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert b"fleet stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
