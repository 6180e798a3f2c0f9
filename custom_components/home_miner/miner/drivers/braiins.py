"""Braiins OS+ (Antminers, the Braiins Mini Miner): its gRPC Public API plus bosminer's RPC.

pyasic 0.79.0's `BOSer` reads and drives these well; what is done here:
- the login is checked at connect, and again whenever a poll gets nothing from the Public API
  (pyasic would read on with half the data), so a changed password starts reauthentication;
- the power limit is the tuner's power target, bounded by the firmware's own constraints
  (`GetConstraints`), set with `SAVE_AND_FORCE_APPLY` and verified by read-back; a refusal
  (out of range) says why;
- the mining switch is `PauseMining` / `ResumeMining`: bosminer stays up, so does its uptime;
- pyasic's controls return False for a refusal and let an unreachable miner's error through:
  they are called below its methods (the same requests), so each error says what it was;
- power is the firmware's estimate (`approximated_consumption`), named so; a paused miner's
  estimate is 0 W (proto3 leaves a zero out of the message, which pyasic reads as no value);
- identify (`SetLocateDeviceStatus`) blinks until told to stop: it stops after a while.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
import importlib
from typing import TYPE_CHECKING, Any

from ..errors import MinerAuthError, MinerCommandError, MinerConnectionError, MinerError
from ..model import Capabilities, Family, MinerIdentity, MinerSnapshot, PowerLimitRange
from .base import Driver

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

IDENTIFY_SECONDS = 30.0


def _error(command: str, err: BaseException) -> MinerError:
    """What an error of pyasic's Public API client was: the gRPC status behind it (pyasic
    wraps them in its APIError) tells a refused login and a refused command from a miner
    that did not answer."""
    grpc_error = importlib.import_module("grpclib.exceptions").GRPCError
    status: BaseException | None = err
    while status is not None and not isinstance(status, grpc_error):
        status = status.__cause__ or status.__context__
    if status is None:
        return MinerConnectionError(f"{command}: {err!r}")
    code, message = getattr(status, "status", None), getattr(status, "message", None)
    if code is importlib.import_module("grpclib.const").Status.UNAUTHENTICATED:
        return MinerAuthError(message or "the miner refused the login")
    return MinerCommandError(command, message or str(code))


class BraiinsDriver(Driver):
    """Braiins OS+ with its Public API (BOSer)."""

    family = Family.BRAIINS

    def __init__(self) -> None:
        self._blink_until: float | None = None

    async def check_auth(self, miner: AnyMiner) -> None:
        """Log in (pyasic keeps the token for an hour, so a poll rarely asks the miner)."""
        try:
            token = await miner.web.auth()
        except Exception as err:
            raise _error("login", err) from err
        if not token:
            raise MinerAuthError("the miner gave no session token")

    def identity(self, host: str, miner: AnyMiner, data: Any) -> MinerIdentity:
        identity = super().identity(host, miner, data)
        if identity.make.lower() != "antminer":
            return identity
        # pyasic names Antminers on Braiins OS "AntMiner S19j Pro"; stock and LuxOS ones are
        # Bitmain's "Antminer S19j Pro", and so is this one.
        return replace(
            identity, make="Bitmain", model=f"Antminer {str(miner.raw_model or '').strip()}"
        )

    async def capabilities(self, miner: AnyMiner, data: Any) -> Capabilities:
        constraints = await self._call("constraints", miner.web.get_constraints())
        try:
            power = constraints["tunerConstraints"]["powerTarget"]
            limit = PowerLimitRange(
                minimum=int(power["min"]["watt"]), maximum=int(power["max"]["watt"])
            )
        except KeyError, TypeError, ValueError:
            limit = None  # a firmware without a tuner: no power limit
        return Capabilities(
            can_stop=True,
            power_limit=limit,
            can_identify=True,
            identify_by="light",
            can_reboot=True,
            boards=int(miner.expected_hashboards or 0),
            fans=int(miner.expected_fans or len(data.fans or [])),
            hashrate_unit=self.hashrate_unit(data),
            power_estimated=True,
        )

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        await self.check_auth(miner)
        snapshot = await super().fetch(miner, caps)
        if caps.power_limit is not None and snapshot.power_limit_w is None:
            # The Public API answered nothing. pyasic's token may be one the miner no longer
            # knows (it rebooted) and its new login refused: log in afresh to tell.
            miner.web.token = None
            await self.check_auth(miner)
        await self._end_blink(miner)
        return snapshot

    def snapshot(self, miner: AnyMiner, data: Any, caps: Capabilities) -> MinerSnapshot:
        snapshot = super().snapshot(miner, data, caps)
        if snapshot.power_w is None and not snapshot.is_mining:
            # Paused: the firmware's estimate is zero, which proto3 does not send.
            return replace(snapshot, power_w=0.0)
        return snapshot

    async def _call(self, command: str, call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        """One Public API call; its errors told apart (pyasic's own methods return False for
        a refusal and let an unreachable miner's error through)."""
        try:
            return await call
        except Exception as err:
            raise _error(command, err) from err

    async def stop(self, miner: AnyMiner) -> None:
        await self._call("stop", miner.web.pause_mining())

    async def resume(self, miner: AnyMiner) -> None:
        await self._call("resume", miner.web.resume_mining())

    async def reboot(self, miner: AnyMiner) -> None:
        await self._call("reboot", miner.web.reboot())

    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        save = importlib.import_module("pyasic.web.braiins_os.proto.braiins.bos.v1").SaveAction
        answer = await self._call(
            "power_limit",
            miner.web.set_power_target(watts, save_action=save.SAVE_AND_FORCE_APPLY),
        )
        try:
            return int(answer["powerTarget"]["watt"])
        except (KeyError, TypeError, ValueError) as err:
            raise MinerCommandError("power_limit", f"unexpected answer {answer!r}") from err

    async def identify(self, miner: AnyMiner) -> None:
        await self._call("identify", miner.web.set_locate_device_status(True))
        self._blink_until = asyncio.get_running_loop().time() + IDENTIFY_SECONDS

    async def _end_blink(self, miner: AnyMiner) -> None:
        """The first poll after an identify's time turns the blinking off (tried again on the
        next one should the miner not take it)."""
        if self._blink_until is None or asyncio.get_running_loop().time() < self._blink_until:
            return
        try:
            await self._call("identify", miner.web.set_locate_device_status(False))
        except MinerError:
            return
        self._blink_until = None


__all__ = ["BraiinsDriver"]
