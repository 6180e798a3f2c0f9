"""Carrying a miner's target out: through its `MinerClient`, verified, retried with backoff.

One `MinerActuator` per miner of a plan runs at most one command sequence at a time; a newer
target replaces an older one between attempts. A miner that keeps refusing gets a repair issue,
removed again once a command goes through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
    """Drives one miner towards the plan's latest command for it."""

    def __init__(
        self,
        hass: HomeAssistant,
        plan_entry: ConfigEntry,
        miner_id: str,
        *,
        applied: Command | None = None,
        restore_limit_w: int | None = None,
        on_change: Callable[[], None],
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
        self._on_change = on_change

    @property
    def issue_id(self) -> str:
        return f"miner_refuses_{self._entry.entry_id}_{self.miner_id}"

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def want(self, command: Command) -> None:
        self.desired = command
        if command != self.applied and not self.busy:
            self._task = self._entry.async_create_background_task(
                self.hass, self._run(), f"{DOMAIN} curtail {self.miner_id}"
            )

    def release(self) -> None:
        """Stop acting on this miner (the user took it over); what is running is cancelled."""
        self.desired = None
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while (command := self.desired) is not None and command != self.applied:
            coordinator = miner_coordinator(self.hass, self.miner_id)
            if coordinator is None:
                return
            try:
                await self._send(coordinator, command)
            except MinerError as err:
                self._failed(coordinator, err)
                delays = const.RETRY_DELAYS
                await asyncio.sleep(delays[min(self.failures, len(delays)) - 1])
                continue
            self.applied = command
            if self.failures:
                self.failures = 0
                self.last_error = None
                ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
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
        if command.action is TargetAction.STOP and caps.can_stop:
            snapshot = await client.async_set_mining(False)
        elif command.action is TargetAction.RUN:
            if self.restore_limit_w is not None and caps.power_limit is not None:
                snapshot = await client.async_set_power_limit(self.restore_limit_w)
                self.restore_limit_w = None
            stopped_by_us = self.applied is None or self.applied.action is TargetAction.STOP
            if caps.can_stop and (stopped_by_us or not snapshot.is_mining):
                snapshot = await client.async_set_mining(True)
        else:
            if caps.power_limit is None:
                raise MinerError(f"{client.host} has no power limit")
            if self.restore_limit_w is None and snapshot.power_limit_w is not None:
                self.restore_limit_w = round(snapshot.power_limit_w)
            if not snapshot.is_mining and caps.can_stop:
                snapshot = await client.async_set_mining(True)
            low, high = caps.power_limit.minimum, caps.power_limit.maximum
            watts = low if command.limit_w is None else min(max(command.limit_w, low), high)
            snapshot = await client.async_set_power_limit(watts)
        coordinator.async_set_updated_data(snapshot)
