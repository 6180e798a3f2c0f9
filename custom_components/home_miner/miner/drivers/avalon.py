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
import re
import time
from typing import TYPE_CHECKING, Any

from ..errors import MinerCommandError, MinerConnectionError, UnsupportedMinerError
from ..model import (
    Board,
    Capabilities,
    Family,
    MinerIdentity,
    MinerSnapshot,
    Pool,
    PowerLimitRange,
)
from .base import Driver

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
    ps_watts: int
    """Index of the wall watts in the `PS[...]` field of `MM ID0`."""


NANO3 = NanoModel(
    selector="worklevel", limits_w=(60, 90, 125), draw_w=(59, 89, 125), idle_w=6, ps_watts=5
)
NANO3S = NanoModel(
    selector="workmode", limits_w=(75, 100, 133), draw_w=(74, 99, 133), idle_w=7, ps_watts=6
)
GH_PER_TH = 1000.0


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except TypeError, ValueError:
        return None


_MM_FIELD = re.compile(r"(\w+)\[([^\]]*)\]")


def _mm_fields(text: str) -> dict[str, str]:
    """`Ver[Nano3s-…] GHSspd[6611.23] PS[0 1209 1262 133 …]` → {"GHSspd": "6611.23", …}."""
    return {key: value.strip() for key, value in _MM_FIELD.findall(text)}


def _active_pool(answer: dict[str, Any]) -> Pool | None:
    pools = [p for p in answer.get("POOLS", []) if isinstance(p, dict) and p.get("URL")]
    active = next((p for p in pools if p.get("Stratum Active")), pools[0] if pools else None)
    if active is None:
        return None
    return Pool(
        url=str(active["URL"]),
        user=str(active.get("User") or "") or None,
        accepted=int(_number(active.get("Accepted")) or 0),
        rejected=int(_number(active.get("Rejected")) or 0),
    )


