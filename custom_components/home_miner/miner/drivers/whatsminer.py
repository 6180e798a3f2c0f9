"""MicroBT Whatsminer on stock firmware: API v2 (btminer, TCP 4028) and API v3 (TCP 4433).

pyasic 0.79 speaks both, but hides what matters for control: every write is reported as a
bool (a refused password, write access switched off and a dropped connection all read as
False), v3 has no mining state at all (`is_mining` is always True), and its reads cost one
connection per data item. So commands go through pyasic's RPC clients (its token, AES and
salt handling) and their answers are read here:
- mining switch: the firmware's own stop, which leaves the control board up: `power_off` /
  `power_on` on v2, `set.miner.service stop|start` on v3; the state is the firmware's
  (`status.mineroff`, `miner.working`), not a guess from the hash rate;
- power limit: `adjust_power_limit` / `set.miner.power_limit`, up to the model's ordinary
  power (the firmware refuses more); the firmware restarts btminer to apply it, and on v2
  its API port is closed meanwhile: a miner that was just told to restart reads as not
  mining then, not as gone;
- uptime is the system's (`Uptime`, `bootup-time`), so a btminer restart is no reboot;
- write access is checked at connect with a no-op (the LED set to the automatic mode it is
  in): a refused password asks for the login, write access switched off in WhatsMinerTool
  leaves a read-only miner;
- power is measured by the power supply.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from dataclasses import replace
import importlib
from typing import TYPE_CHECKING, Any

from ..errors import MinerAuthError, MinerCommandError, MinerConnectionError, MinerError
from ..model import (
    Board,
    Capabilities,
    Family,
    MinerIdentity,
    MinerSnapshot,
    Pool,
    PowerLimitRange,
)
from .base import Driver, number

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

RATED_W = {
    "M30S++": 3472,
    "M30S+": 3400,
    "M30S": 3344,
    "M50S": 3276,
    "M60S": 3422,
}
"""Ordinary power (W) at the normal mode, from MicroBT's specification sheets; the firmware
caps any limit there. Models not listed use the limit they report at connect."""
MIN_LIMIT_FRACTION = 0.5
"""Below about half its ordinary power a Whatsminer's boards no longer hash steadily; a plan
that wants less stops the miner instead."""
RESTART_EXPECTED = 120.0
"""Seconds after a power-limit change in which btminer restarting is that change."""
IDENTIFY_SECONDS = 30.0
V2_OK, V2_TOKEN_EXPIRED = 131, 135
V2_AUTH_CODES = {23, 135}
V2_NO_WRITE_ACCESS = 45
V3_OK, V3_NO_PERMISSION = 0, -4
BLINK = {"color": "red", "period": 200, "duration": 100, "start": 0}


def _error_text(code: str) -> str:
    errors = importlib.import_module("pyasic.data.error_codes")
    try:
        return str(errors.WhatsminerError(error_code=int(code)).error_message)
    except ValueError:
        return code


def _codes(raw: Any) -> tuple[str, ...]:
    """`[{"329": "2022-01-17 11:28:11"}, ...]` → the messages of those codes."""
    found: list[str] = []
    for item in raw if isinstance(raw, list) else []:
        keys = item.keys() if isinstance(item, dict) else [item]
        found += [_error_text(str(k)) for k in keys if str(k).lower() != "reason"]
    return tuple(found)


class WhatsminerDriver(Driver, ABC):
    """What both API generations share; each generation (v2, v3) fills in the rest."""

    family = Family.WHATSMINER

    def __init__(self) -> None:
        self._rated_w = 0
        self._writable = True
        self._last: MinerSnapshot | None = None
        self._restart_expected_until = 0.0
        self._restarting = False
        self._blink_until: float | None = None

    # ---- per generation ----------------------------------------------------------------------
    @abstractmethod
    async def _identity_fields(self, miner: AnyMiner) -> dict[str, Any]:
        """mac, hostname, firmware, led ("auto"/"manual") and whether writes are switched on."""

    @abstractmethod
    async def _write(self, miner: AnyMiner, command: str, value: Any = None) -> None:
        """Send one write command (encrypted on v2, signed on v3)."""

    @abstractmethod
    async def _read_snapshot(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        """One poll: what the miner reads now."""

    @abstractmethod
    async def _auto_led(self, miner: AnyMiner) -> None:
        """Give the LED back to the firmware."""

    # ---- identity ----------------------------------------------------------------------------
    async def read_identity(self, host: str, miner: AnyMiner) -> tuple[MinerIdentity, Capabilities]:
        fields = await self._identity_fields(miner)
        mac = str(fields.get("mac") or "")
        if not mac:
            raise MinerConnectionError("the miner did not report its MAC address")
        model = str(miner.raw_model or "").strip()
        identity = MinerIdentity(
            host=host,
            mac=mac.upper(),
            hostname=str(fields.get("hostname") or "") or None,
            make="MicroBT",
            model=f"Whatsminer {model}".strip(),
            firmware="Stock",
            firmware_version=str(fields.get("firmware") or "") or None,
            family=self.family,
        )
        self._writable = bool(fields.get("writable", True))
        if self._writable and fields.get("led") == "auto":
            # Setting the LED to the mode it is in changes nothing and tells whether the
            # firmware takes this password for writes.
            try:
                await self._auto_led(miner)
            except MinerCommandError:
                self._writable = False
        probe = Capabilities(boards=int(miner.expected_hashboards or 3), fans=2)
        snapshot = await self._read_snapshot(miner, probe)
        reported = int(snapshot.power_limit_w or 0)
        self._rated_w = next(
            (w for prefix, w in RATED_W.items() if model.upper().startswith(prefix)), reported
        )
        limit = None
        if self._writable and self._rated_w:
            limit = PowerLimitRange(
                minimum=int(self._rated_w * MIN_LIMIT_FRACTION), maximum=self._rated_w, step=1
            )
        caps = replace(
            probe,
            can_stop=self._writable,
            power_limit=limit,
            can_reboot=self._writable,
            can_identify=self._writable,
            identify_by="light",
            has_env_temp=snapshot.env_temperature is not None,
        )
        self.keep_for_first_poll(snapshot)
        return identity, caps

    # ---- polls -------------------------------------------------------------------------------
    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        now = asyncio.get_running_loop().time()
        try:
            snapshot = await self._read_snapshot(miner, caps)
        except MinerConnectionError:
            if now >= self._restart_expected_until or self._last is None:
                raise
            # btminer restarts to apply a power limit: the miner is there, not hashing.
            self._restarting = True
            return replace(
                self._last,
                is_mining=False,
                hashrate_ths=0.0,
                power_w=None,
                power_limit_w=None,
                boards=tuple(replace(b, hashrate_ths=0.0, active=False) for b in self._last.boards),
                fans=tuple(0 for _ in self._last.fans),
            )
        self._last = snapshot
        if self._restarting:  # back from the restart: a closed port is news again
            self._restarting = False
            self._restart_expected_until = 0.0
        await self._end_blink(miner, now)
        return snapshot

    # ---- controls ----------------------------------------------------------------------------
    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        target = min(watts, self._rated_w)
        await self._send_limit(miner, target)
        self._restart_expected_until = asyncio.get_running_loop().time() + RESTART_EXPECTED
        return target

    @abstractmethod
    async def _send_limit(self, miner: AnyMiner, watts: int) -> None:
        """Set the power limit to `watts`."""

    async def identify(self, miner: AnyMiner) -> None:
        await self._blink(miner)
        self._blink_until = asyncio.get_running_loop().time() + IDENTIFY_SECONDS

    @abstractmethod
    async def _blink(self, miner: AnyMiner) -> None:
        """Blink the LED (identify)."""

    async def _end_blink(self, miner: AnyMiner, now: float) -> None:
        """The first poll after an identify's time gives the LED back to the firmware."""
        if self._blink_until is None or now < self._blink_until:
            return
        try:
            await self._auto_led(miner)
        except MinerError:
            return
        self._blink_until = None


