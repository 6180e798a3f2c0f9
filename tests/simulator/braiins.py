"""An Antminer (or a Braiins Mini Miner) on Braiins OS+, as pyasic 0.79 drives it (`BOSer`).

Three servers, as on the device:

* the web UI on port 80, whose page names "Braiins OS" (pyasic's web probe looks for it);
* bosminer's CGMiner-style API on TCP 4028 (docs.braiins.com/os/plus-en/Development/1_api.html):
  `version` (naming BOSer), `summary` (`MHS 1m`, `Elapsed`), `devs`, `devdetails` (the model,
  "Bitmain Antminer S19j Pro"), `tunerstatus`, `pools`, `fans`, joined with `+`;
* the Braiins OS Public API over gRPC on port 50051 (github.com/braiins/bos-plus-api, proto
  files under proto/bos/v1): `AuthenticationService/Login` returns a session token (in the
  body, and in the `authorization` header as older clients read it) that every other call
  but `ApiVersionService/GetApiVersion` presents in its `authorization` metadata; it lapses
  after `timeout_s` (3600 s) without use. Served: `ActionsService` PauseMining / ResumeMining
  / Reboot / Restart / Set- and GetLocateDeviceStatus, `PerformanceService` SetPowerTarget /
  SetDefaultPowerTarget / GetActivePerformanceMode / GetTunerState, `ConfigurationService`
  GetMinerConfiguration / GetConstraints, `MinerService` GetMinerDetails / GetMinerStats /
  GetHashboards, `CoolingService` GetCoolingState, `PoolService` GetPoolGroups (what pyasic
  0.79 calls, and the settings it reads back); no other method is served.

The messages are those of Braiins' proto, as pyasic ships them generated
(`pyasic.web.braiins_os.proto`); the conformance tests decode the wire bytes by the proto's
own field numbers, so the simulator does not merely agree with pyasic.

Physics: the tuner holds the power target (within the model's constraints), the hashrate
follows it (efficiency improves as the chips run slower); a new target is tuned after
`tune_seconds`. A pause stops hashing with bosminer still up (its uptime goes on; the docs do
not say whether a pause outlives a reboot: here it does not, the harder case for a closed
loop). `approximated_consumption` is the firmware's own estimate, not a meter reading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import hashlib
import importlib
import secrets
import time
from typing import Any

from aiohttp import web

from .base import SimulatedMiner, rpc_status

BOS_VERSION = "2025-03-26-0-c5a2ac1b-25.03-plus"
BOSER_VERSION = "boser-buildroot 0.1.0-2ed8d3f0 git-c5a2ac1b"
TOKEN_SECONDS = 3600
TH_SECONDS_PER_SHARE = 1380.0
EFFICIENCY_EXPONENT = 0.75
"""Hashrate ∝ power^0.75: a slower, lower-voltage chip does more hashes per joule."""

WEB_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Braiins OS</title></head>
<body><div id="app"></div><script src="/static/main.js"></script></body></html>
"""


@dataclass(frozen=True)
class ModelSpec:
    """A model at its default power target, and the tuner's bounds (the firmware's
    constraints for it)."""

    vendor: str
    nominal_ths: float
    default_w: int
    min_w: int
    max_w: int
    boards: int
    chips: int
    fans: int
    first_chain: int
    """bosminer numbers an S19's chains 6, 7, 8 (its connectors); a BMM's from 0."""


MODELS: dict[str, ModelSpec] = {
    "Antminer S19j Pro": ModelSpec("Bitmain", 104.0, 3068, 1000, 3600, 3, 126, 4, 6),
    "Antminer S19k Pro": ModelSpec("Bitmain", 120.0, 2760, 900, 3300, 3, 77, 4, 6),
    "Antminer S21": ModelSpec("Bitmain", 200.0, 3500, 1200, 4000, 3, 108, 4, 6),
    "Braiins Mini Miner BMM 101": ModelSpec("", 1.0, 40, 15, 45, 1, 1, 1, 0),
}

DEFAULT_POOLS: tuple[dict[str, str], ...] = (
    {"url": "stratum+tcp://eu.stratum.braiins.com:3333", "user": "homeminer.bos1", "pass": ""},
)


