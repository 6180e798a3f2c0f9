"""What every simulated miner shares: identity, faults, a command log, timers and servers.

A family (ESP-Miner, Avalon, Antminer, ...) subclasses `SimulatedMiner`, keeps its physical
state in its own attributes, and serves its real protocol through `serve_http` (aiohttp on
port 80) and/or `serve_rpc` (CGMiner-style JSON over TCP 4028). The faults are applied here,
at the transport, so every family fails the way a real device on a real network does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
import hashlib
import json
import time
from typing import Any

from aiohttp import web

RpcHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | bytes | None]]


@dataclass
class Faults:
    """Faults injected into one simulated miner; tests flip these at any time."""

    latency: float = 0.0
    """Seconds added before every reply (HTTP and RPC)."""
    timeout: bool = False
    """Accept the connection, never answer."""
    malformed: bool = False
    """Answer with bytes that are not the protocol's JSON."""
    truncated: bool = False
    """Answer with the first half of the real reply, then close."""
    wrong_credentials: bool = False
    """Refuse every credential, as after a password change on the device."""
    ignore_commands: bool = False
    """Acknowledge commands but never apply them."""
    reboot_on_command: bool = False
    """The next command reboots the miner before it is applied (it goes away for a while)."""


@dataclass
class CommandRecord:
    """One command the miner received."""

    at: float
    protocol: str
    command: str
    params: dict[str, Any] = field(default_factory=dict)
    applied: bool | None = None


def mac_for(ip: str, oui: str) -> str:
    """A stable MAC for an IP, under the family's vendor prefix."""
    digest = hashlib.sha256(ip.encode()).digest()
    return oui.upper() + "".join(f":{b:02X}" for b in digest[:3])