class AvalonNanoDriver(Driver):
    """Avalon Nano 3 and 3s."""

    family = Family.AVALON_NANO

    def __init__(self) -> None:
        self._model = NANO3S
        self._soft_off = False
        self._joined = True

    async def _ascset(self, miner: AnyMiner, command: str, option: str) -> str:
        """Send one `ascset`; return the firmware's message, raise if it refused."""
        try:
            answer = await miner.rpc.send_command(
                # A refusal is answered here; pyasic would also log it as a warning.
                "ascset",
                parameters=f"0,{option}",
                ignore_errors=True,
                allow_warning=False,
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
        # `version` names the miner (its MAC and firmware); the rest comes from one poll.
        version = await self._rpc(miner, "version")
        try:
            info = version["VERSION"][0]
        except (KeyError, IndexError, TypeError) as err:
            raise MinerConnectionError(f"version: unexpected answer {err!r}") from err
        if not isinstance(info, dict):
            raise MinerConnectionError(f"version: unexpected answer {info!r}")
        mac = str(info.get("MAC") or "").replace(":", "").upper()
        if len(mac) != 12:
            # Entries are keyed by MAC; the Nano 3's firmware does not report it.
            raise UnsupportedMinerError(f"{miner.model} does not report its MAC address")
        identity = MinerIdentity(
            host=host,
            mac=":".join(mac[i : i + 2] for i in range(0, 12, 2)),
            hostname=None,
            make="Canaan",
            model=str(miner.raw_model or miner.model or info.get("MODEL") or "Avalon Nano"),
            firmware="Stock",
            firmware_version=str(
                info.get("LVERSION") or info.get("VERSION") or info.get("CGMiner") or ""
            )
            or None,
            family=self.family,
        )
        self._model = NANO3S if "3S" in identity.model.upper() else NANO3
        limits = self._model.limits_w
        caps = Capabilities(
            power_limit=PowerLimitRange(minimum=limits[0], maximum=limits[-1], step=1),
            work_modes=LEVEL_NAMES,
            can_reboot=True,
            boards=1,
            fans=int(miner.expected_fans or 1),
            # Nano chips run at 90-95 °C by design; the firmware throttles above 105 °C.
            overheat_c=105.0,
            hashrate_unit="TH/s",
        )
        snapshot = await self.fetch(miner, caps)
        can_stop = self._soft_off  # soft-off now: the firmware has it
        if snapshot.is_mining:
            # Harmless while mining: tells whether this firmware has softoff/softon at all.
            try:
                await self._ascset(miner, "probe", f"softon,1:{int(time.time())}")
                can_stop = True
            except MinerCommandError:
                can_stop = False
        self.keep_for_first_poll(snapshot)
        return identity, replace(caps, can_stop=can_stop)

    async def _rpc(self, miner: AnyMiner, command: str) -> dict[str, Any]:
        try:
            answer = await miner.rpc.send_command(command)
        except Exception as err:
            raise MinerConnectionError(f"{command}: {err}") from err
        if not isinstance(answer, dict) or not answer:
            # pyasic turns a refused connection into an empty answer.
            raise MinerConnectionError(f"{command}: the miner did not answer")
        return answer

    async def _estats_and_pools(self, miner: AnyMiner) -> tuple[Any, Any]:
        """`estats` and `pools` in one request, joined as cgminer allows, else in two."""
        if self._joined:
            try:
                answer = await self._rpc(miner, "estats+pools")
                return answer["estats"][0], answer["pools"][0]
            except MinerConnectionError, KeyError, IndexError, TypeError:
                pass  # perhaps a firmware that refuses joined commands: ask separately
        raw, pools = await self._rpc(miner, "estats"), await self._rpc(miner, "pools")
        self._joined = False  # separate requests work here: keep to them
        return raw, pools

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        # `MM ID0` carries everything but the pool; only the dozen fields shown are read from it
        # (pyasic would ask three commands, deep-copy the answer and convert every field once
        # per data item).
        raw, pools = await self._estats_and_pools(miner)
        try:
            mm = _mm_fields(str(raw["STATS"][0]["MM ID0"]))
            hashrate = float(mm["GHSspd"]) / GH_PER_TH
            expected = (_number(mm.get("GHSmm")) or 0.0) / GH_PER_TH or None
            level = self._level(_number(mm.get("MPO")))
            watts = mm.get("PS", "").split()
            measured = (
                float(watts[self._model.ps_watts]) if len(watts) > self._model.ps_watts else None
            )
            chip_max = _number(mm.get("TMax", mm.get("Tmax")))
            chip_avg = _number(mm.get("TAvg"))
            env = _number(mm.get("Temp"))
            uptime = int(_number(mm.get("Elapsed")) or 0)
            soft_off = _number(mm.get("SoftOFF")) == 1
            fans = tuple(
                int(float(mm[f"Fan{i + 1}"])) for i in range(caps.fans) if f"Fan{i + 1}" in mm
            )
            pool = _active_pool(pools)
        except (
            AttributeError,
            KeyError,
            IndexError,
            TypeError,
            ValueError,
            OverflowError,
        ) as err:
            raise MinerConnectionError(f"the miner's estats could not be read: {err!r}") from err
        self._soft_off = soft_off
        mining = hashrate > 0 and not soft_off
        power = measured
        if power is None:
            power = float(
                self._model.draw_w[level] if mining and level is not None else self._model.idle_w
            )
        board = Board(
            index=0,
            hashrate_ths=hashrate,
            temperature=chip_avg,
            chip_temperature=chip_max,
            chips=None,
            expected_chips=None,
            active=mining,
        )
        return MinerSnapshot(
            is_mining=mining,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected,
            power_w=power,
            power_limit_w=float(self._model.limits_w[level]) if level is not None else None,
            temperature_avg=chip_avg,
            temperature_max=chip_max,
            env_temperature=env if env is not None and env > -273 else None,
            uptime_s=uptime,
            boards=(board,),
            fans=fans,
            pool=pool,
            work_mode=LEVEL_NAMES[level] if level is not None else None,
            overheat_c=caps.overheat_c,
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
