"""Family drivers: what pyasic does well is delegated to it, what it lacks is done here.

A driver turns a pyasic `MinerData` into a `MinerSnapshot` and carries out controls the way
each firmware really accepts them. Quirks handled here (pyasic 0.78.1):
- ESP-Miner (Bitaxe, NerdQaxe): pyasic has no stop/resume/power limit. Firmware >= 2.14
  has `POST /api/system/pause|resume`; the power limit is set through the ASIC frequency.
- Avalon Nano: pyasic's stop/resume schedule the change 5 s ahead; its `set_power_limit`
  maps watts to levels such that the lowest level cannot be chosen from a wattage.
- Antminer stock: stop/resume rewrite the whole config; a config read that failed would be
  written back with default pools, so the pools are checked before anything is sent.
"""

from __future__ import annotations

import asyncio
import importlib
import re
from typing import TYPE_CHECKING, Any

import aiohttp

from ..errors import MinerCommandError, MinerConnectionError, UnsupportedMinerError
from ..http import MinerHttp
from ..model import (
    Board,
    Capabilities,
    Credentials,
    Family,
    MinerIdentity,
    MinerSnapshot,
    Pool,
)

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner


FIRST_POLL_MAX_AGE = 2.0
"""Seconds a snapshot read at connect may stand in for the first poll."""


def ths(value: Any) -> float | None:
    """pyasic hashrates carry their own unit; bring them to TH/s."""
    if value is None:
        return None
    unit = importlib.import_module("pyasic.device.algorithm").SHA256Unit
    return float(value.into(unit.TH))


