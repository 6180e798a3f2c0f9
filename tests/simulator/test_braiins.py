"""Conformance of the simulated Braiins OS+ miner with unmodified pyasic 0.79.0.

Wire formats are checked against Braiins' published API: the Public API's proto files
(github.com/braiins/bos-plus-api, proto/bos/v1/*.proto and proto/bos/version.proto; its
README for the `authorization` token, in the Login body and, for older clients, its header)
and the bosminer API page (docs.braiins.com/os/plus-en/Development/1_api.html). gRPC messages
are encoded and decoded here by hand with the proto's field numbers, not with the generated
classes the simulator and pyasic share, so neither can merely agree with the other:

    LoginRequest { string username = 1; string password = 2; }
    LoginResponse { string token = 1; uint32 timeout_s = 2; }
    SetPowerTargetRequest { SaveAction save_action = 1; Power power_target = 2; }
    Power { uint64 watt = 1; }   SaveAction: SAVE_AND_APPLY = 2, SAVE_AND_FORCE_APPLY = 3
    SetLocateDeviceStatusRequest { bool enable = 1; }
    PowerConstraints { Power default = 1; Power min = 2; Power max = 3; }
    GetConstraintsResponse { TunerConstraints tuner_constraints = 1; }
    TunerConstraints { PowerConstraints power_target = 1; }
    GetMinerDetailsResponse { ... string hostname = 6; string mac_address = 7;
                              MinerStatus status = 12; }   MinerStatus: NORMAL = 2, PAUSED = 3
    ApiVersion { uint64 major = 1; uint64 minor = 2; uint64 patch = 3; }
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
from typing import Any

from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Cardinality, Status
import pyasic
from pyasic import APIError
from pyasic.device.algorithm import SHA256Unit
from pyasic.miners.antminer import BOSMinerS19jPro, BOSMinerS21
from pyasic.miners.braiins import BraiinsBMM101
from pyasic.miners.factory import MinerFactory, MinerTypes
import pytest

from tests.conftest import SimFactory
from tests.simulator.braiins import MODELS, BraiinsMiner

FAST = {"command_delay": 0.05, "tune_seconds": 0.1, "reboot_seconds": 0.3}
V1 = "/braiins.bos.v1."


# ---- protobuf wire format, by hand -------------------------------------------------------
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode(fields: list[tuple[int, int | str | bytes]]) -> bytes:
    """(field number, value) pairs: ints as varints, str/bytes length-delimited."""
    out = bytearray()
    for number, value in fields:
        if isinstance(value, int):
            out += _varint(number << 3) + _varint(value)
        else:
            data = value.encode() if isinstance(value, str) else value
            out += _varint(number << 3 | 2) + _varint(len(data)) + data
    return bytes(out)


def decode(data: bytes) -> dict[int, list[int | bytes]]:
    """Field number → its values (varints as ints, length-delimited as bytes)."""
    fields: dict[int, list[int | bytes]] = {}
    pos = 0

    def varint() -> int:
        nonlocal pos
        shift = result = 0
        while True:
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    while pos < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields.setdefault(number, []).append(varint())
        elif wire == 2:
            length = varint()
            fields.setdefault(number, []).append(data[pos : pos + length])
            pos += length
        elif wire == 1:
            fields.setdefault(number, []).append(data[pos : pos + 8])
            pos += 8
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return fields


class RawCodec:
    """Sends and returns message bytes as they are."""

    __content_subtype__ = "proto"

    def encode(self, message: bytes, message_type: Any) -> bytes:
        return message

    def decode(self, data: bytes, message_type: Any) -> bytes:
        return data


async def call(
    ip: str, path: str, body: bytes = b"", token: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """One unary gRPC call with raw bytes: the reply and its initial metadata."""
    metadata = {"authorization": token} if token else None
    async with (
        Channel(ip, 50051, codec=RawCodec()) as channel,  # type: ignore[arg-type]
        channel.request(path, Cardinality.UNARY_UNARY, bytes, bytes, metadata=metadata) as stream,
    ):
        await stream.send_message(body, end=True)
        reply = await stream.recv_message()
        headers = dict(stream.initial_metadata or {})
    assert isinstance(reply, bytes)
    return reply, headers


async def login(ip: str, username: str = "root", password: str = "root") -> str:
    reply, headers = await call(
        ip, f"{V1}AuthenticationService/Login", encode([(1, username), (2, password)])
    )
    fields = decode(reply)
    token = fields[1][0]
    assert isinstance(token, bytes)
    assert fields[2] == [3600]
    assert headers["authorization"] == token.decode()
    return token.decode()


async def rpc(ip: str, request: dict[str, Any]) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection(ip, 4028)
    writer.write(json.dumps(request).encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    await writer.wait_closed()
    reply: dict[str, Any] = json.loads(raw.rstrip(b"\x00"))
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
        ("127.0.41.10", "Antminer S19j Pro", BOSMinerS19jPro),
        ("127.0.41.11", "Antminer S21", BOSMinerS21),
        ("127.0.41.12", "Braiins Mini Miner BMM 101", BraiinsBMM101),
    ],
)
async def test_get_miner_class(simulate: SimFactory, ip: str, model: str, cls: type) -> None:
    await simulate(BraiinsMiner, ip, model=model)
    miner = await pyasic.get_miner(ip)
    assert type(miner) is cls


async def test_probes_and_the_bosminer_api(simulate: SimFactory) -> None:
    """The web page names Braiins OS, `version` names BOSer, `devdetails` the model (pyasic
    drops "Bitmain "); commands join with `+` as the bosminer API page shows."""
    ip = "127.0.41.13"
    await simulate(BraiinsMiner, ip)
    factory = MinerFactory()
    assert await factory._get_miner_web(ip) is MinerTypes.BRAIINS_OS
    assert await factory._get_miner_socket(ip) is MinerTypes.BRAIINS_OS
    details = await rpc(ip, {"command": "devdetails"})
    assert details["DEVDETAILS"][0]["Model"] == "Bitmain Antminer S19j Pro"
    assert await factory.get_miner_model_braiins_os(ip) == "Antminer S19j Pro"
    joined = await rpc(ip, {"command": "version+summary"})
    assert set(joined) == {"version", "summary", "id"}
    assert joined["version"][0]["VERSION"][0]["API"] == "3.7"


# ---- the Public API over the wire ---------------------------------------------------------
async def test_login_and_tokens(simulate: SimFactory) -> None:
    ip = "127.0.41.14"
    sim = await simulate(BraiinsMiner, ip, password="s3cret", **FAST)
    # GetApiVersion needs no token.
    version, _ = await call(ip, "/braiins.bos.ApiVersionService/GetApiVersion")
    assert decode(version) == {1: [1], 2: [6]}
    with pytest.raises(GRPCError) as refused:
        await login(ip, password="root")
    assert refused.value.status is Status.UNAUTHENTICATED
    with pytest.raises(GRPCError) as anonymous:
        await call(ip, f"{V1}MinerService/GetMinerDetails")
    assert anonymous.value.status is Status.UNAUTHENTICATED
    token = await login(ip, password="s3cret")
    reply, _ = await call(ip, f"{V1}MinerService/GetMinerDetails", token=token)
    fields = decode(reply)
    assert fields[6] == [b"Antminer"]
    assert fields[7] == [sim.mac.encode()]
    assert fields[12] == [2]
    # A reboot ends every session.
    sim.reboot()
    await wait_until(lambda: not sim.powered)
    await wait_until(lambda: sim.powered)
    with pytest.raises(GRPCError) as stale:
        await call(ip, f"{V1}MinerService/GetMinerDetails", token=token)
    assert stale.value.status is Status.UNAUTHENTICATED


async def test_constraints_bound_the_power_target(simulate: SimFactory) -> None:
    ip = "127.0.41.16"
    sim = await simulate(BraiinsMiner, ip, **FAST)
    token = await login(ip)
    reply, _ = await call(ip, f"{V1}ConfigurationService/GetConstraints", token=token)
    tuner = decode(reply)[1][0]
    assert isinstance(tuner, bytes)
    power = decode(tuner)[1][0]
    assert isinstance(power, bytes)
    bounds = {n: decode(v[0])[1][0] for n, v in decode(power).items() if isinstance(v[0], bytes)}
    spec = MODELS["Antminer S19j Pro"]
    assert bounds == {1: spec.default_w, 2: spec.min_w, 3: spec.max_w}
    with pytest.raises(GRPCError) as out_of_range:
        await call(
            ip,
            f"{V1}PerformanceService/SetPowerTarget",
            encode([(1, 3), (2, encode([(1, spec.max_w + 1)]))]),
            token=token,
        )
    assert out_of_range.value.status is Status.INVALID_ARGUMENT
    reply, _ = await call(
        ip,
        f"{V1}PerformanceService/SetPowerTarget",
        encode([(1, 2), (2, encode([(1, 2000)]))]),
        token=token,
    )
    assert decode(decode(reply)[1][0])[1] == [2000]  # type: ignore[arg-type]
    await wait_until(lambda: sim.tuned_target == 2000)


# ---- pyasic reads -------------------------------------------------------------------------
async def test_get_data(simulate: SimFactory) -> None:
    ip = "127.0.41.20"
    sim = await simulate(BraiinsMiner, ip, hostname="garage-bos", **FAST)
    sim._bosminer_since -= 600
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    data = await miner.get_data()
    assert data.mac == sim.mac.upper()
    assert data.hostname == "garage-bos"
    assert data.fw_ver == "25.03"
    assert data.api_ver == "3.7"
    assert ths(data.hashrate) == pytest.approx(104.0)
    assert ths(data.expected_hashrate) == pytest.approx(104.0)
    assert data.wattage == 3068
    assert data.wattage_limit == 3068
    assert data.is_mining is True
    assert data.uptime == sim.bosminer_uptime_s
    assert data.uptime >= 600
    assert data.fault_light is False
    assert data.errors == []
    assert [f.speed for f in data.fans] == sim.fan_rpms()
    for index, board in enumerate(data.hashboards):
        temps = sim.board_temps(index)
        assert temps is not None
        assert (board.temp, board.chip_temp, board.chips) == (int(temps[0]), int(temps[1]), 126)
        assert ths(board.hashrate) == pytest.approx(104.0 / 3)
    assert [(str(p.url), p.user, p.active) for p in data.pools] == [
        ("stratum+tcp://eu.stratum.braiins.com:3333", "homeminer.bos1", True)
    ]
    assert data.config is not None
    assert data.config.mining_mode.mode == "power_tuning"


# ---- pyasic controls, checked on the wire -------------------------------------------------
async def _bos(simulate: SimFactory, ip: str, **kwargs: Any) -> tuple[BraiinsMiner, Any]:
    sim: BraiinsMiner = await simulate(BraiinsMiner, ip, **{**FAST, **kwargs})
    miner = await pyasic.get_miner(ip)
    assert miner is not None
    sim.grpc_requests.clear()
    return sim, miner


def sent(sim: BraiinsMiner, method: str) -> list[bytes]:
    return [body for path, body in sim.grpc_requests if path == f"{V1}{method}"]


async def test_pause_and_resume(simulate: SimFactory) -> None:
    sim, miner = await _bos(simulate, "127.0.41.21")
    sim._bosminer_since -= 600
    assert miner.supports_shutdown
    assert await miner.stop_mining() is True
    # pyasic logs in first, with its default login, then pauses.
    assert decode(sent(sim, "AuthenticationService/Login")[0]) == {1: [b"root"], 2: [b"root"]}
    assert sent(sim, "ActionsService/PauseMining") == [b""]
    await wait_until(lambda: sim.paused)
    summary = await miner.rpc.summary()
    assert summary["SUMMARY"][0]["MHS 1m"] == 0
    assert summary["SUMMARY"][0]["Elapsed"] >= 600
    data = await miner.get_data(include=["is_mining", "wattage", "hashrate"])
    assert data.is_mining is False
    # A zero estimate is left out of the message (proto3), so pyasic has none.
    assert data.wattage is None
    details = await miner.web.get_miner_details()
    assert details["status"] == 3  # MINER_STATUS_PAUSED
    assert await miner.resume_mining() is True
    assert sent(sim, "ActionsService/ResumeMining") == [b""]
    await wait_until(lambda: not sim.paused)
    assert sim.hashrate_ths == pytest.approx(104.0)


async def test_power_limit_is_set_power_target(simulate: SimFactory) -> None:
    sim, miner = await _bos(simulate, "127.0.41.22")
    assert await miner.set_power_limit(2500) is True
    assert [decode(body) for body in sent(sim, "PerformanceService/SetPowerTarget")] == [
        {1: [3], 2: [encode([(1, 2500)])]}
    ]
    assert sim.power_target == 2500 or sim.commands[-1].applied is None
    await wait_until(lambda: sim.tuned_target == 2500)
    low = sim.spec.nominal_ths * (2500 / sim.spec.default_w) ** 0.75
    assert sim.hashrate_ths == pytest.approx(low)
    # Beyond the constraints the firmware refuses, and pyasic says so.
    assert await miner.set_power_limit(200) is False
    assert sim.power_target == 2500
    assert (await miner.get_data(include=["wattage_limit"])).wattage_limit == 2500


async def test_locate_and_reboot(simulate: SimFactory) -> None:
    """A reboot ends pyasic's session; its next call logs in again by itself. The power
    target is saved; the pause and the blink are not."""
    sim, miner = await _bos(simulate, "127.0.41.23")
    assert await miner.fault_light_on() is True
    assert [decode(b) for b in sent(sim, "ActionsService/SetLocateDeviceStatus")] == [{1: [1]}]
    await wait_until(lambda: sim.locate)
    assert await miner.set_power_limit(2200) is True
    await miner.stop_mining()
    await wait_until(lambda: sim.paused and sim.power_target == 2200)
    assert await miner.reboot() is True
    assert sent(sim, "ActionsService/Reboot") == [b""]
    await wait_until(lambda: not sim.powered)
    await wait_until(lambda: sim.powered)
    assert not sim.paused
    assert not sim.locate
    assert sim.power_target == 2200
    logins = len(sent(sim, "AuthenticationService/Login"))
    assert (await miner.get_data(include=["wattage_limit"])).wattage_limit == 2200
    assert len(sent(sim, "AuthenticationService/Login")) == logins + 1


async def test_acknowledged_but_not_applied(simulate: SimFactory) -> None:
    sim, miner = await _bos(simulate, "127.0.41.24")
    sim.faults.ignore_commands = True
    assert await miner.stop_mining() is True
    await asyncio.sleep(0.2)
    assert not sim.paused
    assert sim.commands[-1].applied is False


async def test_unplugged(simulate: SimFactory) -> None:
    """Refused connections: bosminer's RPC reads as nothing; pyasic lets the gRPC side's
    refusal through (its login is outside its own error handling), so `get_data` raises."""
    sim, miner = await _bos(simulate, "127.0.41.25")
    await sim.power_off()
    data = await miner.get_data(include=["uptime", "hashrate"])
    assert (data.uptime, data.hashrate) == (None, None)
    with pytest.raises(APIError):
        await miner.get_data(include=["wattage"])
    with pytest.raises(ConnectionRefusedError):
        await miner.stop_mining()