def _pb() -> Any:
    """Braiins' messages (imported on first use: it imports pyasic, which takes a second)."""
    return importlib.import_module("pyasic.web.braiins_os.proto.braiins.bos.v1")


def _mac(ip: str) -> str:
    digest = hashlib.sha256(f"braiins:{ip}".encode()).digest()
    return "02" + "".join(f":{b:02x}" for b in digest[:5])


class _RecordingCodec:
    """grpclib's protobuf codec, keeping the last request's bytes for the command log."""

    __content_subtype__ = "proto"

    def __init__(self, miner: BraiinsMiner) -> None:
        self._miner = miner

    def encode(self, message: Any, message_type: Any) -> bytes:
        data: bytes = message.SerializeToString()
        return data

    def decode(self, data: bytes, message_type: Any) -> Any:
        self._miner.last_request_bytes = data
        return message_type.FromString(data)


class BraiinsMiner(SimulatedMiner):
    """An Antminer S19j Pro (by default) on Braiins OS+ 25.03.

    `username` / `password` are the web and API login (root / root, pyasic's default);
    `power_target` the tuner's saved target (the model's default if None); `tune_seconds`
    how long the tuner takes to settle on a new target; `paused` starts it paused.
    """

    family = "braiins"
    http_port = 80
    rpc_port = 4028
    grpc_port = 50051
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = (
        {"model": "Antminer S19j Pro"},
        {"model": "Braiins Mini Miner BMM 101"},
        {"model": "Antminer S21", "power_target": 3000},
        {"model": "Antminer S19k Pro"},
    )

    def __init__(
        self,
        ip: str,
        *,
        model: str = "Antminer S19j Pro",
        firmware: str = BOS_VERSION,
        username: str = "root",
        password: str = "root",
        hostname: str | None = None,
        mac: str | None = None,
        serial: str | None = None,
        power_target: int | None = None,
        paused: bool = False,
        pools: list[dict[str, str]] | None = None,
        ambient_c: float = 25.0,
        idle_w: float = 20.0,
        tune_seconds: float = 0.2,
        command_delay: float = 0.3,
        reboot_seconds: float = 2.0,
        http_port: int | None = None,
        rpc_port: int | None = None,
        grpc_port: int | None = None,
    ) -> None:
        spec = MODELS.get(model, MODELS["Antminer S19j Pro"])
        super().__init__(
            ip,
            hostname=hostname or ("Antminer" if spec.vendor else "braiins-os"),
            mac=mac or _mac(ip),
            command_delay=command_delay,
            reboot_seconds=reboot_seconds,
            http_port=http_port,
            rpc_port=rpc_port,
        )
        if grpc_port is not None:
            self.grpc_port = grpc_port
        self.model = model
        self.spec = spec
        self.firmware = firmware
        self.username = username
        self.password = password
        self.serial = serial or hashlib.sha256(f"serial:{self.mac}".encode()).hexdigest()[:16]
        self.pools = [dict(p) for p in (pools if pools is not None else DEFAULT_POOLS)]
        self.ambient_c = ambient_c
        self.idle_w = idle_w
        self.tune_seconds = tune_seconds
        # Saved configuration (survives reboots).
        self.power_target = power_target if power_target is not None else self.spec.default_w
        # Running state.
        self.paused = paused
        self.locate = False
        self.tuned_target = self.power_target
        """The target the chips run at now; it follows `power_target` after a tuning."""
        self.tokens: dict[str, float] = {}
        self.last_request_bytes = b""
        self.grpc_requests: list[tuple[str, bytes]] = []
        """Every gRPC request (method path, message bytes as they came over the wire)."""
        self._bosminer_since = time.monotonic()
        self._th_seconds = 0.0
        self._tune_generation = 0
        self._grpc: Any = None

    # ---- physics ---------------------------------------------------------------------------
    @property
    def hashing(self) -> bool:
        return self.powered and not self.paused

    @property
    def tuning(self) -> bool:
        return self.tuned_target != self.power_target

    @property
    def hashrate_ths(self) -> float:
        if not self.hashing:
            return 0.0
        ratio = self.tuned_target / self.spec.default_w
        return self.spec.nominal_ths * ratio**EFFICIENCY_EXPONENT

    def board_ghs(self, index: int) -> float:
        return self.hashrate_ths * 1000 / self.spec.boards

    @property
    def power_w(self) -> float:
        if not self.powered:
            return 0.0
        return float(self.tuned_target) if self.hashing else self.idle_w

    @property
    def approximated_w(self) -> int:
        """What the firmware reports: its tuner's estimate (nothing while paused)."""
        return self.tuned_target if self.hashing else 0

    def board_temps(self, index: int) -> tuple[float, float] | None:
        """(board, hottest chip) in °C, or None with the board idle."""
        if not self.hashing:
            return None
        board_w = self.power_w / self.spec.boards
        board = round(self.ambient_c + 0.03 * board_w + index, 1)
        return board, round(board + 12.0, 1)

    def fan_rpms(self) -> list[int]:
        if not self.hashing:
            return [0] * self.spec.fans
        load = self.power_w / self.spec.max_w
        return [int(round((1500 + 4000 * load) / 30) * 30) - 60 * i for i in range(self.spec.fans)]

    @property
    def bosminer_uptime_s(self) -> int:
        return int(time.monotonic() - self._bosminer_since) if self.powered else 0

    def _integrate(self) -> None:
        if self.powered:
            self._th_seconds += self.hashrate_ths * (time.monotonic() - self._energy_at)
        super()._integrate()

    @property
    def accepted(self) -> int:
        return int(self._th_seconds / TH_SECONDS_PER_SHARE)

    def on_boot(self) -> None:
        # The power target is saved; a pause, the locate blink and sessions are not.
        self.paused = False
        self.locate = False
        self.tokens.clear()
        self.tuned_target = self.power_target
        self._bosminer_since = time.monotonic()
        self._th_seconds = 0.0

    def _retune(self) -> None:
        self._tune_generation += 1
        generation = self._tune_generation

        def _done() -> None:
            if generation == self._tune_generation:
                self._integrate()
                self.tuned_target = self.power_target

        self.call_later(self.tune_seconds, _done)

    def status(self) -> dict[str, Any]:
        self._integrate()
        return {
            **super().status(),
            "model": self.model,
            "firmware": self.firmware,
            "paused": self.paused,
            "hashing": self.hashing,
            "power_target": self.power_target,
            "tuned_target": self.tuned_target,
            "hashrate_ths": round(self.hashrate_ths, 3),
            "fans_rpm": self.fan_rpms(),
            "uptime_s": self.uptime_s,
            "bosminer_uptime_s": self.bosminer_uptime_s,
            "energy_wh": round(self.energy_wh, 3),
            "locate": self.locate,
        }

    # ---- lifecycle: the gRPC server beside the base class's HTTP and RPC --------------------
    async def power_on(self) -> None:
        if self.powered:
            return
        # The gRPC server first: the base class marks the miner powered, and a test that
        # waits for that must find every port answering.
        server = importlib.import_module("grpclib.server").Server(
            [_BosApi(self)], codec=_RecordingCodec(self)
        )
        await server.start(self.ip, self.grpc_port, reuse_address=True)
        self._grpc = server
        await super().power_on()

    async def power_off(self) -> None:
        server, self._grpc = self._grpc, None
        if server is not None:
            # asyncio leaves a connection accepted just before its server closes half made
            # (the client then waits forever, and the loop logs an AssertionError): stop
            # accepting, let those connections finish attaching, then close them all.
            listener = server._server
            loop = asyncio.get_running_loop()
            for sock in listener.sockets:
                loop.remove_reader(sock.fileno())
            for _ in range(3):
                await asyncio.sleep(0)
            server.close()
            listener.close_clients()
            await server.wait_closed()
        await super().power_off()

    start = power_on
    stop = power_off

    # ---- HTTP ------------------------------------------------------------------------------
    def build_http_app(self) -> web.Application:
        app = web.Application()

        async def _index(request: web.Request) -> web.Response:
            return web.Response(text=WEB_PAGE, content_type="text/html")

        app.router.add_get("/", _index)
        return app

    # ---- RPC: bosminer's CGMiner-style API -------------------------------------------------
    def _status(self, code: int, msg: str) -> list[dict[str, Any]]:
        return [rpc_status("S", code, msg, BOSER_VERSION)]

    async def handle_rpc(self, request: dict[str, Any]) -> dict[str, Any]:
        self._integrate()
        command = str(request.get("command", ""))
        readers: dict[str, Callable[[], dict[str, Any]]] = {
            "version": self._version,
            "summary": self._summary,
            "devs": self._devs,
            "devdetails": self._devdetails,
            "tunerstatus": self._tunerstatus,
            "pools": self._pools,
            "fans": self._fans,
        }
        if "+" not in command:
            reader = readers.get(command)
            if reader is None:
                return {"STATUS": [rpc_status("E", 14, "Invalid command", BOSER_VERSION)], "id": 1}
            return reader()
        joined: dict[str, Any] = {}
        for name in command.split("+"):
            if name in readers:
                joined[name] = [readers[name]()]
        joined["id"] = 1
        return joined

    def _version(self) -> dict[str, Any]:
        return {
            "STATUS": self._status(22, "BOSer versions"),
            "VERSION": [{"BOSer": BOSER_VERSION, "API": "3.7"}],
            "id": 1,
        }

    def _summary(self) -> dict[str, Any]:
        mhs = round(self.hashrate_ths * 1e6, 3)
        return {
            "STATUS": self._status(11, "Summary"),
            "SUMMARY": [
                {
                    "Elapsed": self.bosminer_uptime_s,
                    "MHS av": mhs,
                    "MHS 5s": mhs,
                    "MHS 1m": mhs,
                    "MHS 5m": mhs,
                    "MHS 15m": mhs,
                    "Accepted": self.accepted,
                    "Rejected": self.accepted // 500,
                    "Hardware Errors": 0,
                }
            ],
            "id": 1,
        }

    def _chain(self, index: int) -> int:
        return self.spec.first_chain + index

    def _devs(self) -> dict[str, Any]:
        return {
            "STATUS": self._status(9, f"{self.spec.boards} ASC(s)"),
            "DEVS": [
                {
                    "ASC": i,
                    "Name": "BC5",
                    "ID": self._chain(i),
                    "Enabled": "Y",
                    "Status": "Alive",
                    "MHS 5s": round(self.board_ghs(i) * 1000, 3),
                    "MHS 1m": round(self.board_ghs(i) * 1000, 3),
                    "Nominal MHS": round(self.spec.nominal_ths * 1e6 / self.spec.boards, 3),
                }
                for i in range(self.spec.boards)
            ],
            "id": 1,
        }

    def _devdetails(self) -> dict[str, Any]:
        model = f"{self.spec.vendor} {self.model}".strip()
        return {
            "STATUS": self._status(69, "Device Details"),
            "DEVDETAILS": [
                {
                    "DEVDETAILS": i,
                    "Name": "BC5",
                    "ID": self._chain(i),
                    "Driver": "bitmain",
                    "Kernel": "",
                    "Model": model,
                    "Chips": self.spec.chips,
                }
                for i in range(self.spec.boards)
            ],
            "id": 1,
        }

    def _tunerstatus(self) -> dict[str, Any]:
        status = "Stable" if not self.tuning else "Testing performance profile"
        return {
            "STATUS": self._status(11, "Tuner Status"),
            "TUNERSTATUS": [
                {
                    "PowerLimit": self.power_target,
                    "ApproximateMinerPowerConsumption": self.approximated_w,
                    "TunerChainStatus": [
                        {"HashchainIndex": self._chain(i), "Status": status}
                        for i in range(self.spec.boards)
                    ],
                }
            ],
            "id": 1,
        }

    def _pools(self) -> dict[str, Any]:
        return {
            "STATUS": self._status(7, f"{len(self.pools)} Pool(s)"),
            "POOLS": [
                {
                    "POOL": i,
                    "URL": p["url"],
                    "User": p["user"],
                    "Status": "Alive",
                    "Stratum Active": i == 0 and self.hashing,
                    "Accepted": self.accepted if i == 0 else 0,
                    "Rejected": 0,
                }
                for i, p in enumerate(self.pools)
            ],
            "id": 1,
        }

    def _fans(self) -> dict[str, Any]:
        return {
            "STATUS": self._status(202, f"{self.spec.fans} Fan(s)"),
            "FANS": [
                {"FAN": i, "ID": i, "RPM": rpm, "Speed": rpm * 100 // 6000}
                for i, rpm in enumerate(self.fan_rpms())
            ],
            "id": 1,
        }

    # ---- gRPC: the Public API --------------------------------------------------------------
    def authorized(self, token: str | None) -> bool:
        now = time.monotonic()
        used = self.tokens.get(token or "")
        if used is None or now - used > TOKEN_SECONDS:
            return False
        self.tokens[token or ""] = now  # each request renews the session
        return True

    def login(self, username: str, password: str) -> str | None:
        if self.faults.wrong_credentials or (username, password) != (
            self.username,
            self.password,
        ):
            return None
        token = secrets.token_urlsafe(12)[:16]
        self.tokens[token] = time.monotonic()
        return token

    def pause(self, pause: bool) -> bool:
        """Pause or resume; True if it was already so."""
        already = self.paused is pause
        rec = self.record("grpc", "PauseMining" if pause else "ResumeMining")

        def _set() -> None:
            self.paused = pause

        if not already:
            self.apply(rec, _set)
        return already

    def set_power_target(self, watts: int, save_action: int) -> str | None:
        """Set the tuner's target; the reason it is refused, if it is."""
        spec = self.spec
        if not spec.min_w <= watts <= spec.max_w:
            return f"power target {watts} W is out of range <{spec.min_w}, {spec.max_w}> W"
        rec = self.record("grpc", "SetPowerTarget", watt=watts, save_action=save_action)

        def _set() -> None:
            self.power_target = watts
            self._retune()

        self.apply(rec, _set)
        return None

    def set_locate(self, enable: bool) -> None:
        rec = self.record("grpc", "SetLocateDeviceStatus", enable=enable)
        self.apply(rec, lambda: setattr(self, "locate", enable), delay=0)

    def reboot_command(self) -> None:
        rec = self.record("grpc", "Reboot")
        self.apply(rec, self.reboot)

    def restart_bosminer(self) -> None:
        rec = self.record("grpc", "Restart")

        def _restart() -> None:
            self._bosminer_since = time.monotonic()
            self.paused = False

        self.apply(rec, _restart)


Handler = Callable[[Any, Any], Awaitable[Any]]


class _BosApi:
    """The gRPC methods, by the paths the published proto defines."""

    def __init__(self, miner: BraiinsMiner) -> None:
        self.miner = miner

    def __mapping__(self) -> dict[str, Any]:
        pb = _pb()
        bos = importlib.import_module("pyasic.web.braiins_os.proto.braiins.bos")
        const = importlib.import_module("grpclib.const")
        unary = const.Cardinality.UNARY_UNARY
        v1 = "/braiins.bos.v1."
        methods: dict[str, tuple[Handler, Any, Any, bool]] = {
            "/braiins.bos.ApiVersionService/GetApiVersion": (
                self.api_version,
                bos.ApiVersionRequest,
                bos.ApiVersion,
                False,
            ),
            f"{v1}AuthenticationService/Login": (
                self.login,
                pb.LoginRequest,
                pb.LoginResponse,
                False,
            ),
            f"{v1}ActionsService/PauseMining": (
                self.pause_mining,
                pb.PauseMiningRequest,
                pb.PauseMiningResponse,
                True,
            ),
            f"{v1}ActionsService/ResumeMining": (
                self.resume_mining,
                pb.ResumeMiningRequest,
                pb.ResumeMiningResponse,
                True,
            ),
            f"{v1}ActionsService/Reboot": (self.reboot, pb.RebootRequest, pb.RebootResponse, True),
            f"{v1}ActionsService/Restart": (
                self.restart,
                pb.RestartRequest,
                pb.RestartResponse,
                True,
            ),
            f"{v1}ActionsService/SetLocateDeviceStatus": (
                self.set_locate,
                pb.SetLocateDeviceStatusRequest,
                pb.LocateDeviceStatusResponse,
                True,
            ),
            f"{v1}ActionsService/GetLocateDeviceStatus": (
                self.get_locate,
                pb.GetLocateDeviceStatusRequest,
                pb.LocateDeviceStatusResponse,
                True,
            ),
            f"{v1}PerformanceService/SetPowerTarget": (
                self.set_power_target,
                pb.SetPowerTargetRequest,
                pb.SetPowerTargetResponse,
                True,
            ),
            f"{v1}PerformanceService/SetDefaultPowerTarget": (
                self.set_default_power_target,
                pb.SetDefaultPowerTargetRequest,
                pb.SetPowerTargetResponse,
                True,
            ),
            f"{v1}PerformanceService/GetActivePerformanceMode": (
                self.active_performance_mode,
                pb.GetPerformanceModeRequest,
                pb.PerformanceMode,
                True,
            ),
            f"{v1}PerformanceService/GetTunerState": (
                self.tuner_state,
                pb.GetTunerStateRequest,
                pb.GetTunerStateResponse,
                True,
            ),
            f"{v1}ConfigurationService/GetConstraints": (
                self.constraints,
                pb.GetConstraintsRequest,
                pb.GetConstraintsResponse,
                True,
            ),
            f"{v1}ConfigurationService/GetMinerConfiguration": (
                self.configuration,
                pb.GetMinerConfigurationRequest,
                pb.GetMinerConfigurationResponse,
                True,
            ),
            f"{v1}MinerService/GetMinerDetails": (
                self.details,
                pb.GetMinerDetailsRequest,
                pb.GetMinerDetailsResponse,
                True,
            ),
            f"{v1}MinerService/GetMinerStats": (
                self.stats,
                pb.GetMinerStatsRequest,
                pb.GetMinerStatsResponse,
                True,
            ),
            f"{v1}MinerService/GetHashboards": (
                self.hashboards,
                pb.GetHashboardsRequest,
                pb.GetHashboardsResponse,
                True,
            ),
            f"{v1}CoolingService/GetCoolingState": (
                self.cooling,
                pb.GetCoolingStateRequest,
                pb.GetCoolingStateResponse,
                True,
            ),
            f"{v1}PoolService/GetPoolGroups": (
                self.pool_groups,
                pb.GetPoolGroupsRequest,
                pb.GetPoolGroupsResponse,
                True,
            ),
        }
        return {
            path: const.Handler(self._serve(path, fn, private), unary, request, reply)
            for path, (fn, request, reply, private) in methods.items()
        }

    def _serve(self, path: str, fn: Handler, private: bool) -> Callable[[Any], Awaitable[None]]:
        grpclib = importlib.import_module("grpclib")
        status = importlib.import_module("grpclib.const").Status
        miner = self.miner

        async def _handle(stream: Any) -> None:
            await miner._delay_reply()
            request = await stream.recv_message()
            miner.grpc_requests.append((path, miner.last_request_bytes))
            miner._integrate()
            if private and not miner.authorized(stream.metadata.get("authorization")):
                raise grpclib.GRPCError(status.UNAUTHENTICATED, "authentication required")
            await stream.send_message(await fn(request, stream))

        return _handle

    # ---- methods -------------------------------------------------------------------------
    async def api_version(self, request: Any, stream: Any) -> Any:
        bos = importlib.import_module("pyasic.web.braiins_os.proto.braiins.bos")
        return bos.ApiVersion(major=1, minor=6, patch=0)

    async def login(self, request: Any, stream: Any) -> Any:
        token = self.miner.login(request.username, request.password)
        if token is None:
            grpclib = importlib.import_module("grpclib")
            status = importlib.import_module("grpclib.const").Status
            raise grpclib.GRPCError(status.UNAUTHENTICATED, "invalid credentials")
        # Older clients (pyasic 0.79 among them) read the token from this header.
        await stream.send_initial_metadata(metadata={"authorization": token})
        return _pb().LoginResponse(token=token, timeout_s=TOKEN_SECONDS)

    async def pause_mining(self, request: Any, stream: Any) -> Any:
        return _pb().PauseMiningResponse(already_paused=self.miner.pause(True))

    async def resume_mining(self, request: Any, stream: Any) -> Any:
        return _pb().ResumeMiningResponse(already_mining=self.miner.pause(False))

    async def reboot(self, request: Any, stream: Any) -> Any:
        self.miner.reboot_command()
        return _pb().RebootResponse()

    async def restart(self, request: Any, stream: Any) -> Any:
        self.miner.restart_bosminer()
        return _pb().RestartResponse(already_running=False)

    async def set_locate(self, request: Any, stream: Any) -> Any:
        self.miner.set_locate(bool(request.enable))
        return _pb().LocateDeviceStatusResponse(enabled=bool(request.enable))

    async def get_locate(self, request: Any, stream: Any) -> Any:
        return _pb().LocateDeviceStatusResponse(enabled=self.miner.locate)

    async def set_power_target(self, request: Any, stream: Any) -> Any:
        return self._power_target(int(request.power_target.watt), int(request.save_action))

    async def set_default_power_target(self, request: Any, stream: Any) -> Any:
        return self._power_target(self.miner.spec.default_w, int(request.save_action))

    def _power_target(self, watts: int, save_action: int) -> Any:
        refused = self.miner.set_power_target(watts, save_action)
        if refused is not None:
            grpclib = importlib.import_module("grpclib")
            status = importlib.import_module("grpclib.const").Status
            raise grpclib.GRPCError(status.INVALID_ARGUMENT, refused)
        pb = _pb()
        return pb.SetPowerTargetResponse(power_target=pb.Power(watt=watts))

    async def active_performance_mode(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        target = pb.PowerTargetMode(power_target=pb.Power(watt=self.miner.power_target))
        return pb.PerformanceMode(tuner_mode=pb.TunerPerformanceMode(power_target=target))

    async def tuner_state(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        miner = self.miner
        return pb.GetTunerStateResponse(
            overall_tuner_state=pb.TunerState.TUNING if miner.tuning else pb.TunerState.STABLE,
            power_target_mode_state=pb.PowerTargetModeState(
                current_target=pb.Power(watt=miner.power_target)
            ),
        )

    async def constraints(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        spec = self.miner.spec
        return pb.GetConstraintsResponse(
            tuner_constraints=pb.TunerConstraints(
                power_target=pb.PowerConstraints(
                    default=pb.Power(watt=spec.default_w),
                    min=pb.Power(watt=spec.min_w),
                    max=pb.Power(watt=spec.max_w),
                ),
                default_mode=pb.TunerMode.POWER_TARGET,
            )
        )

    async def configuration(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        miner = self.miner
        return pb.GetMinerConfigurationResponse(
            pool_groups=[
                pb.PoolGroupConfiguration(
                    uid="1",
                    name="Default",
                    quota=pb.Quota(value=1),
                    pools=[
                        pb.PoolConfiguration(
                            uid=str(i), url=p["url"], user=p["user"], password=p["pass"]
                        )
                        for i, p in enumerate(miner.pools)
                    ],
                )
            ],
            temperature=pb.CoolingConfiguration(
                auto=pb.CoolingAutoMode(
                    target_temperature=pb.Temperature(degree_c=75.0),
                    hot_temperature=pb.Temperature(degree_c=90.0),
                    dangerous_temperature=pb.Temperature(degree_c=100.0),
                )
            ),
            tuner=pb.TunerConfiguration(
                enabled=True,
                tuner_mode=pb.TunerMode.POWER_TARGET,
                power_target=pb.Power(watt=miner.power_target),
            ),
        )

    async def details(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        miner = self.miner
        spec = miner.spec
        bmm = spec.vendor == ""
        return pb.GetMinerDetailsResponse(
            uid=miner.serial[:16],
            miner_identity=pb.MinerIdentity(
                brand=pb.MinerBrand.UNSPECIFIED if bmm else pb.MinerBrand.ANTMINER,
                name=miner.model,
                miner_model=miner.model,
            ),
            platform=pb.Platform.STM32MP157C_II2_BMM1 if bmm else pb.Platform.AM3_BBB,
            bos_mode=pb.BosMode.NAND,
            bos_version=pb.BosVersion(
                current=miner.firmware, major="2025-03-26-0-c5a2ac1b-25.03-plus", bos_plus=True
            ),
            hostname=miner.hostname,
            mac_address=miner.mac,
            system_uptime=miner.uptime_s,
            sticker_hashrate=pb.GigaHashrate(gigahash_per_second=spec.nominal_ths * 1000),
            bosminer_uptime_s=miner.bosminer_uptime_s,
            system_uptime_s=miner.uptime_s,
            status=pb.MinerStatus.PAUSED if miner.paused else pb.MinerStatus.NORMAL,
            kernel_version="5.15.0",
        )

    async def stats(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        miner = self.miner
        ghs = miner.hashrate_ths * 1000
        efficiency = miner.approximated_w / miner.hashrate_ths if miner.hashing else 0.0
        return pb.GetMinerStatsResponse(
            pool_stats=pb.PoolStats(accepted_shares=miner.accepted),
            miner_stats=pb.WorkSolverStats(
                real_hashrate=pb.RealHashrate(
                    last_5_s=pb.GigaHashrate(gigahash_per_second=ghs),
                    last_1_m=pb.GigaHashrate(gigahash_per_second=ghs),
                ),
                nominal_hashrate=pb.GigaHashrate(gigahash_per_second=miner.spec.nominal_ths * 1000),
            ),
            power_stats=pb.MinerPowerStats(
                approximated_consumption=pb.Power(watt=miner.approximated_w),
                efficiency=pb.PowerEfficiency(joule_per_terahash=round(efficiency, 2)),
            ),
        )

    async def hashboards(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        miner = self.miner
        boards = []
        for i in range(miner.spec.boards):
            temps = miner.board_temps(i)
            ghs = miner.board_ghs(i)
            boards.append(
                pb.Hashboard(
                    id=str(miner._chain(i)),
                    enabled=True,
                    chips_count=miner.spec.chips,
                    board_temp=pb.Temperature(degree_c=temps[0]) if temps else None,
                    highest_chip_temp=(
                        pb.TemperatureSensor(
                            location=pb.SensorLocation.CHIP,
                            temperature=pb.Temperature(degree_c=temps[1]),
                        )
                        if temps
                        else None
                    ),
                    stats=pb.WorkSolverStats(
                        real_hashrate=pb.RealHashrate(
                            last_5_s=pb.GigaHashrate(gigahash_per_second=ghs),
                        )
                    ),
                    serial_number=f"{miner.serial[:10]}{i}",
                )
            )
        return pb.GetHashboardsResponse(hashboards=boards)

    async def cooling(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        miner = self.miner
        temps = [t for i in range(miner.spec.boards) if (t := miner.board_temps(i))]
        return pb.GetCoolingStateResponse(
            fans=[pb.FanState(position=i, rpm=rpm) for i, rpm in enumerate(miner.fan_rpms())],
            highest_temperature=(
                pb.TemperatureSensor(
                    location=pb.SensorLocation.CHIP,
                    temperature=pb.Temperature(degree_c=max(t[1] for t in temps)),
                )
                if temps
                else None
            ),
        )

    async def pool_groups(self, request: Any, stream: Any) -> Any:
        pb = _pb()
        miner = self.miner
        return pb.GetPoolGroupsResponse(
            pool_groups=[
                pb.PoolGroup(
                    name="Default",
                    quota=pb.Quota(value=1),
                    pools=[
                        pb.Pool(
                            uid=str(i),
                            url=p["url"],
                            user=p["user"],
                            enabled=True,
                            alive=True,
                            active=i == 0 and miner.hashing,
                            stats=pb.PoolStats(
                                accepted_shares=miner.accepted if i == 0 else 0,
                            ),
                        )
                        for i, p in enumerate(miner.pools)
                    ],
                )
            ]
        )