def number(value: Any) -> float | None:
    """A number from a firmware's reply (a string, an int, a float), else None (JSON's
    true and false are no numbers)."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except TypeError, ValueError:
        return None


def cgminer_active_pool(answer: dict[str, Any]) -> Pool | None:
    """The active pool of a CGMiner-style `pools` reply (the first listed if none is marked
    active), as Avalon and LUXminer firmware answer it."""
    pools = [p for p in answer.get("POOLS", []) if isinstance(p, dict) and p.get("URL")]
    active = next((p for p in pools if p.get("Stratum Active")), pools[0] if pools else None)
    if active is None:
        return None
    return Pool(
        url=str(active["URL"]),
        user=str(active.get("User") or "") or None,
        accepted=int(number(active.get("Accepted")) or 0),
        rejected=int(number(active.get("Rejected")) or 0),
    )


def version_tuple(text: str | None) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text or "")
    return tuple(int(n) for n in numbers[:3])


class Driver:
    """pyasic as it is: the generic family."""

    family = Family.GENERIC
    identity_options = [
        "mac",
        "hostname",
        "fw_ver",
        "api_ver",
        "expected_hashrate",
        "fans",
        "env_temp",
    ]
    poll_options = [
        "hashrate",
        "expected_hashrate",
        "hashboards",
        "wattage",
        "wattage_limit",
        "fans",
        "errors",
        "is_mining",
        "uptime",
        "pools",
    ]

    http: MinerHttp
    known_mac: str | None = None
    """The MAC the network saw for this miner (DHCP, or its entry's), for firmware that may
    not report its own."""
    _first_poll: tuple[float, MinerSnapshot] | None = None

    def keep_for_first_poll(self, snapshot: MinerSnapshot) -> None:
        """Keep what the identity read saw, so the first poll right after it asks nothing."""
        self._first_poll = (asyncio.get_running_loop().time(), snapshot)

    def take_first_poll(self) -> MinerSnapshot | None:
        """The snapshot kept at connect, once, if it is still fresh."""
        kept, self._first_poll = self._first_poll, None
        if kept is not None and asyncio.get_running_loop().time() - kept[0] < FIRST_POLL_MAX_AGE:
            return kept[1]
        return None

    def bind(
        self, miner: AnyMiner, session: aiohttp.ClientSession, credentials: Credentials
    ) -> None:
        """Attach the session and login to use for this miner."""
        if credentials.password is not None:
            for api in (miner.web, miner.rpc):
                if api is not None and hasattr(api, "pwd"):
                    api.pwd = credentials.password
                    if credentials.username and hasattr(api, "username"):
                        api.username = credentials.username
        self.http = MinerHttp(session, str(miner.ip), self.digest(credentials))

    def digest(self, credentials: Credentials) -> tuple[str, str] | None:
        """The HTTP digest login of firmware that has one."""
        return None

    async def check_auth(self, miner: AnyMiner) -> None:
        """Raise MinerAuthError if the miner refuses the login (families that have one)."""

    async def read_identity(self, host: str, miner: AnyMiner) -> tuple[MinerIdentity, Capabilities]:
        """Who the miner is and what it can do; read once, at connect."""
        await self.check_auth(miner)
        data = await self.get_data(miner, self.identity_options)
        return self.identity(host, miner, data), await self.capabilities(miner, data)

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        """One poll."""
        data = await self.get_data(miner, self.data_options(caps))
        return self.snapshot(miner, data, caps)

    async def get_data(self, miner: AnyMiner, include: list[str]) -> Any:
        try:
            data = await miner.get_data(include=include)
        except Exception as err:
            raise MinerConnectionError(str(err) or type(err).__name__) from err
        if not self.answered(data):
            raise MinerConnectionError("the miner did not answer")
        return data

    def answered(self, data: Any) -> bool:
        """Did the miner answer at all? pyasic returns empty data instead of raising."""
        return any(
            getattr(data, field, None) not in (None, [], "")
            for field in ("mac", "fw_ver", "wattage", "raw_hashrate", "uptime", "pools")
        )

    def identity(self, host: str, miner: AnyMiner, data: Any) -> MinerIdentity:
        if not data.mac:
            # Entries are keyed by MAC; pyasic cannot read it on some models (Avalon Nano 3).
            raise UnsupportedMinerError(f"{miner.model} does not report its MAC address")
        make = str(miner.make) if miner.make else "Unknown"
        model = str(miner.raw_model or miner.model or type(miner).__name__)
        return MinerIdentity(
            host=host,
            mac=str(data.mac).upper(),
            hostname=data.hostname,
            make=make,
            # "S19j Pro" on Braiins OS: "AntMiner S19j Pro", a name of its own.
            model=model if model.lower().startswith(make.lower()) else f"{make} {model}",
            firmware=str(miner.firmware.value if miner.firmware else "Stock"),
            firmware_version=data.fw_ver,
            family=self.family,
        )

    async def capabilities(self, miner: AnyMiner, data: Any) -> Capabilities:
        return Capabilities(
            can_stop=bool(miner.supports_shutdown),
            has_env_temp=data.env_temp is not None,
            can_reboot=True,
            can_identify=True,
            boards=int(miner.expected_hashboards or 0),
            fans=int(miner.expected_fans or len(data.fans or [])),
            hashrate_unit=self.hashrate_unit(data),
        )

    def hashrate_unit(self, data: Any) -> str:
        expected = ths(data.expected_hashrate)
        return "GH/s" if expected is not None and expected < 1.0 else "TH/s"

    def data_options(self, caps: Capabilities) -> list[str]:
        return [*self.poll_options, "env_temp"] if caps.has_env_temp else list(self.poll_options)

    def snapshot(self, miner: AnyMiner, data: Any, caps: Capabilities) -> MinerSnapshot:
        boards = tuple(
            Board(
                index=b.slot,
                hashrate_ths=ths(b.hashrate),
                temperature=b.temp,
                chip_temperature=b.chip_temp,
                chips=b.chips,
                expected_chips=b.expected_chips,
                active=b.active,
            )
            for b in data.hashboards
        )
        temps = [t for b in data.hashboards for t in (b.chip_temp, b.temp) if t]
        pool = None
        for p in data.pools or []:
            if p.active or pool is None:
                pool = Pool(
                    url=str(p.url) if p.url else "",
                    user=p.user,
                    accepted=p.accepted,
                    rejected=p.rejected,
                )
                if p.active:
                    break
        hashrate = ths(data.hashrate)
        return MinerSnapshot(
            is_mining=self.is_mining(data, hashrate),
            hashrate_ths=hashrate,
            expected_hashrate_ths=ths(data.expected_hashrate),
            power_w=float(data.wattage) if data.wattage is not None else None,
            power_limit_w=float(data.wattage_limit) if data.wattage_limit else None,
            temperature_avg=data.temperature_avg,
            temperature_max=max(temps) if temps else None,
            env_temperature=data.env_temp,
            uptime_s=data.uptime,
            boards=boards,
            fans=tuple(f.speed for f in data.fans),
            pool=pool,
            errors=tuple(str(getattr(e, "error_message", e)) for e in data.errors or []),
            fault_light=data.fault_light,
            work_mode=self.work_mode(data),
            missing_boards=sum(1 for b in data.hashboards if b.missing) if caps.boards > 1 else 0,
            overheat_c=caps.overheat_c,
        )

    def is_mining(self, data: Any, hashrate: float | None) -> bool:
        # pyasic's is_mining defaults to True when the firmware does not say; the hashrate
        # is the honest witness.
        if data.is_mining is False:
            return False
        return bool(hashrate)

    def work_mode(self, data: Any) -> str | None:
        return None

    async def stop(self, miner: AnyMiner) -> None:
        if not await miner.stop_mining():
            raise MinerCommandError("stop", "the miner refused")

    async def resume(self, miner: AnyMiner) -> None:
        if not await miner.resume_mining():
            raise MinerCommandError("resume", "the miner refused")

    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        raise MinerCommandError("power_limit", "not supported by this miner")

    def power_levels(self) -> tuple[int, ...]:
        """The limits (W) the power limit really takes, where it is a choice among a few
        (levels, presets, profiles, frequency steps): asking for one of these gets exactly
        it. Empty where the limit is continuous or not settable."""
        return ()

    async def set_work_mode(self, miner: AnyMiner, mode: str) -> None:
        raise MinerCommandError("work_mode", "not supported by this miner")

    async def set_fan_mode(self, miner: AnyMiner, mode: str) -> None:
        raise MinerCommandError("fan_mode", "not supported by this miner")

    async def set_manual_fan_speed(self, miner: AnyMiner, percent: int) -> None:
        raise MinerCommandError("fan_speed", "not supported by this miner")

    async def set_target_temperature(self, miner: AnyMiner, celsius: int) -> None:
        raise MinerCommandError("target_temperature", "not supported by this miner")

    async def reboot(self, miner: AnyMiner) -> None:
        if not await miner.reboot():
            raise MinerCommandError("reboot", "the miner refused")

    async def identify(self, miner: AnyMiner) -> None:
        if not await miner.fault_light_on():
            raise MinerCommandError("identify", "the miner refused")


__all__ = ["Driver"]
