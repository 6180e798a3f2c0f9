"""Antminers on Luxor's LuxOS: LUXminer's CGMiner-style API on TCP 4028.

pyasic 0.79.0 detects LuxOS and sends its commands right, but reads it badly: its MAC and its
summary hashrate are never returned (both readers return before parsing), and it has no
mining state. So the miner is read here, in one joined request, and driven through pyasic's
LUXminer client with the requests its own methods send:
- mining switch: `curtail` `sleep` / `wakeup`, the firmware's curtailment (hashboards and
  power supply off; LUXminer, its uptime and the control board stay up);
- power limit: the firmware's profiles (25 frequency steps, each with its estimated watts):
  the highest profile at or below the wattage; Advanced Thermal Management, if on, is turned
  off around the change and on again, as pyasic does;
- commands that change the miner need a LUXminer session, and only one exists at a time: one
  is opened for each control (one control at a time) and dropped after it, so the person's
  own tools are not locked out for the minute a session lives. A session another client
  holds is used, as pyasic does, and left to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
import importlib
from typing import TYPE_CHECKING, Any

from ..errors import MinerCommandError, MinerConnectionError, MinerError
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

POLL = ("summary", "stats", "power", "config", "profiles", "fans", "pools")
IDENTIFY_SECONDS = 30.0
GH_PER_TH = 1000.0


def _sensors(text: Any) -> list[float]:
    """`"55-55-65-65"` → the sensors that read (a board that is off reads zeros)."""
    return [t for t in (number(part) for part in str(text or "").split("-")) if t]


class LuxOSDriver(Driver):
    """Antminer on LuxOS."""

    family = Family.LUXOS

    def __init__(self) -> None:
        self._profiles: dict[str, float] = {}
        """Profile name → its estimated watts, as the firmware lists them."""
        self._blink_until: float | None = None
        self._control = asyncio.Lock()

    async def _read(self, miner: AnyMiner, *commands: str) -> dict[str, dict[str, Any]]:
        """Several commands in one joined request (pyasic sends them apart if refused)."""
        try:
            answer = await miner.rpc.multicommand(*commands, allow_warning=False)
        except Exception as err:
            raise MinerConnectionError(f"{'+'.join(commands)}: {err!r}") from err
        answers: dict[str, dict[str, Any]] = {}
        for command in commands:
            try:
                answers[command] = dict(answer[command][0])
            except (KeyError, IndexError, TypeError, ValueError) as err:
                # pyasic turns a refused connection into an empty answer.
                raise MinerConnectionError(f"{command}: the miner did not answer") from err
        return answers

    async def read_identity(self, host: str, miner: AnyMiner) -> tuple[MinerIdentity, Capabilities]:
        answers = await self._read(miner, "version", *POLL)
        try:
            version = answers["version"]["VERSION"][0]
            config = answers["config"]["CONFIG"][0]
            mac = str(config["MACAddr"]).upper()
        except (KeyError, IndexError, TypeError) as err:
            raise MinerConnectionError(f"the miner's version or config: {err!r}") from err
        # LUXminer names the model as Bitmain does ("Antminer S19j Pro").
        model = str(version.get("Type") or f"Antminer {miner.raw_model}")
        identity = MinerIdentity(
            host=host,
            mac=mac,
            hostname=str(config.get("Hostname") or "") or None,
            make="Bitmain",
            model=model,
            firmware="LuxOS",
            firmware_version=str(version.get("LUXminer") or version.get("Miner") or "") or None,
            family=self.family,
        )
        self._profiles = self._profile_watts(answers["profiles"])
        watts = sorted(self._profiles.values())
        caps = Capabilities(
            can_stop=True,
            power_limit=(
                PowerLimitRange(minimum=int(watts[0]), maximum=int(watts[-1])) if watts else None
            ),
            can_identify=True,
            identify_by="light",
            can_reboot=True,
            boards=int(miner.expected_hashboards or 0),
            fans=int(miner.expected_fans or 0),
            hashrate_unit="TH/s",
        )
        self.keep_for_first_poll(self._snapshot(miner, caps, answers))
        return identity, caps

    @staticmethod
    def _profile_watts(answer: dict[str, Any]) -> dict[str, float]:
        profiles: dict[str, float] = {}
        for profile in answer.get("PROFILES", []):
            watts = number(profile.get("Watts")) if isinstance(profile, dict) else None
            if watts:
                profiles[str(profile.get("Profile Name"))] = watts
        return profiles

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        snapshot = self._snapshot(miner, caps, await self._read(miner, *POLL))
        await self._end_blink(miner)
        return snapshot

    def _snapshot(
        self, miner: AnyMiner, caps: Capabilities, answers: dict[str, dict[str, Any]]
    ) -> MinerSnapshot:
        try:
            summary = answers["summary"]["SUMMARY"][0]
            stats = answers["stats"]["STATS"][-1]
            config = answers["config"]["CONFIG"][0]
            power = number(answers["power"]["POWER"][0].get("Watts"))
            hashrate = float(summary["GHS 5s"]) / GH_PER_TH
            uptime = int(number(summary.get("Elapsed")) or 0)
            profile = str(config.get("Profile") or "")
            profiles = answers["profiles"].get("PROFILES", [])
            fans = tuple(int(f["RPM"]) for f in answers["fans"].get("FANS", []))
            pool = cgminer_active_pool(answers["pools"])
            boards = tuple(
                self._board(stats, index, miner.expected_chips) for index in range(caps.boards)
            )
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as err:
            raise MinerConnectionError(f"the miner's answers could not be read: {err!r}") from err
        self._profiles = self._profile_watts(answers["profiles"]) or self._profiles
        active = next(
            (p for p in profiles if isinstance(p, dict) and p.get("Profile Name") == profile), {}
        )
        expected = number(active.get("Hashrate"))
        mining = hashrate > 0
        temps = [t for b in boards for t in (b.chip_temperature, b.temperature) if t]
        board_temps = [b.temperature for b in boards if b.temperature]
        return MinerSnapshot(
            is_mining=mining,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected or None,
            power_w=power,
            power_limit_w=self._profiles.get(profile),
            temperature_avg=(
                round(sum(board_temps) / len(board_temps), 1) if board_temps else None
            ),
            temperature_max=max(temps) if temps else None,
            env_temperature=None,
            uptime_s=uptime,
            boards=boards,
            fans=fans,
            pool=pool,
            fault_light=str(config.get("RedLed") or "off") != "off",
            missing_boards=sum(1 for b in boards if not b.chips) if mining else 0,
            overheat_c=caps.overheat_c,
        )

    @staticmethod
    def _board(stats: dict[str, Any], index: int, expected_chips: int | None) -> Board:
        n = index + 1
        rate = (number(stats.get(f"chain_rate{n}")) or 0.0) / GH_PER_TH
        pcb = _sensors(stats.get(f"temp_pcb{n}"))
        chip = _sensors(stats.get(f"temp_chip{n}"))
        return Board(
            index=index,
            hashrate_ths=rate,
            temperature=max(pcb) if pcb else None,
            chip_temperature=max(chip) if chip else None,
            chips=int(number(stats.get(f"chain_acn{n}")) or 0),
            expected_chips=expected_chips,
            active=rate > 0,
        )

    # ---- controls --------------------------------------------------------------------------
    @asynccontextmanager
    async def _session(self, miner: AnyMiner, command: str) -> AsyncIterator[None]:
        """A LUXminer session for one control: ours (dropped after it), or the one another
        client holds (left to it)."""
        async with self._control, self._own_session(miner, command):
            yield

    @asynccontextmanager
    async def _own_session(self, miner: AnyMiner, command: str) -> AsyncIterator[None]:
        rpc = miner.rpc
        answer = await self._send(miner, command, "logon", privileged=False, refusal_ok=True)
        ours = answer.get("STATUS", [{}])[0].get("STATUS") == "S"
        if not ours:
            answer = await self._send(miner, command, "session", privileged=False)
        try:
            session = str(answer["SESSION"][0]["SessionID"])
        except (KeyError, IndexError, TypeError) as err:
            raise MinerCommandError(command, "the miner opened no session") from err
        if not session:
            raise MinerCommandError(command, "the miner opened no session")
        rpc.session_token = session
        try:
            yield
        finally:
            if ours:
                # Should it fail, the session lapses by itself after a minute.
                with suppress(MinerError):
                    await self._send(miner, command, "logoff")
            rpc.session_token = None

    async def _send(
        self,
        miner: AnyMiner,
        command: str,
        name: str,
        *params: str,
        privileged: bool = True,
        refusal_ok: bool = False,
    ) -> dict[str, Any]:
        """One LUXminer command (after the session ID, if privileged); its answer."""
        rpc = miner.rpc
        api_error = importlib.import_module("pyasic.errors").APIError
        try:
            if privileged:
                answer = await rpc.send_command(name, rpc.session_token, *params)
            else:
                answer = await rpc.send_command(name, ignore_errors=refusal_ok, allow_warning=False)
        except api_error as err:
            raise MinerCommandError(command, str(err).removeprefix(f"{name}: ")) from err
        except Exception as err:
            raise MinerConnectionError(f"{command}: {err!r}") from err
        if not isinstance(answer, dict) or not answer.get("STATUS"):
            # pyasic turns a refused connection into an empty answer.
            raise MinerConnectionError(f"{command}: the miner did not answer")
        return answer

    async def stop(self, miner: AnyMiner) -> None:
        async with self._session(miner, "stop"):
            await self._send(miner, "stop", "curtail", "sleep")

    async def resume(self, miner: AnyMiner) -> None:
        async with self._session(miner, "resume"):
            await self._send(miner, "resume", "curtail", "wakeup")

    def power_levels(self) -> tuple[int, ...]:
        return tuple(sorted({int(watts) for watts in self._profiles.values()}))

    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        # Offered only with profiles listed: the highest that fits, else the lowest.
        ordered = sorted(self._profiles.items(), key=lambda profile: profile[1])
        name, target = next(((n, w) for n, w in reversed(ordered) if w <= watts), ordered[0])
        atm = await self._send(miner, "power_limit", "atm", privileged=False)
        try:
            atm_on = bool(atm["ATM"][0]["Enabled"])
        except KeyError, IndexError, TypeError:
            atm_on = False
        async with self._session(miner, "power_limit"):
            if atm_on:
                # The firmware's thermal management moves profiles itself; it is paused
                # for the change and resumed after it.
                await self._send(miner, "power_limit", "atmset", "enabled=false")
            try:
                await self._send(miner, "power_limit", "profileset", name)
            finally:
                if atm_on:
                    await self._send(miner, "power_limit", "atmset", "enabled=true")
        return int(target)

    async def reboot(self, miner: AnyMiner) -> None:
        async with self._session(miner, "reboot"):
            await self._send(miner, "reboot", "rebootdevice")

    async def identify(self, miner: AnyMiner) -> None:
        async with self._session(miner, "identify"):
            await self._send(miner, "identify", "ledset", "red", "blink")
        self._blink_until = asyncio.get_running_loop().time() + IDENTIFY_SECONDS

    async def _end_blink(self, miner: AnyMiner) -> None:
        """The first poll after an identify's time turns the light off (tried again on the
        next one should the miner not take it)."""
        if self._blink_until is None or asyncio.get_running_loop().time() < self._blink_until:
            return
        try:
            async with self._session(miner, "identify"):
                await self._send(miner, "identify", "ledset", "red", "off")
        except MinerError:
            return
        self._blink_until = None


__all__ = ["LuxOSDriver"]