class SimulatedMiner:
    """Base of all simulated miners.

    `powered` False means the device is off: its ports refuse connections. `reboot()` takes it
    away for `reboot_seconds` and brings it back with its running state reset by
    `on_boot()`.
    """

    family = "base"
    oui = "02:00:00"
    http_port: int | None = None
    rpc_port: int | None = None

    def __init__(
        self,
        ip: str,
        *,
        hostname: str | None = None,
        mac: str | None = None,
        command_delay: float = 0.3,
        reboot_seconds: float = 2.0,
        http_port: int | None = None,
        rpc_port: int | None = None,
    ) -> None:
        self.ip = ip
        self.mac = mac or mac_for(ip, self.oui)
        self.hostname = hostname or f"{self.family}-{self.mac[-5:].replace(':', '').lower()}"
        self.command_delay = command_delay
        self.reboot_seconds = reboot_seconds
        if http_port is not None:
            self.http_port = http_port
        if rpc_port is not None:
            self.rpc_port = rpc_port
        self.faults = Faults()
        self.commands: list[CommandRecord] = []
        self.powered = False
        self.boot_time = time.monotonic()
        self._energy_wh = 0.0
        self._energy_at = time.monotonic()
        self._timers: set[asyncio.TimerHandle] = set()
        self._http_runner: web.AppRunner | None = None
        self._rpc_server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._hanging: set[asyncio.Task[Any]] = set()

    # ---- physics hooks (families override) -------------------------------------------------
    @property
    def power_w(self) -> float:
        """Electrical power drawn now."""
        return 0.0

    @property
    def uptime_s(self) -> int:
        return int(time.monotonic() - self.boot_time)

    @property
    def energy_wh(self) -> float:
        """Energy drawn since the simulator started (integrated at every state change/read)."""
        self._integrate()
        return self._energy_wh

    def _integrate(self) -> None:
        now = time.monotonic()
        if self.powered:
            self._energy_wh += self.power_w * (now - self._energy_at) / 3600
        self._energy_at = now

    def on_boot(self) -> None:
        """Reset what a reboot resets (families override)."""

    def status(self) -> dict[str, Any]:
        """A JSON-friendly view of the miner's state for tests and the CLI."""
        return {
            "family": self.family,
            "ip": self.ip,
            "mac": self.mac,
            "hostname": self.hostname,
            "powered": self.powered,
            "power_w": round(self.power_w, 1),
            "commands": len(self.commands),
        }

    # ---- commands --------------------------------------------------------------------------
    def record(self, protocol: str, command: str, **params: Any) -> CommandRecord:
        rec = CommandRecord(time.monotonic(), protocol, command, params)
        self.commands.append(rec)
        return rec

    def command_log(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.commands]

    def apply(
        self, rec: CommandRecord, change: Callable[[], None], delay: float | None = None
    ) -> bool:
        """Apply `change` after the command delay, honouring the command faults.

        Returns False when the command will not be applied (so a family may still answer
        "success", as firmware does).
        """
        if self.faults.reboot_on_command:
            self.faults.reboot_on_command = False
            rec.applied = False
            self.reboot()
            return False
        if self.faults.ignore_commands:
            rec.applied = False
            return False

        def _run() -> None:
            self._integrate()
            change()
            rec.applied = True

        self.call_later(self.command_delay if delay is None else delay, _run)
        return True

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def _fire() -> None:
            self._timers.discard(handle)
            fn()

        handle = loop.call_later(delay, _fire)
        self._timers.add(handle)

    def reboot(self) -> None:
        """Go away for `reboot_seconds` (ports refuse), then come back freshly booted."""
        asyncio.get_running_loop().create_task(self._reboot())

    async def _reboot(self) -> None:
        await self.power_off()
        await asyncio.sleep(self.reboot_seconds)
        await self.power_on()

    # ---- lifecycle -------------------------------------------------------------------------
    def build_http_app(self) -> web.Application | None:
        """The family's HTTP application, or None if it serves no HTTP."""
        return None

    async def handle_rpc(self, request: dict[str, Any]) -> dict[str, Any] | bytes | None:
        """Answer one CGMiner-style RPC request; None closes without an answer.

        A dict is sent as JSON plus the trailing NUL; bytes are sent exactly as given, for
        firmware whose formatting `json.dumps` cannot reproduce.
        """
        return None

    async def power_on(self) -> None:
        """Start serving (the device boots)."""
        if self.powered:
            return
        self._integrate()
        self.boot_time = time.monotonic()
        self.on_boot()
        app = self.build_http_app()
        if app is not None and self.http_port is not None:
            app.middlewares.append(self._http_faults)
            # Unplugged means gone: pending requests are dropped, not waited for (60 s).
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
            await runner.setup()
            await web.TCPSite(runner, self.ip, self.http_port, reuse_address=True).start()
            self._http_runner = runner
        if self.rpc_port is not None:
            self._rpc_server = await asyncio.start_server(
                self._rpc_connection, self.ip, self.rpc_port, reuse_address=True
            )
        self.powered = True

    async def power_off(self) -> None:
        """Stop serving: connections are refused, as when the miner is unplugged."""
        self._integrate()
        self.powered = False
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        if self._rpc_server is not None:
            self._rpc_server.close()
            for task in list(self._connections):
                task.cancel()
            await self._rpc_server.wait_closed()
            self._rpc_server = None
        if self._http_runner is not None:
            await self._http_runner.cleanup()
            self._http_runner = None
        hanging = [task for task in self._hanging if task is not asyncio.current_task()]
        for task in hanging:
            task.cancel()
        await asyncio.gather(*hanging, return_exceptions=True)

    start = power_on
    stop = power_off

    # ---- transport with faults -------------------------------------------------------------
    @web.middleware
    async def _http_faults(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        await self._delay_reply()
        if self.faults.malformed:
            return web.Response(body=b"\x00\xffnot json{{", content_type="application/json")
        response = await handler(request)
        if self.faults.truncated and isinstance(response, web.Response) and response.body:
            body = bytes(response.body)  # type: ignore[arg-type]
            # Announce the full length and send half: the client sees the peer close early.
            response.headers["Content-Length"] = str(len(body))
            raw = web.StreamResponse(status=response.status, headers=response.headers)
            await raw.prepare(request)
            await raw.write(body[: len(body) // 2])
            if request.transport is not None:
                request.transport.close()
            return raw
        return response

    async def _delay_reply(self) -> None:
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if self.faults.timeout:
            # Silent until unplugged: power_off cancels and awaits the hanging replies, so no
            # request handler outlives the miner (aiohttp's cleanup does not wait for them).
            task = asyncio.current_task()
            assert task is not None
            self._hanging.add(task)
            try:
                await asyncio.sleep(3600)
            finally:
                self._hanging.discard(task)

    async def _rpc_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            raw = await reader.read(65536)
            reply = await self._rpc_reply(raw)
            if reply is not None:
                writer.write(reply)
                await writer.drain()
        except ConnectionError, asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _rpc_reply(self, raw: bytes) -> bytes | None:
        await self._delay_reply()
        if self.faults.malformed:
            return b"\x00garbage}{"
        try:
            request = json.loads(raw.decode("utf-8", "replace").strip("\x00 \n"))
        except json.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            return rpc_envelope("E", 14, "Invalid command", self.family)
        reply = await self.handle_rpc(request)
        if reply is None:
            return None
        data = reply if isinstance(reply, bytes) else json.dumps(reply).encode() + b"\x00"
        if self.faults.truncated:
            return data[: len(data) // 2]
        return data


def rpc_status(
    status: str, code: int, msg: str, description: str, when: int | None = None
) -> dict[str, Any]:
    """A CGMiner `STATUS` entry."""
    return {
        "STATUS": status,
        "When": int(time.time()) if when is None else when,
        "Code": code,
        "Msg": msg,
        "Description": description,
    }


def rpc_envelope(status: str, code: int, msg: str, description: str) -> bytes:
    return json.dumps({"STATUS": [rpc_status(status, code, msg, description)], "id": 1}).encode()
