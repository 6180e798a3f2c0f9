"""Carrying a miner's target out: through its `MinerClient`, verified, retried with backoff.

One `MinerActuator` per miner of a plan runs at most one command sequence at a time; a newer
target replaces an older one between attempts. A miner that keeps refusing gets a repair issue,
removed again once a command goes through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN, LOGGER
from ..coordinator import MinerCoordinator
from ..curtailment import MinerTarget, TargetAction
from ..miner import MinerError
from . import const


@dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    """What a miner should be doing: run, stop, or hash under `limit_w`."""

    action: TargetAction
    limit_w: int | None = None

    @classmethod
    def from_target(cls, target: MinerTarget) -> Command:
        limit = target.power_limit_w
        return cls(
            action=target.action,
            limit_w=round(limit) if target.action is TargetAction.LIMIT and limit else None,
        )

    def to_dict(self) -> dict[str, object]:
        return {"action": self.action.value, "limit_w": self.limit_w}

    @classmethod
    def from_dict(cls, data: object) -> Command | None:
        if not isinstance(data, dict):
            return None
        try:
            limit = data.get("limit_w")
            return cls(
                action=TargetAction(str(data.get("action"))),
                limit_w=int(limit) if isinstance(limit, (int, float)) else None,
            )
        except ValueError:
            return None


RUN = Command(action=TargetAction.RUN)


def miner_coordinator(hass: HomeAssistant, miner_id: str) -> MinerCoordinator | None:
    """The loaded miner entry with this MAC, if any."""
    entry: ConfigEntry[MinerCoordinator] | None = (
        hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, miner_id)
    )
    if entry is None or entry.state is not ConfigEntryState.LOADED:
        return None
    return entry.runtime_data


class MinerActuator:
    """Drives one miner towards the plan's latest command for it.

    A command for a miner whose entry is not loaded stays pending (`desired`) and goes out when
    the plan decides again as the miner appears. Going back to RUN resumes hashing first and
    only then restores the power limit the miner had before the plan limited it, clamped to
    its range and never holding the resume up.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        plan_entry: ConfigEntry,
        miner_id: str,
        *,
        applied: Command | None = None,
        restore_limit_w: int | None = None,
        on_change: Callable[[], None],
        write_ahead: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.hass = hass
        self._entry = plan_entry
        self.miner_id = miner_id
        self.applied = applied
        self.restore_limit_w = restore_limit_w
        self.desired: Command | None = None
        self.failures = 0
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._on_change = on_change
        self._write_ahead = write_ahead
        # A command on its way: kept on disk before it goes, so that after a crash the plan
        # knows it does not know what the miner was last told.
        self.sending: Command | None = None

    @property
    def issue_id(self) -> str:
        return f"miner_refuses_{self._entry.entry_id}_{self.miner_id}"

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def handed_back(self) -> bool:
        """Whether the miner is as the plan found it (running, its own limit)."""
        return (self.applied is None or self.applied == RUN) and self.restore_limit_w is None

    def _pending(self) -> bool:
        command = self.desired
        if command is None:
            return False
        return command != self.applied or (command == RUN and self.restore_limit_w is not None)

    def want(self, command: Command) -> None:
        previous, self.desired = self.desired, command
        if self.busy:
            if command != previous:
                self._wake.set()
        elif self._pending():
            self._wake.clear()
            self._task = self._entry.async_create_background_task(
                self.hass, self._run(), f"{DOMAIN} curtail {self.miner_id}"
            )

    def wake(self) -> None:
        """The miner is back: a command waiting out its retry delay goes now."""
        self._wake.set()

    def release(self) -> None:
        """Stop acting on this miner (the user took it over); what is running is cancelled."""
        self.desired = None
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def async_hand_back(self) -> None:
        """Run the miner again with its own limit, once, now (the plan stops acting on it)."""
        self.release()
        if self.handed_back:
            return
        coordinator = miner_coordinator(self.hass, self.miner_id)
        if coordinator is None:
            return
        await self.async_hand_back_through(coordinator)

    async def async_hand_back_through(self, coordinator: MinerCoordinator) -> None:
        """Hand the miner back through `coordinator` (also one whose entry is going away)."""
        self.release()
        if self.handed_back:
            return
        try:
            async with asyncio.timeout(const.HAND_BACK_TIMEOUT):
                await self._send(coordinator, RUN)
                self.applied = RUN
                await self._restore_limit(coordinator, final=True)
        except (MinerError, TimeoutError) as err:
            LOGGER.warning(
                "Plan %s could not hand %s back: %s",
                self._entry.title,
                coordinator.client.host,
                err,
            )
            return
        self._on_change()

    async def _run(self) -> None:
        while self._pending():
            command = self.desired
            assert command is not None
            coordinator = miner_coordinator(self.hass, self.miner_id)
            if coordinator is None:
                return
            try:
                if command != self.applied:
                    if self._write_ahead is not None and self.sending != command:
                        self.sending = command
                        await self._write_ahead()
                    await self._send(coordinator, command)
                    self.applied, self.sending = command, None
                    self._on_change()
                if command == RUN and self.desired == RUN:
                    await self._restore_limit(
                        coordinator, final=self.failures >= const.REPAIR_AFTER_FAILURES
                    )
            except MinerError as err:
                self._failed(coordinator, err)
                delays = const.RETRY_DELAYS
                self._wake.clear()
                if self.desired == command:
                    try:
                        async with asyncio.timeout(delays[min(self.failures, len(delays)) - 1]):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                continue
            self._succeeded()
        self._succeeded()

    def _succeeded(self) -> None:
        if self.failures:
            self.failures = 0
            self.last_error = None
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)

    async def _restore_limit(self, coordinator: MinerCoordinator, *, final: bool) -> None:
        """Give the miner back the limit it had before the plan limited it."""
        watts = self.restore_limit_w
        if watts is None:
            return
        limit = coordinator.client.capabilities.power_limit
        if limit is None:
            self.restore_limit_w = None
            self._on_change()
            return
        watts = min(max(watts, limit.minimum), limit.maximum)
        try:
            snapshot = await coordinator.client.async_set_power_limit(watts)
        except MinerError:
            if not final:
                raise
            LOGGER.warning(
                "Plan %s gives up restoring %s to %d W", self._entry.title, self.miner_id, watts
            )
        else:
            coordinator.async_set_updated_data(snapshot)
        self.restore_limit_w = None
        self._on_change()

    def _failed(self, coordinator: MinerCoordinator, err: MinerError) -> None:
        self.failures += 1
        self.last_error = str(err)
        LOGGER.warning(
            "Plan %s: %s refused %s (attempt %d): %s",
            self._entry.title,
            coordinator.client.host,
            self.desired,
            self.failures,
            err,
        )
        if self.failures == const.REPAIR_AFTER_FAILURES:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self.issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="miner_refuses_commands",
                translation_placeholders={
                    "miner": coordinator.config_entry.title,
                    "plan": self._entry.title,
                    "error": str(err),
                },
            )

    async def _send(self, coordinator: MinerCoordinator, command: Command) -> None:
        client = coordinator.client
        caps = client.capabilities
        snapshot = coordinator.data
        stopped_by_us = self.applied is not None and self.applied.action is TargetAction.STOP
        if command.action is TargetAction.STOP and caps.can_stop:
            snapshot = await client.async_set_mining(False)
        elif command.action is TargetAction.RUN:
            # Resume only what the plan stopped: a miner the user switched off stays off.
            if caps.can_stop and (self.applied is None or stopped_by_us):
                snapshot = await client.async_set_mining(True)
        else:
            if caps.power_limit is None:
                raise MinerError(f"{client.host} has no power limit")
            low, high = caps.power_limit.minimum, caps.power_limit.maximum
            if self.restore_limit_w is None:
                known = snapshot.power_limit_w if snapshot is not None else None
                self.restore_limit_w = high if known is None else round(known)
            if stopped_by_us and caps.can_stop:
                snapshot = await client.async_set_mining(True)
            watts = low if command.limit_w is None else min(max(command.limit_w, low), high)
            snapshot = await client.async_set_power_limit(watts)
        if snapshot is not None:
            coordinator.async_set_updated_data(snapshot)
