"""A fleet of simulated miners on a range of loopback addresses, with a status endpoint.

A spec is a comma-separated list of items; each item is an address, a range of addresses
(`127.0.0.2-127.0.0.12`, or `127.0.0.2-12` for the last octet) or either of those prefixed
with a family, optionally with a model (`antminer@127.0.0.20`, `bitaxe:NerdQAxe++@127.0.0.30-35`).
Items without a family take theirs from the family pattern in turn (default: bitaxe,
avalon_nano, antminer, bitaxe, ...). Within a family, miners without a model cycle through the
class's `FLEET_VARIANTS` (models, firmware) when it has any, so a fleet looks like a real mixed
household.

The status endpoint (aiohttp) lets tests, the demo and people look at and break the fleet:

    GET    /                        every miner's status()
    GET    /miners/{ip}             one miner: status, faults and command log
    GET    /miners/{ip}/commands    its command log
    GET    /miners/{ip}/faults      its faults
    POST   /miners/{ip}/faults      update faults: {"latency": 0.5, "timeout": true, ...}
    DELETE /miners/{ip}/faults      clear all faults
    POST   /miners/{ip}/power       {"on": false} unplugs it, {"on": true} plugs it back in
    POST   /miners/{ip}/reboot      reboot it
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
import dataclasses
import ipaddress
import json
from typing import Any

from aiohttp import web

from . import FAMILIES
from .base import Faults, SimulatedMiner

DEFAULT_FAMILIES: tuple[str, ...] = ("bitaxe", "avalon_nano", "antminer")


def expand_addresses(item: str) -> list[str]:
    """'127.0.0.2-127.0.0.4' / '127.0.0.2-4' / '127.0.0.2' → the addresses, in order."""
    first, _, last = item.partition("-")
    start = ipaddress.IPv4Address(first.strip())
    if not last:
        end = start
    elif "." in last:
        end = ipaddress.IPv4Address(last.strip())
    else:
        end = ipaddress.IPv4Address(f"{first.strip().rsplit('.', 1)[0]}.{last.strip()}")
    if end < start:
        raise ValueError(f"empty address range {item!r}")
    addresses = [str(ipaddress.IPv4Address(n)) for n in range(int(start), int(end) + 1)]
    for address in addresses:
        if not ipaddress.IPv4Address(address).is_loopback:
            raise ValueError(f"{address} is not a loopback address")
    return addresses


def parse_spec(
    spec: str, families: Sequence[str] = DEFAULT_FAMILIES
) -> list[tuple[str, str | None, str]]:
    """The (family, model or None, ip) triples a fleet spec describes."""
    if not families:
        raise ValueError("no families to assign")
    for family in families:
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    pairs: list[tuple[str, str | None, str]] = []
    seen: set[str] = set()
    turn = 0
    for raw_item in spec.split(","):
        item = raw_item.strip()
        if not item:
            continue
        prefix, at, addresses = item.rpartition("@")
        explicit, colon, model = prefix.partition(":")
        explicit = explicit.strip()
        if at and explicit not in FAMILIES:
            raise ValueError(f"unknown family {explicit!r}; known: {', '.join(FAMILIES)}")
        for ip in expand_addresses(addresses):
            if ip in seen:
                raise ValueError(f"{ip} appears twice in the fleet spec")
            seen.add(ip)
            if at:
                pairs.append((explicit, model.strip() if colon else None, ip))
            else:
                pairs.append((families[turn % len(families)], None, ip))
                turn += 1
    return pairs


class Fleet:
    """Many simulated miners (any families), started and stopped together."""

    def __init__(self, miners: Iterable[SimulatedMiner] = ()) -> None:
        self.miners: dict[str, SimulatedMiner] = {}
        for miner in miners:
            self.add(miner)
        self._status_runner: web.AppRunner | None = None
        self.status_url: str | None = None

    @classmethod
    def from_spec(
        cls,
        spec: str,
        families: Sequence[str] = DEFAULT_FAMILIES,
        *,
        variants: bool = True,
        **common: Any,
    ) -> Fleet:
        """Build (not start) the fleet a spec describes; `common` kwargs go to every miner."""
        fleet = cls()
        per_family: dict[str, int] = {}
        for family, model, ip in parse_spec(spec, families):
            miner_cls = FAMILIES[family]
            kwargs = dict(common)
            options: Sequence[dict[str, Any]] = getattr(miner_cls, "FLEET_VARIANTS", ())
            if model is not None:
                kwargs["model"] = model
            elif variants and options:
                index = per_family.get(family, 0)
                per_family[family] = index + 1
                kwargs = {**options[index % len(options)], **common}
            fleet.add(miner_cls(ip, **kwargs))
        return fleet

    def add(self, miner: SimulatedMiner) -> SimulatedMiner:
        if miner.ip in self.miners:
            raise ValueError(f"{miner.ip} is already in the fleet")
        self.miners[miner.ip] = miner
        return miner

    def __len__(self) -> int:
        return len(self.miners)

    def __getitem__(self, ip: str) -> SimulatedMiner:
        return self.miners[ip]

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self, status: tuple[str, int] | None = None) -> None:
        """Power every miner on (concurrently), then serve the status endpoint if asked."""
        try:
            results = await asyncio.gather(
                *(miner.power_on() for miner in self.miners.values()), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            if status is not None:
                await self.start_status(*status)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._status_runner is not None:
            await self._status_runner.cleanup()
            self._status_runner = None
            self.status_url = None
        for miner in self.miners.values():
            await miner.power_off()

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- views -----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {
            "count": len(self.miners),
            "miners": [miner.status() for miner in self.miners.values()],
        }

    def rows(self) -> list[dict[str, str]]:
        rows = []
        for miner in self.miners.values():
            status = miner.status()
            ports = []
            if miner.http_port is not None:
                ports.append(f"http:{miner.http_port}")
            if miner.rpc_port is not None:
                ports.append(f"rpc:{miner.rpc_port}")
            rows.append(
                {
                    "family": miner.family,
                    "model": str(status.get("model", type(miner).__name__)),
                    "firmware": str(status.get("firmware", "")),
                    "ip": miner.ip,
                    "ports": " ".join(ports),
                    "mac": miner.mac,
                    "hostname": miner.hostname,
                }
            )
        return rows

    def table(self) -> str:
        rows = self.rows()
        headers = ["family", "model", "firmware", "ip", "ports", "mac", "hostname"]
        widths = {h: max([len(h), *(len(r[h]) for r in rows)]) for h in headers}
        lines = ["  ".join(h.upper().ljust(widths[h]) for h in headers).rstrip()]
        lines += ["  ".join(r[h].ljust(widths[h]) for h in headers).rstrip() for r in rows]
        return "\n".join(lines)

    # ---- status endpoint -------------------------------------------------------------------
    async def start_status(self, host: str, port: int) -> str:
        """Serve the status endpoint; port 0 picks a free one. Returns its URL."""
        app = web.Application()
        app.router.add_get("/", self._all)
        app.router.add_get("/miners", self._all)
        app.router.add_get("/miners/{ip}", self._one)
        app.router.add_get("/miners/{ip}/commands", self._commands)
        app.router.add_get("/miners/{ip}/faults", self._faults)
        app.router.add_post("/miners/{ip}/faults", self._set_faults)
        app.router.add_delete("/miners/{ip}/faults", self._clear_faults)
        app.router.add_post("/miners/{ip}/power", self._power)
        app.router.add_post("/miners/{ip}/reboot", self._reboot)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        await web.TCPSite(runner, host, port, reuse_address=True).start()
        self._status_runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self.status_url = f"http://{bound_host}:{bound_port}/"
        return self.status_url

    def _miner(self, request: web.Request) -> SimulatedMiner:
        ip = request.match_info["ip"]
        if ip not in self.miners:
            raise web.HTTPNotFound(
                text=json.dumps({"error": f"no miner at {ip}"}), content_type="application/json"
            )
        return self.miners[ip]

    async def _all(self, request: web.Request) -> web.Response:
        return _json(self.snapshot())

    async def _one(self, request: web.Request) -> web.Response:
        miner = self._miner(request)
        return _json(
            {
                "status": miner.status(),
                "faults": dataclasses.asdict(miner.faults),
                "commands": miner.command_log(),
            }
        )

    async def _commands(self, request: web.Request) -> web.Response:
        return _json(self._miner(request).command_log())

    async def _faults(self, request: web.Request) -> web.Response:
        return _json(dataclasses.asdict(self._miner(request).faults))

    async def _set_faults(self, request: web.Request) -> web.Response:
        miner = self._miner(request)
        body = await _body(request)
        known = {f.name: f for f in dataclasses.fields(Faults)}
        for name, value in body.items():
            if name not in known:
                return _json({"error": f"unknown fault {name!r}", "known": list(known)}, 400)
            if name == "latency":
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    return _json({"error": "latency must be a number of seconds >= 0"}, 400)
            elif not isinstance(value, bool):
                return _json({"error": f"{name} must be true or false"}, 400)
        for name, value in body.items():
            setattr(miner.faults, name, float(value) if name == "latency" else value)
        return _json(dataclasses.asdict(miner.faults))

    async def _clear_faults(self, request: web.Request) -> web.Response:
        miner = self._miner(request)
        miner.faults = Faults()
        return _json(dataclasses.asdict(miner.faults))

    async def _power(self, request: web.Request) -> web.Response:
        miner = self._miner(request)
        body = await _body(request)
        on = body.get("on", body.get("state"))
        if on in ("on", "off"):
            on = on == "on"
        if not isinstance(on, bool):
            return _json({"error": 'send {"on": true} or {"on": false}'}, 400)
        if on:
            await miner.power_on()
        else:
            await miner.power_off()
        return _json(miner.status())

    async def _reboot(self, request: web.Request) -> web.Response:
        miner = self._miner(request)
        if not miner.powered:
            return _json({"error": "the miner is off"}, 409)
        miner.reboot()
        return _json({"rebooting": True, "seconds": miner.reboot_seconds})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body is not JSON"}), content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be a JSON object"}),
            content_type="application/json",
        )
    return body


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, default=str, indent=1),
        status=status,
        content_type="application/json",
    )
