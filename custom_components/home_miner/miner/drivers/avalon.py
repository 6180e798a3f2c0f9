"""Canaan Avalon home miners: Nano 3 / 3s, Mini 3 and Q, CGMiner RPC with Canaan's `ascset`.

pyasic 0.79 reads these but drives them badly: its power limit sends `worklevel,set,N`
(dropping a 0, so the lowest level cannot be chosen) where the Nano 3s, Mini 3 and Q select
their mode with `workmode`; its stop/resume schedule the change 5 s ahead; its reboot sends
`restart`, which this API does not know. So controls are sent here as the firmware takes them:
- mode: `ascset|0,workmode,set,N` (Nano 3s, Mini 3, Q) or `ascset|0,worklevel,set,N` (Nano 3);
- the Mini 3's level inside its mode: `ascset|0,worklevel,set,-1|0` (Eco / Super);
- stop/resume: `ascset|0,softoff|softon,1:<now>` — offered only if the firmware has it;
- reboot: `ascset|0,reboot,0`.

Who the miner is: the MAC in `version`; the Nano 3 reports none there, so its web page's (as
pyasic reads it), else the MAC the network saw (DHCP, or the entry's own), else its serial.
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
    PowerLimitRange,
)
from .base import Driver, cgminer_active_pool, number

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner


@dataclass(frozen=True, kw_only=True)
class Level:
    """A power level: the setting that selects it, its limit (MPO) and its draw."""

    setting: int
    limit_w: int
    draw_w: int

    @property
    def asked_w(self) -> int:
        """The watts that select it: its limit, or what it draws where that is lower."""
        return min(self.limit_w, self.draw_w)


@dataclass(frozen=True, kw_only=True)
class AvalonModel:
    """What a model's firmware calls its modes and levels, and how it reports its power."""

    modes: tuple[str, ...]
    """The work modes, in the order of the firmware's setting (0, 1, 2)."""
    mode_option: str
    """The `ascset` option, and the estats field (upper case), that selects the mode."""
    levels: tuple[Level, ...]
    level_option: str
    """The option that selects the level: the mode's own where the levels are the modes (the
    Nano and the Q)."""
    idle_w: int
    ps_watts: int | None
    """Index of the wall watts in the `PS[...]` field of `MM ID0`; None where there are none."""
    overheat_c: float


def _three(limits: tuple[int, int, int], draws: tuple[int, int, int]) -> tuple[Level, ...]:
    return tuple(
        Level(setting=i, limit_w=w, draw_w=d)
        for i, (w, d) in enumerate(zip(limits, draws, strict=True))
    )


LOW_MEDIUM_HIGH = ("low", "medium", "high")
# Nano chips run at 90-95 °C by design; the firmware throttles above 105 °C.
NANO3 = AvalonModel(
    modes=LOW_MEDIUM_HIGH,
    mode_option="worklevel",
    levels=_three((60, 90, 125), (59, 89, 125)),
    level_option="worklevel",
    idle_w=6,
    ps_watts=5,
    overheat_c=105.0,
)
NANO3S = AvalonModel(
    modes=LOW_MEDIUM_HIGH,
    mode_option="workmode",
    levels=_three((75, 100, 133), (74, 99, 133)),
    level_option="workmode",
    idle_w=7,
    ps_watts=6,
    overheat_c=105.0,
)
# Avalon Q: Eco / Standard / Super (`workmode` 0/1/2), about 800 / 1300 / 1674 W.
AVALON_Q = AvalonModel(
    modes=("eco", "standard", "super"),
    mode_option="workmode",
    levels=_three((800, 1300, 1674), (800, 1300, 1674)),
    level_option="workmode",
    idle_w=18,
    ps_watts=6,
    overheat_c=95.0,
)
# Avalon Mini 3: Heating / Mining / Night (`workmode` 0/1/2), each at Eco or Super
# (`worklevel` -1/0).
MINI3 = AvalonModel(
    modes=("heating", "mining", "night"),
    mode_option="workmode",
    levels=(Level(setting=-1, limit_w=500, draw_w=500), Level(setting=0, limit_w=800, draw_w=800)),
    level_option="worklevel",
    idle_w=12,
    ps_watts=6,
    overheat_c=95.0,
)
MODELS = {"nano 3s": NANO3S, "nano 3": NANO3, "mini 3": MINI3, "q": AVALON_Q}
"""By pyasic's model name (lower case, without "Avalon"); "nano 3s" before the "nano 3" in it."""
GH_PER_TH = 1000.0
_MAC = re.compile(r"[0-9a-f]{12}")
_NO_SERIAL = re.compile(r"0*")


