"""Canaan Avalon Nano 3 / 3s: CGMiner RPC with Canaan's `ascset` options.

pyasic 0.78.1 reads these well but drives them badly: its power limit can never select the
lowest level (a 0 is dropped from the command) and on the 3s it sends `worklevel` where the
firmware's Low/Medium/High is `workmode`; its stop/resume schedule the change 5 s ahead with
A-series options that Nano firmware may not have; its reboot sends `restart`, which the Nano
does not know. So controls are sent here as the firmware takes them:
- level: `ascset|0,worklevel,set,N` (Nano 3) or `ascset|0,workmode,set,N` (Nano 3s);
- stop/resume: `ascset|0,softoff|softon,1:<now>` — offered only if the firmware has it;
- reboot: `ascset|0,reboot,0`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from ..errors import MinerCommandError, MinerConnectionError
from ..model import (
    Capabilities,
    Credentials,
    Family,
    MinerIdentity,
    MinerSnapshot,
    PowerLimitRange,
)
from .base import Driver, ths

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

LEVEL_NAMES = ("low", "medium", "high")


@dataclass(frozen=True, kw_only=True)
class NanoModel:
    """Canaan's three levels: the power limit (MPO) and the draw of each."""

    selector: str
    limits_w: tuple[int, int, int]
    draw_w: tuple[int, int, int]
    idle_w: int


NANO3 = NanoModel(selector="worklevel", limits_w=(60, 90, 125), draw_w=(59, 89, 125), idle_w=6)
NANO3S = NanoModel(selector="workmode", limits_w=(75, 100, 133), draw_w=(74, 99, 133), idle_w=7)


class AvalonNanoDriver(Driver):
    """Avalon Nano 3 and 3s."""

    family = Family.AVALON_NANO
    poll_options = [
        "hashrate",
        "expected_hashrate",
        "hashboards",
        "wattage",
        "wattage_limit",
        "fans",
        "uptime",
        "pools",
    ]

    def __init__(self) -> None:
        self._model = NANO3S

    def bind(
        self, miner: AnyMiner, session: aiohttp.ClientSession, credentials: Credentials
    ) -> None:
        super().bind(miner, session, credentials)
        # pyasic fetches `estats` once per poll but parses it again for every data item
        # (a deep copy and a regex pass each time); parse each answer once.
        parse = miner.parse_estats
        last: list[tuple[object, Any]] = []

        def parse_once(raw: object) -> Any:
            if last and last[0][0] is raw:
                return last[0][1]
            parsed = parse(raw)
            last[:] = [(raw, parsed)]
            return parsed

        miner.parse_estats = parse_once

    async def _ascset(self, miner: AnyMiner, command: str, option: str) -> str:
        """Send one `ascset`; return the firmware's message, raise if it refused."""
        try:
            answer = await miner.rpc.send_command(
                "ascset", parameters=f"0,{option}", ignore_errors=True
            )
        except Exception as err:
            raise MinerConnectionError(f"{command}: {err}") from err
        try:
            status = answer["STATUS"][0]
        except (KeyError, IndexError, TypeError) as err:
            # pyasic turns a refused connection into an empty answer.
            raise MinerConnectionError(f"{command}: the miner did not answer") from err
        message = str(status.get("Msg", ""))
        if status.get("STATUS") not in ("S", "I"):
            raise MinerCommandError(command, message or "the miner refused")
        return message

    async def read_identity(self, host: str, miner: AnyMiner) -> tuple[MinerIdentity, Capabilities]:
        data = await self.get_data(
            miner, [*self.identity_options, "hashrate", "wattage", "wattage_limit"]
        )
        identity = self.identity(host, miner, data)
        self._model = NANO3S if "3S" in identity.model.upper() else NANO3
        can_stop = False
        if ths(data.hashrate):
            # Harmless while mining: tells whether this firmware has softoff/softon at all.
            try:
                await self._ascset(miner, "probe", f"softon,1:{int(time.time())}")
                can_stop = True
            except MinerCommandError:
                can_stop = False
        limits = self._model.limits_w
        caps = replace(
            await self.capabilities(miner, data),
            can_stop=can_stop,
            power_limit=PowerLimitRange(minimum=limits[0], maximum=limits[-1], step=1),
            work_modes=LEVEL_NAMES,
            can_identify=False,
            can_reboot=True,
            boards=1,
            power_estimated=data.wattage is None,
            # Nano chips run at 90-95 °C by design; the firmware throttles above 105 °C.
            overheat_c=105.0,
            hashrate_unit="TH/s",
        )
        return identity, caps

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        data = await self.get_data(miner, self.data_options(caps))
        snapshot = self.snapshot(miner, data, caps)
        level = self._level(data.wattage_limit)
        power = snapshot.power_w
        if caps.power_estimated:
            power = float(
                self._model.draw_w[level]
                if snapshot.is_mining and level is not None
                else self._model.idle_w
            )
        return replace(
            snapshot,
            power_w=power,
            power_limit_w=float(self._model.limits_w[level]) if level is not None else None,
            work_mode=LEVEL_NAMES[level] if level is not None else None,
        )

    def _level(self, limit: Any) -> int | None:
        if not isinstance(limit, (int, float)) or limit <= 0:
            return None
        limits = self._model.limits_w
        return min(range(len(limits)), key=lambda i: abs(limits[i] - limit))

    async def _set_level(self, miner: AnyMiner, command: str, level: int) -> None:
        await self._ascset(miner, command, f"{self._model.selector},set,{level}")

    async def set_work_mode(self, miner: AnyMiner, mode: str) -> None:
        await self._set_level(miner, "work_mode", LEVEL_NAMES.index(mode))

    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        fitting = [i for i, w in enumerate(self._model.limits_w) if w <= watts]
        level = fitting[-1] if fitting else 0
        await self._set_level(miner, "power_limit", level)
        return self._model.limits_w[level]

    async def stop(self, miner: AnyMiner) -> None:
        await self._ascset(miner, "stop", f"softoff,1:{int(time.time())}")

    async def resume(self, miner: AnyMiner) -> None:
        await self._ascset(miner, "resume", f"softon,1:{int(time.time())}")

    async def reboot(self, miner: AnyMiner) -> None:
        await self._ascset(miner, "reboot", "reboot,0")