class WhatsminerV2Driver(WhatsminerDriver):
    """API v2: btminer on 4028, writes with a token and AES."""

    async def _read(self, miner: AnyMiner, command: str) -> dict[str, Any]:
        try:
            answer = await miner.rpc.send_command(command, ignore_errors=True, allow_warning=False)
        except Exception as err:
            raise MinerConnectionError(f"{command}: {err}") from err
        if not isinstance(answer, dict) or not answer:
            # pyasic turns a refused connection into an empty answer.
            raise MinerConnectionError(f"{command}: the miner did not answer")
        return answer

    async def _msg(self, miner: AnyMiner, command: str) -> dict[str, Any]:
        answer = await self._read(miner, command)
        msg = answer.get("Msg")
        if answer.get("STATUS") != "S" or not isinstance(msg, dict):
            raise MinerConnectionError(f"{command}: unexpected answer {answer!r}")
        return msg

    async def _write(self, miner: AnyMiner, command: str, value: Any = None) -> None:
        params = value if isinstance(value, dict) else {}
        for attempt in range(2):
            try:
                answer = await miner.rpc.send_privileged_command(
                    command, ignore_errors=True, **params
                )
            except Exception as err:
                raise MinerConnectionError(f"{command}: {err}") from err
            if not isinstance(answer, dict) or not answer:
                if command == "reboot":
                    return  # the firmware may go down before it answers
                raise MinerConnectionError(f"{command}: the miner did not answer")
            code = answer.get("Code")
            if answer.get("STATUS") == "S" or code == V2_OK:
                return
            if code == V2_TOKEN_EXPIRED and attempt == 0:
                miner.rpc.token = None  # pyasic keeps a token 30 min; the miner may not
                continue
            message = str(answer.get("Msg") or "the miner refused")
            if code in V2_AUTH_CODES:
                raise MinerAuthError(f"{command}: the miner refused the password ({message})")
            if code == V2_NO_WRITE_ACCESS:
                raise MinerCommandError(command, "write access is off (WhatsMinerTool)")
            raise MinerCommandError(command, message)

    async def _identity_fields(self, miner: AnyMiner) -> dict[str, Any]:
        info = await self._msg(miner, "get_miner_info")
        version = await self._msg(miner, "get_version")
        return {
            "mac": info.get("mac"),
            "hostname": info.get("hostname"),
            "firmware": version.get("fw_ver"),
            "led": info.get("ledstat"),
        }

    async def _read_snapshot(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        # summary, devs and pools in one connection; status and errors are not joinable.
        joined = await self._read(miner, "summary+devs+pools")
        status = await self._msg(miner, "status")
        errors = await self._msg(miner, "get_error_code")
        try:
            summary = joined["summary"][0]["SUMMARY"][0]
            devs = joined["devs"][0].get("DEVS", [])
            pools = joined["pools"][0].get("POOLS", [])
        except (KeyError, IndexError, TypeError, AttributeError) as err:
            raise MinerConnectionError(f"summary: unexpected answer {err!r}") from err
        boards = tuple(
            Board(
                index=int(number(d.get("ASC", d.get("Slot"))) or i),
                hashrate_ths=(number(d.get("MHS 1m")) or 0.0) / 1e6,
                temperature=number(d.get("Temperature")),
                chip_temperature=number(d.get("Chip Temp Max")),
                chips=int(number(d.get("Effective Chips")) or 0),
                expected_chips=miner.expected_chips,
                active=(number(d.get("MHS 1m")) or 0.0) > 0,
            )
            for i, d in enumerate(devs)
            if isinstance(d, dict)
        )
        pool = next(
            (
                Pool(
                    url=str(p["URL"]),
                    user=str(p.get("User") or "") or None,
                    accepted=int(number(p.get("Accepted")) or 0),
                    rejected=int(number(p.get("Rejected")) or 0),
                )
                for p in sorted(pools, key=lambda p: not p.get("Stratum Active"))
                if isinstance(p, dict) and p.get("URL")
            ),
            None,
        )
        hashrate = (number(summary.get("MHS 1m")) or 0.0) / 1e6
        expected = (number(summary.get("Factory GHS")) or 0.0) / 1000 or None
        uptime = number(summary.get("Uptime"))
        if uptime is None:
            uptime = number(summary.get("Elapsed"))
        mining = status.get("mineroff") == "false"
        return MinerSnapshot(
            is_mining=mining,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected,
            power_w=number(summary.get("Power")),
            power_limit_w=number(summary.get("Power Limit")),
            temperature_avg=number(summary.get("Chip Temp Avg")),
            temperature_max=number(summary.get("Chip Temp Max")),
            env_temperature=number(summary.get("Env Temp")),
            uptime_s=int(uptime) if uptime is not None else None,
            boards=boards,
            fans=(
                int(number(summary.get("Fan Speed In")) or 0),
                int(number(summary.get("Fan Speed Out")) or 0),
            ),
            pool=pool,
            errors=_codes(errors.get("error_code")),
            fault_light=None,
            missing_boards=max(0, caps.boards - len(boards)) if mining else 0,
            overheat_c=caps.overheat_c,
        )

    async def stop(self, miner: AnyMiner) -> None:
        # Answer first, then stop: the connection is not cut by the boards powering down.
        await self._write(miner, "power_off", {"respbefore": "true"})

    async def resume(self, miner: AnyMiner) -> None:
        await self._write(miner, "power_on")

    async def _send_limit(self, miner: AnyMiner, watts: int) -> None:
        await self._write(miner, "adjust_power_limit", {"power_limit": str(watts)})

    async def reboot(self, miner: AnyMiner) -> None:
        await self._write(miner, "reboot")

    async def _blink(self, miner: AnyMiner) -> None:
        await self._write(miner, "set_led", BLINK)

    async def _auto_led(self, miner: AnyMiner) -> None:
        await self._write(miner, "set_led", {"param": "auto"})


class WhatsminerV3Driver(WhatsminerDriver):
    """API v3: framed JSON on 4433, `set.*` signed with the salt."""

    async def _call(self, miner: AnyMiner, command: str, param: Any = None) -> dict[str, Any]:
        try:
            answer = await miner.rpc.send_command(command, parameters=param)
        except Exception as err:
            raise MinerConnectionError(f"{command}: {err}") from err
        if not isinstance(answer, dict) or not answer:
            raise MinerConnectionError(f"{command}: the miner did not answer")
        return answer

    async def _get(self, miner: AnyMiner, command: str, param: Any = None) -> dict[str, Any]:
        answer = await self._call(miner, command, param)
        msg = answer.get("msg")
        if answer.get("code") != V3_OK or not isinstance(msg, dict):
            raise MinerConnectionError(f"{command}: unexpected answer {answer!r}")
        return msg

    async def _write(self, miner: AnyMiner, command: str, value: Any = None) -> None:
        for attempt in range(2):
            answer = await self._call(miner, command, value)
            code = answer.get("code")
            if code == V3_OK:
                return
            if code != V3_NO_PERMISSION:
                break
            # pyasic reads the salt once per miner object; a new one may be why.
            miner.rpc.salt = None
            if attempt == 1:
                raise MinerAuthError(f"{command}: the miner refused the password")
        raise MinerCommandError(command, str(answer.get("msg") or "the miner refused"))

    async def _identity_fields(self, miner: AnyMiner) -> dict[str, Any]:
        info = await self._get(miner, "get.device.info")
        network = info.get("network") or {}
        system = info.get("system") or {}
        return {
            "mac": network.get("mac"),
            "hostname": network.get("hostname"),
            "firmware": system.get("fwversion"),
            "led": system.get("ledstatus"),
            # The write API switch of WhatsMinerTool.
            "writable": str(system.get("apiswitch", "1")) != "0",
        }

    async def _read_snapshot(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        status = await self._get(miner, "get.miner.status", "summary+pools+edevs")
        info = await self._get(miner, "get.device.info")
        summary = status.get("summary")
        if not isinstance(summary, dict):
            raise MinerConnectionError(f"get.miner.status: no summary in {status!r}")
        edevs = [d for d in status.get("edevs") or [] if isinstance(d, dict)]
        pools = [p for p in status.get("pools") or [] if isinstance(p, dict) and p.get("url")]
        board_temps = summary.get("board-temperature") or []
        boards = tuple(
            Board(
                index=int(number(d.get("slot", d.get("id"))) or i),
                hashrate_ths=number(d.get("hash-average")) or 0.0,
                temperature=number(board_temps[i]) if i < len(board_temps) else None,
                chip_temperature=number(d.get("chip-temp-max")),
                chips=int(number(d.get("effective-chips")) or 0),
                expected_chips=miner.expected_chips,
                active=(number(d.get("hash-average")) or 0.0) > 0,
            )
            for i, d in enumerate(edevs)
        )
        active = next((p for p in pools if p.get("stratum-active")), pools[0] if pools else None)
        pool = (
            Pool(url=str(active["url"]), user=str(active.get("account") or "") or None)
            if active
            else None
        )
        uptime = number(summary.get("bootup-time"))
        if uptime is None:
            uptime = number(summary.get("elapsed"))
        mining = (info.get("miner") or {}).get("working") == "true"
        return MinerSnapshot(
            is_mining=mining,
            hashrate_ths=number(summary.get("hash-realtime")) or 0.0,
            expected_hashrate_ths=number(summary.get("factory-hash")) or None,
            power_w=number(summary.get("power-realtime")),
            power_limit_w=number(summary.get("power-limit")),
            temperature_avg=number(summary.get("chip-temp-avg")),
            temperature_max=number(summary.get("chip-temp-max")),
            env_temperature=number(summary.get("environment-temperature")),
            uptime_s=int(uptime) if uptime is not None else None,
            boards=boards,
            fans=(
                int(number(summary.get("fan-speed-in")) or 0),
                int(number(summary.get("fan-speed-out")) or 0),
            ),
            pool=pool,
            errors=_codes(info.get("error-code")),
            missing_boards=max(0, caps.boards - len(boards)) if mining else 0,
            overheat_c=caps.overheat_c,
        )

    async def stop(self, miner: AnyMiner) -> None:
        await self._write(miner, "set.miner.service", "stop")

    async def resume(self, miner: AnyMiner) -> None:
        await self._write(miner, "set.miner.service", "start")

    async def _send_limit(self, miner: AnyMiner, watts: int) -> None:
        await self._write(miner, "set.miner.power_limit", watts)

    async def reboot(self, miner: AnyMiner) -> None:
        await self._write(miner, "set.system.reboot")

    async def _blink(self, miner: AnyMiner) -> None:
        await self._write(miner, "set.system.led", [BLINK])

    async def _auto_led(self, miner: AnyMiner) -> None:
        await self._write(miner, "set.system.led", "auto")