def model_of(raw_model: str) -> AvalonModel | None:
    name = raw_model.lower().removeprefix("avalon").strip().removesuffix("home").strip()
    return next((model for key, model in MODELS.items() if name.startswith(key)), None)


def _mac(text: Any) -> str | None:
    """A MAC as `version` ("e0e1a93e2c7d"), the web UI or DHCP write it, as "E0:E1:…"."""
    digits = re.sub(r"[:\-.]", "", str(text or "")).lower()
    if not _MAC.fullmatch(digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()


_MM_FIELD = re.compile(r"(\w+)\[([^\]]*)\]")


def _mm_fields(text: str) -> dict[str, str]:
    """`Ver[Nano3s-…] GHSspd[6611.23] PS[0 1209 1262 133 …]` → {"GHSspd": "6611.23", …}."""
    return {key: value.strip() for key, value in _MM_FIELD.findall(text)}


def _mm_text(stats: dict[str, Any]) -> str:
    """The `MM ID0` line; the Q calls it `MM ID0:Summary` and wraps it in `'STATS':{…}`."""
    for key, value in stats.items():
        if str(key).split(":")[0] == "MM ID0":
            return str(value)
    raise KeyError("MM ID0")


class AvalonNanoDriver(Driver):
    """Avalon Nano 3 and 3s, Mini 3 and Q."""

    family = Family.AVALON_NANO

    def __init__(self) -> None:
        self._model = NANO3S
        self._soft_off = False
        self._joined = True
        self._serial: str | None = None

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
        model = str(miner.raw_model or miner.model or info.get("MODEL") or "Avalon Nano")
        self._model = model_of(model) or NANO3S
        self._serial = _serial(info.get("DNA"))
        mac = _mac(info.get("MAC")) or await self._web_mac(miner) or _mac(self.known_mac)
        caps = Capabilities(
            power_limit=PowerLimitRange(
                # The lowest level is chosen by what it draws too (power_levels).
                minimum=min(lv.asked_w for lv in self._model.levels),
                maximum=max(lv.limit_w for lv in self._model.levels),
                step=1,
            ),
            work_modes=self._model.modes,
            can_reboot=True,
            boards=1,
            fans=int(miner.expected_fans or 1),
            overheat_c=self._model.overheat_c,
            hashrate_unit="TH/s",
        )
        try:
            snapshot = await self.fetch(miner, caps)
        except MinerConnectionError:
            if mac is None:
                # It answered `version` but not as a miner we can tell apart from another.
                raise UnsupportedMinerError(f"{model} does not report its MAC address") from None
            raise
        key = mac or self._serial
        if key is None:
            raise UnsupportedMinerError(f"{model} reports neither its MAC nor its serial")
        identity = MinerIdentity(
            host=host,
            mac=key,
            hostname=None,
            make="Canaan",
            model=model,
            firmware="Stock",
            firmware_version=str(
                info.get("LVERSION") or info.get("VERSION") or info.get("CGMiner") or ""
            )
            or None,
            family=self.family,
        )
        caps = replace(
            caps,
            fans=len(snapshot.fans) or caps.fans,
            # The room a heater warms (the Q's and Mini 3's inlet, the Nano 3's board sensor).
            has_env_temp=snapshot.env_temperature is not None,
        )
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

    async def _web_mac(self, miner: AnyMiner) -> str | None:
        """The MAC the web UI shows (`get_minerinfo.cgi`, with pyasic's login cookie)."""
        web = getattr(miner, "web", None)
        if web is None or not hasattr(web, "minerinfo"):
            return None
        try:
            info = await web.minerinfo()
        except Exception:  # pyasic's web client turns most failures into {}; the rest too
            return None
        return _mac(info.get("mac")) if isinstance(info, dict) else None

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
        model = self._model
        try:
            mm = _mm_fields(_mm_text(raw["STATS"][0]))
            hashrate = float(mm["GHSspd"]) / GH_PER_TH
            expected = (number(mm.get("GHSmm")) or 0.0) / GH_PER_TH or None
            mode = self._setting(mm, model.mode_option)
            level = self._level(mm)
            watts = mm.get("PS", "").split()
            index = model.ps_watts
            measured = float(watts[index]) if index is not None and len(watts) > index else None
            # A Q in standby prints TMax[0] TAvg[0]: no reading, not 0 °C.
            chip_max = number(mm.get("TMax", mm.get("Tmax"))) or None
            chip_avg = number(mm.get("TAvg")) or None
            env = number(mm.get("Temp", mm.get("ITemp")))
            uptime = int(number(mm.get("Elapsed")) or 0)
            soft_off = number(mm.get("SoftOFF")) == 1 or (
                "SoftOFF" not in mm and "In Idle" in mm.get("SYSTEMSTATU", "")
            )
            fans = tuple(int(float(mm[f"Fan{i}"])) for i in range(1, 9) if f"Fan{i}" in mm)
            pool = cgminer_active_pool(pools)
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
        self._serial = self._serial or _serial(mm.get("DNA")) or _serial(mm.get("HDNA"))
        mining = hashrate > 0 and not soft_off
        power = measured
        if power is None:
            draw = model.levels[level].draw_w if level is not None else None
            power = float(draw if mining and draw is not None else model.idle_w)
        board = Board(
            index=0,
            hashrate_ths=hashrate,
            temperature=chip_avg,
            chip_temperature=chip_max,
            chips=None,
            expected_chips=None,
            active=mining,
        )
        modes = model.modes
        return MinerSnapshot(
            is_mining=mining,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected,
            power_w=power,
            power_limit_w=float(model.levels[level].limit_w) if level is not None else None,
            temperature_avg=chip_avg,
            temperature_max=chip_max,
            env_temperature=env if env is not None and env > -273 else None,
            uptime_s=uptime,
            boards=(board,),
            fans=fans,
            pool=pool,
            work_mode=modes[mode] if mode is not None and 0 <= mode < len(modes) else None,
            overheat_c=caps.overheat_c,
        )

    @staticmethod
    def _setting(mm: dict[str, str], option: str) -> int | None:
        value = number(mm.get(option.upper()))
        return None if value is None else int(value)

    def _level(self, mm: dict[str, str]) -> int | None:
        """Index into the model's levels: the firmware's setting, else the nearest MPO."""
        levels = self._model.levels
        setting = self._setting(mm, self._model.level_option)
        if setting is not None:
            return next((i for i, lv in enumerate(levels) if lv.setting == setting), None)
        limit = number(mm.get("MPO"))
        if limit is None or limit <= 0:
            return None
        return min(range(len(levels)), key=lambda i: abs(levels[i].limit_w - limit))

    async def set_work_mode(self, miner: AnyMiner, mode: str) -> None:
        index = self._model.modes.index(mode)
        await self._ascset(miner, "work_mode", f"{self._model.mode_option},set,{index}")

    def power_levels(self) -> tuple[int, ...]:
        """What each level draws (asking for it gets that level)."""
        return tuple(sorted({lv.asked_w for lv in self._model.levels}))

    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        levels = sorted(self._model.levels, key=lambda lv: lv.limit_w)
        # A level fits by its limit or by what it draws (a little under its limit).
        fitting = [lv for lv in levels if lv.asked_w <= watts]
        level = fitting[-1] if fitting else levels[0]
        option = self._model.level_option
        await self._ascset(miner, "power_limit", f"{option},set,{level.setting}")
        return level.limit_w

    async def stop(self, miner: AnyMiner) -> None:
        await self._ascset(miner, "stop", f"softoff,1:{int(time.time())}")

    async def resume(self, miner: AnyMiner) -> None:
        await self._ascset(miner, "resume", f"softon,1:{int(time.time())}")

    async def reboot(self, miner: AnyMiner) -> None:
        await self._ascset(miner, "reboot", "reboot,0")


class AvalonHomeDriver(AvalonNanoDriver):
    """Avalon Mini 3 and Q: the Nano's firmware family, with the work modes of heaters."""

    family = Family.AVALON_HOME


def avalon_driver(raw_model: str) -> AvalonNanoDriver | None:
    """The driver of an Avalon home miner pyasic detected, None for another Avalon."""
    model = model_of(raw_model)
    if model is None:
        return None
    return AvalonNanoDriver() if model in (NANO3, NANO3S) else AvalonHomeDriver()


def _serial(text: Any) -> str | None:
    """Canaan's DNA, the board's serial; the Nano 3 prints zeros there (its HDNA is set)."""
    value = str(text or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{16}", value) or _NO_SERIAL.fullmatch(value):
        return None
    return value
